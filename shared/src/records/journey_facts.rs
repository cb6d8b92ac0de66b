//! The stored form of a journey's normalised facts (`facts` attribute of the journey item).
//! The journey item is rewritten at every status change and its pending-index copy with it,
//! and DynamoDB bills each write by started KB: the facts are packed with `postcard` (serde,
//! varints) and stored as base64 without padding: 78 characters for the example journey.
//!
//! What the item holds already is not repeated: the persons' start instants are its
//! `passenger_start` and `driver_start` attributes, and its `operator_journey_id` (which the
//! decoded facts carry too); each leg stores only the milliseconds to its end. A driver's
//! leg equal to the passenger's (same places, figures and length) is stored once. Coordinates with at most 7 decimals, what devices send, are stored as
//! integers of 1e-7 degree, which give back the very same `f64`; others as `f64`. Communes
//! and INSEE codes are packed in 17 bits; the commune is looked up again in `domain::geo`.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::journey::{JourneyRecord, Party};
use crate::domain::country::Country;
use crate::domain::facts::{End, Facts, Leg};
use crate::domain::geo::{self, Commune};
use crate::domain::journey_v2::{Coordinates, Insee, OperatorClass, Place};
use crate::domain::phone::PhoneTrunc;

const VERSION: u8 = 1;
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD_NO_PAD;

#[derive(Serialize, Deserialize)]
struct Packed {
    version: u8,
    /// 0 A, 1 B, 2 C.
    class: u8,
    seats: u8,
    contribution: u32,
    revenue: u32,
    over_18: Option<bool>,
    /// The digits of the driver's truncated phone (the `+` implied), two per byte, an odd
    /// count padded with 0xF.
    phone: Option<Vec<u8>>,
    passenger: PackedLeg,
    /// `None`: the same as the passenger's.
    driver: Option<PackedLeg>,
}

#[derive(Serialize, Deserialize, PartialEq)]
struct PackedLeg {
    start: PackedEnd,
    end: PackedEnd,
    /// From the leg's start (the item's `<side>_start`) to its end.
    end_ms: i64,
    distance: Option<u32>,
    duration: Option<u32>,
}

#[derive(Serialize, Deserialize, PartialEq)]
struct PackedEnd {
    place: PackedPlace,
    france: bool,
    commune: PackedCommune,
}

#[derive(Serialize, Deserialize, PartialEq)]
enum PackedPlace {
    Coordinates(PackedCoordinates),
    Insee(u32),
    Both(PackedCoordinates, u32),
}

#[derive(Serialize, Deserialize, PartialEq)]
enum PackedCoordinates {
    /// Latitude and longitude in 1e-7 degree.
    E7(
        #[serde(with = "postcard::fixint::le")] i32,
        #[serde(with = "postcard::fixint::le")] i32,
    ),
    Exact(f64, f64),
}

#[derive(Serialize, Deserialize, PartialEq)]
enum PackedCommune {
    None,
    /// The INSEE code the operator sent is the current commune's.
    AsSent,
    Code(u32),
}

/// The stored form of `facts`.
pub(super) fn encode(facts: &Facts) -> String {
    let passenger = pack_leg(&facts.passenger);
    let driver = Some(pack_leg(&facts.driver)).filter(|d| *d != passenger);
    let packed = Packed {
        version: VERSION,
        class: match facts.class {
            OperatorClass::A => 0,
            OperatorClass::B => 1,
            OperatorClass::C => 2,
        },
        seats: facts.seats,
        contribution: facts.contribution,
        revenue: facts.revenue,
        over_18: facts.passenger_over_18,
        phone: facts.driver_phone_trunc.as_ref().map(pack_phone),
        passenger,
        driver,
    };
    let mut buffer = [0u8; 512];
    // The largest facts (every optional part, f64 coordinates, 20-character phone) take
    // under 200 bytes: serialising into the buffer cannot fail.
    let bytes = postcard::to_slice(&packed, &mut buffer).map_or(&[][..], |b| &*b);
    B64.encode(bytes)
}

fn pack_leg(l: &Leg) -> PackedLeg {
    PackedLeg {
        start: pack_end(&l.start),
        end: pack_end(&l.end),
        end_ms: l.end.at.timestamp_millis() - l.start.at.timestamp_millis(),
        distance: l.distance,
        duration: l.duration,
    }
}

fn pack_end(e: &End) -> PackedEnd {
    let insee = e.place.insee().map(Insee::as_str);
    PackedEnd {
        place: match &e.place {
            Place::Coordinates(c) => PackedPlace::Coordinates(pack_coordinates(*c)),
            Place::Insee(i) => PackedPlace::Insee(pack_code(i.as_str())),
            Place::Both(c, i) => PackedPlace::Both(pack_coordinates(*c), pack_code(i.as_str())),
        },
        france: e.country == Country::France,
        commune: match e.commune {
            None => PackedCommune::None,
            Some(c) if Some(c.code) == insee => PackedCommune::AsSent,
            Some(c) => PackedCommune::Code(pack_code(c.code)),
        },
    }
}

fn pack_coordinates(c: Coordinates) -> PackedCoordinates {
    let e7 = |x: f64| {
        let n = (x * 1e7).round();
        // Both integers are exact in f64, so the division is the correctly rounded value of
        // the decimal: the same f64 the parser read, when the decimal had ≤ 7 places.
        (n / 1e7 == x).then_some(n as i32)
    };
    match (e7(c.lat()), e7(c.lon())) {
        (Some(lat), Some(lon)) => PackedCoordinates::E7(lat, lon),
        _ => PackedCoordinates::Exact(c.lat(), c.lon()),
    }
}

