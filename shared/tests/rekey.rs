//! `registry jobs rekey` after a rotation of the hash secret, on every store adapter
//! (memory, SQLite in a real file, DynamoDB on moto): journeys sent through the API and
//! processed under secret A (evidence, trip index, drafts and draft counters of a
//! campaign), then the job run with current = B and previous = A.

use std::collections::BTreeMap;
use std::sync::Arc;

use registry_core::app::App;
use registry_core::clock::FixedClock;
use registry_core::config::Config;
use registry_core::domain::identity::keyed_hash;
use registry_core::domain::operator::OperatorId;
use registry_core::jobs::rekey::{self, Report};
use registry_core::queue::{memory::MemoryQueue, Queue};
use registry_core::records::keys;
use registry_core::store::{memory::MemoryStore, Item, Store};
use registry_testkit::app::{
    create_campaign, dynamodb_store, operators_with_tokens, sqlite_store, Interposed,
};
use registry_testkit::docs::campaign_2025;
use serde_json::{json, Value};
use tempfile::TempDir;

const NOW: &str = "2026-11-24T12:00:00Z";
const A: &str = "secret-a-0123456789abcdef0123456789abcdef";
const B: &str = "secret-b-fedcba9876543210fedcba9876543210";

struct World {
    store: Arc<dyn Store>,
    queue: Arc<dyn Queue>,
    clock: Arc<FixedClock>,
    ops: Vec<(OperatorId, String)>,
    _dir: Option<TempDir>,
}

impl World {
    async fn new(store: Arc<dyn Store>, queue: Arc<dyn Queue>, dir: Option<TempDir>) -> World {
        let mut w = World {
            store,
            queue,
            clock: Arc::new(FixedClock::new(NOW.parse().unwrap())),
            ops: Vec::new(),
            _dir: dir,
        };
        let app = w.app(A, None);
        w.ops = operators_with_tokens(&app, &["op0", "op1"], None).await;
        let campaign = campaign_2025(
            "rot",
            json!({"name": "rotation", "start": "2026-11-01", "end": "2026-12-31",
                   "time_zone": "UTC", "pays": ["driver", "passenger"], "caps": [
                {"kind": "trips", "per": "month", "max": 20},
                {"kind": "trips", "per": "day", "max": 6}
            ]}),
        );
        create_campaign(&app, &campaign).await;
        w
    }

    /// The registry deployed with these secrets, on the same table.
    fn app(&self, current: &str, previous: Option<&str>) -> App {
        let config = Config {
            hash_secret: current.into(),
            hash_secret_previous: previous.map(str::to_owned),
            ..Config::default()
        };
        App::new(self.store.clone(), self.queue.clone(), config).with_clock(self.clock.clone())
    }

    async fn call(
        &self,
        app: &App,
        op: usize,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        registry_testkit::api::call(app, method, path, &self.ops[op].1, body).await
    }

    /// Runs the queued tasks (journey processing) as the queue consumer does.
    async fn process(&self, app: &App) {
        registry_testkit::app::run_queued(app, self.queue.as_ref()).await;
    }

    async fn send(&self, app: &App, op: usize, doc: Value) {
        let (s, body) = self.call(app, op, "POST", "/v2/journeys", Some(doc)).await;
        assert_eq!(s, 201, "{body}");
    }

    async fn all_items(&self) -> Vec<Item> {
        let mut items = registry_core::store::scan_all(self.store.as_ref())
            .await
            .unwrap();
        // Request counters change with every call, not with the job.
        items.retain(|i| !i.key.pk.starts_with("RATE#"));
        items
    }

    /// The person's trips in a certificate issued now by operator `op`.
    async fn certificate_trips(&self, app: &App, op: usize, n: u32) -> u64 {
        let body = json!({
            "identity": {"phone": phone(n)},
            "tz": "Europe/Paris",
            "start_at": "2026-11-01T00:00:00+01:00",
            "end_at": "2026-11-24T00:00:00+01:00"
        });
        let (s, cert) = self
            .call(app, op, "POST", "/v2/certificates", Some(body))
            .await;
        assert_eq!(s, 201, "{cert}");
        cert["meta"]["total"]["trips"].as_u64().unwrap()
    }
}

fn phone(n: u32) -> String {
    format!("+336{n:08}")
}

/// The identity key of person `n` (a full phone number) under `secret`.
fn key(secret: &str, n: u32) -> String {
    keyed_hash(secret, &["phone", &phone(n)])
}

