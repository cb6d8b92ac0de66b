//! The five example campaigns of campaigns.md, as shipped in `examples/campaigns/`: their
//! amounts at every band boundary and every cap, through real journey v2 documents.

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use super::counters::{CounterKey, Holder, MemoryCounters, PeriodKey, PersonKey, Slot, Tally};
use super::engine::{evaluate, Evaluation, Incentive, Outcome, Reason, Trip};
use super::{parse, Campaign, PaidRole};
use crate::domain::facts::Facts;
use crate::domain::journey::example_document;
use crate::domain::journey_v2::{self, Journey};
use crate::domain::operator::OperatorId;

fn load(name: &str) -> Campaign {
    let text = match name {
        "passengers-50c" => {
            include_str!("../../../../examples/campaigns/passengers-50c-classes-b-c.json")
        }
        "fixed-plus-per-km" => {
            include_str!("../../../../examples/campaigns/fixed-plus-per-km.json")
        }
        "boost-days" => {
            include_str!("../../../../examples/campaigns/boost-days-adults-class-c.json")
        }
        "seat-or-distance" => {
            include_str!("../../../../examples/campaigns/per-seat-or-distance-both-paid.json")
        }
        "driver-150c" => include_str!("../../../../examples/campaigns/driver-150c-geojson.json"),
        other => panic!("no example {other}"),
    };
    let value: Value = serde_json::from_str(text).expect("example is JSON");
    parse(&value).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

const DRIVER: PersonKey = PersonKey([1; 32]);
const PASSENGER: PersonKey = PersonKey([2; 32]);

/// A journey v2 document whose passenger starts at `start` (RFC 3339), driven over
/// `distance` metres with `seats` seats, between two INSEE communes (or the document's
/// Paris → Versailles coordinates when `insee` is `None`).
struct J {
    doc: Value,
}

impl J {
    fn new(start: &str, distance: u32) -> J {
        let start: DateTime<Utc> = DateTime::parse_from_rfc3339(start).unwrap().into();
        let mut doc = example_document("j-1", start + Duration::minutes(90));
        for p in ["passenger", "driver"] {
            doc[p]["distance"] = json!(distance);
        }
        J { doc }
    }

    fn seats(mut self, n: u8) -> J {
        self.doc["passenger"]["seats"] = json!(n);
        self
    }

    fn class(mut self, c: &str) -> J {
        self.doc["operator_class"] = json!(c);
        self
    }

    fn insee(mut self, start: &str, end: &str) -> J {
        for p in ["passenger", "driver"] {
            for (end_name, code) in [("start", start), ("end", end)] {
                let position = &mut self.doc[p][end_name];
                let datetime = position["datetime"].clone();
                *position = json!({"datetime": datetime, "insee": code});
            }
        }
        self
    }

    /// Coordinates only (lat, lon) at each end.
    fn coords(mut self, start: (f64, f64), end: (f64, f64)) -> J {
        for p in ["passenger", "driver"] {
            for (end_name, (lat, lon)) in [("start", start), ("end", end)] {
                let position = &mut self.doc[p][end_name];
                let datetime = position["datetime"].clone();
                *position = json!({"datetime": datetime, "lat": lat, "lon": lon});
            }
        }
        self
    }

    fn adult(mut self, over_18: Value) -> J {
        self.doc["passenger"]["identity"]["over_18"] = over_18;
        self
    }

    fn journey(&self) -> Journey {
        journey_v2::parse_value(&self.doc).unwrap_or_else(|e| panic!("{:?}", e.details))
    }
}

fn run(c: &Campaign, j: &J, op: u64, siret: Option<&str>, counters: &MemoryCounters) -> Evaluation {
    let facts = Facts::of(&j.journey());
    let trip = Trip::from_facts(&facts, OperatorId(op), siret, Some(DRIVER), Some(PASSENGER));
    evaluate(c, &trip, counters)
}

fn incentives(e: Evaluation) -> Vec<Incentive> {
    match e {
        Evaluation::Eligible { incentives, .. } => incentives,
        Evaluation::NotEligible(r) => panic!("not eligible: {}", r.as_str()),
    }
}

/// The amount paid to the only paid person.
fn amount(c: &Campaign, j: &J, op: u64, siret: Option<&str>) -> u64 {
    let i = incentives(run(c, j, op, siret, &MemoryCounters::default()));
    assert_eq!(i.len(), 1);
    i[0].amount
}

fn reason(c: &Campaign, j: &J, op: u64, siret: Option<&str>) -> &'static str {
    match run(c, j, op, siret, &MemoryCounters::default()) {
        Evaluation::NotEligible(r) => r.as_str(),
        e => panic!("eligible: {e:?}"),
    }
}

