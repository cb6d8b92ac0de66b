//! The look-back rules (cee.md, "Look-back and dedup rules") and the campaign window.

use chrono::{DateTime, Months, TimeZone, Utc};

use super::fields::JourneyType;
use crate::domain::country::Country;
use crate::domain::facts::Facts;
use crate::domain::journey_v2::OperatorClass;
use crate::domain::operator::OperatorId;
use crate::domain::phone::PhoneTrunc;

/// Where an earlier record comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordKind {
    /// An application registered here (standardized operation).
    Standardized,
    /// An operation imported by its operator (specific operation).
    Specific,
}

/// An earlier record found by the history search.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub kind: RecordKind,
    pub operator_id: OperatorId,
    /// The operation date.
    pub datetime: DateTime<Utc>,
    /// Standardized applications only.
    pub uuid: Option<String>,
    /// Short standardized applications only.
    pub journey_id: Option<String>,
}

/// Look-back in calendar years.
pub fn lookback_years(journey_type: JourneyType, kind: RecordKind) -> u32 {
    match (journey_type, kind) {
        (JourneyType::Short, RecordKind::Standardized) => 5,
        (JourneyType::Short, RecordKind::Specific) => 3,
        (JourneyType::Long, RecordKind::Standardized) => 12,
        (JourneyType::Long, RecordKind::Specific) => 10,
    }
}

