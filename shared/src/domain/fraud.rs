//! The fraud rules of SPEC §3 ("Fraud pass"), pure: given the journeys of one person (across
//! every operator), which labels each of them earns. The scheduled pass
//! (the `fraud` job of the services layer) feeds them from the evidence items written at processing time.
//!
//! Two couples of the same ride (same operator, same `operator_journey_id`) share their
//! driver by design: they are one ride, not two overlapping journeys of the driver.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use super::anomaly::great_circle_m;
use super::journey_v2::Coordinates;
use super::operator::OperatorId;

/// Every threshold of the fraud pass, in one place (docs/DATA_MODEL.md, "Fraud pass").
#[derive(Clone, Debug, PartialEq)]
pub struct FraudRules {
    /// More journeys than this in one Europe/Paris day (by start), as passenger or driver,
    /// is `too_many_trips_by_day`. The couples of one ride count once for its driver.
    pub max_journeys_per_day: usize,
    /// Two journeys whose common time is at least this share of the shorter one are
    /// `temporal_overlap`.
    pub min_overlap_percent: i64,
    /// A journey starting less than this after the end of the previous one ...
    pub close_gap: TimeDelta,
    /// ... and farther from where it ended than this speed allows is `too_close_trips`.
    pub max_speed_kmh: f64,
    /// Days (Europe/Paris) before today that each pass covers, besides today
    /// (`REGISTRY_FRAUD_WINDOW_DAYS`). Must exceed the 120 h submission delay in days, so
    /// that a late journey is still compared with its neighbours.
    pub window_days: u32,
}

impl Default for FraudRules {
    fn default() -> Self {
        FraudRules {
            max_journeys_per_day: 4,
            min_overlap_percent: 70,
            close_gap: TimeDelta::minutes(30),
            max_speed_kmh: 200.0,
            window_days: 7,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FraudLabel {
    InterchangeableRoles,
    TemporalOverlap,
    TooCloseTrips,
    TooManyTripsByDay,
}

impl FraudLabel {
    pub const ALL: [FraudLabel; 4] = [
        FraudLabel::InterchangeableRoles,
        FraudLabel::TemporalOverlap,
        FraudLabel::TooCloseTrips,
        FraudLabel::TooManyTripsByDay,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FraudLabel::InterchangeableRoles => "interchangeable_roles",
            FraudLabel::TemporalOverlap => "temporal_overlap",
            FraudLabel::TooCloseTrips => "too_close_trips",
            FraudLabel::TooManyTripsByDay => "too_many_trips_by_day",
        }
    }

    pub fn parse(s: &str) -> Option<FraudLabel> {
        FraudLabel::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// A set of labels, always in the same order.
pub type Labels = BTreeSet<FraudLabel>;

/// Labels as stored: a JSON list of names, sorted.
pub fn labels_json(labels: &Labels) -> String {
    let names: Vec<&str> = labels.iter().map(|l| l.as_str()).collect();
    serde_json::to_string(&names).unwrap_or_else(|_| "[]".into())
}

/// The inverse of [`labels_json`]; unknown names are dropped.
pub fn parse_labels(json: &str) -> Labels {
    serde_json::from_str::<Vec<String>>(json)
        .unwrap_or_default()
        .iter()
        .filter_map(|s| FraudLabel::parse(s))
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Passenger,
    Driver,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Passenger => "passenger",
            Role::Driver => "driver",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "passenger" => Some(Role::Passenger),
            "driver" => Some(Role::Driver),
            _ => None,
        }
    }
}

/// One person in one journey: what the rules look at.
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    pub operator: OperatorId,
    pub journey_id: String,
    /// Identity key (keyed hash of the phone).
    pub person: String,
    pub role: Role,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Where this person started and ended; `None` for a position given by INSEE code only.
    pub from: Option<Coordinates>,
    pub to: Option<Coordinates>,
    /// The operator's trip id (`operator_journey_id`), shared by the couples of one ride.
    pub ride: Option<String>,
    /// The labels last written to the journey for this person.
    pub labels: Labels,
}

impl Evidence {
    fn same_journey(&self, other: &Evidence) -> bool {
        self.operator == other.operator && self.journey_id == other.journey_id
    }

