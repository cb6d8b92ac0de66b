//! The sweeper: re-enqueues journeys still `pending` after a delay. On AWS the journey is
//! written before its SQS message is sent; if the send fails (or the message was lost), the
//! journey stays in the pending index and this job repairs it. Processing is idempotent, so
//! a journey enqueued twice is processed once.

use serde::Serialize;

use super::Task;
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::keys::{self, PENDING_SHARDS};
use crate::domain::operator::OperatorId;
use crate::queue::Message;
use crate::store::{Query, SkRange, StoreError};

/// Journeys pending for longer than this are re-enqueued.
pub const DEFAULT_DELAY_MINUTES: i64 = 15;

#[derive(Debug, Default, PartialEq, Serialize)]
pub struct SweepReport {
    pub requeued: usize,
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
            let messages: Vec<Message> = page
                .items
                .iter()
                .filter_map(|item| {
                    let task = Task::ProcessJourney {
                        operator_id: OperatorId(u64::try_from(item.n("operator_id")?).ok()?),
                        journey_id: item.s("journey_id")?.to_owned(),
                    };
                    Some(Message::new(task.to_body()))
                })
                .collect();
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
    tracing::info!(requeued = report.requeued, "sweep done");
    Ok(report)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::clock::FixedClock;
    use crate::config::Config;
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

        let report = sweep(&app, chrono::Duration::minutes(DEFAULT_DELAY_MINUTES))
            .await
            .unwrap();
        assert_eq!(report.requeued, 2);
        let mut ids: Vec<String> = queue
            .receive(10, Duration::from_secs(1))
            .await
            .unwrap()
            .iter()
            .map(|d| match Task::from_body(&d.body).unwrap() {
                Task::ProcessJourney { journey_id, .. } => journey_id,
            })
            .collect();
        ids.sort();
        assert_eq!(ids, vec!["edge", "old"]);
    }
}
