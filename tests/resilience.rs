//! Nothing accepted is lost, nothing is processed twice: every queue task delivered twice
//! and out of order ends in the state of a single delivery; `registry serve` killed with
//! SIGKILL under load, again and again, keeps every journey it answered 201 and processes
//! each exactly once.
//!
//! The crash test's length comes from the environment (defaults: the short run of
//! tests/run.sh). A longer run, documented in docs/OPERATIONS.md:
//! `CRASH_KILLS=30 CRASH_SENDERS=16 cargo test -p registry-local --test resilience crash -- --nocapture`

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use registry_core::app::App;
use registry_core::campaigns::monthly;
use registry_core::clock::FixedClock;
use registry_core::config::Config;
use registry_core::jobs::{self, fraud, Task};
use registry_core::queue::Queue;
use registry_core::store::{sqlite::SqliteStore, Item, Scan, Store};
use serde_json::{json, Value};
use support::*;

// ---------------------------------------------------------------- redelivery

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

fn open(path: &Path, now: chrono::DateTime<chrono::Utc>) -> App {
    let store = SqliteStore::open(path).expect("open store");
    let queue = store.queue(5);
    let config = Config {
        db_path: path.to_owned(),
        // Small shards: the monthly run of a few journeys is split as a big one is.
        monthly_shard_drafts: 4,
        ..Config::default()
    };
    App::new(Arc::new(store), Arc::new(queue), config).with_clock(Arc::new(FixedClock::new(now)))
}

/// A consistent copy of a store file (items and queue), taken through SQLite itself.
fn copy_store(from: &Path, to: &Path) {
    let conn = rusqlite::Connection::open(from).expect("open for copy");
    conn.execute("VACUUM INTO ?1", [to.to_str().expect("utf-8 path")])
        .expect("VACUUM INTO");
}

/// Every item of the store, in key order.
async fn contents(store: &dyn Store) -> Vec<Item> {
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .scan(Scan {
                segment: 0,
                total_segments: 1,
                limit: 1000,
                cursor,
            })
            .await
            .expect("scan");
        items.extend(page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    items.sort_by(|a, b| a.key.cmp(&b.key));
    items
}

/// Runs every queued message once in queue order, or twice, round after round until the
/// queue is empty (a task may send others). Twice: in the same order of first deliveries
/// (processing order legitimately matters: draft incentives are computed with provisional
/// counters, campaigns.md "Draft"), the even-numbered messages with their duplicate
/// racing them, the odd-numbered ones duplicated late, after all the others, in reverse
/// order. Returns how many distinct messages of each kind there were (a task delivered
/// twice may send its follow-up twice: the same message).
async fn deliver(app: &App, twice: bool) -> BTreeMap<&'static str, usize> {
    let mut kinds: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    loop {
        let deliveries = app
            .queue
            .receive(100_000, Duration::from_secs(3600))
            .await
            .expect("receive");
        if deliveries.is_empty() {
            break;
        }
        for d in &deliveries {
            let task = Task::from_body(&d.body).expect("a task");
            kinds.entry(kind(&task)).or_default().insert(d.body.clone());
        }
        let mut late = Vec::new();
        for (i, d) in deliveries.iter().enumerate() {
            if !twice {
                jobs::run(app, &d.body).await.expect("single delivery");
            } else if i % 2 == 0 {
                let (a, b) = tokio::join!(jobs::run(app, &d.body), jobs::run(app, &d.body));
                a.and(b).expect("racing deliveries");
            } else {
                jobs::run(app, &d.body).await.expect("first delivery");
                late.push(d);
            }
        }
        for d in late.into_iter().rev() {
            jobs::run(app, &d.body).await.expect("late delivery");
        }
        for d in &deliveries {
            app.queue.ack(&d.receipt).await.expect("ack");
        }
    }
    kinds.into_iter().map(|(k, v)| (k, v.len())).collect()
}

/// Delivers what `base` holds once in one copy and twice out of order in another; the two
/// stores must end identical. Returns the single-delivery copy (the base of the next step).
async fn once_and_twice(
    dir: &Path,
    base: &Path,
    step: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> (App, BTreeMap<&'static str, usize>) {
    let (one, two) = (
        dir.join(format!("{step}-once.db")),
        dir.join(format!("{step}-twice.db")),
    );
    copy_store(base, &one);
    copy_store(base, &two);
    let (once, twice) = (open(&one, now), open(&two, now));
    let kinds = deliver(&once, false).await;
    assert_eq!(deliver(&twice, true).await, kinds);
    let (a, b) = (
        contents(once.store.as_ref()).await,
        contents(twice.store.as_ref()).await,
    );
    assert_eq!(a.len(), b.len(), "{step}: item counts differ");
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y, "{step}: single and double delivery differ");
    }
    (once, kinds)
}

async fn post(app: &App, token: &str, path: &str, body: &Value) -> (u16, Value) {
    let request = http::Request::builder()
        .method("POST")
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Bytes::from(body.to_string()))
        .expect("request");
    let response = registry_core::api::handle(app, request, None, None).await;
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_slice(response.body()).unwrap_or(Value::Null),
    )
}

