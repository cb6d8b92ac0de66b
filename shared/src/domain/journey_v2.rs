//! The journey v2 document of `POST /v2/journeys` (shared/journey-v2.md).
//!
//! * [`parse`]: the schema (400). The body becomes a [`Journey`] or every violation is
//!   listed at once, each with its JSON pointer.
//! * [`check`]: what is well-formed but impossible (422): future dates, payments above the
//!   contribution, driver and passenger being the same person.
//! * [`late`]: received 120 h or more after its end (stored with status `expired`).

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Number, Value};

use super::error::Detail;
use super::operator::{self, OperatorId};
use super::phone::{Phone, PhoneTrunc};

/// One driver + passenger couple, as normalised by [`parse`].
#[derive(Clone, Debug, PartialEq)]
pub struct Journey {
    pub journey_id: String,
    /// The operator's id of the trip, shared by the couples of one ride.
    pub operator_journey_id: Option<String>,
    pub operator_class: OperatorClass,
    /// As sent; the handler answers 403 when it is not the token's operator.
    pub operator_id: Option<OperatorId>,
    pub passenger: Passenger,
    pub driver: Driver,
}

/// Proof class; C is the strongest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OperatorClass {
    A,
    B,
    C,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Passenger {
    pub person: Person,
    /// 1–8, 1 when not sent.
    pub seats: u8,
    /// Euro cents paid by the passenger.
    pub contribution: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Driver {
    pub person: Person,
    /// Euro cents received by the driver.
    pub revenue: u32,
}

/// What passenger and driver have in common.
#[derive(Clone, Debug, PartialEq)]
pub struct Person {
    pub identity: Identity,
    pub start: Position,
    /// Strictly after `start`.
    pub end: Position,
    pub incentives: Vec<Incentive>,
    /// Empty when not sent.
    pub payments: Vec<Payment>,
    /// Metres.
    pub distance: Option<u32>,
    /// Seconds.
    pub duration: Option<u32>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Identity {
    pub identifiers: Identifiers,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    pub company: Option<String>,
    pub email: Option<Email>,
    /// `null` and absent are both `None`.
    pub over_18: Option<bool>,
    pub travel_pass: Option<TravelPass>,
}

/// How a person is recognised: a full phone, or a truncated phone with the operator's user
/// id (the two ways of building the identity key).
#[derive(Clone, Debug, PartialEq)]
pub enum Identifiers {
    Phone {
        phone: Phone,
        phone_trunc: Option<PhoneTrunc>,
        operator_user_id: Option<String>,
    },
    Truncated {
        phone_trunc: PhoneTrunc,
        operator_user_id: String,
    },
}

impl Identity {
    pub fn phone(&self) -> Option<&Phone> {
        match &self.identifiers {
            Identifiers::Phone { phone, .. } => Some(phone),
            Identifiers::Truncated { .. } => None,
        }
    }

    /// The `phone_trunc` as sent.
    pub fn phone_trunc(&self) -> Option<&PhoneTrunc> {
        match &self.identifiers {
            Identifiers::Phone { phone_trunc, .. } => phone_trunc.as_ref(),
            Identifiers::Truncated { phone_trunc, .. } => Some(phone_trunc),
        }
    }

    pub fn operator_user_id(&self) -> Option<&str> {
        match &self.identifiers {
            Identifiers::Phone {
                operator_user_id, ..
            } => operator_user_id.as_deref(),
            Identifiers::Truncated {
                operator_user_id, ..
            } => Some(operator_user_id),
        }
    }

    /// The `phone_trunc` as sent, else the full phone without its last 2 digits.
    pub fn truncated_phone(&self) -> Option<PhoneTrunc> {
        self.phone_trunc()
            .cloned()
            .or_else(|| self.phone().map(Phone::truncated))
    }
}

/// An e-mail address that passed a reasonable syntax check (kept as sent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TravelPass {
    pub name: TravelPassName,
    pub user_id: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TravelPassName {
    Navigo,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Position {
    pub datetime: DateTime<Utc>,
    pub place: Place,
    pub address: Option<Address>,
}

/// A position is located by coordinates, an INSEE code, or both.
#[derive(Clone, Debug, PartialEq)]
pub enum Place {
    Coordinates(Coordinates),
    Insee(Insee),
    Both(Coordinates, Insee),
}

impl Place {
    pub fn coordinates(&self) -> Option<Coordinates> {
        match self {
            Place::Coordinates(c) | Place::Both(c, _) => Some(*c),
            Place::Insee(_) => None,
        }
    }

    pub fn insee(&self) -> Option<&Insee> {
        match self {
            Place::Insee(i) | Place::Both(_, i) => Some(i),
            Place::Coordinates(_) => None,
        }
    }
}

/// WGS 84 degrees: latitude −90–90, longitude −180–180.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Coordinates {
    lat: f64,
    lon: f64,
}

impl Coordinates {
    /// WGS 84 degrees, `None` outside the ranges (e.g. read back from storage).
    pub fn new(lat: f64, lon: f64) -> Option<Coordinates> {
        ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon))
            .then_some(Coordinates { lat, lon })
    }

    pub fn lat(&self) -> f64 {
        self.lat
    }

    pub fn lon(&self) -> f64 {
        self.lon
    }
}

/// A commune code: digit, digit or `A`/`B` (Corsica), 3 digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Insee(String);

