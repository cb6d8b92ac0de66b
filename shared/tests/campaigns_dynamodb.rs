//! Campaigns and draft incentives on the production store: DynamoDB (a local moto
//! server), requests built like API Gateway builds them, processing as the queue consumer
//! runs it.

use std::sync::Arc;

use registry_core::admin::{self, TokenRequest};
use registry_core::api::router::RouteId;
use registry_core::app::App;
use registry_core::domain::operator::OperatorId;
use registry_core::queue::memory::MemoryQueue;
use registry_testkit::api::{request, send};
use registry_testkit::app::{create_campaign, dynamodb_config, dynamodb_store};
use registry_testkit::docs::{campaign_2025, incentives};
use serde_json::json;

/// The registry on a fresh DynamoDB table of the moto server (the queue in memory: these
/// tests run processing by hand).
async fn app_on_dynamodb(prefix: &str) -> App {
    let store = dynamodb_store(prefix).await;
    App::new(
        Arc::new(store),
        Arc::new(MemoryQueue::default()),
        dynamodb_config(),
    )
}

#[tokio::test]
async fn drafts_are_written_listed_and_canceled_on_dynamodb() {
    let app = app_on_dynamodb("campaigns").await;
    let admin = admin::bootstrap(&app).await.unwrap().unwrap().token;
    let (op, app_token) = admin::operator_with_token(&app, "Covoit", None)
        .await
        .unwrap();
    let app_token = app_token.token;
    let territory = admin::create_token(&app, TokenRequest::territory("t", "paris"))
        .await
        .unwrap()
        .token;

    let started = chrono::Utc::now() - chrono::Duration::minutes(90);
    let today = started.date_naive();
    let campaign = json!({
        "id": "paris-aws", "name": "Paris", "territory_name": "Paris", "territory_id": "paris",
        "start": (today - chrono::Days::new(5)).to_string(),
        "end": (today + chrono::Days::new(5)).to_string(),
        "time_zone": "UTC",
        "territory": {"rule": "start_and_end", "geojson": {"type": "Polygon", "coordinates": [[
            [1.9, 48.6], [2.6, 48.6], [2.6, 49.0], [1.9, 49.0], [1.9, 48.6]]]}},
        "pays": ["driver", "passenger"],
        "amount": {"mode": "first_matching_band", "per_seat": true,
                   "bands": [{"from": 2000, "to": 100000, "fixed": 150}]},
        "caps": [{"kind": "amount", "per": "month", "max": 200}, {"kind": "budget", "max": 100000}]
    });
    let (s, created) = send(
        &app,
        Some(RouteId::CampaignsCreate),
        request("POST", "/v2/campaigns", &admin, Some(campaign)),
    )
    .await;
    assert_eq!(s, 201, "{created}");

    for id in ["a-1", "a-2"] {
        let doc = registry_core::domain::journey::example_document(
            id,
            started + chrono::Duration::minutes(90),
        );
        let (s, r) = send(
            &app,
            Some(RouteId::JourneysCreate),
            request("POST", "/v2/journeys", &app_token, Some(doc)),
        )
        .await;
        assert_eq!(s, 201, "{r}");
        registry_core::jobs::process::journey(&app, OperatorId(op.id.0), id)
            .await
            .unwrap();
        // A redelivery adds nothing.
        registry_core::jobs::process::journey(&app, OperatorId(op.id.0), id)
            .await
            .unwrap();
    }
    let (_, first) = send(
        &app,
        Some(RouteId::JourneysStatus),
        request("GET", "/v2/journeys/a-1", &app_token, None),
    )
    .await;
    assert_eq!(
        incentives(&first),
        vec![
            ("driver".into(), 150, "draft".into()),
            ("passenger".into(), 150, "draft".into())
        ]
    );
    // 200 c a month per person: the second trip pays the 50 c left.
    let (_, second) = send(
        &app,
        Some(RouteId::JourneysStatus),
        request("GET", "/v2/journeys/a-2", &app_token, None),
    )
    .await;
    assert_eq!(
        incentives(&second),
        vec![
            ("driver".into(), 50, "draft".into()),
            ("passenger".into(), 50, "draft".into())
        ]
    );
    let month = today.format("%Y-%m");
    let listing = format!("/v2/campaigns/paris-aws/incentives?month={month}&status=draft");
    let (s, page) = send(
        &app,
        Some(RouteId::CampaignsIncentives),
        request("GET", &listing, &territory, None),
    )
    .await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["totals"], json!({"count": 4, "amount": 400}));

    // Canceled: drafts with it, and the month's room given back.
    let (s, _) = send(
        &app,
        Some(RouteId::JourneysCancel),
        request("DELETE", "/v2/journeys/a-1", &app_token, None),
    )
    .await;
    assert_eq!(s, 200);
    let (_, first) = send(
        &app,
        Some(RouteId::JourneysStatus),
        request("GET", "/v2/journeys/a-1", &app_token, None),
    )
    .await;
    assert_eq!(
        incentives(&first),
        vec![
            ("driver".into(), 150, "canceled".into()),
            ("passenger".into(), 150, "canceled".into())
        ]
    );
    let (_, page) = send(
        &app,
        Some(RouteId::CampaignsIncentives),
        request("GET", &listing, &territory, None),
    )
    .await;
    assert_eq!(page["totals"], json!({"count": 2, "amount": 100}));
    let doc = registry_core::domain::journey::example_document(
        "a-3",
        started + chrono::Duration::minutes(90),
    );
    send(
        &app,
        Some(RouteId::JourneysCreate),
        request("POST", "/v2/journeys", &app_token, Some(doc)),
    )
    .await;
    registry_core::jobs::process::journey(&app, OperatorId(op.id.0), "a-3")
        .await
        .unwrap();
    let (_, third) = send(
        &app,
        Some(RouteId::JourneysStatus),
        request("GET", "/v2/journeys/a-3", &app_token, None),
    )
    .await;
    assert_eq!(incentives(&third)[0].1, 150, "{third}");
}

