//! Starting counters: what a campaign that moves here from another system had already
//! used, as of a day. Read from a JSON document, every problem reported at once with its
//! JSON pointer; persons are given by phone and turned into identity keys at once (the
//! keyed hash journeys get), so no phone is kept.
//!
//! ```json
//! {"as_of": "2025-06-30", "budget_used": 1250000, "trips": 8200,
//!  "persons": [{"phone": "+33612345678", "role": "driver", "amount": 4500, "trips": 30}]}
//! ```
//!
//! `budget_used`/`trips` set the campaign's whole-campaign counter (budget, campaign-wide
//! totals), a person's `amount`/`trips` their own counter in that paid role for the whole
//! campaign. The `*_this_year` fields set the counters of `as_of`'s year; they default to
//! the whole-campaign figures when the campaign started that year, else to 0.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde_json::Value;

use super::counters::{CounterKey, Holder, PeriodKey, PersonKey, Slot, Tally};
use super::{Campaign, PaidRole};
use crate::domain::error::Detail;
use crate::domain::identity::keyed_hash;
use crate::domain::phone::Phone;

/// Parsed starting counters.
#[derive(Clone, Debug, PartialEq)]
pub struct Starting {
    /// The last day the figures cover (campaign time zone).
    pub as_of: NaiveDate,
    /// Sorted by key, each once.
    pub counters: Vec<(CounterKey, Tally)>,
    pub persons: usize,
}

const TOP: &[&str] = &[
    "as_of",
    "budget_used",
    "trips",
    "budget_used_this_year",
    "trips_this_year",
    "persons",
];
const PERSON: &[&str] = &[
    "phone",
    "role",
    "amount",
    "trips",
    "amount_this_year",
    "trips_this_year",
];

struct Reader {
    errors: Vec<Detail>,
}

impl Reader {
    fn keys(&mut self, v: &Value, at: &str, known: &[&str]) {
        let Some(o) = v.as_object() else {
            self.errors
                .push(Detail::new(at, "must be an object".to_owned()));
            return;
        };
        for k in o.keys().filter(|k| !known.contains(&k.as_str())) {
            self.errors.push(Detail::new(
                format!("{at}/{k}"),
                format!("unknown key {k:?} (expected one of {})", known.join(", ")),
            ));
        }
    }

    /// A whole number ≥ 0, `None` when absent.
    fn count(&mut self, v: &Value, key: &str, at: &str) -> Option<u64> {
        match v.get(key) {
            None => None,
            Some(n) => n.as_u64().or_else(|| {
                self.errors.push(Detail::new(
                    format!("{at}/{key}"),
                    "must be a whole number, 0 or more",
                ));
                None
            }),
        }
    }
}

/// `as_of`: the last day the figures cover, within the campaign (or the day before it).
fn as_of(r: &mut Reader, c: &Campaign, body: &Value) -> Option<NaiveDate> {
    match body.get("as_of").and_then(Value::as_str) {
        Some(s) => match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) if d >= c.start.pred_opt().unwrap_or(c.start) && d <= c.end => Some(d),
            Ok(_) => {
                r.errors.push(Detail::new(
                    "/as_of",
                    format!("must be within the campaign ({} to {})", c.start, c.end),
                ));
                None
            }
            Err(_) => {
                r.errors
                    .push(Detail::new("/as_of", "must be a date YYYY-MM-DD"));
                None
            }
        },
        None => {
            r.errors.push(Detail::new(
                "/as_of",
                "is required: the last day the figures cover, YYYY-MM-DD",
            ));
            None
        }
    }
}

/// A person's key: their phone, hashed as journeys' phones are.
fn person_key(r: &mut Reader, secret: &str, p: &Value, at: &str) -> Option<PersonKey> {
    match p.get("phone").and_then(Value::as_str).map(Phone::parse) {
        Some(Ok(phone)) => PersonKey::from_hex(&keyed_hash(secret, &["phone", phone.as_str()])),
        _ => {
            r.errors.push(Detail::new(
                format!("{at}/phone"),
                "must be a phone number (E.164, or national French)",
            ));
            None
        }
    }
}

/// A person's role, one the campaign pays.
fn paid_role(r: &mut Reader, c: &Campaign, p: &Value, at: &str) -> Option<PaidRole> {
    match p
        .get("role")
        .and_then(Value::as_str)
        .and_then(PaidRole::parse)
    {
        Some(role) if c.paid_roles().any(|paid| paid == role) => Some(role),
        _ => {
            let paid: Vec<&str> = c.paid_roles().map(PaidRole::as_str).collect();
            r.errors.push(Detail::new(
                format!("{at}/role"),
                format!("must be a role the campaign pays: {}", paid.join(", ")),
            ));
            None
        }
    }
}

