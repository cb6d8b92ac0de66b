//! The policy engine: a pure function of (campaign, trip, counters). Eligibility first
//! (cheap checks before the territory), then the amount of the trip (bands, seats, boost,
//! one half-up rounding, min/max per trip), then, for each paid person in a fixed order
//! (driver, then passenger), the caps in the documented order against the counters.
//! Nothing here reads a clock, a store or a random source: the same inputs always give the
//! same result, which is what lets the monthly run recompute drafts from scratch.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};

use super::caps::grant;
use super::counters::{ride_key, CounterKey, Counters, PersonKey, Tally};
use super::{Age, Amount, Boost, Campaign, Cap, Mode, PaidRole, Territory, TerritoryRule};
use crate::domain::facts::Facts;
use crate::domain::geo::Commune;
use crate::domain::journey_v2::{OperatorClass, Place};
use crate::domain::operator::OperatorId;

/// What the engine needs of a journey (the carpool is the passenger's trip).
#[derive(Clone, Debug)]
pub struct Trip<'a> {
    pub operator: OperatorId,
    pub operator_siret: Option<&'a str>,
    pub class: OperatorClass,
    pub start: DateTime<Utc>,
    pub origin: &'a Place,
    pub destination: &'a Place,
    /// The communes of the ends ([`crate::domain::geo::commune_of`]): `None` abroad, at sea
    /// or unknown.
    pub origin_commune: Option<Commune>,
    pub destination_commune: Option<Commune>,
    /// Metres.
    pub distance: Option<u32>,
    pub seats: u8,
    pub passenger_over_18: Option<bool>,
    pub driver: Option<PersonKey>,
    pub passenger: Option<PersonKey>,
    /// The shared ride ([`ride_key`] of `operator_journey_id`), when the journey names it.
    pub ride: Option<PersonKey>,
}

impl<'a> Trip<'a> {
    /// The trip of a journey's facts (`Facts::of` a parsed journey, or as stored: no
    /// document to parse), on the shared ride the facts name. Distance: the passenger's
    /// declared one, else the straight line between the passenger's coordinates (a lower
    /// bound: never pays more than was driven), else unknown.
    pub fn from_facts(
        facts: &'a Facts,
        operator: OperatorId,
        operator_siret: Option<&'a str>,
        driver: Option<PersonKey>,
        passenger: Option<PersonKey>,
    ) -> Trip<'a> {
        let p = &facts.passenger;
        Trip {
            operator,
            operator_siret,
            class: facts.class,
            start: p.start.at,
            origin: &p.start.place,
            destination: &p.end.place,
            // Resolved once, at acceptance.
            origin_commune: p.start.commune,
            destination_commune: p.end.commune,
            distance: p.distance_m(),
            seats: facts.seats,
            passenger_over_18: facts.passenger_over_18,
            driver,
            passenger,
            ride: facts.operator_journey_id.as_deref().map(ride_key),
        }
    }

    /// The identity key of the person in `role`, when the journey identifies them.
    pub fn person(&self, role: PaidRole) -> Option<PersonKey> {
        match role {
            PaidRole::Driver => self.driver,
            PaidRole::Passenger => self.passenger,
        }
    }
}

/// Why a journey (or one person of it) earns nothing from a campaign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    BeforeStart,
    AfterEnd,
    OperatorNotEligible,
    OperatorClassNotEligible,
    OperatorOutsideWindow,
    PassengerNotAdult,
    PassengerAgeUnknown,
    DistanceUnknown,
    DistanceOutOfRange,
    WeekdayNotEligible,
    ExcludedDay,
    OutsideHours,
    TerritoryUnknown,
    OutsideTerritory,
    ExcludedTerritoryUnknown,
    ExcludedTerritory,
    NoMatchingBand,
    IdentityUnknown,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::BeforeStart => "before_start",
            Reason::AfterEnd => "after_end",
            Reason::OperatorNotEligible => "operator_not_eligible",
            Reason::OperatorClassNotEligible => "operator_class_not_eligible",
            Reason::OperatorOutsideWindow => "operator_outside_window",
            Reason::PassengerNotAdult => "passenger_not_adult",
            Reason::PassengerAgeUnknown => "passenger_age_unknown",
            Reason::DistanceUnknown => "distance_unknown",
            Reason::DistanceOutOfRange => "distance_out_of_range",
            Reason::WeekdayNotEligible => "weekday_not_eligible",
            Reason::ExcludedDay => "excluded_day",
            Reason::OutsideHours => "outside_hours",
            Reason::TerritoryUnknown => "territory_unknown",
            Reason::OutsideTerritory => "outside_territory",
            Reason::ExcludedTerritoryUnknown => "excluded_territory_unknown",
            Reason::ExcludedTerritory => "excluded_territory",
            Reason::NoMatchingBand => "no_matching_band",
            Reason::IdentityUnknown => "identity_unknown",
        }
    }
}

