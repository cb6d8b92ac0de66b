//! `GET /v2/journeys` on the embedded store (an SQLite file) and on DynamoDB (moto): the
//! operator's own journeys from its listing index, filters, paging, CSV, refusals.

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use registry_core::admin::{self, TokenRequest};
use registry_core::app::App;
use registry_core::domain::operator::OperatorId;
use registry_core::domain::token::{Permission, RoleKind};
use registry_core::jobs::listing;
use registry_core::records::journey::JourneyRecord;
use registry_core::records::keys;
use registry_core::store::{Condition, Update};
use registry_testkit::api::{call, request, send};
use registry_testkit::app::{config, Backend, TestApp};
use serde_json::Value;

/// Stores a journey of `op` whose passenger started `days_ago` days ago, as acceptance
/// stores it, then gives it `status`.
async fn journey(app: &App, op: OperatorId, id: &str, days_ago: i64, status: &str) {
    let start = Utc::now() - Duration::days(days_ago);
    let doc = registry_core::domain::journey::example_document(id, start);
    let item = JourneyRecord::accepted_item(&app.config.hash_secret, op, &doc, start).unwrap();
    app.store
        .put(item, Some(Condition::NotExists))
        .await
        .unwrap();
    app.store
        .update(
            &keys::journey(op, id),
            Update::new().set("status", status),
            Some(Condition::Exists),
        )
        .await
        .unwrap();
}

