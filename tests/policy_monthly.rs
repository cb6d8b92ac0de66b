//! `registry jobs policy-monthly` on a SQLite file: journeys of a past month stored and
//! processed by the core (the API would call them expired today), then the month made
//! final by the real binary; a rerun is refused unless `--force`; the territory reads the
//! final lines over HTTP from a running `registry serve` on the same file.

use registry_testkit::serve::*;

use chrono::{TimeZone, Utc};
use registry_core::app::App;
use registry_core::config::{Config, StoreKind};
use registry_core::domain::journey::example_document;
use registry_core::domain::operator::OperatorId;
use registry_core::records::journey::JourneyRecord;
use reqwest::Method;
use serde_json::{json, Value};

fn token(data: &str, territory: &str) -> String {
    territory_token(data, territory, territory)
}

/// Loads the campaign of these tests with `registry admin campaign load`: Paris, 2025, a
/// fixed 1.50 per paid role, at most two trips a month per person.
fn load_campaign(dir: &tempfile::TempDir, data: &str, pays: &[&str]) {
    let campaign = dir.path().join("c.json");
    std::fs::write(
        &campaign,
        json!({
            "id": "paris-2025", "name": "Paris", "territory_name": "Paris", "territory_id": "paris",
            "start": "2025-01-01", "end": "2025-12-31", "time_zone": "Europe/Paris",
            "territory": {"rule": "start", "geojson": {"type": "Polygon", "coordinates": [[
                [1.0, 48.0], [3.0, 48.0], [3.0, 49.5], [1.0, 49.5], [1.0, 48.0]]]}},
            "pays": pays,
            "amount": {"mode": "first_matching_band", "bands": [{"from": 0, "fixed": 150}]},
            "caps": [{"kind": "trips", "per": "month", "max": 2}]
        })
        .to_string(),
    )
    .unwrap();
    let (ok, out) = load_campaign_file(&campaign, data);
    assert!(ok, "{out}");
}

/// Operator, journey id, day of March 2025, driver and passenger phones (else the example
/// document's).
type MarchJourney<'a> = (OperatorId, &'a str, u32, Option<(&'a str, &'a str)>);

