//! The schema of journey-v2.md: its limits, its keys, and the reader of each object.

use serde_json::Value;

use super::reader::{identifier, integer, list, number, pointer, text, At, Object, Parser};
use super::*;

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

impl Parser {
    pub(super) fn journey(&mut self, value: &Value) -> Option<Journey> {
        let root = self.object(value, At::of(""), ROOT_KEYS)?;
        let journey_id = self.required(root.field("journey_id"), identifier(TEXT_CHARS));
        let operator_journey_id =
            self.optional(root.field("operator_journey_id"), identifier(TEXT_CHARS));
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

    pub(super) fn passenger(&mut self, value: &Value, path: At<'_>) -> Option<Passenger> {
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

    pub(super) fn driver(&mut self, value: &Value, path: At<'_>) -> Option<Driver> {
        let object = self.object(value, path, DRIVER_KEYS)?;
        let person = self.person(&object);
        let revenue = self.required(object.field("revenue"), integer(MONEY));
        Some(Driver {
            person: person?,
            revenue: revenue?,
        })
    }

    pub(super) fn person(&mut self, object: &Object<'_>) -> Option<Person> {
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

    pub(super) fn identity(&mut self, value: &Value, path: At<'_>) -> Option<Identity> {
        let object = self.object(value, path, IDENTITY_KEYS)?;
        let phone = self.optional(object.field("phone"), Self::phone);
        let phone_trunc = self.optional(object.field("phone_trunc"), Self::phone_trunc);
        let operator_user_id =
            self.optional(object.field("operator_user_id"), identifier(TEXT_CHARS));
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
    pub(super) fn identifiers(
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

    pub(super) fn travel_pass(&mut self, value: &Value, path: At<'_>) -> Option<TravelPass> {
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

    pub(super) fn position(&mut self, value: &Value, path: At<'_>) -> Option<Position> {
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

    pub(super) fn incentive(&mut self, value: &Value, path: At<'_>) -> Option<Incentive> {
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

    pub(super) fn payment(&mut self, value: &Value, path: At<'_>) -> Option<Payment> {
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
