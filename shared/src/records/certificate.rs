//! The certificate items: a person's trip index (one entry per role of each `ok` journey)
//! and the issued certificates.

use chrono::{DateTime, Utc};

use super::item::{Item, Key, SkRange, WriteOp};
use super::journey::{JourneyRecord, Side};
use super::keys;
use crate::domain::certificate::{Certificate, Period, Role, Trip};
use crate::domain::facts::Facts;
use crate::domain::journey_v2::Coordinates;
use crate::domain::operator::OperatorId;

impl Trip {
    /// The index entry, at `key` (see [`index_keys`]).
    pub fn to_item(&self, key: Key) -> Item {
        let mut item = Item::new(key)
            .with("role", self.role.tag())
            .with("ride", self.ride.clone())
            .with("start", crate::clock::rfc3339(self.start))
            .with("distance", i64::from(self.distance))
            .with("amount", i64::from(self.amount));
        // Micro-degrees (11 cm): integers, like every number of the store.
        for (name, c) in [("from", self.from), ("to", self.to)] {
            if let Some(c) = c {
                item.set(&format!("{name}_lat"), (c.lat() * 1e6).round() as i64);
                item.set(&format!("{name}_lon"), (c.lon() * 1e6).round() as i64);
            }
        }
        item
    }

    pub fn from_item(item: &Item) -> Option<Trip> {
        let role = match item.s("role")? {
            "d" => Role::Driver,
            "p" => Role::Passenger,
            _ => return None,
        };
        let point = |name: &str| {
            let lat = item.n(&format!("{name}_lat"))? as f64 / 1e6;
            let lon = item.n(&format!("{name}_lon"))? as f64 / 1e6;
            Coordinates::new(lat, lon)
        };
        Some(Trip {
            role,
            ride: item.s("ride")?.to_owned(),
            start: DateTime::parse_from_rfc3339(item.s("start")?)
                .ok()?
                .with_timezone(&Utc),
            distance: u32::try_from(item.n("distance")?).ok()?,
            amount: u32::try_from(item.n("amount")?).ok()?,
            from: point("from"),
            to: point("to"),
        })
    }
}

/// The trip-index entries of a journey item, one per role, from the identity keys and
/// instants written at acceptance. Processing writes them, cancellation deletes them: both
/// derive the keys here, from attributes that never change.
pub fn index_keys(operator: OperatorId, journey: &JourneyRecord) -> Vec<(Role, Key)> {
    let Some(journey_id) = journey.journey_id.as_deref() else {
        return Vec::new();
    };
    Role::BOTH
        .into_iter()
        .filter_map(|role| {
            let party = journey.party(match role {
                Role::Passenger => Side::Passenger,
                Role::Driver => Side::Driver,
            });
            let (person, start) = (party.key.as_deref()?, party.start.as_deref()?);
            Some((
                role,
                keys::person_trip(operator, person, start, role.tag(), journey_id),
            ))
        })
        .collect()
}

/// The writes that put an `ok` journey in its persons' trip indexes: to add to the
/// transaction that makes it `ok` (processing; the fraud pass when it clears one).
pub fn list(operator: OperatorId, item: &JourneyRecord, facts: &Facts) -> Vec<WriteOp> {
    let ride = item
        .operator_journey_id
        .as_ref()
        .or(item.journey_id.as_ref())
        .cloned()
        .unwrap_or_default();
    index_keys(operator, item)
        .into_iter()
        .map(|(role, entry)| WriteOp::Put {
            item: Trip::of_facts(facts, role, ride.clone()).to_item(entry),
            condition: None,
        })
        .collect()
}

/// The writes that take a journey out of its persons' trip indexes: to add to the
/// transaction of any change that moves an `ok` journey to another status (cancellation;
/// the fraud pass when it flags one).
pub fn unlist(operator: OperatorId, journey: &JourneyRecord) -> Vec<WriteOp> {
    index_keys(operator, journey)
        .into_iter()
        .map(|(_, key)| WriteOp::Delete {
            key,
            condition: None,
        })
        .collect()
}

/// The sort-key range of a period on the trip index (keys start with the RFC 3339 instant).
pub fn index_range(period: &Period) -> SkRange {
    let end = format!("{}~", crate::clock::rfc3339(period.end));
    match period.start {
        Some(start) => SkRange::Between(crate::clock::rfc3339(start), end),
        None => SkRange::Lte(end),
    }
}

/// Attribute of a certificate item holding the record as JSON.
pub const RECORD: &str = "record";

impl Certificate {
    pub fn to_item(&self) -> Item {
        Item::new(keys::certificate(&self.uuid))
            .with(
                "operator_id",
                i64::try_from(self.operator.id.0).unwrap_or(i64::MAX),
            )
            .with("created_at", self.created_at.clone())
            .with(RECORD, serde_json::to_string(self).unwrap_or_default())
    }

    pub fn from_item(item: &Item) -> Option<Certificate> {
        serde_json::from_str(item.s(RECORD)?).ok()
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::domain::journey::example_document;
    use crate::domain::journey_v2;

    #[test]
    fn index_entries_round_trip_and_keys_come_from_the_journey_item() {
        let doc = example_document("j-1", Utc::now());
        let journey = journey_v2::parse(doc.to_string().as_bytes()).unwrap();
        for role in Role::BOTH {
            let t = Trip::of(&journey, role);
            assert_eq!(t.distance, 21_500);
            assert_eq!(t.ride, "trip-j-1");
            let back = Trip::from_item(&t.to_item(Key::new("p", "s"))).unwrap();
            assert_eq!(back.start, t.start);
            assert_eq!((back.amount, back.role), (t.amount, role));
            let (a, b) = (back.from.unwrap(), t.from.unwrap());
            assert!((a.lat() - b.lat()).abs() < 1e-6 && (a.lon() - b.lon()).abs() < 1e-6);
        }
        let item = Item::new(keys::journey(OperatorId(3), "j-1"))
            .with("journey_id", "j-1")
            .with("passenger_key", "pk")
            .with("passenger_start", "2025-01-01T00:00:00.000Z")
            .with("driver_key", "dk")
            .with("driver_start", "2025-01-01T00:00:00.000Z");
        let keys = index_keys(OperatorId(3), &JourneyRecord::from_item(&item));
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].1.pk, "PERSON#3#pk");
        assert_eq!(keys[0].1.sk, "2025-01-01T00:00:00.000Z#p#j-1");
        assert_eq!(keys[1].1.pk, "PERSON#3#dk");
    }
}
