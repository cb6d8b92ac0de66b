//! The OpenAPI 3.1 document of every route of [`ROUTES`], built from the Rust types the
//! handlers serialise (`utoipa::ToSchema` derives, behind the `openapi` feature) and, for
//! the bodies read by hand-written validators (journey, CEE, certificate request), from
//! schemas built in [`bodies`] with the validators' own limits.
//!
//! Paths, methods, operation ids and security (the route's access, 429 for a rate-limited
//! route) come from the routing table [`ROUTES`]; what each route takes and answers is
//! [`describe`], one `match` over [`RouteId`]: a new route does not compile until it is
//! described there. `registry serve` serves the document at `/openapi.json`;
//! `registry openapi` prints it (kept in `docs/openapi.json`, checked by tests/openapi.rs).

mod bodies;

use http::Method;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::info::InfoBuilder;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, Parameter, ParameterBuilder, ParameterIn, PathsBuilder,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::{ResponseBuilder, ResponsesBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{Components, OpenApi, OpenApiBuilder, Ref, RefOr, Required};
use utoipa::ToSchema;

use super::auth::Access;
use super::router::{Route, RouteId, ROUTES};

/// The document as pretty JSON, with a final newline (the form kept in docs/).
pub fn json() -> String {
    let mut text = document()
        .to_pretty_json()
        // Serialising plain data structures to a String cannot fail.
        .unwrap_or_default();
    text.push('\n');
    text
}

pub fn document() -> OpenApi {
    let mut schemas = Schemas::default();
    let mut paths = PathsBuilder::new();
    for route in ROUTES {
        let doc = describe(route.id, &mut schemas);
        let mut op = OperationBuilder::new()
            .operation_id(Some(route.function))
            .tag(doc.tag)
            .summary(Some(doc.summary))
            .description(doc.description);
        for parameter in path_parameters(route.path).into_iter().chain(doc.query) {
            op = op.parameter(parameter);
        }
        if let Some(body) = doc.body {
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(if body.required {
                        Required::True
                    } else {
                        Required::False
                    }))
                    .description(body.description)
                    .content(
                        "application/json",
                        ContentBuilder::new().schema(Some(body.schema)).build(),
                    )
                    .build(),
            ));
        }
        for requirement in requirements(route.access) {
            op = op.security(requirement);
        }
        let mut responses = ResponsesBuilder::new();
        for (status, response) in doc.ok {
            responses = responses.response(status.to_string(), response);
        }
        let mut errors = doc.errors.to_vec();
        errors.extend(access_errors(route));
        errors.sort_unstable();
        errors.dedup();
        for status in errors {
            responses = responses.response(
                status.to_string(),
                Ref::from_response_name(error_name(status)),
            );
        }
        op = op.responses(responses.build());
        paths = paths.path(
            route.path,
            utoipa::openapi::PathItem::new(http_method(&route.method), op.build()),
        );
    }
    let mut components = schemas.0;
    error_responses(&mut components);
    for (name, description) in ROLES {
        components.add_security_scheme(
            *name,
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("rpc.<token_id>.<secret>")
                    .description(Some(*description))
                    .build(),
            ),
        );
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Carpool proof registry")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(DESCRIPTION))
                .build(),
        )
        .paths(paths.build())
        .components(Some(components))
        .tags(Some(TAGS.iter().map(|(name, description)| {
            TagBuilder::new()
                .name(*name)
                .description(Some(*description))
                .build()
        })))
        .build()
}

const DESCRIPTION: &str = "The national registry where carpool platforms (operators) send \
proof of every shared ride. Every error is JSON: `{\"error\": {\"code\", \"message\", \
\"details\": [{\"path\", \"reason\"}]}}` with the JSON pointer of each bad field. Tokens are \
bearer tokens (`Authorization: Bearer rpc.<token_id>.<secret>`); the security scheme of a \
route names the kind of token it takes, and for application tokens the permission. A \
request for an unknown path is 404, a known path with another method 405 (with `Allow`). \
Every answer carries an `X-Request-Id` header. Money in euro cents, distances in metres.";

