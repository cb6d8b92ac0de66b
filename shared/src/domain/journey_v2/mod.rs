//! The journey v2 document of `POST /v2/journeys` (shared/journey-v2.md).
//!
//! * [`parse`]: the schema (400). The body becomes a [`Journey`] or every violation is
//!   listed at once, each with its JSON pointer.
//! * [`check`]: what is well-formed but impossible (422): future dates, payments above the
//!   contribution, driver and passenger being the same person.
//! * [`late`]: received 120 h or more after its end (stored with status `expired`).

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

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
    /// A code as stored (checked again, never trusted blindly).
    pub fn parse(s: &str) -> Option<Insee> {
        reader::is_insee(s).then(|| Insee(s.to_owned()))
    }

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

/// The body as a JSON value (400 when it is not JSON or repeats a key in an object).
pub fn json_value(body: &[u8]) -> Result<Value, Invalid> {
    // serde_json refuses nesting deeper than 128 levels with an error: no stack overflow.
    crate::domain::json::from_slice(body).map_err(|e| Invalid {
        details: vec![e.into_detail(|e| format!("must be a JSON document ({e})"))],
    })
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

mod reader;
mod schema;

pub use reader::is_insee;
use reader::{At, Parser};
pub use schema::*;

#[cfg(test)]
pub(crate) mod properties;

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
            set("/journey_id", json!("Trajet n°42 — Zoé"), Valid),
            set("/journey_id", json!("李"), Valid),
            set("/journey_id", json!("a\u{0}b"), Here),
            set("/journey_id", json!("a\nb"), Here),
            set("/journey_id", json!("a\u{9b}b"), Here),
            set("/journey_id", json!("\u{202E}cod.exe"), Here),
            set("/journey_id", json!("\u{2067}a"), Here),
            set("/journey_id", json!("\u{200F}a"), Here),
            set("/journey_id", json!("\u{FEFF}a"), Here),
            set("/operator_journey_id", json!("trip\r\n"), Here),
            set("/operator_journey_id", json!("Trajet n°42"), Valid),
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
            set(
                "/passenger/identity/operator_user_id",
                json!("Zoé-李"),
                Valid,
            ),
            set(
                "/passenger/identity/operator_user_id",
                json!("u\u{202D}1"),
                Here,
            ),
            set("/passenger/identity/operator_user_id", json!("u\t1"), Here),
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
