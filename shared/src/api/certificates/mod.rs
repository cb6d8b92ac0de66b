//! `POST /v2/certificates`, `GET /v2/certificates/{uuid}` (public) and
//! `GET /v2/certificates/{uuid}/attachment?format=pdf|png` (SPEC §6).
//!
//! A certificate is computed from the person's trip index with this operator (one query on
//! one partition, see docs/DATA_MODEL.md) and stored once as a record; the check and the
//! attachment only read that record. An identity without journeys gets a certificate with
//! zero totals: "no carpooling in this period" is a valid answer, and answering 404 would
//! let a caller probe which phone numbers carpool.

#[cfg(feature = "openapi")]
pub(crate) mod doc;
mod page;

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use serde::Serialize;

use super::error::{json_response, ApiError, Detail};
use super::listing::{query_pairs, value};
use super::Ctx;
use crate::admin;
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::certificate::{self, Certificate, Format, Issuer, Period, Trip};
use crate::domain::identity::identifiers_key;
use crate::domain::operator::OperatorId;
use crate::records::keys;
use crate::store::{Condition, Query};

/// Trip-index entries read per query page (a ~250-byte entry: far below DynamoDB's 1 MB).
const PAGE: usize = 1_000;

pub async fn create(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let operator = ctx.operator()?;
    let request = certificate::parse_request(&ctx.body).map_err(bad_request)?;
    let now = app.clock.now();
    let period = request.period(now).map_err(bad_request)?;

    // During a rotation of the hash secret, entries not re-keyed yet are under the previous
    // key: read it first, then the current one (an entry moved meanwhile is read twice and
    // counted once, never missed).
    let persons: Vec<String> = app
        .config
        .hash_secret_previous
        .iter()
        .chain(std::iter::once(&app.config.hash_secret))
        .map(|secret| identifiers_key(secret, operator, &request.identity.identifiers))
        .collect();
    let mut entries = std::collections::BTreeMap::new();
    for person in &persons {
        person_trips(app, operator, person, &period, &mut entries).await?;
    }
    let trips: Vec<Trip> = entries.into_values().collect();
    let meta = certificate::summarise(trips, &period, request.tz, &request.positions);
    let name = admin::get_operator(app, operator)
        .await?
        .map(|o| o.name)
        .ok_or_else(|| {
            tracing::error!("token of an operator that does not exist");
            ApiError::internal()
        })?;
    let record = Certificate {
        uuid: uuid::Uuid::new_v4(),
        created_at: rfc3339(now),
        operator: Issuer { id: operator, name },
        meta,
    };
    app.store
        .put(record.to_item(), Some(Condition::NotExists))
        .await?;
    Ok(json_response(
        StatusCode::CREATED,
        &Issued {
            uuid: record.uuid,
            created_at: record.created_at,
            meta: record.meta,
        },
    ))
}

/// `POST /v2/certificates`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CertificateIssued))]
pub struct Issued {
    pub uuid: uuid::Uuid,
    pub created_at: String,
    pub meta: certificate::Meta,
}

/// `GET /v2/certificates/{uuid}`: what a third party needs to check a paper copy.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CertificateCheck))]
pub struct Check {
    pub uuid: uuid::Uuid,
    pub created_at: String,
    /// Always true: the registry issued it.
    pub valid: bool,
    pub issuer: &'static str,
    pub operator: Issuer,
    pub meta: PublicMeta,
    /// SHA-256 of the record, as printed on the attestation.
    pub fingerprint: String,
}

/// A certificate's figures without the person's positions (only how many there were).
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CertificatePublicMeta))]
pub struct PublicMeta {
    pub tz: String,
    pub start_at: Option<String>,
    pub end_at: String,
    /// How many positions the request had.
    pub positions: usize,
    pub months: Vec<certificate::Month>,
    pub total: certificate::Totals,
}

