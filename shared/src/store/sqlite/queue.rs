//! Embedded queue: the `queue` table of the SQLite store file. Its writes go through the
//! store's writer, so a message can commit in the same transaction as the items it is about.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use rusqlite::{params, Connection};

use super::{Done, SqliteStore, Work};
use crate::queue::{Delivery, Message, Queue, QueueError, QueueResult};
use crate::store::{StoreError, StoreResult};

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    body TEXT NOT NULL,
    enqueued_at INTEGER NOT NULL,
    visible_at INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt TEXT,
    dead INTEGER NOT NULL DEFAULT 0
);
-- Oldest first among live messages; in-flight ones (visible_at in the future) are few.
CREATE INDEX IF NOT EXISTS queue_live ON queue (dead, id);
";

pub(crate) enum QueueJob {
    Send(Vec<Message>),
    Receive {
        max: usize,
        visibility: Duration,
        max_receives: u32,
    },
    Ack(String),
    DeadLetters(usize),
}

pub(crate) enum QueueReply {
    Done,
    Deliveries(Vec<Delivery>),
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn sql(e: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(format!("sqlite queue: {e}"))
}

pub(crate) fn insert(conn: &Connection, messages: &[Message]) -> StoreResult<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let now = now_ms();
    let mut stmt = conn
        .prepare_cached("INSERT INTO queue (body, enqueued_at, visible_at) VALUES (?1, ?2, ?2)")
        .map_err(sql)?;
    for m in messages {
        stmt.execute(params![m.body, now]).map_err(sql)?;
    }
    Ok(())
}

pub(crate) fn run(conn: &Connection, job: QueueJob) -> StoreResult<QueueReply> {
    match job {
        QueueJob::Send(messages) => insert(conn, &messages).map(|_| QueueReply::Done),
        QueueJob::Receive {
            max,
            visibility,
            max_receives,
        } => receive(conn, max, visibility, max_receives).map(QueueReply::Deliveries),
        QueueJob::Ack(receipt) => {
            // A receipt is `<id>.<count>.<random>`: delete by primary key, and only if it
            // is still this delivery's receipt. A malformed receipt matches nothing.
            let Some(id) = receipt
                .split('.')
                .next()
                .and_then(|id| id.parse::<i64>().ok())
            else {
                return Ok(QueueReply::Done);
            };
            conn.prepare_cached("DELETE FROM queue WHERE id = ?1 AND receipt = ?2")
                .and_then(|mut s| s.execute(params![id, receipt]))
                .map(|_| QueueReply::Done)
                .map_err(sql)
        }
        QueueJob::DeadLetters(max) => {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT id, body, receive_count, receipt FROM queue WHERE dead = 1 ORDER BY id LIMIT ?1",
                )
                .map_err(sql)?;
            let rows = stmt
                .query_map(params![i64::try_from(max).unwrap_or(i64::MAX)], |row| {
                    Ok(Delivery {
                        receipt: row.get::<_, Option<String>>(3)?.unwrap_or_default(),
                        body: row.get(1)?,
                        receive_count: row.get(2)?,
                    })
                })
                .map_err(sql)?;
            rows.collect::<Result<Vec<_>, _>>()
                .map(QueueReply::Deliveries)
                .map_err(sql)
        }
    }
}

