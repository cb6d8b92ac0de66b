//! Nothing is processed twice: every queue task delivered twice and out of order ends in the
//! state of a single delivery, on both production-like stacks, by one scenario:
//!
//! * the embedded stack of `registry serve`: the SQLite store (a real file) and its
//!   embedded queue, each task run as the local worker runs it (`jobs::run`);
//! * the AWS stack: DynamoDB and SQS (a local moto server answering one request at a
//!   time, as DynamoDB isolates each request: `registry_testkit::moto::serial_moto`), a work queue and a
//!   monthly queue as in template.yaml. The messages really go through SQS (sent by the handlers
//!   through the SQS adapter, received with it) and each delivery is handed to the queue
//!   consumer Lambda's handler (`lambda::handle_sqs`) in an `SqsEvent` as the event source
//!   builds it. The duplicate deliveries are the test's: SQS's own redelivery cannot be
//!   ordered.
//!
//! Each step (processing of accepted journeys, the monthly run's shards and final step, a
//! fraud pass) starts from one state copied into two fresh stacks: one gets every message
//! once, the other twice out of order; then every item of the two stores must be equal.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use registry_core::app::App;
use registry_core::campaigns::monthly;
use registry_core::clock::FixedClock;
use registry_core::config::{Config, StoreKind};
use registry_core::jobs::{self, fraud, Task};
use registry_core::queue::sqs::SqsQueue;
use registry_core::queue::{Delivery, Message, Queue};
use registry_core::store::{scan_all, sqlite::SqliteStore, Item};
use registry_testkit::api::{call, sqs_event};
use registry_testkit::app::{dynamodb_store_at, operator_with_token, sqs_queue_at};
use registry_testkit::moto::*;
use serde_json::{json, Value};

type Now = chrono::DateTime<chrono::Utc>;

/// Where a fresh, empty stack comes from.
enum Stack {
    /// SQLite files in this folder, store and queue in one file.
    Embedded(PathBuf),
    /// A DynamoDB table and two SQS queues (work, monthly) on the moto server.
    Aws,
}

impl Stack {
    async fn fresh(&self, name: &str, now: Now) -> App {
        let config = Config {
            // Small shards: the monthly run of a few journeys is split as a big one is.
            monthly_shard_drafts: 4,
            ..Config::default()
        };
        let app = match self {
            Stack::Embedded(dir) => {
                let path = dir.join(format!("{name}.db"));
                let store = SqliteStore::open(&path).expect("open store");
                let queue = store.queue(5);
                let config = Config {
                    db_path: path,
                    ..config
                };
                App::new(Arc::new(store), Arc::new(queue), config)
            }
            Stack::Aws => {
                let store = dynamodb_store_at(serial_moto(), name).await;
                let config = Config {
                    store: StoreKind::DynamoDb,
                    ..config
                };
                let (work, monthly) = (sqs_queue(name).await, sqs_queue(name).await);
                App::new(Arc::new(store), Arc::new(work), config)
                    .with_monthly_queue(Arc::new(monthly))
            }
        };
        app.with_clock(Arc::new(FixedClock::new(now)))
    }

    /// Runs one delivery of a message as this stack's consumer does.
    async fn consume(&self, app: &App, delivery: &Delivery) {
        match self {
            Stack::Embedded(_) => jobs::run(app, &delivery.body)
                .await
                .unwrap_or_else(|e| panic!("{e}: {}", delivery.body)),
            Stack::Aws => {
                let event = sqs_event([(delivery.receipt.clone(), delivery.body.clone())]);
                let response = registry_core::lambda::handle_sqs(app, event).await;
                assert!(response.batch_item_failures.is_empty(), "{}", delivery.body);
            }
        }
    }
}

/// Short polls: the serial moto server would stand still during a long poll (and its short
/// poll answers every visible message, unlike SQS's sampled one).
async fn sqs_queue(name: &str) -> SqsQueue {
    sqs_queue_at(serial_moto(), name, 5)
        .await
        .with_wait(Duration::ZERO)
}