/// A past month made final on DynamoDB: the operator index is written there, the operator
/// statement (two operators, paged) and the status route read it.
#[tokio::test]
async fn statements_and_final_statuses_on_dynamodb() {
    let app = app_on_dynamodb("statements").await;
    let admin = admin::bootstrap(&app).await.unwrap().unwrap().token;
    let mut tokens = Vec::new();
    for name in ["Covoit", "Other"] {
        let (op, token) = admin::operator_with_token(&app, name, None).await.unwrap();
        tokens.push((op.id, token.token));
    }
    create_campaign(&app, &campaign_2025("march-aws", json!({"name": "March"}))).await;
    // 30 journeys of the first operator, 5 of the other, one driver each.
    let journeys: Vec<(OperatorId, String)> = (0..35)
        .map(|n| {
            let op = tokens[usize::from(n >= 30)].0;
            (op, format!("d-{n:02}"))
        })
        .collect();
    for (n, (op, id)) in journeys.iter().enumerate() {
        let at = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2025, 3, 3, 9, 0, 0).unwrap()
            + chrono::Duration::hours(n as i64 * 5);
        let mut doc = registry_core::domain::journey::example_document(id, at);
        doc["driver"]["identity"]["phone"] = json!(format!("+3361{n:07}"));
        let item = registry_core::records::journey::JourneyRecord::accepted_item(
            &app.config.hash_secret,
            *op,
            &doc,
            at,
        )
        .unwrap();
        app.store.put(item, None).await.unwrap();
        registry_core::jobs::process::journey(&app, *op, id)
            .await
            .unwrap();
    }
    let month = registry_core::campaigns::monthly::Month::parse("2025-03").unwrap();
    let reports = registry_core::campaigns::monthly::run_all(&app, month, false, &|_| {})
        .await
        .unwrap();
    assert!(reports[0].is_ok(), "{:?}", reports[0]);

    let (op, token) = &tokens[0];
    let base = format!("/v2/operators/{op}/incentives?month=2025-03&limit=7");
    let mut seen = Vec::new();
    let mut url = base.clone();
    loop {
        let (s, page) = send(
            &app,
            Some(RouteId::OperatorsIncentives),
            request("GET", &url, token, None),
        )
        .await;
        assert_eq!(s, 200, "{page}");
        assert_eq!(page["final"], true);
        assert_eq!(page["totals"]["paid"], json!({"count": 30, "amount": 3000}));
        for l in page["lines"].as_array().unwrap() {
            seen.push(l["journey_id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("{base}&cursor={c}"),
            None => break,
        }
    }
    let want: Vec<String> = (0..30).map(|n| format!("d-{n:02}")).collect();
    assert_eq!(seen, want);
    let (_, status) = send(
        &app,
        Some(RouteId::JourneysStatus),
        request("GET", "/v2/journeys/d-17", token, None),
    )
    .await;
    assert_eq!(status["incentives"][0]["status"], "validated", "{status}");
    assert_eq!(status["incentives"][0]["final_version"], 1);
    let (other, other_token) = &tokens[1];
    let (s, theirs) = send(
        &app,
        Some(RouteId::OperatorsIncentives),
        request(
            "GET",
            &format!("/v2/operators/{other}/incentives?month=2025-03"),
            other_token,
            None,
        ),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(theirs["lines"].as_array().unwrap().len(), 5, "{theirs}");
    let (s, _) = send(
        &app,
        Some(RouteId::OperatorsIncentives),
        request("GET", &base, other_token, None),
    )
    .await;
    assert_eq!(s, 404);
    let (s, _) = send(
        &app,
        Some(RouteId::OperatorsIncentives),
        request("GET", &base, &admin, None),
    )
    .await;
    assert_eq!(s, 200);
}