/// Journeys of March 2025, stored as acceptance writes them and processed by the core: the API would
/// call them expired today.
async fn seed_march(data_path: &std::path::Path, journeys: &[MarchJourney<'_>]) {
    let app = App::from_config(Config {
        store: StoreKind::Sqlite,
        db_path: data_path.to_owned(),
        ..Config::default()
    })
    .await
    .unwrap();
    for &(operator, id, day, phones) in journeys {
        let at = Utc.with_ymd_and_hms(2025, 3, day, 9, 0, 0).unwrap();
        let mut doc = example_document(id, at);
        if let Some((driver, passenger)) = phones {
            doc["driver"]["identity"]["phone"] = json!(driver);
            doc["passenger"]["identity"]["phone"] = json!(passenger);
        }
        let item =
            JourneyRecord::accepted_item(&app.config.hash_secret, operator, &doc, at).unwrap();
        app.store.put(item, None).await.unwrap();
        registry_core::jobs::process::journey(&app, operator, id)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_past_month_is_made_final_by_hand_once_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let data_path = data_file(&dir);
    let data = data_path.to_str().unwrap();
    let server = Server::start(&data_path, &[]);
    load_campaign(&dir, data, &["driver"]);
    seed_march(
        &data_path,
        &[
            (OperatorId(1), "m3", 20, None),
            (OperatorId(1), "m1", 4, None),
            (OperatorId(1), "m2", 11, None),
        ],
    )
    .await;

    let (ok, out) = cli(&[
        "jobs",
        "policy-monthly",
        "--month",
        "2025-03",
        "--data",
        data,
        "--json",
    ]);
    assert!(ok, "{out}");
    let run: Value = serde_json::from_str(out.trim()).unwrap();
    let c = &run["campaigns"][0];
    assert_eq!(c["campaign_id"], "paris-2025", "{run}");
    assert_eq!(c["version"], 1);
    assert_eq!(c["totals"]["journeys"], 3);
    assert_eq!(c["totals"]["paid"], json!({"count": 2, "amount": 300}));
    assert_eq!(c["totals"]["by_status"]["capped"]["count"], 1);

    let (ok, out) = cli(&[
        "jobs",
        "policy-monthly",
        "--month",
        "2025-03",
        "--data",
        data,
    ]);
    assert!(!ok, "a final month is refused: {out}");
    assert!(out.contains("final already (version 1)"), "{out}");

    let (ok, out) = cli(&[
        "jobs",
        "policy-monthly",
        "--month",
        "2025-03",
        "--force",
        "--data",
        data,
    ]);
    assert!(ok, "{out}");
    assert!(
        out.contains("paris-2025 2025-03 v2: 3 journeys, 2 paid lines = 3.00 EUR"),
        "{out}"
    );
    assert!(out.contains("1 capped"), "{out}");

    let (ok, _) = cli(&[
        "jobs",
        "policy-monthly",
        "--month",
        "2025-3",
        "--data",
        data,
    ]);
    assert!(!ok);
    // The territory reads the final lines (version 2), by status, in pages, as CSV.
    let paris = token(data, "paris");
    let lyon = token(data, "lyon");
    let listing = server.url("/v2/campaigns/paris-2025/incentives?month=2025-03");
    let (s, _, page) = get_url(&listing, &paris).await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["final"]["version"], 2, "{page}");
    assert_eq!(page["totals"], json!({"count": 3, "amount": 300}));
    let ids: Vec<&str> = page["incentives"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["journey_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["m1", "m2", "m3"]);
    assert_eq!(page["incentives"][2]["status"], "capped");
    assert_eq!(page["incentives"][2]["reason"], "trips_per_month");
    let validated = format!("{listing}&status=validated&limit=1");
    let (_, _, first) = get_url(&validated, &paris).await;
    assert_eq!(first["totals"], json!({"count": 2, "amount": 300}));
    assert_eq!(first["incentives"][0]["journey_id"], "m1");
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, _, second) = get_url(&format!("{validated}&cursor={cursor}"), &paris).await;
    assert_eq!(second["incentives"][0]["journey_id"], "m2");
    assert_eq!(second["next_cursor"], Value::Null, "{second}");
    let (_, _, drafts) = get_url(&format!("{listing}&status=draft"), &paris).await;
    assert_eq!(
        drafts["incentives"],
        json!([]),
        "a final month has no drafts"
    );
    let (s, _, e) = get_url(&format!("{listing}&status=paid"), &paris).await;
    assert_eq!(s, 400);
    assert_eq!(e["error"]["details"][0]["path"], "status", "{e}");
    let (s, _, _) = get_url(&listing, &lyon).await;
    assert_eq!(s, 404);
    let (_, headers, text) = get_csv(&format!("{listing}&status=capped"), &paris).await;
    assert_eq!(headers["x-final-version"], "2");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].ends_with(",reason,paid_by"), "{text}");
    assert!(
        lines[1].starts_with("m3,1,trip-m3,driver,capped,0,150,trips_per_month,"),
        "{text}"
    );
}

