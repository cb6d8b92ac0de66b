//! SQS adapter: a standard queue whose redrive policy moves a message to a dead-letter queue
//! after `maxReceiveCount` deliveries (see [`create_queues`]; in AWS both come from
//! `template.yaml`).
//!
//! * `receive` long-polls for at most [`SqsQueue::with_wait`] (1 s by default): short polling
//!   samples a subset of SQS's servers and may answer "empty" while messages wait.
//! * `ack` with a stale receipt is not an error. SQS may still delete the message with it
//!   (the embedded queues ignore a stale receipt): consumers are idempotent either way.
//! * `dead_letters` peeks at the dead-letter queue: it receives batches (hidden for a few
//!   seconds so that the next batch brings other messages), then sets their visibility back
//!   to 0, so nothing is consumed. Each peek counts as a receive of the dead letter, so its
//!   `receive_count` there is at least the redrive `maxReceiveCount`.
//!
//! Errors carry the operation and the SQS error code, never a message body.

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::config::BehaviorVersion;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, MessageSystemAttributeName, QueueAttributeName,
    SendMessageBatchRequestEntry,
};
use aws_sdk_sqs::Client;

use super::{Delivery, Message, Queue, QueueError, QueueResult};
use crate::aws_error;

/// SQS limits: messages per batch and per receive, bytes per batch, longest visibility.
const MAX_BATCH: usize = 10;
const MAX_BATCH_BYTES: usize = 256 * 1024;
const MAX_VISIBILITY_SECS: u64 = 12 * 60 * 60;
const DEFAULT_WAIT: Duration = Duration::from_secs(1);
/// How long `dead_letters` hides what it has read until it has read everything.
const PEEK_VISIBILITY_SECS: i32 = 10;

#[derive(Clone, Debug)]
pub struct SqsQueue {
    client: Client,
    queue_url: String,
    dead_letter_url: Option<String>,
    wait_secs: i32,
}

impl SqsQueue {
    pub fn new(
        client: Client,
        queue_url: impl Into<String>,
        dead_letter_url: Option<String>,
    ) -> Self {
        SqsQueue {
            client,
            queue_url: queue_url.into(),
            dead_letter_url,
            wait_secs: secs(DEFAULT_WAIT, 20),
        }
    }

    /// A client configured by the environment (`AWS_REGION`, `AWS_ENDPOINT_URL`, role...).
    pub async fn from_env(queue_url: impl Into<String>, dead_letter_url: Option<String>) -> Self {
        let config = aws_config::load_defaults(BehaviorVersion::latest()).await;
        Self::new(Client::new(&config), queue_url, dead_letter_url)
    }

    /// How long `receive` waits for a message when none is visible (0 to 20 s, rounded up
    /// to whole seconds).
    pub fn with_wait(mut self, wait: Duration) -> Self {
        self.wait_secs = secs(wait, 20);
        self
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    pub fn dead_letter_url(&self) -> Option<&str> {
        self.dead_letter_url.as_deref()
    }

    async fn receive_from(
        &self,
        url: &str,
        max: usize,
        visibility_secs: i32,
        wait_secs: i32,
    ) -> QueueResult<Vec<(String, Delivery)>> {
        let max = i32::try_from(max.clamp(1, MAX_BATCH)).unwrap_or(1);
        let out = self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(max)
            .visibility_timeout(visibility_secs)
            .wait_time_seconds(wait_secs)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| sdk_error("ReceiveMessage", e))?;
        Ok(out
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| {
                let receive_count = m
                    .attributes
                    .as_ref()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(1);
                // Without a receipt handle the message cannot be acknowledged: leave it, it
                // becomes visible again.
                let receipt = m.receipt_handle?;
                let id = m.message_id.unwrap_or_else(|| receipt.clone());
                Some((
                    id,
                    Delivery {
                        receipt,
                        body: m.body.unwrap_or_default(),
                        receive_count,
                    },
                ))
            })
            .collect())
    }

    /// Best effort: a message whose visibility could not be reset reappears by itself after
    /// [`PEEK_VISIBILITY_SECS`].
    async fn make_visible(&self, url: &str, deliveries: &[Delivery]) {
        for chunk in deliveries.chunks(MAX_BATCH) {
            let entries: Vec<_> = chunk
                .iter()
                .enumerate()
                .filter_map(|(i, d)| {
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(&d.receipt)
                        .visibility_timeout(0)
                        .build()
                        .ok()
                })
                .collect();
            let _ = self
                .client
                .change_message_visibility_batch()
                .queue_url(url)
                .set_entries(Some(entries))
                .send()
                .await;
        }
    }
}

/// Whole seconds, rounded up, at most `max`.
fn secs(d: Duration, max: u64) -> i32 {
    let s = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    i32::try_from(s.min(max)).unwrap_or(i32::MAX)
}

fn sdk_error<E: ProvideErrorMetadata, R>(op: &str, err: SdkError<E, R>) -> QueueError {
    match aws_error::classify("sqs", op, &err) {
        aws_error::Failure::Invalid(m) => QueueError::Invalid(m),
        aws_error::Failure::Unavailable(m) => QueueError::Unavailable(m),
    }
}

