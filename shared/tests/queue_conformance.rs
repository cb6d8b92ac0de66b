//! One conformance suite for the `Queue` port, run against every adapter: memory, embedded
//! (the `queue` table of a SQLite store file) and SQS (a local moto server, a fresh queue and
//! dead-letter queue per test). Every queue dead-letters after 2 deliveries.
//!
//! Where adapters may differ, the checks assert only what the port promises. The one known
//! difference: acknowledging with a stale receipt is never an error, but SQS (and moto) may
//! still delete the message with it while the embedded queues ignore it.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use registry_core::queue::memory::MemoryQueue;
use registry_core::queue::sqs::{create_queues, SqsQueue};
use registry_core::queue::{Delivery, Message, Queue};
use registry_testkit::app::{self, sqlite_store};
use registry_testkit::moto as support;
use tempfile::TempDir;

const MAX_RECEIVES: u32 = 2;
const LONG: Duration = Duration::from_secs(30);
const SHORT: Duration = Duration::from_secs(1);
/// Longer than [`SHORT`], so that a message received with it is visible again.
const AFTER_SHORT: Duration = Duration::from_millis(1600);
/// Visibility of deliveries that a check acknowledges and then proves gone: once it has
/// passed, an unacknowledged message would be visible again.
const ACKED: Duration = Duration::from_secs(3);
const AFTER_ACKED: Duration = Duration::from_millis(3600);

type Shared = Arc<dyn Queue>;

struct Fixture {
    queue: Shared,
    _dir: Option<TempDir>,
}

async fn memory_queue() -> Fixture {
    Fixture {
        queue: Arc::new(MemoryQueue::new(MAX_RECEIVES)),
        _dir: None,
    }
}

async fn embedded_queue() -> Fixture {
    let (store, dir) = sqlite_store();
    Fixture {
        queue: Arc::new(store.queue(MAX_RECEIVES)),
        _dir: Some(dir),
    }
}

async fn sqs_queue() -> Fixture {
    Fixture {
        queue: Arc::new(app::sqs_queue("q", MAX_RECEIVES).await),
        _dir: None,
    }
}

macro_rules! all_checks {
    ($fixture:path) => {
        registry_testkit::conformance!($fixture, queue =>
            send_receive_ack,
            received_message_is_invisible,
            unacked_message_reappears,
            dead_letter_after_max_receives,
            stale_ack_is_harmless,
            many_messages_each_once,
        );
    };
}

mod memory {
    all_checks!(super::memory_queue);
}

mod embedded {
    all_checks!(super::embedded_queue);
}

mod sqs {
    all_checks!(super::sqs_queue);
}

// ---------------------------------------------------------------------------------------
// Helpers

fn bodies(deliveries: &[Delivery]) -> Vec<String> {
    let mut b: Vec<String> = deliveries.iter().map(|d| d.body.clone()).collect();
    b.sort();
    b
}

fn messages(bodies: &[&str]) -> Vec<Message> {
    bodies.iter().map(|b| Message::new(*b)).collect()
}

/// Receives until `count` deliveries arrived (a receive may return fewer than are visible)
/// or a few receives in a row find nothing.
async fn receive_count(queue: &dyn Queue, count: usize, visibility: Duration) -> Vec<Delivery> {
    let mut out = Vec::new();
    let mut empty_rounds = 0;
    while out.len() < count && empty_rounds < 3 {
        let got = queue.receive(count - out.len(), visibility).await.unwrap();
        if got.is_empty() {
            empty_rounds += 1;
        }
        out.extend(got);
    }
    out
}

// ---------------------------------------------------------------------------------------
// Checks