fn trip(id: &str, p: u32, d: u32, day: u32, hour: u32) -> Value {
    let now = NOW.parse().unwrap();
    let mut doc = registry_core::domain::journey::example_document(id, now);
    doc["operator_journey_id"] = json!(format!("ride-{id}"));
    let start = format!("2026-11-{day:02}T{hour:02}:00:00Z");
    let end = format!("2026-11-{day:02}T{hour:02}:40:00Z");
    for (role, n) in [("passenger", p), ("driver", d)] {
        doc[role]["identity"] = json!({"phone": phone(n)});
        doc[role]["start"] = json!({"datetime": start, "lat": 48.8566, "lon": 2.3522});
        doc[role]["end"] = json!({"datetime": end, "lat": 48.8049, "lon": 2.1204});
    }
    doc
}

/// Draft counters with a count, by key.
fn counters(items: &[Item]) -> BTreeMap<(String, String), (i64, i64)> {
    items
        .iter()
        .filter(|i| i.key.pk.starts_with("CTR#"))
        .map(|i| {
            let n = |a| i.n(a).unwrap_or(0);
            (
                (i.key.pk.clone(), i.key.sk.clone()),
                (n("trips"), n("amount")),
            )
        })
        .filter(|(_, v)| *v != (0, 0))
        .collect()
}

const PEOPLE: [u32; 5] = [1, 2, 3, 4, 5];

