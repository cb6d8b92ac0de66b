//! The sample events of events/ go through the Lambda adapter exactly as API Gateway (HTTP
//! API, payload 2.0) and SQS deliver them, on a real SQLite store file.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use aws_lambda_events::sqs::SqsEvent;
use registry_core::admin::{self, TokenRequest};
use registry_core::api::router::{RouteId, ROUTES};
use registry_core::app::App;
use registry_core::config::Config;
use registry_core::domain::operator::OperatorId;
use registry_core::lambda::{handle_http, handle_sqs, handle_unrouted};
use registry_core::queue::memory::MemoryQueue;
use registry_core::records::journey::JourneyRecord;
use registry_core::store::capacity::{Metered, GSI1_PROJECTION};
use registry_core::store::memory::MemoryStore;
use registry_testkit::app::{create_campaign, signing_key, sqlite_app, store_processed};
use registry_testkit::docs::campaign_2025;
use serde_json::{json, Value};

fn events_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../events"))
}

fn event(name: &str, token: &str) -> lambda_http::Request {
    let text = std::fs::read_to_string(events_dir().join(format!("{name}.json"))).unwrap();
    lambda_http::request::from_str(&text.replace("REPLACE_WITH_TOKEN", token))
        .unwrap_or_else(|e| panic!("{name}.json is not an API Gateway event: {e}"))
}

