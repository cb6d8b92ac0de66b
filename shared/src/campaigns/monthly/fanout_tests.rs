//! The monthly run as units (shards, final steps, chains) gives the results of a run in
//! one process, whatever the order of units, their twins and their crashes.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::TimeZone;
use serde_json::json;

use super::compute::LineStatus;
use super::fanout::{self, Unit};
use super::fence::Fence;
use super::tests::{app_on, campaign, cancel, flag, journey, load, march};
use super::*;
use crate::clock::FixedClock;
use crate::config::Config;
use crate::queue::memory::MemoryQueue;
use crate::records::keys;
use crate::store::memory::MemoryStore;
use crate::store::{Condition, Key, Page, Scan, Store, StoreResult, Update, WriteOp};

fn sharded_on(store: Arc<dyn Store>, drafts_per_shard: u64) -> App {
    let now = Utc.with_ymd_and_hms(2025, 4, 6, 2, 0, 0).unwrap();
    let config = Config {
        monthly_shard_drafts: drafts_per_shard,
        ..Config::default()
    };
    App::new(store, Arc::new(MemoryQueue::default()), config)
        .with_clock(Arc::new(FixedClock::new(now)))
}

fn id(s: &str) -> CampaignId {
    CampaignId::parse(s).unwrap()
}

fn no_progress() -> Arc<dyn Fn(&Unit) + Send + Sync> {
    Arc::new(|_: &Unit| {})
}

/// Three campaigns over March: `top` (exclusive, priority 10, until 10 March), `big`
/// (exclusive, priority 5, both people paid, daily and monthly caps per person and a
/// budget that runs out mid-month) and `s` (stackable); 24 journeys of three drivers,
/// one canceled and one flagged.
async fn month_of_journeys(app: &App) {
    load(
        app,
        campaign("top", json!({"priority": 10, "end": "2025-03-10"})),
    )
    .await;
    load(
        app,
        campaign(
            "big",
            json!({"priority": 5, "pays": ["driver", "passenger"], "caps": [
                {"kind": "trips", "per": "day", "max": 1},
                {"kind": "amount", "per": "month", "max": 900},
                {"kind": "budget", "max": 850}]}),
        ),
    )
    .await;
    load(
        app,
        campaign("s", json!({"priority": 0, "stacking": "stackable"})),
    )
    .await;
    for i in 0..24u32 {
        let (d, day, hour) = (1 + (i % 3) as u8, 1 + (i * 5) % 14, 6 + i % 12);
        journey(app, &format!("j{i:02}"), d, 3, day, hour).await;
    }
    cancel(app, "j05").await;
    flag(app, "j07", "fraud_error").await;
}

async fn final_bytes(app: &App, c: &str) -> (String, Vec<u8>) {
    let f = read_final(app, &id(c), march(), None)
        .await
        .unwrap()
        .unwrap();
    (f.digest.clone(), results_bytes(&f.totals, &f.lines))
}

