//! Schemas of the request bodies that hand-written validators read (no serde type to
//! derive them from): the journey v2 document (`domain::journey_v2`), the CEE requests
//! (`cee::fields`, `cee::imports`) and the certificate request (`domain::certificate`).
//! Limits come from the validators' constants, and the property names of each object are
//! checked against the validators' key lists (tests below).
//!
//! What JSON Schema cannot say (a phone number valid for libphonenumber, `start` before
//! `end`, the 422 checks, …) is in the descriptions; the validators answer 400 for it.

use serde_json::json;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::schema::{
    AdditionalProperties, AllOfBuilder, AnyOfBuilder, ArrayBuilder, ObjectBuilder, OneOfBuilder,
    Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{KnownFormat, RefOr};

use super::Schemas;
use crate::cee::imports;
use crate::domain::journey_v2 as v2;
use crate::domain::{certificate, phone};

mod cee;
pub use cee::{cee_import, cee_import_identity, cee_registration, cee_simulation};

fn text((min, max): (usize, usize)) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(min))
        .max_length(Some(max))
}

fn integer((min, max): (i128, i128)) -> ObjectBuilder {
    // Every limit fits an i64 (the largest is `operator_id`'s i64::MAX).
    let n = |x: i128| i64::try_from(x).unwrap_or(i64::MAX);
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(n(min)))
        .maximum(Some(n(max)))
}

fn number((min, max): (f64, f64)) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Number)
        .minimum(Some(min))
        .maximum(Some(max))
}

fn pattern(p: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(p))
}

fn one_of_strings(values: &[&str]) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
}

fn datetime(max_chars: usize) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .max_length(Some(max_chars))
        .description(Some("RFC 3339 with an offset (`Z` or `±hh:mm`)."))
}

/// A string, or null meaning absent (the CEE readers treat null as a missing field).
fn or_null(schema: ObjectBuilder) -> ObjectBuilder {
    schema.schema_type(SchemaType::from_iter([Type::String, Type::Null]))
}

fn null_only(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Null)
        .description(Some(description))
}

fn array(items: impl Into<RefOr<Schema>>, min: usize, max: usize) -> ArrayBuilder {
    ArrayBuilder::new()
        .items(items.into())
        .min_items(Some(min))
        .max_items(Some(max))
}

/// An object with these properties, these required, and no other key allowed.
fn object(properties: Vec<(&str, RefOr<Schema>)>, required: &[&str]) -> ObjectBuilder {
    let mut o = ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    for (name, schema) in properties {
        o = o.property(name, schema);
    }
    for name in required {
        o = o.required(*name);
    }
    o
}

/// `{"required": [...]}`: one alternative of an `anyOf`.
fn requires(names: &[&str]) -> ObjectBuilder {
    names
        .iter()
        .fold(ObjectBuilder::new(), |o, name| o.required(*name))
}

/// JSON Schema's `dependentRequired` (2020-12; utoipa has no field for it).
fn dependent_required(pairs: &[(&str, &str)]) -> Option<Extensions> {
    let map: serde_json::Map<String, serde_json::Value> = pairs
        .iter()
        .map(|(key, needed)| ((*key).to_owned(), json!([needed])))
        .collect();
    Some(Extensions::from_iter([("dependentRequired", map)]))
}

fn siret() -> ObjectBuilder {
    pattern("^[0-9]{14}$").description(Some("14 digits."))
}

/// The identity of a person (journeys and certificate requests).
fn identity(s: &mut Schemas) -> RefOr<Schema> {
    let fields = object(
        vec![
            (
                "phone",
                text(phone::PHONE_CHARS)
                    .description(Some(
                        "A valid phone number; the French national form is accepted \
                         (`06 98 76 54 32`). Stored in E.164.",
                    ))
                    .into(),
            ),
            (
                "phone_trunc",
                text(phone::TRUNC_CHARS)
                    .description(Some(
                        "A phone number without its last 2 digits, valid when completed \
                         with `00`.",
                    ))
                    .into(),
            ),
            (
                "operator_user_id",
                text(v2::TEXT_CHARS)
                    .description(Some("The operator's stable id for the person."))
                    .into(),
            ),
            ("firstname", text(v2::TEXT_CHARS).into()),
            ("lastname", text(v2::TEXT_CHARS).into()),
            ("company", text(v2::TEXT_CHARS).into()),
            (
                "email",
                text(v2::EMAIL_CHARS)
                    .description(Some("A plausible e-mail address."))
                    .into(),
            ),
            (
                "over_18",
                ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([Type::Boolean, Type::Null]))
                    .into(),
            ),
            (
                "travel_pass",
                object(
                    vec![
                        ("name", one_of_strings(&["navigo"]).into()),
                        ("user_id", text(v2::TEXT_CHARS).into()),
                    ],
                    &["name", "user_id"],
                )
                .into(),
            ),
        ],
        &[],
    );
    let schema = AllOfBuilder::new()
        .item(fields)
        .item(
            AnyOfBuilder::new()
                .item(requires(&["phone"]))
                .item(requires(&["phone_trunc", "operator_user_id"])),
        )
        .description(Some(
            "Needs `phone`, or `phone_trunc` and `operator_user_id`; other fields may be added.",
        ));
    s.named("JourneyIdentity", schema)
}

