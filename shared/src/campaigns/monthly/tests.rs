//! The monthly run over real journeys: stored pending, processed (drafts written with
//! provisional counters), then changed the way the API and the fraud pass change them.

use std::sync::Arc;

use chrono::TimeZone;
use serde_json::{json, Value};

use super::compute::LineStatus;
use super::entries::start_slices;
use super::*;
use crate::clock::FixedClock;
use crate::config::Config;
use crate::domain::journey::example_document;
use crate::domain::operator::OperatorId;
use crate::queue::memory::MemoryQueue;
use crate::records::journey::JourneyRecord;
use crate::records::keys;
use crate::store::memory::MemoryStore;
use crate::store::{Store, Update, WriteOp};
use sha2::{Digest, Sha256};

pub(super) const OP: OperatorId = OperatorId(1);

pub(super) fn march() -> Month {
    Month::parse("2025-03").unwrap()
}

pub(super) fn app_on(store: Arc<dyn Store>) -> App {
    let now = Utc.with_ymd_and_hms(2025, 4, 6, 2, 0, 0).unwrap();
    App::new(store, Arc::new(MemoryQueue::default()), Config::default())
        .with_clock(Arc::new(FixedClock::new(now)))
}

pub(super) fn app() -> App {
    app_on(Arc::new(MemoryStore::new()))
}

/// A campaign around Paris paying the driver 100 c a trip, in 2025 (UTC).
pub(super) fn campaign(id: &str, extra: Value) -> Value {
    let mut doc = json!({
        "id": id, "name": id, "territory_name": "t",
        "start": "2025-01-01", "end": "2025-12-31", "time_zone": "UTC",
        "territory": {"rule": "start", "geojson": {"type": "Polygon", "coordinates": [[
            [1.0, 48.0], [3.0, 48.0], [3.0, 49.5], [1.0, 49.5], [1.0, 48.0]]]}},
        "pays": ["driver"],
        "amount": {"mode": "first_matching_band", "bands": [{"from": 0, "fixed": 100}]},
    });
    if let (Some(doc), Some(extra)) = (doc.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            doc.insert(k.clone(), v.clone());
        }
    }
    doc
}

pub(super) async fn load(app: &App, doc: Value) {
    crate::campaigns::create(app, doc.to_string().as_bytes())
        .await
        .unwrap();
}

/// Stores journey `id` of driver `d` started on `day` of `month` 2025 at `hour` (UTC),
/// then processes it.
pub(super) async fn journey(app: &App, id: &str, d: u8, month: u32, day: u32, hour: u32) {
    journey_of(app, OP, id, d, month, day, hour).await
}

/// [`journey`] of another operator.
async fn journey_of(app: &App, op: OperatorId, id: &str, d: u8, month: u32, day: u32, hour: u32) {
    // The example's passenger starts 90 minutes before the instant given.
    let at =
        Utc.with_ymd_and_hms(2025, month, day, hour, 0, 0).unwrap() + chrono::Duration::minutes(90);
    let doc = example_document(id, at);
    let mut item = JourneyRecord::accepted_item(&app.config.hash_secret, op, &doc, at).unwrap();
    // The people the test names (their keys order the run's lines).
    item.set("driver_key", hex::encode([d; 32]));
    item.set("passenger_key", hex::encode([200u8; 32]));
    app.store.put(item, None).await.unwrap();
    crate::jobs::process::journey(app, op, id).await.unwrap();
}

/// What DELETE /v2/journeys does: the journey canceled and its drafts with it.
pub(super) async fn cancel(app: &App, id: &str) {
    let key = keys::journey(OP, id);
    let (_, drafts) = crate::campaigns::drafts::journey_with_drafts(app, &key)
        .await
        .unwrap()
        .unwrap();
    let mut ops = vec![WriteOp::Update {
        key,
        update: Update::new().set("status", "canceled"),
        condition: None,
    }];
    for group in crate::campaigns::drafts::cancel_groups(&drafts, "2025-03-30T00:00:00.000Z") {
        ops.extend(group);
    }
    app.store.transact(ops).await.unwrap();
}