/// The kind of a task. No wildcard on purpose: a new task type does not compile until this
/// test delivers it twice too.
fn kind(task: &Task) -> &'static str {
    match task {
        Task::ProcessJourney { .. } => "process_journey",
        Task::FraudUnit { .. } => "fraud_unit",
        Task::MonthlyUnit { unit, .. } if unit.shard.is_some() => "monthly_shard",
        Task::MonthlyUnit { .. } => "monthly_final",
    }
}

/// The app's queues: the work queue, and the monthly queue where it is another one.
fn queues(app: &App) -> Vec<&Arc<dyn Queue>> {
    if Arc::ptr_eq(&app.queue, &app.monthly_queue) {
        vec![&app.queue]
    } else {
        vec![&app.queue, &app.monthly_queue]
    }
}

/// Every visible message of a queue, hidden for an hour (SQS answers 10 at a time).
async fn receive_all(queue: &dyn Queue) -> Vec<Delivery> {
    let mut all = Vec::new();
    loop {
        let batch = queue
            .receive(100_000, Duration::from_secs(3600))
            .await
            .expect("receive");
        if batch.is_empty() {
            return all;
        }
        all.extend(batch);
    }
}

/// Two fresh stacks holding what `base` holds: its items and its queued messages.
async fn fork(stack: &Stack, base: &App, step: &str, now: Now) -> (App, App) {
    let once = stack.fresh(&format!("{step}-once"), now).await;
    let twice = stack.fresh(&format!("{step}-twice"), now).await;
    for item in scan_all(base.store.as_ref()).await.expect("scan") {
        for copy in [&once, &twice] {
            copy.store.put(item.clone(), None).await.expect("copy item");
        }
    }
    for (i, queue) in queues(base).into_iter().enumerate() {
        let messages: Vec<Message> = receive_all(queue.as_ref())
            .await
            .into_iter()
            .map(|d| Message::new(d.body))
            .collect();
        for copy in [&once, &twice] {
            queues(copy)[i]
                .send(messages.clone())
                .await
                .expect("copy queue");
        }
    }
    (once, twice)
}

/// Runs every queued message once in queue order, or twice, round after round until the
/// queues are empty (a task may send others). Twice: in the same order of first deliveries
/// (processing order legitimately matters: draft incentives are computed with provisional
/// counters, campaigns.md "Draft"), the even-numbered messages with their duplicate
/// racing them, the odd-numbered ones duplicated late, after all the others, in reverse
/// order. Returns how many distinct messages of each kind there were (a task delivered
/// twice may send its follow-up twice: the same message).
async fn deliver(stack: &Stack, app: &App, twice: bool) -> BTreeMap<&'static str, usize> {
    let mut kinds: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    loop {
        let mut deliveries = Vec::new();
        for queue in queues(app) {
            deliveries.extend(
                receive_all(queue.as_ref())
                    .await
                    .into_iter()
                    .map(|d| (queue, d)),
            );
        }
        if deliveries.is_empty() {
            break;
        }
        for (_, d) in &deliveries {
            let task = Task::from_body(&d.body).expect("a task");
            kinds.entry(kind(&task)).or_default().insert(d.body.clone());
        }
        let mut late = Vec::new();
        for (i, (_, d)) in deliveries.iter().enumerate() {
            if !twice {
                stack.consume(app, d).await;
            } else if i % 2 == 0 {
                tokio::join!(stack.consume(app, d), stack.consume(app, d));
            } else {
                stack.consume(app, d).await;
                late.push(d);
            }
        }
        for d in late.into_iter().rev() {
            stack.consume(app, d).await;
        }
        for (queue, d) in &deliveries {
            queue.ack(&d.receipt).await.expect("ack");
        }
    }
    kinds.into_iter().map(|(k, v)| (k, v.len())).collect()
}