/// Imported records older than this never count: 2020-01-01 (short), 2015-01-01 (long),
/// midnight in Paris (UTC+1 in January).
pub fn specific_floor(journey_type: JourneyType) -> DateTime<Utc> {
    let year = match journey_type {
        JourneyType::Short => 2019,
        JourneyType::Long => 2014,
    };
    Utc.with_ymd_and_hms(year, 12, 31, 23, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The start of the look-back before `date`: the same instant `years` calendar years
/// earlier (29 February falls back to 28 February).
pub fn lookback_start(date: DateTime<Utc>, years: u32) -> DateTime<Utc> {
    date.checked_sub_months(Months::new(years * 12))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Whether `record` blocks a new application of `journey_type` dated `date`: dated within
/// the look-back before it, or after it.
pub fn blocks(record: &Record, journey_type: JourneyType, date: DateTime<Utc>) -> bool {
    if record.kind == RecordKind::Specific && record.datetime < specific_floor(journey_type) {
        return false;
    }
    record.datetime >= lookback_start(date, lookback_years(journey_type, record.kind))
}

/// The record a 409 names among the blocking ones: a standardized application first, then
/// the most recent.
pub fn first_blocking(
    records: &[Record],
    journey_type: JourneyType,
    date: DateTime<Utc>,
) -> Option<&Record> {
    records
        .iter()
        .filter(|r| blocks(r, journey_type, date))
        .max_by_key(|r| (r.kind == RecordKind::Standardized, r.datetime))
}

/// The campaign window `[start, end)` and the delay before a registration is possible.
#[derive(Clone, Debug, PartialEq)]
pub struct Campaign {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub delay: chrono::Duration,
}

impl Default for Campaign {
    /// 2023-01-01T00:00 to 2027-01-01T00:00 Europe/Paris (UTC+1 in January), J+7.
    fn default() -> Self {
        let paris_new_year = |year| {
            Utc.with_ymd_and_hms(year - 1, 12, 31, 23, 0, 0)
                .single()
                .unwrap_or(DateTime::<Utc>::MIN_UTC)
        };
        Campaign {
            start: paris_new_year(2023),
            end: paris_new_year(2027),
            delay: chrono::Duration::days(7),
        }
    }
}

impl Campaign {
    /// Short journeys: the start within `[start, end)`.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }

    /// Long operations: strictly inside the window.
    pub fn strictly_contains(&self, t: DateTime<Utc>) -> bool {
        self.start < t && t < self.end
    }

    /// When an operation dated `date` may be registered.
    pub fn available_at(&self, date: DateTime<Utc>) -> DateTime<Utc> {
        date + self.delay
    }
}

/// Short journeys: at most this distance (metres).
pub const MAX_SHORT_DISTANCE_M: u32 = 80_000;

/// What a short registration needs from the journey.
#[derive(Clone, Debug, PartialEq)]
pub struct ShortJourney {
    pub end: DateTime<Utc>,
    pub driver_phone: PhoneTrunc,
    pub status: String,
}

/// cee.md, short: operator class C, at most 80 km, at least one end in France (the
/// countries found at acceptance, so known whatever the status), started inside the
/// campaign window. The carpool is the passenger's part of the trip: its distance, start
/// and end; the person is the driver (their phone). `status` is the journey's.
pub fn short_journey(
    facts: &Facts,
    status: &str,
    campaign: &Campaign,
) -> Result<ShortJourney, &'static str> {
    if facts.class != OperatorClass::C {
        return Err("its operator class is not C");
    }
    let passenger = &facts.passenger;
    let distance = passenger
        .distance
        .or(facts.driver.distance)
        .ok_or("it has no distance")?;
    if distance > MAX_SHORT_DISTANCE_M {
        return Err("it is longer than 80 km");
    }
    if !facts.countries().contains(&Country::France) {
        return Err("neither of its ends is in France");
    }
    if !campaign.contains(passenger.start.at) {
        return Err("it did not start inside the campaign window");
    }
    let driver_phone = facts
        .driver_phone_trunc
        .clone()
        .ok_or("its driver has no phone number")?;
    Ok(ShortJourney {
        end: passenger.end.at,
        driver_phone,
        status: status.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn record(kind: RecordKind, datetime: &str) -> Record {
        Record {
            kind,
            operator_id: OperatorId(1),
            datetime: at(datetime),
            uuid: None,
            journey_id: None,
        }
    }

    #[test]
    fn lookbacks_are_calendar_years_and_later_records_block() {
        let new = at("2025-03-15T10:00:00Z");
        let std = RecordKind::Standardized;
        let spec = RecordKind::Specific;
        let short = JourneyType::Short;
        let long = JourneyType::Long;
        // Short, standardized: 5 years, to the instant.
        assert!(blocks(&record(std, "2020-03-15T10:00:00Z"), short, new));
        assert!(!blocks(&record(std, "2020-03-15T09:59:59Z"), short, new));
        // Records dated after the new one block too.
        assert!(blocks(&record(std, "2026-01-01T00:00:00Z"), short, new));
        // Short, specific: 3 years.
        assert!(blocks(&record(spec, "2022-03-15T10:00:00Z"), short, new));
        assert!(!blocks(&record(spec, "2022-03-15T09:00:00Z"), short, new));
        // Long: 12 and 10 years.
        assert!(blocks(&record(std, "2013-03-15T10:00:00Z"), long, new));
        assert!(!blocks(&record(std, "2013-03-14T10:00:00Z"), long, new));
        assert!(blocks(&record(spec, "2015-03-15T10:00:00Z"), long, new));
        assert!(!blocks(&record(spec, "2015-03-14T10:00:00Z"), long, new));
        // 29 February: one calendar year before 2028-02-29 is 2027-02-28.
        assert_eq!(
            lookback_start(at("2028-02-29T12:00:00Z"), 1),
            at("2027-02-28T12:00:00Z")
        );
    }

    #[test]
    fn imported_records_before_the_floor_never_block() {
        let new = at("2022-06-01T00:00:00Z");
        let spec = RecordKind::Specific;
        // Within 3 years, but before 2020-01-01 Paris.
        assert!(!blocks(
            &record(spec, "2019-12-31T22:59:59Z"),
            JourneyType::Short,
            new
        ));
        assert!(blocks(
            &record(spec, "2019-12-31T23:00:00Z"),
            JourneyType::Short,
            new
        ));
        let new = at("2024-06-01T00:00:00Z");
        assert!(!blocks(
            &record(spec, "2014-12-31T22:59:59Z"),
            JourneyType::Long,
            new
        ));
        assert!(blocks(
            &record(spec, "2014-12-31T23:00:00Z"),
            JourneyType::Long,
            new
        ));
        // Standardized records have no floor.
        assert!(blocks(
            &record(RecordKind::Standardized, "2019-06-01T00:00:00Z"),
            JourneyType::Short,
            new
        ));
    }

    #[test]
    fn the_conflict_names_a_standardized_record_first() {
        let new = at("2025-03-15T10:00:00Z");
        let records = [
            record(RecordKind::Specific, "2025-01-01T00:00:00Z"),
            record(RecordKind::Standardized, "2023-01-01T00:00:00Z"),
            record(RecordKind::Standardized, "2024-01-01T00:00:00Z"),
            record(RecordKind::Standardized, "2001-01-01T00:00:00Z"),
        ];
        let first = first_blocking(&records, JourneyType::Short, new).unwrap();
        assert_eq!(first.datetime, at("2024-01-01T00:00:00Z"));
        assert!(first_blocking(&records[3..], JourneyType::Short, new).is_none());
    }

    #[test]
    fn default_window_is_paris_midnights() {
        let c = Campaign::default();
        assert_eq!(c.start, at("2023-01-01T00:00:00+01:00"));
        assert_eq!(c.end, at("2027-01-01T00:00:00+01:00"));
        assert!(c.contains(c.start) && !c.strictly_contains(c.start));
        assert!(!c.contains(c.end));
    }
}