async fn send_receive_ack(queue: Shared) {
    queue.send(Vec::new()).await.unwrap();
    assert!(queue.receive(0, LONG).await.unwrap().is_empty());
    assert!(queue.receive(10, LONG).await.unwrap().is_empty());

    queue.send(messages(&["a", "b", "c"])).await.unwrap();
    let got = receive_count(&*queue, 3, ACKED).await;
    assert_eq!(bodies(&got), vec!["a", "b", "c"]);
    assert!(got.iter().all(|d| d.receive_count == 1), "{got:?}");
    let receipts: BTreeSet<&str> = got.iter().map(|d| d.receipt.as_str()).collect();
    assert_eq!(receipts.len(), 3, "each delivery has its own receipt");

    // `max` is respected.
    queue.send(messages(&["d", "e"])).await.unwrap();
    let one = queue.receive(1, ACKED).await.unwrap();
    assert_eq!(one.len(), 1);
    let rest = receive_count(&*queue, 1, ACKED).await;
    assert_eq!(rest.len(), 1);
    assert_ne!(one[0].body, rest[0].body);

    for d in got.iter().chain(&one).chain(&rest) {
        queue.ack(&d.receipt).await.unwrap();
    }
    tokio::time::sleep(AFTER_ACKED).await;
    assert!(queue.receive(10, LONG).await.unwrap().is_empty());
    assert!(queue.dead_letters(10).await.unwrap().is_empty());
}

async fn received_message_is_invisible(queue: Shared) {
    queue.send(messages(&["only"])).await.unwrap();
    let first = receive_count(&*queue, 1, LONG).await;
    assert_eq!(bodies(&first), vec!["only"]);
    // Hidden from another consumer for its visibility timeout.
    assert!(queue.receive(10, LONG).await.unwrap().is_empty());
    queue.send(messages(&["second"])).await.unwrap();
    let second = receive_count(&*queue, 1, LONG).await;
    assert_eq!(bodies(&second), vec!["second"]);
    assert!(queue.receive(10, LONG).await.unwrap().is_empty());
}

async fn unacked_message_reappears(queue: Shared) {
    queue.send(messages(&["retry me"])).await.unwrap();
    let first = receive_count(&*queue, 1, SHORT).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].receive_count, 1);

    tokio::time::sleep(AFTER_SHORT).await;
    let second = receive_count(&*queue, 1, ACKED).await;
    assert_eq!(bodies(&second), vec!["retry me"]);
    assert_eq!(second[0].receive_count, 2);
    assert_ne!(second[0].receipt, first[0].receipt);

    queue.ack(&second[0].receipt).await.unwrap();
    tokio::time::sleep(AFTER_ACKED).await;
    assert!(queue.receive(10, LONG).await.unwrap().is_empty());
    assert!(queue.dead_letters(10).await.unwrap().is_empty());
}

async fn dead_letter_after_max_receives(queue: Shared) {
    assert!(queue.dead_letters(10).await.unwrap().is_empty());
    queue.send(messages(&["poison", "fine"])).await.unwrap();

    let first = receive_count(&*queue, 2, SHORT).await;
    assert_eq!(bodies(&first), vec!["fine", "poison"]);
    for d in first.iter().filter(|d| d.body == "fine") {
        queue.ack(&d.receipt).await.unwrap();
    }
    for expected_count in 2..=MAX_RECEIVES {
        tokio::time::sleep(AFTER_SHORT).await;
        let again = receive_count(&*queue, 1, SHORT).await;
        assert_eq!(bodies(&again), vec!["poison"]);
        assert_eq!(again[0].receive_count, expected_count);
    }

    // Delivered MAX_RECEIVES times and still not acknowledged: dead-lettered instead of
    // delivered again.
    tokio::time::sleep(AFTER_SHORT).await;
    assert!(queue.receive(10, SHORT).await.unwrap().is_empty());
    let dead = queue.dead_letters(10).await.unwrap();
    assert_eq!(bodies(&dead), vec!["poison"]);
    assert!(dead[0].receive_count >= MAX_RECEIVES, "{dead:?}");

    // Reading dead letters consumes nothing, and they are never received again.
    let dead = queue.dead_letters(10).await.unwrap();
    assert_eq!(bodies(&dead), vec!["poison"]);
    tokio::time::sleep(AFTER_SHORT).await;
    assert!(queue.receive(10, SHORT).await.unwrap().is_empty());
    assert_eq!(
        bodies(&queue.dead_letters(10).await.unwrap()),
        vec!["poison"]
    );
    assert!(queue.dead_letters(0).await.unwrap().is_empty());
}

