//! The OpenAPI 3.1 document of every route of [`ROUTES`], built from the Rust types the
//! handlers serialise (`utoipa::ToSchema` derives, behind the `openapi` feature) and, for
//! the bodies read by hand-written validators (journey, CEE, certificate request), from
//! schemas built in [`bodies`] with the validators' own limits.
//!
//! Paths, methods, operation ids and security (the route's access, 429 for a rate-limited
//! route) come from the routing table [`ROUTES`]; what each route takes and answers is its
//! `doc` function, next to its handler (`api/<module>/doc.rs`), named in the same table: a
//! new route does not compile until it is described. `registry serve` serves the document
//! at `/openapi.json`; `registry openapi` prints it (kept in `docs/openapi.json`, checked by
//! tests/openapi.rs).

pub(crate) mod bodies;

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
use super::router::{Route, ROUTES};

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
        let doc = super::router::describe(route.id, &mut schemas);
        // The routes that read a body, and only them, refuse a non-JSON one (415).
        assert_eq!(doc.body.is_some(), route.id.takes_body(), "{:?}", route.id);
        paths = paths.path(
            route.path,
            utoipa::openapi::PathItem::new(http_method(&route.method), operation(route, doc)),
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

/// A route's operation: its `doc`, with what the route table says (operation id, path
/// parameters, security and the errors of its access and rate class).
fn operation(route: &Route, doc: Doc) -> utoipa::openapi::path::Operation {
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
    if route.id.takes_body() {
        errors.push(415);
    }
    errors.sort_unstable();
    errors.dedup();
    for status in errors {
        responses = responses.response(
            status.to_string(),
            Ref::from_response_name(error_name(status)),
        );
    }
    op.responses(responses.build()).build()
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
        Access::OwnOperator(p) => vec![
            one("application", vec![p.as_str()]),
            one("operator_admin", vec![]),
        ],
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
pub(crate) struct Doc {
    pub tag: &'static str,
    pub summary: &'static str,
    pub description: Option<&'static str>,
    pub query: Vec<Parameter>,
    pub body: Option<Body>,
    /// Success answers.
    pub ok: Vec<(u16, utoipa::openapi::Response)>,
    /// Error statuses besides those of the route's access and rate class (401, 403, 429).
    pub errors: &'static [u16],
}

pub(crate) struct Body {
    schema: RefOr<Schema>,
    required: bool,
    description: Option<&'static str>,
}

pub(crate) fn body(schema: RefOr<Schema>) -> Option<Body> {
    Some(Body {
        schema,
        required: true,
        description: None,
    })
}

pub(crate) fn optional_body(schema: RefOr<Schema>, description: &'static str) -> Option<Body> {
    Some(Body {
        schema,
        required: false,
        description: Some(description),
    })
}

/// The schemas of the document, each under its name.
#[derive(Default)]
pub(crate) struct Schemas(Components);

impl Schemas {
    /// A reference to `T`'s schema, added with the schemas it refers to.
    pub(crate) fn of<T: ToSchema>(&mut self) -> RefOr<Schema> {
        let mut found = Vec::new();
        T::schemas(&mut found);
        self.0.schemas.extend(found);
        let name = T::name().into_owned();
        self.0.schemas.insert(name.clone(), T::schema());
        Ref::from_schema_name(name).into()
    }

    /// Adds an example to the named object schema (for derived schemas whose example is a
    /// file or a function of the code).
    pub(crate) fn example(&mut self, name: &str, example: serde_json::Value) {
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

pub(crate) fn json_answer(description: &str, schema: RefOr<Schema>) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(schema)).build(),
        )
        .build()
}

pub(crate) fn empty_answer(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new().description(description).build()
}

pub(crate) fn string_schema() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

pub(crate) fn query(
    name: &str,
    required: bool,
    description: &str,
    schema: ObjectBuilder,
) -> Parameter {
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
pub(crate) fn month_query(description: &str) -> Parameter {
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
pub(crate) fn page_queries() -> Vec<Parameter> {
    vec![
        query(
            "limit",
            false,
            &format!(
                "Lines per page (default {}).",
                super::listing::PageSize::MONTHLY.default
            ),
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(super::listing::PageSize::MONTHLY.max as u64)),
        ),
        query(
            "cursor",
            false,
            "`next_cursor` of the previous page.",
            string_schema(),
        ),
    ]
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
        415,
        "UnsupportedMediaType",
        "The body has a `Content-Type` that is not JSON: send `application/json` (parameters \
         such as `charset=utf-8` allowed; `application/*+json` also accepted), or none.",
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

/// A route's doc with its tag and summary, the rest empty.
pub(crate) fn doc(tag: &'static str, summary: &'static str) -> Doc {
    Doc {
        tag,
        summary,
        description: None,
        query: Vec::new(),
        body: None,
        ok: Vec::new(),
        errors: &[],
    }
}