/// `DCNNN` (D a digit, C a digit, `A` or `B`, NNN digits) in 17 bits; checked codes only.
fn pack_code(code: &str) -> u32 {
    let b = code.as_bytes();
    let second = match b.get(1) {
        Some(b'A') => 10,
        Some(b'B') => 11,
        Some(d) => u32::from(d.wrapping_sub(b'0')),
        None => 0,
    };
    let rest: u32 = code.get(2..).and_then(|r| r.parse().ok()).unwrap_or(0);
    (u32::from(b.first().map_or(0, |d| d.wrapping_sub(b'0'))) * 12 + second) * 1000 + rest
}

fn unpack_code(n: u32) -> Option<Insee> {
    let (head, rest) = (n / 1000, n % 1000);
    let (first, second) = (head / 12, head % 12);
    let second = match second {
        10 => 'A',
        11 => 'B',
        d => char::from_digit(d, 10)?,
    };
    Insee::parse(&format!(
        "{}{second}{rest:03}",
        char::from_digit(first, 10)?
    ))
}

fn pack_phone(p: &PhoneTrunc) -> Vec<u8> {
    let digits: Vec<u8> = p.as_str().bytes().skip(1).map(|d| d - b'0').collect();
    digits
        .chunks(2)
        .map(|pair| pair[0] << 4 | pair.get(1).copied().unwrap_or(0xF))
        .collect()
}

fn unpack_phone(bytes: &[u8]) -> Option<PhoneTrunc> {
    let digits: String = bytes
        .iter()
        .flat_map(|b| [b >> 4, b & 0xF])
        .take_while(|&d| d != 0xF)
        .map(|d| char::from_digit(u32::from(d), 10))
        .collect::<Option<_>>()?;
    PhoneTrunc::from_stored(&format!("+{digits}"))
}

/// The facts of `record` from their stored form, its persons' start instants and its
/// `operator_journey_id`; `None`
/// when anything is missing or malformed.
pub(super) fn decode(encoded: &str, record: &JourneyRecord) -> Option<Facts> {
    let bytes = B64.decode(encoded).ok()?;
    let packed: Packed = postcard::from_bytes(&bytes).ok()?;
    if packed.version != VERSION {
        return None;
    }
    let driver = packed.driver.as_ref().unwrap_or(&packed.passenger);
    Some(Facts {
        class: match packed.class {
            0 => OperatorClass::A,
            1 => OperatorClass::B,
            2 => OperatorClass::C,
            _ => return None,
        },
        seats: packed.seats,
        contribution: packed.contribution,
        revenue: packed.revenue,
        passenger_over_18: packed.over_18,
        driver_phone_trunc: match &packed.phone {
            Some(p) => Some(unpack_phone(p)?),
            None => None,
        },
        passenger: unpack_leg(&packed.passenger, &record.passenger)?,
        driver: unpack_leg(driver, &record.driver)?,
        operator_journey_id: record.operator_journey_id.clone(),
    })
}

fn unpack_leg(l: &PackedLeg, party: &Party) -> Option<Leg> {
    let start: DateTime<Utc> = party.start_at()?;
    Some(Leg {
        start: unpack_end(&l.start, start)?,
        end: unpack_end(&l.end, start + Duration::milliseconds(l.end_ms))?,
        distance: l.distance,
        duration: l.duration,
    })
}

fn unpack_end(e: &PackedEnd, at: DateTime<Utc>) -> Option<End> {
    let place = match &e.place {
        PackedPlace::Coordinates(c) => Place::Coordinates(unpack_coordinates(c)?),
        PackedPlace::Insee(i) => Place::Insee(unpack_code(*i)?),
        PackedPlace::Both(c, i) => Place::Both(unpack_coordinates(c)?, unpack_code(*i)?),
    };
    let commune: Option<Commune> = match &e.commune {
        PackedCommune::None => None,
        PackedCommune::AsSent => geo::index::commune(place.insee()?.as_str()),
        PackedCommune::Code(c) => geo::index::commune(unpack_code(*c)?.as_str()),
    };
    Some(End {
        at,
        place,
        country: if e.france {
            Country::France
        } else {
            Country::Abroad
        },
        commune,
    })
}

fn unpack_coordinates(c: &PackedCoordinates) -> Option<Coordinates> {
    match *c {
        PackedCoordinates::E7(lat, lon) => {
            Coordinates::new(f64::from(lat) / 1e7, f64::from(lon) / 1e7)
        }
        PackedCoordinates::Exact(lat, lon) => Coordinates::new(lat, lon),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_phones_pack_both_ways() {
        for code in ["75056", "2A004", "2B033", "01001", "97411", "99134"] {
            assert_eq!(
                unpack_code(pack_code(code)).map(|i| i.as_str().to_owned()),
                Some(code.to_owned())
            );
            assert!(pack_code(code) < 1 << 17);
        }
        for phone in ["+336987654", "+3369876543", "+1", "+12345678901234567890"] {
            let p = PhoneTrunc::from_stored(phone).unwrap();
            assert_eq!(unpack_phone(&pack_phone(&p)), Some(p));
        }
    }

    #[test]
    fn coordinates_come_back_as_the_same_f64() {
        for (lat, lon) in [
            (48.8566, 2.3522),
            (-21.1151234, 55.5364801),
            (48.85661234567, 2.0),
            (90.0, -180.0),
            (0.1 + 0.2, 1e-9),
        ] {
            let c = Coordinates::new(lat, lon).unwrap();
            let back = unpack_coordinates(&pack_coordinates(c)).unwrap();
            assert_eq!((back.lat(), back.lon()), (lat, lon));
        }
        assert!(matches!(
            pack_coordinates(Coordinates::new(48.8566, 2.3522).unwrap()),
            PackedCoordinates::E7(..)
        ));
    }
}
