//! The monthly policy run on the production adapters: journeys and campaigns on DynamoDB,
//! the run planned as the `policy-monthly` Lambda plans it, its units carried by SQS (a
//! local moto server) to the worker as `policy-monthly-worker` receives them, a unit
//! delivered twice; the final results read back through the territory's route are those
//! of the same data on the embedded store.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeZone;
use registry_core::admin::{self, TokenRequest};
use registry_core::api::router::RouteId;
use registry_core::app::App;
use registry_core::campaigns::monthly::{self, fanout, progress, Month};
use registry_core::clock::FixedClock;
use registry_core::config::{Config, StoreKind};
use registry_core::domain::campaign::CampaignId;
use registry_core::domain::journey::example_document;
use registry_core::domain::operator::OperatorId;
use registry_core::lambda::handle_sqs;
use registry_core::queue::{memory::MemoryQueue, sqs::SqsQueue, Message, Queue};
use registry_core::store::capacity::{Metered, GSI1_PROJECTION};
use registry_core::store::dynamodb::DynamoStore;
use registry_core::store::{sqlite::SqliteStore, Store};
use registry_testkit::api::{request, send, sqs_event};
use registry_testkit::moto::*;
use serde_json::{json, Value};

const JOURNEYS: u32 = 30;

fn config() -> Config {
    Config {
        store: StoreKind::DynamoDb,
        hash_secret: "test-secret".into(),
        // Small shards: the campaigns of a few journeys are split as big ones are.
        monthly_shard_drafts: 8,
        ..Config::default()
    }
}

fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::new(
        chrono::Utc.with_ymd_and_hms(2025, 4, 6, 2, 0, 0).unwrap(),
    ))
}

fn campaign(id: &str, extra: Value) -> Value {
    let mut doc = json!({
        "id": id, "name": id, "territory_name": "Paris", "territory_id": "paris",
        "start": "2025-01-01", "end": "2025-12-31", "time_zone": "Europe/Paris",
        "territory": {"rule": "start", "geojson": {"type": "Polygon", "coordinates": [[
            [1.0, 48.0], [3.0, 48.0], [3.0, 49.5], [1.0, 49.5], [1.0, 48.0]]]}},
        "pays": ["driver", "passenger"],
        "amount": {"mode": "first_matching_band", "bands": [{"from": 0, "fixed": 100}]},
    });
    for (k, v) in extra.as_object().unwrap() {
        doc[k] = v.clone();
    }
    doc
}

/// Campaigns with op3 between them, caps per person and a budget; March journeys of four
/// drivers with one passenger, stored and processed as the queue consumer does.
async fn month_of_journeys(app: &App) {
    for doc in [
        campaign("early", json!({"priority": 10, "end": "2025-03-08"})),
        campaign(
            "main",
            json!({"priority": 5, "caps": [
                {"kind": "trips", "per": "day", "max": 1},
                {"kind": "budget", "max": 2150}]}),
        ),
        campaign(
            "bonus",
            json!({"stacking": "stackable", "pays": ["driver"]}),
        ),
    ] {
        registry_core::campaigns::create(app, doc.to_string().as_bytes())
            .await
            .unwrap();
    }
    let op = OperatorId(1);
    for i in 0..JOURNEYS {
        let id = format!("j{i:02}");
        let at = chrono::Utc
            .with_ymd_and_hms(2025, 3, 1 + (i * 3) % 25, 7 + i % 10, 0, 0)
            .unwrap();
        let mut doc = example_document(&id, at);
        doc["driver"]["identity"]["phone"] = json!(format!("+3361000000{}", 1 + i % 4));
        let item = registry_core::records::journey::JourneyRecord::accepted_item(
            &app.config.hash_secret,
            op,
            &doc,
            at,
        )
        .unwrap();
        app.store.put(item, None).await.unwrap();
        registry_core::jobs::process::journey(app, op, &id)
            .await
            .unwrap();
    }
}

/// Receives what the monthly queue holds, as the worker's event source does, until empty.
async fn worker(app: &App, queue: &SqsQueue) -> usize {
    let mut delivered = 0;
    loop {
        let deliveries = queue.receive(10, Duration::from_secs(60)).await.unwrap();
        if deliveries.is_empty() {
            return delivered;
        }
        for d in deliveries {
            let event = sqs_event([(format!("m-{delivered}"), d.body.clone())]);
            let response = handle_sqs(app, event).await;
            assert!(response.batch_item_failures.is_empty(), "{}", d.body);
            queue.ack(&d.receipt).await.unwrap();
            delivered += 1;
        }
    }
}

async fn incentives(app: &App, token: &str, campaign: &str) -> Value {
    let path = format!("/v2/campaigns/{campaign}/incentives?month=2025-03");
    let (status, body) = send(
        app,
        Some(RouteId::CampaignsIncentives),
        request("GET", &path, token, None),
    )
    .await;
    assert_eq!(status, 200);
    body
}