/// The sample event with its document moved to the present (the file's journey is old).
fn fresh_event(name: &str, token: &str) -> lambda_http::Request {
    let text = std::fs::read_to_string(events_dir().join(format!("{name}.json"))).unwrap();
    let mut event: Value =
        serde_json::from_str(&text.replace("REPLACE_WITH_TOKEN", token)).unwrap();
    let doc = registry_core::domain::journey::example_document("demo-1", chrono::Utc::now());
    event["body"] = Value::String(doc.to_string());
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

/// The journeys-create sample (a fresh journey) sent with `token`: 201.
async fn create_fresh(app: &App, token: &str) -> lambda_http::Response<lambda_http::Body> {
    let event = fresh_event("journeys-create", token);
    let r = handle_http(app, RouteId::JourneysCreate, event).await;
    assert_eq!(r.status(), 201, "{:?}", r.body());
    r
}

/// The queue-consumer sample event.
fn recorded_sqs() -> SqsEvent {
    let text = std::fs::read_to_string(events_dir().join("queue-consumer.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// An app on a memory store behind [`Metered`] (the DynamoDB units of every call counted).
fn metered_app() -> (Arc<Metered>, App) {
    let metered = Arc::new(Metered::new(Arc::new(MemoryStore::new()), GSI1_PROJECTION));
    let app = App::new(
        metered.clone(),
        Arc::new(MemoryQueue::default()),
        Config::default(),
    );
    (metered, app)
}

fn sample_worker_event() -> Value {
    let text = std::fs::read_to_string(events_dir().join("policy-monthly-worker.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn body(response: &lambda_http::Response<lambda_http::Body>) -> Value {
    serde_json::from_slice(response.body().as_ref()).unwrap()
}

async fn app(dir: &tempfile::TempDir) -> App {
    sqlite_app(dir, Config::default()).await
}

#[test]
fn there_is_one_event_per_route_and_function() {
    let mut files: BTreeSet<String> = std::fs::read_dir(events_dir())
        .unwrap()
        .map(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".json")
                .to_owned()
        })
        .collect();
    assert!(files.remove("queue-consumer"));
    assert!(files.remove("sweeper"));
    assert!(files.remove("fraud-pass"));
    assert!(files.remove("policy-monthly"));
    assert!(files.remove("policy-monthly-worker"));
    assert!(files.remove("queue-consumer-fraud-unit"));
    assert!(files.remove("not-found"));
    let routes: BTreeSet<String> = ROUTES.iter().map(|r| r.function.to_owned()).collect();
    assert_eq!(files, routes);
}

#[tokio::test]
async fn every_route_event_is_served_by_its_function() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir).await;
    let admin = admin::bootstrap(&app).await.unwrap().unwrap().token;

    let r = handle_http(
        &app,
        RouteId::OperatorsCreate,
        event("operators-create", &admin),
    )
    .await;
    assert_eq!(r.status(), 201, "{:?}", r.body());
    assert_eq!(body(&r)["id"], 1, "the events use operator 1");
    let r = handle_http(
        &app,
        RouteId::ApplicationsCreate,
        event("applications-create", &admin),
    )
    .await;
    assert_eq!(r.status(), 201);
    let created = body(&r);
    let token = created["token"].as_str().unwrap();

    let r = handle_http(
        &app,
        RouteId::JourneysCreate,
        event("journeys-create", token),
    )
    .await;
    assert_eq!(r.status(), 201, "{:?}", r.body());
    // The sample's journey ended in 2025: more than 120 h ago, so it is kept as expired.
    assert_eq!(body(&r)["status"], "expired");
    // The document is kept byte for byte as received.
    let sent = event("journeys-create", token);
    let sent = std::str::from_utf8(sent.body().as_ref())
        .unwrap()
        .to_owned();
    let stored = app
        .store
        .get(&registry_core::records::keys::journey(
            OperatorId(1),
            "demo-1",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        registry_core::records::journey::stored_document(&stored),
        Some(sent.into_bytes())
    );
    // Its normalised form: identity keys (keyed hashes, no phone in them) and UTC instants.
    let passenger = stored.s("passenger_key").unwrap();
    let driver = stored.s("driver_key").unwrap();
    assert!(passenger.len() == 64 && passenger.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_ne!(passenger, driver);
    assert_eq!(
        stored.s("passenger_start"),
        Some("2025-11-24T07:45:00.000Z")
    );
    // The end instants are in the facts (milliseconds from the start).
    let facts = JourneyRecord::from_item(&stored).facts().unwrap();
    assert_eq!(
        registry_core::clock::rfc3339(facts.driver.end.at),
        "2025-11-24T08:15:00.000Z"
    );
    let r = handle_http(
        &app,
        RouteId::JourneysStatus,
        event("journeys-status", token),
    )
    .await;
    assert_eq!(r.status(), 200, "{:?}", r.body());
    assert_eq!(body(&r)["journey_id"], "demo-1");

    // The sample token may only create and read: invalidation needs journey.delete.
    let r = handle_http(
        &app,
        RouteId::JourneysCancel,
        event("journeys-cancel", token),
    )
    .await;
    assert_eq!(r.status(), 403);
    let full = admin::create_token(&app, TokenRequest::application("all", OperatorId(1)))
        .await
        .unwrap()
        .token;
    let r = handle_http(
        &app,
        RouteId::JourneysCancel,
        event("journeys-cancel", &full),
    )
    .await;
    assert_eq!(r.status(), 200, "{:?}", r.body());
    assert_eq!(body(&r)["status"], "canceled");

    for (name, route) in [
        ("operators-list", RouteId::OperatorsList),
        ("operators-get", RouteId::OperatorsGet),
        ("applications-list", RouteId::ApplicationsList),
    ] {
        let r = handle_http(&app, route, event(name, &admin)).await;
        assert_eq!(r.status(), 200, "{name}: {:?}", r.body());
    }
    // The sample revokes a token that does not exist: 404, JSON.
    let r = handle_http(
        &app,
        RouteId::ApplicationsRevoke,
        event("applications-revoke", &admin),
    )
    .await;
    assert_eq!(r.status(), 404);
    assert_eq!(body(&r)["error"]["code"], "not_found");

    // A function serves only its own route.
    let r = handle_http(
        &app,
        RouteId::OperatorsList,
        event("journeys-create", token),
    )
    .await;
    assert_eq!(r.status(), 404);
    // The token of the event is checked like any other.
    let r = handle_http(
        &app,
        RouteId::JourneysCreate,
        event("journeys-create", "rpc.bad"),
    )
    .await;
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn fraud_pass_event_fans_out_units_the_consumer_runs() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir).await;
    let text = std::fs::read_to_string(events_dir().join("fraud-pass.json")).unwrap();
    let scheduled: Value = serde_json::from_str(&text).unwrap();
    let started = registry_core::lambda::handle_fraud_pass(&app, scheduled)
        .await
        .unwrap();
    // The last 7 days and today, one unit per day and identity-key shard.
    let units = 8 * u64::from(registry_core::records::keys::FRAUD_SHARDS);
    assert_eq!(started["units"], units);
    let deliveries = app
        .queue
        .receive(1000, std::time::Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(deliveries.len() as u64, units);
    // A manual run from a day; a bad day is refused.
    let manual = registry_core::lambda::handle_fraud_pass(&app, json!({"since": "nope"})).await;
    assert!(manual.is_err());

    // The sample unit (of a run this store never saw) runs, and is not retried.
    let text =
        std::fs::read_to_string(events_dir().join("queue-consumer-fraud-unit.json")).unwrap();
    let sqs: SqsEvent = serde_json::from_str(&text).unwrap();
    assert!(handle_sqs(&app, sqs).await.batch_item_failures.is_empty());
}

#[tokio::test]
async fn campaign_route_events_are_served_by_their_functions() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir).await;
    let admin = admin::bootstrap(&app).await.unwrap().unwrap().token;
    let territory = |t: &str| TokenRequest::territory("territory", t);
    let own = admin::create_token(&app, territory("la-rochelle"))
        .await
        .unwrap()
        .token;
    let other = admin::create_token(&app, territory("nantes"))
        .await
        .unwrap()
        .token;

    let r = handle_http(
        &app,
        RouteId::CampaignsCreate,
        event("campaigns-create", &admin),
    )
    .await;
    assert_eq!(r.status(), 201, "{:?}", r.body());
    assert_eq!(body(&r)["version"], 1);
    assert_eq!(body(&r)["status"], "upcoming");
    // Territory tokens read, never write.
    let r = handle_http(
        &app,
        RouteId::CampaignsCreate,
        event("campaigns-create", &own),
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = handle_http(
        &app,
        RouteId::CampaignsUpdate,
        event("campaigns-update", &admin),
    )
    .await;
    assert_eq!(r.status(), 200, "{:?}", r.body());
    assert_eq!(body(&r)["version"], 2);
    for token in [&admin, &own] {
        let r = handle_http(&app, RouteId::CampaignsGet, event("campaigns-get", token)).await;
        assert_eq!(r.status(), 200, "{:?}", r.body());
        assert_eq!(body(&r)["history"].as_array().unwrap().len(), 2);
        let r = handle_http(&app, RouteId::CampaignsList, event("campaigns-list", token)).await;
        assert_eq!(body(&r)["campaigns"][0]["id"], "demo-2099");
    }
    // Another territory's campaign does not exist for this token.
    let r = handle_http(&app, RouteId::CampaignsGet, event("campaigns-get", &other)).await;
    assert_eq!(r.status(), 404);
    let r = handle_http(
        &app,
        RouteId::CampaignsList,
        event("campaigns-list", &other),
    )
    .await;
    assert_eq!(body(&r)["campaigns"], serde_json::json!([]));
    // The sample asks for CSV.
    let r = handle_http(
        &app,
        RouteId::CampaignsIncentives,
        event("campaigns-incentives", &own),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(r.headers()["x-total-count"], "0");
    let text = std::str::from_utf8(r.body().as_ref()).unwrap().to_owned();
    assert!(text.starts_with("journey_id,operator_id,"), "{text}");
    let r = handle_http(
        &app,
        RouteId::CampaignsClose,
        event("campaigns-close", &admin),
    )
    .await;
    assert_eq!(r.status(), 200, "{:?}", r.body());
    assert_eq!(body(&r)["status"], "closed");
    assert_eq!(body(&r)["closed_on"], "2099-06-30");
}

#[tokio::test]
async fn queue_consumer_event_processes_and_reports_failures() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir).await;
    let (op, token) = admin::operator_with_token(&app, "Demo", None)
        .await
        .unwrap();
    assert_eq!(op.id, OperatorId(1));
    let r = create_fresh(&app, &token.token).await;
    assert_eq!(body(&r)["status"], "pending");

    let mut sqs = recorded_sqs();
    // A second record that can never succeed must be reported, alone.
    let mut bad = sqs.records[0].clone();
    bad.message_id = Some("bad-1".into());
    bad.body = Some("{\"type\":\"unknown\"}".into());
    sqs.records.push(bad);
    let response = handle_sqs(&app, sqs.clone()).await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, vec!["bad-1".to_owned()]);
    let r = handle_http(
        &app,
        RouteId::JourneysStatus,
        event("journeys-status", &token.token),
    )
    .await;
    assert_eq!(body(&r)["status"], "ok");
    // Delivered again: nothing changes, nothing fails (idempotent).
    sqs.records.truncate(1);
    let before = body(
        &handle_http(
            &app,
            RouteId::JourneysStatus,
            event("journeys-status", &token.token),
        )
        .await,
    );
    assert!(handle_sqs(&app, sqs).await.batch_item_failures.is_empty());
    let after = body(
        &handle_http(
            &app,
            RouteId::JourneysStatus,
            event("journeys-status", &token.token),
        )
        .await,
    );
    assert_eq!(before, after);
}

#[test]
fn the_default_route_answers_json_404_and_405() {
    let r = handle_unrouted(&event("not-found", "any"));
    assert_eq!(r.status(), 404);
    assert_eq!(body(&r)["error"]["code"], "not_found");
    // A path that exists with another method: 405 with Allow.
    let mut wrong = event("journeys-create", "any");
    *wrong.method_mut() = http::Method::PUT;
    let r = handle_unrouted(&wrong);
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "POST, GET");
}