/// One paid person's incentive.
#[derive(Clone, Debug, PartialEq)]
pub struct Incentive {
    pub role: PaidRole,
    /// Cents granted after the caps.
    pub amount: u64,
    /// Cents of the trip before the caps.
    pub computed: u64,
    pub outcome: Outcome,
    /// What this grant adds to each counter (the journey once per counter, the cents
    /// granted); empty when nothing was granted.
    pub counted: Vec<(CounterKey, Tally)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Granted,
    /// Reduced (possibly to 0) by the cap at this index of the document.
    Capped {
        cap: usize,
        label: &'static str,
    },
    NotEligible(Reason),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Evaluation {
    NotEligible(Reason),
    Eligible {
        /// The trip's local date in the campaign's time zone (the day of its counters).
        local_date: NaiveDate,
        /// In the engine's order: driver, then passenger (those the campaign pays).
        incentives: Vec<Incentive>,
    },
}

/// Inside, outside, or not decidable from what the journey carries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Membership {
    In,
    Out,
    Unknown,
}

/// In when in a polygon or a listed unit; unknown when what would decide is missing (no
/// coordinates for the polygons, no commune for the lists); out otherwise.
fn place_in(t: &Territory, place: &Place, commune: Option<&Commune>) -> Membership {
    let by_area = match (&t.area, place.coordinates()) {
        (None, _) => Membership::Out,
        (Some(area), Some(c)) if area.contains(c.lon(), c.lat()) => return Membership::In,
        (Some(_), Some(_)) => Membership::Out,
        (Some(_), None) => Membership::Unknown,
    };
    let has_lists =
        !(t.com.is_empty() && t.epci.is_empty() && t.dep.is_empty() && t.reg.is_empty());
    let by_lists = match commune {
        _ if !has_lists => Membership::Out,
        Some(c) if t.lists(c) => return Membership::In,
        Some(_) => Membership::Out,
        // Resolved nowhere (abroad, at sea): a known position in no listed unit.
        None if place.coordinates().is_some() => Membership::Out,
        None => Membership::Unknown,
    };
    if by_area == Membership::Unknown || by_lists == Membership::Unknown {
        Membership::Unknown
    } else {
        Membership::Out
    }
}

fn trip_in(t: &Territory, trip: &Trip) -> Membership {
    use Membership::*;
    let start = || place_in(t, trip.origin, trip.origin_commune.as_ref());
    let end = || place_in(t, trip.destination, trip.destination_commune.as_ref());
    match t.rule {
        TerritoryRule::Start => start(),
        TerritoryRule::End => end(),
        TerritoryRule::StartOrEnd => match start() {
            In => In,
            s => match (s, end()) {
                (_, In) => In,
                (Unknown, _) | (_, Unknown) => Unknown,
                _ => Out,
            },
        },
        TerritoryRule::StartAndEnd => match start() {
            Out => Out,
            s => match (s, end()) {
                (_, Out) => Out,
                (Unknown, _) | (_, Unknown) => Unknown,
                _ => In,
            },
        },
    }
}

/// An exclusion: by `same` (both ends in one unit of that kind, and in the listed units
/// by the rule when there are some), else by its units and polygons.
fn excluded(t: &Territory, trip: &Trip) -> Membership {
    let Some(kind) = t.same else {
        return trip_in(t, trip);
    };
    let unit = |c: &Option<Commune>| c.as_ref().and_then(|c| kind.code_of(c));
    match (unit(&trip.origin_commune), unit(&trip.destination_commune)) {
        (Some(a), Some(b)) if a == b => {
            if t.has_no_place() {
                Membership::In
            } else {
                trip_in(t, trip)
            }
        }
        _ => Membership::Out,
    }
}

