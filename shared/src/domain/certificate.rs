//! Certificates (attestations, SPEC §6): what a person carpooled with one operator over a
//! period, per month and in total, issued once and kept as a record.
//!
//! The figures come from the person's trip index (see [`Trip`]): one entry per role of each
//! `ok` journey, written when the journey is processed and deleted when it is canceled, so
//! a certificate never reads a journey document.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::anomaly::great_circle_m;
use super::error::Detail;
use super::facts::Facts;
use super::journey_v2::{self, Coordinates, Identity, Invalid, Journey};
use super::operator::OperatorId;

/// At most this many positions in a request.
pub const MAX_POSITIONS: usize = 10;
/// A journey is kept when it starts or ends this close to one of the positions.
pub const POSITION_RADIUS_M: f64 = 1_000.0;
/// Default end of the period: journeys are processed and checked for fraud within about a
/// week after they happen (SPEC §3), so the last 6 days are not certified by default.
pub const DEFAULT_END_LAG: TimeDelta = TimeDelta::days(6);
/// Time zone of the months when the request names none.
pub const DEFAULT_TZ: Tz = chrono_tz::Europe::Paris;

const REQUEST_KEYS: &[&str] = &["identity", "tz", "start_at", "end_at", "positions"];

/// A valid `POST /v2/certificates` body.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub identity: Identity,
    pub tz: Tz,
    pub start_at: Option<DateTime<Utc>>,
    pub end_at: Option<DateTime<Utc>>,
    pub positions: Vec<Coordinates>,
}

/// The period a certificate covers: from `start` (the person's first journey when `None`)
/// to `end`, both inclusive, on the person's start instant of each journey.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Period {
    pub start: Option<DateTime<Utc>>,
    pub end: DateTime<Utc>,
}

/// The request body, every violation at once with its JSON pointer.
pub fn parse_request(body: &[u8]) -> Result<Request, Invalid> {
    let value = journey_v2::json_value(body)?;
    let Value::Object(map) = &value else {
        return Err(Invalid {
            details: vec![Detail::new("", "must be a JSON object")],
        });
    };
    let mut details = Vec::new();
    for key in map.keys() {
        if !REQUEST_KEYS.contains(&key.as_str()) {
            details.push(Detail::new(
                format!("/{}", key.replace('~', "~0").replace('/', "~1")),
                "unknown field",
            ));
        }
    }
    let identity = match map.get("identity") {
        None => {
            details.push(Detail::new("/identity", "is required"));
            None
        }
        Some(v) => journey_v2::parse_identity(v, "/identity")
            .map_err(|e| details.extend(e.details))
            .ok(),
    };
    let tz = match map.get("tz") {
        None => Some(DEFAULT_TZ),
        Some(v) => {
            let tz = v.as_str().and_then(|s| s.parse::<Tz>().ok());
            if tz.is_none() {
                details.push(Detail::new(
                    "/tz",
                    "must be an IANA time zone name such as Europe/Paris",
                ));
            }
            tz
        }
    };
    let mut instant = |name: &str| -> Option<DateTime<Utc>> {
        let v = map.get(name)?;
        let parsed = v
            .as_str()
            .filter(|s| s.len() <= 64)
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc));
        if parsed.is_none() {
            details.push(Detail::new(
                format!("/{name}"),
                "must be an RFC 3339 date-time with offset",
            ));
        }
        parsed
    };
    let start_at = instant("start_at");
    let end_at = instant("end_at");
    if let (Some(start), Some(end)) = (start_at, end_at) {
        if end <= start {
            details.push(Detail::new("/end_at", "must be after start_at"));
        }
    }
    let positions = match map.get("positions") {
        None => Vec::new(),
        Some(v) => positions(v, &mut details),
    };
    match (identity, tz) {
        (Some(identity), Some(tz)) if details.is_empty() => Ok(Request {
            identity,
            tz,
            start_at,
            end_at,
            positions,
        }),
        _ => Err(Invalid { details }),
    }
}

