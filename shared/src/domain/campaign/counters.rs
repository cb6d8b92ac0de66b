//! What caps count: trips and cents granted, per holder (a person, a person at one
//! operator, or the whole campaign), slot (own paid role, journeys of a driver or
//! passenger, everything) and period (day, month, year in the
//! campaign's time zone, or the whole campaign). The engine reads them through
//! [`Counters`]; the drafts persist them (one store item per key), the monthly run will
//! rebuild them in memory ([`MemoryCounters`]) from scratch.

use std::collections::HashMap;
use std::fmt::Write;
use std::hash::{BuildHasherDefault, Hasher};

use chrono::{Datelike, NaiveDate};

use super::{Cap, CounterSpec, PaidRole, Period, Scope};
use crate::domain::operator::OperatorId;

/// An identity key (HMAC-SHA-256, 64 hex characters on journey items) as bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PersonKey(pub [u8; 32]);

impl PersonKey {
    pub fn from_hex(s: &str) -> Option<PersonKey> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(PersonKey(out))
    }

    pub fn to_hex(self) -> String {
        hex::encode(self.0)
    }
}

/// As on journey items: 64 hex characters.
impl serde::Serialize for PersonKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for PersonKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        PersonKey::from_hex(&s)
            .ok_or_else(|| serde::de::Error::custom("an identity key is 64 hex characters"))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Holder {
    Person(PersonKey),
    OperatorPerson(OperatorId, PersonKey),
    Campaign,
    /// A shared ride: its operator and [`ride_key`] of its `operator_journey_id`.
    Ride(OperatorId, PersonKey),
}

/// The key of a ride: SHA-256 of its `operator_journey_id` (fixed size, like a person's).
pub fn ride_key(operator_journey_id: &str) -> PersonKey {
    use sha2::{Digest, Sha256};
    PersonKey(Sha256::digest(operator_journey_id.as_bytes()).into())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PeriodKey {
    Day(NaiveDate),
    Month(i32, u32),
    Year(i32),
    Whole,
}

impl PeriodKey {
    pub fn of(period: Period, local_date: NaiveDate) -> PeriodKey {
        match period {
            Period::Day => PeriodKey::Day(local_date),
            Period::Month => PeriodKey::Month(local_date.year(), local_date.month()),
            Period::Year => PeriodKey::Year(local_date.year()),
            Period::Campaign => PeriodKey::Whole,
        }
    }
}

/// Whose trips a counter counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Slot {
    /// The holder's own incentives in this paid role (caps without `who`).
    Paid(PaidRole),
    /// The journeys where the holder was the driver (or passenger) and someone was paid
    /// (caps with `who`).
    JourneysOf(PaidRole),
    /// Everything (campaign-wide caps, budget).
    All,
}

/// One counter. It counts journeys (`trips`: a journey counts once on a counter, whatever
/// the number of its incentives counted there) and cents granted (`amount`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CounterKey {
    pub holder: Holder,
    pub slot: Slot,
    pub period: PeriodKey,
}

impl CounterKey {
    /// The counter `cap` reads for the incentive of `role` (paid to `person`): the paid
    /// person's own counter, or, for a cap with `who`, the counter of the journey's driver
    /// or passenger (`other`), or the campaign's. `None` for seats per trip.
    pub fn for_cap(
        cap: &Cap,
        role: PaidRole,
        person: PersonKey,
        other: impl Fn(PaidRole) -> Option<PersonKey>,
        operator: OperatorId,
        local_date: NaiveDate,
    ) -> Option<Result<CounterKey, PaidRole>> {
        let spec = CounterSpec::of(cap)?;
        Some(Self::for_spec(
            &spec, role, person, other, None, operator, local_date,
        ))
    }

