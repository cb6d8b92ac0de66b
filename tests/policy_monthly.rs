//! `registry jobs policy-monthly` on a SQLite file: journeys of a past month stored and
//! processed by the core (the API would call them expired today), then the month made
//! final by the real binary; a rerun is refused unless `--force`.

mod support;

use chrono::{TimeZone, Utc};
use registry_core::app::App;
use registry_core::config::{Config, StoreKind};
use registry_core::domain::journey::{example_document, pack_document, STORED_DOCUMENT};
use registry_core::domain::keys;
use registry_core::domain::operator::OperatorId;
use registry_core::store::Item;
use serde_json::{json, Value};
use support::*;

#[tokio::test]
async fn a_past_month_is_made_final_by_hand_once_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let data_path = data_file(&dir);
    let data = data_path.to_str().unwrap();
    let campaign = dir.path().join("c.json");
    std::fs::write(
        &campaign,
        json!({
            "id": "paris-2025", "name": "Paris", "territory_name": "Paris",
            "start": "2025-01-01", "end": "2025-12-31", "time_zone": "Europe/Paris",
            "territory": {"rule": "start", "geojson": {"type": "Polygon", "coordinates": [[
                [1.0, 48.0], [3.0, 48.0], [3.0, 49.5], [1.0, 49.5], [1.0, 48.0]]]}},
            "pays": ["driver"],
            "amount": {"mode": "first_matching_band", "bands": [{"from": 0, "fixed": 150}]},
            "caps": [{"kind": "trips", "per": "month", "max": 2}]
        })
        .to_string(),
    )
    .unwrap();
    let (ok, out) = cli(&[
        "admin",
        "campaign",
        "load",
        campaign.to_str().unwrap(),
        "--data",
        data,
    ]);
    assert!(ok, "{out}");

    {
        let app = App::from_config(Config {
            store: StoreKind::Sqlite,
            db_path: data_path.clone(),
            ..Config::default()
        })
        .await
        .unwrap();
        let op = OperatorId(1);
        for (id, day) in [("m3", 20), ("m1", 4), ("m2", 11)] {
            let at = Utc.with_ymd_and_hms(2025, 3, day, 9, 0, 0).unwrap();
            let doc = example_document(id, at);
            let item = Item::new(keys::journey(op, id))
                .with("journey_id", id)
                .with("status", "pending")
                .with("driver_key", "07".repeat(32))
                .with("passenger_key", "08".repeat(32))
                .with(STORED_DOCUMENT, pack_document(doc.to_string().as_bytes()));
            app.store.put(item, None).await.unwrap();
            registry_core::jobs::process::journey(&app, op, id)
                .await
                .unwrap();
        }
    }

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
        out.contains("paris-2025 v2: 3 journeys, 2 paid lines = 3.00 EUR"),
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
}