async fn operator_token(app: &App) -> String {
    let op = registry_core::admin::create_operator(app, "Covoit".into(), None)
        .await
        .expect("operator");
    let request = registry_core::admin::TokenRequest {
        name: "backend".into(),
        role: registry_core::domain::token::RoleKind::Application,
        operator: Some(op.id),
        permissions: None,
        territory: None,
    };
    registry_core::admin::create_token(app, request)
        .await
        .expect("token")
        .token
}

#[tokio::test]
async fn every_task_delivered_twice_out_of_order_ends_as_single_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let now = chrono::Utc::now();
    let base = dir.path().join("base.db");
    let app = open(&base, now);
    let (first, second) = (operator_token(&app).await, operator_token(&app).await);
    // A campaign paying both people of trips around Paris, at most 2 trips a day per
    // person: processing drafts incentives, and the cap makes their order matter.
    let admin = registry_core::admin::bootstrap(&app)
        .await
        .expect("bootstrap")
        .expect("first admin")
        .token;
    let today = now.date_naive();
    let campaign = json!({
        "id": "paris-test", "name": "Paris test", "territory_name": "Paris area", "territory_id": "paris",
        "start": (today - chrono::Days::new(10)).to_string(),
        "end": (today + chrono::Days::new(30)).to_string(),
        "time_zone": "Europe/Paris",
        "territory": {"rule": "start_or_end", "geojson": {"type": "Polygon", "coordinates": [[
            [1.95, 48.70], [2.55, 48.70], [2.55, 48.98], [1.95, 48.98], [1.95, 48.70]]]}},
        "distance": {"min": 2000, "max": 150000},
        "pays": ["driver", "passenger"],
        "amount": {"mode": "sum_of_bands", "per_seat": true,
                   "bands": [{"from": 2000, "fixed": 100}, {"from": 0, "to": 100000, "per_km": 1}]},
        "caps": [{"kind": "trips", "per": "day", "max": 2}]
    });
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
    drop(app);

    // Processing of the accepted journeys.
    let (processed, kinds) = once_and_twice(dir.path(), &base, "process", now).await;
    assert_eq!(kinds, BTreeMap::from([("process_journey", docs.len())]));
    let items = contents(processed.store.as_ref()).await;
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
    drop(processed);
    let base = dir.path().join("process-once.db");
    let (paid, kinds) = once_and_twice(dir.path(), &base, "monthly", later).await;
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
    drop(processed);
    let base = dir.path().join("monthly-once.db");
    let (judged, kinds) = once_and_twice(dir.path(), &base, "fraud", now).await;
    assert_eq!(kinds, BTreeMap::from([("fraud_unit", run.units as usize)]));
    let record = fraud::read_run(&judged, &run.run_id)
        .await
        .unwrap()
        .expect("run");
    assert!(record.finished_at.is_some(), "{record:?}");
    let flagged: Vec<Item> = contents(judged.store.as_ref())
        .await
        .into_iter()
        .filter(|i| i.key.sk == "JOURNEY" && i.s("journey_id") == Some("dup"))
        .collect();
    assert_eq!(flagged.len(), 2);
    for j in &flagged {
        assert_eq!(j.s("status"), Some("fraud_error"), "{j:?}");
    }
}

// ---------------------------------------------------------------- crash

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small deterministic generator (xorshift): the seed is printed so a failure can be rerun.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

#[derive(Default)]
struct Outcomes {
    /// Answered 201 (or 200: a retry of one stored before).
    accepted: BTreeSet<String>,
    /// No answer (the server died during the request): maybe stored, retried later.
    unknown: BTreeSet<String>,
}

/// Sends journeys until the server stops answering; `retry` first (ids with no answer in
/// an earlier round, as a client would retry them).
async fn send_until_dead(
    base: String,
    token: String,
    sender: u64,
    round: u64,
    retry: Vec<String>,
    outcomes: Arc<Mutex<Outcomes>>,
) {
    let client = client();
    let fresh = (0..).map(|n| format!("c-{round}-{sender}-{n}"));
    for id in retry.into_iter().chain(fresh) {
        let sent = client
            .post(format!("{base}/v2/journeys"))
            .bearer_auth(&token)
            .json(&journey(&id))
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        let mut o = outcomes.lock().unwrap();
        match sent.map(|r| r.status().as_u16()) {
            Ok(200 | 201) => {
                o.unknown.remove(&id);
                o.accepted.insert(id);
            }
            Ok(other) => panic!("journey {id}: status {other}"),
            Err(_) => {
                if !o.accepted.contains(&id) {
                    o.unknown.insert(id);
                }
                return;
            }
        }
    }
}

fn journeys_in(items: &[Item]) -> BTreeMap<String, &Item> {
    items
        .iter()
        .filter(|i| i.key.sk == "JOURNEY")
        .filter_map(|i| Some((i.s("journey_id")?.to_owned(), i)))
        .collect()
}