fn position(s: &mut Schemas) -> RefOr<Schema> {
    let fields = object(
        vec![
            ("datetime", datetime(v2::MAX_DATETIME_CHARS).into()),
            ("lat", number(v2::LAT).into()),
            ("lon", number(v2::LON).into()),
            (
                "insee",
                pattern("^[0-9][0-9AB][0-9]{3}$")
                    .description(Some("An INSEE code (`75056`, `2A004`)."))
                    .into(),
            ),
            ("country", text(v2::TEXT_CHARS).into()),
            (
                "literal",
                text(v2::LITERAL_CHARS)
                    .description(Some("An address."))
                    .into(),
            ),
        ],
        &["datetime"],
    )
    .extensions(dependent_required(&[
        ("lat", "lon"),
        ("lon", "lat"),
        ("country", "literal"),
        ("literal", "country"),
    ]));
    let schema = AllOfBuilder::new()
        .item(fields)
        .item(
            AnyOfBuilder::new()
                .item(requires(&["lat", "lon"]))
                .item(requires(&["insee"])),
        )
        .description(Some(
            "Where and when: `lat` and `lon`, or `insee` (or both). A person's `start.datetime` \
             is strictly before its `end.datetime`.",
        ));
    s.named("JourneyPosition", schema)
}

/// The properties common to the passenger and the driver.
fn person(
    s: &mut Schemas,
    role: &[(&'static str, RefOr<Schema>)],
) -> Vec<(&'static str, RefOr<Schema>)> {
    let position = position(s);
    let incentive = object(
        vec![
            ("index", integer(v2::ITEM_INDEX).into()),
            ("siret", siret().into()),
            (
                "amount",
                number((v2::ITEM_AMOUNT.0 as f64, v2::ITEM_AMOUNT.1 as f64)).into(),
            ),
        ],
        &["index", "siret", "amount"],
    );
    let payment = object(
        vec![
            ("index", integer(v2::ITEM_INDEX).into()),
            ("siret", siret().into()),
            ("type", text(v2::TEXT_CHARS).into()),
            ("amount", integer(v2::ITEM_AMOUNT).into()),
        ],
        &["index", "siret", "type", "amount"],
    );
    let incentive = s.named("JourneyIncentiveItem", incentive);
    let payment = s.named("JourneyPayment", payment);
    let mut properties = vec![
        ("identity", identity(s)),
        ("start", position.clone()),
        ("end", position),
    ];
    properties.extend(role.iter().cloned());
    properties.extend([
        (
            "incentives",
            array(incentive, 0, v2::MAX_ITEMS)
                .description(Some("Incentives the operator paid (may be empty)."))
                .into(),
        ),
        ("payments", array(payment, 0, v2::MAX_ITEMS).into()),
        (
            "distance",
            integer(v2::DISTANCE).description(Some("Metres.")).into(),
        ),
        (
            "duration",
            integer(v2::DURATION).description(Some("Seconds.")).into(),
        ),
    ]);
    properties
}

/// `POST /v2/journeys`: journey-v2.md.
pub fn journey(s: &mut Schemas) -> RefOr<Schema> {
    let passenger = object(
        person(
            s,
            &[
                (
                    "seats",
                    integer(v2::SEATS).description(Some("Default 1.")).into(),
                ),
                (
                    "contribution",
                    integer(v2::MONEY)
                        .description(Some("What the passenger paid, cents."))
                        .into(),
                ),
            ],
        ),
        &["identity", "start", "end", "contribution", "incentives"],
    );
    let driver = object(
        person(
            s,
            &[(
                "revenue",
                integer(v2::MONEY)
                    .description(Some("What the driver received, cents."))
                    .into(),
            )],
        ),
        &["identity", "start", "end", "revenue", "incentives"],
    );
    let passenger = s.named("JourneyPassenger", passenger);
    let driver = s.named("JourneyDriver", driver);
    let example_time = chrono::DateTime::parse_from_rfc3339("2025-03-14T09:00:00Z")
        .map(|t| t.to_utc())
        .unwrap_or_default();
    let root = object(
        vec![
            (
                "journey_id",
                text(v2::TEXT_CHARS)
                    .description(Some(
                        "The operator's unique id for this couple (unique per operator).",
                    ))
                    .into(),
            ),
            (
                "operator_journey_id",
                text(v2::TEXT_CHARS)
                    .description(Some("The operator's id of the trip (groups its couples)."))
                    .into(),
            ),
            (
                "operator_class",
                one_of_strings(&["A", "B", "C"])
                    .description(Some("Proof class (C is the strongest)."))
                    .into(),
            ),
            (
                "operator_id",
                integer((0, v2::MAX_OPERATOR_ID.into()))
                    .description(Some("If present, the token's operator (else 403)."))
                    .into(),
            ),
            ("passenger", passenger),
            ("driver", driver),
        ],
        &["journey_id", "operator_class", "passenger", "driver"],
    )
    .description(Some(
        "One driver + passenger couple (journey-v2.md). Unknown keys are refused at every level.",
    ))
    .examples([crate::domain::journey::example_document(
        "example-journey-1",
        example_time,
    )]);
    s.named("JourneyV2", root)
}

/// `POST /v2/certificates`.
pub fn certificate_request(s: &mut Schemas) -> RefOr<Schema> {
    let position = object(
        vec![
            ("lat", number(v2::LAT).into()),
            ("lon", number(v2::LON).into()),
        ],
        &["lat", "lon"],
    );
    let schema = object(
        vec![
            ("identity", identity(s)),
            (
                "tz",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some("An IANA time zone (default `Europe/Paris`)."))
                    .into(),
            ),
            (
                "start_at",
                datetime(v2::MAX_DATETIME_CHARS)
                    .description(Some("Default: the first journey."))
                    .into(),
            ),
            (
                "end_at",
                datetime(v2::MAX_DATETIME_CHARS)
                    .description(Some("After `start_at`; default: 6 days ago."))
                    .into(),
            ),
            (
                "positions",
                array(position, 0, certificate::MAX_POSITIONS)
                    .description(Some(
                        "Only journeys starting or ending within 1 km of one of them.",
                    ))
                    .into(),
            ),
        ],
        &["identity"],
    )
    .examples([json!({
        "identity": {"phone": "06 12 34 56 78"},
        "tz": "Europe/Paris",
        "start_at": "2025-01-01T00:00:00+01:00",
        "end_at": "2025-12-31T23:59:59+01:00",
        "positions": [{"lat": 48.8566, "lon": 2.3522}],
    })]);
    s.named("CertificateRequest", schema)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    use crate::domain::journey_v2 as v2;

    /// The property names of a schema of the document (through `allOf`).
    fn properties(document: &Value, name: &str) -> BTreeSet<String> {
        let schema = &document["components"]["schemas"][name];
        let mut found = BTreeSet::new();
        let parts = match schema["allOf"].as_array() {
            Some(parts) => parts.clone(),
            None => vec![schema.clone()],
        };
        for part in parts {
            if let Some(p) = part["properties"].as_object() {
                found.extend(p.keys().cloned());
            }
        }
        found
    }

    fn keys(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|k| (*k).to_owned()).collect()
    }

    #[test]
    fn journey_schemas_have_the_validators_keys() {
        let document = serde_json::to_value(super::super::document()).unwrap();
        for (schema, allowed) in [
            ("JourneyV2", v2::ROOT_KEYS),
            ("JourneyPassenger", v2::PASSENGER_KEYS),
            ("JourneyDriver", v2::DRIVER_KEYS),
            ("JourneyIdentity", v2::IDENTITY_KEYS),
            ("JourneyPosition", v2::POSITION_KEYS),
            ("JourneyIncentiveItem", v2::INCENTIVE_KEYS),
            ("JourneyPayment", v2::PAYMENT_KEYS),
        ] {
            assert_eq!(properties(&document, schema), keys(allowed), "{schema}");
        }
        let travel_pass = &document["components"]["schemas"]["JourneyIdentity"]["allOf"][0]
            ["properties"]["travel_pass"]["properties"];
        let names: BTreeSet<String> = travel_pass.as_object().unwrap().keys().cloned().collect();
        assert_eq!(names, keys(v2::TRAVEL_PASS_KEYS));
    }

    #[test]
    fn every_journey_object_refuses_unknown_keys() {
        let document = serde_json::to_value(super::super::document()).unwrap();
        for name in [
            "JourneyV2",
            "JourneyPassenger",
            "JourneyDriver",
            "JourneyPayment",
        ] {
            let schema = &document["components"]["schemas"][name];
            assert_eq!(schema["additionalProperties"], false, "{name}");
        }
        for name in ["JourneyIdentity", "JourneyPosition"] {
            let schema = &document["components"]["schemas"][name]["allOf"][0];
            assert_eq!(schema["additionalProperties"], false, "{name}");
        }
    }
}
