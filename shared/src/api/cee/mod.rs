//! The CEE API (cee.md): simulate, register, import, import identity, find, delete, and the
//! registry's public key. Every operator route is scoped to the caller's operator and
//! counts against the shared CEE rate limit.

#[cfg(feature = "openapi")]
pub(crate) mod doc;
mod register;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{header, Response, StatusCode};
use serde::Serialize;
use serde_json::{json, Value};

use super::error::{json_response, ApiError, Detail};
use super::listing::{query_pairs, value};
use super::Ctx;
use crate::app::App;
use crate::cee::errorlog::{self, Kind};
use crate::cee::history::{self, NewApplication, Outcome, Person};
use crate::cee::imports::{self, ItemError};
use crate::clock::rfc3339;
use crate::domain::cee::fields::{
    self, DrivingLicense, IdentityKey, JourneyType, LastNameTrunc, Reader,
};
use crate::domain::cee::rules::{self, Record};
use crate::domain::cee::signature::{token_message, Signer};
use crate::domain::journey::JourneyStatus;
use crate::domain::json;
use crate::domain::operator::OperatorId;
use crate::domain::phone::PhoneTrunc;
use crate::records::cee::CeeApplication;
use crate::records::journey::JourneyRecord;
use crate::records::keys;
use crate::store::Item;

pub use register::register;

/// Namespace of the uuids of short applications: one per operator and journey.
const SHORT_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x6c1f_40a4_3f0e_4d7e_9a51_2b7c_cee0_0001);

fn signer(app: &App) -> Result<&Signer, ApiError> {
    app.config.signing_key.as_deref().ok_or_else(|| {
        tracing::error!("REGISTRY_SIGNING_KEY is not configured: CEE tokens cannot be signed");
        ApiError::unavailable()
    })
}

fn body_json(ctx: &Ctx) -> Result<Value, ApiError> {
    json::from_slice(&ctx.body).map_err(|e| {
        ApiError::invalid(
            "invalid_json",
            vec![e.into_detail(|e| format!("the body is not valid JSON: {e}"))],
        )
    })
}

fn invalid(details: Vec<Detail>) -> ApiError {
    ApiError::invalid("invalid_request", details)
}

/// `GET /v2/policies/cee/public-key` (public): the key that verifies tokens, SPKI PEM, its
/// id in the `Key-Id` header. During a rotation the previous keys stay published:
/// `?kid=<id>` answers the key of that id (the `kid` returned with each token), and
/// `?format=json` lists every published key `{current_kid, keys: [{kid, status, pem}]}`.
pub async fn public_key(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let current = signer(app)?.published();
    let previous = app
        .config
        .previous_signing_keys
        .iter()
        .filter(|k| k.kid != current.kid);
    let query = query_pairs(&ctx.query)?;
    let kid = value(&query, "kid");
    let as_json = match value(&query, "format") {
        None | Some("pem") => false,
        Some("json") => true,
        Some(_) => return Err(ApiError::invalid_field("/format", "must be pem or json")),
    };
    if as_json {
        let keys = std::iter::once((current, KeyStatus::Current))
            .chain(previous.map(|k| (k, KeyStatus::Previous)))
            .map(|(k, status)| PublishedKey {
                kid: k.kid.clone(),
                status,
                pem: k.pem.clone(),
            })
            .collect();
        let body = PublishedKeys {
            current_kid: current.kid.clone(),
            keys,
        };
        return Ok(json_response(StatusCode::OK, &body));
    }
    let key = match kid {
        None => current,
        Some(kid) => std::iter::once(current)
            .chain(previous)
            .find(|k| k.kid == kid)
            .ok_or_else(|| ApiError::not_found("signing key"))?,
    };
    let mut response = Response::new(Bytes::from(key.pem.clone()));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/x-pem-file"),
    );
    if let Ok(v) = header::HeaderValue::from_str(&key.kid) {
        response.headers_mut().insert("key-id", v);
    }
    Ok(response)
}

