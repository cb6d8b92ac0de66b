//! The routing table: each HTTP route declared once, with its method, path, Lambda
//! function, who may call it, its rate-limit class and its handler. Dispatch,
//! authentication, rate limiting and the OpenAPI document read it; tests/routes.rs checks
//! functions/, template.yaml, events/ and the README against it. `registry serve` mounts
//! every route; each Lambda serves only its own.

use bytes::Bytes;
use http::{Method, Response};

use super::auth::Access;
use super::error::ApiError;
use super::ratelimit::RateClass;
use super::{campaigns, cee, certificates, journeys, operators, statements, Ctx};
use super::{MAX_BODY_BYTES, MAX_IMPORT_BODY_BYTES};
use crate::app::App;
use crate::domain::token::Permission as P;

/// One HTTP route: everything the registry knows about it besides its handler's code.
#[derive(Debug, PartialEq)]
pub struct Route {
    pub id: RouteId,
    pub method: Method,
    /// Segments in braces are parameters: `/v2/journeys/{journey_id}`.
    pub path: &'static str,
    /// Name of the Lambda function (binary in functions/, resource in template.yaml).
    pub function: &'static str,
    /// Who may call it, checked before the handler runs ([`super::auth::admit`]).
    pub access: Access,
    /// The rate-limit class counted for the caller's operator, when the caller's token
    /// belongs to an operator ([`super::auth::admit`]); `None`: not rate-limited.
    pub rate: Option<RateClass>,
    /// The request body it reads, and so its size limit and whether its `Content-Type`
    /// must be JSON.
    pub body: Body,
    /// Whether it parses phone numbers: its Lambda then loads the phone metadata during
    /// init (~7 ms), not in the first request after a cold start.
    pub phones: bool,
}

/// The request body of a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    /// None is read; a body over [`MAX_BODY_BYTES`] is still refused (413).
    None,
    /// A JSON document of up to [`MAX_BODY_BYTES`].
    Json,
    /// A JSON batch of the CEE import routes, up to [`MAX_IMPORT_BODY_BYTES`].
    Import,
}

impl Body {
    /// The largest body accepted (else 413).
    pub fn limit(self) -> usize {
        match self {
            Body::None | Body::Json => MAX_BODY_BYTES,
            Body::Import => MAX_IMPORT_BODY_BYTES,
        }
    }
}

/// Declares [`RouteId`], [`ROUTES`] (in the same order: `ROUTES[id as usize].id == id`) and
/// the dispatch from a route to its handler, from one entry per route.
macro_rules! routes {
    ($(
        $id:ident {
            $method:ident $path:literal,
            function: $function:literal,
            access: $access:expr,
            rate: $rate:expr,
            body: $body:expr,
            $(phones: $phones:literal,)?
            handler: $handler:path,
            doc: $doc:path $(,)?
        }
    )*) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum RouteId {
            $($id,)*
        }

        /// The routing table. The fixed CEE paths win over `/v2/policies/cee/{uuid}`
        /// whatever their order (see [`find`]).
        pub const ROUTES: &[Route] = &[
            $(Route {
                id: RouteId::$id,
                method: Method::$method,
                path: $path,
                function: $function,
                access: $access,
                rate: $rate,
                body: $body,
                phones: false $(|| $phones)?,
            },)*
        ];

        /// Runs the handler of `route` (authentication and rate limit already passed).
        pub(super) async fn call(
            route: RouteId,
            app: &App,
            ctx: &Ctx,
        ) -> Result<Response<Bytes>, ApiError> {
            match route {
                $(RouteId::$id => $handler(app, ctx).await,)*
            }
        }

        /// What `route` takes and answers, for the OpenAPI document: its handler's `doc`.
        #[cfg(feature = "openapi")]
        pub(super) fn describe(
            route: RouteId,
            s: &mut super::openapi::Schemas,
        ) -> super::openapi::Doc {
            match route {
                $(RouteId::$id => $doc(s),)*
            }
        }
    };
}