/// Adds the person's trips of the period to `trips`, by index sort key (start order; one
/// journey and role once).
async fn person_trips(
    app: &App,
    operator: OperatorId,
    person: &str,
    period: &Period,
    trips: &mut std::collections::BTreeMap<String, Trip>,
) -> Result<(), ApiError> {
    let mut cursor = None;
    loop {
        let page = app
            .store
            .query(
                Query::partition(keys::person_trips(operator, person))
                    .range(crate::records::certificate::index_range(period))
                    .limit(PAGE)
                    .after(cursor),
            )
            .await?;
        for item in &page.items {
            match Trip::from_item(item) {
                Some(trip) => {
                    trips.insert(item.key.sk.clone(), trip);
                }
                // Only processing writes entries: an unreadable one is a bug, not input.
                None => tracing::error!(sk = %item.key.sk, "unreadable trip-index entry skipped"),
            }
        }
        cursor = page.next;
        if cursor.is_none() {
            return Ok(());
        }
    }
}

/// The record, or 404 for a malformed or unknown uuid.
async fn load(app: &App, ctx: &Ctx) -> Result<Certificate, ApiError> {
    let not_found = || ApiError::not_found("certificate");
    let uuid = uuid::Uuid::try_parse(ctx.param("uuid")).map_err(|_| not_found())?;
    let item = app
        .store
        .get(&keys::certificate(&uuid))
        .await?
        .ok_or_else(not_found)?;
    Certificate::from_item(&item).ok_or_else(|| {
        tracing::error!(%uuid, "unreadable certificate record");
        ApiError::internal()
    })
}

/// Public: what a third party needs to check a paper copy. Shows no personal data (the
/// record holds none) and not the person's positions.
pub async fn find(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let html = page::wants_html(&ctx.headers);
    let record = match load(app, ctx).await {
        Err(e) if html && e.status == StatusCode::NOT_FOUND => return Ok(page::unknown()),
        other => other?,
    };
    let fingerprint = record.fingerprint();
    let Certificate {
        uuid,
        created_at,
        operator,
        meta,
    } = record;
    let check = Check {
        uuid,
        created_at,
        valid: true,
        issuer: "Registre de preuve de covoiturage",
        operator,
        meta: PublicMeta {
            tz: meta.tz,
            start_at: meta.start_at,
            end_at: meta.end_at,
            // Where someone lives or works is not for the public: only how many places.
            positions: meta.positions.len(),
            months: meta.months,
            total: meta.total,
        },
        fingerprint,
    };
    if html {
        return Ok(page::genuine(&check));
    }
    let mut response = json_response(StatusCode::OK, &check);
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
    Ok(response)
}

/// `?format=pdf|png` (default `pdf`).
fn format_of(query: &str) -> Result<Format, ApiError> {
    match value(&query_pairs(query)?, "format") {
        None => Ok(Format::Pdf),
        Some(f) => Format::parse(f).ok_or_else(|| {
            ApiError::invalid(
                "invalid_request",
                vec![Detail::new("/format", "must be pdf or png")],
            )
        }),
    }
}

pub async fn attachment(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let operator = ctx.operator()?;
    let format = format_of(&ctx.query)?;
    let record = load(app, ctx).await?;
    if record.operator.id != operator {
        return Err(ApiError::not_found("certificate"));
    }
    let bytes = render(app, record.clone(), format).await?;
    let mut response = Response::new(Bytes::from(bytes));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    let disposition = format!(
        "attachment; filename=\"attestation-{}.{}\"",
        record.uuid,
        format.extension()
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

#[cfg(feature = "render")]
async fn render(app: &App, record: Certificate, format: Format) -> Result<Vec<u8>, ApiError> {
    let url = record.check_url(&app.config.public_url);
    // CPU work (tens of ms): off the async workers.
    tokio::task::spawn_blocking(move || crate::certificate::render(&record, &url, format))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|e| {
            tracing::error!(error = %e, "certificate rendering failed");
            ApiError::internal()
        })
}

/// Only the `certificates-attachment` function (functions/render) and `registry` carry the
/// renderer; the other functions never serve this route.
#[cfg(not(feature = "render"))]
async fn render(_: &App, _: Certificate, _: Format) -> Result<Vec<u8>, ApiError> {
    tracing::error!("this binary was built without the certificate renderer (feature `render`)");
    Err(ApiError::internal())
}

/// 400 `invalid_certificate` with every violation.
fn bad_request(invalid: crate::domain::journey_v2::Invalid) -> ApiError {
    ApiError::invalid("invalid_certificate", invalid.details)
}
