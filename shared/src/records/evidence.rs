//! Evidence items: one per person and processed journey, written with the journey's status
//! at processing time, deleted when the operator cancels the journey, read by the pass.
//! Layout in docs/DATA_MODEL.md ("fraud evidence").

use chrono::{DateTime, TimeDelta, Utc};
use sha2::{Digest, Sha256};

use super::item::{Condition, Item, Key, Update, WriteOp, TTL};
use super::journey::{JourneyRecord, Side, FRAUD_LABELS};
use super::keys;
use crate::domain::facts::{Facts, Leg};
use crate::domain::fraud::{labels_json, parse_labels, Evidence, Labels, Role};
use crate::domain::journey_v2::Coordinates;
use crate::domain::operator::OperatorId;

/// DynamoDB deletes evidence this long after the journey started: far beyond any window.
pub const EVIDENCE_TTL: TimeDelta = TimeDelta::days(45);

fn side(role: Role) -> Side {
    match role {
        Role::Passenger => Side::Passenger,
        Role::Driver => Side::Driver,
    }
}

/// `lat,lon` with 6 decimals (0.11 m).
fn point(c: Coordinates) -> String {
    format!("{:.6},{:.6}", c.lat(), c.lon())
}

fn parse_point(s: &str) -> Option<Coordinates> {
    let (lat, lon) = s.split_once(',')?;
    Coordinates::new(lat.parse().ok()?, lon.parse().ok()?)
}

/// The operator's trip id, hashed to a bounded size (only equality matters).
pub fn ride(operator_journey_id: &str) -> String {
    hex::encode(&Sha256::digest(operator_journey_id.as_bytes())[..8])
}

/// The keys of the evidence items of a stored journey (from its identity keys and start
/// instants), whether they exist yet or not.
pub fn keys_of(journey: &JourneyRecord) -> Vec<Key> {
    let (Some(operator), Some(journey_id)) = (journey.operator, journey.journey_id.as_deref())
    else {
        return Vec::new();
    };
    Side::BOTH
        .iter()
        .filter_map(|&side| {
            let party = journey.party(side);
            Some(keys::fraud_evidence(
                party.key.as_deref()?,
                party.start_at()?,
                operator,
                journey_id,
            ))
        })
        .collect()
}

/// The evidence items of a journey being processed: `record` is the stored journey
/// (identity keys, instants, trip id), `facts` its normalised facts (positions).
pub fn items_for(record: &JourneyRecord, facts: &Facts) -> Vec<Item> {
    let (Some(operator), Some(journey_id)) = (record.operator, record.journey_id.as_deref()) else {
        return Vec::new();
    };
    let people: [(Role, &Leg); 2] = [
        (Role::Passenger, &facts.passenger),
        (Role::Driver, &facts.driver),
    ];
    people
        .into_iter()
        .filter_map(|(role, person)| {
            let party = record.party(side(role));
            Some(encode(&Evidence {
                operator,
                journey_id: journey_id.to_owned(),
                person: party.key.clone()?,
                role,
                start: party.start_at()?,
                end: person.end.at,
                from: person.start.place.coordinates(),
                to: person.end.place.coordinates(),
                ride: record.operator_journey_id.as_deref().map(ride),
                labels: Labels::new(),
            }))
        })
        .collect()
}

/// The evidence item of one person in one journey, as first written (no labels yet).
pub fn encode(e: &Evidence) -> Item {
    let mut item = Item::new(key_of(e))
        .with("role", e.role.as_str())
        .with("end", crate::clock::rfc3339(e.end))
        .with(TTL, (e.start + EVIDENCE_TTL).timestamp());
    if let Some(c) = e.from {
        item.set("from", point(c));
    }
    if let Some(c) = e.to {
        item.set("to", point(c));
    }
    if let Some(ride) = &e.ride {
        item.set("ride", ride.clone());
    }
    if let Some(labels) = labels_value(&e.labels) {
        item.set(LABELS, labels);
    }
    item
}

/// The attribute of an evidence item that holds the labels last written for it.
pub const LABELS: &str = "labels";

