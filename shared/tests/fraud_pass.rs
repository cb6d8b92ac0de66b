//! The fraud pass end to end: journeys sent through the API by several operators, processed
//! by the queue consumer's task, judged by the pass, their labels read back with
//! `GET /v2/journeys/{id}`. On the memory and SQLite stores (the pass run in process, as
//! `registry jobs fraud-pass` runs it) and on DynamoDB + SQS (moto; fanned out by the
//! `fraud-pass` Lambda handler, units run by the queue consumer's handler).

use std::sync::Arc;
use std::time::Duration;

use registry_core::app::App;
use registry_core::clock::FixedClock;
use registry_core::domain::operator::OperatorId;
use registry_core::jobs::fraud::{self, RunRecord};
use registry_core::queue::{memory::MemoryQueue, Queue};
use registry_core::records::journey::JourneyRecord;
use registry_core::records::keys;
use registry_core::store::{memory::MemoryStore, Query, Store};
use registry_testkit::app::{dynamodb_store, sqlite_store, sqs_queue};
use serde_json::{json, Value};

const NOW: &str = "2026-11-24T12:00:00Z";

struct World {
    app: App,
    clock: Arc<FixedClock>,
    /// One application token per operator.
    tokens: Vec<String>,
    operators: Vec<OperatorId>,
}

impl World {
    async fn new(store: Arc<dyn Store>, queue: Arc<dyn Queue>, operators: usize) -> World {
        let clock = Arc::new(FixedClock::new(NOW.parse().unwrap()));
        let app = App::new(store, queue, registry_testkit::app::config()).with_clock(clock.clone());
        let mut tokens = Vec::new();
        let mut ids = Vec::new();
        for n in 0..operators {
            let (op, token) =
                registry_testkit::app::operator_with_token(&app, &format!("op{n}"), None).await;
            tokens.push(token);
            ids.push(op);
        }
        World {
            app,
            clock,
            tokens,
            operators: ids,
        }
    }

    async fn call(&self, op: usize, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        registry_testkit::api::call(&self.app, method, path, &self.tokens[op], body).await
    }

    /// Sends a journey and runs its processing (the queue consumer's task).
    async fn send(&self, op: usize, doc: Value) {
        let (s, body) = self.call(op, "POST", "/v2/journeys", Some(doc)).await;
        assert_eq!(s, 201, "{body}");
        self.process().await;
    }

    async fn process(&self) {
        registry_testkit::app::run_queued(&self.app, self.app.queue.as_ref()).await;
    }

    async fn journey(&self, op: usize, id: &str) -> Value {
        let (s, body) = self
            .call(op, "GET", &format!("/v2/journeys/{id}"), None)
            .await;
        assert_eq!(s, 200, "{body}");
        body
    }