/// Runs `j` `n` times in a row on the same counters; the amounts granted.
fn series(
    c: &Campaign,
    j: &J,
    op: u64,
    siret: Option<&str>,
    counters: &mut MemoryCounters,
    n: usize,
) -> Vec<Vec<u64>> {
    (0..n)
        .map(|_| {
            let i = incentives(run(c, j, op, siret, counters));
            for inc in &i {
                counters.add(&inc.counted);
            }
            i.iter().map(|i| i.amount).collect()
        })
        .collect()
}

fn capped_label(i: &Incentive) -> Option<&'static str> {
    match i.outcome {
        Outcome::Capped { label, .. } => Some(label),
        _ => None,
    }
}

const X: &str = "12345678900011";
const MONTPELLIER: &str = "34172";
const LATTES: &str = "34129";
const NIMES: &str = "30189";

#[test]
fn passengers_50c_per_seat_operator_x_classes_b_c_2_to_150_km() {
    let c = load("passengers-50c");
    let at = "2025-03-14T08:00:00+01:00";
    let j = |d| J::new(at, d).insee(MONTPELLIER, NIMES).class("B");
    // Distance band [2 km, 150 km): both boundaries.
    assert_eq!(reason(&c, &j(1999), 1, Some(X)), "distance_out_of_range");
    assert_eq!(amount(&c, &j(2000), 1, Some(X)), 50);
    assert_eq!(amount(&c, &j(149_999), 1, Some(X)), 50);
    assert_eq!(reason(&c, &j(150_000), 1, Some(X)), "distance_out_of_range");
    // Per seat, no seat cap.
    for seats in 1..=8 {
        assert_eq!(
            amount(&c, &j(30_000).seats(seats), 1, Some(X)),
            50 * u64::from(seats)
        );
    }
    // Operator X only (by SIRET), classes B and C only.
    assert_eq!(reason(&c, &j(30_000), 1, None), "operator_not_eligible");
    assert_eq!(
        reason(&c, &j(30_000), 1, Some("98765432100019")),
        "operator_not_eligible"
    );
    assert_eq!(amount(&c, &j(30_000).class("C"), 1, Some(X)), 50);
    assert_eq!(
        reason(&c, &j(30_000).class("A"), 1, Some(X)),
        "operator_class_not_eligible"
    );
    // Start or end in the territory; neither → outside.
    assert_eq!(
        amount(
            &c,
            &J::new(at, 9000).insee(NIMES, LATTES).class("B"),
            1,
            Some(X)
        ),
        50
    );
    assert_eq!(
        reason(
            &c,
            &J::new(at, 9000).insee(NIMES, NIMES).class("B"),
            1,
            Some(X)
        ),
        "outside_territory"
    );
    // Only coordinates, and the territory is INSEE codes: resolved to their communes.
    assert_eq!(
        reason(&c, &J::new(at, 21_500).class("B"), 1, Some(X)),
        "outside_territory",
        "Paris → Versailles"
    );
    let montpellier_to_nimes = J::new(at, 9000)
        .coords((43.6108, 3.8767), (43.8367, 4.3601))
        .class("B");
    assert_eq!(amount(&c, &montpellier_to_nimes, 1, Some(X)), 50);
    // Dates inclusive, in Paris time: 2024-12-31 23:30 UTC is already 2025-01-01 in Paris.
    assert_eq!(
        amount(
            &c,
            &J::new("2024-12-31T23:30:00Z", 9000)
                .insee(MONTPELLIER, LATTES)
                .class("B"),
            1,
            Some(X)
        ),
        50
    );
    assert_eq!(
        reason(
            &c,
            &J::new("2024-12-31T22:30:00Z", 9000)
                .insee(MONTPELLIER, LATTES)
                .class("B"),
            1,
            Some(X)
        ),
        "before_start"
    );
    assert_eq!(
        amount(
            &c,
            &J::new("2025-12-31T22:30:00Z", 9000)
                .insee(MONTPELLIER, LATTES)
                .class("B"),
            1,
            Some(X)
        ),
        50
    );
    assert_eq!(
        reason(
            &c,
            &J::new("2025-12-31T23:30:00Z", 9000)
                .insee(MONTPELLIER, LATTES)
                .class("B"),
            1,
            Some(X)
        ),
        "after_end"
    );

    // 6 trips per driver per day, counted on the driver although the passenger is paid:
    // the 7th pays nothing; the next day (Paris time) pays again.
    let mut counters = MemoryCounters::default();
    let got = series(&c, &j(30_000), 1, Some(X), &mut counters, 8);
    assert_eq!(
        got,
        vec![
            vec![50],
            vec![50],
            vec![50],
            vec![50],
            vec![50],
            vec![50],
            vec![0],
            vec![0]
        ]
    );
    let i = incentives(run(&c, &j(30_000), 1, Some(X), &counters));
    assert_eq!(capped_label(&i[0]), Some("trips_per_day"));
    assert!(i[0].counted.is_empty(), "a capped trip counts nothing");
    let driver_day = CounterKey {
        holder: Holder::Person(DRIVER),
        slot: Slot::JourneysOf(PaidRole::Driver),
        period: PeriodKey::Day(chrono::NaiveDate::from_ymd_opt(2025, 3, 14).unwrap()),
    };
    assert_eq!(
        counters.get_tally(&driver_day),
        Tally {
            trips: 6,
            amount: 300
        }
    );
    let next_day = J::new("2025-03-14T23:10:00Z", 30_000)
        .insee(MONTPELLIER, NIMES)
        .class("B");
    assert_eq!(
        incentives(run(&c, &next_day, 1, Some(X), &counters))[0].amount,
        50
    );
}

