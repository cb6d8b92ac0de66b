//! The JSON campaign document (../shared/campaigns.md) → [`Campaign`]. Keys and types are
//! checked first (`shape`, every problem at once, then serde reads it); then every rule is
//! checked and every violation reported at once with its JSON pointer: overlapping bands, max < min, unknown cap kinds, reversed
//! dates, bad GeoJSON, unknown time zones, caps on a role the campaign does not pay…

use std::collections::BTreeSet;
use std::str::FromStr;

use chrono::NaiveDate;
use serde_json::Value;

use super::*;
use crate::domain::error::Detail;
use crate::domain::geo;
use crate::domain::journey_v2::is_insee;

/// Largest document accepted (a DynamoDB item holds 400 KB; the HTTP routes take 64 KiB).
pub const MAX_DOCUMENT_BYTES: usize = 350_000;
/// At most this many caps, so that one journey's drafts and counters of one campaign fit
/// in one store transaction (25 writes: 2 drafts, 2 × 10 counters, the journey, a total).
pub const MAX_CAPS: usize = 10;
const MAX_BANDS: usize = 20;
const MAX_TEXT: usize = 200;

mod amounts;
mod raw;
mod shape;
mod territory;

use amounts::{amount, caps};
pub use raw::*;
use territory::{territory, territory_opt};

/// Collects violations; each reader returns `None` when it reported one.
#[derive(Default)]
struct Errors(Vec<Detail>);

impl Errors {
    fn add(&mut self, path: impl Into<String>, reason: impl Into<String>) {
        self.0.push(Detail::new(path, reason));
    }

    fn date(&mut self, s: &str, path: &str) -> Option<NaiveDate> {
        let parsed = (s.len() == 10)
            .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
            .flatten();
        if parsed.is_none() {
            self.add(path, "must be a date YYYY-MM-DD");
        }
        parsed
    }

    fn one_of<T: Copy>(&mut self, s: &str, path: &str, choices: &[(&str, T)]) -> Option<T> {
        let found = choices.iter().find(|(name, _)| *name == s).map(|(_, v)| *v);
        if found.is_none() {
            let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
            self.add(
                path,
                format!("unknown value {s:?} (expected {})", names.join(", ")),
            );
        }
        found
    }

    /// A name: 1 to [`MAX_TEXT`] characters, not blank, plain
    /// ([`crate::domain::text::check_plain`]).
    fn text(&mut self, s: &str, path: &str) -> String {
        if s.trim().is_empty() || s.chars().count() > MAX_TEXT {
            self.add(path, format!("must be 1 to {MAX_TEXT} characters"));
        } else if let Err(reason) = crate::domain::text::check_plain(s) {
            self.add(path, reason);
        }
        s.to_owned()
    }
}

/// The document as JSON bytes (size-checked), then as a value.
pub fn parse_bytes(body: &[u8]) -> Result<(Value, Campaign), Vec<Detail>> {
    if body.len() > MAX_DOCUMENT_BYTES {
        return Err(vec![Detail::new(
            "",
            format!("the document must not exceed {MAX_DOCUMENT_BYTES} bytes"),
        )]);
    }
    let value = crate::domain::json::from_slice(body)
        .map_err(|e| vec![e.into_detail(|e| format!("not valid JSON: {e}"))])?;
    let campaign = parse(&value)?;
    Ok((value, campaign))
}

/// Mistakes a new document may not make, though a stored one that makes them (loaded
/// before these checks) still reads: a boost day outside the campaign, an operator window
/// for an operator the campaign does not list. `value` is the document `c` was parsed from.
/// Whether operators exist is the service's to check (it needs the store).
pub fn load_checks(value: &Value, c: &Campaign) -> Vec<Detail> {
    let mut e = Errors::default();
    let list = |p: &str| value.pointer(p).and_then(Value::as_array).cloned();
    for (i, b) in list("/days/boost").unwrap_or_default().iter().enumerate() {
        let date = b["date"]
            .as_str()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        if date.is_some_and(|d| d < c.start || d > c.end) {
            e.add(
                format!("/days/boost/{i}/date"),
                format!("is outside the campaign ({} to {})", c.start, c.end),
            );
        }
    }
    for (i, w) in c.operator_windows.iter().enumerate() {
        if !c.operators.is_empty() && !c.operators.contains(&w.operator) {
            e.add(
                format!("/operator_windows/{i}/operator"),
                "is not one of the campaign's operators",
            );
        }
    }
    e.0
}