/// Eligibility of the journey as a whole; the local date on success.
fn eligibility(c: &Campaign, trip: &Trip) -> Result<(NaiveDate, u32), Reason> {
    let local = trip.start.with_timezone(&c.time_zone);
    let date = local.date_naive();
    if date < c.start {
        return Err(Reason::BeforeStart);
    }
    if date > c.end {
        return Err(Reason::AfterEnd);
    }
    if !c.operators.is_empty()
        && !c
            .operators
            .iter()
            .any(|o| o.matches(trip.operator, trip.operator_siret))
    {
        return Err(Reason::OperatorNotEligible);
    }
    if !c.class_eligible(trip.class) {
        return Err(Reason::OperatorClassNotEligible);
    }
    for w in &c.operator_windows {
        if w.operator.matches(trip.operator, trip.operator_siret)
            && (w.from.is_some_and(|f| date < f) || w.until.is_some_and(|u| date > u))
        {
            return Err(Reason::OperatorOutsideWindow);
        }
    }
    match (c.age, trip.passenger_over_18) {
        (Age::Any, _) | (_, Some(true)) | (Age::AdultOrUnknown, None) => {}
        (_, Some(false)) => return Err(Reason::PassengerNotAdult),
        (Age::Adult, None) => return Err(Reason::PassengerAgeUnknown),
    }
    let distance = trip.distance.ok_or(Reason::DistanceUnknown)?;
    if distance < c.distance.min || c.distance.max.is_some_and(|max| distance >= max) {
        return Err(Reason::DistanceOutOfRange);
    }
    if c.days.weekdays & (1 << date.weekday().number_from_monday()) == 0 {
        return Err(Reason::WeekdayNotEligible);
    }
    if c.days.exclude.binary_search(&date).is_ok() {
        return Err(Reason::ExcludedDay);
    }
    if !c.days.hours.is_empty() {
        let minute = (local.hour() * 60 + local.minute()) as u16;
        if !c
            .days
            .hours
            .iter()
            .any(|&(from, to)| (from..to).contains(&minute))
        {
            return Err(Reason::OutsideHours);
        }
    }
    match trip_in(&c.territory, trip) {
        Membership::In => {}
        Membership::Out => return Err(Reason::OutsideTerritory),
        Membership::Unknown => return Err(Reason::TerritoryUnknown),
    }
    if let Some(excluded_territory) = &c.exclude_territory {
        match excluded(excluded_territory, trip) {
            Membership::Out => {}
            Membership::In => return Err(Reason::ExcludedTerritory),
            Membership::Unknown => return Err(Reason::ExcludedTerritoryUnknown),
        }
    }
    Ok((date, distance))
}

/// Cents of the trip before caps, rounded once, half up; `None` when no band applies.
pub fn trip_amount(c: &Campaign, distance: u32, seats: u8, date: NaiveDate) -> Option<u64> {
    // Exact arithmetic in millionths of a cent: fixed × 10⁶ + metres × millicents per km.
    const UNIT: u128 = 1_000_000;
    let (rule, boost): (&Amount, u32) = match c
        .days
        .boost
        .binary_search_by_key(&date, |(d, _)| *d)
        .map(|i| &c.days.boost[i].1)
    {
        Err(_) => (&c.amount, 100),
        Ok(Boost::Factor(f)) => (&c.amount, *f),
        Ok(Boost::Amount(a)) => (a, 100),
    };
    let mut sum: u128 = 0;
    let mut matched = false;
    for b in &rule.bands {
        let applies = match rule.mode {
            Mode::FirstMatchingBand => distance >= b.from && b.to.is_none_or(|to| distance < to),
            Mode::SumOfBands => distance >= b.from,
        };
        if !applies {
            continue;
        }
        matched = true;
        let metres = distance.min(b.to.unwrap_or(u32::MAX)) - b.from;
        sum += u128::from(b.fixed) * UNIT + u128::from(metres) * u128::from(b.per_km_millicents);
        if rule.mode == Mode::FirstMatchingBand {
            break;
        }
    }
    if !matched {
        return None;
    }
    if rule.per_seat {
        let seats_cap = c.caps.iter().find_map(|(_, cap)| match cap {
            Cap::SeatsPerTrip { max } => Some(*max),
            _ => None,
        });
        sum *= u128::from(seats.min(seats_cap.unwrap_or(u8::MAX)));
    }
    let numerator = sum * u128::from(boost);
    let denominator = UNIT * 100;
    let half_up = numerator + denominator / 2;
    // 64-bit division when it fits (always, for real amounts): a 128-bit one costs more.
    let rounded = match u64::try_from(half_up) {
        Ok(n) => u128::from(n / (denominator as u64)),
        Err(_) => half_up / denominator,
    };
    let mut amount = u64::try_from(rounded).unwrap_or(u64::MAX);
    if let Some(min) = rule.min_per_trip {
        amount = amount.max(min);
    }
    if let Some(max) = rule.max_per_trip {
        amount = amount.min(max);
    }
    Some(amount)
}