/// Shards of 3 drafts, units run one at a time in the reverse of the plan's order: the
/// same bytes as each campaign run in one process.
#[tokio::test]
async fn a_sharded_run_in_any_order_writes_the_bytes_of_one_process() {
    let (one, sharded) = (
        sharded_on(Arc::new(MemoryStore::new()), 100_000),
        sharded_on(Arc::new(MemoryStore::new()), 3),
    );
    month_of_journeys(&one).await;
    month_of_journeys(&sharded).await;
    let campaigns = crate::campaigns::all(&one).await.unwrap();
    for c in campaigns.iter() {
        run_campaign(&one, &campaigns, c, march(), false)
            .await
            .unwrap();
    }

    let (record, mut units) = fanout::plan(&sharded, march(), false).await.unwrap();
    units.reverse();
    let record = fanout::run_units(&sharded, &record.run_id, units, 1, no_progress())
        .await
        .unwrap();
    assert!(record.finished_at.is_some(), "{record:?}");
    assert_eq!(record.units_done, record.units);
    let big = record
        .campaigns
        .iter()
        .find(|c| c.campaign_id == "big")
        .unwrap();
    assert!(big.shards > 5, "{big:?}");
    for c in ["top", "big", "s"] {
        assert_eq!(
            final_bytes(&sharded, c).await,
            final_bytes(&one, c).await,
            "{c}"
        );
    }
    // What the comparison covers: op3, a budget running out, the per-day cap, op1.
    let f = read_final(&sharded, &id("big"), march(), None)
        .await
        .unwrap()
        .unwrap();
    let reasons: std::collections::BTreeSet<&str> =
        f.lines.iter().filter_map(|l| l.reason.as_deref()).collect();
    for r in [
        "lower_priority",
        "budget",
        "trips_per_day",
        "journey_canceled",
        "fraud",
    ] {
        assert!(reasons.contains(r), "{r} missing from {reasons:?}");
    }
    assert!(f.lines.iter().any(|l| l.status == LineStatus::Validated));
}

/// A store that, on the first transaction writing under `prefix`, first runs a whole
/// other delivery of `unit` (on the same data): the delivery under test then finds its
/// fence taken mid-way, as with two deliveries at once.
struct Twin {
    inner: Arc<MemoryStore>,
    armed: Mutex<Option<(&'static str, App, String, Unit)>>,
}

impl Twin {
    fn arm(&self, prefix: &'static str, app: &App, run_id: &str, unit: &Unit) {
        *self.armed.lock().unwrap() = Some((prefix, app.clone(), run_id.to_owned(), unit.clone()));
    }
}

#[async_trait]
impl Store for Twin {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        self.inner.get(key).await
    }
    async fn put(&self, item: Item, condition: Option<Condition>) -> StoreResult<()> {
        self.inner.put(item, condition).await
    }
    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Option<Condition>,
    ) -> StoreResult<Item> {
        self.inner.update(key, update, condition).await
    }
    async fn delete(&self, key: &Key, condition: Option<Condition>) -> StoreResult<()> {
        self.inner.delete(key, condition).await
    }
    async fn transact(&self, ops: Vec<WriteOp>) -> StoreResult<()> {
        let twin = {
            let mut armed = self.armed.lock().unwrap();
            let hit = armed.as_ref().is_some_and(|(prefix, ..)| {
                ops.iter().any(
                    |op| matches!(op, WriteOp::Put { item, .. } if item.key.pk.starts_with(prefix)),
                )
            });
            if hit {
                armed.take()
            } else {
                None
            }
        };
        if let Some((_, app, run_id, unit)) = twin {
            fanout::run_unit(&app, &run_id, &unit).await.unwrap();
        }
        self.inner.transact(ops).await
    }
    async fn query(&self, query: Query) -> StoreResult<Page> {
        self.inner.query(query).await
    }
    async fn scan(&self, scan: Scan) -> StoreResult<Page> {
        self.inner.scan(scan).await
    }
}

