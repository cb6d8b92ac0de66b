//! The seed of `registry bench policy-monthly`: the 20 campaigns and a month of journeys
//! with their drafts, as acceptance and processing leave them.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use registry_core::app::App;
use registry_core::campaigns::drafts;
use registry_core::domain::campaign::counters::{MemoryCounters, PersonKey};
use registry_core::domain::campaign::engine::{self, Evaluation, Outcome, Trip};
use registry_core::domain::campaign::Campaign;
use registry_core::domain::facts::Facts;
use registry_core::domain::operator::OperatorId;
use registry_core::store::Item;
use serde_json::{json, Value};

use crate::bench::{person_key, Rng};
use crate::bench_seed::{status, Grid, SeedStore, Seeded, TripSpec};

pub(super) const MONTH: &str = "2025-03";
const CITIES: u64 = 15;
/// Operators: their share of journeys (per mille) and proof class.
const OPERATORS: [(u64, &str); 5] = [(400, "C"), (250, "C"), (150, "B"), (100, "A"), (100, "C")];

/// City `k`'s rectangle starts at 43.2° N + 1.6° a row, 0.8° W + 1.6° a column.
const GRID: Grid = Grid {
    south: 43.2,
    west: -0.8,
    row_step: 1.6,
    column_step: 1.6,
};

/// The rectangle around cities `from..=to` of one row.
fn cities_rect(from: u64, to: u64) -> Value {
    GRID.rect(from, to, 0.01)
}

/// The 20 campaigns: 15 cities (exclusive, priority 10, 2–30 km, per-day, per-month and
/// amount caps, one with a budget that runs out) and 5 overlapping.
fn campaigns() -> Vec<Value> {
    let mut out = cities();
    out.extend(regions());
    out
}

/// The 15 city campaigns.
fn cities() -> Vec<Value> {
    let mut out = Vec::new();
    for k in 0..CITIES {
        let pays = if k % 3 == 0 {
            json!(["driver", "passenger"])
        } else {
            json!(["driver"])
        };
        let amount = if k % 2 == 0 {
            json!({"mode": "first_matching_band", "bands": [
                {"from": 2000, "to": 15000, "fixed": 100}, {"from": 15000, "to": 30000, "fixed": 200}]})
        } else {
            json!({"mode": "sum_of_bands", "bands": [
                {"from": 2000, "fixed": 50}, {"from": 5000, "to": 30000, "per_km": 10}],
                "max_per_trip": 300})
        };
        let mut caps = vec![
            json!({"kind": "trips", "per": "day", "max": 4, "who": "driver"}),
            json!({"kind": "trips", "per": "month", "max": 30}),
            json!({"kind": "amount", "per": "month", "max": 4000}),
        ];
        if k == 4 {
            caps.push(json!({"kind": "budget", "max": 5_000_000}));
        }
        out.push(json!({
            "id": format!("city-{k:02}"), "name": format!("City {k}"),
            "territory_name": format!("City {k}"), "territory_id": format!("city-{k:02}"),
            "start": "2025-01-01", "end": "2025-12-31", "time_zone": "Europe/Paris",
            "territory": {"rule": "start", "geojson": cities_rect(k, k)},
            "distance": {"min": 2000, "max": 30000},
            "pays": pays, "amount": amount, "caps": caps,
            "priority": 10, "stacking": "exclusive"
        }));
    }
    out
}