const TAGS: &[(&str, &str)] = &[
    (
        "journeys",
        "Proofs of carpooling: acquisition, status, invalidation",
    ),
    (
        "operators",
        "Operators and their tokens (registry and operator admins)",
    ),
    ("cee", "Energy-savings certificate applications (cee.md)"),
    (
        "campaigns",
        "Incentive campaigns and their incentives (campaigns.md)",
    ),
    ("certificates", "Attestations of a person's carpooling"),
];

/// The security schemes: one per kind of token (all bearer tokens, told apart by the
/// registry from the token itself).
const ROLES: &[(&str, &str)] = &[
    (
        "registry_admin",
        "A registry admin token (the registry team): first one printed by `registry serve` \
         at first start, more with `registry admin token create --role registry-admin`.",
    ),
    (
        "operator_admin",
        "An operator admin token: manages its operator's application tokens. Another \
         operator's resources are 404.",
    ),
    (
        "application",
        "An operator's application token, holding the permissions the requirement lists \
         (a token without the route's permission gets 403). Another operator's resources \
         are 404.",
    ),
    (
        "territory",
        "A territory token: reads the campaigns of its territory (another territory's are \
         404).",
    ),
];

/// The security requirements of a route's access: alternatives, the most specific first.
fn requirements(access: Access) -> Vec<SecurityRequirement> {
    let one = |name: &str, scopes: Vec<&str>| SecurityRequirement::new(name, scopes);
    match access {
        Access::Public => Vec::new(),
        Access::RegistryAdmin => vec![one("registry_admin", vec![])],
        Access::OperatorAdmin => {
            vec![one("operator_admin", vec![]), one("registry_admin", vec![])]
        }
        Access::Application(p) => vec![one("application", vec![p.as_str()])],
        Access::CampaignReader => vec![one("registry_admin", vec![]), one("territory", vec![])],
        Access::OperatorReader(p) => vec![
            one("application", vec![p.as_str()]),
            one("operator_admin", vec![]),
            one("registry_admin", vec![]),
        ],
    }
}

/// The error statuses of a route's access (401, 403) and rate limit (429).
fn access_errors(route: &Route) -> Vec<u16> {
    match (route.access, route.rate) {
        (Access::Public, _) => Vec::new(),
        (_, Some(_)) => vec![401, 403, 429],
        (_, None) => vec![401, 403],
    }
}

/// What a route takes and answers (its path, method and function are in [`ROUTES`]).
struct Doc {
    tag: &'static str,
    summary: &'static str,
    description: Option<&'static str>,
    query: Vec<Parameter>,
    body: Option<Body>,
    /// Success answers.
    ok: Vec<(u16, utoipa::openapi::Response)>,
    /// Error statuses besides those of the route's access and rate class (401, 403, 429).
    errors: &'static [u16],
}

struct Body {
    schema: RefOr<Schema>,
    required: bool,
    description: Option<&'static str>,
}

fn body(schema: RefOr<Schema>) -> Option<Body> {
    Some(Body {
        schema,
        required: true,
        description: None,
    })
}

fn optional_body(schema: RefOr<Schema>, description: &'static str) -> Option<Body> {
    Some(Body {
        schema,
        required: false,
        description: Some(description),
    })
}

/// The schemas of the document, each under its name.
#[derive(Default)]
struct Schemas(Components);

impl Schemas {
    /// A reference to `T`'s schema, added with the schemas it refers to.
    fn of<T: ToSchema>(&mut self) -> RefOr<Schema> {
        let mut found = Vec::new();
        T::schemas(&mut found);
        self.0.schemas.extend(found);
        let name = T::name().into_owned();
        self.0.schemas.insert(name.clone(), T::schema());
        Ref::from_schema_name(name).into()
    }

    /// Adds an example to the named object schema (for derived schemas whose example is a
    /// file or a function of the code).
    fn example(&mut self, name: &str, example: serde_json::Value) {
        if let Some(RefOr::T(Schema::Object(object))) = self.0.schemas.get_mut(name) {
            object.examples = vec![example];
        }
    }

