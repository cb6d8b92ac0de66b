//! Logs: one JSON line per event in Lambda, each request line with its request id, operator
//! id, route, status and latency; and no personal data nor token in any log line, at debug
//! level, whatever the route and whether the request is accepted or refused.

use registry_testkit::serve::*;

use std::io::Write;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use registry_core::admin::{self, TokenRequest};
use registry_core::api::router::RouteId;
use registry_core::app::App;
use registry_core::config::Config;
use serde_json::{json, Value};

/// What the test requests carry that must never be logged (compared case-insensitively).
const PASSENGER_PHONE: &str = "+33 6 71 82 93 04";
const DRIVER_PHONE: &str = "06 55 44 33 21";
const SECRETS: &[&str] = &[
    "+33671829304",
    "671829304",
    "+33655443321",
    "655443321",
    "06 55 44 33 21",
    "Zephyrine",
    "Quintavalle",
    "zephyrine.q@example.org",
    "usr-hidden-4471",
    "Oberkampf-Wyler",
    "LIC-7731-QZW-88",
    "+336718293",
    "not-an-email-xqv",
];

/// A journey whose people carry the values of [`SECRETS`].
fn personal_journey(id: &str) -> Value {
    let mut doc = journey(id);
    doc["passenger"]["identity"] = json!({
        "phone": PASSENGER_PHONE,
        "firstname": "Zephyrine",
        "lastname": "Quintavalle",
        "email": "zephyrine.q@example.org",
        "operator_user_id": "usr-hidden-4471",
        "over_18": true
    });
    doc["driver"]["identity"] = json!({"phone": DRIVER_PHONE, "lastname": "Oberkampf-Wyler"});
    doc
}

/// The parts of a token worth hiding: the whole, and its id and secret.
fn token_parts(token: &str) -> Vec<String> {
    let mut parts = vec![token.to_owned()];
    parts.extend(
        token
            .split('.')
            .filter(|p| p.len() >= 16)
            .map(str::to_owned),
    );
    parts
}

fn assert_nothing_personal(log: &str, tokens: &[&str]) {
    let lower = log.to_lowercase();
    for secret in SECRETS {
        assert!(
            !lower.contains(&secret.to_lowercase()),
            "{secret:?} appears in the log:\n{log}"
        );
    }
    for token in tokens {
        for part in token_parts(token) {
            assert!(!log.contains(&part), "a token appears in the log:\n{log}");
        }
    }
}