#[test]
fn fixed_100c_plus_10c_per_km_between_10_and_20_km() {
    let c = load("fixed-plus-per-km");
    let at = "2025-03-14T08:00:00+01:00";
    let j = |d| J::new(at, d).insee("17300", "17028");
    assert_eq!(reason(&c, &j(4999), 1, None), "distance_out_of_range");
    assert_eq!(amount(&c, &j(5000), 1, None), 100);
    assert_eq!(amount(&c, &j(9999), 1, None), 100);
    assert_eq!(amount(&c, &j(10_000), 1, None), 100);
    // 100.01 c → 100; 100.5 c → 101 (half up); 100.49 → 100.
    assert_eq!(amount(&c, &j(10_001), 1, None), 100);
    assert_eq!(amount(&c, &j(10_049), 1, None), 100);
    assert_eq!(amount(&c, &j(10_050), 1, None), 101);
    assert_eq!(amount(&c, &j(15_000), 1, None), 150);
    assert_eq!(amount(&c, &j(19_999), 1, None), 200);
    assert_eq!(amount(&c, &j(20_000), 1, None), 200);
    assert_eq!(amount(&c, &j(79_999), 1, None), 200);
    assert_eq!(reason(&c, &j(80_000), 1, None), "distance_out_of_range");
    // Per seat, rounded once on the final amount: 2 × 100.5 = 201, not 2 × 101.
    assert_eq!(amount(&c, &j(10_050).seats(2), 1, None), 201);
    assert_eq!(amount(&c, &j(15_000).seats(3), 1, None), 450);

    // 6 trips per day per person; the 7th pays 0.
    let mut counters = MemoryCounters::default();
    let got: Vec<u64> = series(&c, &j(20_000), 1, None, &mut counters, 7).concat();
    assert_eq!(got, vec![200, 200, 200, 200, 200, 200, 0]);

    // 80 € per person per month: the remainder, then 0. 39 trips of 200 c (6 a day over
    // 7 days) leave 200 c; a 2-seat trip (400 c) gets 200, the next 0.
    let mut counters = MemoryCounters::default();
    let mut paid = 0;
    for day in 1..=7 {
        let jd =
            J::new(&format!("2025-03-{day:02}T08:00:00+01:00"), 20_000).insee("17300", "17028");
        let n = if day == 7 { 3 } else { 6 };
        paid += series(&c, &jd, 1, None, &mut counters, n)
            .concat()
            .iter()
            .sum::<u64>();
    }
    assert_eq!(paid, 7800);
    let jd = J::new("2025-03-08T08:00:00+01:00", 20_000)
        .insee("17300", "17028")
        .seats(2);
    let i = incentives(run(&c, &jd, 1, None, &counters));
    assert_eq!((i[0].computed, i[0].amount), (400, 200));
    assert_eq!(capped_label(&i[0]), Some("amount_per_month"));
    counters.add(&i[0].counted);
    let i = incentives(run(&c, &jd, 1, None, &counters));
    assert_eq!(
        (i[0].amount, capped_label(&i[0])),
        (0, Some("amount_per_month"))
    );
    // April starts afresh.
    let april = J::new("2025-04-01T08:00:00+02:00", 20_000).insee("17300", "17028");
    assert_eq!(
        incentives(run(&c, &april, 1, None, &counters))[0].amount,
        200
    );
}

