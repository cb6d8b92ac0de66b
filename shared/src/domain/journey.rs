//! Journey statuses and the receipt returned to operators.

use base64::Engine;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum JourneyStatus {
    Pending,
    Ok,
    Expired,
    AnomalyError,
    FraudError,
    Canceled,
}

impl JourneyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JourneyStatus::Pending => "pending",
            JourneyStatus::Ok => "ok",
            JourneyStatus::Expired => "expired",
            JourneyStatus::AnomalyError => "anomaly_error",
            JourneyStatus::FraudError => "fraud_error",
            JourneyStatus::Canceled => "canceled",
        }
    }

    pub fn parse(s: &str) -> Option<JourneyStatus> {
        [
            JourneyStatus::Pending,
            JourneyStatus::Ok,
            JourneyStatus::Expired,
            JourneyStatus::AnomalyError,
            JourneyStatus::FraudError,
            JourneyStatus::Canceled,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

/// What `POST /v2/journeys` answers, and answers again for an identical retry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Receipt {
    pub journey_id: String,
    pub created_at: String,
    pub status: JourneyStatus,
}

/// Largest accepted `journey_id`, in characters.
/// Largest accepted request body, and so largest journey document.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub const MAX_JOURNEY_ID_CHARS: usize = 256;

/// Why an operator invalidated a journey (kept for audit).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(example = json!({"code": "user_report", "message": "the ride did not happen"}))
)]
#[serde(deny_unknown_fields)]
pub struct CancelReason {
    /// 1 to 32 letters, digits, `_` or `-` (null: none).
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9_-]{1,32}$")
    )]
    pub code: Option<String>,
    /// 1 to 512 characters (null: none).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 512))]
    pub message: Option<String>,
}

impl CancelReason {
    /// `code`: at most 32 letters, digits, `_` or `-`; `message`: at most 512 characters.
    pub fn check(&self) -> Vec<(&'static str, &'static str)> {
        let mut errors = Vec::new();
        if let Some(code) = &self.code {
            let ok = !code.is_empty()
                && code.len() <= 32
                && code
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !ok {
                errors.push(("/code", "must be 1 to 32 letters, digits, _ or -"));
            }
        }
        if let Some(message) = &self.message {
            if message.is_empty() || message.chars().count() > 512 {
                errors.push(("/message", "must be 1 to 512 characters"));
            }
        }
        errors
    }
}

pub fn pack_document(received: &[u8]) -> String {
    use std::io::Write;
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let packed = encoder
        .write_all(received)
        .and_then(|()| encoder.finish())
        .unwrap_or_default();
    base64::engine::general_purpose::STANDARD.encode(packed)
}

/// A packed document (see [`pack_document`]) back as received; `None` if it is not one.
pub fn unpack_document(packed: &str) -> Option<Vec<u8>> {
    use std::io::Read;
    let packed = base64::engine::general_purpose::STANDARD
        .decode(packed)
        .ok()?;
    // Bounded like the request body it came from.
    let limit = MAX_BODY_BYTES as u64;
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(packed.as_slice())
        .take(limit + 1)
        .read_to_end(&mut out)
        .ok()?;
    (out.len() as u64 <= limit).then_some(out)
}

/// A complete, valid journey v2 document that ended an hour before `now`: a reference for
/// integrators and the base of tests and load runs.
pub fn example_document(journey_id: &str, now: chrono::DateTime<chrono::Utc>) -> serde_json::Value {
    let at = |minutes_ago: i64| crate::clock::rfc3339(now - chrono::Duration::minutes(minutes_ago));
    let position = |minutes_ago: i64, lat: f64, lon: f64| serde_json::json!({"datetime": at(minutes_ago), "lat": lat, "lon": lon});
    serde_json::json!({
        "journey_id": journey_id,
        "operator_journey_id": format!("trip-{journey_id}"),
        "operator_class": "C",
        "passenger": {
            "identity": {"phone": "+33612345678", "over_18": true},
            "start": position(90, 48.8566, 2.3522),
            "end": position(60, 48.8049, 2.1204),
            "seats": 1,
            "contribution": 300,
            "incentives": [],
            "payments": [],
            "distance": 21500,
            "duration": 1800
        },
        "driver": {
            "identity": {"phone": "+33698765432"},
            "start": position(90, 48.8566, 2.3522),
            "end": position(60, 48.8049, 2.1204),
            "revenue": 250,
            "incentives": [],
            "distance": 21500,
            "duration": 1800
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(code: Option<&str>, message: Option<&str>) -> CancelReason {
        CancelReason {
            code: code.map(str::to_owned),
            message: message.map(str::to_owned),
        }
    }

    #[test]
    fn cancel_reasons_on_each_side_of_their_bounds() {
        assert!(reason(None, None).check().is_empty());
        assert!(reason(Some(&"a".repeat(32)), Some(&"é".repeat(512)))
            .check()
            .is_empty());
        assert!(reason(Some("FRAUD_suspected-2"), None).check().is_empty());
        assert_eq!(
            reason(Some(&"a".repeat(33)), None).check(),
            vec![("/code", "must be 1 to 32 letters, digits, _ or -")]
        );
        assert_eq!(reason(Some("a b"), None).check().len(), 1);
        assert_eq!(reason(Some(""), None).check().len(), 1);
        assert_eq!(reason(Some("é"), None).check().len(), 1);
        assert_eq!(reason(None, Some(&"x".repeat(513))).check().len(), 1);
        assert_eq!(reason(None, Some("")).check().len(), 1);
        assert_eq!(reason(Some("?"), Some("")).check().len(), 2);
    }
}