/// The `not-found` function ($default route) serves the console's files: the console is
/// deployed with the stack, under the API's own origin.
#[test]
fn the_default_route_serves_the_console() {
    for (path, content_type) in [("/", "text/html"), ("/console/app.js", "text/javascript")] {
        let mut request = event("not-found", "any");
        *request.uri_mut() = path.parse().unwrap();
        *request.method_mut() = http::Method::GET;
        let r = handle_unrouted(&request);
        assert_eq!(r.status(), 200, "{path}");
        let ct = r.headers()["content-type"].to_str().unwrap();
        assert!(ct.starts_with(content_type), "{path}: {ct}");
        let csp = r.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe"));
    }
}

/// DynamoDB on-demand units of one accepted journey, counted from the items written by the
/// real handlers (moto does not meter capacity): the figure of docs/BENCHMARKS.md.
#[tokio::test]
async fn an_accepted_journey_costs_at_most_four_write_units() {
    use registry_core::store::Store;

    let (metered, app) = metered_app();
    let (operator, token) = admin::operator_with_token(&app, "Demo", None)
        .await
        .unwrap();
    metered.take();

    create_fresh(&app, &token.token).await;
    let accepted = metered.take();
    // The journey item with its facts stays within one write unit (its pending-index copy
    // too): the bytes DynamoDB bills, in docs/BENCHMARKS.md.
    let key = registry_core::records::keys::journey(operator.id, "demo-1");
    let size =
        registry_core::store::capacity::item_size(&metered.get(&key).await.unwrap().unwrap());
    metered.take();
    println!("journey item: {size} bytes");
    assert!(size <= 1024, "{size}");

    assert!(handle_sqs(&app, recorded_sqs())
        .await
        .batch_item_failures
        .is_empty());
    let processed = metered.take();
    println!("accepted: {accepted:?}, processed: {processed:?}");
    // Journey item, its pending-index entry, its listing-index entry (gsi2, keys only),
    // the operator's rate counter.
    assert!(accepted.write <= 4.0, "{accepted:?}");
    // The token, then nothing else: duplicates are found by the conditional write.
    assert_eq!(accepted.read, 1.0);
    // The journey read and the campaigns' generation counter (no campaign here), then plain
    // writes (a transaction would bill each twice): the fraud evidence of its two people and
    // their two certificate trip-index entries (~250 bytes each), the status update and the
    // pending-index entry leaving: 2 + 2 + 1 + 1 = 6.
    assert!(processed.write <= 6.0, "{processed:?}");

    // Long ids (UUIDs) make the item cross 1 KB: reported, see docs/BENCHMARKS.md.
    let uuid = "0b6f1d2e-8c41-4c1b-9a57-3f0e2d9c7a11";
    let mut event: Value = serde_json::from_str(
        &std::fs::read_to_string(events_dir().join("journeys-create.json"))
            .unwrap()
            .replace("REPLACE_WITH_TOKEN", &token.token),
    )
    .unwrap();
    let mut doc = registry_core::domain::journey::example_document(uuid, chrono::Utc::now());
    doc["operator_journey_id"] = Value::String(uuid.replace('0', "f"));
    event["body"] = Value::String(doc.to_string());
    let r = handle_http(
        &app,
        RouteId::JourneysCreate,
        lambda_http::request::from_str(&event.to_string()).unwrap(),
    )
    .await;
    assert_eq!(r.status(), 201, "{:?}", r.body());
    println!("accepted with UUID ids: {:?}", metered.take());
}