#[tokio::test]
async fn serve_logs_neither_personal_data_nor_tokens_at_debug_level() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("serve.log");
    let log_file = std::fs::File::create(&log_path).unwrap();
    let server = Server::start_with_stderr(
        &data_file(&dir),
        &[("RUST_LOG", "debug")],
        Stdio::from(log_file),
    );
    let admin = server.admin_token.clone().expect("admin token");
    let (s, _, op) = server
        .post(
            "/v2/operators",
            &admin,
            json!({"name": "Covoit", "siret": "89248032800012"}),
        )
        .await;
    assert_eq!(s, 201, "{op}");
    let (s, _, created) = server
        .post(
            &format!("/v2/operators/{}/applications", op["id"]),
            &admin,
            json!({"name": "backend"}),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    let token = created["token"].as_str().unwrap().to_owned();
    let journeys = server.url("/v2/journeys");

    // Accepted, then processed by the worker.
    let (s, _, body) = post_url(&journeys, &token, personal_journey("p-1")).await;
    assert_eq!(s, 201, "{body}");
    // Refused: a bad email (the error names the field, the log must not carry the value).
    let mut bad = personal_journey("p-2");
    bad["passenger"]["identity"]["email"] = json!("not-an-email-xqv");
    let (s, _, _) = post_url(&journeys, &token, bad).await;
    assert_eq!(s, 400);
    // A wrong token and a malformed one.
    let last = if token.ends_with('0') { '1' } else { '0' };
    let wrong = format!("{}{last}", &token[..token.len() - 1]);
    for t in [wrong.as_str(), "Zephyrine-Quintavalle"] {
        let (s, _, _) = post_url(&journeys, t, personal_journey("p-3")).await;
        assert_eq!(s, 401);
    }
    // CEE: a simulation and a registration carrying a licence, a name and a phone.
    let application = json!({
        "journey_type": "long",
        "driving_license": "LIC-7731-QZW-88",
        "last_name_trunc": "QZW",
        "phone_trunc": "+336718293",
        "datetime": "2024-03-15T01:15:00+01:00",
        "application_timestamp": "2025-01-01T00:00:00Z",
        "identity_key": format!("{:064x}", 77),
    });
    let (s, _, body) = server
        .post("/v2/policies/cee/simulate", &token, application.clone())
        .await;
    assert!(s < 500, "{s} {body}");
    let (s, _, body) = server.post("/v2/policies/cee", &token, application).await;
    assert!(s < 500, "{s} {body}");

    let mut processed = false;
    for _ in 0..100 {
        let (_, _, j) = server.get("/v2/journeys/p-1", &token).await;
        if j["status"] == "ok" {
            processed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(processed);
    server.kill();

    let log = std::fs::read_to_string(&log_path).unwrap();
    // The log is not empty: every request has its line, with route, operator and status.
    let requests: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("request_id=") && l.contains("status="))
        .collect();
    assert!(requests.len() >= 9, "{log}");
    assert!(
        requests
            .iter()
            .any(|l| l.contains("route=\"journeys-create\"")
                && l.contains(&format!("operator_id={}", op["id"]))
                && l.contains("status=201")
                && l.contains("latency_ms=")),
        "{log}"
    );
    assert_nothing_personal(&log, &[&token, &admin, &wrong]);
}

/// Captures what the Lambda functions would print.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn lambda_logs_are_json_lines_with_the_request_fields() {
    // Set before the subscriber reads it; the other test of this binary passes its own
    // RUST_LOG to the server it starts.
    std::env::set_var("RUST_LOG", "debug");
    let captured = Captured::default();
    let sink = captured.clone();
    registry_core::logging::init_json_to(move || sink.clone());

    let dir = tempfile::tempdir().unwrap();
    let app = registry_testkit::app::sqlite_app(&dir, Config::default()).await;
    let op = admin::create_operator(&app, "Covoit".into(), None)
        .await
        .unwrap();
    let token = admin::create_token(&app, TokenRequest::application("backend", op.id))
        .await
        .unwrap()
        .token;

    // The sample API Gateway event, with this token and a journey full of personal data.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../events/journeys-create.json"
    );
    let mut event: Value = serde_json::from_str(
        &std::fs::read_to_string(path)
            .unwrap()
            .replace("REPLACE_WITH_TOKEN", &token),
    )
    .unwrap();
    let gateway_id = event["requestContext"]["requestId"]
        .as_str()
        .unwrap()
        .to_owned();
    event["body"] = Value::String(personal_journey("l-1").to_string());
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
    let response = registry_core::lambda::handle_http(&app, RouteId::JourneysCreate, request).await;
    assert_eq!(response.status().as_u16(), 201);
    assert_eq!(response.headers()["x-request-id"], gateway_id.as_str());

    // The queued processing, through the SQS handler as Lambda runs it.
    let delivery = app
        .queue
        .receive(10, Duration::from_secs(30))
        .await
        .unwrap()
        .pop()
        .expect("a queued task");
    let sqs: aws_lambda_events::sqs::SqsEvent = serde_json::from_value(json!({
        "Records": [{"messageId": "m-1", "body": delivery.body}]
    }))
    .unwrap();
    let failures = registry_core::lambda::handle_sqs(&app, sqs).await;
    assert!(failures.batch_item_failures.is_empty());

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let request_line = lines
        .iter()
        .find(|l| l["fields"]["message"] == "request" && l["span"]["request_id"] == gateway_id)
        .unwrap_or_else(|| panic!("no request line:\n{log}"));
    assert_eq!(request_line["level"], "INFO");
    assert_eq!(request_line["span"]["route"], "journeys-create");
    assert_eq!(request_line["span"]["operator_id"], op.id.0);
    assert_eq!(request_line["fields"]["status"], 201);
    assert_eq!(request_line["fields"]["method"], "POST");
    assert!(request_line["fields"]["latency_ms"].as_f64().unwrap() > 0.0);
    assert_nothing_personal(&log, &[&token]);

    stuck_journeys_line_matches_the_template_metric_filter(&app, &captured).await;
}

/// template.yaml turns the sweeper's warning into the `StuckJourneys` metric with a JSON
/// metric filter: the line must keep the level and field the pattern reads.
async fn stuck_journeys_line_matches_the_template_metric_filter(app: &App, captured: &Captured) {
    use registry_core::domain::operator::OperatorId;
    use registry_core::jobs::sweep::{self, MAX_SWEEPS};
    use registry_core::records::keys;
    use registry_core::store::{Item, GSI1_PK, GSI1_SK};

    let template =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml")).unwrap();
    assert!(
        template.contains(r#"FilterPattern: '{ $.level = "WARN" && $.fields.stuck > 0 }'"#)
            && template.contains("MetricValue: $.fields.stuck"),
        "the StuckJourneys metric filter changed: update this test with it"
    );

    let op = OperatorId(999);
    let stuck = Item::new(keys::journey(op, "stuck"))
        .with("operator_id", 999)
        .with("journey_id", "stuck")
        .with("status", "pending")
        .with("sweeps", MAX_SWEEPS)
        .with(
            GSI1_PK,
            keys::pending_index(keys::pending_shard(op, "stuck")),
        )
        .with(GSI1_SK, "2020-01-01T00:00:00.000Z#999#stuck");
    app.store.put(stuck, None).await.unwrap();
    let report = sweep::sweep(app, chrono::Duration::minutes(15))
        .await
        .unwrap();
    assert_eq!(report.stuck, 1);

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let matching: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["level"] == "WARN" && l["fields"]["stuck"].as_u64().is_some_and(|n| n > 0))
        .collect();
    assert_eq!(matching.len(), 1, "{log}");
    assert_eq!(matching[0]["fields"]["stuck"], 1);
}
