//! Journey statuses and the receipt returned to operators.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
pub struct Receipt {
    pub journey_id: String,
    pub created_at: String,
    pub status: JourneyStatus,
}

/// Largest accepted `journey_id`, in characters.
pub const MAX_JOURNEY_ID_CHARS: usize = 256;