#[test]
fn boost_days_adults_class_c_and_an_operator_dropped_from_a_date() {
    let c = load("boost-days");
    let nantes = "44109";
    let angers = "49007";
    let on = |date: &str, d| {
        J::new(&format!("{date}T08:00:00+01:00"), d)
            .insee(nantes, angers)
            .class("C")
    };
    let day = "2025-03-17";
    // 75 c from 5 km; + 5 c/km from 17 km up to 42 km (125 c): ≤ 200 c.
    assert_eq!(reason(&c, &on(day, 4999), 1, None), "distance_out_of_range");
    assert_eq!(amount(&c, &on(day, 5000), 1, None), 75);
    assert_eq!(amount(&c, &on(day, 17_000), 1, None), 75);
    assert_eq!(amount(&c, &on(day, 17_100), 1, None), 76); // 75.5 → 76
    assert_eq!(amount(&c, &on(day, 30_000), 1, None), 140);
    assert_eq!(amount(&c, &on(day, 42_000), 1, None), 200);
    assert_eq!(amount(&c, &on(day, 300_000), 1, None), 200);
    // Boost days raise the base to 165 c, the per-km part unchanged (the real Pays de la
    // Loire rule, where the contract's text said "doubled"): at most 290 c.
    let boost = "2025-03-18";
    assert_eq!(amount(&c, &on(boost, 5000), 1, None), 165);
    assert_eq!(amount(&c, &on(boost, 20_000), 1, None), 180);
    assert_eq!(amount(&c, &on(boost, 30_000), 1, None), 230);
    assert_eq!(amount(&c, &on(boost, 42_000), 1, None), 290);
    assert_eq!(amount(&c, &on(boost, 300_000), 1, None), 290);
    // The région by its code; not paid within one EPCI (Nantes → Rezé), paid between two.
    let within = J::new("2025-03-17T08:00:00+01:00", 30_000)
        .insee(nantes, "44143")
        .class("C");
    assert_eq!(reason(&c, &within, 1, None), "excluded_territory");
    let coords = J::new("2025-03-17T08:00:00+01:00", 30_000)
        .coords((47.2184, -1.5536), (47.4784, -0.5632))
        .class("C");
    assert_eq!(
        amount(&c, &coords, 1, None),
        140,
        "Nantes → Angers by coordinates"
    );
    // Not per seat.
    assert_eq!(amount(&c, &on(day, 30_000).seats(3), 1, None), 140);
    // Class C only; adults only (unknown age is not eligible either); excluded day.
    assert_eq!(
        reason(&c, &on(day, 30_000).class("B"), 1, None),
        "operator_class_not_eligible"
    );
    assert_eq!(
        reason(&c, &on(day, 30_000).adult(json!(false)), 1, None),
        "passenger_not_adult"
    );
    assert_eq!(
        reason(&c, &on(day, 30_000).adult(Value::Null), 1, None),
        "passenger_age_unknown"
    );
    assert_eq!(
        reason(&c, &on("2025-12-25", 30_000), 1, None),
        "excluded_day"
    );
    // Start and end in the territory.
    let out = J::new("2025-03-17T08:00:00+01:00", 30_000)
        .insee(nantes, "75056")
        .class("C");
    assert_eq!(reason(&c, &out, 1, None), "outside_territory");
    // Operator 3 until 2025-06-30 inclusive, then dropped; others go on.
    assert_eq!(amount(&c, &on("2025-06-30", 30_000), 3, None), 140);
    assert_eq!(
        reason(&c, &on("2025-07-01", 30_000), 3, None),
        "operator_outside_window"
    );
    assert_eq!(amount(&c, &on("2025-07-01", 30_000), 4, None), 140);

    // 6 trips a day, 84 € a month, 1 008 € a year, counted in Paris time.
    let mut counters = MemoryCounters::default();
    let got = series(&c, &on(boost, 42_000), 1, None, &mut counters, 7).concat();
    assert_eq!(got, vec![290, 290, 290, 290, 290, 290, 0]);
    let passenger = |period| CounterKey {
        holder: Holder::Person(PASSENGER),
        slot: Slot::Paid(PaidRole::Passenger),
        period,
    };
    // Month: 8 400 − 8 350 used = 50 left.
    let mut counters = MemoryCounters::default();
    counters.set(
        passenger(PeriodKey::Month(2025, 3)),
        Tally {
            trips: 40,
            amount: 8350,
        },
    );
    counters.set(
        passenger(PeriodKey::Year(2025)),
        Tally {
            trips: 80,
            amount: 25_000,
        },
    );
    let i = incentives(run(&c, &on(day, 42_000), 1, None, &counters));
    assert_eq!(
        (i[0].amount, capped_label(&i[0])),
        (50, Some("amount_per_month"))
    );
    // Year: 100 800 − 100 700 = 100 left, whatever the month has left.
    counters.set(
        passenger(PeriodKey::Year(2025)),
        Tally {
            trips: 500,
            amount: 100_700,
        },
    );
    counters.set(passenger(PeriodKey::Month(2025, 3)), Tally::default());
    let i = incentives(run(&c, &on(day, 42_000), 1, None, &counters));
    assert_eq!(
        (i[0].amount, capped_label(&i[0])),
        (100, Some("amount_per_year"))
    );
    assert_eq!(i[0].counted.len(), 3, "day, month and year counters");
    counters.add(&i[0].counted);
    let i = incentives(run(&c, &on(day, 42_000), 1, None, &counters));
    assert_eq!(i[0].amount, 0);
    assert_eq!(
        counters.get_tally(&passenger(PeriodKey::Year(2025))).amount,
        100_800
    );
}