// The one declaration of each HTTP route. A new route needs its handler and, next to it in
// the handler's module, its OpenAPI description (`doc`: `api/<module>/doc.rs`, a function
// named after the handler); tests/routes.rs then names the functions/ binary, template.yaml
// event, events/ sample and README row it still needs.
routes! {
    JourneysCreate {
        POST "/v2/journeys",
        function: "journeys-create",
        access: Access::Application(P::JourneyCreate),
        rate: Some(RateClass::Acquisition),
        body: Body::Json,
        phones: true,
        handler: journeys::create,
        doc: journeys::doc::create,
    }
    JourneysList {
        GET "/v2/journeys",
        function: "journeys-list",
        access: Access::OwnOperator(P::JourneyRead),
        rate: Some(RateClass::Other),
        body: Body::None,
        handler: journeys::list::list,
        doc: journeys::doc::list,
    }
    JourneysStatus {
        GET "/v2/journeys/{journey_id}",
        function: "journeys-status",
        access: Access::Application(P::JourneyRead),
        rate: Some(RateClass::Other),
        body: Body::None,
        handler: journeys::status,
        doc: journeys::doc::status,
    }
    JourneysCancel {
        DELETE "/v2/journeys/{journey_id}",
        function: "journeys-cancel",
        access: Access::Application(P::JourneyDelete),
        rate: Some(RateClass::Other),
        body: Body::Json,
        handler: journeys::cancel,
        doc: journeys::doc::cancel,
    }
    OperatorsCreate {
        POST "/v2/operators",
        function: "operators-create",
        access: Access::RegistryAdmin,
        rate: None,
        body: Body::Json,
        handler: operators::create,
        doc: operators::doc::create,
    }
    OperatorsList {
        GET "/v2/operators",
        function: "operators-list",
        access: Access::RegistryAdmin,
        rate: None,
        body: Body::None,
        handler: operators::list,
        doc: operators::doc::list,
    }
    OperatorsGet {
        GET "/v2/operators/{operator_id}",
        function: "operators-get",
        access: Access::OperatorAdmin,
        rate: None,
        body: Body::None,
        handler: operators::get,
        doc: operators::doc::get,
    }
    OperatorsIncentives {
        GET "/v2/operators/{operator_id}/incentives",
        function: "operators-incentives",
        access: Access::OperatorReader(P::JourneyRead),
        rate: Some(RateClass::Other),
        body: Body::None,
        handler: statements::incentives,
        doc: statements::doc::incentives,
    }
    ApplicationsCreate {
        POST "/v2/operators/{operator_id}/applications",
        function: "applications-create",
        access: Access::OperatorAdmin,
        rate: None,
        body: Body::Json,
        handler: operators::create_token,
        doc: operators::doc::create_token,
    }
    ApplicationsList {
        GET "/v2/operators/{operator_id}/applications",
        function: "applications-list",
        access: Access::OperatorAdmin,
        rate: None,
        body: Body::None,
        handler: operators::list_tokens,
        doc: operators::doc::list_tokens,
    }
    ApplicationsRevoke {
        DELETE "/v2/operators/{operator_id}/applications/{token_id}",
        function: "applications-revoke",
        access: Access::OperatorAdmin,
        rate: None,
        body: Body::None,
        handler: operators::revoke_token,
        doc: operators::doc::revoke_token,
    }
    CeePublicKey {
        GET "/v2/policies/cee/public-key",
        function: "cee-public-key",
        access: Access::Public,
        rate: None,
        body: Body::None,
        handler: cee::public_key,
        doc: cee::doc::public_key,
    }
    CeeSimulate {
        POST "/v2/policies/cee/simulate",
        function: "cee-simulate",
        access: Access::Application(P::CeeSimulate),
        rate: Some(RateClass::Cee),
        body: Body::Json,
        phones: true,
        handler: cee::simulate,
        doc: cee::doc::simulate,
    }
    CeeRegister {
        POST "/v2/policies/cee",
        function: "cee-register",
        access: Access::Application(P::CeeRegister),
        rate: Some(RateClass::Cee),
        body: Body::Json,
        phones: true,
        handler: cee::register,
        doc: cee::doc::register,
    }
    CeeImport {
        POST "/v2/policies/cee/import",
        function: "cee-import",
        access: Access::Application(P::CeeImport),
        rate: Some(RateClass::Cee),
        body: Body::Import,
        phones: true,
        handler: cee::import,
        doc: cee::doc::import,
    }
    CeeImportIdentity {
        POST "/v2/policies/cee/import/identity",
        function: "cee-import-identity",
        access: Access::Application(P::CeeImport),
        rate: Some(RateClass::Cee),
        body: Body::Import,
        phones: true,
        handler: cee::import_identity,
        doc: cee::doc::import_identity,
    }
    CeeFind {
        GET "/v2/policies/cee/{uuid}",
        function: "cee-find",
        access: Access::Application(P::CeeRead),
        rate: Some(RateClass::Cee),
        body: Body::None,
        handler: cee::find,
        doc: cee::doc::find,
    }
    CeeDelete {
        DELETE "/v2/policies/cee/{uuid}",
        function: "cee-delete",
        access: Access::Application(P::CeeDelete),
        rate: Some(RateClass::Cee),
        body: Body::None,
        handler: cee::delete,
        doc: cee::doc::delete,
    }
    CampaignsCreate {
        POST "/v2/campaigns",
        function: "campaigns-create",
        access: Access::RegistryAdmin,
        rate: None,
        body: Body::Json,
        handler: campaigns::create,
        doc: campaigns::doc::create,
    }
    CampaignsSimulate {
        POST "/v2/campaigns/simulate",
        function: "campaigns-simulate",
        access: Access::CampaignReader,
        rate: None,
        body: Body::Json,
        handler: campaigns::simulate,
        doc: campaigns::doc::simulate,
    }
    CampaignsList {
        GET "/v2/campaigns",
        function: "campaigns-list",
        access: Access::CampaignReader,
        rate: None,
        body: Body::None,
        handler: campaigns::list,
        doc: campaigns::doc::list,
    }
    CampaignsGet {
        GET "/v2/campaigns/{campaign_id}",
        function: "campaigns-get",
        access: Access::CampaignReader,
        rate: None,
        body: Body::None,
        handler: campaigns::get,
        doc: campaigns::doc::get,
    }
    CampaignsUpdate {
        PUT "/v2/campaigns/{campaign_id}",
        function: "campaigns-update",
        access: Access::RegistryAdmin,
        rate: None,
        body: Body::Json,
        handler: campaigns::update,
        doc: campaigns::doc::update,
    }
    CampaignsClose {
        POST "/v2/campaigns/{campaign_id}/close",
        function: "campaigns-close",
        access: Access::RegistryAdmin,
        rate: None,
        body: Body::Json,
        handler: campaigns::close,
        doc: campaigns::doc::close,
    }
    CampaignsIncentives {
        GET "/v2/campaigns/{campaign_id}/incentives",
        function: "campaigns-incentives",
        access: Access::CampaignReader,
        rate: None,
        body: Body::None,
        handler: campaigns::incentives,
        doc: campaigns::doc::incentives,
    }
    CertificatesCreate {
        POST "/v2/certificates",
        function: "certificates-create",
        access: Access::Application(P::CertificateCreate),
        rate: Some(RateClass::Other),
        body: Body::Json,
        handler: certificates::create,
        doc: certificates::doc::create,
    }
    CertificatesFind {
        GET "/v2/certificates/{uuid}",
        function: "certificates-find",
        access: Access::Public,
        rate: None,
        body: Body::None,
        handler: certificates::find,
        doc: certificates::doc::find,
    }
    CertificatesAttachment {
        GET "/v2/certificates/{uuid}/attachment",
        function: "certificates-attachment",
        access: Access::Application(P::CertificateRead),
        rate: Some(RateClass::Other),
        body: Body::None,
        handler: certificates::attachment,
        doc: certificates::doc::attachment,
    }
}

