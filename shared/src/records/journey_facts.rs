//! The stored form of a journey's normalised facts (`facts` attribute of the journey item):
//! compact JSON with one-letter names, because the journey item is rewritten at every
//! status change and DynamoDB bills each write by the item's size. The persons' instants
//! are not repeated here: the item already holds them (`passenger_start`, ...).
//!
//! ```text
//! {"c":"C","s":1,"ct":200,"rv":150,"o":true,"dt":"+3369876543",
//!  "p":{"a":END,"b":END,"m":12000,"t":900},"d":{...}}
//! END = {"x":"48.856614,2.352222","i":"75056","n":"75056","k":"FR"}
//! ```
//!
//! `c` class, `s` seats, `ct` contribution and `rv` revenue (cents), `o` passenger over 18,
//! `dt` driver's truncated phone; `p`/`d` the passenger's and driver's legs: `a` start,
//! `b` end, `m` declared metres, `t` declared seconds; an end: `x` coordinates (shortest
//! exact decimal form), `i` INSEE code as sent, `n` commune when it is not `i`, `k` country.

use serde::{Deserialize, Serialize};

use super::journey::{JourneyRecord, Party};
use crate::domain::country::Country;
use crate::domain::facts::{End, Facts, Leg};
use crate::domain::journey_v2::{Coordinates, Insee, OperatorClass, Place};
use crate::domain::phone::PhoneTrunc;

#[derive(Serialize, Deserialize)]
struct StoredFacts {
    c: String,
    s: u8,
    ct: u32,
    rv: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    o: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dt: Option<String>,
    p: StoredLeg,
    d: StoredLeg,
}

#[derive(Serialize, Deserialize)]
struct StoredLeg {
    a: StoredEnd,
    b: StoredEnd,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    m: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    t: Option<u32>,
}

#[derive(Serialize, Deserialize)]
struct StoredEnd {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    i: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    n: Option<String>,
    k: String,
}

pub(super) fn encode(facts: &Facts) -> String {
    let stored = StoredFacts {
        c: class_str(facts.class).to_owned(),
        s: facts.seats,
        ct: facts.contribution,
        rv: facts.revenue,
        o: facts.passenger_over_18,
        dt: facts
            .driver_phone_trunc
            .as_ref()
            .map(|p| p.as_str().to_owned()),
        p: leg(&facts.passenger),
        d: leg(&facts.driver),
    };
    // Plain strings and numbers: serialising cannot fail.
    serde_json::to_string(&stored).unwrap_or_default()
}

fn leg(l: &Leg) -> StoredLeg {
    StoredLeg {
        a: end(&l.start),
        b: end(&l.end),
        m: l.distance,
        t: l.duration,
    }
}

fn end(e: &End) -> StoredEnd {
    let insee = e.place.insee();
    StoredEnd {
        x: e.place
            .coordinates()
            .map(|c| format!("{},{}", c.lat(), c.lon())),
        i: insee.map(|i| i.as_str().to_owned()),
        n: e.commune
            .as_ref()
            .filter(|c| insee != Some(*c))
            .map(|c| c.as_str().to_owned()),
        k: e.country.as_str().to_owned(),
    }
}

/// The facts of `record` from their stored form and its persons' instants; `None` when
/// anything is missing or malformed.
pub(super) fn decode(encoded: &str, record: &JourneyRecord) -> Option<Facts> {
    let s: StoredFacts = serde_json::from_str(encoded).ok()?;
    Some(Facts {
        class: match s.c.as_str() {
            "A" => OperatorClass::A,
            "B" => OperatorClass::B,
            "C" => OperatorClass::C,
            _ => return None,
        },
        seats: s.s,
        contribution: s.ct,
        revenue: s.rv,
        passenger_over_18: s.o,
        driver_phone_trunc: match s.dt {
            Some(p) => Some(PhoneTrunc::from_stored(&p)?),
            None => None,
        },
        passenger: read_leg(s.p, &record.passenger)?,
        driver: read_leg(s.d, &record.driver)?,
    })
}

fn read_leg(l: StoredLeg, party: &Party) -> Option<Leg> {
    let at = |t: &Option<String>| t.as_deref()?.parse().ok();
    Some(Leg {
        start: read_end(l.a, at(&party.start)?)?,
        end: read_end(l.b, at(&party.end)?)?,
        distance: l.m,
        duration: l.t,
    })
}

fn read_end(e: StoredEnd, at: chrono::DateTime<chrono::Utc>) -> Option<End> {
    let coordinates = match e.x {
        Some(x) => {
            let (lat, lon) = x.split_once(',')?;
            Some(Coordinates::new(lat.parse().ok()?, lon.parse().ok()?)?)
        }
        None => None,
    };
    let insee = match e.i {
        Some(i) => Some(Insee::parse(&i)?),
        None => None,
    };
    let commune = match e.n {
        Some(n) => Some(Insee::parse(&n)?),
        None => insee.clone(),
    };
    let place = match (coordinates, insee) {
        (Some(c), Some(i)) => Place::Both(c, i),
        (Some(c), None) => Place::Coordinates(c),
        (None, Some(i)) => Place::Insee(i),
        (None, None) => return None,
    };
    let country = match e.k.as_str() {
        "FR" => Country::France,
        "XX" => Country::Abroad,
        _ => return None,
    };
    Some(End {
        at,
        place,
        country,
        commune,
    })
}

fn class_str(c: OperatorClass) -> &'static str {
    match c {
        OperatorClass::A => "A",
        OperatorClass::B => "B",
        OperatorClass::C => "C",
    }
}