#[test]
fn two_euros_per_seat_or_distance_over_100_from_20_km_both_paid() {
    let c = load("seat-or-distance");
    let at = "2025-03-14T08:00:00+01:00";
    let j = |d| J::new(at, d).insee("78646", "78440");
    let both = |j: &J| -> Vec<u64> {
        incentives(run(&c, j, 1, None, &MemoryCounters::default()))
            .iter()
            .map(|i| i.amount)
            .collect()
    };
    assert_eq!(reason(&c, &j(1999), 1, None), "distance_out_of_range");
    assert_eq!(both(&j(2000)), vec![200, 200]);
    assert_eq!(both(&j(19_999)), vec![200, 200]);
    assert_eq!(both(&j(20_000)), vec![200, 200]);
    assert_eq!(both(&j(20_050)), vec![201, 201]); // 200.5 → 201
    assert_eq!(both(&j(55_000)), vec![550, 550]);
    assert_eq!(both(&j(149_999)), vec![1500, 1500]);
    assert_eq!(reason(&c, &j(150_000), 1, None), "distance_out_of_range");
    // Per seat, at most 3 seats.
    assert_eq!(both(&j(10_000).seats(2)), vec![400, 400]);
    assert_eq!(both(&j(10_000).seats(3)), vec![600, 600]);
    assert_eq!(both(&j(10_000).seats(8)), vec![600, 600]);
    // The INSEE code of Paris (75056) is in the list: the end alone is enough.
    assert_eq!(
        both(&J::new(at, 30_000).insee("69123", "75056")),
        vec![300, 300]
    );

    // 4 trips a day for the driver and 4 for the passenger (each their own counter).
    let mut counters = MemoryCounters::default();
    let got = series(&c, &j(10_000), 1, None, &mut counters, 5);
    assert_eq!(
        got,
        vec![vec![200, 200]; 4]
            .into_iter()
            .chain([vec![0, 0]])
            .collect::<Vec<_>>()
    );

    // 10 million trips in total, campaign-wide: a journey paying both counts once.
    let total = CounterKey {
        holder: Holder::Campaign,
        slot: Slot::All,
        period: PeriodKey::Whole,
    };
    let mut counters = MemoryCounters::default();
    counters.set(
        total,
        Tally {
            trips: 9_999_999,
            amount: 0,
        },
    );
    let i = incentives(run(&c, &j(10_000), 1, None, &counters));
    assert_eq!(
        i.iter().map(|i| i.amount).collect::<Vec<_>>(),
        vec![200, 200]
    );
    for inc in &i {
        counters.add(&inc.counted);
    }
    assert_eq!(
        counters.get_tally(&total),
        Tally {
            trips: 10_000_000,
            amount: 400
        }
    );
    let i = incentives(run(&c, &j(10_000), 1, None, &counters));
    assert_eq!(i.iter().map(|i| i.amount).collect::<Vec<_>>(), vec![0, 0]);
    assert_eq!(capped_label(&i[1]), Some("campaign_trips_in_total"));
}

