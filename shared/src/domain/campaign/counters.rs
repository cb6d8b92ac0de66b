//! What caps count: trips and cents granted, per holder (a person, a person at one
//! operator, or the whole campaign), paid role and period (day, month, year in the
//! campaign's time zone, or the whole campaign). The engine reads them through
//! [`Counters`]; the drafts persist them (one store item per key), the monthly run will
//! rebuild them in memory ([`MemoryCounters`]) from scratch.

use std::collections::HashMap;
use std::fmt::Write;

use chrono::{Datelike, NaiveDate};

use super::{Cap, PaidRole, Period, Scope};
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Holder {
    Person(PersonKey),
    OperatorPerson(OperatorId, PersonKey),
    Campaign,
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

/// One counter: `role` is `None` for campaign-wide counters. A counter counts journeys
/// (`trips`: a journey counts once on a counter, whatever the number of its incentives
/// counted there) and cents granted (`amount`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CounterKey {
    pub holder: Holder,
    pub role: Option<PaidRole>,
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
        let (per, who, scope) = match *cap {
            Cap::SeatsPerTrip { .. } => return None,
            Cap::Budget { .. } => (Period::Campaign, None, Scope::Campaign),
            Cap::Trips {
                per, who, scope, ..
            }
            | Cap::Amount {
                per, who, scope, ..
            } => (per, who, scope),
        };
        let (person, role) = match who {
            None => (person, role),
            Some(w) if w == role => (person, role),
            Some(w) => match other(w) {
                Some(p) => (p, w),
                None => return Some(Err(w)),
            },
        };
        let (holder, role) = match scope {
            Scope::Person => (Holder::Person(person), Some(role)),
            Scope::OperatorPerson => (Holder::OperatorPerson(operator, person), Some(role)),
            Scope::Campaign => (Holder::Campaign, None),
        };
        Some(Ok(CounterKey {
            holder,
            role,
            period: PeriodKey::of(per, local_date),
        }))
    }

    /// Stable text form: `<holder>` (partition part) and `<role>#<period>` (sort part),
    /// e.g. (`3f…a9`, `driver#M2025-03`), (`op7.3f…a9`, `passenger#D2025-03-14`),
    /// (`*`, `*#C`).
    pub fn storage(&self) -> (String, String) {
        let holder = match self.holder {
            Holder::Person(p) => p.to_hex(),
            Holder::OperatorPerson(op, p) => format!("op{op}.{}", p.to_hex()),
            Holder::Campaign => "*".to_owned(),
        };
        let mut rest = self.role.map_or("*", PaidRole::as_str).to_owned();
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

/// Counters in memory: the engine's tests and benchmark, and the monthly run.
#[derive(Clone, Debug, Default)]
pub struct MemoryCounters(pub HashMap<CounterKey, Tally>);

impl MemoryCounters {
    /// Adds what an incentive counted.
    pub fn add(&mut self, counted: &[(CounterKey, Tally)]) {
        for (key, delta) in counted {
            let t = self.0.entry(*key).or_default();
            t.trips += delta.trips;
            t.amount += delta.amount;
        }
    }
}

impl Counters for MemoryCounters {
    fn get(&self, key: &CounterKey) -> Tally {
        self.0.get(key).copied().unwrap_or_default()
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
            role: Some(PaidRole::Passenger),
            period: PeriodKey::of(Period::Day, d),
        };
        assert_eq!(
            k.storage(),
            (
                format!("op7.{}", "ab".repeat(32)),
                "passenger#D2025-03-14".into()
            )
        );
        let k = CounterKey {
            holder: Holder::Campaign,
            role: None,
            period: PeriodKey::of(Period::Month, d),
        };
        assert_eq!(k.storage(), ("*".into(), "*#M2025-03".into()));
        assert_eq!(PersonKey::from_hex(&"ab".repeat(32)), Some(p));
        assert_eq!(PersonKey::from_hex("ab"), None);
    }
}