/// Delivers what `base` holds once in one copy and twice out of order in another; the two
/// stores must end identical. Returns the single-delivery copy (the base of the next step).
async fn once_and_twice(
    stack: &Stack,
    base: &App,
    step: &str,
    now: Now,
) -> (App, BTreeMap<&'static str, usize>) {
    let (once, twice) = fork(stack, base, step, now).await;
    let kinds = deliver(stack, &once, false).await;
    assert_eq!(deliver(stack, &twice, true).await, kinds);
    let (a, b) = (
        scan_all(once.store.as_ref()).await.expect("scan"),
        scan_all(twice.store.as_ref()).await.expect("scan"),
    );
    let keys = |items: &[Item]| -> BTreeSet<_> { items.iter().map(|i| i.key.clone()).collect() };
    let (ka, kb) = (keys(&a), keys(&b));
    assert_eq!(
        ka,
        kb,
        "{step}: only after single delivery: {:?}; only after double delivery: {:?}",
        ka.difference(&kb).collect::<Vec<_>>(),
        kb.difference(&ka).collect::<Vec<_>>()
    );
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y, "{step}: single and double delivery differ");
    }
    (once, kinds)
}

async fn post(app: &App, token: &str, path: &str, body: &Value) -> (u16, Value) {
    call(app, "POST", path, token, Some(body.clone())).await
}

async fn operator_token(app: &App) -> String {
    operator_with_token(app, "Covoit", None).await.1
}