impl Insee {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A postal address: both parts or none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub country: String,
    pub literal: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Siret(String);

impl Siret {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Incentive {
    pub index: u8,
    pub siret: Siret,
    /// 0–100 000, possibly fractional.
    pub amount: f64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    pub index: u8,
    pub siret: Siret,
    /// The document's `type`.
    pub kind: String,
    /// Euro cents.
    pub amount: u32,
}

/// Every violation found, each with its JSON pointer (`""` for the whole body).
#[derive(Clone, Debug, PartialEq)]
pub struct Invalid {
    pub details: Vec<Detail>,
}

impl Invalid {
    fn at(path: &str, reason: impl Into<String>) -> Invalid {
        Invalid {
            details: vec![Detail::new(path, reason)],
        }
    }
}

/// A future date is tolerated up to this far after the reception time (clock skew).
pub const FUTURE_TOLERANCE: TimeDelta = TimeDelta::minutes(5);
/// A journey received this long or longer after its end is `expired`.
pub const SUBMISSION_DELAY: TimeDelta = TimeDelta::hours(120);

/// The schema of journey-v2.md, applied to the raw body (400 on error).
///
/// Where the spec leaves the path open: `start` not before `end` is reported at
/// `…/end/datetime`; a missing half of a pair (`lat`/`lon`, `country`/`literal`) at the
/// missing member; an identity or position with none of its identifiers at the object.
/// Integers may be written `2.0` (JSON Schema's reading, as the public registry).
pub fn parse(body: &[u8]) -> Result<Journey, Invalid> {
    parse_value(&json_value(body)?)
}

/// The body as a JSON value (400 when it is not JSON).
pub fn json_value(body: &[u8]) -> Result<Value, Invalid> {
    // serde_json refuses nesting deeper than 128 levels with an error: no stack overflow.
    serde_json::from_slice(body)
        .map_err(|e| Invalid::at("", format!("must be a JSON document ({e})")))
}

/// [`parse`] on an already decoded body.
pub fn parse_value(value: &Value) -> Result<Journey, Invalid> {
    let mut parser = Parser::default();
    let journey = parser.journey(value);
    match (journey, parser.details.is_empty()) {
        (Some(journey), true) => Ok(journey),
        (_, false) => Err(Invalid {
            details: parser.details,
        }),
        // Every reader reports before it fails; this only guards against a reader that
        // would not.
        (None, true) => Err(Invalid::at("", "invalid journey")),
    }
}

/// An identity object alone, with the rules of a journey's `…/identity` (the certificate
/// request names its person this way); errors are reported under `path`.
pub fn parse_identity(value: &Value, path: &str) -> Result<Identity, Invalid> {
    let mut parser = Parser::default();
    let identity = parser.identity(value, At::of(path));
    match (identity, parser.details.is_empty()) {
        (Some(identity), true) => Ok(identity),
        (_, false) => Err(Invalid {
            details: parser.details,
        }),
        (None, true) => Err(Invalid::at(path, "invalid identity")),
    }
}

/// The checks after the schema (422 on error), `received_at` being the reception time.
pub fn check(journey: &Journey, received_at: DateTime<Utc>) -> Result<(), Invalid> {
    let mut details = Vec::new();
    for (role, person) in journey.people() {
        future_datetimes(role, person, received_at, &mut details);
    }
    payments_within_contribution(&journey.passenger, &mut details);
    distinct_people(journey, &mut details);
    if details.is_empty() {
        Ok(())
    } else {
        Err(Invalid { details })
    }
}

/// Received 120 h or more after the later of the two ends: stored as `expired`.
pub fn late(journey: &Journey, received_at: DateTime<Utc>) -> bool {
    let last_end = journey
        .passenger
        .person
        .end
        .datetime
        .max(journey.driver.person.end.datetime);
    received_at.signed_duration_since(last_end) >= SUBMISSION_DELAY
}

impl Journey {
    fn people(&self) -> [(&'static str, &Person); 2] {
        [
            ("/passenger", &self.passenger.person),
            ("/driver", &self.driver.person),
        ]
    }
}

fn future_datetimes(
    role: &str,
    person: &Person,
    received_at: DateTime<Utc>,
    details: &mut Vec<Detail>,
) {
    for (name, position) in [("start", &person.start), ("end", &person.end)] {
        if position.datetime.signed_duration_since(received_at) > FUTURE_TOLERANCE {
            details.push(Detail::new(
                format!("{role}/{name}/datetime"),
                "is more than 5 minutes after the reception time",
            ));
        }
    }
}

fn payments_within_contribution(passenger: &Passenger, details: &mut Vec<Detail>) {
    let total: u64 = passenger
        .person
        .payments
        .iter()
        .map(|p| u64::from(p.amount))
        .sum();
    if total > u64::from(passenger.contribution) {
        details.push(Detail::new(
            "/passenger/payments",
            format!(
                "total {total} is more than the contribution {}",
                passenger.contribution
            ),
        ));
    }
}

/// Full phones decide when both are known; otherwise truncated phone + operator user id.
fn distinct_people(journey: &Journey, details: &mut Vec<Detail>) {
    let passenger = &journey.passenger.person.identity;
    let driver = &journey.driver.person.identity;
    if let (Some(p), Some(d)) = (passenger.phone(), driver.phone()) {
        if p == d {
            details.push(Detail::new(
                "/driver/identity/phone",
                "is the passenger's phone",
            ));
        }
        return;
    }
    let same_user = matches!(
        (passenger.operator_user_id(), driver.operator_user_id()),
        (Some(p), Some(d)) if p == d
    );
    let same_trunc = matches!(
        (passenger.truncated_phone(), driver.truncated_phone()),
        (Some(p), Some(d)) if p == d
    );
    if same_user && same_trunc {
        details.push(Detail::new(
            "/driver/identity",
            "has the passenger's phone_trunc and operator_user_id",
        ));
    }
}

// ---------------------------------------------------------------------------------------
// The parser: one walk over the `Value`, every reader reports its own violations and
// returns `None` when it did.

// The limits of journey-v2.md, shared with the document's OpenAPI schema
// (`api::openapi::bodies`): one number, one place. Ranges are inclusive.
pub const MAX_ITEMS: usize = 20;
pub const MAX_DATETIME_CHARS: usize = 64;
pub const EMAIL_CHARS: (usize, usize) = (5, 256);
/// Ids, names, `country`, payment `type`, travel pass `user_id`.
pub const TEXT_CHARS: (usize, usize) = (1, 256);
/// `literal` (an address).
pub const LITERAL_CHARS: (usize, usize) = (1, 512);
pub const SEATS: (i128, i128) = (1, 8);
/// `contribution` and `revenue`, cents.
pub const MONEY: (i128, i128) = (0, 1_000_000);
/// `index` of incentives and payments.
pub const ITEM_INDEX: (i128, i128) = (0, 19);
/// `amount` of incentives (a number) and payments (an integer), cents.
pub const ITEM_AMOUNT: (i128, i128) = (0, 100_000);
/// Metres.
pub const DISTANCE: (i128, i128) = (1, 1_000_000);
/// Seconds.
pub const DURATION: (i128, i128) = (1, 86_400);
pub const LAT: (f64, f64) = (-90.0, 90.0);
pub const LON: (f64, f64) = (-180.0, 180.0);
/// Largest `operator_id` (the store keeps operator ids as signed 64-bit integers).
pub const MAX_OPERATOR_ID: i64 = i64::MAX;

pub(crate) const ROOT_KEYS: &[&str] = &[
    "journey_id",
    "operator_journey_id",
    "operator_class",
    "operator_id",
    "passenger",
    "driver",
];
pub(crate) const PASSENGER_KEYS: &[&str] = &[
    "identity",
    "start",
    "end",
    "seats",
    "contribution",
    "incentives",
    "payments",
    "distance",
    "duration",
];
pub(crate) const DRIVER_KEYS: &[&str] = &[
    "identity",
    "start",
    "end",
    "revenue",
    "incentives",
    "payments",
    "distance",
    "duration",
];
pub(crate) const IDENTITY_KEYS: &[&str] = &[
    "phone",
    "phone_trunc",
    "operator_user_id",
    "firstname",
    "lastname",
    "company",
    "email",
    "over_18",
    "travel_pass",
];
pub(crate) const TRAVEL_PASS_KEYS: &[&str] = &["name", "user_id"];
pub(crate) const POSITION_KEYS: &[&str] =
    &["datetime", "lat", "lon", "insee", "country", "literal"];
pub(crate) const INCENTIVE_KEYS: &[&str] = &["index", "siret", "amount"];
pub(crate) const PAYMENT_KEYS: &[&str] = &["index", "siret", "type", "amount"];

#[derive(Default)]
struct Parser {
    details: Vec<Detail>,
}

/// An object whose keys were checked against the allowed ones.
struct Object<'v> {
    map: &'v Map<String, Value>,
    path: String,
}

/// A member of an object: its value if present, and where it is.
struct Field<'v, 'o> {
    value: Option<&'v Value>,
    at: At<'o>,
}

/// Where a value is: its parent's JSON pointer and its key or index. The pointer itself is
/// only written out for an error or an object (most values are valid leaves: this keeps
/// validation free of one allocation per field).
#[derive(Clone, Copy)]
struct At<'a> {
    parent: &'a str,
    step: Step<'a>,
}

#[derive(Clone, Copy)]
enum Step<'a> {
    /// The parent itself.
    Here,
    Key(&'a str),
    Index(usize),
}

impl<'a> At<'a> {
    fn of(path: &'a str) -> At<'a> {
        At {
            parent: path,
            step: Step::Here,
        }
    }

    fn key(parent: &'a str, key: &'a str) -> At<'a> {
        At {
            parent,
            step: Step::Key(key),
        }
    }

    fn pointer(self) -> String {
        match self.step {
            Step::Here => self.parent.to_owned(),
            Step::Key(key) => pointer(self.parent, key),
            Step::Index(i) => format!("{}/{i}", self.parent),
        }
    }
}

impl<'v> Object<'v> {
    fn field<'o>(&'o self, key: &'o str) -> Field<'v, 'o> {
        Field {
            value: self.map.get(key),
            at: At::key(&self.path, key),
        }
    }

    /// Present, even if null or invalid: decides which dependency errors to report.
    fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }
}

/// `path` + `/key`, with `~` and `/` escaped as RFC 6901 says.
fn pointer(path: &str, key: &str) -> String {
    let mut p = String::with_capacity(path.len() + key.len() + 1);
    p.push_str(path);
    p.push('/');
    // The schema's own names (the usual case) need no escaping.
    if !key.contains(['~', '/']) {
        p.push_str(key);
        return p;
    }
    for c in key.chars() {
        match c {
            '~' => p.push_str("~0"),
            '/' => p.push_str("~1"),
            c => p.push(c),
        }
    }
    p
}

fn text((min, max): (usize, usize)) -> impl Fn(&mut Parser, &Value, At<'_>) -> Option<String> {
    move |p, v, path| p.text(v, path, min, max)
}

fn integer<T: TryFrom<i128>>(
    (min, max): (i128, i128),
) -> impl Fn(&mut Parser, &Value, At<'_>) -> Option<T> {
    move |p, v, path| p.integer(v, path, min, max)
}

fn number((min, max): (f64, f64)) -> impl Fn(&mut Parser, &Value, At<'_>) -> Option<f64> {
    move |p, v, path| p.number(v, path, min, max)
}

