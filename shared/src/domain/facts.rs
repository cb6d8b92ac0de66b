//! The normalised facts of a journey: what every step after acceptance needs of it
//! (processing and its anomaly checks, the fraud pass, drafts and the monthly run, CEE
//! eligibility, certificates), computed once when the journey is accepted so that no later
//! step parses the document again. Who (the identity keys) is kept beside them on the
//! journey item; these are the where, when, how far and how much.

use chrono::{DateTime, Utc};

use super::anomaly::great_circle_m;
use super::country::Country;
use super::geo::{self, Commune};
use super::journey_v2::{Coordinates, Journey, OperatorClass, Person, Place};
use super::phone::PhoneTrunc;

/// One journey (one driver + passenger couple), normalised.
#[derive(Clone, Debug, PartialEq)]
pub struct Facts {
    pub class: OperatorClass,
    /// 1–8.
    pub seats: u8,
    /// Euro cents paid by the passenger.
    pub contribution: u32,
    /// Euro cents received by the driver.
    pub revenue: u32,
    pub passenger_over_18: Option<bool>,
    /// The driver's truncated phone (CEE short registrations match on it).
    pub driver_phone_trunc: Option<PhoneTrunc>,
    /// The passenger's part: the carpool itself.
    pub passenger: Leg,
    pub driver: Leg,
    /// The shared ride's id as the operator sent it (what a seats-per-ride cap counts by);
    /// stored on the journey item beside the packed facts, not inside them.
    pub operator_journey_id: Option<String>,
}

/// One person's part of the trip.
#[derive(Clone, Debug, PartialEq)]
pub struct Leg {
    pub start: End,
    pub end: End,
    /// Metres, as declared.
    pub distance: Option<u32>,
    /// Seconds, as declared.
    pub duration: Option<u32>,
}

/// One end of a leg.
#[derive(Clone, Debug, PartialEq)]
pub struct End {
    /// UTC.
    pub at: DateTime<Utc>,
    /// Coordinates and/or INSEE code, as sent.
    pub place: Place,
    pub country: Country,
    /// The current commune of this end ([`geo::commune_of`]: the INSEE code sent, else the
    /// coordinates resolved), with its EPCI, département and région; `None` abroad, at sea
    /// or in a gap between outlines.
    pub commune: Option<Commune>,
}

impl Facts {
    /// The facts of a parsed, valid journey (countries looked up here, once).
    pub fn of(journey: &Journey) -> Facts {
        let passenger = Leg::of(&journey.passenger.person, None);
        let driver = Leg::of(&journey.driver.person, Some(&passenger));
        Facts {
            class: journey.operator_class,
            seats: journey.passenger.seats,
            contribution: journey.passenger.contribution,
            revenue: journey.driver.revenue,
            passenger_over_18: journey.passenger.person.identity.over_18,
            driver_phone_trunc: journey.driver.person.identity.truncated_phone(),
            passenger,
            driver,
            operator_journey_id: journey.operator_journey_id.clone(),
        }
    }

    /// The countries of the carpool's (the passenger's) start and end.
    pub fn countries(&self) -> [Country; 2] {
        [self.passenger.start.country, self.passenger.end.country]
    }
}

impl Leg {
    /// `like`: a leg whose ends are looked up already (the driver's often are the
    /// passenger's places: each place is resolved once).
    fn of(p: &Person, like: Option<&Leg>) -> Leg {
        let end = |at, place: &Place| match like {
            Some(l) if l.start.place == *place => End {
                at,
                ..l.start.clone()
            },
            Some(l) if l.end.place == *place => End {
                at,
                ..l.end.clone()
            },
            _ => End::of(at, place),
        };
        Leg {
            start: end(p.start.datetime, &p.start.place),
            end: end(p.end.datetime, &p.end.place),
            distance: p.distance,
            duration: p.duration,
        }
    }

    /// Metres in a straight line between the two ends, when both have coordinates.
    pub fn straight_m(&self) -> Option<f64> {
        let (a, b): (Coordinates, Coordinates) = (
            self.start.place.coordinates()?,
            self.end.place.coordinates()?,
        );
        Some(great_circle_m(a, b))
    }

    /// The declared distance, else the straight line (a lower bound), rounded to metres.
    pub fn distance_m(&self) -> Option<u32> {
        self.distance
            .or_else(|| self.straight_m().map(|d| d.round() as u32))
    }
}

impl End {
    pub fn of(at: DateTime<Utc>, place: &Place) -> End {
        End {
            at,
            place: place.clone(),
            country: Country::of(place),
            commune: geo::commune_of(place),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::journey::example_document;
    use crate::domain::journey_v2::parse_value;

    #[test]
    fn the_example_is_in_france_with_its_declared_figures() {
        let now = "2026-11-24T12:00:00Z".parse().unwrap();
        let journey = parse_value(&example_document("j", now)).unwrap();
        let facts = Facts::of(&journey);
        assert_eq!(facts.countries(), [Country::France, Country::France]);
        assert_eq!(
            facts.passenger.start.at,
            journey.passenger.person.start.datetime
        );
        assert_eq!(facts.passenger.distance, journey.passenger.person.distance);
        assert_eq!(facts.revenue, journey.driver.revenue);
        assert_eq!(
            facts.driver_phone_trunc,
            journey.driver.person.identity.truncated_phone()
        );
    }
}
