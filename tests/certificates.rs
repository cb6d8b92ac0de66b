//! Certificates through real HTTP on loopback, against the `registry serve` binary: figures
//! from processed journeys, the public check, the PDF read back with poppler (pdfinfo,
//! pdftotext, pdftoppm: tests/run.sh installs poppler-utils) and the PNG's QR code decoded.

use registry_testkit::serve::*;

use std::path::Path;
use std::process::Command;

use chrono::{TimeDelta, Utc};
use registry_core::domain::journey::example_document;
use reqwest::Method;
use serde_json::{json, Value};

const PUBLIC_URL: &str = "https://registre.example.org";
/// The example document's passenger and driver.
const PASSENGER: &str = "06 12 34 56 78";
const DRIVER: &str = "+33698765432";

async fn send(server: &Server, token: &str, doc: &Value) {
    let (s, _, body) = server.post("/v2/journeys", token, doc.clone()).await;
    assert_eq!(s, 201, "{body}");
}

/// Waits until the server's worker has processed the journey.
async fn wait_ok(server: &Server, token: &str, journey_id: &str) {
    wait_status(server, token, journey_id, "ok").await;
}

/// A period that holds every journey of these tests (the default one ends 6 days ago).
fn recent(identity: Value) -> Value {
    let now = Utc::now();
    json!({
        "identity": identity,
        "tz": "Europe/Paris",
        "start_at": (now - TimeDelta::days(10)).to_rfc3339(),
        "end_at": (now + TimeDelta::hours(1)).to_rfc3339(),
    })
}

async fn certify(server: &Server, token: &str, body: Value) -> Value {
    let (s, _, created) = server.post("/v2/certificates", token, body).await;
    assert_eq!(s, 201, "{created}");
    created
}

async fn download(server: &Server, token: &str, uuid: &str, format: &str) -> (u16, Vec<u8>) {
    let response = client()
        .get(server.url(&format!(
            "/v2/certificates/{uuid}/attachment?format={format}"
        )))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    if status == 200 {
        let want = if format == "png" {
            "image/png"
        } else {
            "application/pdf"
        };
        assert_eq!(response.headers()["content-type"], want);
        assert!(response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(uuid));
    }
    (status, response.bytes().await.unwrap().to_vec())
}

/// Runs a poppler tool; fails with a clear message when poppler-utils is missing.
fn poppler(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("{tool} not runnable ({e}): install poppler-utils (tests/run.sh does)")
    });
    assert!(out.status.success(), "{tool} {args:?} failed: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// (width, height) of a PNG and the texts of the QR codes found in it.
fn png_and_qr(bytes: &[u8]) -> ((u32, u32), Vec<String>) {
    let mut reader = png::Decoder::new(bytes).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let channels = info.color_type.samples();
    let (w, h) = (info.width as usize, info.height as usize);
    // Black on white: the first channel is grey enough.
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| buf[(y * w + x) * channels]);
    let texts = image
        .detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok().map(|(_, text)| text))
        .collect();
    ((info.width, info.height), texts)
}