pub fn labels_value(labels: &Labels) -> Option<String> {
    (!labels.is_empty()).then(|| labels_json(labels))
}

/// Reads an evidence item back; `None` when it is not one (logged by the caller).
pub fn decode(item: &Item) -> Option<Evidence> {
    // sk = <identity key>#<start>#<operator>#<journey_id>; the journey id may contain '#'.
    let mut parts = item.key.sk.splitn(4, '#');
    let person = parts.next()?;
    let start: DateTime<Utc> = parts.next()?.parse().ok()?;
    let operator: u64 = parts.next()?.parse().ok()?;
    let journey_id = parts.next()?;
    let end: DateTime<Utc> = item.s("end")?.parse().ok()?;
    if end <= start {
        return None;
    }
    Some(Evidence {
        operator: OperatorId(operator),
        journey_id: journey_id.to_owned(),
        person: person.to_owned(),
        role: Role::parse(item.s("role")?)?,
        start,
        end,
        from: item.s("from").and_then(parse_point),
        to: item.s("to").and_then(parse_point),
        ride: item.s("ride").map(str::to_owned),
        labels: item.s(LABELS).map(parse_labels).unwrap_or_default(),
    })
}

/// The key of the evidence item an [`Evidence`] was read from.
pub fn key_of(e: &Evidence) -> Key {
    keys::fraud_evidence(&e.person, e.start, e.operator, &e.journey_id)
}

/// The journey attribute holding the labels found for this role.
pub fn journey_labels_attr(role: Role) -> String {
    side(role).attr(FRAUD_LABELS)
}

/// The write of an evidence item's labels (the fraud pass), on the item as it exists.
pub fn labels_write(e: &Evidence, labels: &Labels) -> WriteOp {
    let update = match labels_value(labels) {
        Some(v) => Update::new().set(LABELS, v),
        None => Update::new().remove(LABELS),
    };
    WriteOp::Update {
        key: key_of(e),
        update,
        condition: Some(Condition::Exists),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::journey::example_document;
    use crate::domain::journey_v2::parse;

    #[test]
    fn items_read_back_as_the_evidence_they_were_written_from() {
        let now: DateTime<Utc> = "2026-11-24T12:00:00Z".parse().unwrap();
        let doc = example_document("j#1", now);
        let journey = parse(doc.to_string().as_bytes()).unwrap();
        let start = crate::clock::rfc3339(journey.passenger.person.start.datetime);
        let stored = Item::new(keys::journey(OperatorId(7), "j#1"))
            .with("operator_id", 7)
            .with("journey_id", "j#1")
            .with("passenger_key", "pk1")
            .with("driver_key", "dk1")
            .with("passenger_start", start.clone())
            .with("driver_start", start);
        let stored = match &journey.operator_journey_id {
            Some(ride) => stored.with("operator_journey_id", ride.clone()),
            None => stored,
        };
        let stored = JourneyRecord::from_item(&stored);
        let items = items_for(&stored, &crate::domain::facts::Facts::of(&journey));
        assert_eq!(items.len(), 2);
        assert_eq!(
            items.iter().map(|i| i.key.clone()).collect::<Vec<_>>(),
            keys_of(&stored)
        );
        let p = decode(&items[0]).unwrap();
        assert_eq!((p.person.as_str(), p.role), ("pk1", Role::Passenger));
        assert_eq!(p.journey_id, "j#1");
        assert_eq!(p.operator, OperatorId(7));
        assert_eq!(p.end, journey.passenger.person.end.datetime);
        assert!((p.from.unwrap().lat() - 48.8566).abs() < 1e-9);
        assert_eq!(p.ride.as_deref().map(str::len), Some(16));
        assert!(p.labels.is_empty());
        assert_eq!(key_of(&p), items[0].key);
        assert_eq!(
            items[0].key.pk,
            "FRAUD#2026-11-24#".to_owned() + &format!("{:02}", keys::fraud_shard("pk1"))
        );
        // Not evidence: no panic, just None.
        assert!(decode(&Item::new(Key::new("FRAUD#x", "garbage"))).is_none());
    }
}