async fn everything(store: &dyn Store) -> Vec<Item> {
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let scan = Scan {
            segment: 0,
            total_segments: 1,
            limit: 1000,
            cursor,
        };
        let page = store.scan(scan).await.unwrap();
        items.extend(page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    items.sort_by(|a, b| a.key.cmp(&b.key));
    items
}

/// A shard and a final step each lose their unit mid-way to a twin delivery (which
/// completes it): both deliveries succeed, the unit counts once, the results are those of
/// one process; a late delivery of every unit afterwards changes nothing at all.
#[tokio::test]
async fn units_delivered_twice_at_once_and_late_count_once() {
    let inner = Arc::new(MemoryStore::new());
    let store = Arc::new(Twin {
        inner: inner.clone(),
        armed: Mutex::new(None),
    });
    let app = sharded_on(store.clone(), 3);
    let twin_app = sharded_on(inner.clone(), 3);
    let reference = app_on(Arc::new(MemoryStore::new()));
    for a in [&app, &reference] {
        load(
            a,
            campaign(
                "c1",
                json!({"pays": ["driver", "passenger"],
            "caps": [{"kind": "trips", "per": "day", "max": 1}, {"kind": "budget", "max": 1000}]}),
            ),
        )
        .await;
        for i in 0..8u32 {
            journey(a, &format!("k{i}"), 1 + (i % 2) as u8, 3, 2 + i % 4, 8 + i).await;
        }
    }
    let (record, units) = fanout::plan(&app, march(), false).await.unwrap();
    let run_id = record.run_id.clone();
    assert_eq!(
        units.len(),
        record.units as usize - 1,
        "every shard, no final yet"
    );

    store.arm("MONTHLYPREP#", &twin_app, &run_id, &units[0]);
    assert_eq!(
        fanout::run_unit(&app, &run_id, &units[0]).await.unwrap(),
        []
    );
    assert!(store.armed.lock().unwrap().is_none(), "the twin ran");
    let mut ready = Vec::new();
    for u in &units[1..] {
        ready.extend(fanout::run_unit(&app, &run_id, u).await.unwrap());
    }
    let last = Unit {
        campaign: "c1".into(),
        month: "2025-03".into(),
        shard: None,
    };
    assert_eq!(ready, std::slice::from_ref(&last));
    store.arm("MONTHLY#", &twin_app, &run_id, &last);
    assert_eq!(fanout::run_unit(&app, &run_id, &last).await.unwrap(), []);
    assert!(store.armed.lock().unwrap().is_none(), "the twin ran");

    let record = progress::read_run(&app, &run_id).await.unwrap().unwrap();
    assert_eq!((record.units_done, record.units), (7, 7));
    assert!(record.finished_at.is_some());
    let report = record.campaigns[0].report.clone().unwrap();
    assert_eq!(report.version, 1);
    let c1 = crate::campaigns::all(&reference).await.unwrap();
    let one = run_campaign(&reference, &c1, &c1[0], march(), false)
        .await
        .unwrap();
    assert_eq!(report.digest, one.digest);
    assert_eq!(
        final_bytes(&app, "c1").await,
        final_bytes(&reference, "c1").await
    );

    let before = everything(inner.as_ref()).await;
    for u in units.iter().chain([&last]) {
        fanout::run_unit(&app, &run_id, u).await.unwrap();
    }
    assert_eq!(everything(inner.as_ref()).await, before);
}

/// Deliveries that crashed mid-way left garbage under their fence (prepared journeys of a
/// shard, lines of the version): the next delivery takes over and rewrites them.
#[tokio::test]
async fn a_unit_that_crashed_half_way_is_rewritten_cleanly() {
    let app = sharded_on(Arc::new(MemoryStore::new()), 3);
    let reference = app_on(Arc::new(MemoryStore::new()));
    for a in [&app, &reference] {
        load(
            a,
            campaign(
                "c1",
                json!({"caps": [{"kind": "trips", "per": "day", "max": 1}]}),
            ),
        )
        .await;
        for i in 0..9u32 {
            journey(a, &format!("k{i}"), 1, 3, 2 + i % 3, 8 + i).await;
        }
    }
    let (record, units) = fanout::plan(&app, march(), false).await.unwrap();
    let run_id = record.run_id.as_str();
    let (c1, m) = (id("c1"), "2025-03");
    let garbage = |key: Key| Item::new(key).with("data", "[{\"not\": \"a journey\"}]");

    let crashed = Fence::take(
        &app,
        &keys::monthly_run_unit(run_id, &c1, m, Some(0)),
        "done",
    )
    .await
    .unwrap()
    .unwrap();
    for n in [0, 9] {
        let key = keys::monthly_run_prepared(run_id, &c1, m, 0, n);
        crashed.put(&app, garbage(key)).await.unwrap().unwrap();
    }
    let mut ready = Vec::new();
    for u in &units {
        ready.extend(fanout::run_unit(&app, run_id, u).await.unwrap());
    }
    let crashed = Fence::take(&app, &keys::monthly_version(&c1, m, 1), "digest")
        .await
        .unwrap()
        .unwrap();
    for n in [0, 7] {
        let key = keys::monthly_chunk(&c1, m, 1, 'L', n);
        crashed.put(&app, garbage(key)).await.unwrap().unwrap();
    }
    // The crashed delivery's fence is taken over: its writes are refused from now on.
    for u in &ready {
        fanout::run_unit(&app, run_id, u).await.unwrap();
    }
    let late = keys::monthly_chunk(&c1, m, 1, 'L', 0);
    assert!(crashed.put(&app, garbage(late)).await.unwrap().is_err());

    let record = progress::read_run(&app, run_id).await.unwrap().unwrap();
    assert!(record.finished_at.is_some(), "{record:?}");
    let campaigns = crate::campaigns::all(&reference).await.unwrap();
    run_campaign(&reference, &campaigns, &campaigns[0], march(), false)
        .await
        .unwrap();
    assert_eq!(
        final_bytes(&app, "c1").await,
        final_bytes(&reference, "c1").await
    );
    let f = read_final(&app, &c1, march(), None).await.unwrap().unwrap();
    assert_eq!(f.lines.len(), 9);
    assert_eq!(f.version, 1);
}

/// Forcing a month recomputes the later final months of the campaign, in order, each a
/// new version carrying the counters of the one before; a month finalized after a later
/// one is not forced on it, but the run says so.
#[tokio::test]
async fn forcing_a_month_recomputes_the_later_final_months() {
    let app = sharded_on(Arc::new(MemoryStore::new()), 100_000);
    load(
        &app,
        campaign(
            "c1",
            json!({"caps": [{"kind": "amount", "per": "year", "max": 150}]}),
        ),
    )
    .await;
    journey(&app, "feb", 1, 2, 10, 8).await;
    journey(&app, "mar", 1, 3, 10, 8).await;
    let feb = Month::parse("2025-02").unwrap();
    let run = |month, force| fanout::run_here(&app, month, force, 2, no_progress());
    let outcome = |r: &progress::RunRecord, i: usize| {
        let rep = r.campaigns[i].report.clone().unwrap();
        (
            rep.month,
            rep.version,
            rep.totals.paid.amount,
            rep.carried_from,
        )
    };

    // March first (February not final yet), then February: March is stale, and said so.
    let r = run(march(), false).await.unwrap();
    assert_eq!(outcome(&r, 0), ("2025-03".into(), 1, 100, None));
    let r = run(feb, false).await.unwrap();
    assert_eq!(r.campaigns.len(), 1);
    assert_eq!(outcome(&r, 0), ("2025-02".into(), 1, 100, None));
    assert_eq!(r.warnings.len(), 1, "{r:?}");
    assert!(r.warnings[0].contains("2025-03"), "{r:?}");

    // Forced February: March again, now with February's counters.
    let r = run(feb, true).await.unwrap();
    assert_eq!(r.units, 2);
    assert_eq!(outcome(&r, 0), ("2025-02".into(), 2, 100, None));
    assert_eq!(
        outcome(&r, 1),
        ("2025-03".into(), 2, 50, Some("2025-02".into()))
    );
    // February's journey canceled since: forced again, it pays nothing and March all.
    cancel(&app, "feb").await;
    let r = run(feb, true).await.unwrap();
    assert_eq!(outcome(&r, 0), ("2025-02".into(), 3, 0, None));
    assert_eq!(
        outcome(&r, 1),
        ("2025-03".into(), 3, 100, Some("2025-02".into()))
    );
    let march_v1 = read_final(&app, &id("c1"), march(), Some(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        march_v1.totals.paid.amount, 100,
        "earlier versions are kept"
    );
}