    /// (status, fraud_labels) of a journey.
    async fn verdict(&self, op: usize, id: &str) -> (String, Vec<String>) {
        let j = self.journey(op, id).await;
        let labels = j["fraud_labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap().to_owned())
            .collect();
        (j["status"].as_str().unwrap().to_owned(), labels)
    }

    async fn pass(&self, since: Option<&str>) -> RunRecord {
        let since = since.map(|s| s.parse().unwrap());
        fraud::run_here(&self.app, since, 2, Arc::new(|_: &fraud::UnitReport| {}))
            .await
            .unwrap()
    }
}

fn phone(n: u32) -> String {
    format!("+336{n:08}")
}

/// A journey of passenger `p` with driver `d` (phone numbers by index), both from `start`
/// to `end` (UTC), from `from` to `to` (latitude, longitude).
fn trip(id: &str, p: u32, d: u32, start: &str, end: &str) -> Value {
    let now = NOW.parse().unwrap();
    let mut doc = registry_core::domain::journey::example_document(id, now);
    doc["operator_journey_id"] = json!(format!("ride-{id}"));
    for (role, n) in [("passenger", p), ("driver", d)] {
        doc[role]["identity"] = json!({"phone": phone(n)});
        doc[role]["start"] = json!({"datetime": start, "lat": 48.8566, "lon": 2.3522});
        doc[role]["end"] = json!({"datetime": end, "lat": 48.8049, "lon": 2.1204});
    }
    doc
}

fn ok() -> (String, Vec<String>) {
    ("ok".into(), vec![])
}

fn flagged(labels: &[&str]) -> (String, Vec<String>) {
    (
        "fraud_error".into(),
        labels.iter().map(|l| l.to_string()).collect(),
    )
}

/// The scenario every store runs: the four labels across operators, each with a pair on
/// the other side of its threshold; then a rerun that writes nothing.
async fn labels_across_operators(w: &World) {
    // temporal_overlap: passenger 1 on op0 and op1, 70 % in common (100-minute trips).
    w.send(
        0,
        trip(
            "ov-a",
            1,
            100,
            "2026-11-20T08:00:00Z",
            "2026-11-20T09:40:00Z",
        ),
    )
    .await;
    w.send(
        1,
        trip(
            "ov-b",
            1,
            101,
            "2026-11-20T08:30:00Z",
            "2026-11-20T10:10:00Z",
        ),
    )
    .await;
    // ... and passenger 2: one second less in common (69.98 %).
    w.send(
        0,
        trip(
            "ov-c",
            2,
            102,
            "2026-11-20T08:00:00Z",
            "2026-11-20T09:40:00Z",
        ),
    )
    .await;
    w.send(
        1,
        trip(
            "ov-d",
            2,
            103,
            "2026-11-20T08:30:01Z",
            "2026-11-20T10:10:01Z",
        ),
    )
    .await;

    // interchangeable_roles: person 3 drives on op0 and rides on op1 at the same time.
    w.send(
        0,
        trip(
            "ir-a",
            104,
            3,
            "2026-11-21T08:00:00Z",
            "2026-11-21T09:00:00Z",
        ),
    )
    .await;
    w.send(
        1,
        trip(
            "ir-b",
            3,
            105,
            "2026-11-21T08:59:00Z",
            "2026-11-21T09:30:00Z",
        ),
    )
    .await;
    // ... person 4 rides from the moment the drive ended: two trips in a row.
    w.send(
        0,
        trip(
            "ir-c",
            106,
            4,
            "2026-11-21T08:00:00Z",
            "2026-11-21T09:00:00Z",
        ),
    )
    .await;
    let mut ird = trip(
        "ir-d",
        4,
        107,
        "2026-11-21T09:00:00Z",
        "2026-11-21T09:30:00Z",
    );
    // ... from where the drive ended.
    ird["passenger"]["start"] =
        json!({"datetime": "2026-11-21T09:00:00Z", "lat": 48.8049, "lon": 2.1204});
    ird["passenger"]["end"] =
        json!({"datetime": "2026-11-21T09:30:00Z", "lat": 48.8566, "lon": 2.3522});
    w.send(1, ird).await;

    // too_close_trips: passenger 5 ends near Paris, starts 20 min later 70 km south
    // (210 km/h); passenger 6 only 65 km south (195 km/h).
    for (p, km, a, b) in [(5, 70.0, "tc-a", "tc-b"), (6, 65.0, "tc-c", "tc-d")] {
        w.send(
            0,
            trip(
                a,
                p,
                100 + 2 * p,
                "2026-11-22T08:00:00Z",
                "2026-11-22T09:00:00Z",
            ),
        )
        .await;
        let mut second = trip(
            b,
            p,
            101 + 2 * p,
            "2026-11-22T09:20:00Z",
            "2026-11-22T10:30:00Z",
        );
        let lat = 48.8049 - km / 111.195_08;
        second["passenger"]["start"] =
            json!({"datetime": "2026-11-22T09:20:00Z", "lat": lat, "lon": 2.1204});
        second["passenger"]["end"] =
            json!({"datetime": "2026-11-22T10:30:00Z", "lat": lat - 0.3, "lon": 2.1204});
        second["passenger"]["distance"] = json!(40_000);
        w.send(1, second).await;
    }

    // too_many_trips_by_day: passenger 7 five times on the 23rd (Paris), passenger 8 four.
    for (p, n) in [(7, 5), (8, 4)] {
        for i in 0..n {
            let h = 6 + 3 * i;
            w.send(
                i % 2,
                trip(
                    &format!("tm-{p}-{i}"),
                    p,
                    120 + 10 * p + i as u32,
                    &format!("2026-11-23T{h:02}:00:00Z"),
                    &format!("2026-11-23T{h:02}:30:00Z"),
                ),
            )
            .await;
        }
    }

    let run = w.pass(None).await;
    assert!(run.header.finished_at.is_some());
    assert_eq!(
        (
            run.header.first_day.to_string(),
            run.header.last_day.to_string()
        ),
        ("2026-11-17".into(), "2026-11-24".into())
    );

    assert_eq!(w.verdict(0, "ov-a").await, flagged(&["temporal_overlap"]));
    assert_eq!(w.verdict(1, "ov-b").await, flagged(&["temporal_overlap"]));
    assert_eq!(w.verdict(0, "ov-c").await, ok());
    assert_eq!(w.verdict(1, "ov-d").await, ok());
    assert_eq!(
        w.verdict(0, "ir-a").await,
        flagged(&["interchangeable_roles"])
    );
    assert_eq!(
        w.verdict(1, "ir-b").await,
        flagged(&["interchangeable_roles"])
    );
    assert_eq!(w.verdict(0, "ir-c").await, ok());
    assert_eq!(w.verdict(1, "ir-d").await, ok());
    assert_eq!(w.verdict(0, "tc-a").await, flagged(&["too_close_trips"]));
    assert_eq!(w.verdict(1, "tc-b").await, flagged(&["too_close_trips"]));
    assert_eq!(w.verdict(0, "tc-c").await, ok());
    assert_eq!(w.verdict(1, "tc-d").await, ok());
    for i in 0..5 {
        assert_eq!(
            w.verdict(i % 2, &format!("tm-7-{i}")).await,
            flagged(&["too_many_trips_by_day"])
        );
    }
    for i in 0..4 {
        assert_eq!(w.verdict(i % 2, &format!("tm-8-{i}")).await, ok());
    }
    let count = |l: &str| run.totals.labels.get(l).copied().unwrap_or(0);
    assert_eq!(count("temporal_overlap"), 2);
    assert_eq!(count("interchangeable_roles"), 2);
    assert_eq!(count("too_close_trips"), 2);
    assert_eq!(count("too_many_trips_by_day"), 5);
    assert_eq!(run.totals.flagged, 11);
    assert_eq!(run.totals.written, 11);
    // 21 journeys, two people each.
    assert_eq!(run.totals.evidence, 42);

    // A rerun (a later time, the same days) finds the same and writes nothing.
    let before = w.journey(0, "ov-a").await;
    w.clock.advance(chrono::TimeDelta::hours(1));
    let again = w.pass(None).await;
    assert_eq!(again.totals.written, 0);
    assert_eq!(again.totals.labels, run.totals.labels);
    assert_ne!(again.header.run_id, run.header.run_id);
    assert_eq!(
        w.journey(0, "ov-a").await,
        before,
        "not even updated_at changes"
    );
    let last = fraud::last_run(&w.app).await.unwrap().unwrap();
    assert_eq!(last.header.run_id, again.header.run_id);
    assert_eq!(last.totals, again.totals);
}

#[tokio::test]
async fn labels_across_operators_on_memory() {
    let w = World::new(
        Arc::new(MemoryStore::new()),
        Arc::new(MemoryQueue::default()),
        2,
    )
    .await;
    labels_across_operators(&w).await;
}

#[tokio::test]
async fn labels_across_operators_on_sqlite() {
    let (store, _dir) = sqlite_store();
    let queue = store.queue(5);
    let w = World::new(Arc::new(store), Arc::new(queue), 2).await;
    labels_across_operators(&w).await;
}

async fn memory_world() -> World {
    World::new(
        Arc::new(MemoryStore::new()),
        Arc::new(MemoryQueue::default()),
        2,
    )
    .await
}

#[tokio::test]
async fn a_late_journey_is_still_compared_with_its_neighbours() {
    let w = memory_world().await;
    w.send(
        0,
        trip(
            "early",
            1,
            50,
            "2026-11-21T08:00:00Z",
            "2026-11-21T09:00:00Z",
        ),
    )
    .await;
    w.pass(None).await;
    assert_eq!(w.verdict(0, "early").await, ok());
    // A day later (99 h after its end, within the 120 h), the same ride from another
    // operator: the next daily pass compares it with the journey already judged.
    w.clock.advance(chrono::TimeDelta::days(1));
    w.send(
        1,
        trip(
            "late",
            1,
            51,
            "2026-11-21T08:10:00Z",
            "2026-11-21T09:00:00Z",
        ),
    )
    .await;
    assert_eq!(w.verdict(1, "late").await, ok());
    let run = w.pass(None).await;
    assert_eq!(run.totals.written, 2);
    assert_eq!(w.verdict(0, "early").await, flagged(&["temporal_overlap"]));
    assert_eq!(w.verdict(1, "late").await, flagged(&["temporal_overlap"]));
}

#[tokio::test]
async fn overlapping_windows_change_nothing_the_second_time() {
    let w = memory_world().await;
    w.send(
        0,
        trip("a", 1, 50, "2026-11-22T08:00:00Z", "2026-11-22T09:00:00Z"),
    )
    .await;
    w.send(
        1,
        trip("b", 1, 51, "2026-11-22T08:00:00Z", "2026-11-22T09:00:00Z"),
    )
    .await;
    // Cross-midnight in Paris: 23:50 and 00:05 local (UTC+1), 15 minutes apart, 80 km off.
    w.send(
        0,
        trip("c", 2, 52, "2026-11-22T21:00:00Z", "2026-11-22T22:50:00Z"),
    )
    .await;
    let mut d = trip("d", 2, 53, "2026-11-22T23:05:00Z", "2026-11-22T23:55:00Z");
    d["passenger"]["start"]["lat"] = json!(48.8049 - 80.0 / 111.195);
    d["passenger"]["end"]["lat"] = json!(48.8049 - 80.0 / 111.195 - 0.3);
    d["passenger"]["distance"] = json!(40_000);
    w.send(1, d).await;

    let first = w.pass(Some("2026-11-21")).await;
    assert_eq!(first.totals.written, 4);
    assert_eq!(w.verdict(0, "c").await, flagged(&["too_close_trips"]));
    assert_eq!(w.verdict(1, "d").await, flagged(&["too_close_trips"]));
    // Starting on the day after: journey "d" (Paris day 23rd) judged again, "c" only seen.
    let second = w.pass(Some("2026-11-23")).await;
    assert_eq!(second.totals.written, 0);
    assert_eq!(second.totals.labels.get("too_close_trips"), Some(&1));
    let third = w.pass(None).await;
    assert_eq!(third.totals.written, 0);
    assert_eq!(third.totals.flagged, 4);
}

/// Entries of a journey in its persons' certificate trip indexes (only `ok` journeys).
async fn listed(w: &World, op: usize, id: &str) -> usize {
    let operator = registry_core::domain::operator::OperatorId(op as u64 + 1);
    let item = w
        .app
        .store
        .get(&keys::journey(operator, id))
        .await
        .unwrap()
        .unwrap();
    let mut n = 0;
    for role in ["passenger_key", "driver_key"] {
        let pk = keys::person_trips(operator, item.s(role).unwrap());
        n += w
            .app
            .store
            .query(Query::partition(pk).limit(100))
            .await
            .unwrap()
            .items
            .iter()
            .filter(|i| i.key.sk.ends_with(&format!("#{id}")))
            .count();
    }
    n
}

#[tokio::test]
async fn a_canceled_journey_is_no_evidence_against_others() {
    let w = memory_world().await;
    w.send(
        0,
        trip(
            "kept",
            1,
            50,
            "2026-11-20T08:00:00Z",
            "2026-11-20T09:00:00Z",
        ),
    )
    .await;
    w.send(
        1,
        trip("dup", 1, 51, "2026-11-20T08:00:00Z", "2026-11-20T09:00:00Z"),
    )
    .await;
    assert_eq!(
        listed(&w, 0, "kept").await,
        2,
        "ok: in both persons' trip indexes"
    );
    w.pass(None).await;
    assert_eq!(w.verdict(0, "kept").await, flagged(&["temporal_overlap"]));
    assert_eq!(
        listed(&w, 0, "kept").await,
        0,
        "fraud_error: out of certificates"
    );

    // The second operator invalidates its copy: its evidence goes with the cancellation ...
    let (s, _) = w
        .call(
            1,
            "DELETE",
            "/v2/journeys/dup",
            Some(json!({"code": "duplicate"})),
        )
        .await;
    assert_eq!(s, 200);
    let mut evidence = 0;
    for shard in 0..keys::FRAUD_SHARDS {
        let pk = keys::fraud_partition("2026-11-20".parse().unwrap(), shard);
        evidence += w
            .app
            .store
            .query(Query::partition(pk).limit(100))
            .await
            .unwrap()
            .items
            .len();
    }
    assert_eq!(
        evidence, 2,
        "only the kept journey's passenger and driver remain"
    );

    // ... and the next pass clears the journey it was the only evidence against.
    let run = w.pass(None).await;
    assert_eq!(run.totals.written, 1);
    assert_eq!(w.verdict(0, "kept").await, ok());
    assert_eq!(
        listed(&w, 0, "kept").await,
        2,
        "ok again: back in certificates"
    );
    assert_eq!(w.verdict(1, "dup").await.0, "canceled");
    assert_eq!(w.pass(None).await.totals.written, 0);

    // Canceled before any pass: never evidence at all.
    w.send(
        1,
        trip(
            "dup2",
            1,
            52,
            "2026-11-20T08:00:00Z",
            "2026-11-20T09:00:00Z",
        ),
    )
    .await;
    w.call(1, "DELETE", "/v2/journeys/dup2", None).await;
    assert_eq!(w.pass(None).await.totals.written, 0);
    assert_eq!(w.verdict(0, "kept").await, ok());
}

/// Processing writes a journey's evidence just before its status: a pass that meets it in
/// between counts it against others but leaves the pending journey itself to the next pass
/// (a label written now would be overwritten by the status processing sets).
#[tokio::test]
async fn a_journey_still_pending_is_judged_by_the_next_pass() {
    let w = memory_world().await;
    w.send(
        0,
        trip(
            "kept",
            1,
            50,
            "2026-11-20T08:00:00Z",
            "2026-11-20T09:00:00Z",
        ),
    )
    .await;
    let dup = trip("dup", 1, 51, "2026-11-20T08:00:00Z", "2026-11-20T09:00:00Z");
    let (s, body) = w.call(1, "POST", "/v2/journeys", Some(dup)).await;
    assert_eq!(s, 201, "{body}");
    // Its evidence written, its status not yet.
    let item = w
        .app
        .store
        .get(&keys::journey(w.operators[1], "dup"))
        .await
        .unwrap()
        .unwrap();
    let record = JourneyRecord::from_item(&item);
    let facts = record.facts().unwrap();
    for evidence in fraud::evidence::items_for(&record, &facts) {
        w.app.store.put(evidence, None).await.unwrap();
    }

    w.pass(None).await;
    assert_eq!(w.verdict(0, "kept").await, flagged(&["temporal_overlap"]));
    assert_eq!(
        w.verdict(1, "dup").await,
        ("pending".to_owned(), Vec::new())
    );

    w.process().await;
    assert_eq!(w.verdict(1, "dup").await, ok());
    w.pass(None).await;
    assert_eq!(w.verdict(1, "dup").await, flagged(&["temporal_overlap"]));
    assert_eq!(
        listed(&w, 1, "dup").await,
        0,
        "fraud_error: out of certificates"
    );
}

#[tokio::test]
async fn journeys_without_coordinates_are_skipped_by_the_distance_rule_only() {
    let w = memory_world().await;
    w.send(
        0,
        trip("a", 1, 50, "2026-11-20T08:00:00Z", "2026-11-20T09:00:00Z"),
    )
    .await;
    // Ten minutes later, positions by INSEE code only: the distance cannot be judged.
    let mut b = trip("b", 1, 51, "2026-11-20T09:10:00Z", "2026-11-20T10:00:00Z");
    for role in ["passenger", "driver"] {
        b[role]["start"] = json!({"datetime": "2026-11-20T09:10:00Z", "insee": "13055"});
        b[role]["end"] = json!({"datetime": "2026-11-20T10:00:00Z", "insee": "13001"});
    }
    w.send(1, b).await;
    // An evidence item that cannot be read (none should exist): skipped and logged.
    let garbage = registry_core::store::Item::new(registry_core::store::Key::new(
        keys::fraud_partition("2026-11-20".parse().unwrap(), 3),
        "not-an-evidence-key",
    ))
    .with("role", "pilot");
    w.app.store.put(garbage, None).await.unwrap();
    let run = w.pass(None).await;
    assert_eq!(run.totals.skipped, 1);
    assert_eq!(run.totals.without_coordinates, 2);
    assert_eq!(run.totals.flagged, 0);
    assert_eq!(w.verdict(1, "b").await, ok());
}

#[tokio::test]
async fn an_anomaly_keeps_its_status_and_shows_its_fraud_labels() {
    let w = memory_world().await;
    // Declared 1 km: distance_too_short, status anomaly_error; the overlap is still found.
    let mut short = trip(
        "short",
        1,
        50,
        "2026-11-20T08:00:00Z",
        "2026-11-20T09:00:00Z",
    );
    short["passenger"]["distance"] = json!(1_000);
    w.send(0, short).await;
    w.send(
        1,
        trip(
            "other",
            1,
            51,
            "2026-11-20T08:00:00Z",
            "2026-11-20T09:00:00Z",
        ),
    )
    .await;
    w.pass(None).await;
    let j = w.journey(0, "short").await;
    assert_eq!(j["status"], "anomaly_error");
    assert_eq!(j["fraud_labels"], json!(["temporal_overlap"]));
    assert_eq!(w.verdict(1, "other").await, flagged(&["temporal_overlap"]));
}

#[tokio::test]
async fn since_after_today_is_refused() {
    let w = memory_world().await;
    let err = fraud::run_here(
        &w.app,
        Some("2026-11-25".parse().unwrap()),
        1,
        Arc::new(|_: &fraud::UnitReport| {}),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("after today"), "{err}");
}

/// On the production adapters: the `fraud-pass` Lambda handler fans the run out to SQS,
/// the queue consumer's handler runs every unit, the last one completes the run.
#[tokio::test]
async fn fan_out_through_sqs_on_dynamodb() {
    let store = dynamodb_store("fraud").await;
    let queue = sqs_queue("fraud", 5)
        .await
        .with_wait(Duration::from_secs(1));
    let w = World::new(Arc::new(store), Arc::new(queue), 2).await;
    w.send(
        0,
        trip("a", 1, 50, "2026-11-24T08:00:00Z", "2026-11-24T09:00:00Z"),
    )
    .await;
    w.send(
        1,
        trip("b", 1, 51, "2026-11-24T08:15:00Z", "2026-11-24T09:00:00Z"),
    )
    .await;
    w.send(
        1,
        trip("c", 2, 52, "2026-11-24T08:15:00Z", "2026-11-24T09:00:00Z"),
    )
    .await;

    let started = registry_core::lambda::handle_fraud_pass(
        &w.app,
        json!({"detail": {"since": "2026-11-24"}}),
    )
    .await
    .unwrap();
    let run_id = started["run_id"].as_str().unwrap().to_owned();
    assert_eq!(started["units"], json!(keys::FRAUD_SHARDS));
    let mut handled = 0;
    loop {
        let deliveries = w
            .app
            .queue
            .receive(10, Duration::from_secs(60))
            .await
            .unwrap();
        if deliveries.is_empty() {
            break;
        }
        let event = registry_testkit::api::sqs_event(
            deliveries
                .iter()
                .map(|d| (d.receipt.clone(), d.body.clone())),
        );
        let response = registry_core::lambda::handle_sqs(&w.app, event).await;
        assert!(response.batch_item_failures.is_empty());
        for d in &deliveries {
            w.app.queue.ack(&d.receipt).await.unwrap();
        }
        handled += deliveries.len();
    }
    assert_eq!(handled, keys::FRAUD_SHARDS as usize);
    let run = fraud::read_run(&w.app, &run_id).await.unwrap().unwrap();
    assert!(run.header.finished_at.is_some(), "{run:?}");
    assert_eq!(run.totals.written, 2);
    assert_eq!(w.verdict(0, "a").await, flagged(&["temporal_overlap"]));
    assert_eq!(w.verdict(1, "b").await, flagged(&["temporal_overlap"]));
    assert_eq!(w.verdict(1, "c").await, ok());

    // A unit delivered again (SQS is at-least-once) writes and counts nothing more.
    let a = keys::journey(registry_core::domain::operator::OperatorId(1), "a");
    let a = w.app.store.get(&a).await.unwrap().unwrap();
    let unit = fraud::Unit {
        shard: keys::fraud_shard(a.s("passenger_key").unwrap()),
        first_day: "2026-11-24".parse().unwrap(),
        last_day: "2026-11-24".parse().unwrap(),
    };
    assert!(fraud::run_unit(&w.app, &run_id, &unit)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        fraud::read_run(&w.app, &run_id).await.unwrap().unwrap(),
        run
    );

    // Canceling deletes the evidence in the cancellation's transaction on DynamoDB too; the
    // next pass (run in process, as `registry jobs fraud-pass` runs it) clears the other.
    let (s, _) = w.call(1, "DELETE", "/v2/journeys/b", None).await;
    assert_eq!(s, 200);
    let again = w.pass(Some("2026-11-24")).await;
    assert_eq!(again.totals.written, 1);
    assert_eq!(w.verdict(0, "a").await, ok());
}