/// The scenario: journeys accepted through the API, then processed; the monthly run of
/// their month; a fraud pass. Each step delivered once and twice out of order.
async fn every_task_twice_ends_as_once(stack: Stack) {
    let now = chrono::Utc::now();
    let app = stack.fresh("base", now).await;
    let (first, second) = (operator_token(&app).await, operator_token(&app).await);
    // A campaign paying both people of trips around Paris, at most 2 trips a day per
    // person: processing drafts incentives, and the cap makes their order matter.
    let admin = registry_core::admin::bootstrap(&app)
        .await
        .expect("bootstrap")
        .expect("first admin")
        .token;
    let today = now.date_naive();
    let campaign = registry_testkit::docs::paris_campaign("paris-test", today);
    let (s, body) = post(&app, &admin, "/v2/campaigns", &campaign).await;
    assert_eq!(s, 201, "{body}");
    // Ten ordinary journeys (one driver: the campaign's daily cap bites), plus one ride sent by both operators (the fraud pass flags it
    // on both) and one journey with an anomaly (a declared distance of 5 km for 17 km as the crow flies).
    let mut docs = Vec::new();
    for i in 0..10 {
        let mut doc = registry_core::domain::journey::example_document(&format!("j-{i}"), now);
        doc["passenger"]["identity"]["phone"] = json!(format!("+336120000{i:02}"));
        docs.push((&first, doc));
    }
    let dup = registry_core::domain::journey::example_document("dup", now);
    let mut dup_other = dup.clone();
    dup_other["driver"]["identity"]["phone"] = json!("+33611223344");
    docs.push((&first, dup));
    docs.push((&second, dup_other));
    let mut odd = registry_core::domain::journey::example_document("odd", now);
    for person in ["passenger", "driver"] {
        odd[person]["distance"] = json!(5_000);
    }
    docs.push((&second, odd));
    for (token, doc) in &docs {
        let (s, body) = post(&app, token, "/v2/journeys", doc).await;
        assert_eq!(s, 201, "{body}");
    }

    // Processing of the accepted journeys.
    let (processed, kinds) = once_and_twice(&stack, &app, "process", now).await;
    assert_eq!(kinds, BTreeMap::from([("process_journey", docs.len())]));
    let items = scan_all(processed.store.as_ref()).await.expect("scan");
    let drafts: Vec<&Item> = items
        .iter()
        .filter(|i| i.key.sk.starts_with("INCENTIVE#"))
        .collect();
    let month = drafts
        .iter()
        .find_map(|d| d.s("month"))
        .and_then(monthly::Month::parse)
        .expect("a draft's month");
    assert!(
        drafts.iter().any(|i| i.n("amount") > Some(0)),
        "no paid draft"
    );
    assert!(
        drafts.iter().any(|i| i.s("capped_by").is_some()),
        "no capped draft"
    );
    let journeys: Vec<Item> = items
        .into_iter()
        .filter(|i| i.key.sk == "JOURNEY")
        .collect();
    assert_eq!(journeys.len(), docs.len());
    for j in &journeys {
        assert_eq!(j.n("processings"), Some(1), "{j:?}");
        let want = if j.s("journey_id") == Some("odd") {
            "anomaly_error"
        } else {
            "ok"
        };
        assert_eq!(j.s("status"), Some(want), "{j:?}");
    }

    // The monthly run of the journeys' month, fanned out as in AWS once the month is over:
    // shards of the campaign (small shards here), then its final step, with the caps.
    let later = now + chrono::TimeDelta::days(35);
    let processed = processed.with_clock(Arc::new(FixedClock::new(later)));
    let run = monthly::fanout::fan_out(&processed, month, false)
        .await
        .expect("monthly fan out");
    let (paid, kinds) = once_and_twice(&stack, &processed, "monthly", later).await;
    let shards = run.campaigns[0].shards as usize;
    assert!(shards > 1, "{run:?}");
    assert_eq!(
        kinds,
        BTreeMap::from([("monthly_final", 1), ("monthly_shard", shards)])
    );
    let record = monthly::progress::read_run(&paid, &run.run_id)
        .await
        .unwrap()
        .expect("run");
    assert!(record.finished_at.is_some(), "{record:?}");
    assert_eq!(record.units_done, record.units);
    let report = record.campaigns[0].report.as_ref().expect("finalized");
    assert_eq!(report.version, 1);
    // Every journey but the anomaly has drafts; the daily cap bites in the final run too.
    assert_eq!(report.totals.journeys, docs.len() as u64 - 1);
    use monthly::compute::LineStatus;
    assert!(report.totals.by_status[&LineStatus::Validated].count > 0);
    assert!(report.totals.by_status[&LineStatus::Capped].count > 0);

    // A fraud pass fanned out as in AWS: one message per (day, shard).
    let processed = paid.with_clock(Arc::new(FixedClock::new(now)));
    let since = now.date_naive() - chrono::TimeDelta::days(1);
    let run = fraud::fan_out(&processed, Some(since))
        .await
        .expect("fan out");
    let (judged, kinds) = once_and_twice(&stack, &processed, "fraud", now).await;
    assert_eq!(
        kinds,
        BTreeMap::from([("fraud_unit", run.header.units as usize)])
    );
    let record = fraud::read_run(&judged, &run.header.run_id)
        .await
        .unwrap()
        .expect("run");
    assert!(record.header.finished_at.is_some(), "{record:?}");
    let flagged: Vec<Item> = scan_all(judged.store.as_ref())
        .await
        .expect("scan")
        .into_iter()
        .filter(|i| i.key.sk == "JOURNEY" && i.s("journey_id") == Some("dup"))
        .collect();
    assert_eq!(flagged.len(), 2);
    for j in &flagged {
        assert_eq!(j.s("status"), Some("fraud_error"), "{j:?}");
    }
}

#[tokio::test]
async fn every_task_delivered_twice_out_of_order_ends_as_single_delivery_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    every_task_twice_ends_as_once(Stack::Embedded(dir.path().to_owned())).await;
}

#[tokio::test]
async fn every_task_delivered_twice_out_of_order_ends_as_single_delivery_on_dynamodb_and_sqs() {
    every_task_twice_ends_as_once(Stack::Aws).await;
}