fn positions(value: &Value, details: &mut Vec<Detail>) -> Vec<Coordinates> {
    let Some(list) = value.as_array() else {
        details.push(Detail::new("/positions", "must be an array"));
        return Vec::new();
    };
    if list.len() > MAX_POSITIONS {
        details.push(Detail::new(
            "/positions",
            format!("must have at most {MAX_POSITIONS} items"),
        ));
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let at = format!("/positions/{i}");
        let Some(object) = item.as_object() else {
            details.push(Detail::new(at, "must be an object {lat, lon}"));
            continue;
        };
        for key in object
            .keys()
            .filter(|k| !["lat", "lon"].contains(&k.as_str()))
        {
            details.push(Detail::new(format!("{at}/{key}"), "unknown field"));
        }
        let mut coordinate = |name: &str, limit: f64| {
            let v = object.get(name).and_then(Value::as_f64);
            let v = v.filter(|v| (-limit..=limit).contains(v));
            if v.is_none() {
                details.push(Detail::new(
                    format!("{at}/{name}"),
                    format!("must be a number between -{limit} and {limit}"),
                ));
            }
            v
        };
        let (lat, lon) = (coordinate("lat", 90.0), coordinate("lon", 180.0));
        if let Some(c) = lat
            .zip(lon)
            .and_then(|(lat, lon)| Coordinates::new(lat, lon))
        {
            out.push(c);
        }
    }
    out
}

impl Request {
    /// The period asked for, given the current time: by default up to 6 days ago.
    pub fn period(&self, now: DateTime<Utc>) -> Result<Period, Invalid> {
        let end = self.end_at.unwrap_or(now - DEFAULT_END_LAG);
        match self.start_at {
            Some(start) if self.end_at.is_none() && start >= end => Err(Invalid {
                details: vec![Detail::new(
                    "/start_at",
                    "must be before the default end_at (6 days ago); give end_at",
                )],
            }),
            start => Ok(Period { start, end }),
        }
    }
}

/// Which side of a journey a person was on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Driver,
    Passenger,
}

impl Role {
    pub const BOTH: [Role; 2] = [Role::Passenger, Role::Driver];

    /// The prefix of the journey item's attributes for this person (`passenger_key`...).
    pub fn prefix(self) -> &'static str {
        match self {
            Role::Driver => "driver",
            Role::Passenger => "passenger",
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            Role::Driver => "d",
            Role::Passenger => "p",
        }
    }
}

/// One person's share of one `ok` journey, as a certificate counts it (an entry of the
/// person's trip index).
#[derive(Clone, Debug, PartialEq)]
pub struct Trip {
    pub role: Role,
    /// The ride: `operator_journey_id`, else `journey_id`. A driver's couples of one ride
    /// are one trip (counted once, its distance once).
    pub ride: String,
    pub start: DateTime<Utc>,
    /// Metres: declared, else the straight line between start and end, else 0.
    pub distance: u32,
    /// Cents: the driver's `revenue` (what the driver received) or the passenger's
    /// `contribution` (what the passenger paid), as the operator declared them.
    pub amount: u32,
    pub from: Option<Coordinates>,
    pub to: Option<Coordinates>,
}

impl Trip {
    pub fn of(journey: &Journey, role: Role) -> Trip {
        let ride = journey
            .operator_journey_id
            .clone()
            .unwrap_or_else(|| journey.journey_id.clone());
        Trip::of_facts(&Facts::of(journey), role, ride)
    }

    /// `ride`: the `operator_journey_id`, else the `journey_id`.
    pub fn of_facts(facts: &Facts, role: Role, ride: String) -> Trip {
        let (leg, amount) = match role {
            Role::Driver => (&facts.driver, facts.revenue),
            Role::Passenger => (&facts.passenger, facts.contribution),
        };
        Trip {
            role,
            ride,
            start: leg.start.at,
            distance: leg.distance_m().unwrap_or(0),
            amount,
            from: leg.start.place.coordinates(),
            to: leg.end.place.coordinates(),
        }
    }

    fn near(&self, positions: &[Coordinates]) -> bool {
        positions.iter().any(|p| {
            [self.from, self.to]
                .into_iter()
                .flatten()
                .any(|c| great_circle_m(*p, c) <= POSITION_RADIUS_M)
        })
    }
}

/// Figures of a month or of the whole period. Distances in metres, amounts in cents.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CertificateTotals))]
pub struct Totals {
    /// Trips as driver plus trips as passenger.
    pub trips: u32,
    pub distance: u64,
    pub driver_trips: u32,
    pub driver_earned: u64,
    pub passenger_trips: u32,
    pub passenger_paid: u64,
}

impl Totals {
    pub fn add(&mut self, other: &Totals) {
        self.trips += other.trips;
        self.distance += other.distance;
        self.driver_trips += other.driver_trips;
        self.driver_earned += other.driver_earned;
        self.passenger_trips += other.passenger_trips;
        self.passenger_paid += other.passenger_paid;
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CertificateMonth))]
pub struct Month {
    /// `YYYY-MM` in the certificate's time zone.
    pub month: String,
    #[serde(flatten)]
    pub totals: Totals,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CertificatePosition))]
pub struct Position {
    pub lat: f64,
    pub lon: f64,
}

