//! The sweeper: re-enqueues journeys still `pending` after a delay. On AWS the journey is
//! written before its SQS message is sent; if the send fails (or the message was lost), the
//! journey stays in the pending index and this job repairs it. Processing is idempotent, so
//! a journey enqueued twice is processed once. A journey is re-enqueued at most
//! [`MAX_SWEEPS`] times: one whose processing keeps failing is reported as stuck (its
//! messages are in the dead-letter queue) instead of being retried forever.

use serde::Serialize;

use super::Task;
use crate::app::App;
use crate::clock::rfc3339;
use crate::queue::Message;
use crate::records::journey::JourneyRecord;
use crate::records::keys::{self, PENDING_SHARDS};
use crate::store::{Query, SkRange, StoreError};

/// Journeys pending for longer than this are re-enqueued.
pub const DEFAULT_DELAY_MINUTES: i64 = 15;
/// Re-enqueues of one journey, at most.
pub const MAX_SWEEPS: i64 = 3;

#[derive(Debug, Default, PartialEq, Serialize)]
pub struct SweepReport {
    pub requeued: usize,
    /// Pending journeys already re-enqueued [`MAX_SWEEPS`] times.
    pub stuck: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] crate::queue::QueueError),
}

pub async fn sweep(app: &App, delay: chrono::Duration) -> Result<SweepReport, SweepError> {
    // Index sort keys are `<created_at>#...`; `~` sorts after `#`, so this keeps every
    // journey created at or before the cutoff.
    let cutoff = format!("{}~", rfc3339(app.clock.now() - delay));
    let mut report = SweepReport::default();
    for shard in 0..PENDING_SHARDS {
        let mut cursor = None;
        loop {
            let query = Query::index(keys::pending_index(shard))
                .range(SkRange::Lte(cutoff.clone()))
                .limit(100)
                .after(cursor);
            let page = app.store.query(query).await?;
            let mut messages = Vec::new();
            for item in &page.items {
                let item = JourneyRecord::from_item(item);
                if item.sweeps.unwrap_or(0) >= MAX_SWEEPS {
                    report.stuck += 1;
                    continue;
                }
                let (Some(operator), Some(journey_id)) = (item.operator, item.journey_id) else {
                    tracing::warn!(pk = %item.key.pk, "pending journey without ids; skipped");
                    continue;
                };
                let still_pending = JourneyRecord::only_if_pending();
                let counted = JourneyRecord::swept();
                match app
                    .store
                    .update(&item.key, counted, Some(still_pending))
                    .await
                {
                    Ok(_) => {}
                    // Processed since the query: nothing to repair.
                    Err(StoreError::ConditionFailed { .. }) => continue,
                    Err(e) => return Err(e.into()),
                }
                let task = Task::ProcessJourney {
                    operator_id: operator,
                    journey_id,
                };
                messages.push(Message::new(task.to_body()));
            }
            report.requeued += messages.len();
            if !messages.is_empty() {
                app.queue.send(messages).await?;
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
    }
    if report.stuck > 0 {
        tracing::warn!(stuck = report.stuck, "journeys still pending after {MAX_SWEEPS} re-enqueues: see `registry jobs dead-letters`");
    }
    tracing::info!(
        requeued = report.requeued,
        stuck = report.stuck,
        "sweep done"
    );
    Ok(report)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::clock::FixedClock;
    use crate::config::Config;
    use crate::domain::operator::OperatorId;
    use crate::queue::{memory::MemoryQueue, Queue};
    use crate::store::{memory::MemoryStore, Item, GSI1_PK, GSI1_SK};

    fn pending(op: u64, id: &str, created_at: &str) -> Item {
        let op_id = OperatorId(op);
        Item::new(keys::journey(op_id, id))
            .with("operator_id", i64::try_from(op).unwrap())
            .with("journey_id", id)
            .with("status", "pending")
            .with(GSI1_PK, keys::pending_index(keys::pending_shard(op_id, id)))
            .with(GSI1_SK, format!("{created_at}#{op}#{id}"))
    }

    #[tokio::test]
    async fn requeues_only_journeys_pending_past_the_delay() {
        let clock = Arc::new(FixedClock::new("2026-11-24T10:00:00Z".parse().unwrap()));
        let queue = Arc::new(MemoryQueue::default());
        let app = App::new(
            Arc::new(MemoryStore::new()),
            queue.clone(),
            Config::default(),
        )
        .with_clock(clock);
        // 09:45:00.000 is exactly 15 minutes old: included. 09:45:00.001 is not.
        for (id, at) in [
            ("old", "2026-11-24T09:00:00.000Z"),
            ("edge", "2026-11-24T09:45:00.000Z"),
            ("new", "2026-11-24T09:45:00.001Z"),
        ] {
            app.store.put(pending(1, id, at), None).await.unwrap();
        }
        // Processed journeys are out of the index.
        app.store
            .put(
                Item::new(keys::journey(OperatorId(1), "done")).with("status", "ok"),
                None,
            )
            .await
            .unwrap();

        let delay = chrono::Duration::minutes(DEFAULT_DELAY_MINUTES);
        let report = sweep(&app, delay).await.unwrap();
        assert_eq!(
            report,
            SweepReport {
                requeued: 2,
                stuck: 0
            }
        );
        let mut ids: Vec<String> = queue
            .receive(10, Duration::from_secs(1))
            .await
            .unwrap()
            .iter()
            .map(|d| match Task::from_body(&d.body).unwrap() {
                Task::ProcessJourney { journey_id, .. } => journey_id,
                other => panic!("unexpected task {other:?}"),
            })
            .collect();
        ids.sort();
        assert_eq!(ids, vec!["edge", "old"]);
    }

    #[tokio::test]
    async fn a_journey_is_requeued_at_most_max_sweeps_times() {
        let clock = Arc::new(FixedClock::new("2026-11-24T10:00:00Z".parse().unwrap()));
        let queue = Arc::new(MemoryQueue::default());
        let app = App::new(
            Arc::new(MemoryStore::new()),
            queue.clone(),
            Config::default(),
        )
        .with_clock(clock);
        app.store
            .put(pending(1, "stuck", "2026-11-24T09:00:00.000Z"), None)
            .await
            .unwrap();
        let delay = chrono::Duration::minutes(DEFAULT_DELAY_MINUTES);
        for _ in 0..MAX_SWEEPS {
            assert_eq!(
                sweep(&app, delay).await.unwrap(),
                SweepReport {
                    requeued: 1,
                    stuck: 0
                }
            );
        }
        assert_eq!(
            sweep(&app, delay).await.unwrap(),
            SweepReport {
                requeued: 0,
                stuck: 1
            }
        );
        let sent = queue.receive(100, Duration::from_secs(1)).await.unwrap();
        assert_eq!(sent.len(), usize::try_from(MAX_SWEEPS).unwrap());
    }
}
