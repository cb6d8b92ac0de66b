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