/// What a certificate says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CertificateMeta))]
pub struct Meta {
    pub tz: String,
    /// The start asked for, else the first counted journey (`None`: nothing to count).
    pub start_at: Option<String>,
    pub end_at: String,
    pub positions: Vec<Position>,
    /// Months with at least one trip, in order.
    pub months: Vec<Month>,
    pub total: Totals,
}

/// The figures of `trips` (in start order) that fall in the period and near a position.
pub fn summarise(
    trips: impl IntoIterator<Item = Trip>,
    period: &Period,
    tz: Tz,
    positions: &[Coordinates],
) -> Meta {
    let mut months: BTreeMap<String, Totals> = BTreeMap::new();
    // Distance counted per ride of the driver: (month, ride) → largest distance so far.
    let mut rides: HashMap<(String, String), u32> = HashMap::new();
    let mut first = None;
    for trip in trips {
        let in_period = period.start.is_none_or(|s| trip.start >= s) && trip.start <= period.end;
        if !in_period || (!positions.is_empty() && !trip.near(positions)) {
            continue;
        }
        first = Some(first.map_or(trip.start, |f: DateTime<Utc>| f.min(trip.start)));
        let month = trip.start.with_timezone(&tz).format("%Y-%m").to_string();
        let totals = months.entry(month.clone()).or_default();
        match trip.role {
            Role::Passenger => {
                totals.trips += 1;
                totals.passenger_trips += 1;
                totals.distance += u64::from(trip.distance);
                totals.passenger_paid += u64::from(trip.amount);
            }
            Role::Driver => {
                totals.driver_earned += u64::from(trip.amount);
                match rides.get_mut(&(month.clone(), trip.ride.clone())) {
                    None => {
                        totals.trips += 1;
                        totals.driver_trips += 1;
                        totals.distance += u64::from(trip.distance);
                        rides.insert((month, trip.ride), trip.distance);
                    }
                    Some(longest) if trip.distance > *longest => {
                        totals.distance += u64::from(trip.distance - *longest);
                        *longest = trip.distance;
                    }
                    Some(_) => {}
                }
            }
        }
    }
    let mut total = Totals::default();
    let months: Vec<Month> = months
        .into_iter()
        .map(|(month, totals)| {
            total.add(&totals);
            Month { month, totals }
        })
        .collect();
    Meta {
        tz: tz.name().to_owned(),
        start_at: period.start.or(first).map(crate::clock::rfc3339),
        end_at: crate::clock::rfc3339(period.end),
        positions: positions
            .iter()
            .map(|c| Position {
                lat: c.lat(),
                lon: c.lon(),
            })
            .collect(),
        months,
        total,
    }
}

/// The operator a certificate was issued through, as it was named then.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CertificateIssuer))]
pub struct Issuer {
    pub id: OperatorId,
    pub name: String,
}

/// An issued certificate. Stored once as JSON, never changed: later cancellations do not
/// alter what was certified.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Certificate {
    pub uuid: uuid::Uuid,
    pub created_at: String,
    pub operator: Issuer,
    pub meta: Meta,
}

impl Certificate {
    /// SHA-256 of the record's canonical JSON (sorted keys): printed on the paper copy and
    /// shown by the public check, so a third party can see both say the same.
    pub fn fingerprint(&self) -> String {
        let canonical = serde_json::to_value(self)
            .map(|v| v.to_string())
            .unwrap_or_default();
        hex::encode(Sha256::digest(canonical.as_bytes()))
    }

    /// The address of the public check, printed as a QR code.
    pub fn check_url(&self, public_url: &str) -> String {
        format!(
            "{}/v2/certificates/{}",
            public_url.trim_end_matches('/'),
            self.uuid
        )
    }
}

