//! Carpool platforms ("operators").

use std::fmt;

use serde::{Deserialize, Serialize};

/// Operators are numbered like in the public registry (journeys may carry `operator_id`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperatorId(pub u64);

impl fmt::Display for OperatorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::str::FromStr for OperatorId {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(());
        }
        // Stored as a DynamoDB/SQLite integer: at most i64::MAX.
        s.parse::<i64>()
            .ok()
            .and_then(|n| u64::try_from(n).ok())
            .map(OperatorId)
            .ok_or(())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Operator {
    pub id: OperatorId,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub siret: Option<String>,
    pub created_at: String,
}

/// A validated operator or token name: 1–256 characters, not blank, without control,
/// line-break or bidirectional formatting characters ([`super::text::check_plain`]).
pub fn parse_name(name: &str) -> Result<String, &'static str> {
    let trimmed = name.trim();
    if trimmed.is_empty() || name.chars().count() > 256 {
        return Err("must be 1 to 256 characters, not blank");
    }
    super::text::check_plain(name)?;
    Ok(name.to_owned())
}

/// A SIRET is 14 digits.
pub fn parse_siret(siret: &str) -> Result<String, &'static str> {
    if siret.len() == 14 && siret.bytes().all(|b| b.is_ascii_digit()) {
        Ok(siret.to_owned())
    } else {
        Err("must be 14 digits")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_strictly() {
        assert_eq!("42".parse::<OperatorId>(), Ok(OperatorId(42)));
        assert_eq!(
            "9223372036854775807".parse::<OperatorId>(),
            Ok(OperatorId(i64::MAX as u64))
        );
        for bad in [
            "",
            "-1",
            "+1",
            "1a",
            " 1",
            "99999999999999999999",
            "9223372036854775808",
        ] {
            assert!(bad.parse::<OperatorId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn siret_and_name() {
        assert!(parse_siret("12345678900011").is_ok());
        assert!(parse_siret("1234567890001").is_err());
        assert!(parse_siret("1234567890001a").is_err());
        assert!(parse_name(" ").is_err());
        assert!(parse_name(&"x".repeat(257)).is_err());
        assert!(parse_name("Covoit").is_ok());
        assert!(parse_name("Trajet n°42 — Zoé").is_ok());
        assert!(parse_name("李").is_ok());
        assert!(parse_name("Covoit\n").is_err());
        assert!(parse_name("a\u{202E}b").is_err());
    }
}