/// What the caps need of a trip the campaign pays, caps aside: the result of [`assess`].
/// The monthly run computes it where the journey is read and applies the caps elsewhere,
/// in start order ([`apply_caps`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Assessed {
    pub operator: OperatorId,
    /// The trip's local date in the campaign's time zone (the day of its counters).
    pub local_date: NaiveDate,
    /// Cents of the trip before the caps.
    pub computed: u64,
    pub driver: Option<PersonKey>,
    pub passenger: Option<PersonKey>,
    /// Passenger seats (what a ride's seat counter counts).
    pub seats: u8,
    pub ride: Option<PersonKey>,
}

impl Assessed {
    pub(super) fn person(&self, role: PaidRole) -> Option<PersonKey> {
        match role {
            PaidRole::Driver => self.driver,
            PaidRole::Passenger => self.passenger,
        }
    }
}

/// Eligibility and amount of a trip, without the counters.
pub fn assess(c: &Campaign, trip: &Trip) -> Result<Assessed, Reason> {
    let (local_date, distance) = eligibility(c, trip)?;
    let computed =
        trip_amount(c, distance, trip.seats, local_date).ok_or(Reason::NoMatchingBand)?;
    Ok(Assessed {
        operator: trip.operator,
        local_date,
        computed,
        driver: trip.driver,
        passenger: trip.passenger,
        seats: trip.seats,
        ride: trip.ride,
    })
}

/// The caps on an assessed trip, against the counters as they were before it: one
/// incentive per paid role, in the engine's order.
pub fn apply_caps(c: &Campaign, trip: &Assessed, counters: &impl Counters) -> Vec<Incentive> {
    let mut incentives: Vec<Incentive> = Vec::with_capacity(2);
    for role in c.paid_roles() {
        let incentive = match trip.person(role) {
            Some(person) => grant(c, trip, counters, &incentives, role, person),
            None => Incentive {
                role,
                amount: 0,
                computed: trip.computed,
                outcome: Outcome::NotEligible(Reason::IdentityUnknown),
                counted: Vec::new(),
            },
        };
        incentives.push(incentive);
    }
    incentives
}