#[tokio::test]
async fn certificates_count_ok_journeys_of_this_operator_and_render_as_pdf_and_png() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&data_file(&dir), &[("REGISTRY_PUBLIC_URL", PUBLIC_URL)]);
    let (_, token) = operator_with_token(&server, None).await;
    let (_, other_operator) = operator_with_token(&server, None).await;

    let now = Utc::now();
    // j-1 today; j-2 and j-3 two days ago, two couples of one ride of the same driver;
    // j-4 canceled before the certificate; the other operator's journey of the same person.
    let j1 = example_document("j-1", now);
    let j2 = example_document("j-2", now - TimeDelta::days(2));
    let mut j3 = example_document("j-3", now - TimeDelta::days(2));
    j3["operator_journey_id"] = j2["operator_journey_id"].clone();
    j3["passenger"]["identity"] = json!({"phone": "+33611111111"});
    let j4 = example_document("j-4", now - TimeDelta::days(1));
    for doc in [&j1, &j2, &j3, &j4] {
        send(&server, &token, doc).await;
    }
    send(&server, &other_operator, &j1).await;
    for id in ["j-1", "j-2", "j-3", "j-4"] {
        wait_ok(&server, &token, id).await;
    }
    wait_ok(&server, &other_operator, "j-1").await;
    let (s, _, _) = server
        .send(Method::DELETE, "/v2/journeys/j-4", &token, None)
        .await;
    assert_eq!(s, 200);

    // The passenger: j-1 and j-2 (j-4 canceled, the other operator's j-1 not shown).
    let first = certify(&server, &token, recent(json!({"phone": PASSENGER}))).await;
    let total = &first["meta"]["total"];
    assert_eq!(total["trips"], 2, "{first}");
    assert_eq!(total["passenger_trips"], 2);
    assert_eq!(total["passenger_paid"], 600);
    assert_eq!(total["distance"], 43_000);
    assert_eq!(total["driver_trips"], 0);
    let months = first["meta"]["months"].as_array().unwrap();
    let sum: u64 = months.iter().map(|m| m["trips"].as_u64().unwrap()).sum();
    assert_eq!(sum, 2);
    // The driver: two rides (j-2 and j-3 are one), every couple's revenue.
    let driver = certify(&server, &token, recent(json!({"phone": DRIVER}))).await;
    let total = &driver["meta"]["total"];
    assert_eq!(
        (
            &total["driver_trips"],
            &total["driver_earned"],
            &total["distance"]
        ),
        (&json!(2), &json!(750), &json!(43_000)),
        "{driver}"
    );
    // Positions: 1 km around the start of the journeys, or far away (Lyon).
    let mut near = recent(json!({"phone": PASSENGER}));
    near["positions"] = json!([{"lat": 45.76, "lon": 4.83}, {"lat": 48.8600, "lon": 2.3522}]);
    assert_eq!(
        certify(&server, &token, near).await["meta"]["total"]["trips"],
        2
    );
    let mut far = recent(json!({"phone": PASSENGER}));
    far["positions"] = json!([{"lat": 45.76, "lon": 4.83}]);
    assert_eq!(
        certify(&server, &token, far).await["meta"]["total"]["trips"],
        0
    );
    // The default period ends 6 days ago: none of these journeys yet.
    let default = certify(&server, &token, json!({"identity": {"phone": PASSENGER}})).await;
    assert_eq!(default["meta"]["total"]["trips"], 0);
    assert_eq!(default["meta"]["start_at"], Value::Null);

    // A cancellation reaches certificates created after it, not those issued before.
    let (s, _, _) = server
        .send(Method::DELETE, "/v2/journeys/j-1", &token, None)
        .await;
    assert_eq!(s, 200);
    let second = certify(&server, &token, recent(json!({"phone": PASSENGER}))).await;
    assert_eq!(second["meta"]["total"]["trips"], 1);
    let uuid = first["uuid"].as_str().unwrap();
    let (s, _, check) = call(
        Method::GET,
        &server.url(&format!("/v2/certificates/{uuid}")),
        None,
        None,
    )
    .await;
    assert_eq!(s, 200, "{check}");
    assert_eq!(check["meta"]["total"], first["meta"]["total"]);
    assert_eq!(check["meta"]["months"], first["meta"]["months"]);
    assert_eq!(check["created_at"], first["created_at"]);
    assert_eq!(check["valid"], true);
    assert_eq!(check["operator"]["name"], "Covoit");
    let fingerprint = check["fingerprint"].as_str().unwrap().to_owned();
    assert_eq!(fingerprint.len(), 64);

    // A phone that scanned the QR code asks for HTML: a page, under a strict CSP.
    let server_ref = &server;
    let page = |path: String| async move {
        let r = client()
            .get(server_ref.url(&path))
            .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
            .send()
            .await
            .unwrap();
        let h = r.headers().clone();
        (r.status().as_u16(), h, r.text().await.unwrap())
    };
    let (s, h, html) = page(format!("/v2/certificates/{uuid}")).await;
    assert_eq!(s, 200, "{html}");
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .starts_with("default-src 'none'"));
    for shown in [&fingerprint, "Covoit", "Certificat authentique", uuid] {
        assert!(html.contains(shown), "{shown} in {html}");
    }
    assert!(!html.contains("<script"));
    let (s, _, html) = page(format!("/v2/certificates/{}", uuid::Uuid::new_v4())).await;
    assert_eq!(s, 404);
    assert!(html.contains("Certificat inconnu"), "{html}");

    // The PDF: one A4 page whose text holds the uuid, the totals and the fingerprint.
    let (s, pdf) = download(&server, &token, uuid, "pdf").await;
    assert_eq!(s, 200);
    let path = dir.path().join("certificate.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let path = path.to_str().unwrap();
    let info = poppler("pdfinfo", &[path]);
    assert!(info.contains("Pages:           1"), "{info}");
    assert!(
        info.contains("Page size:       595.28 x 841.89 pts (A4)"),
        "{info}"
    );
    let text = poppler("pdftotext", &["-layout", path, "-"]);
    assert!(text.contains("Attestation de covoiturage"), "{text}");
    assert!(text.contains(uuid), "{text}");
    assert!(text.contains("Opérateur : Covoit"), "{text}");
    assert!(text.contains(&fingerprint[..32]), "{text}");
    let total_line = text
        .lines()
        .find(|l| l.trim_start().starts_with("Total"))
        .unwrap_or_else(|| panic!("no Total line in {text}"));
    let cells: Vec<&str> = total_line.split_whitespace().collect();
    assert_eq!(
        cells,
        ["Total", "2", "0", "43,0", "0,00", "€", "6,00", "€"],
        "{total_line}"
    );
    // poppler draws the page: 50 dpi → 414 × 585 pixels (it rounds widths up).
    let prefix = dir.path().join("page");
    poppler(
        "pdftoppm",
        &["-png", "-r", "50", path, prefix.to_str().unwrap()],
    );
    let drawn = std::fs::read(dir.path().join("page-1.png")).expect("pdftoppm drew page 1");
    assert_eq!(png_and_qr(&drawn).0, (414, 585));
    assert!(!Path::new(&dir.path().join("page-2.png")).exists());

    // The PNG: 150 dpi A4, and its QR code reads the public check URL.
    let (s, png) = download(&server, &token, uuid, "png").await;
    assert_eq!(s, 200);
    let (size, qr) = png_and_qr(&png);
    assert_eq!(size, (1240, 1754));
    assert_eq!(qr, vec![format!("{PUBLIC_URL}/v2/certificates/{uuid}")]);
}

