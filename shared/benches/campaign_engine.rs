//! Engine throughput (docs/BENCHMARKS.md): a campaign with 5 distance bands, a GeoJSON
//! territory of ~2 200 vertices (a real boundary's shape at a city's size, around La
//! Rochelle), every cap kind, and counters in memory for 20 000 people; journeys start or
//! end in the city.
//!
//! `taskset -c 0 cargo bench -p registry-core --bench campaign_engine`

use std::hint::black_box;

use chrono::{Duration, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use registry_core::domain::campaign::counters::{MemoryCounters, PersonKey};
use registry_core::domain::campaign::engine::{evaluate, Evaluation, Trip};
use registry_core::domain::campaign::{parse, Campaign};
use registry_core::domain::journey_v2::{Coordinates, OperatorClass, Place};
use registry_core::domain::operator::OperatorId;
use serde_json::json;

const PEOPLE: u32 = 10_000;

/// Deterministic pseudo-random numbers (no dependency, same journeys every run).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A real boundary's shape at a city's size: the outline of metropolitan France shipped in
/// `shared/data/france.geojson` (OpenStreetMap), every other vertex (≈ 2 200), scaled down
/// to ~15 km around La Rochelle (46.16 N, 1.15 W). A random ring would be far more jagged
/// than any real boundary (every edge crossing many latitudes), which no city is.
fn ring() -> Vec<[f64; 2]> {
    let france: serde_json::Value =
        serde_json::from_str(include_str!("../data/france.geojson")).expect("france.geojson");
    let polygons = france["geometry"]["coordinates"]
        .as_array()
        .expect("polygons");
    let largest = polygons
        .iter()
        .max_by_key(|p| p[0].as_array().map_or(0, Vec::len))
        .expect("a polygon");
    let outer: Vec<[f64; 2]> = largest[0]
        .as_array()
        .expect("ring")
        .iter()
        .map(|p| [p[0].as_f64().expect("lon"), p[1].as_f64().expect("lat")])
        .collect();
    let (lon0, lat0) = (2.4, 46.6);
    let scale = 0.08 / 4.8;
    let mut ring: Vec<[f64; 2]> = outer
        .iter()
        .step_by(2)
        .map(|&[lon, lat]| {
            [
                -1.15 + (lon - lon0) * scale * 1.44,
                46.16 + (lat - lat0) * scale,
            ]
        })
        .collect();
    ring.push(ring[0]);
    ring
}

fn campaign() -> Campaign {
    let ring = ring();
    assert!(
        (1900..2600).contains(&ring.len()),
        "{} vertices",
        ring.len()
    );
    let doc = json!({
        "id": "bench", "name": "Bench", "territory_name": "La Rochelle",
        "start": "2025-01-01", "end": "2025-12-31", "time_zone": "Europe/Paris",
        "territory": {"rule": "start_or_end", "geojson": {"type": "Polygon", "coordinates": [ring]}},
        "exclude_territory": {"rule": "start_and_end", "geojson": {"type": "Polygon", "coordinates": [[
            [-1.25, 46.14], [-1.20, 46.14], [-1.20, 46.17], [-1.25, 46.17], [-1.25, 46.14]]]}},
        "operator_classes": ["B", "C"],
        "distance": {"min": 2000, "max": 150000},
        "days": {"boost": [{"date": "2025-03-18", "factor": 2}], "exclude": ["2025-12-25"]},
        "pays": ["driver", "passenger"],
        "amount": {"mode": "sum_of_bands", "per_seat": true, "max_per_trip": 600, "bands": [
            {"from": 2000, "to": 5000, "fixed": 50},
            {"from": 5000, "to": 20000, "fixed": 50, "per_km": 5},
            {"from": 20000, "to": 40000, "per_km": 7.5},
            {"from": 40000, "to": 80000, "per_km": 2},
            {"from": 80000, "to": 150000, "fixed": 100}
        ]},
        "caps": [
            {"kind": "seats_per_trip", "max": 3},
            {"kind": "trips", "per": "day", "max": 6, "who": "driver"},
            {"kind": "trips", "per": "month", "max": 60},
            {"kind": "trips", "per": "year", "max": 500, "scope": "operator_person"},
            {"kind": "trips", "per": "campaign", "max": 10000000, "scope": "campaign"},
            {"kind": "amount", "per": "campaign", "max": 200000},
            {"kind": "amount", "per": "year", "max": 100800},
            {"kind": "amount", "per": "month", "max": 8400},
            {"kind": "budget", "max": 500000000}
        ]
    });
    parse(&doc).expect("bench campaign is valid")
}

struct Spec {
    operator: u64,
    start: chrono::DateTime<Utc>,
    origin: Place,
    destination: Place,
    distance: u32,
    seats: u8,
    driver: PersonKey,
    passenger: PersonKey,
}

fn person(n: u32) -> PersonKey {
    let mut k = [0u8; 32];
    k[..4].copy_from_slice(&n.to_le_bytes());
    k[31] = 0xaa;
    PersonKey(k)
}

fn journeys(n: usize) -> Vec<Spec> {
    let mut rng = Lcg(42);
    let base = Utc.with_ymd_and_hms(2025, 1, 1, 5, 0, 0).unwrap();
    (0..n)
        .map(|_| {
            let mut point = |spread: f64| {
                let lat = 46.16 + (rng.next() - 0.5) * spread;
                let lon = -1.15 + (rng.next() - 0.5) * spread * 1.44;
                Place::Coordinates(Coordinates::new(lat, lon).expect("valid"))
            };
            let origin = point(0.12);
            let destination = point(0.8);
            Spec {
                operator: 1 + (rng.next() * 5.0) as u64,
                start: base + Duration::minutes((rng.next() * 364.0 * 24.0 * 60.0) as i64),
                origin,
                destination,
                distance: 1000 + (rng.next() * 100_000.0) as u32,
                seats: 1 + (rng.next() * 3.0) as u8,
                driver: person((rng.next() * f64::from(PEOPLE)) as u32),
                passenger: person(PEOPLE + (rng.next() * f64::from(PEOPLE)) as u32),
            }
        })
        .collect()
}

fn trip(s: &Spec) -> Trip<'_> {
    Trip {
        operator: OperatorId(s.operator),
        operator_siret: None,
        class: OperatorClass::C,
        start: s.start,
        origin: &s.origin,
        destination: &s.destination,
        origin_commune: None,
        destination_commune: None,
        distance: Some(s.distance),
        seats: s.seats,
        passenger_over_18: Some(true),
        driver: Some(s.driver),
        passenger: Some(s.passenger),
        ride: None,
    }
}

