//! Campaigns and draft incentives through real HTTP on loopback, against the `registry
//! serve` binary, with the `registry admin` CLI on the same store file.

use registry_testkit::docs::{incentives as amounts, paris_campaign as campaign};
use registry_testkit::serve::*;

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{json, Value};

fn paths(e: &Value) -> Vec<String> {
    let mut p: Vec<String> = e["error"]["details"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|d| d["path"].as_str().unwrap_or("?").to_owned())
                .collect()
        })
        .unwrap_or_default();
    p.sort();
    p
}

#[tokio::test]
async fn drafts_are_computed_at_processing_listed_and_canceled_with_their_journey() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_file(&dir);
    let server = Server::start(&data, &[]);
    let admin = server.admin_token.clone().unwrap();
    let (_, token) = operator_with_token(&server, None).await;

    // The trips start 90 minutes before the test started; their day in Paris time.
    let start: DateTime<Utc> = journey("x")["passenger"]["start"]["datetime"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let doc = campaign("paris-test", start.date_naive());
    let today = registry_core::domain::campaign::parse(&doc)
        .unwrap()
        .today(start);
    let doc = campaign("paris-test", today);
    let month = today.format("%Y-%m").to_string();

    // Loaded by a registry admin; territory and application tokens may not.
    let (s, _, created) = server.post("/v2/campaigns", &token, doc.clone()).await;
    assert_eq!(s, 403, "{created}");
    let (s, _, created) = server.post("/v2/campaigns", &admin, doc.clone()).await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(
        (created["version"].clone(), created["status"].clone()),
        (json!(1), json!("active"))
    );
    let (s, _, _) = server.post("/v2/campaigns", &admin, doc.clone()).await;
    assert_eq!(s, 409, "the id exists");

    // The passenger's declared 21.5 km: 100 + 21.5 = 121.5 → 122 c per seat.
    for id in ["d-1", "d-2", "d-3"] {
        let (s, _, r) = server.post("/v2/journeys", &token, journey(id)).await;
        assert_eq!(s, 201, "{r}");
        let status = wait_status(&server, &token, id, "ok").await;
        let want = if id == "d-3" { 0 } else { 122 };
        assert_eq!(
            amounts(&status),
            vec![
                ("driver".into(), want, "draft".into()),
                ("passenger".into(), want, "draft".into())
            ],
            "{id}: {status}"
        );
        if id == "d-3" {
            // Third trip of the day for both: capped, shown with its reason.
            assert_eq!(status["incentives"][0]["capped_by"], "trips_per_day");
            assert_eq!(
                status["campaigns"],
                json!([{"campaign_id": "paris-test", "pays": false, "reason": "capped",
                        "capped_by": "trips_per_day"}])
            );
        } else {
            assert_eq!(
                status["campaigns"],
                json!([{"campaign_id": "paris-test", "pays": true}])
            );
        }
    }

    // A journey known only by INSEE codes cannot be placed in a drawn area: not eligible,
    // no draft, still ok.
    let mut insee_only = journey("d-insee");
    for p in ["passenger", "driver"] {
        for end in ["start", "end"] {
            let dt = insee_only[p][end]["datetime"].clone();
            insee_only[p][end] = json!({"datetime": dt, "insee": "75056"});
        }
    }
    server.post("/v2/journeys", &token, insee_only).await;
    let status = wait_status(&server, &token, "d-insee", "ok").await;
    assert_eq!(status["incentives"], json!([]));
    // The status says which campaign was active and why it does not pay.
    assert_eq!(
        status["campaigns"],
        json!([{"campaign_id": "paris-test", "pays": false, "reason": "territory_unknown"}])
    );

    // The territory reads its campaign's drafts, with totals, as JSON and CSV.
    let territory = territory_token(data.to_str().unwrap(), "paris", "Paris");
    let other = territory_token(data.to_str().unwrap(), "lyon", "Lyon");
    let listing = server.url(&format!(
        "/v2/campaigns/paris-test/incentives?month={month}&status=draft"
    ));
    let (s, _, page) = get_url(&listing, &territory).await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["totals"], json!({"count": 6, "amount": 4 * 122}));
    assert_eq!(page["incentives"].as_array().unwrap().len(), 6);
    assert_eq!(status_code(&listing, &other).await, 404);
    assert_eq!(status_code(&listing, &token).await, 403);
    let (s, _, e) = server
        .get(
            "/v2/campaigns/paris-test/incentives?month=2025-13",
            &territory,
        )
        .await;
    assert_eq!((s, paths(&e)), (400, vec!["month".to_owned()]));
    let (_, headers, text) = get_csv(&listing, &territory).await;
    assert_eq!(headers["x-total-amount"], "488");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 7, "{text}");
    assert!(
        lines[1].starts_with("d-1,")
            || lines[1].starts_with("d-2,")
            || lines[1].starts_with("d-3,")
    );
    assert!(text.contains(",trips_per_day,"));
    // Pages of 4: a cursor to the rest.
    let (_, _, first) = get_url(&format!("{listing}&limit=4"), &territory).await;
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let (_, _, second) = get_url(&format!("{listing}&limit=4&cursor={cursor}"), &territory).await;
    assert_eq!(
        first["incentives"].as_array().unwrap().len()
            + second["incentives"].as_array().unwrap().len(),
        6
    );

    // Canceling d-1 cancels its drafts at once and frees its place under the daily cap.
    let (s, _, _) = server
        .send(Method::DELETE, "/v2/journeys/d-1", &token, None)
        .await;
    assert_eq!(s, 200);
    let (_, _, status) = server.get("/v2/journeys/d-1", &token).await;
    assert_eq!(
        amounts(&status),
        vec![
            ("driver".into(), 122, "canceled".into()),
            ("passenger".into(), 122, "canceled".into())
        ]
    );
    let (_, _, page) = get_url(&listing, &territory).await;
    assert_eq!(page["totals"], json!({"count": 4, "amount": 2 * 122}));
    let canceled = listing.replace("status=draft", "status=canceled");
    let (_, _, page) = get_url(&canceled, &territory).await;
    assert_eq!(page["totals"], json!({"count": 2, "amount": 244}));
    server.post("/v2/journeys", &token, journey("d-4")).await;
    let status = wait_status(&server, &token, "d-4", "ok").await;
    assert_eq!(amounts(&status)[0].1, 122, "{status}");
    // Canceling again changes nothing.
    let (s, _, _) = server
        .send(Method::DELETE, "/v2/journeys/d-1", &token, None)
        .await;
    assert_eq!(s, 200);
    let (_, _, page) = get_url(&canceled, &territory).await;
    assert_eq!(page["totals"], json!({"count": 2, "amount": 244}));

    // A started campaign cannot be updated, only closed (not in the past).
    let url = server.url("/v2/campaigns/paris-test");
    let (s, _, _) = call(Method::PUT, &url, Some(&admin), Some(doc.clone())).await;
    assert_eq!(s, 409);
    let (s, _, e) = post_url(
        &format!("{url}/close"),
        &admin,
        json!({"last_day": "2020-01-01"}),
    )
    .await;
    assert_eq!((s, paths(&e)), (400, vec!["/last_day".to_owned()]));
    let (s, _, closed) = post_url(&format!("{url}/close"), &admin, json!({})).await;
    assert_eq!(s, 200, "{closed}");
    assert_eq!(
        (closed["status"].clone(), closed["version"].clone()),
        (json!("closed"), json!(2))
    );
    let (_, _, read) = get_url(&url, &territory).await;
    assert_eq!(read["history"].as_array().unwrap().len(), 2);
    assert_eq!(read["history"][1]["action"], "closed");
}

