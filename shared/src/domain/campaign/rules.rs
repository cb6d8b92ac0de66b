//! The rules real campaigns use (issue 18): a boost day with its own amount rule, adults or
//! unknown age, and the checks at load that go with them.

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};

use super::counters::{MemoryCounters, PersonKey};
use super::engine::{evaluate, Evaluation, Trip};
use super::parse;
use crate::domain::journey_v2::{Coordinates, OperatorClass, Place};
use crate::domain::operator::OperatorId;

fn doc() -> Value {
    json!({
        "id": "r", "name": "R", "territory_name": "R",
        "start": "2025-01-01", "end": "2025-12-31", "time_zone": "Europe/Paris",
        "territory": {"rule": "start", "dep": ["17"]}, "pays": ["passenger"],
        "distance": {"min": 2000},
        "amount": {"mode": "first_matching_band", "bands": [{"from": 0, "fixed": 75, "per_km": 1.5}]}
    })
}

/// Cents paid (or the reason) for a trip in La Rochelle on 2025-03-`day`.
fn paid(d: &Value, day: u32, metres: u32, over_18: Option<bool>) -> Result<u64, &'static str> {
    let c = parse(d).unwrap_or_else(|e| panic!("{e:?}"));
    let place = Place::Coordinates(Coordinates::new(46.1591, -1.1520).unwrap());
    let commune = crate::domain::geo::commune_of(&place);
    let trip = Trip {
        operator: OperatorId(1),
        operator_siret: None,
        class: OperatorClass::C,
        start: Utc.with_ymd_and_hms(2025, 3, day, 7, 0, 0).unwrap(),
        origin: &place,
        destination: &place,
        origin_commune: commune,
        destination_commune: commune,
        distance: Some(metres),
        seats: 1,
        passenger_over_18: over_18,
        driver: None,
        passenger: Some(PersonKey([2; 32])),
        ride: None,
    };
    match evaluate(&c, &trip, &MemoryCounters::default()) {
        Evaluation::NotEligible(r) => Err(r.as_str()),
        Evaluation::Eligible { incentives, .. } => Ok(incentives[0].amount),
    }
}

#[test]
fn a_boost_day_may_replace_the_amount_rule() {
    let mut d = doc();
    d["days"] = json!({"boost": [
        {"date": "2025-03-14", "amount": {"mode": "first_matching_band",
            "bands": [{"from": 0, "fixed": 165, "per_km": 1.5}]}},
        {"date": "2025-03-15", "factor": 2.2}
    ]});
    // 20 km: 165 + 20 × 1.5 on the boost day, 75 + 30 on others, × 2.2 with a factor.
    assert_eq!(paid(&d, 14, 20_000, None), Ok(195));
    assert_eq!(paid(&d, 13, 20_000, None), Ok(105));
    assert_eq!(paid(&d, 15, 20_000, None), Ok(231));
    // The day's own bands decide, including their distance range.
    assert_eq!(paid(&d, 14, 1_999, None), Err("distance_out_of_range"));
    d["days"]["boost"][0]["amount"]["bands"][0]["from"] = json!(5000);
    assert_eq!(paid(&d, 14, 3_000, None), Err("no_matching_band"));
    assert_eq!(paid(&d, 13, 3_000, None), Ok(80));
}

#[test]
fn adults_or_unknown_age_refuses_only_minors() {
    let mut d = doc();
    d["age"] = json!("adult_or_unknown");
    assert_eq!(paid(&d, 13, 10_000, Some(true)), Ok(90));
    assert_eq!(paid(&d, 13, 10_000, None), Ok(90));
    assert_eq!(
        paid(&d, 13, 10_000, Some(false)),
        Err("passenger_not_adult")
    );
    for adult in [json!({"age": "adult"}), json!({"adult_only": true})] {
        let mut d = doc();
        for (k, v) in adult.as_object().unwrap() {
            d[k] = v.clone();
        }
        assert_eq!(paid(&d, 13, 10_000, Some(true)), Ok(90));
        assert_eq!(paid(&d, 13, 10_000, None), Err("passenger_age_unknown"));
        assert_eq!(
            paid(&d, 13, 10_000, Some(false)),
            Err("passenger_not_adult")
        );
    }
    assert_eq!(paid(&doc(), 13, 10_000, Some(false)), Ok(90), "any age");
}

/// What loading a new document reports: the parse's problems, else the load checks'.
fn paths(d: Value) -> Vec<String> {
    let details = match parse(&d) {
        Err(details) => details,
        Ok(c) => super::document::load_checks(&d, &c),
    };
    let mut p: Vec<String> = details.into_iter().map(|d| d.path).collect();
    p.sort();
    p
}