/// The same count with two campaigns the example journey is eligible to (one pays the
/// driver, the other the passenger, stackable): processing then also reads the campaigns
/// and the counters, and writes the draft incentives and provisional counters. The figure
/// of docs/COST.md.
#[tokio::test]
async fn a_journey_processed_under_two_campaigns_costs() {
    let (metered, app) = metered_app();
    let area = serde_json::json!({"type": "Polygon", "coordinates": [[
        [1.95, 48.70], [2.20, 48.62], [2.50, 48.70], [2.55, 48.85],
        [2.45, 48.95], [2.20, 48.98], [2.00, 48.90], [1.95, 48.70]]]});
    for (id, pays) in [("cost-driver", "driver"), ("cost-passenger", "passenger")] {
        let campaign = serde_json::json!({
            "id": id, "name": id, "territory_name": "Paris area",
            "start": "2020-01-01", "end": "2030-12-31", "time_zone": "Europe/Paris",
            "territory": {"rule": "start_or_end", "geojson": area},
            "distance": {"min": 2000, "max": 80000},
            "pays": [pays],
            "amount": {"mode": "first_matching_band",
                       "bands": [{"from": 2000, "to": 80000, "fixed": 150}], "per_seat": true},
            "caps": [{"kind": "trips", "per": "day", "max": 4},
                     {"kind": "amount", "per": "month", "max": 9000},
                     {"kind": "budget", "max": 5000000}],
            "priority": 10, "stacking": "stackable"
        });
        registry_core::campaigns::create(&app, campaign.to_string().as_bytes())
            .await
            .unwrap();
    }
    let (_, token) = admin::operator_with_token(&app, "Demo", None)
        .await
        .unwrap();
    metered.take();
    create_fresh(&app, &token.token).await;
    let accepted = metered.take();
    assert!(handle_sqs(&app, recorded_sqs())
        .await
        .batch_item_failures
        .is_empty());
    let processed = metered.take();
    println!("two campaigns: accepted: {accepted:?}, processed: {processed:?}");
    // Both campaigns paid: their drafts are what the status route shows.
    let status = handle_http(
        &app,
        RouteId::JourneysStatus,
        event("journeys-status", &token.token),
    )
    .await;
    assert_eq!(status.status(), 200);
    assert_eq!(
        body(&status)["incentives"].as_array().map(Vec::len),
        Some(2),
        "{}",
        body(&status)
    );
    // Journey, pending-index and listing-index (gsi2) entries, rate counter.
    assert_eq!(accepted.write, 4.0);
    assert!(
        processed.write > 6.0,
        "drafts and counters are written: {processed:?}"
    );

    // The steady state: another couple, the campaigns already cached by this process and
    // the campaign-wide counters already there.
    metered.take();
    let mut doc = registry_core::domain::journey::example_document("demo-2", chrono::Utc::now());
    doc["passenger"]["identity"]["phone"] = Value::from("+33611111111");
    doc["driver"]["identity"]["phone"] = Value::from("+33622222222");
    let mut api: Value = serde_json::from_str(
        &std::fs::read_to_string(events_dir().join("journeys-create.json"))
            .unwrap()
            .replace("REPLACE_WITH_TOKEN", &token.token),
    )
    .unwrap();
    api["body"] = Value::String(doc.to_string());
    let r = handle_http(
        &app,
        RouteId::JourneysCreate,
        lambda_http::request::from_str(&api.to_string()).unwrap(),
    )
    .await;
    assert_eq!(r.status(), 201, "{:?}", r.body());
    let accepted = metered.take();
    let text = std::fs::read_to_string(events_dir().join("queue-consumer.json")).unwrap();
    let sqs: SqsEvent = serde_json::from_str(&text.replace("demo-1", "demo-2")).unwrap();
    assert!(handle_sqs(&app, sqs).await.batch_item_failures.is_empty());
    let processed = metered.take();
    println!("two campaigns, next journey: accepted: {accepted:?}, processed: {processed:?}");
    assert_eq!((accepted.write, accepted.read), (4.0, 1.0));
}