/// The 5 campaigns over several cities: 3 exclusive above or below them, 2 stackable.
fn regions() -> Vec<Value> {
    let mut out = Vec::new();
    let region = |id: &str, from: u64, to: u64, priority: i32, extra: Value| {
        let mut doc = json!({
            "id": id, "name": id, "territory_name": id, "territory_id": id,
            "start": "2025-01-01", "end": "2025-12-31", "time_zone": "Europe/Paris",
            "territory": {"rule": "start_or_end", "geojson": cities_rect(from, to)},
            "distance": {"min": 2000, "max": 80000},
            "pays": ["driver"],
            "amount": {"mode": "first_matching_band", "bands": [{"from": 2000, "fixed": 150}]},
            "caps": [{"kind": "trips", "per": "day", "max": 4},
                     {"kind": "amount", "per": "month", "max": 9000}],
            "priority": priority, "stacking": "exclusive"
        });
        if let (Some(doc), Some(extra)) = (doc.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                doc.insert(k.clone(), v.clone());
            }
        }
        doc
    };
    // Above cities 0 and 1: they keep only what region-a does not pay.
    out.push(region("region-a", 0, 1, 20, json!({})));
    // Below cities 5 and 6: pays the long trips (≥ 30 km) the cities do not.
    out.push(region(
        "region-b",
        5,
        6,
        5,
        json!({"distance": {"min": 5000, "max": 80000}, "pays": ["driver", "passenger"]}),
    ));
    // Above city 10 on weekdays only.
    out.push(region(
        "region-c",
        10,
        10,
        15,
        json!({"days": {"weekdays": [1, 2, 3, 4, 5]}}),
    ));
    out.push(region(
        "stack-passengers",
        2,
        3,
        0,
        json!({"stacking": "stackable", "pays": ["passenger"], "operator_classes": ["C"],
               "amount": {"mode": "first_matching_band", "bands": [{"from": 2000, "fixed": 50}]}}),
    ));
    out.push(region(
        "stack-boost",
        7,
        8,
        0,
        json!({"stacking": "stackable",
               "days": {"weekdays": [1, 2, 3, 4, 5, 6, 7], "boost": [{"date": "2025-03-18", "factor": 2}]},
               "caps": [{"kind": "amount", "per": "year", "max": 20000}]}),
    ));
    out
}

/// What the seed wrote.
#[derive(Default)]
pub(super) struct Counts {
    pub journeys: u64,
    pub drafts: u64,
    pub items: u64,
}

/// A seeded journey: its trip, document and status.
struct Generated {
    trip: TripSpec,
    doc: String,
    status: &'static str,
}

/// Journey `n` of `total`, spread over the month from `month_start` in start order.
fn generated_journey(n: u64, total: u64, month_start: DateTime<Utc>) -> Generated {
    let mut rng = Rng(n.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x0003_2025);
    let city = n % CITIES;
    let share = rng.below(1000);
    let mut acc = 0;
    let (op_index, class) = OPERATORS
        .iter()
        .enumerate()
        .find_map(|(i, (s, c))| {
            acc += s;
            (share < acc).then_some((i as u64, *c))
        })
        .unwrap_or((4, "C"));
    // Arrival (and start) order is journey order, spread over the month.
    let span = 31 * 86_400 - 3 * 3600;
    let start = month_start + TimeDelta::seconds((n * span / total.max(1)) as i64);
    let trip = GRID.trip(&mut rng, city, OperatorId(op_index + 1), 48.0, start);
    let seats = 1 + u64::from(rng.below(5) == 0);
    let trip = TripSpec {
        journey_id: format!("mb-{n:07}"),
        operator_journey_id: format!("trip-{n:07}"),
        class,
        seats,
        ..trip
    };
    Generated {
        doc: trip.document(),
        status: status(&mut rng),
        trip,
    }
}

/// Journey `n` of `total`: its item and its drafts in every campaign that pays it.
fn journey_items(
    n: u64,
    total: u64,
    campaigns: &[Arc<Campaign>],
    counters: &mut [MemoryCounters],
    month_start: DateTime<Utc>,
    seeded: &mut Counts,
) -> Vec<Item> {
    let g = generated_journey(n, total, month_start);
    let mut items = Vec::new();
    let facts = registry_core::domain::journey_v2::parse(g.doc.as_bytes())
        .ok()
        .map(|journey| Facts::of(&journey));
    let mut rev = 0i64;
    if let Some(facts) = &facts {
        let trip = Trip::from_facts(
            facts,
            g.trip.operator,
            None,
            PersonKey::from_hex(&person_key(g.trip.driver)),
            PersonKey::from_hex(&person_key(g.trip.passenger)),
        );
        for (c, counters) in campaigns.iter().zip(counters.iter_mut()) {
            let drafts = drafts_of(c, counters, &g, &trip);
            rev += i64::from(!drafts.is_empty());
            seeded.drafts += drafts.len() as u64;
            items.extend(drafts);
        }
    }
    let mut r = g.trip.record(&g.doc, facts.as_ref(), g.status);
    r.incentive_rev = Some(rev);
    match g.status {
        "canceled" => r.canceled_at = r.created_at.clone(),
        "fraud_error" => r.fraud_labels = Some("[\"temporal_overlap\"]".into()),
        _ => {}
    }
    items.push(r.to_item());
    seeded.journeys += 1;
    seeded.items += items.len() as u64;
    items
}

