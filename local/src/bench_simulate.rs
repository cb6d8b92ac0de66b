//! `registry bench campaign-simulate`: a campaign document simulated over three months
//! (January to March 2025) of stored journeys, `--journeys` a month (default 1 000 000).
//!
//! The seed writes, in bulk and once into the `--data` file, journey items as acceptance
//! and processing leave them (status, identity keys, instants, the operator's listing
//! entry, the v2 document deflated; 2 % canceled, 2 % fraud) for 5 operators, spread over
//! 15 cities; only the simulation is timed. The campaign covers 5 of the cities, pays
//! drivers and passengers by distance band, with trips-per-day, amount-per-month and
//! budget caps, so every step of the monthly run's rules works.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use clap::Args;
use registry_core::app::App;
use registry_core::campaigns::monthly::Month;
use registry_core::campaigns::simulate;
use registry_core::clock::rfc3339;
use registry_core::config::Config;
use registry_core::domain::facts::Facts;
use registry_core::domain::journey::pack_document;
use registry_core::domain::journey::JourneyStatus;
use registry_core::domain::operator::OperatorId;
use registry_core::records::journey::{facts_attribute, JourneyRecord, ListingEntry};
use registry_core::records::keys;
use registry_core::store::sqlite::SqliteStore;
use registry_core::store::{Item, Key};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::bench::{cpu_seconds, person_key, Rng, TripSpec};

#[derive(Args)]
pub struct SimulateBench {
    /// Journeys a month (three months are seeded).
    #[arg(long, default_value_t = 1_000_000)]
    journeys: u64,
}

const CITIES: u64 = 15;
const OPERATORS: u64 = 5;

fn seed_marker() -> Key {
    Key::new("BENCH#campaign-simulate", "SEED")
}

fn city_corner(k: u64) -> (f64, f64) {
    (46.2 + (k / 5) as f64 * 0.6, -1.8 + (k % 5) as f64 * 0.7)
}