#[tokio::test]
async fn certificate_auth_and_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&data_file(&dir), &[]);
    let (_, token) = operator_with_token(&server, None).await;
    let (_, other_operator) = operator_with_token(&server, None).await;
    let (_, journeys_only) =
        operator_with_token(&server, Some(&["journey.create", "journey.read"])).await;
    let url = server.url("/v2/certificates");

    // An identity the registry never saw: 201, zero totals (documented choice).
    let unknown = certify(
        &server,
        &token,
        json!({"identity": {"phone_trunc": "+336999999", "operator_user_id": "nobody"}}),
    )
    .await;
    assert_eq!(unknown["meta"]["total"]["trips"], 0);
    assert_eq!(unknown["meta"]["months"], json!([]));
    assert_eq!(unknown["meta"]["tz"], "Europe/Paris");
    let uuid = unknown["uuid"].as_str().unwrap();

    // Auth: 401 without or with a bad token, 403 without the permission.
    let body = json!({"identity": {"phone": PASSENGER}});
    assert_eq!(
        status(Method::POST, &url, None, Some(body.clone())).await,
        401
    );
    assert_eq!(
        status(Method::POST, &url, Some("rpc.nope"), Some(body.clone())).await,
        401
    );
    assert_eq!(
        status(Method::POST, &url, Some(&journeys_only), Some(body)).await,
        403
    );
    assert_eq!(download(&server, &journeys_only, uuid, "pdf").await.0, 403);
    // Another operator's certificate: 404 for its attachment; the check is public.
    assert_eq!(download(&server, &other_operator, uuid, "pdf").await.0, 404);
    let check = server.url(&format!("/v2/certificates/{uuid}"));
    assert_eq!(status(Method::GET, &check, None, None).await, 200);
    let (s, _, err) = server
        .get(
            &format!("/v2/certificates/{uuid}/attachment?format=gif"),
            &token,
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(err["error"]["details"][0]["path"], "/format");
    // Unknown or malformed uuids: 404.
    for bad in ["7b3e2f0a-0000-4000-8000-000000000000", "not-a-uuid"] {
        let (s, _, err) = call(
            Method::GET,
            &server.url(&format!("/v2/certificates/{bad}")),
            None,
            None,
        )
        .await;
        assert_eq!(s, 404, "{err}");
        assert_eq!(err["error"]["code"], "not_found");
        assert_eq!(download(&server, &token, bad, "pdf").await.0, 404);
    }

    // Bad bodies: 400 with every path, nothing written.
    let eleven: Vec<Value> = (0..11).map(|_| json!({"lat": 48.0, "lon": 2.0})).collect();
    for (body, paths) in [
        (
            json!({"identity": {"phone": "12 34"}}),
            vec!["/identity/phone"],
        ),
        (
            json!({"identity": {"phone": PASSENGER}, "start_at": "2025-03-01T00:00:00Z", "end_at": "2025-02-01T00:00:00Z"}),
            vec!["/end_at"],
        ),
        (
            json!({"identity": {"phone": PASSENGER}, "positions": eleven}),
            vec!["/positions"],
        ),
        (
            json!({"identity": {"phone": PASSENGER}, "positions": [{"lat": 95, "lon": 2}, {"lat": 45, "lon": 181}]}),
            vec!["/positions/0/lat", "/positions/1/lon"],
        ),
        (
            json!({"identity": {"operator_user_id": "u1"}, "tz": "Paris"}),
            vec!["/identity", "/tz"],
        ),
        (json!([1]), vec![""]),
    ] {
        let (s, _, err) = post_url(&url, &token, body.clone()).await;
        assert_eq!(s, 400, "{body}: {err}");
        let got: Vec<&str> = err["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["path"].as_str().unwrap())
            .collect();
        assert_eq!(got, paths, "{body}: {err}");
        assert_eq!(err["error"]["code"], "invalid_certificate");
    }
    let (s, _, err) = post_url(
        &url,
        &token,
        json!({"identity": {"phone": PASSENGER}, "start_at": Utc::now().to_rfc3339()}),
    )
    .await;
    assert_eq!(s, 400, "a start after the default end: {err}");
    assert_eq!(err["error"]["details"][0]["path"], "/start_at");
}