async fn stale_ack_is_harmless(queue: Shared) {
    queue.send(messages(&["m"])).await.unwrap();
    let first = receive_count(&*queue, 1, SHORT).await;
    assert_eq!(first.len(), 1);
    tokio::time::sleep(AFTER_SHORT).await;
    let second = receive_count(&*queue, 1, ACKED).await;
    assert_eq!(bodies(&second), vec!["m"]);
    assert_ne!(first[0].receipt, second[0].receipt);

    queue.send(messages(&["other"])).await.unwrap();
    // The first delivery's receipt is stale: not an error, and no other message is touched.
    queue.ack(&first[0].receipt).await.unwrap();
    let other = receive_count(&*queue, 1, ACKED).await;
    assert_eq!(bodies(&other), vec!["other"]);
    queue.ack(&other[0].receipt).await.unwrap();

    // The current receipt acknowledges (whether or not the stale one already did), and
    // acknowledging twice is harmless too.
    queue.ack(&second[0].receipt).await.unwrap();
    queue.ack(&second[0].receipt).await.unwrap();
    queue.ack(&other[0].receipt).await.unwrap();
    // A receipt this queue never issued is no different.
    queue.ack("AQEB-not-a-receipt").await.unwrap();
    tokio::time::sleep(AFTER_ACKED).await;
    assert!(queue.receive(10, LONG).await.unwrap().is_empty());
    assert!(queue.dead_letters(10).await.unwrap().is_empty());
}

async fn many_messages_each_once(queue: Shared) {
    let sent: Vec<String> = (0..25).map(|i| format!("message {i:02}")).collect();
    queue
        .send(sent.iter().map(Message::new).collect())
        .await
        .unwrap();
    let mut received = Vec::new();
    let mut empty_rounds = 0;
    while received.len() < 25 && empty_rounds < 3 {
        let got = queue.receive(10, ACKED).await.unwrap();
        assert!(got.len() <= 10);
        if got.is_empty() {
            empty_rounds += 1;
        }
        for d in got {
            assert_eq!(d.receive_count, 1, "{d:?}");
            queue.ack(&d.receipt).await.unwrap();
            received.push(d.body);
        }
    }
    received.sort();
    assert_eq!(received, sent, "every message exactly once");
    tokio::time::sleep(AFTER_ACKED).await;
    assert!(queue.receive(10, LONG).await.unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------
// SQS only

#[tokio::test]
async fn sqs_without_dead_letter_queue_has_no_dead_letters() {
    let client = support::sqs_client();
    let (url, _dlq) = create_queues(&client, &support::unique_name("q"), 1)
        .await
        .unwrap();
    let queue = SqsQueue::new(client, url, None).with_wait(Duration::ZERO);
    queue.send(messages(&["x"])).await.unwrap();
    let got = queue.receive(1, SHORT).await.unwrap();
    assert_eq!(got.len(), 1);
    tokio::time::sleep(AFTER_SHORT).await;
    // maxReceiveCount 1: moved to the DLQ, which this handle does not know.
    assert!(queue.receive(10, SHORT).await.unwrap().is_empty());
    assert!(queue.dead_letters(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn sqs_dead_letters_reads_more_than_one_batch() {
    let queue = app::sqs_queue("q", 1).await;
    let sent: Vec<String> = (0..14).map(|i| format!("d{i:02}")).collect();
    queue
        .send(sent.iter().map(Message::new).collect())
        .await
        .unwrap();
    let got = receive_count(&queue, 14, SHORT).await;
    assert_eq!(got.len(), 14);
    tokio::time::sleep(AFTER_SHORT).await;
    assert!(queue.receive(10, SHORT).await.unwrap().is_empty());
    let dead = queue.dead_letters(100).await.unwrap();
    let mut dead_bodies: Vec<String> = dead.into_iter().map(|d| d.body).collect();
    dead_bodies.sort();
    assert_eq!(dead_bodies, sent);
    assert_eq!(queue.dead_letters(5).await.unwrap().len(), 5);
}