/// The printable forms of a certificate (one template, rendered by the `certificate` service).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Pdf,
    Png,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "pdf" => Some(Format::Pdf),
            "png" => Some(Format::Png),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Pdf => "application/pdf",
            Format::Png => "image/png",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Png => "png",
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request(body: Value) -> Result<Request, Vec<String>> {
        parse_request(body.to_string().as_bytes())
            .map_err(|e| e.details.into_iter().map(|d| d.path).collect())
    }

    #[test]
    fn requests_are_parsed_with_every_error_at_its_path() {
        let ok = request(json!({
            "identity": {"phone": "06 12 34 56 78"},
            "tz": "Europe/Paris",
            "start_at": "2025-01-01T00:00:00+01:00",
            "end_at": "2025-12-31T23:59:59Z",
            "positions": [{"lat": 48.85, "lon": 2.35}]
        }))
        .unwrap();
        assert_eq!(ok.positions.len(), 1);
        assert_eq!(ok.tz, chrono_tz::Europe::Paris);
        let minimal =
            request(json!({"identity": {"phone_trunc": "+336123456", "operator_user_id": "u1"}}))
                .unwrap();
        assert_eq!((minimal.tz, minimal.start_at), (DEFAULT_TZ, None));

        assert_eq!(
            request(json!({
                "identity": {"phone": "12"},
                "tz": "Mars/Olympus",
                "start_at": "2025-02-01T00:00:00Z",
                "end_at": "2025-01-01T00:00:00Z",
                "positions": [{"lat": 91, "lon": 2}, {"lat": 1, "lon": -180.5}, "x"],
                "extra": 1
            }))
            .unwrap_err(),
            vec![
                "/extra",
                "/identity/phone",
                "/tz",
                "/end_at",
                "/positions/0/lat",
                "/positions/1/lon",
                "/positions/2"
            ]
        );
        let eleven: Vec<Value> = (0..11).map(|_| json!({"lat": 1, "lon": 1})).collect();
        assert_eq!(
            request(json!({"identity": {"phone": "0612345678"}, "positions": eleven})).unwrap_err(),
            vec!["/positions"]
        );
        assert_eq!(request(json!({})).unwrap_err(), vec!["/identity"]);
        assert_eq!(
            request(json!({"identity": {}, "start_at": "2025-01-01"})).unwrap_err(),
            vec!["/identity", "/start_at"]
        );
        assert!(parse_request(b"[]").is_err());
        assert!(parse_request(b"{").is_err());
    }

    #[test]
    fn the_default_period_ends_six_days_ago() {
        let now = Utc::now();
        let mut r = request(json!({"identity": {"phone": "0612345678"}})).unwrap();
        assert_eq!(
            r.period(now).unwrap(),
            Period {
                start: None,
                end: now - DEFAULT_END_LAG
            }
        );
        r.start_at = Some(now - TimeDelta::days(2));
        assert_eq!(r.period(now).unwrap_err().details[0].path, "/start_at");
    }

    fn trip(role: Role, ride: &str, start: &str, distance: u32, amount: u32) -> Trip {
        Trip {
            role,
            ride: ride.into(),
            start: DateTime::parse_from_rfc3339(start)
                .unwrap()
                .with_timezone(&Utc),
            distance,
            amount,
            from: Coordinates::new(48.8566, 2.3522),
            to: Coordinates::new(48.8049, 2.1204),
        }
    }

    #[test]
    fn months_in_the_time_zone_rides_counted_once_and_filters() {
        let trips = vec![
            // 31 Jan 23:30 UTC is February in Paris.
            trip(Role::Passenger, "a", "2025-01-31T23:30:00Z", 10_000, 300),
            // Two couples of one ride: one trip, the longer distance, both revenues.
            trip(Role::Driver, "b", "2025-02-03T08:00:00Z", 20_000, 250),
            trip(Role::Driver, "b", "2025-02-03T08:00:00Z", 22_000, 200),
            trip(Role::Driver, "c", "2025-03-01T08:00:00Z", 5_000, 100),
        ];
        let period = Period {
            start: None,
            end: DateTime::parse_from_rfc3339("2025-12-31T00:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
        };
        let meta = summarise(trips.clone(), &period, DEFAULT_TZ, &[]);
        assert_eq!(meta.months.len(), 2);
        assert_eq!(meta.months[0].month, "2025-02");
        assert_eq!(
            meta.months[0].totals,
            Totals {
                trips: 2,
                distance: 32_000,
                driver_trips: 1,
                driver_earned: 450,
                passenger_trips: 1,
                passenger_paid: 300
            }
        );
        assert_eq!(meta.total.trips, 3);
        assert_eq!(meta.total.distance, 37_000);
        assert_eq!(meta.start_at.as_deref(), Some("2025-01-31T23:30:00.000Z"));
        // In UTC the first trip is January's.
        let utc = summarise(trips.clone(), &period, chrono_tz::UTC, &[]);
        assert_eq!(utc.months[0].month, "2025-01");

        // Far from every position: nothing; 900 m from the end: kept.
        let far = [Coordinates::new(45.76, 4.83).unwrap()];
        assert_eq!(
            summarise(trips.clone(), &period, DEFAULT_TZ, &far).total,
            Totals::default()
        );
        let near = [Coordinates::new(48.8130, 2.1204).unwrap()];
        assert_eq!(
            summarise(trips.clone(), &period, DEFAULT_TZ, &near)
                .total
                .trips,
            3
        );
        // The period bounds are inclusive.
        let march = Period {
            start: Some(trips[3].start),
            end: trips[3].start,
        };
        assert_eq!(summarise(trips, &march, DEFAULT_TZ, &[]).total.trips, 1);
    }
}