    /// A reference to a schema built in code, added under `name`.
    fn named(&mut self, name: &str, schema: impl Into<RefOr<Schema>>) -> RefOr<Schema> {
        self.0.schemas.insert(name.to_owned(), schema.into());
        Ref::from_schema_name(name).into()
    }
}

fn json_answer(description: &str, schema: RefOr<Schema>) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(schema)).build(),
        )
        .build()
}

fn empty_answer(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new().description(description).build()
}

fn string_schema() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn query(name: &str, required: bool, description: &str, schema: ObjectBuilder) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(if required {
            Required::True
        } else {
            Required::False
        })
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

/// `month=YYYY-MM` (required) of the monthly listings.
fn month_query(description: &str) -> Parameter {
    query(
        "month",
        true,
        description,
        string_schema()
            .pattern(Some("^[0-9]{4}-(0[1-9]|1[0-2])$"))
            .examples(["2025-03"]),
    )
}

/// `limit` and `cursor` of the paged monthly listings.
fn page_queries() -> Vec<Parameter> {
    vec![
        query(
            "limit",
            false,
            &format!(
                "Lines per page (default {}).",
                super::campaigns::DEFAULT_LIMIT
            ),
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(super::campaigns::MAX_LIMIT as u64)),
        ),
        query(
            "cursor",
            false,
            "`next_cursor` of the previous page.",
            string_schema(),
        ),
    ]
}

