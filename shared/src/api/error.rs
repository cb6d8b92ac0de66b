//! The one error type of the HTTP API and its JSON body:
//! `{"error": {"code", "message", "details": [{"path", "reason"}]}}`.

use bytes::Bytes;
use http::{header, Response, StatusCode};
use serde::Serialize;

use crate::store::StoreError;

pub use crate::domain::error::Detail;

#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Vec<Detail>,
    pub retry_after: Option<u64>,
    /// Structured facts about the error (`error.data`), e.g. the earlier CEE application
    /// behind a 409.
    pub data: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
            retry_after: None,
            data: None,
        }
    }

    pub fn with_data(mut self, data: serde_json::Value) -> Self {
        self.data = Some(data);
        self
    }

    pub fn with_details(mut self, details: Vec<Detail>) -> Self {
        self.details = details;
        self
    }

    /// 400 with every violation listed.
    pub fn invalid(code: &'static str, details: Vec<Detail>) -> Self {
        let n = details.len();
        let message = match n {
            1 => "1 error in the request".to_owned(),
            n => format!("{n} errors in the request"),
        };
        ApiError::new(StatusCode::BAD_REQUEST, code, message).with_details(details)
    }

    pub fn invalid_field(path: &str, reason: &str) -> Self {
        ApiError::invalid("invalid_request", vec![Detail::new(path, reason)])
    }

    pub fn unauthorized() -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing, malformed, unknown or revoked token",
        )
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(what: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn too_many_requests(retry_after: u64) -> Self {
        ApiError {
            retry_after: Some(retry_after),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("rate limit reached, retry in {retry_after} s"),
            )
        }
    }

    pub fn payload_too_large(limit: usize) -> Self {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body must not exceed {limit} bytes"),
        )
    }

    /// 415: a body whose `Content-Type` is not JSON ([`super::json_content_type`]).
    pub fn unsupported_media_type() -> Self {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the body must be JSON: send it with Content-Type application/json (parameters \
             such as charset=utf-8 allowed; application/*+json also accepted), or without \
             Content-Type",
        )
    }

    pub fn unavailable() -> Self {
        ApiError {
            retry_after: Some(1),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the registry is temporarily unavailable; nothing was written, retry later",
            )
        }
    }

    pub fn internal() -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; it has been logged",
        )
    }

    pub fn into_response(self) -> Response<Bytes> {
        let body = ErrorBody {
            error: ErrorObject {
                code: self.code,
                message: self.message,
                details: self.details,
                data: self.data,
            },
        };
        let mut response = json_response(self.status, &body);
        if let Some(secs) = self.retry_after {
            if let Ok(v) = header::HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

/// The body of every error answer.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = Error))]
pub struct ErrorBody {
    pub error: ErrorObject,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorObject {
    /// What went wrong, for programs: `invalid_request`, `invalid_json`, `invalid_journey`,
    /// `impossible_journey`, `invalid_campaign`, `unauthorized`, `forbidden`, `not_found`,
    /// `conflict`, `siret_required`, `payload_too_large`, `unsupported_media_type`,
    /// `rate_limited`, `method_not_allowed`, `unavailable`, `internal`.
    pub code: &'static str,
    /// What went wrong, for people.
    pub message: String,
    /// Every violation found (400 and 422), each with the JSON pointer of its field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<Detail>,
    /// Structured facts about the error, e.g. the earlier CEE application behind a 409.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub data: Option<serde_json::Value>,
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(reason) => {
                tracing::error!(%reason, "store unavailable");
                ApiError::unavailable()
            }
            other => {
                tracing::error!(error = %other, "unexpected store error");
                ApiError::internal()
            }
        }
    }
}

pub fn json_response(status: StatusCode, body: &impl Serialize) -> Response<Bytes> {
    let body = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = Response::new(Bytes::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

impl From<crate::admin::AdminError> for ApiError {
    fn from(e: crate::admin::AdminError) -> Self {
        use crate::admin::AdminError;
        match e {
            AdminError::NotFound(what) => ApiError::not_found(what),
            AdminError::Invalid(detail) => ApiError::invalid("invalid_request", vec![detail]),
            AdminError::Unavailable => ApiError::unavailable(),
            AdminError::Internal => {
                tracing::error!("unreadable stored operator or token");
                ApiError::internal()
            }
            AdminError::Store(e) => e.into(),
        }
    }
}

impl From<crate::journeys::JourneyError> for ApiError {
    fn from(e: crate::journeys::JourneyError) -> Self {
        use crate::journeys::JourneyError;
        match e {
            JourneyError::NotFound => ApiError::not_found("journey"),
            JourneyError::Busy => ApiError::unavailable(),
            JourneyError::Store(e) => e.into(),
        }
    }
}

impl From<crate::campaigns::CampaignError> for ApiError {
    fn from(e: crate::campaigns::CampaignError) -> Self {
        use crate::campaigns::CampaignError;
        match e {
            CampaignError::InvalidDocument(details) => {
                ApiError::invalid("invalid_campaign", details)
            }
            CampaignError::Invalid(detail) => ApiError::invalid("invalid_request", vec![detail]),
            CampaignError::NotFound => ApiError::not_found("campaign"),
            CampaignError::AlreadyExists(id) => ApiError::conflict(format!(
                "campaign {id} already exists; update it (before its start) or close it"
            ))
            .with_details(vec![Detail::new("/id", "already exists")]),
            CampaignError::Conflict(message) => ApiError::conflict(message),
            CampaignError::Internal => {
                tracing::error!("unreadable stored campaign");
                ApiError::internal()
            }
            CampaignError::Store(e) => e.into(),
        }
    }
}