/// Evaluates one trip against the counters as they were before it. Within the trip, the
/// driver is evaluated first: the passenger's amount caps see the cents granted to the
/// driver on a shared counter (the budget, campaign-wide caps, a `who` cap), while trip
/// caps see the trip once.
pub fn evaluate(c: &Campaign, trip: &Trip, counters: &impl Counters) -> Evaluation {
    match assess(c, trip) {
        Err(reason) => Evaluation::NotEligible(reason),
        Ok(assessed) => Evaluation::Eligible {
            local_date: assessed.local_date,
            incentives: apply_caps(c, &assessed, counters),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use chrono::TimeZone;
    use proptest::prelude::*;
    use serde_json::{json, Value};

    use super::*;
    use crate::domain::campaign::counters::MemoryCounters;
    use crate::domain::campaign::parse;
    use crate::domain::journey_v2::Coordinates;

    const PEOPLE: u8 = 3;

    fn band() -> impl Strategy<Value = Value> {
        (
            0u32..60_000,
            1u32..60_000,
            prop::option::of(0u32..500),
            prop::option::of(0u32..40_000),
        )
            .prop_map(|(from, len, fixed, per_km_milli)| {
                let mut b = json!({"from": from, "to": from + len});
                let fixed = if per_km_milli.is_none() {
                    Some(fixed.unwrap_or(1))
                } else {
                    fixed
                };
                if let Some(f) = fixed {
                    b["fixed"] = json!(f);
                }
                if let Some(p) = per_km_milli {
                    b["per_km"] = json!(f64::from(p) / 1000.0);
                }
                b
            })
    }

    fn cap() -> impl Strategy<Value = Value> {
        let per = prop::sample::select(vec!["day", "month", "year", "campaign"]);
        let who = prop::option::of(prop::sample::select(vec!["driver", "passenger"]));
        let scope = prop::sample::select(vec!["person", "operator_person", "campaign"]);
        prop_oneof![
            (1u64..6).prop_map(|max| json!({"kind": "seats_per_trip", "max": max})),
            (per.clone(), 1u64..5, who.clone(), scope.clone()).prop_map(
                |(per, max, who, scope)| {
                    let mut c = json!({"kind": "trips", "per": per, "max": max, "scope": scope});
                    if scope != "campaign" {
                        if let Some(w) = who {
                            c["who"] = json!(w);
                        }
                    }
                    c
                }
            ),
            (per, 1u64..2_000, who, scope).prop_map(|(per, max, who, scope)| {
                let mut c = json!({"kind": "amount", "per": per, "max": max, "scope": scope});
                if scope != "campaign" {
                    if let Some(w) = who {
                        c["who"] = json!(w);
                    }
                }
                c
            }),
            (1u64..5_000).prop_map(|max| json!({"kind": "budget", "max": max})),
        ]
    }

    fn campaign() -> impl Strategy<Value = Value> {
        (
            prop::collection::vec(band(), 1..5),
            any::<bool>(),
            any::<bool>(),
            prop::option::of(1u64..800),
            prop::sample::select(vec![
                vec!["driver"],
                vec!["passenger"],
                vec!["driver", "passenger"],
            ]),
            prop::collection::vec(cap(), 0..6),
            prop::option::of(1u32..400),
        )
            .prop_map(|(bands, sum, per_seat, max, pays, caps, boost)| {
                let mut doc = json!({
                    "id": "prop", "name": "p", "territory_name": "t",
                    "start": "2025-01-01", "end": "2025-12-31", "time_zone": "Europe/Paris",
                    "territory": {"rule": "start_or_end", "geojson": {"type": "Polygon",
                        "coordinates": [[[0, 40], [10, 40], [10, 50], [0, 50], [0, 40]]]}},
                    "pays": pays,
                    "amount": {"mode": if sum { "sum_of_bands" } else { "first_matching_band" },
                               "bands": bands, "per_seat": per_seat},
                    "caps": caps,
                });
                if let Some(m) = max {
                    doc["amount"]["max_per_trip"] = json!(m);
                }
                if let Some(b) = boost {
                    doc["days"] =
                        json!({"boost": [{"date": "2025-03-02", "factor": f64::from(b) / 100.0}]});
                }
                doc
            })
    }

    /// (day of March 2025, hour, driver, passenger, operator, distance, seats)
    type TripSpec = (u32, u32, u8, u8, u64, u32, u8);

    fn trips() -> impl Strategy<Value = Vec<TripSpec>> {
        prop::collection::vec(
            (
                1u32..5,
                0u32..24,
                0..PEOPLE,
                0..PEOPLE,
                1u64..3,
                0u32..120_000,
                1u8..=8,
            ),
            1..40,
        )
    }

    fn person(n: u8, role: u8) -> PersonKey {
        PersonKey([n + 10 * role; 32])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Amounts are never above the trip's amount nor the max per trip, counters count
        /// exactly what was granted, and no cap is ever exceeded.
        #[test]
        fn amounts_are_bounded_and_caps_never_exceeded(doc in campaign(), specs in trips()) {
            // First-matching bands may overlap in generated documents: those are refused.
            let Ok(c) = parse(&doc) else { return Ok(()); };
            let place = Place::Coordinates(Coordinates::new(45.0, 5.0).unwrap());
            let mut counters = MemoryCounters::default();
            // What each cap's counter should hold, recomputed independently: journeys
            // counted (once each) and cents granted.
            let mut seen: HashMap<CounterKey, (std::collections::BTreeSet<usize>, u64)> = HashMap::new();
            for (n, &(day, hour, d, p, op, distance, seats)) in specs.iter().enumerate() {
                let start = chrono_tz::Europe::Paris
                    .with_ymd_and_hms(2025, 3, day, hour, 0, 0)
                    .single()
                    .unwrap()
                    .with_timezone(&Utc);
                let trip = Trip {
                    operator: OperatorId(op),
                    operator_siret: None,
                    class: OperatorClass::C,
                    start,
                    origin: &place,
                    destination: &place,
                    origin_commune: None,
                    destination_commune: None,
                    distance: Some(distance),
                    seats,
                    passenger_over_18: Some(true),
                    driver: Some(person(d, 0)),
                    passenger: Some(person(p, 1)),
                    ride: None,
                };
                let first = evaluate(&c, &trip, &counters);
                prop_assert_eq!(&first, &evaluate(&c, &trip, &counters), "deterministic");
                let Evaluation::Eligible { incentives, local_date } = first else { continue };
                for i in &incentives {
                    prop_assert!(i.amount <= i.computed);
                    if let Some(max) = c.amount.max_per_trip {
                        prop_assert!(i.computed <= max && i.amount <= max);
                    }
                    if i.amount == 0 {
                        prop_assert!(i.counted.is_empty());
                        continue;
                    }
                    let mut keys = std::collections::BTreeSet::new();
                    for (_, cap) in &c.caps {
                        let other = |r| trip.person(r);
                        if let Some(Ok(key)) = CounterKey::for_cap(cap, i.role, trip.person(i.role).unwrap(), other, trip.operator, local_date) {
                            keys.insert(key);
                        }
                    }
                    for key in keys {
                        let e = seen.entry(key).or_default();
                        e.0.insert(n);
                        e.1 += i.amount;
                    }
                    counters.add(&i.counted);
                }
            }
            for (key, (journeys, cents)) in &seen {
                let held = counters.get(key);
                prop_assert_eq!((held.trips, held.amount), (journeys.len() as u64, *cents));
            }
            for (_, cap) in &c.caps {
                for (key, (journeys, cents)) in &seen {
                    let (trips_max, amount_max) = match *cap {
                        Cap::Trips { max, .. } => (Some(max), None),
                        Cap::Amount { max, .. } | Cap::Budget { max } => (None, Some(max)),
                        Cap::SeatsPerTrip { .. } | Cap::SeatsPerRide { .. } => continue,
                    };
                    // Only the counters of this cap's shape.
                    let own = specs.iter().enumerate().any(|(n, &(day, _, d, p, op, _, _))| {
                        let date = chrono::NaiveDate::from_ymd_opt(2025, 3, day).unwrap();
                        journeys.contains(&n) && c.paid_roles().any(|role| {
                            let me = if role == PaidRole::Driver { person(d, 0) } else { person(p, 1) };
                            let other = |r| Some(if r == PaidRole::Driver { person(d, 0) } else { person(p, 1) });
                            CounterKey::for_cap(cap, role, me, other, OperatorId(op), date) == Some(Ok(*key))
                        })
                    });
                    if !own {
                        continue;
                    }
                    if let Some(max) = trips_max {
                        prop_assert!(journeys.len() as u64 <= max, "{:?} {} > {}", key, journeys.len(), max);
                    }
                    if let Some(max) = amount_max {
                        prop_assert!(*cents <= max, "{:?} {} > {}", key, cents, max);
                    }
                }
            }
        }
    }

    #[test]
    fn half_up_rounding_happens_once_on_the_final_amount() {
        let doc = json!({
            "id": "r", "name": "r", "territory_name": "t",
            "start": "2025-01-01", "end": "2025-12-31", "time_zone": "Europe/Paris",
            "territory": {"rule": "start", "geojson": {"type": "Polygon",
                "coordinates": [[[0, 40], [10, 40], [10, 50], [0, 50], [0, 40]]]}},
            "pays": ["driver"],
            "days": {"boost": [{"date": "2025-03-02", "factor": 1.5}]},
            "amount": {"mode": "sum_of_bands", "per_seat": true,
                       "bands": [{"from": 0, "per_km": 0.333}, {"from": 0, "to": 1000, "fixed": 1}]}
        });
        let c = parse(&doc).unwrap();
        let d = chrono::NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
        let boost = chrono::NaiveDate::from_ymd_opt(2025, 3, 2).unwrap();
        // 1 + 1.5 km × 0.333 = 1.4995 → 1; × 3 seats = 4.4985 → 4 (not 3 × 1 = 3).
        assert_eq!(trip_amount(&c, 1500, 1, d), Some(1));
        assert_eq!(trip_amount(&c, 1500, 3, d), Some(4));
        // × 1.5 on the boost day: 6.74775 → 7; exactly .5 rounds up: 3 km × 0.333 × 1.5
        // + 1.5 = 2.9985 → 3.
        assert_eq!(trip_amount(&c, 1500, 3, boost), Some(7));
        assert_eq!(trip_amount(&c, 3000, 1, boost), Some(3));
        // 0.5 exactly: 1 + 0.333 × 1.5015 km … use a clean half: fixed 1 × 1.5 = 1.5 → 2.
        assert_eq!(trip_amount(&c, 0, 1, boost), Some(2));
    }
}