/// The one place that says what each route takes and answers.
fn describe(route: RouteId, s: &mut Schemas) -> Doc {
    use crate::admin::{CreatedToken, TokenInfo};
    use crate::api::{campaigns, cee, certificates, journeys, operators};
    use crate::campaigns::Stored as Campaign;
    use crate::domain::journey::{CancelReason, Receipt};
    use crate::domain::operator::Operator;

    let doc = |tag, summary| Doc {
        tag,
        summary,
        description: None,
        query: Vec::new(),
        body: None,
        ok: Vec::new(),
        errors: &[],
    };
    match route {
        RouteId::JourneysCreate => {
            let receipt = s.of::<Receipt>();
            let journey = bodies::journey(s);
            Doc {
                description: Some(
                    "Sends the proof of one driver + passenger couple (journey-v2.md). 400 lists \
                     every violation of the document with its JSON pointer; 422 a well-formed \
                     but impossible journey (a date more than 5 minutes in the future, payments \
                     above the contribution, the same person driving and riding). A journey \
                     received 120 h or more after its end is stored with status `expired`.",
                ),
                body: body(journey),
                ok: vec![
                    (201, json_answer("Stored, and queued for processing.", receipt.clone())),
                    (
                        200,
                        ResponseBuilder::new()
                            .description(
                                "The same document was already received: the original receipt.",
                            )
                            .header(
                                "Idempotent-Replayed",
                                HeaderBuilder::new()
                                    .schema(string_schema().enum_values(Some(["true"])))
                                    .build(),
                            )
                            .content("application/json", ContentBuilder::new().schema(Some(receipt)).build())
                            .build(),
                    ),
                ],
                errors: &[400, 409, 413, 422, 503],
                ..doc("journeys", "Send a journey")
            }
        }
        RouteId::JourneysStatus => Doc {
            ok: vec![(200, json_answer("The journey.", s.of::<journeys::JourneyView>()))],
            errors: &[404, 503],
            ..doc("journeys", "A journey's status")
        },
        RouteId::JourneysCancel => Doc {
            description: Some(
                "Invalidates a journey (kept, marked canceled). Repeating the call answers the \
                 first `canceled_at`.",
            ),
            body: optional_body(s.of::<CancelReason>(), "Why (kept for audit)."),
            ok: vec![(200, json_answer("Canceled.", s.of::<journeys::Canceled>()))],
            errors: &[400, 404, 413, 503],
            ..doc("journeys", "Invalidate a journey")
        },
        RouteId::OperatorsCreate => Doc {
            body: body(s.of::<operators::NewOperator>()),
            ok: vec![(201, json_answer("Created.", s.of::<Operator>()))],
            errors: &[400, 413, 503],
            ..doc("operators", "Create an operator")
        },
        RouteId::OperatorsList => Doc {
            ok: vec![(200, json_answer("Every operator.", s.of::<operators::OperatorList>()))],
            errors: &[503],
            ..doc("operators", "List the operators")
        },
        RouteId::OperatorsGet => Doc {
            ok: vec![(200, json_answer("The operator.", s.of::<Operator>()))],
            errors: &[404, 503],
            ..doc("operators", "An operator")
        },
        RouteId::OperatorsIncentives => Doc {
            description: Some(
                "What the operator's users earned in a month, per campaign: the basis of \
                 payments. Always 200 for a valid month: `final` says whether every campaign \
                 of the month is final; campaigns not final yet are listed without lines. \
                 `Accept: text/csv` gives the lines as CSV.",
            ),
            query: [vec![month_query("The month, in each campaign's time zone.")], page_queries()].concat(),
            ok: vec![(
                200,
                ResponseBuilder::new()
                    .description("One page of the operator's statement.")
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(s.of::<crate::campaigns::monthly::statement::Statement>()))
                            .build(),
                    )
                    .content(
                        "text/csv",
                        ContentBuilder::new().schema(Some(string_schema())).build(),
                    )
                    .build(),
            )],
            errors: &[400, 404, 503],
            ..doc(
                "operators",
                "An operator's monthly incentive statement")
        },
        RouteId::ApplicationsCreate => Doc {
            description: Some(
                "Creates an application token (default: every permission) or, for registry \
                 admins, an operator admin token. The token is in this answer only.",
            ),
            body: body(s.of::<operators::NewToken>()),
            ok: vec![(201, json_answer("Created.", s.of::<CreatedToken>()))],
            errors: &[400, 404, 413, 503],
            ..doc("operators", "Create a token")
        },
        RouteId::ApplicationsList => Doc {
            description: Some(
                "Operator admins see application tokens; registry admins see every token of \
                 the operator.",
            ),
            ok: vec![(200, json_answer("The tokens (never their secret).", s.of::<operators::TokenList>()))],
            errors: &[404, 503],
            ..doc("operators", "List an operator's tokens")
        },
        RouteId::ApplicationsRevoke => Doc {
            description: Some(
                "Refused from the very next request, on every instance. Revoking again \
                 answers the first `revoked_at`.",
            ),
            ok: vec![(200, json_answer("Revoked.", s.of::<TokenInfo>()))],
            errors: &[404, 503],
            ..doc("operators", "Revoke a token")
        },
        RouteId::CeePublicKey => Doc {
            description: Some(
                "The current key, its id in the `Key-Id` header. During a key rotation the \
                 previous keys stay published: `?kid=` answers the key of that id (the `kid` \
                 returned with each token), `?format=json` lists every published key.",
            ),
            query: vec![
                query(
                    "kid",
                    false,
                    "The key of this id (404 if it is not published).",
                    string_schema(),
                ),
                query(
                    "format",
                    false,
                    "`pem` (default): one key; `json`: every published key.",
                    string_schema().enum_values(Some(["pem", "json"])),
                ),
            ],
            ok: vec![(
                200,
                ResponseBuilder::new()
                    .description("RSA 4096 public key, SPKI PEM; or with `format=json` every published key.")
                    .content(
                        "application/x-pem-file",
                        ContentBuilder::new().schema(Some(string_schema())).build(),
                    )
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(s.of::<cee::PublishedKeys>()))
                            .build(),
                    )
                    .build(),
            )],
            errors: &[400, 404, 503],
            ..doc("cee", "The key that verifies every CEE token")
        },
        RouteId::CeeSimulate => Doc {
            description: Some(
                "The history search of a registration with today as the reference date; \
                 writes nothing. 409 names the earlier record in `error.data`.",
            ),
            body: body(bodies::cee_simulation(s)),
            ok: vec![(200, empty_answer("Nothing found: an application would not be refused for its history (empty body)."))],
            errors: &[400, 409, 413, 503],
            ..doc("cee", "Simulate a CEE application")
        },
        RouteId::CeeRegister => Doc {
            description: Some(
                "Short: the journey must be the caller's, class C, at most 80 km, an end in \
                 France, inside the campaign window (else 404). Long: `datetime` strictly \
                 inside the campaign window (else 400). The operation must be at least 7 days \
                 old (400). An earlier application of the same person → 409 with \
                 `error.data` = {datetime} (+ uuid, journey_id, status when it is the \
                 caller's). 422 `siret_required`: the operator has no SIRET yet.",
            ),
            body: body(bodies::cee_registration(s)),
            ok: vec![(201, json_answer("Registered.", s.of::<cee::Registered>()))],
            errors: &[400, 404, 409, 413, 422, 503],
            ..doc("cee", "Register a CEE application")
        },
        RouteId::CeeImport => Doc {
            description: Some(
                "A schema error anywhere rejects the whole batch (400). Body up to 1 MiB.",
            ),
            body: body(bodies::cee_import(s)),
            ok: vec![(201, json_answer("Imported, but for the failed items.", s.of::<cee::ImportReport>()))],
            errors: &[400, 413, 503],
            ..doc("cee", "Import earlier specific operations")
        },
        RouteId::CeeImportIdentity => Doc {
            description: Some(
                "A key is written once and never overwritten. Body up to 1 MiB.",
            ),
            body: body(bodies::cee_import_identity(s)),
            ok: vec![(200, json_answer("Attached, but for the failed items.", s.of::<cee::ImportReport>()))],
            errors: &[400, 413, 503],
            ..doc("cee", "Attach identity keys to earlier records")
        },
        RouteId::CeeFind => Doc {
            ok: vec![(200, json_answer("The application.", s.of::<cee::Application>()))],
            errors: &[400, 404, 503],
            ..doc("cee", "A CEE application")
        },
        RouteId::CeeDelete => Doc {
            description: Some(
                "Kept in a deleted archive with its deletion time; no longer counts for the \
                 history checks.",
            ),
            ok: vec![(204, empty_answer("Deleted."))],
            errors: &[400, 404, 503],
            ..doc("cee", "Delete a CEE application")
        },
        RouteId::CampaignsCreate => {
            let document = s.of::<crate::domain::campaign::document::RawCampaign>();
            // One of the example campaigns of campaigns.md (examples/campaigns/).
            let example = include_str!("../../../../examples/campaigns/fixed-plus-per-km.json");
            if let Ok(example) = serde_json::from_str(example) {
                s.example("CampaignDocument", example);
            }
            Doc {
            description: Some(
                "400 lists every problem of the document with its JSON pointer (overlapping \
                 bands, max < min, unknown cap kinds, reversed dates, bad GeoJSON…).",
            ),
            body: body(document),
            ok: vec![(201, json_answer("Loaded (version 1).", s.of::<Campaign>()))],
            errors: &[400, 409, 413, 503],
            ..doc("campaigns", "Load a campaign")
        }
        }
        RouteId::CampaignsList => Doc {
            ok: vec![(200, json_answer("The campaigns (a territory's own only).", s.of::<campaigns::CampaignList>()))],
            errors: &[503],
            ..doc("campaigns", "List the campaigns")
        },
        RouteId::CampaignsGet => {
            let current = s.of::<campaigns::CampaignWithHistory>();
            let version = s.of::<crate::campaigns::Version>();
            Doc {
                query: vec![query(
                    "version",
                    false,
                    "An earlier version: answers that version's entry and document.",
                    ObjectBuilder::new().schema_type(Type::Integer).format(Some(SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Int64))),
                )],
                ok: vec![(
                    200,
                    json_answer(
                        "The campaign and its history, or (`?version=N`) that version.",
                        utoipa::openapi::schema::AnyOfBuilder::new().item(current).item(version).into(),
                    ),
                )],
                errors: &[400, 404, 503],
                ..doc("campaigns", "A campaign")
            }
        }
        RouteId::CampaignsUpdate => Doc {
            description: Some(
                "Only before the campaign's start (409 after); the new document keeps the id \
                 and starts after today.",
            ),
            body: body(s.of::<crate::domain::campaign::document::RawCampaign>()),
            ok: vec![(200, json_answer("The new version.", s.of::<Campaign>()))],
            errors: &[400, 404, 409, 413, 503],
            ..doc("campaigns", "Replace a campaign before its start")
        },
        RouteId::CampaignsClose => Doc {
            description: Some(
                "Journeys after `last_day` are no longer eligible. Closing again on the same \
                 day or later changes nothing; earlier is a new version.",
            ),
            body: optional_body(s.of::<campaigns::Close>(), "The last eligible day (default: today)."),
            ok: vec![(200, json_answer("Closed.", s.of::<Campaign>()))],
            errors: &[400, 404, 409, 413, 503],
            ..doc("campaigns", "Close a campaign early")
        },
        RouteId::CampaignsIncentives => {
            let page = s.of::<campaigns::IncentivePage>();
            s.of::<crate::campaigns::drafts::Line>();
            s.of::<crate::campaigns::monthly::compute::Line>();
            let csv_header = |description: &'static str| {
                HeaderBuilder::new()
                    .schema(string_schema())
                    .description(Some(description))
                    .build()
            };
            Doc {
                description: Some(
                    "Until the monthly run: the drafts (`draft`, `canceled`); once the month \
                     is final: its final lines (`validated`, `capped`, `canceled`, \
                     `not_eligible`, `correction`) and `final`. `Accept: text/csv` gives the \
                     same page as CSV, with the totals and the next cursor in headers.",
                ),
                query: [
                    vec![
                        month_query("The month, in the campaign's time zone."),
                        query(
                            "status",
                            false,
                            "Only the lines of this status.",
                            string_schema().enum_values(Some([
                                "draft",
                                "canceled",
                                "validated",
                                "capped",
                                "not_eligible",
                                "correction",
                            ])),
                        ),
                    ],
                    page_queries(),
                ]
                .concat(),
                ok: vec![(
                    200,
                    ResponseBuilder::new()
                        .description("One page of the month's incentives.")
                        .content("application/json", ContentBuilder::new().schema(Some(page)).build())
                        .content("text/csv", ContentBuilder::new().schema(Some(string_schema())).build())
                        .header("X-Total-Count", csv_header("CSV only: the month's count for the status asked for."))
                        .header("X-Total-Amount", csv_header("CSV only: the month's amount (cents)."))
                        .header("X-Next-Cursor", csv_header("CSV only: the cursor of the next page, absent on the last."))
                        .build(),
                )],
                errors: &[400, 404, 503],
                ..doc("campaigns", "A month of a campaign's incentives")
            }
        }
        RouteId::CertificatesCreate => Doc {
            description: Some(
                "A person the registry never saw (or with no journey in the period) gets a \
                 certificate with zero totals, not a 404. Only `ok` journeys count.",
            ),
            body: body(bodies::certificate_request(s)),
            ok: vec![(201, json_answer("Issued.", s.of::<certificates::Issued>()))],
            errors: &[400, 413, 503],
            ..doc("certificates", "Issue a certificate")
        },
        RouteId::CertificatesFind => Doc {
            description: Some("Public: no personal data, not the positions (only how many)."),
            ok: vec![(200, json_answer("The certificate.", s.of::<certificates::Check>()))],
            errors: &[404, 503],
            ..doc("certificates", "Check a certificate")
        },
        RouteId::CertificatesAttachment => Doc {
            query: vec![query(
                "format",
                false,
                "`pdf` (default) or `png`.",
                string_schema().enum_values(Some(["pdf", "png"])),
            )],
            ok: vec![(
                200,
                ResponseBuilder::new()
                    .description("One A4 page with the registry's signature and a QR code to the public check.")
                    .content("application/pdf", ContentBuilder::new().build())
                    .content("image/png", ContentBuilder::new().build())
                    .header(
                        "Content-Disposition",
                        HeaderBuilder::new().schema(string_schema()).build(),
                    )
                    .build(),
            )],
            errors: &[400, 404, 503],
            ..doc("certificates", "Download a certificate")
        },
    }
}