fn list<T>(
    item: impl Fn(&mut Parser, &Value, At<'_>) -> Option<T>,
) -> impl Fn(&mut Parser, &Value, At<'_>) -> Option<Vec<T>> {
    move |p, v, path| p.array(v, path, &item)
}

impl Parser {
    fn report(&mut self, at: At<'_>, reason: impl Into<String>) {
        self.details.push(Detail::new(at.pointer(), reason));
    }

    // --- presence -----------------------------------------------------------------------

    fn required<'v, T>(
        &mut self,
        field: Field<'v, '_>,
        read: impl FnOnce(&mut Self, &'v Value, At<'_>) -> Option<T>,
    ) -> Option<T> {
        match field.value {
            None => {
                self.report(field.at, "is required");
                None
            }
            Some(Value::Null) => {
                self.report(field.at, "must not be null");
                None
            }
            Some(v) => read(self, v, field.at),
        }
    }

    /// `Some(None)` when absent, `None` when present and invalid (reported).
    fn optional<'v, T>(
        &mut self,
        field: Field<'v, '_>,
        read: impl FnOnce(&mut Self, &'v Value, At<'_>) -> Option<T>,
    ) -> Option<Option<T>> {
        match field.value {
            None => Some(None),
            Some(Value::Null) => {
                self.report(field.at, "must not be null");
                None
            }
            Some(v) => read(self, v, field.at).map(Some),
        }
    }

    /// Like [`Parser::optional`], `null` meaning absent.
    fn nullable<'v, T>(
        &mut self,
        field: Field<'v, '_>,
        read: impl FnOnce(&mut Self, &'v Value, At<'_>) -> Option<T>,
    ) -> Option<Option<T>> {
        match field.value {
            None | Some(Value::Null) => Some(None),
            Some(v) => read(self, v, field.at).map(Some),
        }
    }

    /// `key` present without `needed`: reported at `needed`'s path.
    fn requires(&mut self, object: &Object<'_>, key: &str, needed: &str) {
        if object.has(key) && !object.has(needed) {
            self.report(
                At::key(&object.path, needed),
                format!("is required with {key}"),
            );
        }
    }

    // --- JSON types ---------------------------------------------------------------------

    fn object<'v>(
        &mut self,
        value: &'v Value,
        path: At<'_>,
        allowed: &[&str],
    ) -> Option<Object<'v>> {
        let Some(map) = value.as_object() else {
            self.report(path, "must be an object");
            return None;
        };
        let base = path.pointer();
        for key in map.keys() {
            if !allowed.contains(&key.as_str()) {
                self.report(At::key(&base, key), "unknown field");
            }
        }
        Some(Object { map, path: base })
    }

    fn array<T>(
        &mut self,
        value: &Value,
        path: At<'_>,
        item: &impl Fn(&mut Self, &Value, At<'_>) -> Option<T>,
    ) -> Option<Vec<T>> {
        let Some(values) = value.as_array() else {
            self.report(path, "must be an array");
            return None;
        };
        // The items of an oversized array are not read: one error, not hundreds.
        if values.len() > MAX_ITEMS {
            self.report(path, format!("must have at most {MAX_ITEMS} items"));
            return None;
        }
        let base = path.pointer();
        let mut items = Vec::with_capacity(values.len());
        let mut all_valid = true;
        for (i, v) in values.iter().enumerate() {
            let at = At {
                parent: &base,
                step: Step::Index(i),
            };
            match item(self, v, at) {
                Some(t) => items.push(t),
                None => all_valid = false,
            }
        }
        all_valid.then_some(items)
    }

    fn string<'v>(&mut self, value: &'v Value, path: At<'_>) -> Option<&'v str> {
        let s = value.as_str();
        if s.is_none() {
            self.report(path, "must be a string");
        }
        s
    }

    /// A string of `min` to `max` characters (not bytes).
    fn text(&mut self, value: &Value, path: At<'_>, min: usize, max: usize) -> Option<String> {
        let s = self.string(value, path)?;
        if !(min..=max).contains(&s.chars().count()) {
            self.report(path, format!("must be {min} to {max} characters"));
            return None;
        }
        Some(s.to_owned())
    }

    fn boolean(&mut self, value: &Value, path: At<'_>) -> Option<bool> {
        let b = value.as_bool();
        if b.is_none() {
            self.report(path, "must be a boolean");
        }
        b
    }

    /// An integer in `min..=max`; `2.0` counts as the integer 2, as in JSON Schema.
    fn integer<T: TryFrom<i128>>(
        &mut self,
        value: &Value,
        path: At<'_>,
        min: i128,
        max: i128,
    ) -> Option<T> {
        let Some(i) = value.as_number().and_then(integral) else {
            self.report(path, "must be an integer");
            return None;
        };
        match T::try_from(i) {
            Ok(t) if (min..=max).contains(&i) => Some(t),
            _ => {
                self.report(path, format!("must be between {min} and {max}"));
                None
            }
        }
    }

    fn number(&mut self, value: &Value, path: At<'_>, min: f64, max: f64) -> Option<f64> {
        let Some(x) = value.as_f64() else {
            self.report(path, "must be a number");
            return None;
        };
        if !(min..=max).contains(&x) {
            self.report(path, format!("must be between {min} and {max}"));
            return None;
        }
        Some(x)
    }

    fn one_of<T: Copy>(&mut self, value: &Value, path: At<'_>, choices: &[(&str, T)]) -> Option<T> {
        let s = self.string(value, path)?;
        let found = choices.iter().find(|(name, _)| *name == s).map(|(_, t)| *t);
        if found.is_none() {
            let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
            self.report(path, format!("must be one of: {}", names.join(", ")));
        }
        found
    }

    // --- formats ------------------------------------------------------------------------

    fn datetime(&mut self, value: &Value, path: At<'_>) -> Option<DateTime<Utc>> {
        let s = self.string(value, path)?;
        if s.chars().count() > MAX_DATETIME_CHARS {
            self.report(
                path,
                format!("must be at most {MAX_DATETIME_CHARS} characters"),
            );
            return None;
        }
        match DateTime::parse_from_rfc3339(s) {
            Ok(dt) => Some(dt.with_timezone(&Utc)),
            Err(_) => {
                self.report(path, "must be an RFC 3339 date-time with offset");
                None
            }
        }
    }

    fn phone(&mut self, value: &Value, path: At<'_>) -> Option<Phone> {
        let s = self.string(value, path)?;
        Phone::parse(s)
            .map_err(|e| self.report(path, e.to_string()))
            .ok()
    }

    fn phone_trunc(&mut self, value: &Value, path: At<'_>) -> Option<PhoneTrunc> {
        let s = self.string(value, path)?;
        PhoneTrunc::parse(s)
            .map_err(|e| self.report(path, e.to_string()))
            .ok()
    }

    fn email(&mut self, value: &Value, path: At<'_>) -> Option<Email> {
        let (min, max) = EMAIL_CHARS;
        let s = self.text(value, path, min, max)?;
        if !plausible_email(&s) {
            self.report(path, "must be a valid e-mail address");
            return None;
        }
        Some(Email(s))
    }

    fn insee(&mut self, value: &Value, path: At<'_>) -> Option<Insee> {
        let s = self.string(value, path)?;
        if !is_insee(s) {
            self.report(
                path,
                "must be an INSEE code: digit, digit or A or B, 3 digits",
            );
            return None;
        }
        Some(Insee(s.to_owned()))
    }

    fn siret(&mut self, value: &Value, path: At<'_>) -> Option<Siret> {
        let s = self.string(value, path)?;
        operator::parse_siret(s)
            .map(Siret)
            .map_err(|reason| self.report(path, reason))
            .ok()
    }

    // --- the document -------------------------------------------------------------------

    fn journey(&mut self, value: &Value) -> Option<Journey> {
        let root = self.object(value, At::of(""), ROOT_KEYS)?;
        let journey_id = self.required(root.field("journey_id"), text(TEXT_CHARS));
        let operator_journey_id =
            self.optional(root.field("operator_journey_id"), text(TEXT_CHARS));
        let operator_class = self.required(root.field("operator_class"), |p, v, path| {
            p.one_of(
                v,
                path,
                &[
                    ("A", OperatorClass::A),
                    ("B", OperatorClass::B),
                    ("C", OperatorClass::C),
                ],
            )
        });
        let operator_id = self.optional(
            root.field("operator_id"),
            integer((0, MAX_OPERATOR_ID.into())),
        );
        let passenger = self.required(root.field("passenger"), Self::passenger);
        let driver = self.required(root.field("driver"), Self::driver);
        Some(Journey {
            journey_id: journey_id?,
            operator_journey_id: operator_journey_id?,
            operator_class: operator_class?,
            operator_id: operator_id?.map(OperatorId),
            passenger: passenger?,
            driver: driver?,
        })
    }

    fn passenger(&mut self, value: &Value, path: At<'_>) -> Option<Passenger> {
        let object = self.object(value, path, PASSENGER_KEYS)?;
        let person = self.person(&object);
        let seats = self.optional(object.field("seats"), integer(SEATS));
        let contribution = self.required(object.field("contribution"), integer(MONEY));
        Some(Passenger {
            person: person?,
            seats: seats?.unwrap_or(1),
            contribution: contribution?,
        })
    }

    fn driver(&mut self, value: &Value, path: At<'_>) -> Option<Driver> {
        let object = self.object(value, path, DRIVER_KEYS)?;
        let person = self.person(&object);
        let revenue = self.required(object.field("revenue"), integer(MONEY));
        Some(Driver {
            person: person?,
            revenue: revenue?,
        })
    }

    fn person(&mut self, object: &Object<'_>) -> Option<Person> {
        let identity = self.required(object.field("identity"), Self::identity);
        let start = self.required(object.field("start"), Self::position);
        let end = self.required(object.field("end"), Self::position);
        let incentives = self.required(object.field("incentives"), list(Self::incentive));
        let payments = self.optional(object.field("payments"), list(Self::payment));
        let distance = self.optional(object.field("distance"), integer(DISTANCE));
        let duration = self.optional(object.field("duration"), integer(DURATION));
        let (start, end) = (start?, end?);
        if start.datetime >= end.datetime {
            self.report(
                At::key(&pointer(&object.path, "end"), "datetime"),
                "must be after start/datetime",
            );
            return None;
        }
        Some(Person {
            identity: identity?,
            start,
            end,
            incentives: incentives?,
            payments: payments?.unwrap_or_default(),
            distance: distance?,
            duration: duration?,
        })
    }

    fn identity(&mut self, value: &Value, path: At<'_>) -> Option<Identity> {
        let object = self.object(value, path, IDENTITY_KEYS)?;
        let phone = self.optional(object.field("phone"), Self::phone);
        let phone_trunc = self.optional(object.field("phone_trunc"), Self::phone_trunc);
        let operator_user_id = self.optional(object.field("operator_user_id"), text(TEXT_CHARS));
        let firstname = self.optional(object.field("firstname"), text(TEXT_CHARS));
        let lastname = self.optional(object.field("lastname"), text(TEXT_CHARS));
        let company = self.optional(object.field("company"), text(TEXT_CHARS));
        let email = self.optional(object.field("email"), Self::email);
        let over_18 = self.nullable(object.field("over_18"), Self::boolean);
        let travel_pass = self.optional(object.field("travel_pass"), Self::travel_pass);
        let identifiers = self.identifiers(&object, phone, phone_trunc, operator_user_id);
        Some(Identity {
            identifiers: identifiers?,
            firstname: firstname?,
            lastname: lastname?,
            company: company?,
            email: email?,
            over_18: over_18?,
            travel_pass: travel_pass?,
        })
    }

    /// The "needs" error only when the keys are missing: a present but invalid phone is
    /// already reported at its own path.
    fn identifiers(
        &mut self,
        object: &Object<'_>,
        phone: Option<Option<Phone>>,
        phone_trunc: Option<Option<PhoneTrunc>>,
        operator_user_id: Option<Option<String>>,
    ) -> Option<Identifiers> {
        let identified =
            object.has("phone") || (object.has("phone_trunc") && object.has("operator_user_id"));
        if !identified {
            self.report(
                At::of(&object.path),
                "needs phone, or phone_trunc and operator_user_id",
            );
            return None;
        }
        match (phone?, phone_trunc?, operator_user_id?) {
            (Some(phone), phone_trunc, operator_user_id) => Some(Identifiers::Phone {
                phone,
                phone_trunc,
                operator_user_id,
            }),
            (None, Some(phone_trunc), Some(operator_user_id)) => Some(Identifiers::Truncated {
                phone_trunc,
                operator_user_id,
            }),
            // Unreachable after the presence check above.
            _ => None,
        }
    }

    fn travel_pass(&mut self, value: &Value, path: At<'_>) -> Option<TravelPass> {
        let object = self.object(value, path, TRAVEL_PASS_KEYS)?;
        let name = self.required(object.field("name"), |p, v, path| {
            p.one_of(v, path, &[("navigo", TravelPassName::Navigo)])
        });
        let user_id = self.required(object.field("user_id"), text(TEXT_CHARS));
        Some(TravelPass {
            name: name?,
            user_id: user_id?,
        })
    }

    fn position(&mut self, value: &Value, path: At<'_>) -> Option<Position> {
        let object = self.object(value, path, POSITION_KEYS)?;
        let datetime = self.required(object.field("datetime"), Self::datetime);
        let lat = self.optional(object.field("lat"), number(LAT));
        let lon = self.optional(object.field("lon"), number(LON));
        let insee = self.optional(object.field("insee"), Self::insee);
        let country = self.optional(object.field("country"), text(TEXT_CHARS));
        let literal = self.optional(object.field("literal"), text(LITERAL_CHARS));
        self.requires(&object, "lat", "lon");
        self.requires(&object, "lon", "lat");
        self.requires(&object, "country", "literal");
        self.requires(&object, "literal", "country");
        if !object.has("lat") && !object.has("lon") && !object.has("insee") {
            self.report(At::of(&object.path), "needs lat and lon, or insee");
        }
        let place = match (lat?, lon?, insee?) {
            (Some(lat), Some(lon), None) => Place::Coordinates(Coordinates { lat, lon }),
            (Some(lat), Some(lon), Some(insee)) => Place::Both(Coordinates { lat, lon }, insee),
            (None, None, Some(insee)) => Place::Insee(insee),
            // Reported above: a missing half of the coordinates, or no place at all.
            _ => return None,
        };
        let address = match (country?, literal?) {
            (Some(country), Some(literal)) => Some(Address { country, literal }),
            (None, None) => None,
            _ => return None,
        };
        Some(Position {
            datetime: datetime?,
            place,
            address,
        })
    }

    fn incentive(&mut self, value: &Value, path: At<'_>) -> Option<Incentive> {
        let object = self.object(value, path, INCENTIVE_KEYS)?;
        let index = self.required(object.field("index"), integer(ITEM_INDEX));
        let siret = self.required(object.field("siret"), Self::siret);
        let amount = self.required(
            object.field("amount"),
            number((ITEM_AMOUNT.0 as f64, ITEM_AMOUNT.1 as f64)),
        );
        Some(Incentive {
            index: index?,
            siret: siret?,
            amount: amount?,
        })
    }

    fn payment(&mut self, value: &Value, path: At<'_>) -> Option<Payment> {
        let object = self.object(value, path, PAYMENT_KEYS)?;
        let index = self.required(object.field("index"), integer(ITEM_INDEX));
        let siret = self.required(object.field("siret"), Self::siret);
        let kind = self.required(object.field("type"), text(TEXT_CHARS));
        let amount = self.required(object.field("amount"), integer(ITEM_AMOUNT));
        Some(Payment {
            index: index?,
            siret: siret?,
            kind: kind?,
            amount: amount?,
        })
    }
}