/// What the fraud pass does to a journey it flags.
pub(super) async fn flag(app: &App, id: &str, status: &str) {
    app.store
        .update(
            &keys::journey(OP, id),
            Update::new().set("status", status),
            None,
        )
        .await
        .unwrap();
}

pub(super) async fn run(
    app: &App,
    id: &str,
    month: Month,
    force: bool,
) -> Result<Report, RunError> {
    let campaigns = crate::campaigns::all(app).await.unwrap();
    let c = campaigns
        .iter()
        .find(|c| c.id.as_str() == id)
        .unwrap()
        .clone();
    run_campaign(app, &campaigns, &c, month, force).await
}

pub(super) async fn lines(
    app: &App,
    id: &str,
    month: Month,
) -> Vec<(String, LineStatus, i64, Option<String>)> {
    let f = read_final(app, &CampaignId::parse(id).unwrap(), month, None)
        .await
        .unwrap()
        .unwrap();
    f.lines
        .into_iter()
        .map(|l| (l.journey_id, l.status, l.amount, l.reason))
        .collect()
}

pub(super) fn line(
    j: &str,
    s: LineStatus,
    amount: i64,
    reason: Option<&str>,
) -> (String, LineStatus, i64, Option<String>) {
    (j.to_owned(), s, amount, reason.map(str::to_owned))
}

/// op2: drafts were computed in processing order; the run recomputes the caps in start
/// order, so the trip over the cap is the latest one, whatever the drafts said.
#[tokio::test]
async fn caps_are_recomputed_in_start_order() {
    let app = app();
    load(
        &app,
        campaign(
            "c1",
            json!({"caps": [{"kind": "trips", "per": "month", "max": 2}]}),
        ),
    )
    .await;
    // Ids in the reverse of start order, processed latest first: the drafts capped `c`,
    // the earliest.
    journey(&app, "a", 1, 3, 7, 8).await;
    journey(&app, "b", 1, 3, 5, 8).await;
    journey(&app, "c", 1, 3, 3, 8).await;
    let drafts = crate::campaigns::drafts::journey_with_drafts(&app, &keys::journey(OP, "c"))
        .await
        .unwrap()
        .unwrap()
        .1;
    assert_eq!(drafts[0].s("capped_by"), Some("trips_per_month"));

    let report = run(&app, "c1", march(), false).await.unwrap();
    assert_eq!(report.version, 1);
    assert_eq!(report.totals.journeys, 3);
    assert_eq!(report.totals.paid.amount, 200);
    use LineStatus::*;
    assert_eq!(
        lines(&app, "c1", march()).await,
        vec![
            line("c", Validated, 100, None),
            line("b", Validated, 100, None),
            line("a", Capped, 0, Some("trips_per_month")),
        ]
    );
}