    /// Two couples of one ride, seen from their (shared) driver.
    fn same_ride_as_driver(&self, other: &Evidence) -> bool {
        self.role == Role::Driver
            && other.role == Role::Driver
            && self.operator == other.operator
            && self.ride.is_some()
            && self.ride == other.ride
    }

    /// What counts once towards the journeys of a day.
    fn trip(&self) -> (OperatorId, bool, &str) {
        match (&self.role, &self.ride) {
            (Role::Driver, Some(ride)) => (self.operator, true, ride),
            _ => (self.operator, false, &self.journey_id),
        }
    }
}

/// The Europe/Paris calendar day of an instant: the day of the daily rules and of the
/// evidence partitions.
pub fn paris_day(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&chrono_tz::Europe::Paris).date_naive()
}

/// What the rules found for one person.
#[derive(Debug, Default, PartialEq)]
pub struct PersonLabels {
    /// The labels of each item, in the order of the input.
    pub labels: Vec<Labels>,
    /// Pairs close in time whose distance could not be checked (a position without
    /// coordinates).
    pub unchecked_pairs: usize,
}

/// Applies every rule to the journeys of one person (any order; labels come back in the
/// same order). Pairs are looked at only while they can still be close in time, so a person
/// with many journeys costs about `n log n`, not `n²`.
pub fn person_labels(rules: &FraudRules, items: &[&Evidence]) -> PersonLabels {
    let n = items.len();
    let mut found = PersonLabels {
        labels: vec![Labels::new(); n],
        unchecked_pairs: 0,
    };

    let mut trips_by_day: BTreeMap<NaiveDate, BTreeSet<(OperatorId, bool, &str)>> = BTreeMap::new();
    for item in items {
        trips_by_day
            .entry(paris_day(item.start))
            .or_default()
            .insert(item.trip());
    }
    for (i, item) in items.iter().enumerate() {
        let day = paris_day(item.start);
        if trips_by_day
            .get(&day)
            .is_some_and(|trips| trips.len() > rules.max_journeys_per_day)
        {
            found.labels[i].insert(FraudLabel::TooManyTripsByDay);
        }
    }

    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| items[i].start);
    for (a, &i) in order.iter().enumerate() {
        let first = items[i];
        for &j in &order[a + 1..] {
            let second = items[j];
            // Sorted by start: nothing later can overlap `first` or follow it closely.
            if second.start - first.end >= rules.close_gap {
                break;
            }
            if first.same_journey(second) {
                continue;
            }
            for label in pair_labels(rules, first, second, &mut found.unchecked_pairs) {
                found.labels[i].insert(label);
                found.labels[j].insert(label);
            }
        }
    }
    found
}

