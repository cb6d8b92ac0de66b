//! The queue port: at-least-once delivery with a visibility timeout, a receive count and a
//! dead-letter state after too many attempts. [`sqs`] in AWS, the SQLite adapter's queue
//! (`store::sqlite::EmbeddedQueue`: a table in the SQLite file, written in the same
//! transaction as the store writes that need it) locally,
//! [`memory`] for unit tests. Consumers must be idempotent: a message can arrive twice.

pub mod memory;
pub mod sqs;

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub body: String,
}

impl Message {
    pub fn new(body: impl Into<String>) -> Self {
        Message { body: body.into() }
    }
}

/// A received message; `receipt` acknowledges this delivery only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub receipt: String,
    pub body: String,
    /// How many times the message has been delivered, this delivery included.
    pub receive_count: u32,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum QueueError {
    #[error("queue unavailable: {0}")]
    Unavailable(String),
    #[error("invalid queue request: {0}")]
    Invalid(String),
}

pub type QueueResult<T> = Result<T, QueueError>;

/// Deliveries after which a message is dead-lettered (the SQS redrive `maxReceiveCount`).
pub const DEFAULT_MAX_RECEIVES: u32 = 5;

#[async_trait]
pub trait Queue: Send + Sync {
    async fn send(&self, messages: Vec<Message>) -> QueueResult<()>;

    /// Up to `max` visible messages, hidden from other consumers for `visibility`.
    async fn receive(&self, max: usize, visibility: Duration) -> QueueResult<Vec<Delivery>>;

    /// Deletes the delivered message (done). A stale receipt is ignored.
    async fn ack(&self, receipt: &str) -> QueueResult<()>;

    /// Messages that exceeded their deliveries (read without removing them), for operators.
    async fn dead_letters(&self, max: usize) -> QueueResult<Vec<Delivery>>;
}