/// The CEE sample events through their functions (long registration: no journey needed).
#[tokio::test]
async fn cee_events_are_served_by_their_functions() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        signing_key: Some(signing_key()),
        ..Config::default()
    };
    let app = sqlite_app(&dir, config).await;
    let (op, token) = admin::operator_with_token(&app, "Covoit", Some("89248032800012".into()))
        .await
        .unwrap();
    assert_eq!(op.id, OperatorId(1));
    let token = token.token;
    let r = handle_http(&app, RouteId::CeePublicKey, event("cee-public-key", "")).await;
    assert_eq!(r.status(), 200);
    assert!(std::str::from_utf8(r.body().as_ref())
        .unwrap()
        .starts_with("-----BEGIN PUBLIC KEY-----"));
    let r = handle_http(&app, RouteId::CeeSimulate, event("cee-simulate", &token)).await;
    assert_eq!(r.status(), 200, "{:?}", r.body());
    let r = handle_http(&app, RouteId::CeeRegister, event("cee-register", &token)).await;
    assert_eq!(r.status(), 201, "{:?}", r.body());
    let uuid = body(&r)["uuid"].as_str().unwrap().to_owned();
    let r = handle_http(&app, RouteId::CeeSimulate, event("cee-simulate", &token)).await;
    assert_eq!(r.status(), 409);
    assert_eq!(body(&r)["error"]["data"]["uuid"], uuid.as_str());
    let r = handle_http(&app, RouteId::CeeImport, event("cee-import", &token)).await;
    assert_eq!(r.status(), 201, "{:?}", r.body());
    assert_eq!(body(&r)["imported"], 2);
    let r = handle_http(
        &app,
        RouteId::CeeImportIdentity,
        event("cee-import-identity", &token),
    )
    .await;
    assert_eq!(r.status(), 200, "{:?}", r.body());
    assert_eq!(body(&r)["imported"], 1);
    // The samples name an application that does not exist.
    for (name, route) in [
        ("cee-find", RouteId::CeeFind),
        ("cee-delete", RouteId::CeeDelete),
    ] {
        let r = handle_http(&app, route, event(name, &token)).await;
        assert_eq!(r.status(), 404, "{name}");
    }
}