/// The parameters in a path template (`{name}` segments).
fn path_parameters(path: &str) -> Vec<Parameter> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let (description, schema) = path_parameter(name);
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some(description))
                .schema(Some(schema))
                .build()
        })
        .collect()
}

fn path_parameter(name: &str) -> (&'static str, ObjectBuilder) {
    match name {
        "journey_id" => (
            "The operator's `journey_id` (unknown or another operator's: 404).",
            string_schema().min_length(Some(1)).max_length(Some(256)),
        ),
        "operator_id" => (
            "An operator's id.",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::Int64,
                )))
                .minimum(Some(0)),
        ),
        "token_id" => (
            "A token's id (the middle part of the token).",
            string_schema().pattern(Some("^[0-9a-f]{32}$")),
        ),
        "uuid" => (
            "The uuid the registry gave it.",
            string_schema().format(Some(SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Uuid,
            ))),
        ),
        "campaign_id" => (
            "The campaign's `id`.",
            string_schema().pattern(Some("^[a-z0-9_-]{1,64}$")),
        ),
        _ => ("", string_schema()),
    }
}

fn http_method(method: &Method) -> HttpMethod {
    match *method {
        Method::GET => HttpMethod::Get,
        Method::POST => HttpMethod::Post,
        Method::PUT => HttpMethod::Put,
        Method::DELETE => HttpMethod::Delete,
        Method::PATCH => HttpMethod::Patch,
        Method::HEAD => HttpMethod::Head,
        Method::OPTIONS => HttpMethod::Options,
        _ => HttpMethod::Trace,
    }
}