#[test]
fn driver_150c_per_seat_5_to_80_km_in_a_geojson_area() {
    let c = load("driver-150c");
    let at = "2025-03-14T08:00:00+01:00";
    // The example document goes from Paris to Versailles: both inside the drawn area.
    let j = |d| J::new(at, d);
    assert_eq!(reason(&c, &j(4999), 1, None), "distance_out_of_range");
    assert_eq!(amount(&c, &j(5000), 1, None), 150);
    assert_eq!(amount(&c, &j(79_999), 1, None), 150);
    assert_eq!(reason(&c, &j(80_000), 1, None), "distance_out_of_range");
    assert_eq!(amount(&c, &j(21_500).seats(2), 1, None), 300);
    // Versailles → Chartres: the end is outside the area.
    let mut out = j(80_000 - 1);
    for p in ["passenger", "driver"] {
        out.doc[p]["end"]["lat"] = json!(48.4439);
        out.doc[p]["end"]["lon"] = json!(1.4890);
    }
    assert_eq!(reason(&c, &out, 1, None), "outside_territory");
    // Only INSEE codes, and the territory is a drawn area: cannot be decided.
    assert_eq!(
        reason(&c, &j(21_500).insee("75056", "78646"), 1, None),
        "territory_unknown"
    );

    // 4 trips a day.
    let mut counters = MemoryCounters::default();
    assert_eq!(
        series(&c, &j(21_500), 1, None, &mut counters, 5).concat(),
        vec![150, 150, 150, 150, 0]
    );
    let driver = |period| CounterKey {
        holder: Holder::Person(DRIVER),
        slot: Slot::Paid(PaidRole::Driver),
        period,
    };
    // 90 € a month: 9 000 − 8 900 = 100 of 150.
    let mut counters = MemoryCounters::default();
    counters.set(
        driver(PeriodKey::Month(2025, 3)),
        Tally {
            trips: 59,
            amount: 8900,
        },
    );
    let i = incentives(run(&c, &j(21_500), 1, None, &counters));
    assert_eq!(
        (i[0].amount, capped_label(&i[0])),
        (100, Some("amount_per_month"))
    );
    // 540 € a year: 54 000 − 53 950 = 50.
    let mut counters = MemoryCounters::default();
    counters.set(
        driver(PeriodKey::Year(2025)),
        Tally {
            trips: 359,
            amount: 53_950,
        },
    );
    let i = incentives(run(&c, &j(21_500), 1, None, &counters));
    assert_eq!(
        (i[0].amount, capped_label(&i[0])),
        (50, Some("amount_per_year"))
    );
    // The budget (50 000 €, campaign-wide): 20 c left, then nothing.
    let budget = CounterKey {
        holder: Holder::Campaign,
        slot: Slot::All,
        period: PeriodKey::Whole,
    };
    let mut counters = MemoryCounters::default();
    counters.set(
        budget,
        Tally {
            trips: 33_000,
            amount: 4_999_980,
        },
    );
    let i = incentives(run(&c, &j(21_500), 1, None, &counters));
    assert_eq!((i[0].amount, capped_label(&i[0])), (20, Some("budget")));
    counters.add(&i[0].counted);
    assert_eq!(counters.get_tally(&budget).amount, 5_000_000);
    let i = incentives(run(&c, &j(21_500), 1, None, &counters));
    assert_eq!((i[0].amount, capped_label(&i[0])), (0, Some("budget")));
}

#[test]
fn a_journey_without_a_paid_persons_identity_is_not_eligible_for_that_person() {
    let c = load("seat-or-distance");
    let j = J::new("2025-03-14T08:00:00+01:00", 10_000).insee("78646", "78440");
    let facts = Facts::of(&j.journey());
    let trip = Trip::from_facts(&facts, OperatorId(1), None, None, Some(PASSENGER));
    let i = incentives(evaluate(&c, &trip, &MemoryCounters::default()));
    assert_eq!(i[0].outcome, Outcome::NotEligible(Reason::IdentityUnknown));
    assert_eq!((i[0].amount, i[1].amount), (0, 200));
}

impl MemoryCounters {
    fn get_tally(&self, key: &CounterKey) -> Tally {
        use super::counters::Counters;
        self.get(key)
    }
}