/// The labels a pair earns; `first` starts no later than `second`.
fn pair_labels(
    rules: &FraudRules,
    first: &Evidence,
    second: &Evidence,
    unchecked: &mut usize,
) -> Vec<FraudLabel> {
    let mut labels = Vec::new();
    let common = (first.end.min(second.end) - first.start.max(second.start)).num_milliseconds();
    if first.role != second.role && common > 0 {
        labels.push(FraudLabel::InterchangeableRoles);
    }
    if first.same_ride_as_driver(second) {
        return labels;
    }
    let shorter = (first.end - first.start)
        .min(second.end - second.start)
        .num_milliseconds();
    if common > 0 && common * 100 >= rules.min_overlap_percent * shorter {
        labels.push(FraudLabel::TemporalOverlap);
    }
    let gap = second.start - first.end;
    if gap >= TimeDelta::zero() && gap < rules.close_gap {
        match (first.to, second.from) {
            (Some(ended), Some(started)) => {
                let metres = great_circle_m(ended, started);
                let seconds = gap.num_milliseconds() as f64 / 1000.0;
                // metres / seconds × 3.6 > limit, without dividing by a zero gap.
                if metres * 3.6 > rules.max_speed_kmh * seconds {
                    labels.push(FraudLabel::TooCloseTrips);
                }
            }
            _ => *unchecked += 1,
        }
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    const KM_PER_DEGREE_LAT: f64 = 111.195_08;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// A journey of person "p" from `start` to `end`, at latitude `from_lat` then `to_lat`.
    fn ev(id: &str, role: Role, start: &str, end: &str) -> Evidence {
        Evidence {
            operator: OperatorId(1),
            journey_id: id.into(),
            person: "p".into(),
            role,
            start: at(start),
            end: at(end),
            from: Coordinates::new(45.0, 3.0),
            to: Coordinates::new(45.0, 3.0),
            ride: None,
            labels: Labels::new(),
        }
    }

    fn labels_of(items: &[Evidence]) -> Vec<Vec<&'static str>> {
        let refs: Vec<&Evidence> = items.iter().collect();
        person_labels(&FraudRules::default(), &refs)
            .labels
            .iter()
            .map(|ls| ls.iter().map(|l| l.as_str()).collect())
            .collect()
    }

    const P: Role = Role::Passenger;
    const D: Role = Role::Driver;

    #[test]
    fn more_than_four_journeys_in_a_paris_day() {
        let day = |n: usize, date: &str| -> Vec<Evidence> {
            (0..n)
                .map(|i| {
                    let h = 8 + 2 * i;
                    ev(
                        &format!("{date}-{i}"),
                        P,
                        &format!("{date}T{h:02}:00:00Z"),
                        &format!("{date}T{h:02}:30:00Z"),
                    )
                })
                .collect()
        };
        assert!(labels_of(&day(4, "2026-11-10"))
            .iter()
            .all(|l| l.is_empty()));
        assert!(labels_of(&day(5, "2026-11-10"))
            .iter()
            .all(|l| l == &["too_many_trips_by_day"]));
        // 23:30 UTC on the 9th is already the 10th in Paris (UTC+1 in November).
        let mut five = day(4, "2026-11-10");
        five.push(ev(
            "late",
            P,
            "2026-11-09T23:30:00Z",
            "2026-11-09T23:50:00Z",
        ));
        assert!(labels_of(&five)
            .iter()
            .all(|l| l == &["too_many_trips_by_day"]));
        let mut four = day(4, "2026-11-10");
        four.push(ev(
            "prev",
            P,
            "2026-11-09T22:30:00Z",
            "2026-11-09T22:50:00Z",
        ));
        assert!(labels_of(&four).iter().all(|l| l.is_empty()));
    }

    #[test]
    fn the_couples_of_one_ride_count_once_for_their_driver() {
        let mut items: Vec<Evidence> = (0..6)
            .map(|i| {
                let ride = if i < 3 { "morning" } else { "evening" };
                let (s, e) = if i < 3 {
                    ("2026-11-10T07:00:00Z", "2026-11-10T08:00:00Z")
                } else {
                    ("2026-11-10T17:00:00Z", "2026-11-10T18:00:00Z")
                };
                let mut e = ev(&format!("c{i}"), D, s, e);
                e.ride = Some(ride.into());
                e
            })
            .collect();
        // Two rides of three couples each: no overlap, not too many.
        assert!(labels_of(&items).iter().all(|l| l.is_empty()));
        // The same ride ids from another operator are other rides, overlapping.
        items[0].operator = OperatorId(2);
        assert_eq!(labels_of(&items)[0], vec!["temporal_overlap"]);
    }

    #[test]
    fn overlap_on_each_side_of_70_percent() {
        // Both last 100 minutes; the second starts 30 min in: 70 min in common = 70 %.
        let a = ev("a", P, "2026-11-10T08:00:00Z", "2026-11-10T09:40:00Z");
        let at_70 = ev("b", P, "2026-11-10T08:30:00Z", "2026-11-10T10:10:00Z");
        assert_eq!(
            labels_of(&[a.clone(), at_70]),
            vec![vec!["temporal_overlap"]; 2]
        );
        let below = ev("b", P, "2026-11-10T08:30:01Z", "2026-11-10T10:10:01Z");
        // 69.98 % in common; the second starts before the first ends: no distance rule.
        assert_eq!(labels_of(&[a.clone(), below]), vec![Vec::<&str>::new(); 2]);
        // Measured against the shorter one: a short trip inside a long one overlaps fully.
        let inside = ev("c", P, "2026-11-10T09:00:00Z", "2026-11-10T09:10:00Z");
        assert_eq!(labels_of(&[a, inside]), vec![vec!["temporal_overlap"]; 2]);
    }

    #[test]
    fn close_trips_on_each_side_of_30_minutes_and_200_kmh() {
        let first = ev("a", P, "2026-11-10T08:00:00Z", "2026-11-10T09:00:00Z");
        // 20 minutes later, 70 km away: 210 km/h.
        let far = |start: &str, km: f64| {
            let mut e = ev("b", P, start, "2026-11-10T11:00:00Z");
            e.from = Coordinates::new(45.0 + km / KM_PER_DEGREE_LAT, 3.0);
            e
        };
        assert_eq!(
            labels_of(&[first.clone(), far("2026-11-10T09:20:00Z", 70.0)]),
            vec![vec!["too_close_trips"]; 2]
        );
        // 65 km in 20 minutes: 195 km/h.
        assert!(
            labels_of(&[first.clone(), far("2026-11-10T09:20:00Z", 65.0)])
                .iter()
                .all(|l| l.is_empty())
        );
        // 29:59 apart, 110 km: 220 km/h; 30:00 apart: no longer "less than 30 minutes".
        assert_eq!(
            labels_of(&[first.clone(), far("2026-11-10T09:29:59Z", 110.0)]),
            vec![vec!["too_close_trips"]; 2]
        );
        assert!(
            labels_of(&[first.clone(), far("2026-11-10T09:30:00Z", 110.0)])
                .iter()
                .all(|l| l.is_empty())
        );
        // Starting exactly when the first ended, elsewhere: impossible.
        assert_eq!(
            labels_of(&[first.clone(), far("2026-11-10T09:00:00Z", 1.0)]),
            vec![vec!["too_close_trips"]; 2]
        );
        // Where it ended: fine.
        assert!(labels_of(&[first, far("2026-11-10T09:00:00Z", 0.0)])
            .iter()
            .all(|l| l.is_empty()));
    }

    #[test]
    fn missing_coordinates_leave_the_pair_unchecked() {
        let first = ev("a", P, "2026-11-10T08:00:00Z", "2026-11-10T09:00:00Z");
        let mut second = ev("b", P, "2026-11-10T09:10:00Z", "2026-11-10T10:00:00Z");
        second.from = None;
        let refs = [&first, &second];
        let found = person_labels(&FraudRules::default(), &refs);
        assert!(found.labels.iter().all(|l| l.is_empty()));
        assert_eq!(found.unchecked_pairs, 1);
    }

    #[test]
    fn driver_and_passenger_at_once() {
        let driving = ev("a", D, "2026-11-10T08:00:00Z", "2026-11-10T09:00:00Z");
        let riding = ev("b", P, "2026-11-10T08:59:59Z", "2026-11-10T10:00:00Z");
        assert_eq!(
            labels_of(&[driving.clone(), riding]),
            vec![vec!["interchangeable_roles"]; 2]
        );
        // Riding from the moment the drive ended, at the same place: two trips in a row.
        let after = ev("b", P, "2026-11-10T09:00:00Z", "2026-11-10T10:00:00Z");
        assert!(labels_of(&[driving.clone(), after])
            .iter()
            .all(|l| l.is_empty()));
        // Swapped roles on the same ride of one operator are still flagged, with the overlap.
        let mut d = driving.clone();
        d.ride = Some("r".into());
        let mut p = ev("c", P, "2026-11-10T08:00:00Z", "2026-11-10T09:00:00Z");
        p.ride = Some("r".into());
        assert_eq!(
            labels_of(&[d, p]),
            vec![vec!["interchangeable_roles", "temporal_overlap"]; 2]
        );
    }

    #[test]
    fn labels_round_trip_as_sorted_json() {
        let labels: Labels = [FraudLabel::TooManyTripsByDay, FraudLabel::TemporalOverlap]
            .into_iter()
            .collect();
        let json = labels_json(&labels);
        assert_eq!(json, r#"["temporal_overlap","too_many_trips_by_day"]"#);
        assert_eq!(parse_labels(&json), labels);
        assert_eq!(parse_labels("nonsense"), Labels::new());
    }

    #[test]
    fn paris_days_follow_summer_time() {
        // UTC+2 in summer, UTC+1 in winter.
        assert_eq!(
            paris_day(at("2026-07-01T21:59:59Z")).to_string(),
            "2026-07-01"
        );
        assert_eq!(
            paris_day(at("2026-07-01T22:00:00Z")).to_string(),
            "2026-07-02"
        );
        assert_eq!(
            paris_day(at("2026-12-01T22:59:59Z")).to_string(),
            "2026-12-01"
        );
        assert_eq!(
            paris_day(at("2026-12-01T23:00:00Z")).to_string(),
            "2026-12-02"
        );
    }
}