/// The certificate samples: create (no journeys in 2025 for that phone: zero totals), then
/// the public check and the PDF, which API Gateway gets base64-encoded.
#[tokio::test]
async fn certificate_events_are_served_by_their_functions() {
    const SAMPLE_UUID: &str = "3d8f6a2e-6b1c-4f0e-9a57-2c1d0b9e8f41";
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir).await;
    let token = admin::operator_with_token(&app, "Demo", None)
        .await
        .unwrap()
        .1
        .token;
    let r = handle_http(
        &app,
        RouteId::CertificatesCreate,
        event("certificates-create", &token),
    )
    .await;
    assert_eq!(r.status(), 201, "{:?}", r.body());
    let created = body(&r);
    assert_eq!(created["meta"]["total"]["trips"], 0);
    let uuid = created["uuid"].as_str().unwrap();

    let with_uuid = |name: &str| {
        let text = std::fs::read_to_string(events_dir().join(format!("{name}.json"))).unwrap();
        assert!(
            text.contains(SAMPLE_UUID),
            "{name}.json names the sample uuid"
        );
        let text = text
            .replace(SAMPLE_UUID, uuid)
            .replace("REPLACE_WITH_TOKEN", &token);
        lambda_http::request::from_str(&text).unwrap()
    };
    // The sample uuid itself is unknown: 404.
    let r = handle_http(
        &app,
        RouteId::CertificatesFind,
        event("certificates-find", ""),
    )
    .await;
    assert_eq!(r.status(), 404);
    let r = handle_http(
        &app,
        RouteId::CertificatesFind,
        with_uuid("certificates-find"),
    )
    .await;
    assert_eq!(r.status(), 200, "{:?}", r.body());
    assert_eq!(body(&r)["uuid"], uuid);
    assert_eq!(body(&r)["meta"]["positions"], 1);

    let r = handle_http(
        &app,
        RouteId::CertificatesAttachment,
        with_uuid("certificates-attachment"),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    match r.body() {
        lambda_http::Body::Binary(pdf) => assert!(pdf.starts_with(b"%PDF-")),
        other => panic!("a PDF must be a binary body, got {other:?}"),
    }
}

/// Runs what the monthly queue holds as SQS delivers it to `policy-monthly-worker` (the
/// sample event with each message's body), until the queue is empty; returns the run.
async fn monthly_worker(app: &App, run: &Value) -> Value {
    let sample = sample_worker_event();
    loop {
        let messages = app
            .monthly_queue
            .receive(10, std::time::Duration::from_secs(60))
            .await
            .unwrap();
        if messages.is_empty() {
            break;
        }
        for m in messages {
            let mut event = sample.clone();
            event["Records"][0]["body"] = Value::String(m.body.clone());
            let sqs: SqsEvent = serde_json::from_value(event).unwrap();
            assert!(handle_sqs(app, sqs).await.batch_item_failures.is_empty());
            app.monthly_queue.ack(&m.receipt).await.unwrap();
        }
    }
    let run_id = run["run_id"].as_str().unwrap();
    let record = registry_core::campaigns::monthly::progress::read_run(app, run_id)
        .await
        .unwrap()
        .unwrap();
    serde_json::to_value(record).unwrap()
}