async fn status_code(url: &str, token: &str) -> u16 {
    status(Method::GET, url, Some(token), None).await
}

#[tokio::test]
async fn bad_campaign_documents_get_400_with_paths_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_file(&dir);
    let server = Server::start(&data, &[]);
    let admin = server.admin_token.clone().unwrap();
    let today = Utc::now().date_naive();
    let post = |doc: Value| {
        let url = server.url("/v2/campaigns");
        let admin = admin.clone();
        async move { post_url(&url, &admin, doc).await }
    };
    let mut bad = campaign("bad", today);
    bad["amount"] = json!({"mode": "first_matching_band", "bands": [
        {"from": 2000, "to": 20000, "fixed": 100}, {"from": 10000, "to": 30000, "fixed": 50}]});
    bad["distance"] = json!({"min": 5000, "max": 1000});
    bad["caps"] = json!([{"kind": "trips_per_week", "max": 3}]);
    bad["start"] = json!("2026-02-01");
    bad["end"] = json!("2026-01-01");
    bad["territory"]["geojson"] = json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]});
    let (s, _, e) = post(bad).await;
    assert_eq!(s, 400, "{e}");
    assert_eq!(e["error"]["code"], "invalid_campaign");
    assert_eq!(
        paths(&e),
        vec![
            "/amount/bands/1",
            "/caps/0/kind",
            "/distance/max",
            "/end",
            "/territory/geojson/coordinates/0"
        ]
    );
    // Every missing key and wrong type at once, in the format's words.
    let (s, _, e) = post(json!({"id": "x", "priority": "high"})).await;
    assert_eq!(s, 400, "{e}");
    assert_eq!(
        paths(&e),
        vec![
            "/amount",
            "/end",
            "/name",
            "/pays",
            "/priority",
            "/start",
            "/territory",
            "/territory_name",
            "/time_zone"
        ]
    );
    assert!(
        !e.to_string().contains("Raw"),
        "no internal type names: {e}"
    );
    // Referential mistakes: an operator that does not exist, a boost day outside the
    // campaign, a window for an operator the campaign does not list; unknown units.
    let mut refs = campaign("refs", today);
    refs["operators"] = json!(["999"]);
    refs["operator_windows"] = json!([{"operator": "12345678900011", "until": today.to_string()}]);
    refs["days"] = json!({"boost": [{"date": "2020-01-01", "factor": 2}]});
    refs["territory"]["epci"] = json!(["123456789"]);
    let (s, _, e) = post(refs.clone()).await;
    assert_eq!(
        (s, paths(&e)),
        (400, vec!["/territory/epci/0".to_owned()]),
        "{e}"
    );
    refs["territory"]["epci"] = json!(["241700434"]);
    let (s, _, e) = post(refs).await;
    assert_eq!(s, 400, "{e}");
    assert_eq!(
        paths(&e),
        vec![
            "/days/boost/0/date",
            "/operator_windows/0/operator",
            "/operators/0"
        ]
    );
    let raw = client()
        .post(server.url("/v2/campaigns"))
        .bearer_auth(&admin)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 400);
    let (_, _, list) = server.get("/v2/campaigns", &admin).await;
    assert_eq!(list["campaigns"], json!([]), "nothing written");

    // The CLI refuses the same way, and loads the shipped examples.
    let file = dir.path().join("bad.json");
    let mut bad = campaign("bad", today);
    bad["pays"] = json!(["nobody"]);
    std::fs::write(&file, bad.to_string()).unwrap();
    let data = data.to_str().unwrap();
    let (ok, _) = load_campaign_file(&file, data);
    assert!(!ok);
    // An operator a campaign names must exist: boost-days has a window for operator 3.
    for n in 1..=3 {
        let (ok, out) = cli(&[
            "admin",
            "operator",
            "create",
            "--name",
            &format!("Op {n}"),
            "--data",
            data,
        ]);
        assert!(ok, "{out}");
    }
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/campaigns");
    let mut loaded = 0;
    for entry in std::fs::read_dir(examples).unwrap() {
        let path = entry.unwrap().path();
        let (ok, out) = load_campaign_file(&path, data);
        assert!(ok, "{}: {out}", path.display());
        loaded += 1;
    }
    assert_eq!(loaded, 5);
    let (ok, out) = cli(&["--json", "admin", "campaign", "list", "--data", data]);
    assert!(ok);
    let list: Value = serde_json::from_str(out.trim()).unwrap();
    let mut ids: Vec<&str> = list["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        vec![
            "example-boost-days",
            "example-driver-150c",
            "example-fixed-plus-per-km",
            "example-passengers-50c",
            "example-seat-or-distance"
        ]
    );
}