#[tokio::test]
async fn the_monthly_run_fans_out_through_sqs_on_dynamodb() {
    let dynamo = Arc::new(DynamoStore::new(dynamodb_client(), unique_name("monthly")));
    dynamo.create_table().await.unwrap();
    let metered = Arc::new(Metered::new(dynamo.clone(), GSI1_PROJECTION));
    let (url, dlq) =
        registry_core::queue::sqs::create_queues(&sqs_client(), &unique_name("monthly"), 5)
            .await
            .unwrap();
    let queue = SqsQueue::new(sqs_client(), url, Some(dlq)).with_wait(Duration::from_secs(1));
    let app = App::new(
        metered.clone() as Arc<dyn Store>,
        Arc::new(MemoryQueue::default()),
        config(),
    )
    .with_monthly_queue(Arc::new(queue.clone()))
    .with_clock(clock());
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(&dir.path().join("registry.db")).unwrap();
    let embedded = App::new(
        Arc::new(sqlite),
        Arc::new(MemoryQueue::default()),
        Config::default(),
    )
    .with_clock(clock());
    month_of_journeys(&app).await;
    month_of_journeys(&embedded).await;
    let march = Month::parse("2025-03").unwrap();

    // The scheduled invocation: the previous month (March, on 6 April), planned and sent.
    metered.take();
    let planned = registry_core::lambda::handle_policy_monthly(&app, json!({}))
        .await
        .unwrap();
    assert_eq!(planned["month"], "2025-03");
    let run_id = planned["run_id"].as_str().unwrap().to_owned();
    let shards: Vec<u64> = planned["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["shards"].as_u64().unwrap())
        .collect();
    assert!(
        shards.iter().all(|s| *s > 1),
        "every campaign sharded: {shards:?}"
    );
    let delivered = worker(&app, &queue).await;
    let units = metered.take();
    let record = progress::read_run(&app, &run_id).await.unwrap().unwrap();
    assert!(record.finished_at.is_some(), "{record:?}");
    assert_eq!(record.units_done, record.units);
    assert_eq!(delivered as u64, record.units, "one message per unit");
    println!(
        "monthly run on DynamoDB, {JOURNEYS} journeys x 3 campaigns, {} units: {:.1} write \
         and {:.1} read units per journey",
        record.units,
        units.write / f64::from(JOURNEYS),
        units.read / f64::from(JOURNEYS)
    );

    // The final step of `main` delivered again, late: nothing changes.
    let last = fanout::Unit {
        campaign: "main".into(),
        month: "2025-03".into(),
        shard: None,
    };
    let body = registry_core::jobs::Task::MonthlyUnit {
        run_id: run_id.clone(),
        unit: last,
    }
    .to_body();
    queue.send(vec![Message::new(body)]).await.unwrap();
    assert_eq!(worker(&app, &queue).await, 1);
    assert_eq!(
        progress::read_run(&app, &run_id).await.unwrap().unwrap(),
        record
    );

    // The same data on the embedded store, in one process: the same bytes.
    let results = monthly::run_all(&embedded, march, false, &|_| {})
        .await
        .unwrap();
    assert_eq!(results.len(), 3);
    for (outcome, local) in record.campaigns.iter().zip(&results) {
        let local = local.as_ref().unwrap();
        let aws = outcome.report.as_ref().unwrap();
        assert_eq!((&aws.campaign_id, aws.version), (&local.campaign_id, 1));
        assert_eq!(aws.digest, local.digest, "{}", aws.campaign_id);
        assert_eq!(aws.totals, local.totals);
        let id = CampaignId::parse(&aws.campaign_id).unwrap();
        let (a, b) = (
            monthly::read_final(&app, &id, march, None)
                .await
                .unwrap()
                .unwrap(),
            monthly::read_final(&embedded, &id, march, None)
                .await
                .unwrap()
                .unwrap(),
        );
        assert_eq!(a.lines, b.lines);
    }
    let main = record
        .campaigns
        .iter()
        .find(|c| c.campaign_id == "main")
        .and_then(|c| c.report.as_ref())
        .map(|r| &r.totals)
        .unwrap();
    assert!(
        main.by_status.keys().any(|s| s.as_str() == "capped"),
        "{main:?}"
    );

    // The territory reads the final lines on DynamoDB.
    admin::bootstrap(&app).await.unwrap();
    let token = admin::create_token(&app, TokenRequest::territory("paris", "paris"))
        .await
        .unwrap()
        .token;
    let page = incentives(&app, &token, "main").await;
    assert_eq!(page["final"]["version"], 1, "{page}");
    let reasons: Vec<&str> = page["incentives"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["reason"].as_str())
        .collect();
    assert!(reasons.contains(&"lower_priority"), "{page}");
    assert!(reasons.contains(&"budget"), "{page}");
}