impl RouteId {
    pub fn route(self) -> &'static Route {
        // `routes!` writes ROUTES in the order of the variants.
        &ROUTES[self as usize]
    }

    /// Whether the route reads a JSON request body: its `Content-Type`, when there is one
    /// and the body is not empty, must then be JSON (else 415, [`super::json_content_type`]).
    /// The OpenAPI document declares a request body on exactly these routes.
    pub fn takes_body(self) -> bool {
        self.route().body != Body::None
    }
}

/// Path parameters of a matched route, percent-decoded.
#[derive(Debug, Default, PartialEq)]
pub struct Params(Vec<(&'static str, String)>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, PartialEq)]
pub enum RouteError {
    NotFound,
    MethodNotAllowed(Vec<Method>),
}

/// The route of a request. A fixed path wins over a template that also matches it, as in
/// OpenAPI (`/v2/policies/cee/import` is never the `{uuid}` of `/v2/policies/cee/{uuid}`):
/// only the routes whose pattern has the most literal segments are candidates, and a method
/// none of them takes is 405 with their methods.
pub fn find(method: &Method, path: &str) -> Result<(&'static Route, Params), RouteError> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let mut best: Vec<(&'static Route, Params)> = Vec::new();
    let mut best_literals = 0;
    for route in ROUTES {
        let Some(params) = match_path(route.path, &segments) else {
            continue;
        };
        let literals = segments.len() - params.0.len();
        if best.is_empty() || literals > best_literals {
            best.clear();
            best_literals = literals;
        } else if literals < best_literals {
            continue;
        }
        best.push((route, params));
    }
    if best.is_empty() {
        return Err(RouteError::NotFound);
    }
    let mut allowed: Vec<Method> = Vec::new();
    for (route, params) in best {
        if route.method == *method {
            return Ok((route, params));
        }
        if !allowed.contains(&route.method) {
            allowed.push(route.method.clone());
        }
    }
    Err(RouteError::MethodNotAllowed(allowed))
}

fn match_path(pattern: &'static str, segments: &[&str]) -> Option<Params> {
    let pattern: Vec<&'static str> = pattern.split('/').collect();
    if pattern.len() != segments.len() {
        return None;
    }
    let mut params = Vec::new();
    for (p, s) in pattern.iter().zip(segments) {
        if let Some(name) = p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            let value = percent_decode(s)?;
            if value.is_empty() {
                return None;
            }
            params.push((name, value));
        } else if p != s {
            return None;
        }
    }
    Some(Params(params))
}

