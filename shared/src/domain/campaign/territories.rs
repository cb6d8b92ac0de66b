//! Named territories (communes, EPCI, départements, régions) and `same` exclusions, from
//! the document to the engine's answer, on journeys known by their coordinates.

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};

use super::counters::MemoryCounters;
use super::engine::{evaluate, Evaluation, Trip};
use super::parse;
use crate::domain::geo;
use crate::domain::journey_v2::{Coordinates, OperatorClass, Place};
use crate::domain::operator::OperatorId;

const LA_ROCHELLE: (f64, f64) = (46.1591, -1.1520);
/// Same EPCI as La Rochelle (CA de La Rochelle).
const AYTRE: (f64, f64) = (46.1340, -1.1150);
/// Charente-Maritime, CA Rochefort Océan.
const ROCHEFORT: (f64, f64) = (45.9420, -0.9620);
const TONNAY_CHARENTE: (f64, f64) = (45.9440, -0.8920);
/// Deux-Sèvres, Nouvelle-Aquitaine.
const NIORT: (f64, f64) = (46.3237, -0.4588);
/// Pays de la Loire.
const NANTES: (f64, f64) = (47.2184, -1.5536);
const BRUSSELS: (f64, f64) = (50.8503, 4.3517);

fn doc(territory: Value, exclude: Option<Value>) -> Value {
    let mut d = json!({
        "id": "t", "name": "T", "territory_name": "T",
        "start": "2025-01-01", "end": "2025-12-31", "time_zone": "Europe/Paris",
        "territory": territory, "pays": ["driver"],
        "amount": {"mode": "first_matching_band", "bands": [{"from": 0, "fixed": 100}]}
    });
    if let Some(x) = exclude {
        d["exclude_territory"] = x;
    }
    d
}

/// The outcome of a trip from `a` to `b`: "paid" or the reason.
fn outcome(d: &Value, a: (f64, f64), b: (f64, f64)) -> &'static str {
    let c = parse(d).unwrap_or_else(|e| panic!("{e:?}"));
    let place = |(lat, lon)| Place::Coordinates(Coordinates::new(lat, lon).unwrap());
    let (origin, destination) = (place(a), place(b));
    let trip = Trip {
        operator: OperatorId(1),
        operator_siret: None,
        class: OperatorClass::C,
        start: Utc.with_ymd_and_hms(2025, 3, 14, 7, 0, 0).unwrap(),
        origin_commune: geo::commune_of(&origin),
        destination_commune: geo::commune_of(&destination),
        origin: &origin,
        destination: &destination,
        distance: Some(10_000),
        seats: 1,
        passenger_over_18: Some(true),
        driver: Some(super::counters::PersonKey([1; 32])),
        passenger: None,
        ride: None,
    };
    match evaluate(&c, &trip, &MemoryCounters::default()) {
        Evaluation::NotEligible(r) => r.as_str(),
        Evaluation::Eligible { .. } => "paid",
    }
}

#[test]
fn the_places_of_these_tests_are_where_they_say() {
    let code = |(lat, lon)| geo::Index::get().resolve(lat, lon).map(|c| c.code);
    assert_eq!(code(LA_ROCHELLE), Some("17300"));
    assert_eq!(code(AYTRE), Some("17028"));
    assert_eq!(code(ROCHEFORT), Some("17299"));
    assert_eq!(code(TONNAY_CHARENTE), Some("17449"));
    assert_eq!(code(NIORT), Some("79191"));
    assert_eq!(code(NANTES), Some("44109"));
    assert_eq!(code(BRUSSELS), None);
}

#[test]
fn units_of_each_kind_contain_the_trips_of_their_communes() {
    let both = |kind: &str, codes: Value| doc(json!({"rule": "start_and_end", kind: codes}), None);
    let epci = both("epci", json!(["241700434"]));
    assert_eq!(outcome(&epci, LA_ROCHELLE, AYTRE), "paid");
    assert_eq!(outcome(&epci, LA_ROCHELLE, ROCHEFORT), "outside_territory");
    let dep = both("dep", json!(["17"]));
    assert_eq!(outcome(&dep, LA_ROCHELLE, ROCHEFORT), "paid");
    assert_eq!(outcome(&dep, LA_ROCHELLE, NIORT), "outside_territory");
    let reg = both("reg", json!(["75"]));
    assert_eq!(outcome(&reg, LA_ROCHELLE, NIORT), "paid");
    assert_eq!(outcome(&reg, LA_ROCHELLE, NANTES), "outside_territory");
    // `com` and its synonym `insee`, together with a département: the union.
    let com = both("com", json!(["17300"]));
    assert_eq!(outcome(&com, LA_ROCHELLE, AYTRE), "outside_territory");
    let mixed = doc(
        json!({"rule": "start_and_end", "insee": ["17300"], "com": ["17028"], "dep": ["79"]}),
        None,
    );
    assert_eq!(outcome(&mixed, LA_ROCHELLE, AYTRE), "paid");
    assert_eq!(outcome(&mixed, AYTRE, NIORT), "paid");
    assert_eq!(outcome(&mixed, LA_ROCHELLE, ROCHEFORT), "outside_territory");
    // Abroad is a known position in no unit: start_or_end pays, start_and_end does not.
    let any = doc(json!({"rule": "start_or_end", "dep": ["17"]}), None);
    assert_eq!(outcome(&any, LA_ROCHELLE, BRUSSELS), "paid");
    assert_eq!(outcome(&dep, LA_ROCHELLE, BRUSSELS), "outside_territory");
}