/// The operator statement over HTTP from `registry serve`, before and after the month is
/// made final by the real binary: the operator's own token (JSON, CSV, pages), a registry
/// admin, another operator (404), a token without `journey.read` (403), bad queries (400
/// with the field); the status route shows the final lines.
#[tokio::test]
async fn operators_read_their_monthly_statement_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let data_path = data_file(&dir);
    let data = data_path.to_str().unwrap();
    let server = Server::start(&data_path, &[]);
    let admin = server.admin_token.clone().unwrap();
    let (op, token) = operator_with_token(&server, None).await;
    let (other_op, other) = operator_with_token(&server, None).await;
    let (s, _, created) = server
        .create_application(
            op,
            &admin,
            json!({"name": "acquisition", "permissions": ["journey.create"]}),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    let no_read = created["token"].as_str().unwrap().to_owned();
    load_campaign(&dir, data, &["driver", "passenger"]);
    // One driver for the operator's three journeys, a passenger each; the other operator's
    // journey has other people.
    let (op_id, other_id) = (OperatorId(op), OperatorId(other_op));
    seed_march(
        &data_path,
        &[
            (op_id, "s3", 20, Some(("+33610000007", "+33610000008"))),
            (op_id, "s1", 4, Some(("+33610000007", "+33610000009"))),
            (op_id, "s2", 11, Some(("+33610000007", "+33610000010"))),
            (other_id, "x1", 5, Some(("+33610000011", "+33610000012"))),
        ],
    )
    .await;
    let statement = server.url(&format!("/v2/operators/{op}/incentives?month=2025-03"));
    let (s, _, before) = get_url(&statement, &token).await;
    assert_eq!(s, 200, "{before}");
    assert_eq!(before["final"], false);
    assert_eq!(before["campaigns"][0]["final"], false);
    assert_eq!(before["lines"], json!([]));
    let journey = server.url("/v2/journeys/s3");
    let (_, _, drafted) = get_url(&journey, &token).await;
    assert_eq!(drafted["incentives"][0]["status"], "draft", "{drafted}");

    let (ok, out) = cli(&[
        "jobs",
        "policy-monthly",
        "--month",
        "2025-03",
        "--data",
        data,
    ]);
    assert!(ok, "{out}");

    let (s, _, page) = get_url(&statement, &token).await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["final"], true, "{page}");
    assert_eq!(page["campaigns"][0]["campaign_id"], "paris-2025");
    assert_eq!(page["campaigns"][0]["version"], 1);
    let totals = &page["campaigns"][0]["totals"];
    assert_eq!(totals["journeys"], 3, "{page}");
    // Two driver trips a month: s3 (the latest) is capped for its driver.
    assert_eq!(totals["paid"], json!({"count": 5, "amount": 750}), "{page}");
    assert_eq!(totals["by_status"]["capped"]["count"], 1);
    assert_eq!(page["totals"]["paid"], json!({"count": 5, "amount": 750}));
    let rows: Vec<(String, String, String)> = page["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["journey_id"].as_str().unwrap().to_owned(),
                l["role"].as_str().unwrap().to_owned(),
                l["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String, String)> = [
        ("s1", "driver", "validated"),
        ("s1", "passenger", "validated"),
        ("s2", "driver", "validated"),
        ("s2", "passenger", "validated"),
        ("s3", "driver", "capped"),
        ("s3", "passenger", "validated"),
    ]
    .iter()
    .map(|(j, r, s)| (j.to_string(), r.to_string(), s.to_string()))
    .collect();
    assert_eq!(rows, want, "only this operator's journeys, by id then role");
    // Pages of 4 then 2.
    let (_, _, first) = get_url(&format!("{statement}&limit=4"), &token).await;
    assert_eq!(first["lines"].as_array().unwrap().len(), 4);
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, _, second) = get_url(&format!("{statement}&limit=4&cursor={cursor}"), &token).await;
    assert_eq!(second["lines"][0]["journey_id"], "s3");
    assert_eq!(second["lines"].as_array().unwrap().len(), 2);
    assert_eq!(second["next_cursor"], Value::Null);

    let (_, _, shown) = get_url(&journey, &token).await;
    let incentives = shown["incentives"].as_array().unwrap();
    assert_eq!(incentives.len(), 2, "{shown}");
    assert_eq!(incentives[0]["role"], "driver");
    assert_eq!(incentives[0]["status"], "capped");
    assert_eq!(incentives[0]["reason"], "trips_per_month");
    assert_eq!(incentives[0]["amount"], 0);
    assert_eq!(incentives[1]["status"], "validated");
    assert_eq!(incentives[1]["amount"], 150);

    let (status, headers, text) = get_csv(&statement, &token).await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-statement-final"], "true");
    assert_eq!(headers["x-paid-amount"], "750");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 7, "{text}");
    assert!(lines[0].starts_with("campaign_id,journey_id,"), "{text}");
    assert!(
        lines[5].starts_with("paris-2025,s3,trip-s3,driver,capped,0,150,trips_per_month,"),
        "{text}"
    );

    let (s, _, by_admin) = get_url(&statement, &admin).await;
    assert_eq!(s, 200);
    assert_eq!(by_admin["lines"], page["lines"]);
    let (s, _, theirs) = server
        .get(
            &format!("/v2/operators/{other_op}/incentives?month=2025-03"),
            &other,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(theirs["lines"].as_array().unwrap().len(), 2, "{theirs}");
    assert_eq!(theirs["lines"][0]["journey_id"], "x1");
    let (s, _, _) = get_url(&statement, &other).await;
    assert_eq!(
        s, 404,
        "another operator's statement does not exist for this token"
    );
    let (s, _, _) = get_url(&statement, &no_read).await;
    assert_eq!(s, 403, "its own token without journey.read");
    let (s, _, _) = call(Method::GET, &statement, None, None).await;
    assert_eq!(s, 401);
    let unknown = server.url("/v2/operators/999/incentives?month=2025-03");
    let (s, _, _) = get_url(&unknown, &admin).await;
    assert_eq!(s, 404);
    for (query, path) in [
        ("", "month"),
        ("?month=2025-13", "month"),
        ("?month=2025-03&limit=5001", "limit"),
        ("?month=2025-03&cursor=nope", "cursor"),
    ] {
        let url = server.url(&format!("/v2/operators/{op}/incentives{query}"));
        let (s, _, e) = get_url(&url, &token).await;
        assert_eq!(s, 400, "{query}: {e}");
        assert_eq!(e["error"]["details"][0]["path"], path, "{query}: {e}");
    }
}
