//! `registry bench campaign-simulate`: a campaign document simulated over three months
//! (January to March 2025) of stored journeys, `--journeys` a month (default 1 000 000).
//!
//! The seed writes, in bulk and once into the `--data` file, journey items as acceptance
//! and processing leave them (status, identity keys, instants, the operator's listing
//! entry, the v2 document deflated; 2 % canceled, 2 % fraud) for 5 operators, spread over
//! 15 cities; only the simulation is timed. The campaign covers 5 of the cities, pays
//! drivers and passengers by distance band, with trips-per-day, amount-per-month and
//! budget caps, so every step of the monthly run's rules works.

use std::time::Instant;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use clap::Args;
use registry_core::campaigns::monthly::Month;
use registry_core::campaigns::simulate;
use registry_core::clock::rfc3339;
use registry_core::config::Config;
use registry_core::domain::facts::Facts;
use registry_core::domain::operator::OperatorId;
use registry_core::records::journey::ListingEntry;
use registry_core::store::Item;
use serde_json::json;

use crate::bench::{cpu_seconds, Rng};
use crate::bench_seed::{status, Grid, SeedStore, Seeded, TripSpec};

#[derive(Args)]
pub struct SimulateBench {
    /// Journeys a month (three months are seeded).
    #[arg(long, default_value_t = 1_000_000)]
    journeys: u64,
}

const CITIES: u64 = 15;
const OPERATORS: u64 = 5;

const GRID: Grid = Grid {
    south: 46.2,
    west: -1.8,
    row_step: 0.6,
    column_step: 0.7,
};

/// The simulated campaign: cities 0–4 (one row), 2–80 km.
fn campaign() -> serde_json::Value {
    json!({
        "id": "bench-simulate", "name": "Bench", "territory_name": "Bench",
        "start": "2025-01-01", "end": "2025-12-31", "time_zone": "Europe/Paris",
        "territory": {"rule": "start_or_end", "geojson": GRID.rect(0, 4, 0.0)},
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
    let month_start = Utc
        .with_ymd_and_hms(2025, 1 + m as u32, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let span = 28 * 86_400 - 3 * 3600;
    let start: DateTime<Utc> = month_start + TimeDelta::seconds((n * span / per_month) as i64);
    let trip = TripSpec {
        journey_id: format!("sb-{m}-{n:07}"),
        operator_journey_id: format!("ride-{m}-{n:07}"),
        ..GRID.trip(&mut rng, city, operator, 60.0, start)
    };
    let doc = trip.document();
    let status = status(&mut rng);
    let facts = registry_core::domain::journey_v2::parse(doc.as_bytes())
        .ok()
        .map(|journey| Facts::of(&journey));
    let mut r = trip.record(&doc, facts.as_ref(), status);
    r.listing = Some(ListingEntry::new(operator, &rfc3339(trip.start)));
    r.to_item()
}

/// Operators and the journeys of three months, written in bulk.
async fn seed(seeds: &SeedStore, per_month: u64) -> Result<Seeded, String> {
    for i in 0..OPERATORS {
        registry_core::admin::create_operator(&seeds.app, format!("Operator {}", i + 1), None)
            .await
            .map_err(|e| format!("operator: {e:?}"))?;
    }
    let writer = seeds.store.clone();
    tokio::task::spawn_blocking(move || {
        writer.bulk_put((0..3).flat_map(|m| (0..per_month).map(move |n| journey(n, m, per_month))))
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    Ok(Seeded {
        counts: Vec::new(),
        summary: format!("{} journeys", 3 * per_month),
    })
}

pub async fn run(config: Config, bench: SimulateBench, json_out: bool) -> Result<(), String> {
    let per_month = bench.journeys;
    let seeds = SeedStore::open(config)?;
    let seed_seconds = seeds
        .ensure("campaign-simulate", per_month, || seed(&seeds, per_month))
        .await?;
    let app = &seeds.app;
    let months: Vec<Month> = ["2025-01", "2025-02", "2025-03"]
        .iter()
        .filter_map(|m| Month::parse(m))
        .collect();
    let body = campaign().to_string();
    let campaign = simulate::parse(app, body.as_bytes())
        .await
        .map_err(|e| format!("{e:?}"))?;
    let (started, cpu) = (Instant::now(), cpu_seconds());
    let result = simulate::simulate(app, campaign, &months)
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