    /// The counter of `spec` for the incentive of `role`; `Err(role)` when the journey does
    /// not identify the person whose trips it counts (or, for a ride's counter, its ride).
    pub fn for_spec(
        spec: &CounterSpec,
        role: PaidRole,
        person: PersonKey,
        other: impl Fn(PaidRole) -> Option<PersonKey>,
        ride: Option<PersonKey>,
        operator: OperatorId,
        local_date: NaiveDate,
    ) -> Result<CounterKey, PaidRole> {
        let CounterSpec { per, who, scope } = *spec;
        if scope == Scope::Ride {
            return Ok(CounterKey {
                holder: Holder::Ride(operator, ride.ok_or(role)?),
                slot: Slot::All,
                period: PeriodKey::of(per, local_date),
            });
        }
        let (person, slot) = match who {
            None => (person, Slot::Paid(role)),
            Some(w) if w == role => (person, Slot::JourneysOf(w)),
            Some(w) => match other(w) {
                Some(p) => (p, Slot::JourneysOf(w)),
                None => return Err(w),
            },
        };
        let (holder, slot) = match scope {
            Scope::Person => (Holder::Person(person), slot),
            Scope::OperatorPerson => (Holder::OperatorPerson(operator, person), slot),
            Scope::Campaign | Scope::Ride => (Holder::Campaign, Slot::All),
        };
        Ok(CounterKey {
            holder,
            slot,
            period: PeriodKey::of(per, local_date),
        })
    }

    /// Stable text form: `<holder>` (partition part) and `<slot>#<period>` (sort part),
    /// e.g. (`3f…a9`, `driver#M2025-03`), (`op7.3f…a9`, `of_driver#D2025-03-14`),
    /// (`*`, `*#C`).
    pub fn storage(&self) -> (String, String) {
        let holder = match self.holder {
            Holder::Person(p) => p.to_hex(),
            Holder::OperatorPerson(op, p) => format!("op{op}.{}", p.to_hex()),
            Holder::Ride(op, r) => format!("ride{op}.{}", r.to_hex()),
            Holder::Campaign => "*".to_owned(),
        };
        let mut rest = match self.slot {
            Slot::Paid(r) => r.as_str().to_owned(),
            Slot::JourneysOf(r) => format!("of_{}", r.as_str()),
            Slot::All => "*".to_owned(),
        };
        rest.push('#');
        // Writing to a String cannot fail.
        let _ = match self.period {
            PeriodKey::Day(d) => write!(rest, "D{}", d.format("%Y-%m-%d")),
            PeriodKey::Month(y, m) => write!(rest, "M{y:04}-{m:02}"),
            PeriodKey::Year(y) => write!(rest, "Y{y:04}"),
            PeriodKey::Whole => write!(rest, "C"),
        };
        (holder, rest)
    }
}

impl CounterKey {
    /// The inverse of [`CounterKey::storage`] (counters carried between monthly runs).
    pub fn from_storage(holder: &str, rest: &str) -> Option<CounterKey> {
        let holder = match holder {
            "*" => Holder::Campaign,
            h if h.starts_with("ride") => {
                let (op, r) = h.strip_prefix("ride")?.split_once('.')?;
                Holder::Ride(OperatorId(op.parse().ok()?), PersonKey::from_hex(r)?)
            }
            h => match h.strip_prefix("op").and_then(|r| r.split_once('.')) {
                Some((op, p)) => {
                    Holder::OperatorPerson(OperatorId(op.parse().ok()?), PersonKey::from_hex(p)?)
                }
                None => Holder::Person(PersonKey::from_hex(h)?),
            },
        };
        let (slot, period) = rest.split_once('#')?;
        let slot = match slot {
            "*" => Slot::All,
            s => match s.strip_prefix("of_") {
                Some(r) => Slot::JourneysOf(PaidRole::parse(r)?),
                None => Slot::Paid(PaidRole::parse(s)?),
            },
        };
        let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        let period = match period.split_at_checked(1)? {
            ("C", "") => PeriodKey::Whole,
            ("D", d) => PeriodKey::Day(date(d)?),
            ("Y", y) if y.len() == 4 => PeriodKey::Year(y.parse().ok()?),
            ("M", m) => {
                let d = date(&format!("{m}-01"))?;
                PeriodKey::Month(d.year(), d.month())
            }
            _ => return None,
        };
        Some(CounterKey {
            holder,
            slot,
            period,
        })
    }
}

/// What a counter holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub trips: u64,
    pub amount: u64,
}

/// Read access to counters (a snapshot: the engine never writes).
pub trait Counters {
    fn get(&self, key: &CounterKey) -> Tally;
}

