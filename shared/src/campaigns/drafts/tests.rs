use std::sync::Arc;

use serde_json::{json, Value};

use super::*;
use crate::config::Config;
use crate::domain::journey::example_document;
use crate::queue::memory::MemoryQueue;
use crate::store::memory::MemoryStore;
use crate::store::Item;

const OP: OperatorId = OperatorId(1);

async fn app_with_campaign(caps: Value) -> App {
    let app = App::new(
        Arc::new(MemoryStore::new()),
        Arc::new(MemoryQueue::default()),
        Config::default(),
    );
    let today = chrono::Utc::now().date_naive();
    let doc = json!({
        "id": "c1", "name": "c", "territory_name": "t",
        "start": (today - chrono::Days::new(3)).to_string(),
        "end": (today + chrono::Days::new(3)).to_string(),
        "time_zone": "UTC",
        "territory": {"rule": "start", "geojson": {"type": "Polygon", "coordinates": [[
            [1.0, 48.0], [3.0, 48.0], [3.0, 49.5], [1.0, 49.5], [1.0, 48.0]]]}},
        "pays": ["driver", "passenger"],
        "amount": {"mode": "first_matching_band", "bands": [{"from": 0, "fixed": 100}]},
        "caps": caps
    });
    crate::campaigns::create(&app, doc.to_string().as_bytes())
        .await
        .unwrap();
    app
}

/// When [`pending`] journeys start (the campaign's time zone is UTC).
fn started() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now() - chrono::Duration::minutes(90)
}

/// A pending journey of driver `d` and passenger `p`, started 90 minutes ago.
async fn pending(app: &App, id: &str, d: u8, p: u8) {
    let now = chrono::Utc::now();
    let doc = example_document(id, now);
    let mut item = JourneyRecord::accepted_item(&app.config.hash_secret, OP, &doc, now).unwrap();
    // The people the test names.
    item.set("driver_key", hex::encode([d; 32]));
    item.set("passenger_key", hex::encode([p + 100; 32]));
    app.store.put(item, None).await.unwrap();
}

async fn drafts_of(app: &App, id: &str) -> Vec<Item> {
    journey_with_drafts(app, &keys::journey(OP, id))
        .await
        .unwrap()
        .unwrap()
        .1
}

async fn counter(app: &App, holder: &str, rest: &str) -> (i64, i64) {
    let id = CampaignId::parse("c1").unwrap();
    let item = app
        .store
        .get(&keys::draft_counter(&id, holder, rest))
        .await
        .unwrap();
    let n = |name| item.as_ref().and_then(|i| i.n(name)).unwrap_or(0);
    (n("trips"), n("amount"))
}

/// Journeys of one driver processed all at once: the counters' conditions let exactly
/// as many through as the caps allow, and the counters hold exactly what was granted.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_processing_never_exceeds_a_cap() {
    let app = app_with_campaign(json!([
        {"kind": "trips", "per": "day", "max": 3},
        {"kind": "budget", "max": 1000}
    ]))
    .await;
    let n = 12;
    for i in 0..n {
        pending(&app, &format!("j-{i}"), 7, i).await;
    }
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let app = app.clone();
        tasks.spawn(async move {
            let id = format!("j-{i}");
            // The queue redelivers a failed message: so does this loop.
            while crate::jobs::process::journey(&app, OP, &id).await.is_err() {}
        });
    }
    while tasks.join_next().await.is_some() {}

    let (mut driver_paid, mut total) = (0, 0);
    for i in 0..n {
        let id = format!("j-{i}");
        let journey = app
            .store
            .get(&keys::journey(OP, &id))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(journey.s("status"), Some("ok"));
        for d in drafts_of(&app, &id).await {
            let amount = d.n("amount").unwrap();
            total += amount;
            if d.s("role") == Some("driver") && amount > 0 {
                driver_paid += 1;
            }
        }
    }
    // 3 trips a day for the driver; the budget (1 000 c) pays 10 incentives of 100.
    assert_eq!(driver_paid, 3);
    assert_eq!(total, 1000);
    let today = started().date_naive();
    let driver = hex::encode([7u8; 32]);
    assert_eq!(
        counter(&app, &driver, &format!("driver#D{today}")).await,
        (3, 300)
    );
    assert_eq!(counter(&app, "*", "*#C").await.1, 1000);

    // Processing again (a redelivery) adds nothing.
    for i in 0..n {
        crate::jobs::process::journey(&app, OP, &format!("j-{i}"))
            .await
            .unwrap();
    }
    assert_eq!(counter(&app, "*", "*#C").await.1, 1000);
}

#[tokio::test]
async fn cancel_groups_give_back_exactly_what_was_counted() {
    let app = app_with_campaign(json!([{"kind": "amount", "per": "month", "max": 150}])).await;
    pending(&app, "a", 1, 1).await;
    pending(&app, "b", 1, 2).await;
    for id in ["a", "b"] {
        crate::jobs::process::journey(&app, OP, id).await.unwrap();
    }
    let month = started().format("%Y-%m").to_string();
    let driver = hex::encode([1u8; 32]);
    // The driver got 100 then the remaining 50.
    assert_eq!(
        counter(&app, &driver, &format!("driver#M{month}")).await,
        (2, 150)
    );
    let drafts = drafts_of(&app, "b").await;
    let groups = cancel_groups(&drafts, "2030-01-01T00:00:00.000Z");
    assert_eq!(groups.len(), 1);
    app.store.transact(groups[0].clone()).await.unwrap();
    assert_eq!(
        counter(&app, &driver, &format!("driver#M{month}")).await,
        (1, 100)
    );
    let totals = app
        .store
        .get(&keys::incentive_totals(
            &CampaignId::parse("c1").unwrap(),
            &month,
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (totals.n("draft_count"), totals.n("draft_amount")),
        (Some(2), Some(200))
    );
    assert_eq!(
        (totals.n("canceled_count"), totals.n("canceled_amount")),
        (Some(2), Some(150))
    );
    // Already canceled drafts give nothing back twice.
    let drafts = drafts_of(&app, "b").await;
    assert!(cancel_groups(&drafts, "x").is_empty());
}