/// The drafts of one campaign for a journey, as processing writes them (canceled ones for a
/// canceled journey, which then counts nothing).
fn drafts_of(
    c: &Campaign,
    counters: &mut MemoryCounters,
    g: &Generated,
    trip: &Trip<'_>,
) -> Vec<Item> {
    let (created, processed) = g.trip.created_processed();
    let Evaluation::Eligible {
        local_date,
        incentives,
    } = engine::evaluate(c, trip, counters)
    else {
        return Vec::new();
    };
    let mut items = Vec::new();
    for i in incentives
        .iter()
        .filter(|i| !matches!(i.outcome, Outcome::NotEligible(_)))
    {
        let mut draft = drafts::draft(
            c,
            g.trip.operator,
            &g.trip.journey_id,
            Some(&g.trip.operator_journey_id),
            trip,
            local_date,
            i,
            &processed,
        );
        if g.status == "canceled" {
            draft.status = drafts::CANCELED.to_owned();
            draft.canceled_at = Some(created.clone());
        } else {
            counters.add(&i.counted);
        }
        items.push(draft.to_item());
    }
    items
}

/// Operators and campaigns through the core (as `registry admin` makes them).
pub(super) async fn setup(app: &App) -> Result<Vec<Arc<Campaign>>, String> {
    for (i, _) in OPERATORS.iter().enumerate() {
        registry_core::admin::create_operator(app, format!("Operator {}", i + 1), None)
            .await
            .map_err(|e| format!("operator: {e:?}"))?;
    }
    for doc in campaigns() {
        registry_core::campaigns::create(app, doc.to_string().as_bytes())
            .await
            .map_err(|e| format!("campaign {}: {e:?}", doc["id"]))?;
    }
    let mut all = registry_core::campaigns::all(app)
        .await
        .map_err(|e| e.to_string())?
        .to_vec();
    all.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(all)
}

fn month_start() -> DateTime<Utc> {
    // 1 March 2025, 00:00 in Paris.
    Utc.with_ymd_and_hms(2025, 2, 28, 23, 0, 0)
        .single()
        .unwrap_or_default()
}

/// Every journey's items, in journey order.
pub(super) fn generate(
    journeys: u64,
    campaigns: Vec<Arc<Campaign>>,
    seeded: &mut Counts,
) -> impl Iterator<Item = Item> + '_ {
    let mut counters: Vec<MemoryCounters> = campaigns
        .iter()
        .map(|_| MemoryCounters::default())
        .collect();
    let start = month_start();
    (0..journeys)
        .flat_map(move |n| journey_items(n, journeys, &campaigns, &mut counters, start, seeded))
}

/// The seed of `journeys` journeys (operators, campaigns, journeys and drafts) in the
/// `--data` store, written in bulk.
pub(super) async fn seed(seeds: &SeedStore, journeys: u64) -> Result<Seeded, String> {
    let campaigns = setup(&seeds.app).await?;
    let mut counts = Counts::default();
    let writer = seeds.store.clone();
    let counts = tokio::task::spawn_blocking(move || {
        let written = writer.bulk_put(generate(journeys, campaigns, &mut counts));
        written.map(|_| counts)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    Ok(Seeded {
        counts: vec![
            ("drafts", counts.drafts as i64),
            ("items", counts.items as i64),
        ],
        summary: format!(
            "{} journeys, {} drafts ({} items)",
            counts.journeys, counts.drafts, counts.items
        ),
    })
}