/// Counters in memory: the engine's tests and benchmark, and the monthly run. Grouped by
/// person: one table lookup finds all of a person's counters (own, per operator, journeys
/// of), so a journey costs about three memory accesses (driver, passenger, campaign)
/// rather than one per counter; within a group the latest counters are searched first.
#[derive(Clone, Debug, Default)]
pub struct MemoryCounters {
    groups: HashMap<Option<PersonKey>, Vec<(CounterKey, Tally)>, BuildHasherDefault<FastHasher>>,
    len: usize,
}

fn group_of(key: &CounterKey) -> Option<PersonKey> {
    match key.holder {
        Holder::Person(p) | Holder::OperatorPerson(_, p) | Holder::Ride(_, p) => Some(p),
        Holder::Campaign => None,
    }
}

impl MemoryCounters {
    /// Adds what an incentive counted.
    pub fn add(&mut self, counted: &[(CounterKey, Tally)]) {
        for (key, delta) in counted {
            let t = self.entry(*key);
            t.trips += delta.trips;
            t.amount += delta.amount;
        }
    }

    /// Sets a counter (counters carried from earlier months, tests).
    pub fn set(&mut self, key: CounterKey, tally: Tally) {
        *self.entry(key) = tally;
    }

    fn entry(&mut self, key: CounterKey) -> &mut Tally {
        let group = self.groups.entry(group_of(&key)).or_default();
        let found = group.iter().rposition(|(k, _)| *k == key);
        let index = match found {
            Some(i) => i,
            None => {
                group.push((key, Tally::default()));
                self.len += 1;
                group.len() - 1
            }
        };
        &mut group[index].1
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = &(CounterKey, Tally)> {
        self.groups.values().flatten()
    }
}

impl Counters for MemoryCounters {
    fn get(&self, key: &CounterKey) -> Tally {
        self.groups
            .get(&group_of(key))
            .and_then(|g| g.iter().rev().find(|(k, _)| k == key))
            .map_or_else(Tally::default, |(_, t)| *t)
    }
}

/// The multiply-rotate hash of rustc (FxHash): keys are identity keys (HMAC outputs, not
/// chosen by an attacker who could aim collisions), so SipHash's protection buys nothing
/// here and costs a good part of a lookup.
#[derive(Default)]
pub struct FastHasher(u64);

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        // The multiply leaves the low bits (the table slot) weak: fold the high ones in.
        let h = self.0;
        (h ^ (h >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9) ^ (h >> 32)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
        for &b in chunks.remainder() {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_i32(&mut self, n: i32) {
        self.write_u64(n as u64);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl<C: Counters + ?Sized> Counters for &C {
    fn get(&self, key: &CounterKey) -> Tally {
        (**self).get(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_forms_are_stable() {
        let p = PersonKey([0xab; 32]);
        let d = NaiveDate::from_ymd_opt(2025, 3, 14).unwrap();
        let k = CounterKey {
            holder: Holder::OperatorPerson(OperatorId(7), p),
            slot: Slot::JourneysOf(PaidRole::Passenger),
            period: PeriodKey::of(Period::Day, d),
        };
        assert_eq!(
            k.storage(),
            (
                format!("op7.{}", "ab".repeat(32)),
                "of_passenger#D2025-03-14".into()
            )
        );
        let (h, r) = k.storage();
        assert_eq!(CounterKey::from_storage(&h, &r), Some(k));
        assert_eq!(CounterKey::from_storage("*", "*#X"), None);
        let k = CounterKey {
            holder: Holder::Campaign,
            slot: Slot::All,
            period: PeriodKey::of(Period::Month, d),
        };
        assert_eq!(k.storage(), ("*".into(), "*#M2025-03".into()));
        let (h, r) = k.storage();
        assert_eq!(CounterKey::from_storage(&h, &r), Some(k));
        assert_eq!(PersonKey::from_hex(&"ab".repeat(32)), Some(p));
        let k = CounterKey {
            holder: Holder::Ride(OperatorId(3), ride_key("trip-1")),
            slot: Slot::All,
            period: PeriodKey::of(Period::Day, d),
        };
        let (h, r) = k.storage();
        assert!(h.starts_with("ride3.") && r == "*#D2025-03-14");
        assert_eq!(CounterKey::from_storage(&h, &r), Some(k));
        assert_eq!(PersonKey::from_hex("ab"), None);
    }
}