/// Parses and checks a campaign document; every violation with its JSON pointer.
pub fn parse(value: &Value) -> Result<Campaign, Vec<Detail>> {
    let raw = raw_document(value)?;
    let mut e = Errors::default();

    let Head {
        id,
        name,
        territory_name,
        start,
        end,
        time_zone,
    } = head(&mut e, &raw);

    let territory = territory(&mut e, &raw.territory, "/territory", false);
    let exclude_territory = raw
        .exclude_territory
        .as_ref()
        .and_then(|t| territory_opt(&mut e, t, "/exclude_territory"));

    let operators: Vec<Option<OperatorRef>> = raw
        .operators
        .iter()
        .enumerate()
        .map(|(i, s)| operator_ref(&mut e, s, &format!("/operators/{i}")))
        .collect();
    let operator_classes = operator_classes(&mut e, &raw.operator_classes);
    let operator_windows = operator_windows(&mut e, &raw.operator_windows);

    let distance = distance(&mut e, raw.distance.as_ref());
    let days = days(&mut e, raw.days.as_ref());
    let (driver_paid, passenger_paid) = pays(&mut e, &raw.pays);
    let amount = amount(&mut e, &raw.amount, "/amount");
    let age = age(&mut e, raw.adult_only, raw.age.as_deref());
    let caps = caps(&mut e, &raw.caps);
    let (counters, cap_counters) = counters_of(&caps);
    let stacking = stacking(&mut e, raw.stacking.as_deref());

    match (id, start, end, time_zone, territory, amount, stacking) {
        (
            Some(id),
            Some(start),
            Some(end),
            Some(time_zone),
            Some(territory),
            Some(amount),
            Some(stacking),
        ) if e.0.is_empty() => Ok(Campaign {
            id,
            name,
            territory_name,
            territory_id: raw.territory_id,
            start,
            end,
            time_zone,
            territory,
            exclude_territory,
            operators: operators.into_iter().flatten().collect(),
            operator_classes,
            operator_windows,
            age,
            distance,
            days,
            driver_paid,
            passenger_paid,
            amount,
            caps,
            counters,
            cap_counters,
            priority: raw.priority,
            stacking,
        }),
        _ => Err(e.0),
    }
}