fn ids(page: &Value) -> Vec<String> {
    page["journeys"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|j| j["journey_id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn date(days_ago: i64) -> String {
    (Utc::now() - Duration::days(days_ago))
        .date_naive()
        .to_string()
}

async fn lists_own_journeys_filtered_and_paged(backend: Backend) {
    let app = TestApp::new(backend, config()).await;
    let (a, token) = admin::operator_with_token(&app, "A", None).await.unwrap();
    let (b, _) = admin::operator_with_token(&app, "B", None).await.unwrap();
    let token = token.token;
    journey(&app, a.id, "a-new", 1, "ok").await;
    journey(&app, a.id, "a-mid", 10, "fraud_error").await;
    journey(&app, a.id, "a-old", 45, "expired").await;
    journey(&app, a.id, "a-too-old", 80, "ok").await;
    journey(&app, b.id, "b-new", 1, "ok").await;

    // Two months or more, newest first, page after page; never another operator's.
    let base = format!("/v2/journeys?from={}&to={}", date(50), date(0));
    let (s, first) = call(&app, "GET", &format!("{base}&limit=2"), &token, None).await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(ids(&first), ["a-new", "a-mid"]);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let (s, second) = call(
        &app,
        "GET",
        &format!("{base}&limit=2&cursor={cursor}"),
        &token,
        None,
    )
    .await;
    assert_eq!(s, 200, "{second}");
    assert_eq!(ids(&second), ["a-old"]);
    assert_eq!(second["next_cursor"], Value::Null);
    assert_eq!(first["journeys"][0]["status"], "ok");
    assert!(first["journeys"][0]["start"]
        .as_str()
        .is_some_and(|s| s.ends_with('Z')));

    // Status filter (several, comma-separated), and dates.
    let (_, only) = call(
        &app,
        "GET",
        &format!("{base}&status=fraud_error,expired"),
        &token,
        None,
    )
    .await;
    assert_eq!(ids(&only), ["a-mid", "a-old"]);
    let (_, recent) = call(&app, "GET", "/v2/journeys", &token, None).await;
    assert_eq!(
        ids(&recent),
        ["a-new", "a-mid"],
        "default: the last 30 days"
    );

    // CSV.
    let mut csv_request = request("GET", &format!("{base}&limit=2"), &token, None);
    csv_request
        .headers_mut()
        .insert("accept", "text/csv".parse().unwrap());
    let response = registry_core::api::handle(&app, csv_request, None, None).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-next-cursor"));
    let text = String::from_utf8(response.body().to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("journey_id,operator_journey_id,start,status"));
    assert!(lines[1].starts_with("a-new,trip-a-new,"), "{text}");

    // Bad input: every problem with its parameter, nothing else.
    let (s, e) = call(
        &app,
        "GET",
        "/v2/journeys?from=yesterday&status=lost&limit=0",
        &token,
        None,
    )
    .await;
    assert_eq!(s, 400, "{e}");
    let paths: BTreeSet<&str> = e["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["path"].as_str())
        .collect();
    assert_eq!(paths, BTreeSet::from(["from", "status", "limit"]), "{e}");
    let (s, _) = call(&app, "GET", "/v2/journeys?cursor=bm9wZQ", &token, None).await;
    assert_eq!(s, 400);
}

async fn who_may_list(backend: Backend) {
    let app = TestApp::new(backend, config()).await;
    let registry = admin::bootstrap(&app).await.unwrap().unwrap().token;
    let (a, _) = admin::operator_with_token(&app, "A", None).await.unwrap();
    journey(&app, a.id, "a-1", 1, "ok").await;
    let operator_admin = admin::create_token(
        &app,
        TokenRequest {
            role: RoleKind::OperatorAdmin,
            ..TokenRequest::application("admin", a.id)
        },
    )
    .await
    .unwrap()
    .token;
    let no_read = admin::create_token(
        &app,
        TokenRequest {
            permissions: Some(BTreeSet::from([Permission::JourneyCreate])),
            ..TokenRequest::application("writer", a.id)
        },
    )
    .await
    .unwrap()
    .token;
    let (s, page) = send(
        &app,
        None,
        request("GET", "/v2/journeys", &operator_admin, None),
    )
    .await;
    assert_eq!((s, ids(&page)), (200, vec!["a-1".to_owned()]));
    for token in [no_read, registry] {
        let (s, _) = call(&app, "GET", "/v2/journeys", &token, None).await;
        assert_eq!(s, 403);
    }
    let (s, _) = call(&app, "GET", "/v2/journeys", "wrong", None).await;
    assert_eq!(s, 401);
}

/// A journey stored before the listing existed (no `gsi2pk`) is not listed until
/// `jobs::listing::backfill` gives it its entry; a second run writes nothing.
async fn old_journeys_listed_after_backfill(backend: Backend) {
    let app = TestApp::new(backend, config()).await;
    let (a, token) = admin::operator_with_token(&app, "A", None).await.unwrap();
    let token = token.token;
    journey(&app, a.id, "a-new", 1, "ok").await;
    journey(&app, a.id, "a-old-version", 2, "ok").await;
    app.store
        .update(
            &keys::journey(a.id, "a-old-version"),
            Update::new().remove("gsi2pk"),
            Some(Condition::Exists),
        )
        .await
        .unwrap();
    let path = format!("/v2/journeys?from={}&to={}", date(5), date(0));
    let (s, page) = call(&app, "GET", &path, &token, None).await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(ids(&page), ["a-new"]);

    let report = listing::backfill(&app, 3, 2).await.unwrap();
    assert_eq!((report.journeys, report.added, report.present), (2, 1, 1));
    let (_, page) = call(&app, "GET", &path, &token, None).await;
    assert_eq!(ids(&page), ["a-new", "a-old-version"]);

    let again = listing::backfill(&app, 1, 1).await.unwrap();
    assert_eq!((again.added, again.present), (0, 2));
}

registry_testkit::each_store!(old_journeys_listed_after_backfill =>
    old_journeys_listed_after_backfill_on_sqlite: Sqlite,
    old_journeys_listed_after_backfill_on_dynamodb: DynamoDb);

registry_testkit::each_store!(lists_own_journeys_filtered_and_paged =>
    lists_own_journeys_on_sqlite: Sqlite,
    lists_own_journeys_on_dynamodb: DynamoDb);

registry_testkit::each_store!(who_may_list =>
    only_operator_admins_and_readers_list_on_sqlite: Sqlite,
    only_operator_admins_and_readers_list_on_dynamodb: DynamoDb);