/// Decodes `%XX` escapes; `None` when the result is not UTF-8 or an escape is broken.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_in_variant_order_with_unique_functions_and_operations() {
        for (i, route) in ROUTES.iter().enumerate() {
            assert_eq!(route.id as usize, i, "{:?}", route.id);
            assert_eq!(route.id.route().id, route.id);
        }
        let mut functions: Vec<_> = ROUTES.iter().map(|r| r.function).collect();
        functions.sort();
        functions.dedup();
        assert_eq!(functions.len(), ROUTES.len());
        let mut operations: Vec<_> = ROUTES.iter().map(|r| (r.method.as_str(), r.path)).collect();
        operations.sort();
        operations.dedup();
        assert_eq!(operations.len(), ROUTES.len());
    }

    #[test]
    fn matches_params_methods_and_unknown_paths() {
        let (r, p) = find(&Method::GET, "/v2/journeys/abc%2F1").unwrap();
        assert_eq!(r.id, RouteId::JourneysStatus);
        assert_eq!(p.get("journey_id"), Some("abc/1"));
        let (r, p) = find(&Method::DELETE, "/v2/operators/7/applications/ff").unwrap();
        assert_eq!(r.id, RouteId::ApplicationsRevoke);
        assert_eq!(
            (p.get("operator_id"), p.get("token_id")),
            (Some("7"), Some("ff"))
        );
        assert_eq!(
            find(&Method::GET, "/v2/operators/").unwrap().0.id,
            RouteId::OperatorsList
        );
        assert_eq!(
            find(&Method::PUT, "/v2/journeys"),
            Err(RouteError::MethodNotAllowed(vec![
                Method::POST,
                Method::GET
            ]))
        );
        assert_eq!(find(&Method::GET, "/v2/nothing"), Err(RouteError::NotFound));
        // Fixed CEE paths win over `{uuid}`.
        assert_eq!(
            find(&Method::GET, "/v2/policies/cee/public-key")
                .unwrap()
                .0
                .id,
            RouteId::CeePublicKey
        );
        assert_eq!(
            find(&Method::POST, "/v2/policies/cee/import").unwrap().0.id,
            RouteId::CeeImport
        );
        assert_eq!(
            find(&Method::DELETE, "/v2/policies/cee/abc").unwrap().0.id,
            RouteId::CeeDelete
        );
        // ... and a method they do not take is 405 with their methods only, never the
        // `{uuid}` route with "public-key" as its uuid.
        assert_eq!(
            find(&Method::DELETE, "/v2/policies/cee/public-key"),
            Err(RouteError::MethodNotAllowed(vec![Method::GET]))
        );
        assert_eq!(
            find(&Method::GET, "/v2/policies/cee/import"),
            Err(RouteError::MethodNotAllowed(vec![Method::POST]))
        );
        assert_eq!(
            find(&Method::OPTIONS, "/v2/journeys/j-1"),
            Err(RouteError::MethodNotAllowed(vec![
                Method::GET,
                Method::DELETE
            ]))
        );
        assert_eq!(
            find(&Method::GET, "/v2/journeys/%zz"),
            Err(RouteError::NotFound)
        );
        assert_eq!(
            find(&Method::GET, "/v2/journeys/%+1"),
            Err(RouteError::NotFound)
        );
        assert_eq!(
            find(&Method::GET, "/v2/journeys/%ff"),
            Err(RouteError::NotFound)
        );
    }
}