#[tokio::test]
async fn crash_kill_9_under_load_loses_nothing_and_processes_once() {
    let kills = env_number("CRASH_KILLS", 4);
    let senders = env_number("CRASH_SENDERS", 8);
    let seed = env_number(
        "CRASH_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            | 1,
    );
    eprintln!("crash test: {kills} kills, {senders} senders, CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let data = data_file(&dir);
    // A message the worker held when killed is delivered again after its visibility timeout.
    let env = [
        ("REGISTRY_VISIBILITY_SECS", "1"),
        ("REGISTRY_RATE_LIMIT_PER_MIN", "1000000"),
    ];
    let server = Server::start(&data, &env);
    let (_, token) = operator_with_token(&server, None).await;
    let outcomes = Arc::new(Mutex::new(Outcomes::default()));
    let mut server = Some(server);
    for round in 0..kills {
        let running = server.take().unwrap_or_else(|| Server::start(&data, &env));
        let retry: Vec<String> = outcomes.lock().unwrap().unknown.iter().cloned().collect();
        let mut load = tokio::task::JoinSet::new();
        for sender in 0..senders {
            let mine = retry
                .iter()
                .skip(sender as usize)
                .step_by(senders as usize)
                .cloned()
                .collect();
            load.spawn(send_until_dead(
                running.base.clone(),
                token.clone(),
                sender,
                round,
                mine,
                outcomes.clone(),
            ));
        }
        // Killed at a random moment of the load (mid-request, mid-transaction, mid-task),
        // once it is under way: the first requests of a process are slow (lazy data).
        let before = outcomes.lock().unwrap().accepted.len();
        for _ in 0..200 {
            if outcomes.lock().unwrap().accepted.len() > before {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(rng.below(1200))).await;
        running.kill();
        while let Some(done) = load.join_next().await {
            if let Err(e) = done {
                std::panic::resume_unwind(e.into_panic());
            }
        }
        let o = outcomes.lock().unwrap();
        eprintln!(
            "round {round}: killed; {} accepted so far, {} without answer",
            o.accepted.len(),
            o.unknown.len()
        );
    }

    // Restarted on the same file: the clients retry what got no answer (stored or not,
    // the answer is now 201 or 200), then everything accepted must get processed.
    let server = Server::start(&data, &env);
    let retry: Vec<String> = outcomes.lock().unwrap().unknown.iter().cloned().collect();
    let mut accepted = outcomes.lock().unwrap().accepted.clone();
    for id in retry {
        let s = status(
            reqwest::Method::POST,
            &server.url("/v2/journeys"),
            Some(&token),
            Some(journey(&id)),
        )
        .await;
        assert!(s == 200 || s == 201, "retry of {id}: {s}");
        accepted.insert(id);
    }
    let reader = SqliteStore::open(&data).expect("open the server's file");
    let mut pending = accepted.len();
    for _ in 0..600 {
        let items = contents(&reader).await;
        let journeys = journeys_in(&items);
        pending = accepted
            .iter()
            .filter(|id| journeys.get(*id).and_then(|j| j.s("status")) != Some("ok"))
            .count();
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(pending, 0, "accepted journeys never processed");
    // The status route agrees (a sample: one in 25).
    for id in accepted.iter().step_by(25) {
        let (s, _, body) = call(
            reqwest::Method::GET,
            &server.url(&format!("/v2/journeys/{id}")),
            Some(&token),
            None,
        )
        .await;
        assert_eq!((s, body["status"].as_str()), (200, Some("ok")), "{id}");
    }
    // Redeliveries of messages held at a kill are acknowledged as no-ops; then a clean stop.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let pid = server.child.id().to_string();
    let stopped = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill -TERM");
    assert!(stopped.success());
    let mut server = server;
    assert!(server.child.wait().expect("wait").success());

    let items = contents(&reader).await;
    let journeys = journeys_in(&items);
    let stored: BTreeSet<String> = journeys.keys().cloned().collect();
    assert_eq!(
        stored, accepted,
        "stored journeys differ from the accepted ones"
    );
    let keys: BTreeSet<_> = items.iter().map(|i| &i.key).collect();
    for (id, j) in &journeys {
        assert_eq!(j.s("status"), Some("ok"), "{id}");
        assert_eq!(j.n("processings"), Some(1), "{id} processed more than once");
        let evidence = fraud::evidence::keys_of(j);
        assert_eq!(evidence.len(), 2, "{id}");
        assert!(evidence.iter().all(|k| keys.contains(k)), "{id}: evidence");
    }
    let queue = reader.queue(5);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let left = queue.receive(100, Duration::from_secs(1)).await.unwrap();
    assert!(left.is_empty(), "work left on the queue: {left:?}");
    let dead = queue.dead_letters(100).await.unwrap();
    assert!(dead.is_empty(), "dead letters: {dead:?}");
    eprintln!(
        "crash test: {kills} kills, {} journeys accepted, all stored once and processed once",
        accepted.len()
    );
}