/// The integer a JSON number stands for, if it has no fractional part. Floats beyond the
/// `i128` range saturate, which every range check then refuses.
fn integral(n: &Number) -> Option<i128> {
    if let Some(i) = n.as_i64() {
        return Some(i.into());
    }
    if let Some(u) = n.as_u64() {
        return Some(u.into());
    }
    let x = n.as_f64()?;
    (x.fract() == 0.0).then_some(x as i128)
}

/// `^[0-9][0-9AB][0-9]{3}$`
pub fn is_insee(s: &str) -> bool {
    match s.as_bytes() {
        [a, b, rest @ ..] if rest.len() == 3 => {
            a.is_ascii_digit()
                && (b.is_ascii_digit() || *b == b'A' || *b == b'B')
                && rest.iter().all(u8::is_ascii_digit)
        }
        _ => false,
    }
}

/// One `@`, a non-empty local part, a domain of non-empty dot-separated labels (at least
/// two), no whitespace or control characters. Deliverability is not ours to check.
fn plausible_email(s: &str) -> bool {
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && domain.split('.').all(|label| !label.is_empty())
}

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;
    use serde_json::json;

    /// The example of journey-v2.md, plus the optional parts the table edits: a payment, a
    /// travel pass, an address.
    fn base() -> Value {
        json!({
            "journey_id": "5f0e7c3a-9d2b-4c41-8f6e-1a2b3c4d5e6f",
            "operator_journey_id": "trip-000123",
            "operator_class": "C",
            "passenger": {
                "identity": {"phone_trunc": "+336123456", "operator_user_id": "usr-p-8841", "over_18": true},
                "start": {"datetime": "2026-11-20T07:30:00Z", "lat": 48.8566, "lon": 2.3522},
                "end":   {"datetime": "2026-11-20T08:15:00Z", "lat": 48.6243, "lon": 2.4432},
                "seats": 1, "contribution": 250, "incentives": [],
                "payments": [{"index": 0, "siret": "12345678900011", "type": "cb", "amount": 100}],
                "distance": 31500, "duration": 2700
            },
            "driver": {
                "identity": {
                    "phone": "+33698765432", "operator_user_id": "usr-d-1207",
                    "travel_pass": {"name": "navigo", "user_id": "nav-1"}
                },
                "start": {"datetime": "2026-11-20T07:30:00Z", "lat": 48.8566, "lon": 2.3522},
                "end":   {
                    "datetime": "2026-11-20T08:15:00Z", "lat": 48.6243, "lon": 2.4432,
                    "country": "France", "literal": "1 place de l'Hôtel de Ville, Évry"
                },
                "revenue": 450,
                "incentives": [{"index": 0, "siret": "12345678900011", "amount": 200}],
                "payments": [], "distance": 31500, "duration": 2700
            }
        })
    }

    /// Sets (`Some`) or removes (`None`) the member at `pointer`; a new array index appends.
    fn edit(doc: &mut Value, pointer: &str, value: Option<Value>) {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        match (doc.pointer_mut(parent).unwrap(), value) {
            (Value::Object(map), Some(v)) => {
                map.insert(key.to_owned(), v);
            }
            (Value::Object(map), None) => {
                map.remove(key);
            }
            (Value::Array(items), Some(v)) => {
                let i: usize = key.parse().unwrap();
                if i < items.len() {
                    items[i] = v;
                } else {
                    items.push(v);
                }
            }
            (Value::Array(items), None) => {
                items.remove(key.parse().unwrap());
            }
            (other, _) => panic!("cannot edit {pointer} in {other}"),
        }
    }

    fn parse_value(doc: &Value) -> Result<Journey, Invalid> {
        parse(&serde_json::to_vec(doc).unwrap())
    }

    fn paths(result: Result<Journey, Invalid>) -> Vec<String> {
        match result {
            Ok(_) => vec![],
            Err(invalid) => invalid.details.into_iter().map(|d| d.path).collect(),
        }
    }

    fn parsed(doc: &Value) -> Journey {
        parse_value(doc).unwrap_or_else(|e| panic!("{:?}", e.details))
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn chars(n: usize) -> Value {
        json!("a".repeat(n))
    }

    #[derive(Clone, Copy, Debug)]
    enum Expect {
        Valid,
        /// Exactly one error, at the edited pointer.
        Here,
        /// Exactly one error, at this path.
        At(&'static str),
    }
    use Expect::{At, Here, Valid};

    fn run(cases: Vec<(&str, Option<Value>, Expect)>) {
        let mut failures = Vec::new();
        for (pointer, value, expect) in cases {
            let mut doc = base();
            edit(&mut doc, pointer, value.clone());
            let got = paths(parse_value(&doc));
            let want: Vec<String> = match expect {
                Valid => vec![],
                Here => vec![pointer.to_owned()],
                At(path) => vec![path.to_owned()],
            };
            if got != want {
                failures.push(format!("{pointer} = {value:?}: got {got:?}, want {want:?}"));
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    fn set(pointer: &str, value: Value, expect: Expect) -> (&str, Option<Value>, Expect) {
        (pointer, Some(value), expect)
    }

    fn remove(pointer: &str, expect: Expect) -> (&str, Option<Value>, Expect) {
        (pointer, None, expect)
    }

    fn incentives(n: usize) -> Value {
        (0..n)
            .map(|i| json!({"index": i % 20, "siret": "12345678900011", "amount": 1}))
            .collect()
    }

    fn payments(n: usize) -> Value {
        (0..n)
            .map(|i| json!({"index": i % 20, "siret": "12345678900011", "type": "cb", "amount": 0}))
            .collect()
    }

    #[test]
    fn the_base_document_is_valid() {
        assert_eq!(paths(parse_value(&base())), Vec::<String>::new());
    }

    #[test]
    fn root_fields_on_each_side_of_their_bounds() {
        run(vec![
            set("/journey_id", json!(""), Here),
            set("/journey_id", json!("a"), Valid),
            set("/journey_id", chars(256), Valid),
            set("/journey_id", chars(257), Here),
            set("/journey_id", json!("é".repeat(256)), Valid),
            set("/journey_id", json!("é".repeat(257)), Here),
            remove("/journey_id", Here),
            set("/journey_id", Value::Null, Here),
            set("/journey_id", json!(1), Here),
            remove("/operator_journey_id", Valid),
            set("/operator_journey_id", json!(""), Here),
            set("/operator_journey_id", chars(256), Valid),
            set("/operator_journey_id", chars(257), Here),
            set("/operator_journey_id", Value::Null, Here),
            set("/operator_journey_id", json!(5), Here),
            set("/operator_class", json!("A"), Valid),
            set("/operator_class", json!("B"), Valid),
            set("/operator_class", json!("D"), Here),
            set("/operator_class", json!("c"), Here),
            remove("/operator_class", Here),
            set("/operator_class", Value::Null, Here),
            set("/operator_class", json!(3), Here),
            set("/operator_id", json!(0), Valid),
            set("/operator_id", json!(12), Valid),
            set("/operator_id", json!(12.0), Valid),
            set("/operator_id", json!(i64::MAX), Valid),
            set("/operator_id", json!(i64::MAX as u64 + 1), Here),
            set("/operator_id", json!(-1), Here),
            set("/operator_id", json!(1.5), Here),
            set("/operator_id", json!(1e300), Here),
            set("/operator_id", json!("12"), Here),
            set("/operator_id", Value::Null, Here),
            remove("/passenger", Here),
            set("/passenger", Value::Null, Here),
            set("/passenger", json!([]), Here),
            remove("/driver", Here),
            set("/driver", json!("x"), Here),
            set("/extra", json!(1), Here),
        ]);
    }

    #[test]
    fn person_fields_on_each_side_of_their_bounds() {
        run(vec![
            remove("/passenger/identity", Here),
            set("/passenger/identity", Value::Null, Here),
            set("/passenger/identity", json!([]), Here),
            remove("/passenger/start", Here),
            remove("/driver/end", Here),
            set("/driver/start", json!("x"), Here),
            set("/passenger/seats", json!(1), Valid),
            set("/passenger/seats", json!(8), Valid),
            set("/passenger/seats", json!(0), Here),
            set("/passenger/seats", json!(9), Here),
            set("/passenger/seats", json!(2.0), Valid),
            set("/passenger/seats", json!(2.5), Here),
            set("/passenger/seats", json!("2"), Here),
            set("/passenger/seats", Value::Null, Here),
            remove("/passenger/seats", Valid),
            set("/driver/seats", json!(1), Here),
            set("/passenger/contribution", json!(0), Valid),
            set("/passenger/contribution", json!(1_000_000), Valid),
            set("/passenger/contribution", json!(-1), Here),
            set("/passenger/contribution", json!(1_000_001), Here),
            set("/passenger/contribution", json!(1.5), Here),
            set("/passenger/contribution", Value::Null, Here),
            remove("/passenger/contribution", Here),
            set("/passenger/revenue", json!(1), Here),
            set("/driver/contribution", json!(1), Here),
            set("/driver/revenue", json!(0), Valid),
            set("/driver/revenue", json!(1_000_000), Valid),
            set("/driver/revenue", json!(-1), Here),
            set("/driver/revenue", json!(1_000_001), Here),
            set("/driver/revenue", json!("450"), Here),
            remove("/driver/revenue", Here),
            set("/passenger/distance", json!(1), Valid),
            set("/passenger/distance", json!(1_000_000), Valid),
            set("/passenger/distance", json!(0), Here),
            set("/passenger/distance", json!(1_000_001), Here),
            set("/passenger/distance", Value::Null, Here),
            remove("/passenger/distance", Valid),
            set("/driver/duration", json!(1), Valid),
            set("/driver/duration", json!(86_400), Valid),
            set("/driver/duration", json!(0), Here),
            set("/driver/duration", json!(86_401), Here),
            remove("/driver/duration", Valid),
            set("/driver/extra", json!({}), Here),
        ]);
    }

    #[test]
    fn incentives_and_payments_on_each_side_of_their_bounds() {
        run(vec![
            set("/passenger/incentives", json!([]), Valid),
            set("/passenger/incentives", incentives(20), Valid),
            set("/passenger/incentives", incentives(21), Here),
            set("/passenger/incentives", json!({}), Here),
            set("/passenger/incentives", Value::Null, Here),
            remove("/passenger/incentives", Here),
            set("/driver/incentives/0", Value::Null, Here),
            set("/driver/incentives/0", json!("x"), Here),
            set("/driver/incentives/0/index", json!(0), Valid),
            set("/driver/incentives/0/index", json!(19), Valid),
            set("/driver/incentives/0/index", json!(-1), Here),
            set("/driver/incentives/0/index", json!(20), Here),
            set("/driver/incentives/0/index", json!("0"), Here),
            remove("/driver/incentives/0/index", Here),
            set("/driver/incentives/0/siret", json!("1234567890001"), Here),
            set("/driver/incentives/0/siret", json!("123456789000111"), Here),
            set("/driver/incentives/0/siret", json!("1234567890001a"), Here),
            set(
                "/driver/incentives/0/siret",
                json!(12345678900011_u64),
                Here,
            ),
            remove("/driver/incentives/0/siret", Here),
            set("/driver/incentives/0/amount", json!(0), Valid),
            set("/driver/incentives/0/amount", json!(100_000), Valid),
            set("/driver/incentives/0/amount", json!(12.5), Valid),
            set("/driver/incentives/0/amount", json!(100_000.5), Here),
            set("/driver/incentives/0/amount", json!(-0.5), Here),
            set("/driver/incentives/0/amount", json!("1"), Here),
            set("/driver/incentives/0/amount", Value::Null, Here),
            remove("/driver/incentives/0/amount", Here),
            set("/driver/incentives/0/extra", json!(1), Here),
            set(
                "/driver/incentives/1",
                json!({"index": 1, "siret": "x", "amount": 1}),
                At("/driver/incentives/1/siret"),
            ),
            remove("/passenger/payments", Valid),
            set("/passenger/payments", json!([]), Valid),
            set("/passenger/payments", payments(20), Valid),
            set("/passenger/payments", payments(21), Here),
            set("/passenger/payments", json!({}), Here),
            set("/passenger/payments", Value::Null, Here),
            set("/passenger/payments/0/index", json!(19), Valid),
            set("/passenger/payments/0/index", json!(20), Here),
            set("/passenger/payments/0/index", json!(-1), Here),
            set("/passenger/payments/0/siret", json!("1234567890001"), Here),
            set("/passenger/payments/0/type", json!(""), Here),
            set("/passenger/payments/0/type", chars(256), Valid),
            set("/passenger/payments/0/type", chars(257), Here),
            set("/passenger/payments/0/type", json!(1), Here),
            remove("/passenger/payments/0/type", Here),
            set("/passenger/payments/0/amount", json!(0), Valid),
            set("/passenger/payments/0/amount", json!(100_000), Valid),
            set("/passenger/payments/0/amount", json!(-1), Here),
            set("/passenger/payments/0/amount", json!(100_001), Here),
            set("/passenger/payments/0/amount", json!(1.5), Here),
            remove("/passenger/payments/0/amount", Here),
            set("/passenger/payments/0/extra", json!(1), Here),
        ]);
    }

    #[test]
    fn identity_fields_on_each_side_of_their_bounds() {
        run(vec![
            set("/driver/identity/phone", json!("06 98 76 54 32"), Valid),
            set(
                "/driver/identity/phone",
                json!("+33 6 98 76 54 32   "),
                Valid,
            ),
            set(
                "/driver/identity/phone",
                json!("+33 6 98 76 54 32    "),
                Here,
            ),
            set("/driver/identity/phone", json!("069876543"), Here),
            set("/driver/identity/phone", json!("0098765432"), Here),
            set("/driver/identity/phone", json!(698765432), Here),
            set("/driver/identity/phone", Value::Null, Here),
            remove("/driver/identity/phone", At("/driver/identity")),
            set("/passenger/identity/phone", json!("+44 7911 123456"), Valid),
            set("/passenger/identity/phone_trunc", json!("06987654"), Valid),
            set("/passenger/identity/phone_trunc", json!("0698765"), Here),
            set(
                "/passenger/identity/phone_trunc",
                json!("+33 6 12 34 56      "),
                Valid,
            ),
            set(
                "/passenger/identity/phone_trunc",
                json!("+33 6 12 34 56       "),
                Here,
            ),
            set("/passenger/identity/phone_trunc", json!("00987654"), Here),
            set("/passenger/identity/phone_trunc", Value::Null, Here),
            remove("/passenger/identity/phone_trunc", At("/passenger/identity")),
            remove(
                "/passenger/identity/operator_user_id",
                At("/passenger/identity"),
            ),
            set("/passenger/identity/operator_user_id", json!("a"), Valid),
            set("/passenger/identity/operator_user_id", chars(256), Valid),
            set("/passenger/identity/operator_user_id", json!(""), Here),
            set("/passenger/identity/operator_user_id", chars(257), Here),
            set("/passenger/identity/operator_user_id", json!(8841), Here),
            remove("/driver/identity/operator_user_id", Valid),
            set("/driver/identity/firstname", json!("a"), Valid),
            set("/driver/identity/firstname", chars(256), Valid),
            set("/driver/identity/firstname", json!(""), Here),
            set("/driver/identity/firstname", chars(257), Here),
            set("/driver/identity/firstname", Value::Null, Here),
            set("/driver/identity/lastname", chars(256), Valid),
            set("/driver/identity/lastname", json!(""), Here),
            set("/driver/identity/lastname", chars(257), Here),
            set("/driver/identity/company", chars(256), Valid),
            set("/driver/identity/company", json!(""), Here),
            set("/driver/identity/company", chars(257), Here),
            set("/driver/identity/email", json!("a@b.c"), Valid),
            set("/driver/identity/email", json!("a@bc"), Here),
            set(
                "/driver/identity/email",
                json!(format!("{}@b.com", "a".repeat(250))),
                Valid,
            ),
            set(
                "/driver/identity/email",
                json!(format!("{}@b.com", "a".repeat(251))),
                Here,
            ),
            set("/driver/identity/email", json!("a b@c.de"), Here),
            set("/driver/identity/email", json!("a@b@c.de"), Here),
            set("/driver/identity/email", json!("@bc.de"), Here),
            set("/driver/identity/email", json!("abc@de"), Here),
            set("/driver/identity/email", json!("ab@c..de"), Here),
            set("/driver/identity/email", json!("ab@.cd"), Here),
            set("/driver/identity/email", json!("ab@cd."), Here),
            set("/driver/identity/email", json!(5), Here),
            set("/driver/identity/email", Value::Null, Here),
            set("/passenger/identity/over_18", json!(false), Valid),
            set("/passenger/identity/over_18", Value::Null, Valid),
            remove("/passenger/identity/over_18", Valid),
            set("/passenger/identity/over_18", json!("yes"), Here),
            set("/passenger/identity/over_18", json!(1), Here),
            set("/driver/identity/travel_pass", Value::Null, Here),
            set("/driver/identity/travel_pass", json!("navigo"), Here),
            remove("/driver/identity/travel_pass", Valid),
            set("/driver/identity/travel_pass/name", json!("Navigo"), Here),
            set("/driver/identity/travel_pass/name", json!("other"), Here),
            remove("/driver/identity/travel_pass/name", Here),
            set("/driver/identity/travel_pass/user_id", json!("a"), Valid),
            set("/driver/identity/travel_pass/user_id", chars(256), Valid),
            set("/driver/identity/travel_pass/user_id", json!(""), Here),
            set("/driver/identity/travel_pass/user_id", chars(257), Here),
            remove("/driver/identity/travel_pass/user_id", Here),
            set("/driver/identity/travel_pass/extra", json!(1), Here),
            set("/driver/identity/extra", json!(1), Here),
        ]);
    }

    #[test]
    fn position_fields_on_each_side_of_their_bounds() {
        let fraction = |n: usize| json!(format!("2026-11-20T07:30:00.{}Z", "1".repeat(n)));
        run(vec![
            remove("/passenger/start/datetime", Here),
            set("/passenger/start/datetime", Value::Null, Here),
            set("/passenger/start/datetime", json!(1), Here),
            set(
                "/passenger/start/datetime",
                json!("2026-11-20T07:30:00"),
                Here,
            ),
            set("/passenger/start/datetime", json!("2026-11-20"), Here),
            set("/passenger/start/datetime", json!("20/11/2026 07:30"), Here),
            set(
                "/passenger/start/datetime",
                json!("2026-11-20T07:30:00+01:00"),
                Valid,
            ),
            set(
                "/passenger/start/datetime",
                json!("2026-11-20T07:30:00.123456789Z"),
                Valid,
            ),
            // 64 characters, then 65.
            set("/passenger/start/datetime", fraction(43), Valid),
            set("/passenger/start/datetime", fraction(44), Here),
            set("/passenger/start/lat", json!(90), Valid),
            set("/passenger/start/lat", json!(-90), Valid),
            set("/passenger/start/lat", json!(90.000001), Here),
            set("/passenger/start/lat", json!(-90.000001), Here),
            set("/passenger/start/lat", json!("48.8"), Here),
            set("/passenger/start/lat", Value::Null, Here),
            remove("/passenger/start/lat", Here),
            set("/passenger/start/lon", json!(180), Valid),
            set("/passenger/start/lon", json!(-180), Valid),
            set("/passenger/start/lon", json!(180.000001), Here),
            set("/passenger/start/lon", json!(-180.000001), Here),
            remove("/passenger/start/lon", Here),
            set("/passenger/start/insee", json!("75056"), Valid),
            set("/passenger/start/insee", json!("2A004"), Valid),
            set("/passenger/start/insee", json!("2B033"), Valid),
            set("/passenger/start/insee", json!("2C004"), Here),
            set("/passenger/start/insee", json!("2a004"), Here),
            set("/passenger/start/insee", json!("A5056"), Here),
            set("/passenger/start/insee", json!("7505"), Here),
            set("/passenger/start/insee", json!("750560"), Here),
            set("/passenger/start/insee", json!("7505a"), Here),
            set("/passenger/start/insee", json!(75056), Here),
            set("/passenger/start/insee", Value::Null, Here),
            set(
                "/passenger/start",
                json!({"datetime": "2026-11-20T07:30:00Z", "insee": "75056"}),
                Valid,
            ),
            set(
                "/passenger/start",
                json!({"datetime": "2026-11-20T07:30:00Z"}),
                Here,
            ),
            set(
                "/passenger/start",
                json!({"datetime": "2026-11-20T07:30:00Z", "lat": 1}),
                At("/passenger/start/lon"),
            ),
            set(
                "/passenger/start",
                json!({"datetime": "2026-11-20T07:30:00Z", "lon": 1, "insee": "75056"}),
                At("/passenger/start/lat"),
            ),
            set(
                "/passenger/start/country",
                json!("France"),
                At("/passenger/start/literal"),
            ),
            set(
                "/passenger/start/literal",
                json!("Paris"),
                At("/passenger/start/country"),
            ),
            set("/driver/end/country", json!("a"), Valid),
            set("/driver/end/country", chars(256), Valid),
            set("/driver/end/country", json!(""), Here),
            set("/driver/end/country", chars(257), Here),
            remove("/driver/end/country", Here),
            set("/driver/end/literal", chars(512), Valid),
            set("/driver/end/literal", json!(""), Here),
            set("/driver/end/literal", chars(513), Here),
            set("/driver/end/literal", json!(1), Here),
            remove("/driver/end/literal", Here),
            set("/passenger/start/extra", json!(1), Here),
        ]);
    }

    #[test]
    fn start_is_strictly_before_end_as_instants() {
        run(vec![
            set(
                "/passenger/end/datetime",
                json!("2026-11-20T07:30:01Z"),
                Valid,
            ),
            set(
                "/passenger/end/datetime",
                json!("2026-11-20T07:30:00Z"),
                Here,
            ),
            set(
                "/passenger/end/datetime",
                json!("2026-11-20T07:29:59Z"),
                Here,
            ),
            // Same instant as the start, written in another offset.
            set(
                "/passenger/end/datetime",
                json!("2026-11-20T08:30:00+01:00"),
                Here,
            ),
            // 07:00Z: earlier than the end although written "09:00".
            set(
                "/passenger/start/datetime",
                json!("2026-11-20T09:00:00+02:00"),
                Valid,
            ),
            set(
                "/driver/start/datetime",
                json!("2026-11-20T08:15:00Z"),
                At("/driver/end/datetime"),
            ),
        ]);
    }

    #[test]
    fn unknown_keys_are_reported_with_escaped_pointers() {
        let mut doc = base();
        edit(&mut doc, "/passenger/identity/x", Some(json!(1)));
        doc["a/b~c"] = json!(1);
        assert_eq!(
            parse_value(&doc).unwrap_err().details,
            vec![
                Detail::new("/a~1b~0c", "unknown field"),
                Detail::new("/passenger/identity/x", "unknown field"),
            ]
        );
    }

    #[test]
    fn all_violations_are_reported_at_once() {
        let mut doc = base();
        edit(&mut doc, "/passenger/seats", Some(json!(9)));
        edit(&mut doc, "/driver/identity/phone", None);
        edit(
            &mut doc,
            "/driver/start/datetime",
            Some(json!("2026-11-20T07:30:00")),
        );
        let invalid = parse_value(&doc).unwrap_err();
        assert_eq!(
            invalid.details,
            vec![
                Detail::new("/passenger/seats", "must be between 1 and 8"),
                Detail::new(
                    "/driver/identity",
                    "needs phone, or phone_trunc and operator_user_id"
                ),
                Detail::new(
                    "/driver/start/datetime",
                    "must be an RFC 3339 date-time with offset"
                ),
            ]
        );
        let error = invalid.into_bad_request();
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert_eq!(error.code, "invalid_journey");
        assert_eq!(error.message, "3 errors in the journey");
        assert_eq!(error.details.len(), 3);
    }

    #[test]
    fn errors_in_every_part_are_collected() {
        let mut doc = base();
        edit(&mut doc, "/journey_id", Some(json!("")));
        edit(
            &mut doc,
            "/passenger/identity/phone_trunc",
            Some(json!("1")),
        );
        edit(&mut doc, "/passenger/end/lat", Some(json!(100)));
        edit(&mut doc, "/passenger/payments/0/amount", Some(json!(-5)));
        edit(&mut doc, "/driver/incentives/0/siret", None);
        edit(&mut doc, "/driver/revenue", None);
        assert_eq!(
            paths(parse_value(&doc)),
            [
                "/journey_id",
                "/passenger/identity/phone_trunc",
                "/passenger/end/lat",
                "/passenger/payments/0/amount",
                "/driver/incentives/0/siret",
                "/driver/revenue",
            ]
        );
    }

    #[test]
    fn the_journey_is_normalised() {
        let mut doc = base();
        edit(&mut doc, "/passenger/seats", None);
        edit(&mut doc, "/passenger/payments", None);
        edit(
            &mut doc,
            "/passenger/identity/phone_trunc",
            Some(json!("06 12 34 56")),
        );
        edit(
            &mut doc,
            "/driver/identity/phone",
            Some(json!("06 98 76 54 32")),
        );
        edit(
            &mut doc,
            "/driver/start/datetime",
            Some(json!("2026-11-20T08:30:00+01:00")),
        );
        edit(&mut doc, "/driver/start/insee", Some(json!("2A004")));
        edit(
            &mut doc,
            "/passenger/end",
            Some(json!({"datetime": "2026-11-20T08:15:00Z", "insee": "91228"})),
        );
        let j = parsed(&doc);
        assert_eq!(j.operator_class, OperatorClass::C);
        assert_eq!(j.operator_id, None);
        assert_eq!(j.operator_journey_id.as_deref(), Some("trip-000123"));
        assert_eq!(j.passenger.seats, 1);
        assert_eq!(j.passenger.contribution, 250);
        assert!(j.passenger.person.payments.is_empty());
        let p = &j.passenger.person.identity;
        assert_eq!(p.phone(), None);
        assert_eq!(p.phone_trunc().map(PhoneTrunc::as_str), Some("+336123456"));
        assert_eq!(p.operator_user_id(), Some("usr-p-8841"));
        assert_eq!(p.over_18, Some(true));
        let d = &j.driver.person.identity;
        assert_eq!(d.phone().map(Phone::as_str), Some("+33698765432"));
        assert_eq!(d.truncated_phone().unwrap().as_str(), "+336987654");
        assert_eq!(d.over_18, None);
        assert_eq!(
            d.travel_pass,
            Some(TravelPass {
                name: TravelPassName::Navigo,
                user_id: "nav-1".into()
            })
        );
        let start = &j.driver.person.start;
        assert_eq!(start.datetime, at("2026-11-20T07:30:00Z"));
        assert_eq!(start.place.insee().map(Insee::as_str), Some("2A004"));
        assert_eq!(
            start.place.coordinates().map(|c| (c.lat(), c.lon())),
            Some((48.8566, 2.3522))
        );
        assert!(matches!(j.passenger.person.end.place, Place::Insee(_)));
        assert!(matches!(
            j.passenger.person.start.place,
            Place::Coordinates(_)
        ));
        assert_eq!(
            j.driver.person.end.address,
            Some(Address {
                country: "France".into(),
                literal: "1 place de l'Hôtel de Ville, Évry".into()
            })
        );
        assert_eq!(j.driver.person.incentives[0].amount, 200.0);
        assert_eq!(
            j.driver.person.incentives[0].siret.as_str(),
            "12345678900011"
        );
        assert_eq!(j.driver.person.distance, Some(31_500));
    }

    #[test]
    fn bodies_that_are_not_a_json_object_give_one_error_at_the_root() {
        let deep_arrays = "[".repeat(10_000);
        let deep_objects = "{\"a\":".repeat(10_000);
        let deep_inside = format!("{{\"journey_id\": {}", "[".repeat(10_000));
        let bodies: Vec<&[u8]> = vec![
            b"",
            b"   ",
            b"\xff\xfe",
            b"{\"journey_id\": \"\xff\"}",
            b"{\"journey_id\": ",
            b"{'journey_id': 1}",
            b"\xef\xbb\xbf{}",
            deep_arrays.as_bytes(),
            deep_objects.as_bytes(),
            deep_inside.as_bytes(),
        ];
        for body in bodies {
            let invalid = parse(body).unwrap_err();
            assert_eq!(invalid.details.len(), 1, "{:?}", invalid.details);
            assert_eq!(invalid.details[0].path, "");
            assert!(invalid.details[0]
                .reason
                .starts_with("must be a JSON document"));
        }
        for body in [&b"[]"[..], b"\"journey\"", b"null", b"42"] {
            assert_eq!(
                parse(body).unwrap_err().details,
                vec![Detail::new("", "must be an object")]
            );
        }
        // Nesting serde_json accepts, under an unknown key: reported, never walked.
        let nested = format!("{{\"x\": {}{}}}", "[".repeat(100), "]".repeat(100));
        assert!(paths(parse(nested.as_bytes())).contains(&"/x".to_owned()));
    }

    #[test]
    fn an_empty_object_lists_every_required_root_field() {
        assert_eq!(
            paths(parse(b"{}")),
            ["/journey_id", "/operator_class", "/passenger", "/driver"]
        );
    }

    // --- check (422) ----------------------------------------------------------------------

    fn check_paths(doc: &Value, received_at: &str) -> Vec<String> {
        match check(&parsed(doc), at(received_at)) {
            Ok(()) => vec![],
            Err(invalid) => invalid.details.into_iter().map(|d| d.path).collect(),
        }
    }

    #[test]
    fn dates_may_be_up_to_5_minutes_after_the_reception() {
        let doc = base();
        assert!(check_paths(&doc, "2026-11-21T09:00:00Z").is_empty());
        // Ends at 08:15: exactly 5 minutes after reception is accepted, 1 s more is not.
        assert!(check_paths(&doc, "2026-11-20T08:10:00Z").is_empty());
        assert_eq!(
            check_paths(&doc, "2026-11-20T08:09:59Z"),
            ["/passenger/end/datetime", "/driver/end/datetime"]
        );
        assert_eq!(
            check_paths(&doc, "2026-11-20T07:25:00Z"),
            ["/passenger/end/datetime", "/driver/end/datetime"]
        );
        assert_eq!(
            check_paths(&doc, "2026-11-20T07:24:59Z"),
            [
                "/passenger/start/datetime",
                "/passenger/end/datetime",
                "/driver/start/datetime",
                "/driver/end/datetime"
            ]
        );
    }

    #[test]
    fn payments_may_total_up_to_the_contribution() {
        let received = "2026-11-21T09:00:00Z";
        let mut doc = base();
        let pay = |amounts: &[u32]| -> Value {
            amounts
                .iter()
                .enumerate()
                .map(|(i, a)| json!({"index": i, "siret": "12345678900011", "type": "cb", "amount": a}))
                .collect()
        };
        edit(&mut doc, "/passenger/payments", Some(pay(&[200, 50])));
        assert!(check_paths(&doc, received).is_empty());
        edit(&mut doc, "/passenger/payments", Some(pay(&[200, 51])));
        assert_eq!(check_paths(&doc, received), ["/passenger/payments"]);
        edit(&mut doc, "/passenger/contribution", Some(json!(0)));
        edit(&mut doc, "/passenger/payments", Some(pay(&[0])));
        assert!(check_paths(&doc, received).is_empty());
        edit(&mut doc, "/passenger/payments", Some(pay(&[1])));
        assert_eq!(check_paths(&doc, received), ["/passenger/payments"]);
        // The driver's payments are not compared with its revenue.
        edit(&mut doc, "/passenger/payments", None);
        edit(&mut doc, "/driver/payments", Some(pay(&[100_000])));
        assert!(check_paths(&doc, received).is_empty());
    }

    #[test]
    fn driver_and_passenger_must_be_two_people() {
        let received = "2026-11-21T09:00:00Z";
        let with = |pointer: &str, value: Value| {
            let mut doc = base();
            edit(&mut doc, pointer, Some(value));
            check_paths(&doc, received)
        };
        // Same phone once normalised; one digit apart is someone else.
        assert_eq!(
            with("/passenger/identity/phone", json!("06 98 76 54 32")),
            ["/driver/identity/phone"]
        );
        assert!(with("/passenger/identity/phone", json!("06 98 76 54 33")).is_empty());
        // Same truncated phone and operator user id, whether sent or derived from a phone.
        let same = json!({"phone_trunc": "06 12 34 56", "operator_user_id": "usr-p-8841"});
        assert_eq!(with("/driver/identity", same), ["/driver/identity"]);
        let derived = json!({"phone": "+33612345678", "operator_user_id": "usr-p-8841"});
        assert_eq!(with("/driver/identity", derived), ["/driver/identity"]);
        let other_user = json!({"phone_trunc": "06 12 34 56", "operator_user_id": "usr-p-8842"});
        assert!(with("/driver/identity", other_user).is_empty());
        let other_trunc = json!({"phone_trunc": "06 12 34 57", "operator_user_id": "usr-p-8841"});
        assert!(with("/driver/identity", other_trunc).is_empty());
    }

    #[test]
    fn all_impossibilities_are_reported_at_once_as_422() {
        let mut doc = base();
        edit(&mut doc, "/passenger/payments/0/amount", Some(json!(251)));
        edit(
            &mut doc,
            "/passenger/identity/phone",
            Some(json!("+33698765432")),
        );
        let error = check(&parsed(&doc), at("2026-11-20T08:00:00Z"))
            .unwrap_err()
            .into_unprocessable();
        assert_eq!(error.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error.code, "impossible_journey");
        assert_eq!(error.message, "4 errors in the journey");
        let paths: Vec<&str> = error.details.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/passenger/end/datetime",
                "/driver/end/datetime",
                "/passenger/payments",
                "/driver/identity/phone"
            ]
        );
    }

    #[test]
    fn late_from_120_hours_after_the_later_end() {
        let mut doc = base();
        edit(
            &mut doc,
            "/driver/end/datetime",
            Some(json!("2026-11-20T08:20:00Z")),
        );
        let j = parsed(&doc);
        let last_end = at("2026-11-20T08:20:00Z");
        assert!(!late(&j, last_end));
        assert!(!late(
            &j,
            last_end + TimeDelta::hours(120) - TimeDelta::seconds(1)
        ));
        assert!(late(&j, last_end + TimeDelta::hours(120)));
        // Measured from the driver's end, not the passenger's (5 minutes earlier).
        assert!(!late(
            &j,
            at("2026-11-20T08:15:00Z") + TimeDelta::hours(120)
        ));
    }

    #[test]
    fn the_core_example_document_is_valid_and_possible() {
        let now = at("2026-11-20T12:00:00Z");
        let j = parsed(&crate::domain::journey::example_document("j-1", now));
        assert_eq!(check(&j, now), Ok(()));
        assert!(!late(&j, now));
    }

    #[test]
    fn one_error_says_so() {
        let error = Invalid::at("/x", "y").into_bad_request();
        assert_eq!(error.message, "1 error in the journey");
    }
}