/// op1: canceled, fraud-flagged and anomalous journeys lose their incentives with the
/// reason, and consume no cap: the next journey in start order is paid instead.
#[tokio::test]
async fn journeys_no_longer_ok_are_canceled_and_free_their_caps() {
    let app = app();
    load(
        &app,
        campaign(
            "c1",
            json!({"caps": [{"kind": "trips", "per": "month", "max": 2}]}),
        ),
    )
    .await;
    for (id, day) in [("j1", 2), ("j2", 3), ("j3", 4), ("j4", 5), ("j5", 6)] {
        journey(&app, id, 1, 3, day, 8).await;
    }
    cancel(&app, "j1").await;
    flag(&app, "j2", "fraud_error").await;
    flag(&app, "j3", "anomaly_error").await;
    run(&app, "c1", march(), false).await.unwrap();
    use LineStatus::*;
    assert_eq!(
        lines(&app, "c1", march()).await,
        vec![
            line("j1", Canceled, 0, Some("journey_canceled")),
            line("j2", Canceled, 0, Some("fraud")),
            line("j3", Canceled, 0, Some("anomaly")),
            line("j4", Validated, 100, None),
            line("j5", Validated, 100, None),
        ]
    );
    let f = read_final(&app, &CampaignId::parse("c1").unwrap(), march(), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(f.totals.by_status[&Canceled].count, 3);
    assert_eq!(
        f.totals.paid,
        compute::Count {
            count: 2,
            amount: 200
        }
    );
    // The canceled line keeps what the draft had computed.
    assert_eq!(f.lines[0].computed, 100);
}

/// op3: of the exclusive campaigns paying a journey only the best pays (priority, then
/// earliest start, then id); a stackable one pays alongside; and the loser's budget is not
/// consumed by the journeys it does not pay.
#[tokio::test]
async fn only_the_best_exclusive_campaign_pays_and_before_the_caps() {
    let app = app();
    // `a` pays until 10 March only.
    load(
        &app,
        campaign("a", json!({"priority": 10, "end": "2025-03-10"})),
    )
    .await;
    // Same priority, later start: `a` goes first.
    load(
        &app,
        campaign("a2", json!({"priority": 10, "start": "2025-02-01"})),
    )
    .await;
    load(
        &app,
        campaign(
            "b",
            json!({"priority": 5, "caps": [{"kind": "budget", "max": 100}]}),
        ),
    )
    .await;
    load(
        &app,
        campaign("s", json!({"priority": 0, "stacking": "stackable"})),
    )
    .await;
    journey(&app, "k1", 1, 3, 5, 8).await;
    journey(&app, "k2", 2, 3, 20, 8).await;
    for id in ["a", "a2", "b", "s"] {
        run(&app, id, march(), false).await.unwrap();
    }
    use LineStatus::*;
    assert_eq!(
        lines(&app, "a", march()).await,
        vec![line("k1", Validated, 100, None)]
    );
    let a2 = read_final(&app, &CampaignId::parse("a2").unwrap(), march(), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a2.lines[0].status, NotEligible);
    assert_eq!(a2.lines[0].reason.as_deref(), Some("lower_priority"));
    assert_eq!(a2.lines[0].paid_by.as_deref(), Some("a"));
    // k2: `a` has ended; `a2` outranks `b`.
    assert_eq!(a2.lines[1].status, Validated);
    let b = read_final(&app, &CampaignId::parse("b").unwrap(), march(), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        b.lines
            .iter()
            .map(|l| (l.journey_id.as_str(), l.paid_by.as_deref()))
            .collect::<Vec<_>>(),
        vec![("k1", Some("a")), ("k2", Some("a2"))]
    );
    assert_eq!(
        lines(&app, "s", march()).await,
        vec![
            line("k1", Validated, 100, None),
            line("k2", Validated, 100, None)
        ]
    );
}

/// Without `a2`, `b` pays k2 its whole budget: k1 (paid by `a`) consumed none of it, where
/// the drafts, which know no priority, had spent it on k1.
#[tokio::test]
async fn a_lower_priority_budget_is_kept_for_the_journeys_it_pays() {
    let app = app();
    load(
        &app,
        campaign("a", json!({"priority": 10, "end": "2025-03-10"})),
    )
    .await;
    load(
        &app,
        campaign(
            "b",
            json!({"priority": 5, "caps": [{"kind": "budget", "max": 100}]}),
        ),
    )
    .await;
    journey(&app, "k1", 1, 3, 5, 8).await;
    journey(&app, "k2", 2, 3, 20, 8).await;
    let drafts = crate::campaigns::drafts::journey_with_drafts(&app, &keys::journey(OP, "k2"))
        .await
        .unwrap()
        .unwrap()
        .1;
    let b_draft = drafts
        .iter()
        .find(|d| d.s("campaign_id") == Some("b"))
        .unwrap();
    assert_eq!(b_draft.n("amount"), Some(0));
    run(&app, "b", march(), false).await.unwrap();
    let b = lines(&app, "b", march()).await;
    assert_eq!(b[1], line("k2", LineStatus::Validated, 100, None));
}

/// Yearly counters carry from the latest finalized month.
#[tokio::test]
async fn yearly_caps_carry_from_earlier_finalized_months() {
    let app = app();
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
    let first = run(&app, "c1", feb, false).await.unwrap();
    assert_eq!(first.carried_from, None);
    let report = run(&app, "c1", march(), false).await.unwrap();
    assert_eq!(report.carried_from.as_deref(), Some("2025-02"));
    assert_eq!(
        lines(&app, "c1", march()).await,
        vec![line("mar", LineStatus::Capped, 50, Some("amount_per_year"))]
    );
}

/// The same data gives the same bytes: on another store (SQLite, a real file), processed
/// in another order; a rerun is refused unless forced, which writes version 2 with the
/// same results and keeps version 1.
#[tokio::test]
async fn runs_are_deterministic_and_final_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = crate::store::sqlite::SqliteStore::open(&dir.path().join("r.db")).unwrap();
    let (one, two) = (app(), app_on(Arc::new(sqlite)));
    let order = [
        ("j1", 1, 3),
        ("j2", 2, 3),
        ("j3", 1, 4),
        ("j4", 1, 5),
        ("j5", 2, 5),
        ("j6", 1, 9),
    ];
    for app in [&one, &two] {
        load(
            app,
            campaign(
                "c1",
                json!({"pays": ["driver", "passenger"], "caps": [
                {"kind": "trips", "per": "day", "max": 1},
                {"kind": "amount", "per": "month", "max": 250}]}),
            ),
        )
        .await;
    }
    for (id, d, day) in order {
        journey(&one, id, d, 3, day, 8).await;
    }
    for (id, d, day) in order.iter().rev() {
        journey(&two, id, *d, 3, *day, 8).await;
    }
    cancel(&one, "j3").await;
    cancel(&two, "j3").await;
    let r1 = run(&one, "c1", march(), false).await.unwrap();
    let r2 = run(&two, "c1", march(), false).await.unwrap();
    assert_eq!(r1.digest, r2.digest);
    let id = CampaignId::parse("c1").unwrap();
    let f1 = read_final(&one, &id, march(), None).await.unwrap().unwrap();
    let f2 = read_final(&two, &id, march(), None).await.unwrap().unwrap();
    let bytes = results_bytes(&f1.totals, &f1.lines);
    assert_eq!(bytes, results_bytes(&f2.totals, &f2.lines));
    assert_eq!(hex::encode(Sha256::digest(&bytes)), r1.digest);
    assert_eq!(f1.lines.len(), 12);
    assert!(f1.lines.iter().any(|l| l.status == LineStatus::Capped));

    match run(&one, "c1", march(), false).await {
        Err(RunError::AlreadyFinal { version: 1, .. }) => {}
        other => panic!("rerun not refused: {other:?}"),
    }
    let forced = run(&one, "c1", march(), true).await.unwrap();
    assert_eq!(
        (forced.version, forced.digest.as_str()),
        (2, r1.digest.as_str())
    );
    let v2 = read_final(&one, &id, march(), None).await.unwrap().unwrap();
    assert_eq!((v2.version, v2.forced), (2, true));
    assert_eq!(results_bytes(&v2.totals, &v2.lines), bytes);
    let v1 = read_final(&one, &id, march(), Some(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((v1.version, v1.forced), (1, false));
    assert_eq!(results_bytes(&v1.totals, &v1.lines), bytes);
}

#[tokio::test]
async fn a_month_not_over_is_refused() {
    let app = app();
    load(&app, campaign("c1", json!({}))).await;
    let april = Month::parse("2025-04").unwrap();
    assert!(matches!(
        run(&app, "c1", april, false).await,
        Err(RunError::NotOver { .. })
    ));
    assert_eq!(Month::parse("2025-4"), None);
    assert_eq!(Month::parse("2025-13"), None);
    assert_eq!(april.last_day().to_string(), "2025-04-30");
    let now = Utc.with_ymd_and_hms(2025, 1, 6, 3, 0, 0).unwrap();
    assert_eq!(Month::previous(now).to_string(), "2024-12");
}

#[test]
fn the_schedule_is_the_6th_at_4_in_paris() {
    let at = |y, m, d, h, min| Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap();
    // 04:00 Paris = 03:00 UTC in winter, 02:00 UTC in summer.
    assert_eq!(next_run(at(2025, 1, 20, 0, 0)), at(2025, 2, 6, 3, 0));
    assert_eq!(next_run(at(2025, 2, 6, 2, 59)), at(2025, 2, 6, 3, 0));
    assert_eq!(next_run(at(2025, 2, 6, 3, 0)), at(2025, 3, 6, 3, 0));
    assert_eq!(next_run(at(2025, 6, 1, 0, 0)), at(2025, 6, 6, 2, 0));
    assert_eq!(next_run(at(2025, 12, 7, 0, 0)), at(2026, 1, 6, 3, 0));
}

/// A journey canceled after its month was final gets a negative line in the next run, once.
#[tokio::test]
async fn a_journey_canceled_after_its_final_month_is_corrected_next_month_once() {
    let app = app();
    load(&app, campaign("c1", json!({}))).await;
    journey(&app, "f1", 1, 2, 10, 8).await;
    journey(&app, "f2", 2, 2, 11, 8).await;
    journey(&app, "m1", 1, 3, 10, 8).await;
    let (feb, apr) = (
        Month::parse("2025-02").unwrap(),
        Month::parse("2025-04").unwrap(),
    );
    run(&app, "c1", feb, false).await.unwrap();
    cancel(&app, "f1").await;
    let report = run(&app, "c1", march(), false).await.unwrap();
    assert_eq!(
        report.totals.paid,
        compute::Count {
            count: 1,
            amount: 100
        }
    );
    assert_eq!(
        report.totals.net,
        compute::Count {
            count: 2,
            amount: 0
        }
    );
    let f = read_final(&app, &CampaignId::parse("c1").unwrap(), march(), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(f.lines.len(), 2);
    let c = &f.lines[1];
    assert_eq!(
        (
            c.journey_id.as_str(),
            c.status,
            c.amount,
            c.reason.as_deref(),
            c.corrects.as_deref()
        ),
        (
            "f1",
            LineStatus::Correction,
            -100,
            Some("journey_canceled"),
            Some("2025-02")
        )
    );
    // February itself stays as it was final.
    assert_eq!(
        lines(&app, "c1", feb).await[0],
        line("f1", LineStatus::Validated, 100, None)
    );
    // April (any month after) does not correct it again; a forced March does.
    let clock = FixedClock::new(Utc.with_ymd_and_hms(2025, 5, 6, 2, 0, 0).unwrap());
    let later = app.clone().with_clock(Arc::new(clock));
    let april = run(&later, "c1", apr, false).await.unwrap();
    assert_eq!(april.totals.net.count, 0);
    let again = run(&app, "c1", march(), true).await.unwrap();
    assert_eq!((again.version, again.digest), (2, report.digest));
}

async fn status_of(app: &App, op: OperatorId, id: &str) -> Vec<Value> {
    let (_, drafts) = crate::campaigns::drafts::journey_with_drafts(app, &keys::journey(op, id))
        .await
        .unwrap()
        .unwrap();
    let views = statement::journey_incentives(app, op, id, &drafts)
        .await
        .unwrap();
    views
        .iter()
        .map(|v| serde_json::to_value(v).unwrap())
        .collect()
}

/// Every line of a statement, page by page.
async fn statement_lines(app: &App, op: OperatorId, limit: usize) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = statement::read(app, op, march(), cursor, limit)
            .await
            .unwrap();
        assert!(page.lines.len() <= limit);
        out.extend(page.lines.iter().map(|l| {
            (
                l.campaign_id.clone(),
                l.journey_id.clone(),
                l.status.as_str().to_owned(),
            )
        }));
        match page.next_cursor {
            Some(c) => cursor = Some(statement::Cursor::decode(&c).unwrap()),
            None => return out,
        }
    }
}

/// The operator statement and the status route follow each campaign's final version:
/// drafts (and `final: false`) before, the final lines of the operator only after, page by
/// page; a forced rerun shows its new version while a started listing keeps its own.
#[tokio::test]
async fn statements_and_journey_status_follow_the_final_versions() {
    let app = app();
    let other = OperatorId(2);
    load(&app, campaign("a", json!({"priority": 10}))).await;
    load(&app, campaign("b", json!({"priority": 5}))).await;
    load(
        &app,
        campaign(
            "s",
            json!({"stacking": "stackable", "caps": [{"kind": "trips", "per": "month", "max": 1}]}),
        ),
    )
    .await;
    journey(&app, "k2", 1, 3, 20, 8).await;
    journey(&app, "k1", 1, 3, 5, 8).await;
    journey_of(&app, other, "o1", 3, 3, 6, 8).await;

    let before = statement::read(&app, OP, march(), None, 100).await.unwrap();
    assert!(!before.is_final);
    assert_eq!(before.campaigns.len(), 3);
    assert!(before
        .campaigns
        .iter()
        .all(|c| !c.is_final && c.totals.is_none()));
    assert!(before.lines.is_empty());
    let drafts = status_of(&app, OP, "k2").await;
    assert!(drafts.iter().all(|d| d["status"] == "draft"), "{drafts:?}");
    assert_eq!(drafts.len(), 3);

    run(&app, "a", march(), false).await.unwrap();
    run(&app, "b", march(), false).await.unwrap();
    let partial = statement::read(&app, OP, march(), None, 100).await.unwrap();
    assert!(!partial.is_final);
    let finals: Vec<(&str, bool)> = partial
        .campaigns
        .iter()
        .map(|c| (c.campaign_id.as_str(), c.is_final))
        .collect();
    assert_eq!(finals, [("a", true), ("b", true), ("s", false)]);
    let mixed = status_of(&app, OP, "k2").await;
    let shown: Vec<(&str, &str)> = mixed
        .iter()
        .map(|v| {
            (
                v["campaign_id"].as_str().unwrap(),
                v["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [("a", "validated"), ("b", "not_eligible"), ("s", "draft")]
    );
    assert_eq!(mixed[1]["reason"], "lower_priority");
    assert_eq!(mixed[1]["paid_by"], "a");
    assert_eq!(mixed[0]["final_version"], 1);
    assert_eq!(mixed[0]["month"], "2025-03");

    run(&app, "s", march(), false).await.unwrap();
    let full = statement::read(&app, OP, march(), None, 100).await.unwrap();
    assert!(full.is_final);
    // a pays k1 and k2; s pays k1, caps k2 (one trip a month per driver).
    assert_eq!(
        full.totals.paid,
        compute::Count {
            count: 3,
            amount: 300
        }
    );
    let s_part = &full.campaigns[2];
    assert_eq!(s_part.version, Some(1));
    let s_totals = s_part.totals.as_ref().unwrap();
    assert_eq!(s_totals.journeys, 2);
    assert_eq!(s_totals.by_status[&LineStatus::Capped].count, 1);
    let all = statement_lines(&app, OP, 100).await;
    let want: Vec<(String, String, String)> = [
        ("a", "k1", "validated"),
        ("a", "k2", "validated"),
        ("b", "k1", "not_eligible"),
        ("b", "k2", "not_eligible"),
        ("s", "k1", "validated"),
        ("s", "k2", "capped"),
    ]
    .iter()
    .map(|(c, j, s)| (c.to_string(), j.to_string(), s.to_string()))
    .collect();
    assert_eq!(all, want);
    for limit in [1, 2, 4] {
        assert_eq!(
            statement_lines(&app, OP, limit).await,
            want,
            "limit {limit}"
        );
    }
    let theirs = statement_lines(&app, other, 100).await;
    assert_eq!(theirs.len(), 3);
    assert!(theirs.iter().all(|(_, j, _)| j == "o1"));
    let k2 = status_of(&app, OP, "k2").await;
    assert_eq!(k2[2]["status"], "capped");
    assert_eq!(k2[2]["reason"], "trips_per_month");
    assert_eq!(k2[2]["amount"], 0);

    // A page started on version 1 of `s` continues it after a forced rerun.
    let first = statement::read(&app, OP, march(), None, 5).await.unwrap();
    let pinned = statement::Cursor::decode(first.next_cursor.as_deref().unwrap()).unwrap();
    cancel(&app, "k1").await;
    run(&app, "s", march(), true).await.unwrap();
    let rest = statement::read(&app, OP, march(), Some(pinned), 5)
        .await
        .unwrap();
    assert_eq!(rest.lines.len(), 1);
    assert_eq!(rest.lines[0].status, LineStatus::Capped);
    let now = statement::read(&app, OP, march(), None, 100).await.unwrap();
    assert_eq!(now.campaigns[2].version, Some(2));
    let s_lines: Vec<(&str, LineStatus, i64)> = now
        .lines
        .iter()
        .filter(|l| l.campaign_id == "s")
        .map(|l| (l.journey_id.as_str(), l.status, l.amount))
        .collect();
    assert_eq!(
        s_lines,
        [
            ("k1", LineStatus::Canceled, 0),
            ("k2", LineStatus::Validated, 100)
        ]
    );
    let k1 = status_of(&app, OP, "k1").await;
    assert_eq!(k1[2]["status"], "canceled");
    assert_eq!(k1[2]["final_version"], 2);
}

/// Pages of any size cross chunk boundaries without losing or repeating a line.
#[tokio::test]
async fn statement_pages_cross_chunks() {
    let app = app();
    load(
        &app,
        campaign("c", json!({"pays": ["driver", "passenger"]})),
    )
    .await;
    for n in 0..150u8 {
        journey(&app, &format!("p-{n:03}"), n, 3, 1 + u32::from(n % 28), 8).await;
    }
    run(&app, "c", march(), false).await.unwrap();
    let chunks = app
        .store
        .query(
            crate::store::Query::partition(keys::operator_finals(
                OP,
                &CampaignId::parse("c").unwrap(),
                "2025-03",
            ))
            .limit(100),
        )
        .await
        .unwrap()
        .items
        .len();
    assert!(chunks >= 4, "{chunks} items");
    let all = statement_lines(&app, OP, 5000).await;
    assert_eq!(all.len(), 300);
    for limit in [7, 50, 299] {
        assert_eq!(statement_lines(&app, OP, limit).await, all, "limit {limit}");
    }
}

/// The slices of the incentives index the run reads at once hold every key exactly once.
#[test]
fn start_slices_cover_every_key_once() {
    let slices = start_slices(march());
    assert_eq!(slices.len(), 2 + 31 + 2 + 2, "35 days, before and after");
    for key in [
        "1970-01-01T00:00:00.000Z#1#j#driver",
        "2025-02-26T23:59:59.999Z#1#j#driver",
        "2025-02-27T00:00:00.000Z#1#j#driver",
        "2025-02-28T23:00:00.000Z#7#j#passenger",
        "2025-03-15T12:00:00.000Z#1#j#driver",
        "2025-03-31T21:59:59.999Z#1#j#driver",
        "2025-04-02T23:59:59.999Z#1#j#driver",
        "2025-04-03T00:00:00.000Z#1#j#driver",
        "2099-12-31T00:00:00.000Z#1#j#driver",
    ] {
        let holding = slices.iter().filter(|s| s.contains(key)).count();
        assert_eq!(holding, 1, "{key}");
    }
}
