//! Starting counters (issue 18) on the embedded store (an SQLite file) and on DynamoDB
//! (moto): loaded per campaign and per person (by phone, kept only as identity keys), the
//! drafts and the monthly run start from them; loading again replaces them; a bad document
//! changes nothing; once a month is final they can no longer change.

use chrono::TimeZone;
use registry_core::app::App;
use registry_core::campaigns::{self, CampaignError};
use registry_core::domain::campaign::CampaignId;
use registry_core::domain::journey::example_document;
use registry_core::domain::operator::OperatorId;
use registry_core::records::keys;
use registry_testkit::app::{create_campaign, run_month, store_processed, Backend, TestApp};
use registry_testkit::docs::campaign_2025;
use serde_json::json;

const OP: OperatorId = OperatorId(1);
const PHONE_A: &str = "+33611111111";
const PHONE_B: &str = "+33622222222";
const PHONE_C: &str = "+33633333333";

/// (journey id, passenger's phone, day of March 2025).
const JOURNEYS: [(&str, &str, u32); 5] = [
    ("a1", PHONE_A, 3),
    ("b1", PHONE_B, 4),
    ("b2", PHONE_B, 5),
    ("b3", PHONE_B, 6),
    ("c1", PHONE_C, 7),
];

async fn setup(backend: Backend) -> TestApp {
    let t = TestApp::on(backend)
        .await
        .at(chrono::Utc.with_ymd_and_hms(2025, 4, 6, 2, 0, 0).unwrap());
    let doc = campaign_2025(
        "moved",
        json!({"name": "Moved", "pays": ["passenger"], "caps": [
            {"kind": "amount", "per": "campaign", "max": 250},
            {"kind": "budget", "max": 1000}
        ]}),
    );
    create_campaign(&t.app, &doc).await;
    t
}

async fn load(
    app: &App,
    doc: serde_json::Value,
) -> Result<campaigns::starting::Loaded, CampaignError> {
    campaigns::starting::load(app, "moved", doc.to_string().as_bytes()).await
}

async fn passenger_draft(app: &App, id: &str) -> i64 {
    let (_, drafts) = campaigns::drafts::journey_with_drafts(app, &keys::journey(OP, id))
        .await
        .unwrap()
        .unwrap();
    drafts.iter().filter_map(|d| d.n("amount")).sum()
}

async fn campaign_counter(app: &App) -> i64 {
    let id = CampaignId::parse("moved").unwrap();
    let item = app
        .store
        .get(&keys::draft_counter(&id, "*", "*#C"))
        .await
        .unwrap();
    item.and_then(|i| i.n("amount")).unwrap_or(0)
}

async fn starting_counters_on(backend: Backend) {
    let t = setup(backend).await;
    let app = &t.app;
    // Refused with every pointer, nothing stored.
    let bad = json!({"as_of": "2025-02-30", "persons": [{"phone": "12", "role": "driver"}]});
    match load(app, bad).await {
        Err(CampaignError::InvalidDocument(d)) => {
            let paths: Vec<&str> = d.iter().map(|d| d.path.as_str()).collect();
            assert_eq!(paths, vec!["/as_of", "/persons/0/phone", "/persons/0/role"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        campaigns::starting::load(app, "nope", b"{}").await,
        Err(CampaignError::NotFound)
    ));
    assert_eq!(campaign_counter(app).await, 0);

    let first = json!({"as_of": "2025-02-28", "budget_used": 700,
        "persons": [{"phone": "06 11 11 11 11", "role": "passenger", "amount": 200, "trips": 2}]});
    let loaded = load(app, first.clone()).await.unwrap();
    assert_eq!((loaded.header.persons, loaded.header.counters), (1, 4));
    // Loading the same again counts nothing twice.
    load(app, first).await.unwrap();
    assert_eq!(campaign_counter(app).await, 700);

    for (id, phone, day) in JOURNEYS {
        let at = chrono::Utc.with_ymd_and_hms(2025, 3, day, 8, 0, 0).unwrap();
        let mut doc = example_document(id, at);
        doc["passenger"]["identity"]["phone"] = json!(phone);
        store_processed(app, OP, &doc, at).await;
    }
    // A had 200 of 250: 50; B had nothing: 100, 100, then 50; the budget had 700 of 1000.
    let mut drafted = Vec::new();
    for (id, ..) in JOURNEYS {
        drafted.push(passenger_draft(app, id).await);
    }
    assert_eq!(drafted, vec![50, 100, 100, 50, 0], "{backend:?}");

    // Replaced: 600 used, A as before. The draft counter follows, drafts stay as written.
    load(
        app,
        json!({"as_of": "2025-02-28", "budget_used": 600,
            "persons": [{"phone": PHONE_A, "role": "passenger", "amount": 200}]}),
    )
    .await
    .unwrap();
    assert_eq!(campaign_counter(app).await, 600 + 300);

    // The monthly run starts from the stored starting counters.
    let all = campaigns::all(app).await.unwrap();
    let campaign = all.iter().find(|c| c.id.as_str() == "moved").unwrap();
    let lines = run_month(app, &all, campaign, "2025-03").await.1.lines;
    let paid: Vec<(String, i64)> = lines
        .iter()
        .map(|l| (l.journey_id.clone(), l.amount))
        .collect();
    let expected = [
        ("a1", 50),
        ("b1", 100),
        ("b2", 100),
        ("b3", 50),
        ("c1", 100),
    ];
    let expected: Vec<(String, i64)> = expected.iter().map(|(j, a)| (j.to_string(), *a)).collect();
    assert_eq!(paid, expected, "{backend:?}");

    // A month is final: no more changes.
    let again = json!({"as_of": "2025-02-28"});
    assert!(matches!(
        load(app, again).await,
        Err(CampaignError::Conflict(_))
    ));

    // No phone in clear in what the load wrote (the journeys keep theirs, SPEC §3).
    let items = registry_core::store::scan_all(app.store.as_ref())
        .await
        .unwrap();
    let written = items
        .iter()
        .filter(|i| i.key.pk.starts_with("START#") || i.key.pk.starts_with("CTR#"));
    assert!(written.clone().count() >= 4);
    for item in written {
        let text = format!("{item:?}");
        for phone in ["611111111", "622222222", "633333333"] {
            assert!(!text.contains(phone), "{phone} in {:?}", item.key);
        }
    }
}

registry_testkit::each_store!(starting_counters_on =>
    starting_counters_on_sqlite: Sqlite, starting_counters_on_dynamodb: DynamoDb);
