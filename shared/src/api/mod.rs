//! HTTP handlers: `http::Request<Bytes>` in, `http::Response<Bytes>` out, the same behind
//! API Gateway (one Lambda per route) and behind `registry serve` (all routes).

pub mod auth;
pub mod campaigns;
pub mod cee;
pub mod certificates;
pub mod console;
pub mod error;
#[cfg(test)]
mod journey_properties;
pub mod journeys;
mod listing;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod operators;
pub mod ratelimit;
pub mod router;
pub mod statements;

use std::time::Instant;

use bytes::Bytes;
use http::{header, HeaderMap, Method, Request, Response, StatusCode};
use serde::de::DeserializeOwned;

use tracing::Instrument;

use crate::app::App;
use crate::domain::error::serde_detail;
use crate::domain::operator::OperatorId;
use error::{ApiError, Detail};
use router::{Params, RouteError, RouteId};

/// Largest accepted request body.
pub use crate::domain::journey::MAX_BODY_BYTES;
/// Largest body of the CEE import routes (1 000 items of up to ~300 bytes).
pub const MAX_IMPORT_BODY_BYTES: usize = 1024 * 1024;
/// The largest body any route accepts (what a server reads before routing).
pub const MAX_REQUEST_BYTES: usize = MAX_IMPORT_BODY_BYTES;

/// What a handler sees of a request.
pub struct Ctx {
    pub route: RouteId,
    pub params: Params,
    pub headers: HeaderMap,
    pub query: String,
    pub body: Bytes,
    /// The caller, admitted by the route's access ([`auth::admit`]); `None` on public routes.
    pub principal: Option<auth::Principal>,
}

impl Ctx {
    /// The body as one JSON object; 400 when it is not JSON or not an object.
    pub fn json_object(&self) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
        match crate::domain::json::from_slice(&self.body) {
            Ok(serde_json::Value::Object(map)) => Ok(map),
            Ok(_) => Err(ApiError::invalid(
                "invalid_json",
                vec![Detail::new("", "the body must be a JSON object")],
            )),
            Err(e) => Err(ApiError::invalid(
                "invalid_json",
                vec![e.into_detail(|e| format!("the body is not valid JSON: {e}"))],
            )),
        }
    }

    /// The body parsed into `T` (unknown fields refused by `T`); an empty body is `{}`.
    /// Errors name the field with a JSON pointer.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        let value = if self.body.iter().all(u8::is_ascii_whitespace) {
            serde_json::Value::Object(Default::default())
        } else {
            serde_json::Value::Object(self.json_object()?)
        };
        serde_path_to_error::deserialize(value)
            .map_err(|e| ApiError::invalid("invalid_request", vec![serde_detail(e)]))
    }

    pub fn param(&self, name: &str) -> &str {
        self.params.get(name).unwrap_or_default()
    }

    /// The admitted caller (a route whose access is not public always has one).
    pub fn principal(&self) -> Result<&auth::Principal, ApiError> {
        self.principal.as_ref().ok_or_else(ApiError::internal)
    }

    /// The operator of the admitted token (application routes always have one).
    pub fn operator(&self) -> Result<OperatorId, ApiError> {
        self.principal()?
            .role
            .operator()
            .ok_or_else(ApiError::internal)
    }
}

fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Handles one request. `only` restricts it to one route (a Lambda serves one route:
/// anything else is 404, as if the route did not exist).
pub async fn handle(
    app: &App,
    request: Request<Bytes>,
    only: Option<RouteId>,
    request_id: Option<String>,
) -> Response<Bytes> {
    let started = Instant::now();
    let request_id = request_id.unwrap_or_else(new_request_id);
    let method = request.method().clone();
    let found = router::find(&method, request.uri().path())
        .ok()
        .filter(|(route, _)| only.is_none_or(|id| id == route.id));
    let route_name = found.as_ref().map_or("none", |(r, _)| r.function);
    let span = tracing::info_span!("request", request_id = %request_id, route = route_name, operator_id = tracing::field::Empty);
    let response = match found {
        Some((route, params)) => {
            dispatch(app, request, route.id, params)
                .instrument(span.clone())
                .await
        }
        None => unrouted(&method, request.uri().path()),
    };
    let _enter = span.enter();
    tracing::info!(
        method = %method,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    let mut response = response;
    if let Ok(v) = header::HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", v);
    }
    response
}

/// The answer for a request no route takes: the console's files ([`console`]) for `GET`,
/// 405 with `Allow` when the path exists with other methods, else 404. Served on AWS by
/// the `not-found` function (API Gateway's `$default` route), so the console is deployed
/// with the stack and unknown routes get the same JSON errors as locally.
pub fn unrouted(method: &Method, path: &str) -> Response<Bytes> {
    if method == Method::GET {
        if let Some(file) = console::asset(path) {
            return file;
        }
    }
    match router::find(method, path) {
        Err(RouteError::MethodNotAllowed(allowed)) => method_not_allowed(&allowed),
        Ok(_) | Err(RouteError::NotFound) => ApiError::not_found("route").into_response(),
    }
}

async fn dispatch(
    app: &App,
    request: Request<Bytes>,
    route: RouteId,
    params: Params,
) -> Response<Bytes> {
    let (parts, body) = request.into_parts();
    let limit = route.route().body.limit();
    if body.len() > limit {
        return ApiError::payload_too_large(limit).into_response();
    }
    if route.takes_body() && !body.iter().all(u8::is_ascii_whitespace) {
        if let Some(content_type) = parts.headers.get(header::CONTENT_TYPE) {
            if !json_content_type(content_type.as_bytes()) {
                return ApiError::unsupported_media_type().into_response();
            }
        }
    }
    let principal = match auth::admit(
        app,
        route.route(),
        &parts.headers,
        params.get("operator_id"),
    )
    .await
    {
        Ok(principal) => principal,
        Err(e) => return e.into_response(),
    };
    let ctx = Ctx {
        route,
        params,
        headers: parts.headers,
        query: parts.uri.query().unwrap_or_default().to_owned(),
        body,
        principal,
    };
    let result = router::call(route, app, &ctx).await;
    result.unwrap_or_else(ApiError::into_response)
}

/// Whether a `Content-Type` announces JSON: `application/json` or `application/…+json`
/// (RFC 6839, e.g. `application/merge-patch+json`), any case, with or without
/// parameters (`; charset=utf-8`). The body is read as UTF-8 JSON whatever they say.
pub fn json_content_type(value: &[u8]) -> bool {
    let Ok(value) = std::str::from_utf8(value) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json")
            || (subtype.len() > 5
                && subtype
                    .get(subtype.len() - 5..)
                    .is_some_and(|s| s.eq_ignore_ascii_case("+json"))))
}

fn method_not_allowed(allowed: &[Method]) -> Response<Bytes> {
    let mut response = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not accept this method",
    )
    .into_response();
    let allow: Vec<&str> = allowed.iter().map(Method::as_str).collect();
    if let Ok(v) = header::HeaderValue::from_str(&allow.join(", ")) {
        response.headers_mut().insert(header::ALLOW, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::json_content_type;

    #[test]
    fn json_content_types() {
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON;charset=UTF-8",
            " application/json ",
            "application/merge-patch+json",
            "application/vnd.api+json; charset=utf-8",
        ] {
            assert!(json_content_type(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "text/plain",
            "text/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/jsonp",
            "application/+json",
            "application/xml",
            "json",
            "",
        ] {
            assert!(!json_content_type(bad.as_bytes()), "{bad}");
        }
        assert!(!json_content_type(b"application/json\xff"));
    }
}
