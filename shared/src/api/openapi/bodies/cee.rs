//! Schemas of the CEE request bodies (`cee::fields`, `cee::imports`).

use super::*;

fn journey_type() -> ObjectBuilder {
    one_of_strings(&["short", "long"])
}

fn last_name_trunc() -> ObjectBuilder {
    pattern("^[A-Z ]{3}$").description(Some(
        "The first three letters of the upper-case, accent-free last name, padded with spaces.",
    ))
}

fn phone_trunc() -> ObjectBuilder {
    text(phone::TRUNC_CHARS).description(Some(
        "A phone number without its last two digits (`06273488` or `+336273488`).",
    ))
}

fn driving_license() -> ObjectBuilder {
    pattern("^([0-9]{12}|[A-Z0-9]{1,15}[0-9]{4}|[A-Z0-9]{1,15}|99-[^a-z\\x00-\\x1f]{1,61})$")
        .description(Some(
            "Upper case: 12 digits, 1-15 letters or digits (optionally followed by 4 digits), \
             or `99-` and 1-61 characters (foreign licence).",
        ))
}

fn identity_key() -> ObjectBuilder {
    pattern("^[0-9a-f]{64}$").description(Some(
        "SHA-256 (lower-case hex) of `<E.164 phone>-<FULL LAST NAME>`.",
    ))
}

fn cee_datetime() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
}

/// SHA-256 of `+33612345678-DUPONT`.
const EXAMPLE_IDENTITY_KEY: &str =
    "888145c3f2bece9b082406ba7007c62a8df85cedbd9b27a343fa56fcc491b35a";

/// `POST /v2/policies/cee`. A field given as null counts as absent.
pub fn cee_registration(s: &mut Schemas) -> RefOr<Schema> {
    let common = |kind: &str| -> Vec<(&'static str, RefOr<Schema>)> {
        vec![
            ("journey_type", one_of_strings(&[kind]).into()),
            ("driving_license", driving_license().into()),
            ("last_name_trunc", last_name_trunc().into()),
            (
                "application_timestamp",
                cee_datetime().description(Some("In the past.")).into(),
            ),
            ("identity_key", identity_key().into()),
        ]
    };
    let required = [
        "journey_type",
        "driving_license",
        "last_name_trunc",
        "application_timestamp",
        "identity_key",
    ];
    let mut short = common("short");
    short.extend([
        (
            "operator_journey_id",
            text(v2::TEXT_CHARS)
                .description(Some("The `journey_id` the operator sent the journey with."))
                .into(),
        ),
        (
            "phone_trunc",
            null_only("Not for short: the journey's driver phone is used.").into(),
        ),
        (
            "datetime",
            null_only("Not for short: the journey's end is used.").into(),
        ),
    ]);
    let mut long = common("long");
    long.extend([
        ("phone_trunc", phone_trunc().into()),
        (
            "datetime",
            cee_datetime()
                .description(Some(
                    "When the costs were shared: strictly inside the campaign window, at \
                     least 7 days ago.",
                ))
                .into(),
        ),
        ("operator_journey_id", null_only("Not for long.").into()),
    ]);
    let mut short_required = required.to_vec();
    short_required.push("operator_journey_id");
    let mut long_required = required.to_vec();
    long_required.extend(["phone_trunc", "datetime"]);
    let short = s.named("CeeShortRegistration", object(short, &short_required));
    let long = s.named("CeeLongRegistration", object(long, &long_required));
    s.named(
        "CeeRegistration",
        OneOfBuilder::new().item(short).item(long).examples([json!({
            "journey_type": "long",
            "driving_license": "051227308989",
            "last_name_trunc": "DUP",
            "phone_trunc": "+336123456",
            "datetime": "2024-03-15T01:15:00+01:00",
            "application_timestamp": "2025-01-02T09:00:00+01:00",
            "identity_key": EXAMPLE_IDENTITY_KEY,
        })]),
    )
}

/// `POST /v2/policies/cee/simulate`.
pub fn cee_simulation(s: &mut Schemas) -> RefOr<Schema> {
    let schema = object(
        vec![
            ("journey_type", journey_type().into()),
            ("last_name_trunc", last_name_trunc().into()),
            ("phone_trunc", phone_trunc().into()),
            ("driving_license", or_null(driving_license()).into()),
            ("identity_key", or_null(identity_key()).into()),
        ],
        &["journey_type", "last_name_trunc", "phone_trunc"],
    )
    .examples([json!({
        "journey_type": "long",
        "last_name_trunc": "DUP",
        "phone_trunc": "+336123456",
        "driving_license": "051227308989",
    })]);
    s.named("CeeSimulation", schema)
}

fn specific_fields() -> Vec<(&'static str, RefOr<Schema>)> {
    vec![
        ("journey_type", journey_type().into()),
        ("last_name_trunc", last_name_trunc().into()),
        ("phone_trunc", phone_trunc().into()),
        ("datetime", cee_datetime().into()),
    ]
}

const SPECIFIC_REQUIRED: [&str; 4] = ["journey_type", "last_name_trunc", "phone_trunc", "datetime"];

/// `POST /v2/policies/cee/import`.
pub fn cee_import(s: &mut Schemas) -> RefOr<Schema> {
    let item = s.named(
        "CeeImportItem",
        object(specific_fields(), &SPECIFIC_REQUIRED),
    );
    s.named(
        "CeeImport",
        array(item, 1, imports::MAX_ITEMS).examples([json!([{
            "journey_type": "short",
            "last_name_trunc": "MAR",
            "phone_trunc": "06987654",
            "datetime": "2022-06-01T08:00:00+02:00",
        }])]),
    )
}

/// `POST /v2/policies/cee/import/identity`.
pub fn cee_import_identity(s: &mut Schemas) -> RefOr<Schema> {
    let standardized = object(
        vec![
            (
                "cee_application_type",
                one_of_strings(&["standardized"]).into(),
            ),
            (
                "cee_application_uuid",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
                    .into(),
            ),
            ("identity_key", identity_key().into()),
        ],
        &[
            "cee_application_type",
            "cee_application_uuid",
            "identity_key",
        ],
    );
    let mut fields = vec![
        ("cee_application_type", one_of_strings(&["specific"]).into()),
        ("identity_key", identity_key().into()),
    ];
    fields.extend(specific_fields());
    let mut required = vec!["cee_application_type", "identity_key"];
    required.extend(SPECIFIC_REQUIRED);
    let specific = object(fields, &required);
    let standardized = s.named("CeeIdentityForApplication", standardized);
    let specific = s.named("CeeIdentityForImport", specific);
    let item = s.named(
        "CeeIdentityItem",
        OneOfBuilder::new().item(standardized).item(specific),
    );
    s.named(
        "CeeImportIdentity",
        array(item, 1, imports::MAX_ITEMS).examples([json!([{
            "cee_application_type": "specific",
            "identity_key": EXAMPLE_IDENTITY_KEY,
            "journey_type": "short",
            "last_name_trunc": "MAR",
            "phone_trunc": "06987654",
            "datetime": "2022-06-01T08:00:00+02:00",
        }])]),
    )
}
