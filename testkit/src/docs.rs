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

/// The area of most campaign tests: [1, 3]° E × [48, 49.5]° N, around Paris.
pub fn paris_area() -> Value {
    json!({"type": "Polygon", "coordinates": [[
        [1.0, 48.0], [3.0, 48.0], [3.0, 49.5], [1.0, 49.5], [1.0, 48.0]]]})
}

/// A campaign of 2025 (Europe/Paris) for the trips starting in [`paris_area`], paying the
/// driver 100 c a trip; `fields` replace or add fields of the document.
pub fn campaign_2025(id: &str, fields: Value) -> Value {
    let mut doc = json!({
        "id": id, "name": id, "territory_name": "Paris",
        "start": "2025-01-01", "end": "2025-12-31", "time_zone": "Europe/Paris",
        "territory": {"rule": "start", "geojson": paris_area()},
        "pays": ["driver"],
        "amount": {"mode": "first_matching_band", "bands": [{"from": 0, "fixed": 100}]}
    });
    if let (Some(doc), Some(fields)) = (doc.as_object_mut(), fields.as_object()) {
        for (k, v) in fields {
            doc.insert(k.clone(), v.clone());
        }
    }
    doc
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