#[test]
fn same_unit_exclusions_exclude_only_trips_inside_one_unit() {
    let territory = json!({"rule": "start_and_end", "dep": ["17", "79"]});
    let same_epci = doc(territory.clone(), Some(json!({"same": "epci"})));
    assert_eq!(
        outcome(&same_epci, LA_ROCHELLE, AYTRE),
        "excluded_territory"
    );
    assert_eq!(
        outcome(&same_epci, ROCHEFORT, TONNAY_CHARENTE),
        "excluded_territory"
    );
    assert_eq!(
        outcome(&same_epci, LA_ROCHELLE, ROCHEFORT),
        "paid",
        "two EPCI"
    );
    let same_dep = doc(territory.clone(), Some(json!({"same": "dep"})));
    assert_eq!(
        outcome(&same_dep, LA_ROCHELLE, ROCHEFORT),
        "excluded_territory"
    );
    assert_eq!(outcome(&same_dep, LA_ROCHELLE, NIORT), "paid");
    let same_com = doc(territory.clone(), Some(json!({"same": "com"})));
    assert_eq!(
        outcome(&same_com, LA_ROCHELLE, LA_ROCHELLE),
        "excluded_territory"
    );
    assert_eq!(outcome(&same_com, LA_ROCHELLE, AYTRE), "paid");
    // Only within the listed units: one EPCI's inner trips excluded, not another's.
    let within = doc(
        territory.clone(),
        Some(json!({"same": "epci", "epci": ["241700434"]})),
    );
    assert_eq!(outcome(&within, LA_ROCHELLE, AYTRE), "excluded_territory");
    assert_eq!(outcome(&within, ROCHEFORT, TONNAY_CHARENTE), "paid");
    // A fixed list, by contrast, excludes a trip between two listed EPCI as well.
    let listed = doc(
        territory,
        Some(json!({"rule": "start_and_end", "epci": ["241700434", "200041762"]})),
    );
    assert_eq!(
        outcome(&listed, LA_ROCHELLE, ROCHEFORT),
        "excluded_territory"
    );
}

fn paths(d: Value) -> Vec<String> {
    let mut p: Vec<String> = parse(&d).unwrap_err().into_iter().map(|d| d.path).collect();
    p.sort();
    p
}

#[test]
fn unknown_codes_are_refused_with_their_pointer() {
    let d = doc(
        json!({"rule": "start", "com": ["17300", "17999"], "insee": ["1730"], "epci": ["123456789"],
               "dep": ["17", "20"], "reg": ["75", "99"], "same": "epci"}),
        Some(json!({"same": "canton", "reg": ["00"]})),
    );
    assert_eq!(
        paths(d),
        vec![
            "/exclude_territory/reg/0",
            "/exclude_territory/same",
            "/territory/com/1",
            "/territory/dep/1",
            "/territory/epci/0",
            "/territory/insee/0",
            "/territory/reg/1",
            "/territory/same",
        ]
    );
    let details = parse(&doc(json!({"rule": "start", "com": ["17999"]}), None)).unwrap_err();
    assert_eq!(
        details[0].reason,
        "no commune has this INSEE code: \"17999\" (Code officiel géographique)"
    );
    assert_eq!(
        paths(doc(json!({"com": ["17300"]}), None)),
        vec!["/territory/rule"]
    );
    // A territory needs a place; an exclusion with `same` only needs no rule.
    assert_eq!(
        paths(doc(json!({"rule": "start", "dep": []}), None)),
        vec!["/territory"]
    );
    let ok = doc(
        json!({"rule": "start", "dep": ["17"]}),
        Some(json!({"same": "com"})),
    );
    assert!(parse(&ok).is_ok());
}

#[test]
fn codes_of_merged_communes_stand_for_their_current_commune() {
    let c = parse(&doc(
        json!({"rule": "start", "com": ["18123", "13201", "17300"]}),
        None,
    ))
    .unwrap();
    assert_eq!(c.territory.com, vec!["13055", "17300", "18023"]);
}
