//! The seats-per-ride cap (issue 18) on the embedded store (an SQLite file) and on
//! DynamoDB (moto): the passengers of one ride (operator + `operator_journey_id`),
//! processed all at once (on SQLite), get drafts for at most the cap's seats a day; the monthly run,
//! the authority, pays the same seats and marks the others `capped` / `seats_per_ride`.

use std::sync::Arc;

use chrono::TimeZone;
use registry_core::app::App;
use registry_core::domain::journey::example_document;
use registry_core::domain::operator::OperatorId;
use registry_core::records::keys;
use registry_testkit::app::{create_campaign, run_month, store_accepted, Backend, TestApp};
use registry_testkit::docs::campaign_2025;
use serde_json::json;

const OP: OperatorId = OperatorId(1);

/// (journey id, ride, day of March 2025, seats).
const JOURNEYS: [(&str, &str, u32, u8); 7] = [
    ("a1", "ride-a", 10, 1),
    ("a2", "ride-a", 10, 1),
    ("a3", "ride-a", 10, 1),
    ("a4", "ride-a", 10, 1),
    // Another day of the same ride, and another ride of the same day.
    ("a5", "ride-a", 11, 1),
    ("b1", "ride-b", 10, 2),
    // Two seats where one is left: they do not fit.
    ("b2", "ride-b", 10, 2),
];

async fn setup(backend: Backend) -> (TestApp, Arc<registry_core::domain::campaign::Campaign>) {
    let t = TestApp::on(backend)
        .await
        .at(chrono::Utc.with_ymd_and_hms(2025, 4, 6, 2, 0, 0).unwrap());
    let doc = campaign_2025(
        "rides",
        json!({"name": "Rides", "pays": ["driver", "passenger"],
               "caps": [{"kind": "seats_per_ride", "max": 3}]}),
    );
    let campaign = create_campaign(&t.app, &doc).await;
    for (i, (id, ride, day, seats)) in JOURNEYS.iter().enumerate() {
        let at = chrono::Utc
            .with_ymd_and_hms(2025, 3, *day, 8, 0, 0)
            .unwrap();
        let mut doc = example_document(id, at);
        doc["operator_journey_id"] = json!(ride);
        doc["passenger"]["seats"] = json!(seats);
        doc["passenger"]["identity"]["phone"] = json!(format!("+3361200000{i}"));
        store_accepted(&t.app, OP, &doc, at).await;
    }
    (t, campaign)
}

/// Cents of the passenger's draft of each journey.
async fn drafted(app: &App, id: &str) -> i64 {
    let (_, drafts) =
        registry_core::campaigns::drafts::journey_with_drafts(app, &keys::journey(OP, id))
            .await
            .unwrap()
            .unwrap();
    drafts
        .iter()
        .filter(|d| d.s("role") == Some("passenger"))
        .filter_map(|d| d.n("amount"))
        .sum()
}

async fn seats_per_ride_caps_a_ride(backend: Backend) {
    let (t, campaign) = setup(backend).await;
    let app = &t.app;
    if backend == Backend::DynamoDb {
        // One at a time: moto applies a TransactWriteItems without a lock (it copies the
        // table to roll back), so concurrent transactions are not isolated there as in
        // DynamoDB. Concurrency is tested on SQLite (and the memory store, drafts/tests.rs).
        for (id, ..) in JOURNEYS {
            registry_core::jobs::process::journey(app, OP, id)
                .await
                .unwrap();
        }
    } else {
        // All at once: the ride counter's condition lets exactly three seats through.
        let mut tasks = tokio::task::JoinSet::new();
        for (id, ..) in JOURNEYS {
            let app = app.clone();
            tasks.spawn(async move {
                while registry_core::jobs::process::journey(&app, OP, id)
                    .await
                    .is_err()
                {}
            });
        }
        while tasks.join_next().await.is_some() {}
    }
    let mut ride_a = Vec::new();
    for id in ["a1", "a2", "a3", "a4"] {
        ride_a.push(drafted(app, id).await);
    }
    ride_a.sort();
    assert_eq!(ride_a, vec![0, 100, 100, 100], "{backend:?}");
    assert_eq!(drafted(app, "a5").await, 100, "another day");
    // Another ride: two seats, then two more where one is left (whichever came first).
    let mut ride_b = vec![drafted(app, "b1").await, drafted(app, "b2").await];
    ride_b.sort();
    assert_eq!(ride_b, vec![0, 100]);

    let (report, stored) =
        run_month(app, std::slice::from_ref(&campaign), &campaign, "2025-03").await;
    let lines = stored.lines;
    let status = |id: &str| -> Vec<(String, i64, Option<String>)> {
        lines
            .iter()
            .filter(|l| l.journey_id == id)
            .map(|l| (l.status.as_str().to_owned(), l.amount, l.reason.clone()))
            .collect()
    };
    // In start order, ties by journey id: a4 is the fourth passenger of the ride.
    for id in ["a1", "a2", "a3", "a5", "b1"] {
        assert!(
            status(id)
                .iter()
                .all(|(s, a, _)| s == "validated" && *a == 100),
            "{id}"
        );
    }
    let capped = (
        String::from("capped"),
        0,
        Some(String::from("seats_per_ride")),
    );
    assert_eq!(status("a4"), vec![capped.clone(), capped.clone()]);
    assert_eq!(status("b2"), vec![capped.clone(), capped]);
    assert_eq!(report.totals.paid.amount, 5 * 2 * 100, "{backend:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn seats_per_ride_on_sqlite() {
    seats_per_ride_caps_a_ride(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn seats_per_ride_on_dynamodb() {
    seats_per_ride_caps_a_ride(Backend::DynamoDb).await;
}