/// The starting counters of `c` in `body`; `secret` is the registry's hash secret.
pub fn parse(c: &Campaign, secret: &str, body: &Value) -> Result<Starting, Vec<Detail>> {
    let mut r = Reader { errors: Vec::new() };
    r.keys(body, "", TOP);
    let as_of = as_of(&mut r, c, body);
    let same_year = as_of.is_some_and(|d| d.year() == c.start.year());
    let mut counters: BTreeMap<CounterKey, Tally> = BTreeMap::new();
    let mut put = |holder, slot, whole: Tally, year: Tally, as_of: NaiveDate| {
        for (period, t) in [
            (PeriodKey::Whole, whole),
            (PeriodKey::Year(as_of.year()), year),
        ] {
            if t != Tally::default() {
                counters.insert(
                    CounterKey {
                        holder,
                        slot,
                        period,
                    },
                    t,
                );
            }
        }
    };
    let tallies = |r: &mut Reader, v: &Value, at: &str, amount: &str, trips: &str| {
        let whole = Tally {
            amount: r.count(v, amount, at).unwrap_or(0),
            trips: r.count(v, trips, at).unwrap_or(0),
        };
        let default = if same_year { whole } else { Tally::default() };
        let year = Tally {
            amount: r
                .count(v, &format!("{amount}_this_year"), at)
                .unwrap_or(default.amount),
            trips: r
                .count(v, &format!("{trips}_this_year"), at)
                .unwrap_or(default.trips),
        };
        (whole, year)
    };
    let (whole, year) = tallies(&mut r, body, "", "budget_used", "trips");
    if let Some(d) = as_of {
        put(Holder::Campaign, Slot::All, whole, year, d);
    }
    let persons = match body.get("persons") {
        None => &[][..],
        Some(Value::Array(a)) => a.as_slice(),
        Some(_) => {
            r.errors.push(Detail::new("/persons", "must be an array"));
            &[][..]
        }
    };
    let mut seen = BTreeMap::new();
    for (i, p) in persons.iter().enumerate() {
        let at = format!("/persons/{i}");
        r.keys(p, &at, PERSON);
        let (key, role) = (
            person_key(&mut r, secret, p, &at),
            paid_role(&mut r, c, p, &at),
        );
        let (whole, year) = tallies(&mut r, p, &at, "amount", "trips");
        if let (Some(key), Some(role), Some(d)) = (key, role, as_of) {
            if let Some(first) = seen.insert((key, role), i) {
                r.errors.push(Detail::new(
                    format!("{at}/phone"),
                    format!("the same person and role as /persons/{first}"),
                ));
            }
            put(Holder::Person(key), Slot::Paid(role), whole, year, d);
        }
    }
    match as_of {
        Some(as_of) if r.errors.is_empty() => Ok(Starting {
            as_of,
            counters: counters.into_iter().collect(),
            persons: persons.len(),
        }),
        _ => Err(r.errors),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn campaign(start: &str) -> Campaign {
        super::super::parse(&json!({
            "id": "s", "name": "S", "territory_name": "S",
            "start": start, "end": "2026-12-31", "time_zone": "Europe/Paris",
            "territory": {"rule": "start", "dep": ["17"]}, "pays": ["driver"],
            "amount": {"mode": "first_matching_band", "bands": [{"from": 0, "fixed": 75}]}
        }))
        .unwrap()
    }

    #[test]
    fn figures_become_counters_and_phones_identity_keys() {
        let c = campaign("2025-01-01");
        let doc = json!({"as_of": "2025-06-30", "budget_used": 5000, "trips": 40,
            "persons": [{"phone": "06 12 34 56 78", "role": "driver", "amount": 300, "trips": 4}]});
        let s = parse(&c, "secret", &doc).unwrap();
        let person = PersonKey::from_hex(&keyed_hash("secret", &["phone", "+33612345678"]));
        let person = person.unwrap();
        let get = |holder, slot, period| {
            s.counters
                .iter()
                .find(|(k, _)| {
                    *k == CounterKey {
                        holder,
                        slot,
                        period,
                    }
                })
                .map(|(_, t)| (t.trips, t.amount))
        };
        assert_eq!(
            get(Holder::Campaign, Slot::All, PeriodKey::Whole),
            Some((40, 5000))
        );
        assert_eq!(
            get(Holder::Campaign, Slot::All, PeriodKey::Year(2025)),
            Some((40, 5000))
        );
        let own = Slot::Paid(PaidRole::Driver);
        assert_eq!(
            get(Holder::Person(person), own, PeriodKey::Whole),
            Some((4, 300))
        );
        assert_eq!(s.counters.len(), 4);
        // Started an earlier year: the year's figures are given, or 0.
        let c = campaign("2024-09-01");
        let mut doc = doc.clone();
        doc["trips_this_year"] = json!(10);
        let s = parse(&c, "secret", &doc).unwrap();
        assert_eq!(s.counters.len(), 3);
        assert!(s.counters.iter().all(|(k, _)| k.period == PeriodKey::Whole
            || (k.holder == Holder::Campaign && k.period == PeriodKey::Year(2025))));
        assert!(!format!("{s:?}").contains("612345678"));
    }

    #[test]
    fn every_problem_is_reported_with_its_pointer() {
        let c = campaign("2025-01-01");
        let doc = json!({"as_of": "2027-01-01", "budget": 1, "trips": -1, "persons": [
            {"phone": "12", "role": "passenger", "amount": 1.5},
            {"phone": "+33612345678", "role": "driver"},
            {"phone": "0612345678", "role": "driver", "extra": 1}
        ]});
        let mut paths: Vec<String> = parse(&c, "s", &doc)
            .unwrap_err()
            .into_iter()
            .map(|d| d.path)
            .collect();
        paths.sort();
        assert_eq!(
            paths,
            vec![
                "/as_of",
                "/budget",
                "/persons/0/amount",
                "/persons/0/phone",
                "/persons/0/role",
                "/persons/2/extra",
                "/trips"
            ]
        );
        // With a good date, the duplicate person shows too.
        let mut doc = doc;
        doc["as_of"] = json!("2025-01-31");
        let paths: Vec<String> = parse(&c, "s", &doc)
            .unwrap_err()
            .into_iter()
            .map(|d| d.path)
            .collect();
        assert!(paths.contains(&"/persons/2/phone".to_owned()), "{paths:?}");
        assert!(parse(&c, "s", &json!({"as_of": "2024-12-31"})).is_ok());
        assert!(parse(&c, "s", &json!({"as_of": "2024-12-30"})).is_err());
    }
}