fn bench(c: &mut Criterion) {
    let campaign = campaign();
    let specs = journeys(4096);
    // Counters as a month of traffic leaves them: every journey evaluated and counted once.
    let mut counters = MemoryCounters::default();
    let (mut eligible, mut granted) = (0, 0);
    let mut reasons = std::collections::BTreeMap::new();
    for s in &specs {
        match evaluate(&campaign, &trip(s), &counters) {
            Evaluation::Eligible { incentives, .. } => {
                eligible += 1;
                for i in &incentives {
                    granted += usize::from(i.amount > 0);
                    counters.add(&i.counted);
                }
            }
            Evaluation::NotEligible(r) => *reasons.entry(r.as_str()).or_insert(0) += 1,
        }
    }
    eprintln!(
        "{} journeys: {eligible} eligible ({granted} incentives granted), not eligible {reasons:?}; \
         {} counters; territory of {} vertices",
        specs.len(),
        counters.len(),
        campaign.territory.area.as_ref().map_or(0, |a| a.vertices())
    );
    assert!(
        eligible * 2 > specs.len(),
        "the benchmark measures mostly eligible journeys"
    );

    let mut group = c.benchmark_group("campaign_engine");
    group.throughput(Throughput::Elements(1));
    let mut n = 0;
    group.bench_function("evaluate", |b| {
        b.iter(|| {
            n = (n + 1) % specs.len();
            black_box(evaluate(&campaign, &trip(&specs[n]), black_box(&counters)))
        })
    });
    // What the monthly run does: journeys in start order on fresh counters, each counted.
    let mut ordered: Vec<&Spec> = specs.iter().collect();
    ordered.sort_by_key(|s| s.start);
    group.throughput(Throughput::Elements(ordered.len() as u64));
    group.bench_function("run_in_start_order_4096", |b| {
        b.iter_batched(
            MemoryCounters::default,
            |mut live| {
                for s in &ordered {
                    if let Evaluation::Eligible { incentives, .. } =
                        evaluate(&campaign, &trip(s), &live)
                    {
                        for i in &incentives {
                            live.add(&i.counted);
                        }
                    }
                }
                live
            },
            BatchSize::LargeInput,
        )
    });
    group.throughput(Throughput::Elements(1));
    // Where the time goes.
    group.bench_function("local_time", |b| {
        b.iter(|| {
            n = (n + 1) % specs.len();
            black_box(specs[n].start.with_timezone(&campaign.time_zone))
        })
    });
    group.bench_function("territory", |b| {
        let area = campaign
            .territory
            .area
            .as_ref()
            .expect("a GeoJSON territory");
        b.iter(|| {
            n = (n + 1) % specs.len();
            let c = specs[n].origin.coordinates().expect("coordinates");
            black_box(area.contains(c.lon(), c.lat()))
        })
    });
    group.bench_function("counter_lookup", |b| {
        use registry_core::domain::campaign::counters::Counters;
        // In a random order, as journeys read them (not the table's order).
        let mut keys: Vec<_> = counters.iter().map(|(k, _)| *k).collect();
        let mut rng = Lcg(9);
        for i in (1..keys.len()).rev() {
            keys.swap(i, (rng.next() * (i + 1) as f64) as usize);
        }
        b.iter(|| {
            n = (n + 1) % keys.len();
            black_box(counters.get(&keys[n]))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
