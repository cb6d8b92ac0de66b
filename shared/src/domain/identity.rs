//! Identity keys (SPEC §3): who a person is across every operator, without storing who
//! they are. A keyed hash (HMAC-SHA-256 with `REGISTRY_HASH_SECRET`) of the E.164 phone,
//! or of `phone_trunc + operator + operator_user_id` when only a truncated phone is given
//! (a truncated phone alone is shared by a hundred people, so it is scoped to the operator's
//! user). Without the secret, a key cannot be linked back to a phone number.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::journey_v2::{Identifiers, Identity};
use super::operator::OperatorId;

/// Hex HMAC-SHA-256 of `parts` (joined by a separator no part contains).
pub fn keyed_hash(secret: &str, parts: &[&str]) -> String {
    // HMAC takes keys of any length: new_from_slice cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            mac.update(b"\x1f");
        }
        mac.update(part.as_bytes());
    }
    hex::encode(mac.finalize().into_bytes())
}

/// The identity key of a person of a journey sent by `operator`.
pub fn identity_key(secret: &str, operator: OperatorId, identity: &Identity) -> String {
    identifiers_key(secret, operator, &identity.identifiers)
}

/// [`identity_key`] from the identifiers alone.
pub fn identifiers_key(secret: &str, operator: OperatorId, identifiers: &Identifiers) -> String {
    match identifiers {
        Identifiers::Phone { phone, .. } => keyed_hash(secret, &["phone", phone.as_str()]),
        Identifiers::Truncated {
            phone_trunc,
            operator_user_id,
        } => keyed_hash(
            secret,
            &[
                "trunc",
                phone_trunc.as_str(),
                &operator.to_string(),
                operator_user_id,
            ],
        ),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::journey::example_document;
    use crate::domain::journey_v2::parse;

    fn passenger_identity(identity: serde_json::Value) -> Identity {
        let mut doc = example_document("i-1", chrono::Utc::now());
        doc["passenger"]["identity"] = identity;
        parse(doc.to_string().as_bytes())
            .unwrap()
            .passenger
            .person
            .identity
    }

    #[test]
    fn the_same_phone_is_the_same_person_whatever_its_form_or_operator() {
        let a = passenger_identity(json!({"phone": "06 12 34 56 78"}));
        let b = passenger_identity(json!({"phone": "+33612345678", "operator_user_id": "u9"}));
        let key = identity_key("s", OperatorId(1), &a);
        assert_eq!(key, identity_key("s", OperatorId(2), &b));
        assert_eq!(key.len(), 64);
        assert!(!key.contains("612345678"));
        // Another secret, another key: keys cannot be recomputed without it.
        assert_ne!(key, identity_key("t", OperatorId(1), &a));
    }

    #[test]
    fn a_truncated_phone_is_scoped_to_the_operator_and_its_user() {
        let t = |user: &str| {
            passenger_identity(json!({"phone_trunc": "+336123456", "operator_user_id": user}))
        };
        let key = identity_key("s", OperatorId(1), &t("u1"));
        assert_eq!(key, identity_key("s", OperatorId(1), &t("u1")));
        assert_ne!(key, identity_key("s", OperatorId(2), &t("u1")));
        assert_ne!(key, identity_key("s", OperatorId(1), &t("u2")));
        let full = passenger_identity(json!({"phone": "+33612345678"}));
        assert_ne!(key, identity_key("s", OperatorId(1), &full));
    }
}