async fn rotation(w: World) {
    let old = w.app(A, None);
    // Passenger 1 with drivers 2 and 3 on both operators; passenger 4 with driver 2; a
    // journey canceled before the rotation; one still pending at the rotation.
    w.send(&old, 0, trip("j1", 1, 2, 20, 8)).await;
    w.send(&old, 1, trip("j2", 1, 3, 21, 8)).await;
    w.send(&old, 0, trip("j3", 4, 2, 21, 12)).await;
    w.send(&old, 0, trip("j4", 4, 3, 22, 9)).await;
    w.process(&old).await;
    let (s, body) = w
        .call(
            &old,
            0,
            "DELETE",
            "/v2/journeys/j4",
            Some(json!({"code": "dup"})),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    w.send(&old, 1, trip("j5", 5, 2, 22, 15)).await;
    assert_eq!(w.certificate_trips(&old, 0, 1).await, 1);

    let before = w.all_items().await;
    let old_counters = counters(&before);
    assert!(!old_counters.is_empty());
    let evidence_before = before
        .iter()
        .filter(|i| i.key.pk.starts_with("FRAUD#"))
        .count();
    assert_eq!(evidence_before, 6, "j1, j2, j3: two people each");

    // Deployed with B (previous A); j5 is processed by the new deployment from the keys
    // it was accepted with, after the first run.
    let new = w.app(B, Some(A));
    // Before the job, certificates find the person's trips under the previous key only.
    assert_eq!(w.certificate_trips(&new, 0, 1).await, 1);
    assert_eq!(w.certificate_trips(&w.app(B, None), 0, 1).await, 0);
    let first = rekey::run(&new, 4, 2).await.unwrap();
    assert_eq!(
        first,
        Report {
            journeys: 5,
            rekeyed: 4,
            pending: 1,
            evidence_moved: 6,
            trip_entries_moved: 6,
            // j1..j3: one draft per paid person; j4's two (canceled) drafts too.
            drafts_rekeyed: 8,
            counters_moved: first.counters_moved,
            ..Report::default()
        }
    );
    assert!(first.counters_moved > 0);
    w.process(&new).await;
    let second = rekey::run(&new, 3, 1).await.unwrap();
    assert_eq!(
        (
            second.rekeyed,
            second.current,
            second.pending,
            second.evidence_moved
        ),
        (1, 4, 0, 2)
    );

    let after = w.all_items().await;
    // Identity keys: as computed under B.
    for (op, id, p, d) in [
        (0, "j1", 1, 2),
        (1, "j2", 1, 3),
        (0, "j3", 4, 2),
        (0, "j4", 4, 3),
        (1, "j5", 5, 2),
    ] {
        let j = after
            .iter()
            .find(|i| i.key == keys::journey(w.ops[op].0, id))
            .unwrap();
        assert_eq!(j.s("passenger_key"), Some(key(B, p).as_str()), "{id}");
        assert_eq!(j.s("driver_key"), Some(key(B, d).as_str()), "{id}");
    }
    let old_keys: Vec<String> = PEOPLE.iter().map(|n| key(A, *n)).collect();
    let uses_old = |i: &&Item| {
        old_keys.iter().any(|k| {
            i.key.pk.contains(k.as_str())
                || i.key.sk.contains(k.as_str())
                || i.attrs
                    .values()
                    .any(|v| format!("{v:?}").contains(k.as_str()))
        })
    };
    let left: Vec<&Item> = after.iter().filter(uses_old).collect();
    // Nothing keyed by A is left but the emptied counters of A (their counts moved).
    assert!(
        left.iter().all(|i| i.key.pk.starts_with("CTR#")
            && i.n("trips").unwrap_or(0) == 0
            && i.n("amount").unwrap_or(0) == 0),
        "{left:#?}"
    );
    // Evidence under the new keys only, one per person of each live processed journey.
    let evidence: Vec<&Item> = after
        .iter()
        .filter(|i| i.key.pk.starts_with("FRAUD#"))
        .collect();
    assert_eq!(evidence.len(), 8);
    let new_keys: Vec<String> = PEOPLE.iter().map(|n| key(B, *n)).collect();
    assert!(evidence
        .iter()
        .all(|e| new_keys.iter().any(|k| e.key.sk.starts_with(k.as_str()))));
    // The counters moved to B: the same counts, A's holder renamed B's (j5's new ones).
    let mut expected: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    for ((pk, sk), v) in &old_counters {
        let mut pk = pk.clone();
        for n in PEOPLE {
            pk = pk.replace(&key(A, n), &key(B, n));
        }
        expected.insert((pk, sk.clone()), *v);
    }
    let mut now_counters = counters(&after);
    for (k, v) in &expected {
        let got = now_counters.remove(k).unwrap_or((0, 0));
        match k.0.contains(&key(B, 5)) || k.0.contains(&key(B, 2)) || k.0.ends_with("#*") {
            // j5 (driver 2, passenger 5, campaign-wide) added to these.
            true => assert!(got.0 >= v.0, "{k:?}"),
            false => assert_eq!(got, *v, "{k:?}"),
        }
    }
    // Certificates: the person's trips under the new secret alone.
    let forgetful = w.app(B, None);
    assert_eq!(w.certificate_trips(&forgetful, 0, 1).await, 1);
    assert_eq!(w.certificate_trips(&forgetful, 1, 1).await, 1);
    assert_eq!(w.certificate_trips(&forgetful, 0, 2).await, 2);

    // A third run changes nothing.
    let before_third = w.all_items().await;
    let third = rekey::run(&new, 4, 2).await.unwrap();
    assert_eq!(
        third,
        Report {
            journeys: 5,
            current: 5,
            ..Report::default()
        }
    );
    assert!(w.all_items().await == before_third, "the third run wrote");

    // Canceling a re-keyed journey gives its counts back to B's counters and removes its
    // moved evidence and trip entries.
    let (s, body) = w
        .call(
            &new,
            0,
            "DELETE",
            "/v2/journeys/j1",
            Some(json!({"code": "dup"})),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let canceled = w.all_items().await;
    let j1 = keys::journey(w.ops[0].0, "j1").pk;
    let mut expected = counters(&after);
    for draft in after
        .iter()
        .filter(|i| i.key.pk == j1 && i.key.sk.starts_with("INCENTIVE#"))
    {
        let counted: Vec<(String, String, i64, i64)> =
            serde_json::from_str(draft.s("counted").unwrap()).unwrap();
        assert!(!counted.is_empty());
        for (pk, sk, trips, amount) in counted {
            assert!(!old_keys.iter().any(|k| pk.contains(k.as_str())), "{pk}");
            let c = expected.entry((pk, sk)).or_insert((0, 0));
            c.0 -= trips;
            c.1 -= amount;
        }
    }
    expected.retain(|_, v| *v != (0, 0));
    assert_eq!(counters(&canceled), expected);
    assert_eq!(
        canceled
            .iter()
            .filter(|i| i.key.pk.starts_with("FRAUD#"))
            .count(),
        6
    );
    assert_eq!(w.certificate_trips(&forgetful, 0, 1).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_on_memory() {
    let queue = Arc::new(MemoryQueue::default());
    rotation(World::new(Arc::new(MemoryStore::new()), queue, None).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_on_sqlite() {
    let (store, dir) = sqlite_store();
    // Its transactions enqueue into its own embedded queue.
    let queue = Arc::new(store.queue(5));
    rotation(World::new(Arc::new(store), queue, Some(dir)).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_on_dynamodb() {
    let store = dynamodb_store("rekey").await;
    let queue = Arc::new(MemoryQueue::default());
    rotation(World::new(Arc::new(store), queue, None).await).await;
}

/// Nine campaigns paying both people: a journey's drafts and counters no longer fit one
/// transaction, so each draft moves (with its counters) in a transaction of its own before
/// the journey's keys change. The job crashes after three of them; the rerun finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_drafts_move_one_by_one_and_a_crash_is_finished_by_a_rerun() {
    let memory: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let w = World::new(memory.clone(), Arc::new(MemoryQueue::default()), None).await;
    let old = w.app(A, None);
    for n in 2..=9 {
        let campaign = json!({
            "id": format!("more{n}"), "name": "more", "territory_name": "Paris",
            "start": "2026-11-01", "end": "2026-12-31", "time_zone": "UTC",
            "territory": {"rule": "start", "geojson": {"type": "Polygon", "coordinates": [[
                [1.0, 48.0], [3.0, 48.0], [3.0, 49.5], [1.0, 49.5], [1.0, 48.0]]]}},
            "pays": ["driver", "passenger"],
            "amount": {"mode": "first_matching_band", "bands": [{"from": 0, "fixed": 10}]},
            "caps": [{"kind": "trips", "per": "month", "max": 20}, {"kind": "trips", "per": "day", "max": 6}]
        });
        registry_core::campaigns::create(&old, campaign.to_string().as_bytes())
            .await
            .unwrap();
    }
    w.send(&old, 0, trip("j1", 1, 2, 20, 8)).await;
    w.process(&old).await;
    let before = w.all_items().await;
    let drafts = |items: &[Item]| -> Vec<Item> {
        items
            .iter()
            .filter(|i| i.key.sk.starts_with("INCENTIVE#"))
            .cloned()
            .collect()
    };
    assert_eq!(drafts(&before).len(), 18);

    // Transactions fail once three have passed: a crash of the job midway.
    let crashing = Arc::new(Interposed::crashing_after(memory.clone(), 3));
    let crashing_world = World {
        store: crashing,
        queue: w.queue.clone(),
        clock: w.clock.clone(),
        ops: w.ops.clone(),
        _dir: None,
    };
    let crashed = rekey::run(&crashing_world.app(B, Some(A)), 1, 1).await;
    assert!(matches!(crashed, Err(rekey::RekeyError::Store(_))));
    let midway = drafts(&w.all_items().await);
    let moved = midway
        .iter()
        .filter(|d| {
            d.s("person_key") == Some(key(B, 1).as_str())
                || d.s("person_key") == Some(key(B, 2).as_str())
        })
        .count();
    assert_eq!(moved, 3);

    let new = w.app(B, Some(A));
    let rerun = rekey::run(&new, 1, 1).await.unwrap();
    assert_eq!(
        (
            rerun.rekeyed,
            rerun.drafts_rekeyed,
            rerun.counters_kept,
            rerun.evidence_moved
        ),
        (1, 15, 0, 2)
    );
    let after = w.all_items().await;
    let j = after
        .iter()
        .find(|i| i.key == keys::journey(w.ops[0].0, "j1"))
        .unwrap();
    assert_eq!(j.s("passenger_key"), Some(key(B, 1).as_str()));
    for d in drafts(&after) {
        let p = if d.s("role") == Some("driver") { 2 } else { 1 };
        assert_eq!(d.s("person_key"), Some(key(B, p).as_str()), "{:?}", d.key);
        assert!(!d.s("counted").unwrap().contains(&key(A, p)));
    }
    // Every counter count moved under B's holder, none lost nor counted twice.
    let renamed: BTreeMap<(String, String), (i64, i64)> = counters(&before)
        .into_iter()
        .map(|((pk, sk), v)| {
            (
                (
                    pk.replace(&key(A, 1), &key(B, 1))
                        .replace(&key(A, 2), &key(B, 2)),
                    sk,
                ),
                v,
            )
        })
        .collect();
    assert_eq!(counters(&after), renamed);
    let again = rekey::run(&new, 2, 2).await.unwrap();
    assert_eq!((again.current, again.rekeyed), (1, 0));
}

#[tokio::test]
async fn without_the_previous_secret_the_job_refuses() {
    let queue = Arc::new(MemoryQueue::default());
    let w = World::new(Arc::new(MemoryStore::new()), queue, None).await;
    let app = w.app(B, None);
    assert!(matches!(
        rekey::run(&app, 1, 1).await,
        Err(rekey::RekeyError::NoPreviousSecret)
    ));
}