/// `?format=json` of the public-key route: every key whose tokens still verify.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CeePublishedKeys))]
pub struct PublishedKeys {
    /// The key that signs new tokens.
    pub current_kid: String,
    pub keys: Vec<PublishedKey>,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CeePublishedKey))]
pub struct PublishedKey {
    pub kid: String,
    pub status: KeyStatus,
    /// RSA public key, SPKI PEM.
    pub pem: String,
}

#[derive(Serialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CeeKeyStatus))]
pub enum KeyStatus {
    Current,
    Previous,
}

/// `POST /v2/policies/cee`: the application, with the registry's signed token.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CeeRegistered))]
pub struct Registered {
    #[cfg_attr(feature = "openapi", schema(format = Uuid))]
    pub uuid: String,
    /// The operation date (short: the journey's end).
    pub datetime: String,
    /// RSASSA-PKCS1-v1_5 SHA-512 signature, standard base64 (cee.md, "Token").
    pub token: String,
    /// Id of the key that signed `token` (`GET /v2/policies/cee/public-key?kid=`).
    pub kid: String,
    /// Short only: the journey.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub journey_id: Option<String>,
    /// Short only: the journey's registry status.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = JourneyStatus))]
    pub status: Option<JourneyStatus>,
}

/// A CEE application as `GET /v2/policies/cee/{uuid}` shows it.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CeeApplication))]
pub struct Application {
    #[cfg_attr(feature = "openapi", schema(format = Uuid))]
    pub uuid: String,
    /// `short` or `long`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^(short|long)$"))]
    pub journey_type: String,
    pub datetime: String,
    /// Short only (else null): the journey.
    pub journey_id: Option<String>,
    /// Short only (else null): the journey's registry status.
    pub status: Option<JourneyStatus>,
    pub token: String,
    /// Id of the key that signed `token`; absent for applications signed before key ids
    /// existed (the first key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
}

/// The result of an import: each failed item is echoed with its `error`
/// (`conflict`, `not_found` or `already_set`), in input order.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CeeImportReport))]
pub struct ImportReport {
    pub imported: usize,
    pub failed: usize,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub failed_details: Vec<Value>,
}

/// 409 naming the earlier record: its operation date, and for the caller's own
/// application its uuid (and for short its journey and the journey's status).
async fn conflict(app: &App, operator: OperatorId, record: &Record) -> ApiError {
    let mut data = json!({"datetime": rfc3339(record.datetime)});
    if record.operator_id == operator {
        if let Some(uuid) = &record.uuid {
            data["uuid"] = json!(uuid);
        }
        if let Some(journey_id) = &record.journey_id {
            data["journey_id"] = json!(journey_id);
            let status = app
                .store
                .get(&keys::journey(operator, journey_id))
                .await
                .ok()
                .flatten()
                .and_then(|item| JourneyRecord::from_item(&item).status)
                .map(|status| status.as_str().to_owned());
            data["status"] = json!(status);
        }
    }
    ApiError::conflict(format!(
        "this person already has a CEE record dated {} within the look-back period",
        rfc3339(record.datetime)
    ))
    .with_data(data)
}

// ---------------------------------------------------------------- simulate

/// `POST /v2/policies/cee/simulate`: the history search with today as the reference date.
pub async fn simulate(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let operator = ctx.operator()?;
    let body = body_json(ctx)?;
    let mut r = Reader::new(&body, "");
    r.only(&[
        "journey_type",
        "last_name_trunc",
        "phone_trunc",
        "driving_license",
        "identity_key",
    ]);
    let journey_type = r.required("journey_type", JourneyType::parse);
    let last_name = r.required("last_name_trunc", LastNameTrunc::parse);
    let phone = r.required("phone_trunc", fields::parse_phone_trunc);
    let licence = r.optional("driving_license", DrivingLicense::parse);
    let identity = r.optional("identity_key", IdentityKey::parse);
    let (Some(journey_type), Some(last_name), Some(phone), true) =
        (journey_type, last_name, phone, r.details.is_empty())
    else {
        return Err(invalid(r.details));
    };
    let person = Person::searched(
        &app.config,
        identity.as_ref(),
        licence.as_ref(),
        &last_name,
        &phone,
    );
    let records = history::read(app, journey_type, &person).await?.records();
    match rules::first_blocking(&records, journey_type, app.clock.now()) {
        Some(record) => Err(conflict(app, operator, record).await),
        None => {
            let mut response = Response::new(Bytes::new());
            *response.status_mut() = StatusCode::OK;
            Ok(response)
        }
    }
}

