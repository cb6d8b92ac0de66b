//! The queue's messages: what a worker is asked to do.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::operator::OperatorId;

/// A queue message body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Task {
    ProcessJourney {
        operator_id: OperatorId,
        journey_id: String,
    },
    /// One unit of a fraud pass run (sent by the `fraud-pass` Lambda).
    FraudUnit { run_id: String, unit: FraudUnit },
    /// One unit of a monthly policy run (sent by the `policy-monthly` Lambda and by the
    /// units that make others ready; run by `policy-monthly-worker`).
    MonthlyUnit { run_id: String, unit: MonthlyUnit },
}

impl Task {
    pub fn to_body(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_body(body: &str) -> Result<Task, serde_json::Error> {
        serde_json::from_str(body)
    }
}

/// One unit of work: one identity-key shard, days `first_day..=last_day` (Europe/Paris).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FraudUnit {
    pub shard: u32,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
}

/// One unit of a run: a shard of a campaign's month, or the campaign's final step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonthlyUnit {
    pub campaign: String,
    pub month: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<u32>,
}
