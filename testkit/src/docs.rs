//! Documents the tests send.

use serde_json::{json, Value};

/// A complete, valid journey v2 document that ended an hour before this test process
/// started (one fixed instant, so the same id always gives the same document).
pub fn journey(id: &str) -> Value {
    static NOW: std::sync::OnceLock<chrono::DateTime<chrono::Utc>> = std::sync::OnceLock::new();
    registry_core::domain::journey::example_document(id, *NOW.get_or_init(chrono::Utc::now))
}

/// Another valid document with the same `journey_id` (a different contribution).
pub fn other_journey(id: &str, n: i64) -> Value {
    let mut doc = journey(id);
    doc["passenger"]["contribution"] = json!(300 + n);
    doc
}

/// A campaign running around `today`: drivers and passengers of trips starting or ending
/// in a drawn area around Paris and Versailles (where [`journey`] goes), 100 c per seat
/// plus 1 c per km, 2 trips a day per person.
pub fn paris_campaign(id: &str, today: chrono::NaiveDate) -> Value {
    json!({
        "id": id, "name": "Paris test", "territory_name": "Paris area", "territory_id": "paris",
        "start": (today - chrono::Days::new(10)).to_string(),
        "end": (today + chrono::Days::new(30)).to_string(),
        "time_zone": "Europe/Paris",
        "territory": {"rule": "start_or_end", "geojson": {"type": "Polygon", "coordinates": [[
            [1.95, 48.70], [2.55, 48.70], [2.55, 48.98], [1.95, 48.98], [1.95, 48.70]]]}},
        "distance": {"min": 2000, "max": 150000},
        "pays": ["driver", "passenger"],
        "amount": {"mode": "sum_of_bands", "per_seat": true,
                   "bands": [{"from": 2000, "fixed": 100}, {"from": 0, "to": 100000, "per_km": 1}]},
        "caps": [{"kind": "trips", "per": "day", "max": 2}]
    })
}

/// The incentives of a journey's status answer as sorted (role, amount, status).
pub fn incentives(status: &Value) -> Vec<(String, i64, String)> {
    let mut v: Vec<(String, i64, String)> = status["incentives"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["role"].as_str().unwrap().to_owned(),
                i["amount"].as_i64().unwrap(),
                i["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    v.sort();
    v
}