// ---------------------------------------------------------------- imports

fn batch_response(
    status: StatusCode,
    body: &Value,
    results: &[Result<(), ItemError>],
) -> Response<Bytes> {
    let items = body.as_array().map(Vec::as_slice).unwrap_or_default();
    let mut failed_details = Vec::new();
    for (item, result) in items.iter().zip(results) {
        if let Err(e) = result {
            let mut detail = item.clone();
            detail["error"] = json!(e.as_str());
            failed_details.push(detail);
        }
    }
    json_response(
        status,
        &ImportReport {
            imported: results.len() - failed_details.len(),
            failed: failed_details.len(),
            failed_details,
        },
    )
}

/// `POST /v2/policies/cee/import`: the operator's earlier specific operations.
pub async fn import(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let operator = ctx.operator()?;
    let body = body_json(ctx)?;
    let items = imports::parse_batch(&body, imports::import_item).map_err(invalid)?;
    let results = imports::import(app, operator, &items).await?;
    Ok(batch_response(StatusCode::CREATED, &body, &results))
}

/// `POST /v2/policies/cee/import/identity`: identity keys for records that lack one.
pub async fn import_identity(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let operator = ctx.operator()?;
    let body = body_json(ctx)?;
    let items = imports::parse_batch(&body, imports::identity_item).map_err(invalid)?;
    let results = imports::attach_identities(app, operator, &items).await?;
    Ok(batch_response(StatusCode::OK, &body, &results))
}

// ---------------------------------------------------------------- find, delete

fn uuid_param(ctx: &Ctx) -> Result<String, ApiError> {
    uuid::Uuid::try_parse(ctx.param("uuid"))
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| ApiError::invalid_field("/uuid", "must be a UUID"))
}

/// `GET /v2/policies/cee/{uuid}`.
pub async fn find(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let operator = ctx.operator()?;
    let uuid = uuid_param(ctx)?;
    let item = app
        .store
        .get(&keys::cee_application(&uuid))
        .await?
        .filter(|item| CeeApplication::operator_of(item) == Some(operator))
        .ok_or_else(|| ApiError::not_found("CEE application"))?;
    let unreadable = || {
        tracing::error!(%uuid, "unreadable CEE application");
        ApiError::internal()
    };
    let stored = CeeApplication::from_item(&item).ok_or_else(unreadable)?;
    let journey_id = stored.journey_id.as_deref();
    let status = match journey_id {
        Some(j) => app
            .store
            .get(&keys::journey(operator, j))
            .await?
            .and_then(|journey| JourneyRecord::from_item(&journey).status),
        None => None,
    };
    let application = Application {
        uuid: uuid.clone(),
        journey_type: stored.journey_type.clone(),
        datetime: stored.datetime.clone(),
        journey_id: journey_id.map(str::to_owned),
        status,
        token: stored.token.clone(),
        kid: stored.kid.clone(),
    };
    Ok(json_response(StatusCode::OK, &application))
}

/// `DELETE /v2/policies/cee/{uuid}`: archived with its deletion time, no longer counted.
pub async fn delete(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let operator = ctx.operator()?;
    let uuid = uuid_param(ctx)?;
    if !history::delete(app, operator, &uuid).await? {
        return Err(ApiError::not_found("CEE application"));
    }
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}