/// Campaign `m-2025` (Paris, 1.00 to the driver) and journey `m-1` of `operator` on
/// 12 March 2025, stored as acceptance writes it and processed: one draft of 100.
async fn paid_march_journey(app: &App, operator: OperatorId) {
    let doc = campaign_2025("m-2025", json!({"name": "m", "territory_name": "t"}));
    create_campaign(app, &doc).await;
    let at = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2025, 3, 12, 9, 0, 0).unwrap();
    let journey = registry_core::domain::journey::example_document("m-1", at);
    store_processed(app, operator, &journey, at).await;
}

/// The scheduled sample plans the previous month (Paris); a manual invocation names a
/// month, is refused on a final month unless forced, and a bad month is an error. The
/// worker sample's shape carries the units; a unit of an unknown run is a failure.
#[tokio::test]
async fn policy_monthly_event_makes_a_month_final() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir).await;
    paid_march_journey(&app, OperatorId(1)).await;

    let text = std::fs::read_to_string(events_dir().join("policy-monthly.json")).unwrap();
    let scheduled: Value = serde_json::from_str(&text).unwrap();
    let r = registry_core::lambda::handle_policy_monthly(&app, scheduled)
        .await
        .unwrap();
    let previous = registry_core::campaigns::monthly::Month::previous(chrono::Utc::now());
    assert_eq!(r["month"], previous.to_string());
    monthly_worker(&app, &r).await;

    let manual = json!({"month": "2025-03"});
    let r = registry_core::lambda::handle_policy_monthly(&app, manual.clone())
        .await
        .unwrap();
    assert_eq!(
        (r["units"].as_u64(), r["units_done"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(r["finished_at"], Value::Null);
    let run = monthly_worker(&app, &r).await;
    assert_ne!(run["finished_at"], Value::Null, "{run}");
    let c = &run["campaigns"][0];
    assert_eq!(c["report"]["version"], 1, "{run}");
    assert_eq!(
        c["report"]["totals"]["paid"],
        json!({"count": 1, "amount": 100})
    );
    // Refused at once: nothing to send, the run is done.
    let again = registry_core::lambda::handle_policy_monthly(&app, manual)
        .await
        .unwrap();
    assert_ne!(again["finished_at"], Value::Null, "{again}");
    assert!(again["campaigns"][0]["error"]
        .as_str()
        .unwrap()
        .contains("final already"));
    let forced = json!({"detail": {"month": "2025-03", "force": true}});
    let r = registry_core::lambda::handle_policy_monthly(&app, forced)
        .await
        .unwrap();
    // Resuming a run sends its pending units again: delivered twice, done once.
    let resumed = json!({"resume": r["run_id"]});
    let sent = registry_core::lambda::handle_policy_monthly(&app, resumed)
        .await
        .unwrap();
    assert_eq!(sent["units_sent"], 1, "{sent}");
    let run = monthly_worker(&app, &r).await;
    assert_eq!(run["campaigns"][0]["report"]["version"], 2, "{run}");
    assert_eq!(run["units_done"], 1, "{run}");
    let sqs: SqsEvent = serde_json::from_value(sample_worker_event()).unwrap();
    assert_eq!(handle_sqs(&app, sqs).await.batch_item_failures.len(), 1);
    for bad in [
        json!({"month": "2025-3"}),
        json!({"month": "2025-03", "force": "yes"}),
    ] {
        assert!(registry_core::lambda::handle_policy_monthly(&app, bad)
            .await
            .is_err());
    }
}

/// The sample event with changes (path, query, headers) made on its JSON.
fn edited_event(name: &str, token: &str, edit: impl FnOnce(&mut Value)) -> lambda_http::Request {
    let text = std::fs::read_to_string(events_dir().join(format!("{name}.json"))).unwrap();
    let mut event: Value =
        serde_json::from_str(&text.replace("REPLACE_WITH_TOKEN", token)).unwrap();
    edit(&mut event);
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

/// The operator statement sample (operator 1, March 2025) after the month's run: the
/// operator's own token and an admin read it, JSON or CSV; another operator's token gets
/// 404, a territory 403, a bad month 400 naming it. The status route of the same journey
/// shows the final line instead of the draft.
#[tokio::test]
async fn operators_incentives_event_is_served_by_its_function() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir).await;
    let admin_token = admin::bootstrap(&app).await.unwrap().unwrap().token;
    let (op, token) = admin::operator_with_token(&app, "Covoit", None)
        .await
        .unwrap();
    assert_eq!(op.id, OperatorId(1), "the sample names operator 1");
    let (_, intruder) = admin::operator_with_token(&app, "Other", None)
        .await
        .unwrap();
    let territory = admin::create_token(&app, TokenRequest::territory("t", "paris"))
        .await
        .unwrap()
        .token;
    paid_march_journey(&app, op.id).await;
    let status = edited_event("journeys-status", &token.token, |e| {
        e["rawPath"] = json!("/v2/journeys/m-1");
        e["requestContext"]["http"]["path"] = json!("/v2/journeys/m-1");
        e["pathParameters"]["journey_id"] = json!("m-1");
    });
    let r = handle_http(&app, RouteId::JourneysStatus, status).await;
    assert_eq!(
        body(&r)["incentives"][0]["status"],
        "draft",
        "{:?}",
        r.body()
    );

    // Before the run: not final, the campaign listed as pending, no line.
    let r = handle_http(
        &app,
        RouteId::OperatorsIncentives,
        event("operators-incentives", &token.token),
    )
    .await;
    assert_eq!(r.status(), 200, "{:?}", r.body());
    assert_eq!(body(&r)["final"], false);
    assert_eq!(body(&r)["campaigns"][0]["final"], false);
    assert_eq!(body(&r)["lines"], json!([]));

    let planned = registry_core::lambda::handle_policy_monthly(&app, json!({"month": "2025-03"}))
        .await
        .unwrap();
    monthly_worker(&app, &planned).await;
    for t in [&token.token, &admin_token] {
        let r = handle_http(
            &app,
            RouteId::OperatorsIncentives,
            event("operators-incentives", t),
        )
        .await;
        assert_eq!(r.status(), 200, "{:?}", r.body());
        let s = body(&r);
        assert_eq!(s["final"], true, "{s}");
        assert_eq!(s["operator_id"], 1);
        assert_eq!(s["totals"]["paid"], json!({"count": 1, "amount": 100}));
        assert_eq!(s["campaigns"][0]["totals"]["journeys"], 1);
        assert_eq!(s["lines"][0]["journey_id"], "m-1");
        assert_eq!(s["lines"][0]["campaign_id"], "m-2025");
        assert_eq!(s["lines"][0]["status"], "validated");
        assert_eq!(s["next_cursor"], Value::Null);
    }
    let status = edited_event("journeys-status", &token.token, |e| {
        e["rawPath"] = json!("/v2/journeys/m-1");
        e["requestContext"]["http"]["path"] = json!("/v2/journeys/m-1");
        e["pathParameters"]["journey_id"] = json!("m-1");
    });
    let r = handle_http(&app, RouteId::JourneysStatus, status).await;
    let shown = &body(&r)["incentives"][0];
    assert_eq!(shown["status"], "validated", "{shown}");
    assert_eq!(shown["amount"], 100);
    assert_eq!(shown["final_version"], 1);

    let csv = edited_event("operators-incentives", &token.token, |e| {
        e["headers"]["accept"] = json!("text/csv");
    });
    let r = handle_http(&app, RouteId::OperatorsIncentives, csv).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(r.headers()["x-statement-final"], "true");
    assert_eq!(r.headers()["x-paid-amount"], "100");
    let text = std::str::from_utf8(r.body().as_ref()).unwrap().to_owned();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 2, "{text}");
    assert!(
        rows[1].starts_with("m-2025,m-1,trip-m-1,driver,validated,100,100,"),
        "{text}"
    );

    let r = handle_http(
        &app,
        RouteId::OperatorsIncentives,
        event("operators-incentives", &intruder.token),
    )
    .await;
    assert_eq!(r.status(), 404);
    let r = handle_http(
        &app,
        RouteId::OperatorsIncentives,
        event("operators-incentives", &territory),
    )
    .await;
    assert_eq!(r.status(), 403);
    for query in ["", "month=2025-3", "month=2025-03&limit=0"] {
        let bad = edited_event("operators-incentives", &token.token, |e| {
            e["rawQueryString"] = json!(query);
            e["queryStringParameters"] = json!({});
        });
        let r = handle_http(&app, RouteId::OperatorsIncentives, bad).await;
        assert_eq!(r.status(), 400, "{query}");
        let path = &body(&r)["error"]["details"][0]["path"];
        let want = if query.contains("limit") {
            "limit"
        } else {
            "month"
        };
        assert_eq!(path, want, "{query}");
    }
}
