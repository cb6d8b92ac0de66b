//! Nothing accepted is lost: `registry serve` killed with SIGKILL under load, again and
//! again, keeps every journey it answered 201 and processes each exactly once. (Nothing is
//! processed twice either: the redelivery test, every task delivered twice out of order on
//! SQLite and on DynamoDB + SQS, is shared/tests/redelivery.rs.)
//!
//! The crash test's length comes from the environment (defaults: the short run of
//! tests/run.sh). A longer run, documented in docs/OPERATIONS.md:
//! `CRASH_KILLS=30 CRASH_SENDERS=16 cargo test -p registry-local --test resilience crash -- --nocapture`

use registry_testkit::serve::*;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use registry_core::jobs::fraud;
use registry_core::queue::Queue;
use registry_core::records::journey::JourneyRecord;
use registry_core::store::{scan_all, sqlite::SqliteStore, Item};

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
        let s = server.post("/v2/journeys", &token, journey(&id)).await.0;
        assert!(s == 200 || s == 201, "retry of {id}: {s}");
        accepted.insert(id);
    }
    let reader = SqliteStore::open(&data).expect("open the server's file");
    let mut pending = accepted.len();
    for _ in 0..600 {
        let items = scan_all(&reader).await.expect("scan");
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
        let (s, _, body) = server.get(&format!("/v2/journeys/{id}"), &token).await;
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

    let items = scan_all(&reader).await.expect("scan");
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
        let evidence = fraud::evidence::keys_of(&JourneyRecord::from_item(j));
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