/// The shared error answers: `{"error": {...}}` (api/error.rs), by status.
const ERRORS: &[(u16, &str, &str)] = &[
    (
        400,
        "BadRequest",
        "Invalid request: `error.details` lists every violation with its JSON pointer (`path`).",
    ),
    (
        401,
        "Unauthorized",
        "Missing, malformed, unknown or revoked token.",
    ),
    (
        403,
        "Forbidden",
        "The token may not call this route (role or permission).",
    ),
    (
        404,
        "NotFound",
        "Unknown, or another operator's (territory's) resource.",
    ),
    (
        409,
        "Conflict",
        "Conflicts with what is stored (`error.message` says what; `error.data` may name it).",
    ),
    (
        413,
        "PayloadTooLarge",
        "The body is over the route's limit (64 KiB; 1 MiB for the CEE imports).",
    ),
    (
        422,
        "Unprocessable",
        "Well-formed but impossible (`error.details` with the JSON pointers).",
    ),
    (
        429,
        "TooManyRequests",
        "Over the operator's rate limit: retry after `Retry-After` seconds.",
    ),
    (
        503,
        "Unavailable",
        "The store is unavailable; nothing was written. Retry after `Retry-After` seconds.",
    ),
];

fn error_name(status: u16) -> &'static str {
    ERRORS
        .iter()
        .find(|(s, _, _)| *s == status)
        .map_or("BadRequest", |(_, name, _)| *name)
}

fn error_responses(components: &mut Components) {
    let mut schemas = Schemas(std::mem::take(components));
    let error = schemas.of::<super::error::ErrorBody>();
    *components = schemas.0;
    for (status, name, description) in ERRORS {
        let mut response = ResponseBuilder::new().description(*description).content(
            "application/json",
            ContentBuilder::new().schema(Some(error.clone())).build(),
        );
        if matches!(status, 429 | 503) {
            response = response.header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(
                        ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .minimum(Some(1)),
                    )
                    .description(Some("Seconds."))
                    .build(),
            );
        }
        components
            .responses
            .insert((*name).to_owned(), response.build().into());
    }
}