/// The simulated campaign: cities 0–4 (one row), 2–80 km.
fn campaign() -> serde_json::Value {
    let (lat0, lon0) = city_corner(0);
    let (lat1, lon1) = (lat0 + 0.5, city_corner(4).1 + 0.6);
    json!({
        "id": "bench-simulate", "name": "Bench", "territory_name": "Bench",
        "start": "2025-01-01", "end": "2025-12-31", "time_zone": "Europe/Paris",
        "territory": {"rule": "start_or_end", "geojson": {"type": "Polygon", "coordinates": [[
            [lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]]}},
        "distance": {"min": 2000, "max": 80000},
        "pays": ["driver", "passenger"],
        "amount": {"mode": "first_matching_band", "bands": [
            {"from": 2000, "to": 20000, "fixed": 150},
            {"from": 20000, "fixed": 150, "per_km": 10}]},
        "caps": [
            {"kind": "trips", "per": "day", "max": 2},
            {"kind": "amount", "per": "month", "max": 6000},
            {"kind": "budget", "max": 150_000_000}
        ]
    })
}

/// Journey `n` of month `m` (0–2).
fn journey(n: u64, m: u64, per_month: u64) -> Item {
    let mut rng = Rng((n + m * per_month).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5151);
    let city = rng.below(CITIES);
    let operator = OperatorId(1 + rng.below(OPERATORS));
    let driver = city * 100_000 + rng.below(8_000);
    let passenger = city * 100_000 + 50_000 + rng.below(16_000);
    let month_start = Utc
        .with_ymd_and_hms(2025, 1 + m as u32, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let span = 28 * 86_400 - 3 * 3600;
    let start: DateTime<Utc> = month_start + TimeDelta::seconds((n * span / per_month) as i64);
    let km = 2.0 + 60.0 * rng.unit().powi(2);
    let (lat0, lon0) = city_corner(city);
    let from = (lat0 + 0.5 * rng.unit(), lon0 + 0.6 * rng.unit());
    let angle = std::f64::consts::TAU * rng.unit();
    let journey_id = format!("sb-{m}-{n:07}");
    let operator_journey_id = format!("ride-{m}-{n:07}");
    let trip = TripSpec {
        journey_id: &journey_id,
        operator_journey_id: &operator_journey_id,
        class: "C",
        passenger,
        driver,
        seats: 1,
        start,
        from,
        km,
        angle,
    };
    let (doc, end) = (trip.document(), trip.end());
    let status = match rng.below(100) {
        0 | 1 => "canceled",
        2 | 3 => "fraud_error",
        _ => "ok",
    };
    let start_s = rfc3339(start);
    // As acceptance then processing store it: the simulation reads the facts, not the
    // document.
    let mut r = JourneyRecord::from_item(&Item::new(keys::journey(operator, &journey_id)));
    r.operator = Some(operator);
    r.journey_id = Some(journey_id);
    r.operator_journey_id = Some(operator_journey_id);
    r.status = JourneyStatus::parse(status);
    r.created_at = Some(rfc3339(end + TimeDelta::minutes(10)));
    r.updated_at = Some(rfc3339(end + TimeDelta::minutes(11)));
    r.packed_document = Some(pack_document(doc.as_bytes()));
    r.doc_hash = Some(hex::encode(Sha256::digest(doc.as_bytes())));
    r.passenger.key = Some(person_key(passenger));
    r.driver.key = Some(person_key(driver));
    r.passenger.start = Some(start_s.clone());
    r.driver.start = Some(start_s.clone());
    r.facts = registry_core::domain::journey_v2::parse(doc.as_bytes())
        .ok()
        .map(|journey| facts_attribute(&Facts::of(&journey)).1);
    r.listing = Some(ListingEntry::new(operator, &start_s));
    r.to_item()
}

pub async fn run(config: Config, bench: SimulateBench, json_out: bool) -> Result<(), String> {
    let per_month = bench.journeys;
    let path = config.db_path.clone();
    let fresh = !Path::new(&path).exists();
    let store = SqliteStore::open(&path).map_err(|e| e.to_string())?;
    let queue = store.queue(config.max_receives);
    let app = App::new(Arc::new(store.clone()), Arc::new(queue), config);
    let marker = app
        .store
        .get(&seed_marker())
        .await
        .map_err(|e| e.to_string())?;
    let mut seed_seconds = None;
    match marker {
        Some(m) if m.n("journeys") == Some(per_month as i64) => {
            eprintln!("reusing the seed in {}", path.display())
        }
        Some(_) | None if !fresh || marker.is_some() => {
            return Err(format!(
                "{} exists without a seed of {per_month} journeys a month: pick another --data",
                path.display()
            ))
        }
        _ => {
            let started = Instant::now();
            for i in 0..OPERATORS {
                registry_core::admin::create_operator(&app, format!("Operator {}", i + 1), None)
                    .await
                    .map_err(|e| format!("operator: {e:?}"))?;
            }
            let writer = store.clone();
            tokio::task::spawn_blocking(move || {
                writer.bulk_put(
                    (0..3).flat_map(|m| (0..per_month).map(move |n| journey(n, m, per_month))),
                )
            })
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
            let marker = Item::new(seed_marker()).with("journeys", per_month as i64);
            app.store
                .put(marker, None)
                .await
                .map_err(|e| e.to_string())?;
            let secs = started.elapsed().as_secs_f64();
            eprintln!("seeded {} journeys in {secs:.1} s", 3 * per_month);
            seed_seconds = Some(secs);
        }
    }
    let months: Vec<Month> = ["2025-01", "2025-02", "2025-03"]
        .iter()
        .filter_map(|m| Month::parse(m))
        .collect();
    let body = campaign().to_string();
    let campaign = simulate::parse(&app, body.as_bytes())
        .await
        .map_err(|e| format!("{e:?}"))?;
    let (started, cpu) = (Instant::now(), cpu_seconds());
    let result = simulate::simulate(&app, campaign, &months)
        .await
        .map_err(|e| format!("{e:?}"))?;
    let (wall, cpu) = (started.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    let out = json!({
        "journeys_per_month": per_month,
        "seed_seconds": seed_seconds,
        "run_seconds": wall,
        "run_cpu_seconds": cpu,
        "simulation": result,
    });
    if json_out {
        println!("{out}");
    } else {
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    }
    Ok(())
}