/// The document in serde's raw types, once its shape (keys and JSON types) is checked.
fn raw_document(value: &Value) -> Result<RawCampaign, Vec<Detail>> {
    if !value.is_object() {
        return Err(vec![Detail::new("", "the document must be a JSON object")]);
    }
    let mut problems = Vec::new();
    shape::check(value, &shape::DOCUMENT, "", &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    // The shape checked, serde fails only on what `shape` does not mirror (a bug).
    serde_path_to_error::deserialize(value).map_err(|e| vec![crate::domain::error::serde_detail(e)])
}

/// Who the campaign is and when: what every other rule is read against.
struct Head {
    id: Option<CampaignId>,
    name: String,
    territory_name: String,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    time_zone: Option<chrono_tz::Tz>,
}

fn head(e: &mut Errors, raw: &RawCampaign) -> Head {
    let id = CampaignId::parse(&raw.id);
    if id.is_none() {
        e.add("/id", "must be 1 to 64 lowercase letters, digits, - or _");
    }
    let name = e.text(&raw.name, "/name");
    let territory_name = e.text(&raw.territory_name, "/territory_name");
    if let Some(t) = &raw.territory_id {
        if CampaignId::parse(t).is_none() {
            e.add(
                "/territory_id",
                "must be 1 to 64 lowercase letters, digits, - or _",
            );
        }
    }
    let start = e.date(&raw.start, "/start");
    let end = e.date(&raw.end, "/end");
    if let (Some(s), Some(en)) = (start, end) {
        if en < s {
            e.add("/end", format!("is before the start {s}: dates reversed"));
        }
    }
    let time_zone = chrono_tz::Tz::from_str(&raw.time_zone).ok();
    if time_zone.is_none() {
        e.add(
            "/time_zone",
            "must be an IANA time zone such as Europe/Paris",
        );
    }
    Head {
        id,
        name,
        territory_name,
        start,
        end,
        time_zone,
    }
}

/// Which operator classes are paid (A, B, C); none listed: all.
fn operator_classes(e: &mut Errors, raw: &[String]) -> [bool; 3] {
    let mut paid = [raw.is_empty(); 3];
    for (i, c) in raw.iter().enumerate() {
        let classes = [("A", 0), ("B", 1), ("C", 2)];
        if let Some(k) = e.one_of(c, &format!("/operator_classes/{i}"), &classes) {
            paid[k] = true;
        }
    }
    paid
}

fn operator_windows(e: &mut Errors, raw: &[RawWindow]) -> Vec<OperatorWindow> {
    let mut operator_windows = Vec::new();
    for (i, w) in raw.iter().enumerate() {
        let at = format!("/operator_windows/{i}");
        let operator = operator_ref(e, &w.operator, &format!("{at}/operator"));
        let from = w.from.as_deref().map(|d| e.date(d, &format!("{at}/from")));
        let until = w
            .until
            .as_deref()
            .map(|d| e.date(d, &format!("{at}/until")));
        if from.is_none() && until.is_none() {
            e.add(&at, "needs from, until or both");
        }
        if let (Some(Some(f)), Some(Some(u))) = (from, until) {
            if u < f {
                e.add(format!("{at}/until"), "is before from: dates reversed");
            }
        }
        if let Some(operator) = operator {
            operator_windows.push(OperatorWindow {
                operator,
                from: from.flatten(),
                until: until.flatten(),
            });
        }
    }

    operator_windows
}

fn distance(e: &mut Errors, raw: Option<&RawDistance>) -> DistanceRange {
    match raw {
        None => DistanceRange { min: 0, max: None },
        Some(d) => {
            if d.max.is_some_and(|max| max <= d.min) {
                e.add(
                    "/distance/max",
                    "must be greater than min ([min, max) metres)",
                );
            }
            DistanceRange {
                min: d.min,
                max: d.max,
            }
        }
    }
}

/// Which roles the campaign pays: (driver, passenger).
fn pays(e: &mut Errors, raw: &[String]) -> (bool, bool) {
    let mut driver_paid = false;
    let mut passenger_paid = false;
    if raw.is_empty() {
        e.add("/pays", "must name driver, passenger or both");
    }
    for (i, p) in raw.iter().enumerate() {
        match PaidRole::parse(p) {
            Some(PaidRole::Driver) => driver_paid = true,
            Some(PaidRole::Passenger) => passenger_paid = true,
            None => e.add(
                format!("/pays/{i}"),
                format!("unknown value {p:?} (expected driver, passenger)"),
            ),
        }
    }
    (driver_paid, passenger_paid)
}

/// The counters the caps need, each once, and which counter each cap uses.
fn counters_of(caps: &[(usize, Cap)]) -> (Vec<CounterSpec>, Vec<Option<usize>>) {
    let mut counters: Vec<CounterSpec> = Vec::new();
    let cap_counters = caps
        .iter()
        .map(|(_, cap)| {
            let spec = CounterSpec::of(cap)?;
            Some(match counters.iter().position(|s| *s == spec) {
                Some(i) => i,
                None => {
                    counters.push(spec);
                    counters.len() - 1
                }
            })
        })
        .collect();
    (counters, cap_counters)
}

fn stacking(e: &mut Errors, raw: Option<&str>) -> Option<Stacking> {
    match raw {
        None => Some(Stacking::Exclusive),
        Some(s) => e.one_of(
            s,
            "/stacking",
            &[
                ("exclusive", Stacking::Exclusive),
                ("stackable", Stacking::Stackable),
            ],
        ),
    }
}

fn operator_ref(e: &mut Errors, s: &str, path: &str) -> Option<OperatorRef> {
    if s.len() == 14 && s.bytes().all(|b| b.is_ascii_digit()) {
        return Some(OperatorRef::Siret(s.to_owned()));
    }
    match s.parse::<OperatorId>() {
        Ok(id) => Some(OperatorRef::Id(id)),
        Err(()) => {
            e.add(
                path,
                "must be an operator id (integer) or a SIRET (14 digits)",
            );
            None
        }
    }
}

/// The age rule (`Any` when it is wrong: the error is reported).
fn age(e: &mut Errors, adult_only: bool, raw: Option<&str>) -> Age {
    let choices = [
        ("any", Age::Any),
        ("adult", Age::Adult),
        ("adult_or_unknown", Age::AdultOrUnknown),
    ];
    match raw {
        None if adult_only => Age::Adult,
        None => Age::Any,
        Some(s) => {
            let age = e.one_of(s, "/age", &choices).unwrap_or(Age::Any);
            if adult_only && age != Age::Adult {
                e.add("/adult_only", format!("contradicts age {s:?}"));
            }
            age
        }
    }
}

fn days(e: &mut Errors, raw: Option<&RawDays>) -> Days {
    let mut days = Days {
        weekdays: 0b1111_1110,
        exclude: Vec::new(),
        boost: Vec::new(),
        hours: Vec::new(),
    };
    let Some(raw) = raw else {
        return days;
    };
    if let Some(weekdays) = &raw.weekdays {
        days.weekdays = 0;
        if weekdays.is_empty() {
            e.add(
                "/days/weekdays",
                "must name at least one day (1 Monday … 7 Sunday)",
            );
        }
        for (i, d) in weekdays.iter().enumerate() {
            if (1..=7).contains(d) {
                days.weekdays |= 1 << d;
            } else {
                e.add(
                    format!("/days/weekdays/{i}"),
                    "must be 1 (Monday) to 7 (Sunday)",
                );
            }
        }
    }
    for (i, d) in raw.exclude.iter().enumerate() {
        if let Some(d) = e.date(d, &format!("/days/exclude/{i}")) {
            days.exclude.push(d);
        }
    }
    days.exclude.sort();
    let mut seen = BTreeSet::new();
    for (i, b) in raw.boost.iter().enumerate() {
        let at = format!("/days/boost/{i}");
        let date = e.date(&b.date, &format!("{at}/date"));
        let boost = match (b.factor, &b.amount) {
            (Some(factor), None) => boost_factor(e, factor, &at),
            (None, Some(a)) => amount(e, a, &format!("{at}/amount")).map(Boost::Amount),
            _ => {
                e.add(&at, "needs factor or amount (one of them)");
                None
            }
        };
        if let (Some(date), Some(boost)) = (date, boost) {
            if !seen.insert(date) {
                e.add(format!("{at}/date"), "is boosted twice");
            }
            days.boost.push((date, boost));
        }
    }
    days.boost.sort_by_key(|(d, _)| *d);
    for (i, h) in raw.hours.iter().enumerate() {
        let at = format!("/days/hours/{i}");
        let from = minutes(e, &h.from, &format!("{at}/from"));
        let to = minutes(e, &h.to, &format!("{at}/to"));
        if let (Some(from), Some(to)) = (from, to) {
            if to <= from {
                e.add(format!("{at}/to"), "must be after from (HH:MM, [from, to))");
            } else {
                days.hours.push((from, to));
            }
        }
    }
    days
}

fn boost_factor(e: &mut Errors, factor: f64, at: &str) -> Option<Boost> {
    let hundredths = (factor * 100.0).round();
    if factor > 0.0 && factor <= 10.0 && (hundredths / 100.0 - factor).abs() < 1e-9 {
        Some(Boost::Factor(hundredths as u32))
    } else {
        e.add(
            format!("{at}/factor"),
            "must be a number above 0, at most 10, with at most 2 decimals",
        );
        None
    }
}

/// `HH:MM` → minutes since midnight; `24:00` is the end of the day.
fn minutes(e: &mut Errors, s: &str, path: &str) -> Option<u16> {
    let parsed = s.split_once(':').and_then(|(h, m)| {
        let ok = h.len() == 2 && m.len() == 2;
        let (h, m) = (h.parse::<u16>().ok()?, m.parse::<u16>().ok()?);
        (ok && m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
    });
    if parsed.is_none() {
        e.add(path, "must be a time HH:MM (00:00 to 24:00)");
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn minimal() -> Value {
        json!({
            "id": "test-2025", "name": "Test", "territory_name": "Testville",
            "start": "2025-01-01", "end": "2025-12-31", "time_zone": "Europe/Paris",
            "territory": {"rule": "start_or_end", "insee": ["17300"]},
            "pays": ["driver"],
            "amount": {"mode": "first_matching_band", "bands": [{"from": 2000, "to": 150000, "fixed": 50}]}
        })
    }

    fn paths(doc: Value) -> Vec<String> {
        let mut p: Vec<String> = parse(&doc)
            .unwrap_err()
            .into_iter()
            .map(|d| d.path)
            .collect();
        p.sort();
        p
    }

    #[test]
    fn a_minimal_document_parses_with_defaults() {
        let c = parse(&minimal()).unwrap();
        assert_eq!(c.id.as_str(), "test-2025");
        assert_eq!(c.operator_classes, [true; 3]);
        assert_eq!(c.days.weekdays, 0b1111_1110);
        assert!(c.driver_paid && !c.passenger_paid);
        assert_eq!(c.stacking, Stacking::Exclusive);
        assert!(c.caps.is_empty());
    }

    #[test]
    fn every_violation_is_reported_with_its_path() {
        let mut doc = minimal();
        doc["end"] = json!("2024-12-31");
        doc["time_zone"] = json!("Europe/Lutece");
        doc["distance"] = json!({"min": 5000, "max": 2000});
        doc["amount"]["bands"] = json!([
            {"from": 2000, "to": 20000, "fixed": 50},
            {"from": 10000, "to": 30000, "per_km": 10},
            {"from": 40000, "to": 30000, "fixed": 1}
        ]);
        doc["amount"]["min_per_trip"] = json!(100);
        doc["amount"]["max_per_trip"] = json!(50);
        doc["caps"] = json!([
            {"kind": "trips", "per": "week", "max": 3},
            {"kind": "coupons", "max": 3},
            {"kind": "amount", "per": "month", "max": 100, "who": "passenger", "scope": "campaign"}
        ]);
        doc["territory"]["geojson"] =
            json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]});
        assert_eq!(
            paths(doc),
            vec![
                "/amount/bands/1",
                "/amount/bands/2/to",
                "/amount/max_per_trip",
                "/caps/0/per",
                "/caps/1/kind",
                "/caps/2/who",
                "/distance/max",
                "/end",
                "/territory/geojson/coordinates/0",
                "/time_zone",
            ]
        );
    }

    #[test]
    fn type_errors_and_unknown_fields_name_their_path() {
        let mut doc = minimal();
        doc["amount"]["bands"][0]["fixed"] = json!("50");
        assert_eq!(paths(doc), vec!["/amount/bands/0/fixed"]);
        let mut doc = minimal();
        doc.as_object_mut().unwrap().remove("pays");
        assert_eq!(paths(doc), vec!["/pays"]);
        let mut doc = minimal();
        doc["territory"]["radius"] = json!(3);
        let details = parse(&doc).unwrap_err();
        assert!(details[0].path.starts_with("/territory"), "{details:?}");
        assert!(details[0].reason.contains("radius"));
        assert_eq!(paths(json!([1])), vec![""]);
    }

    #[test]
    fn territories_need_codes_or_an_area_and_exclusions_may_be_empty() {
        let mut doc = minimal();
        doc["territory"] = json!({"rule": "start", "insee": []});
        assert_eq!(paths(doc), vec!["/territory"]);
        let mut doc = minimal();
        doc["territory"]["insee"] = json!(["1730", "2A004"]);
        doc["territory"]["rule"] = json!("anywhere");
        assert_eq!(paths(doc), vec!["/territory/insee/0", "/territory/rule"]);
        let mut doc = minimal();
        doc["exclude_territory"] = json!({"rule": "start_and_end", "insee": []});
        assert!(parse(&doc).unwrap().exclude_territory.is_none());
    }

    #[test]
    fn caps_are_sorted_in_the_documented_order() {
        let mut doc = minimal();
        doc["pays"] = json!(["driver", "passenger"]);
        doc["caps"] = json!([
            {"kind": "budget", "max": 5000000},
            {"kind": "amount", "per": "month", "max": 9000},
            {"kind": "amount", "per": "year", "max": 54000},
            {"kind": "trips", "per": "campaign", "max": 10000000, "scope": "campaign"},
            {"kind": "trips", "per": "month", "max": 10},
            {"kind": "trips", "per": "day", "max": 6, "who": "driver"},
            {"kind": "seats_per_trip", "max": 3}
        ]);
        let c = parse(&doc).unwrap();
        let order: Vec<usize> = c.caps.iter().map(|(i, _)| *i).collect();
        assert_eq!(order, vec![6, 5, 4, 3, 2, 1, 0]);
        let mut doc = minimal();
        doc["caps"] = json!([{"kind": "budget", "max": 1}, {"kind": "budget", "max": 2}]);
        assert_eq!(paths(doc), vec!["/caps/1/kind"]);
    }
}
