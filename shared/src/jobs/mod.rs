//! Background work: queue tasks and their consumers (SQS Lambda, embedded worker).

pub mod fraud;
pub mod listing;
pub mod process;
pub mod rekey;
mod scan;
pub mod sweep;
pub mod worker;

pub use crate::records::task::Task;

/// A task that did not complete; the message stays on the queue to be retried and, after
/// too many attempts, dead-lettered.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0}")]
pub struct TaskError(pub String);

impl From<crate::store::StoreError> for TaskError {
    fn from(e: crate::store::StoreError) -> Self {
        TaskError(e.to_string())
    }
}

impl From<crate::campaigns::drafts::DraftError> for TaskError {
    fn from(e: crate::campaigns::drafts::DraftError) -> Self {
        TaskError(e.0)
    }
}

/// Runs one queue message. Idempotent: running it twice changes nothing more.
pub async fn run(app: &crate::app::App, body: &str) -> Result<(), TaskError> {
    let task = Task::from_body(body).map_err(|e| TaskError(format!("unreadable task: {e}")))?;
    match task {
        Task::ProcessJourney {
            operator_id,
            journey_id,
        } => process::journey(app, operator_id, &journey_id).await,
        Task::FraudUnit { run_id, unit } => fraud::run_unit(app, &run_id, &unit)
            .await
            .map(|_| ())
            .map_err(|e| TaskError(format!("fraud pass unit: {e}"))),
        Task::MonthlyUnit { run_id, unit } => {
            crate::campaigns::monthly::fanout::run_delivered(app, &run_id, &unit)
                .await
                .map_err(|e| TaskError(format!("monthly run unit: {e}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::operator::OperatorId;

    #[test]
    fn task_bodies_round_trip_and_bad_ones_fail() {
        let t = Task::ProcessJourney {
            operator_id: OperatorId(3),
            journey_id: "j-1".into(),
        };
        assert_eq!(
            t.to_body(),
            r#"{"type":"process_journey","operator_id":3,"journey_id":"j-1"}"#
        );
        assert_eq!(Task::from_body(&t.to_body()).ok(), Some(t));
        assert!(Task::from_body("{}").is_err());
        assert!(Task::from_body(r#"{"type":"nope"}"#).is_err());
        let unit = Task::FraudUnit {
            run_id: "r1".into(),
            unit: fraud::Unit {
                shard: 7,
                first_day: "2026-11-20".parse().unwrap(),
                last_day: "2026-11-20".parse().unwrap(),
            },
        };
        assert_eq!(
            unit.to_body(),
            r#"{"type":"fraud_unit","run_id":"r1","unit":{"shard":7,"first_day":"2026-11-20","last_day":"2026-11-20"}}"#
        );
        assert_eq!(Task::from_body(&unit.to_body()).ok(), Some(unit));
        let monthly = Task::MonthlyUnit {
            run_id: "r2".into(),
            unit: crate::campaigns::monthly::fanout::Unit {
                campaign: "c1".into(),
                month: "2025-03".into(),
                shard: Some(2),
            },
        };
        assert_eq!(
            monthly.to_body(),
            r#"{"type":"monthly_unit","run_id":"r2","unit":{"campaign":"c1","month":"2025-03","shard":2}}"#
        );
        assert_eq!(Task::from_body(&monthly.to_body()).ok(), Some(monthly));
        let last =
            r#"{"type":"monthly_unit","run_id":"r2","unit":{"campaign":"c1","month":"2025-03"}}"#;
        assert!(matches!(
            Task::from_body(last),
            Ok(Task::MonthlyUnit { unit, .. }) if unit.shard.is_none()
        ));
        assert!(Task::from_body(
            r#"{"type":"monthly_unit","run_id":"r2","unit":{"campaign":"c1","month":"2025-03","x":1}}"#
        )
        .is_err());
    }
}