#[test]
fn boosts_and_age_are_checked_at_load() {
    let mut d = doc();
    d["age"] = json!("teen");
    d["days"] = json!({"boost": [
        {"date": "2025-03-13", "factor": 2},
        {"date": "2025-03-14"},
        {"date": "2025-03-15", "factor": 2, "amount": {"mode": "first_matching_band", "bands": [{"from": 0, "fixed": 1}]}},
        {"date": "2025-03-16", "amount": {"mode": "first_matching_band", "bands": []}}
    ]});
    assert_eq!(
        paths(d),
        vec![
            "/age",
            "/days/boost/1",
            "/days/boost/2",
            "/days/boost/3/amount/bands",
        ]
    );
    // Referential mistakes, once the document parses.
    let mut d = doc();
    d["days"] = json!({"boost": [{"date": "2025-03-14", "factor": 2}, {"date": "2026-01-01", "factor": 2}]});
    d["operators"] = json!(["1", "12345678900011"]);
    d["operator_windows"] =
        json!([{"operator": "2", "from": "2025-02-01"}, {"operator": "1", "until": "2025-06-30"}]);
    assert!(parse(&d).is_ok());
    assert_eq!(
        paths(d),
        vec!["/days/boost/1/date", "/operator_windows/0/operator"]
    );
    let mut d = doc();
    d["adult_only"] = json!(true);
    d["age"] = json!("adult_or_unknown");
    assert_eq!(paths(d), vec!["/adult_only"]);
}

/// Seats paid on `ride` by one-campaign evaluations in order: each (ride, day, seats).
fn ride_amounts(d: &Value, trips: &[(Option<&str>, u32, u8)]) -> Vec<Result<u64, &'static str>> {
    use super::engine::Outcome;
    let c = parse(d).unwrap_or_else(|e| panic!("{e:?}"));
    let place = Place::Coordinates(Coordinates::new(46.1591, -1.1520).unwrap());
    let commune = crate::domain::geo::commune_of(&place);
    let mut counters = MemoryCounters::default();
    let mut out = Vec::new();
    for (n, &(ride, day, seats)) in trips.iter().enumerate() {
        let trip = Trip {
            operator: OperatorId(1),
            operator_siret: None,
            class: OperatorClass::C,
            start: Utc.with_ymd_and_hms(2025, 3, day, 7, n as u32, 0).unwrap(),
            origin: &place,
            destination: &place,
            origin_commune: commune,
            destination_commune: commune,
            distance: Some(10_000),
            seats,
            passenger_over_18: None,
            driver: Some(PersonKey([1; 32])),
            passenger: Some(PersonKey([10 + n as u8; 32])),
            ride: ride.map(super::counters::ride_key),
        };
        out.push(match evaluate(&c, &trip, &counters) {
            Evaluation::NotEligible(r) => Err(r.as_str()),
            Evaluation::Eligible { incentives, .. } => {
                let i = &incentives[0];
                counters.add(&i.counted);
                match i.outcome {
                    Outcome::NotEligible(r) => Err(r.as_str()),
                    Outcome::Capped { label, .. } if i.amount == 0 => Err(label),
                    _ => Ok(i.amount),
                }
            }
        });
    }
    out
}

#[test]
fn seats_per_ride_counts_the_seats_of_a_ride_per_day() {
    let mut d = doc();
    d["caps"] = json!([{"kind": "seats_per_ride", "max": 3}]);
    let r = Some("ride-1");
    assert_eq!(
        ride_amounts(
            &d,
            &[
                (r, 13, 1),
                (r, 13, 1),
                (Some("ride-2"), 13, 2),
                (r, 13, 1),
                // The 4th passenger of ride-1 that day; 2 seats where 1 is left.
                (r, 13, 1),
                (Some("ride-2"), 13, 2),
                // The next day, the ride starts afresh; a ride named by no id is unknown.
                (r, 14, 3),
                (None, 14, 1),
            ]
        ),
        vec![
            Ok(90),
            Ok(90),
            Ok(90),
            Ok(90),
            Err("seats_per_ride"),
            Err("seats_per_ride"),
            Ok(90),
            Err("identity_unknown"),
        ]
    );
    // A period other than the day.
    d["caps"] = json!([{"kind": "seats_per_ride", "per": "month", "max": 2}]);
    assert_eq!(
        ride_amounts(&d, &[(r, 13, 1), (r, 14, 1), (r, 15, 1)]),
        vec![Ok(90), Ok(90), Err("seats_per_ride")]
    );
    d["caps"] = json!([{"kind": "seats_per_ride", "per": "week", "max": 0, "who": "driver"}]);
    assert_eq!(paths(d), vec!["/caps/0/max", "/caps/0/per", "/caps/0/who"]);
}