/// Splits messages into SQS batches: at most 10 messages and 256 KiB of bodies each.
fn batches(messages: Vec<Message>) -> Vec<Vec<Message>> {
    let mut out: Vec<Vec<Message>> = Vec::new();
    let mut bytes = 0;
    for m in messages {
        let len = m.body.len();
        match out.last_mut() {
            Some(batch) if batch.len() < MAX_BATCH && bytes + len <= MAX_BATCH_BYTES => {
                bytes += len;
                batch.push(m);
            }
            _ => {
                bytes = len;
                out.push(vec![m]);
            }
        }
    }
    out
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send(&self, messages: Vec<Message>) -> QueueResult<()> {
        for batch in batches(messages) {
            let count = batch.len();
            let entries = batch
                .into_iter()
                .enumerate()
                .map(|(i, m)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(m.body)
                        .build()
                        .map_err(|_| QueueError::Invalid("sqs: cannot build batch entry".into()))
                })
                .collect::<QueueResult<Vec<_>>>()?;
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| sdk_error("SendMessageBatch", e))?;
            let failed = out.failed();
            if let Some(first) = failed.first() {
                return Err(QueueError::Unavailable(format!(
                    "sqs SendMessageBatch: {} of {count} messages not sent ({})",
                    failed.len(),
                    first.code()
                )));
            }
        }
        Ok(())
    }

    async fn receive(&self, max: usize, visibility: Duration) -> QueueResult<Vec<Delivery>> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let visibility = secs(visibility, MAX_VISIBILITY_SECS);
        Ok(self
            .receive_from(&self.queue_url, max, visibility, self.wait_secs)
            .await?
            .into_iter()
            .map(|(_, d)| d)
            .collect())
    }

    async fn ack(&self, receipt: &str) -> QueueResult<()> {
        match self
            .client
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // A stale receipt (expired, or of a message already deleted) is ignored.
            Err(e)
                if matches!(
                    aws_error::code(&e),
                    Some("ReceiptHandleIsInvalid" | "InvalidParameterValue")
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(sdk_error("DeleteMessage", e)),
        }
    }

    async fn dead_letters(&self, max: usize) -> QueueResult<Vec<Delivery>> {
        let Some(url) = self.dead_letter_url.as_deref() else {
            return Ok(Vec::new());
        };
        // Each batch read stays hidden while the next ones are read (else SQS would return
        // the same first messages again), then every one is made visible again at once.
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        while out.len() < max {
            let wait = if out.is_empty() { self.wait_secs } else { 0 };
            let got = self
                .receive_from(url, max - out.len(), PEEK_VISIBILITY_SECS, wait)
                .await?;
            if got.is_empty() {
                break;
            }
            for (id, delivery) in got {
                if seen.insert(id) {
                    out.push(delivery);
                }
            }
        }
        self.make_visible(url, &out).await;
        out.truncate(max);
        Ok(out)
    }
}

/// Creates (or finds) queue `name` and its dead-letter queue `name-dlq`, with a redrive
/// policy after `max_receives` deliveries; returns `(queue_url, dead_letter_url)`. For tests
/// and local operations.
pub async fn create_queues(
    client: &Client,
    name: &str,
    max_receives: u32,
) -> QueueResult<(String, String)> {
    let dlq_url = client
        .create_queue()
        .queue_name(format!("{name}-dlq"))
        .send()
        .await
        .map_err(|e| sdk_error("CreateQueue", e))?
        .queue_url
        .ok_or_else(|| QueueError::Unavailable("sqs CreateQueue: no queue url".into()))?;
    let dlq_arn = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| sdk_error("GetQueueAttributes", e))?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| QueueError::Unavailable("sqs GetQueueAttributes: no queue arn".into()))?;
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": max_receives.max(1).to_string(),
    });
    let url = client
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
        .send()
        .await
        .map_err(|e| sdk_error("CreateQueue", e))?
        .queue_url
        .ok_or_else(|| QueueError::Unavailable("sqs CreateQueue: no queue url".into()))?;
    Ok((url, dlq_url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_respect_count_and_size() {
        let small: Vec<Message> = (0..25).map(|i| Message::new(format!("m{i}"))).collect();
        let b = batches(small);
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), vec![10, 10, 5]);
        let big: Vec<Message> = (0..3)
            .map(|_| Message::new("x".repeat(100 * 1024)))
            .collect();
        assert_eq!(
            batches(big).iter().map(Vec::len).collect::<Vec<_>>(),
            vec![2, 1]
        );
        assert!(batches(Vec::new()).is_empty());
    }

    #[test]
    fn seconds_round_up_and_clamp() {
        assert_eq!(secs(Duration::from_millis(1), 20), 1);
        assert_eq!(secs(Duration::from_secs(1), 20), 1);
        assert_eq!(secs(Duration::ZERO, 20), 0);
        assert_eq!(secs(Duration::from_secs(99), 20), 20);
    }
}