fn receive(
    conn: &Connection,
    max: usize,
    visibility: Duration,
    max_receives: u32,
) -> StoreResult<Vec<Delivery>> {
    let now = now_ms();
    let visible_at = now.saturating_add(i64::try_from(visibility.as_millis()).unwrap_or(i64::MAX));
    let mut candidates = conn
        .prepare_cached(
            "SELECT id, body, receive_count FROM queue WHERE dead = 0 AND visible_at <= ?1 AND id > ?3 ORDER BY id LIMIT ?2",
        )
        .map_err(sql)?;
    let mut deliver = conn
        .prepare_cached(
            "UPDATE queue SET receive_count = ?2, visible_at = ?3, receipt = ?4 WHERE id = ?1",
        )
        .map_err(sql)?;
    let mut bury = conn
        .prepare_cached("UPDATE queue SET dead = 1 WHERE id = ?1")
        .map_err(sql)?;
    let mut out = Vec::with_capacity(max);
    // Walk forward by id: a message delivered in this call is never met twice, even with
    // a zero visibility timeout.
    let mut after_id = 0i64;
    loop {
        let want = max - out.len();
        let rows: Vec<(i64, String, u32)> = candidates
            .query_map(
                params![now, i64::try_from(want).unwrap_or(i64::MAX), after_id],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .map_err(sql)?
            .collect::<Result<_, _>>()
            .map_err(sql)?;
        let exhausted = rows.len() < want;
        for (id, body, count) in rows {
            after_id = id;
            // Delivered `max_receives` times already: dead-lettered instead of delivered
            // again (SQS redrive semantics).
            if count >= max_receives {
                bury.execute(params![id]).map_err(sql)?;
                continue;
            }
            let receive_count = count + 1;
            let receipt = format!("{id}.{receive_count}.{}", uuid::Uuid::new_v4().simple());
            deliver
                .execute(params![id, receive_count, visible_at, receipt])
                .map_err(sql)?;
            out.push(Delivery {
                receipt,
                body,
                receive_count,
            });
        }
        if exhausted || out.len() >= max {
            return Ok(out);
        }
    }
}

/// The queue of one SQLite store file.
#[derive(Clone)]
pub struct EmbeddedQueue {
    store: SqliteStore,
    max_receives: u32,
}

impl EmbeddedQueue {
    pub(crate) fn new(store: SqliteStore, max_receives: u32) -> Self {
        EmbeddedQueue {
            store,
            max_receives: max_receives.max(1),
        }
    }

    async fn run(&self, job: QueueJob) -> QueueResult<QueueReply> {
        match self.store.submit(Work::Queue(job)).await {
            Ok(Done::Queue(reply)) => Ok(reply),
            Ok(_) => Ok(QueueReply::Done),
            Err(StoreError::Invalid(m)) => Err(QueueError::Invalid(m)),
            Err(other) => Err(QueueError::Unavailable(other.to_string())),
        }
    }

    async fn deliveries(&self, job: QueueJob) -> QueueResult<Vec<Delivery>> {
        match self.run(job).await? {
            QueueReply::Deliveries(d) => Ok(d),
            QueueReply::Done => Ok(Vec::new()),
        }
    }
}

#[async_trait]
impl Queue for EmbeddedQueue {
    async fn send(&self, messages: Vec<Message>) -> QueueResult<()> {
        self.run(QueueJob::Send(messages)).await.map(|_| ())
    }

    async fn receive(&self, max: usize, visibility: Duration) -> QueueResult<Vec<Delivery>> {
        self.deliveries(QueueJob::Receive {
            max,
            visibility,
            max_receives: self.max_receives,
        })
        .await
    }

    async fn ack(&self, receipt: &str) -> QueueResult<()> {
        self.run(QueueJob::Ack(receipt.to_owned()))
            .await
            .map(|_| ())
    }

    async fn dead_letters(&self, max: usize) -> QueueResult<Vec<Delivery>> {
        self.deliveries(QueueJob::DeadLetters(max)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn zero_visibility_never_delivers_a_message_twice_in_one_receive() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("q.db")).unwrap();
        let queue = store.queue(5);
        queue
            .send(vec![Message::new("a"), Message::new("b")])
            .await
            .unwrap();
        let got = queue.receive(10, Duration::ZERO).await.unwrap();
        let bodies: Vec<&str> = got.iter().map(|d| d.body.as_str()).collect();
        assert_eq!(bodies, vec!["a", "b"]);
        assert!(got.iter().all(|d| d.receive_count == 1));
    }
}
