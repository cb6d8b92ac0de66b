//! Anomalies found when a journey is processed (SPEC §3, "Normalisation"): a declared
//! distance shorter than the straight line, an implied speed over 200 km/h, a trip under
//! 2 km (not eligible). Checked per person (passenger and driver) where coordinates exist;
//! a position known only by its INSEE code gives no geometry to check.

use std::collections::BTreeSet;

use super::facts::{Facts, Leg};
use super::journey_v2::Coordinates;

/// Trips shorter than this are not eligible.
pub const MIN_DISTANCE_M: f64 = 2_000.0;
/// Faster than this between start and end is not a car trip.
pub const MAX_SPEED_KMH: f64 = 200.0;
/// Mean Earth radius (IUGG), metres.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Anomaly {
    DistanceShorterThanStraightLine,
    SpeedTooHigh,
    DistanceTooShort,
}

impl Anomaly {
    pub fn label(self) -> &'static str {
        match self {
            Anomaly::DistanceShorterThanStraightLine => "distance_shorter_than_straight_line",
            Anomaly::SpeedTooHigh => "speed_too_high",
            Anomaly::DistanceTooShort => "distance_too_short",
        }
    }
}

/// Great-circle (haversine) distance in metres.
pub fn great_circle_m(a: Coordinates, b: Coordinates) -> f64 {
    let (lat1, lat2) = (a.lat().to_radians(), b.lat().to_radians());
    let dlat = lat2 - lat1;
    let dlon = (b.lon() - a.lon()).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// Every anomaly of the journey, each once, in a stable order.
pub fn anomalies(facts: &Facts) -> Vec<Anomaly> {
    let mut found = BTreeSet::new();
    leg(&facts.passenger, &mut found);
    leg(&facts.driver, &mut found);
    found.into_iter().collect()
}

fn leg(p: &Leg, found: &mut BTreeSet<Anomaly>) {
    let straight = p.straight_m();
    let declared = p.distance.map(f64::from);
    if let (Some(declared), Some(straight)) = (declared, straight) {
        if declared < straight {
            found.insert(Anomaly::DistanceShorterThanStraightLine);
        }
    }
    if let Some(straight) = straight {
        // The parser guarantees end > start, so the duration is positive.
        let seconds = (p.end.at - p.start.at).num_milliseconds() as f64 / 1000.0;
        if seconds > 0.0 && straight / seconds * 3.6 > MAX_SPEED_KMH {
            found.insert(Anomaly::SpeedTooHigh);
        }
    }
    if declared.or(straight).is_some_and(|d| d < MIN_DISTANCE_M) {
        found.insert(Anomaly::DistanceTooShort);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::journey::example_document;
    use crate::domain::journey_v2::parse;
    use serde_json::{json, Value};

    fn at(doc: &Value) -> Facts {
        Facts::of(&parse(doc.to_string().as_bytes()).unwrap())
    }

    /// A document whose two people go `lat_delta` degrees north in `minutes`, declaring
    /// `distance` metres.
    fn trip(lat_delta: f64, minutes: i64, distance: Option<u32>) -> Value {
        let now: chrono::DateTime<chrono::Utc> = "2026-11-24T12:00:00Z".parse().unwrap();
        let mut doc = example_document("a-1", now);
        for role in ["passenger", "driver"] {
            let p = &mut doc[role];
            p["start"] = json!({"datetime": "2026-11-24T10:00:00Z", "lat": 45.0, "lon": 3.0});
            let end = now - chrono::Duration::hours(2) + chrono::Duration::minutes(minutes);
            p["end"] = json!({"datetime": end.to_rfc3339(), "lat": 45.0 + lat_delta, "lon": 3.0});
            match distance {
                Some(d) => p["distance"] = json!(d),
                None => drop(p.as_object_mut().unwrap().remove("distance")),
            }
        }
        doc
    }

    fn straight(lat_delta: f64) -> f64 {
        at(&trip(lat_delta, 60, None))
            .passenger
            .straight_m()
            .unwrap()
    }

    #[test]
    fn great_circle_is_right_on_a_meridian() {
        // One degree of latitude on the mean sphere: R × π / 180.
        let d = straight(1.0);
        assert!((d - 111_195.08).abs() < 0.5, "{d}");
    }

    #[test]
    fn the_example_journey_has_no_anomaly() {
        let now = chrono::Utc::now();
        assert!(anomalies(&at(&example_document("ok", now))).is_empty());
    }

    #[test]
    fn declared_distance_against_the_straight_line() {
        let s = straight(0.1); // ~11 km
        let at_line = s.ceil() as u32;
        assert!(anomalies(&at(&trip(0.1, 60, Some(at_line)))).is_empty());
        assert_eq!(
            anomalies(&at(&trip(0.1, 60, Some(at_line - 1)))),
            vec![Anomaly::DistanceShorterThanStraightLine]
        );
    }

    #[test]
    fn speed_on_each_side_of_200_kmh() {
        // 200 km/h for one hour: 200 km north, i.e. 200 000 / 111 195.08 degrees.
        let deg_per_m = 1.0 / 111_195.08;
        let slower = trip(199_000.0 * deg_per_m, 60, Some(250_000));
        let faster = trip(201_000.0 * deg_per_m, 60, Some(250_000));
        assert!(anomalies(&at(&slower)).is_empty());
        assert_eq!(anomalies(&at(&faster)), vec![Anomaly::SpeedTooHigh]);
    }

    #[test]
    fn trips_under_2_km_are_not_eligible() {
        assert!(anomalies(&at(&trip(0.01, 30, Some(2_000)))).is_empty());
        assert_eq!(
            anomalies(&at(&trip(0.01, 30, Some(1_999)))),
            vec![Anomaly::DistanceTooShort]
        );
        // Without a declared distance, the straight line decides.
        let short = 1_990.0 / 111_195.08;
        assert_eq!(
            anomalies(&at(&trip(short, 30, None))),
            vec![Anomaly::DistanceTooShort]
        );
        let long = 2_010.0 / 111_195.08;
        assert!(anomalies(&at(&trip(long, 30, None))).is_empty());
    }

    #[test]
    fn insee_only_positions_have_no_geometry_to_check() {
        let mut doc = trip(0.1, 60, Some(1));
        for role in ["passenger", "driver"] {
            for end in ["start", "end"] {
                let dt = doc[role][end]["datetime"].clone();
                doc[role][end] = json!({"datetime": dt, "insee": "75056"});
            }
        }
        // Only the declared distance remains: 1 m is too short, nothing else can be said.
        assert_eq!(anomalies(&at(&doc)), vec![Anomaly::DistanceTooShort]);
    }
}
