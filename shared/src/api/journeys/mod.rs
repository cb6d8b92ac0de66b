//! `POST /v2/journeys`, `GET` and `DELETE /v2/journeys/{journey_id}`.
//!
//! A journey is parsed as a whole v2 document (400 with every violation), then checked
//! against the reception time (422); one received 120 h or more after its end is stored as
//! `expired` and never processed. The document is kept byte for byte as received (audit),
//! with the hash of its canonical form (sorted keys), so a retry of the same JSON value is
//! recognised whatever its formatting.

pub mod campaigns;
#[cfg(feature = "openapi")]
pub(crate) mod doc;
pub mod list;
pub mod places;

use bytes::Bytes;
use http::{Response, StatusCode};
use serde::Serialize;

use super::error::{json_response, ApiError, Detail};
use super::Ctx;
use crate::app::App;
use crate::campaigns::drafts as incentives;
use crate::clock::rfc3339;
use crate::domain::journey::{CancelReason, JourneyStatus, Receipt, MAX_JOURNEY_ID_CHARS};
use crate::domain::journey_v2::{self, Invalid};
use crate::domain::operator::OperatorId;
use crate::queue::Message;
pub use crate::records::journey::Accepted;
use crate::records::journey::JourneyRecord;
use crate::records::keys;
use crate::store::{Condition, StoreError, WriteOp};

pub async fn create(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let operator = ctx.operator()?;
    // The whole v2 document (400, every violation at once), then the checks that need the
    // reception time (422).
    let doc = journey_v2::json_value(&ctx.body).map_err(Invalid::into_bad_request)?;
    let journey = journey_v2::parse_value(&doc).map_err(Invalid::into_bad_request)?;
    if journey
        .operator_id
        .is_some_and(|declared| declared != operator)
    {
        return Err(ApiError::forbidden(
            "operator_id is not the operator of this token",
        ));
    }
    let received_at = app.clock.now();
    journey_v2::check(&journey, received_at).map_err(Invalid::into_unprocessable)?;
    let Accepted {
        item,
        status,
        doc_hash,
        task,
    } = accepted(
        &app.config.hash_secret,
        operator,
        &journey,
        &doc,
        &ctx.body,
        received_at,
    )?;
    let key = item.key.clone();
    let now = rfc3339(received_at);
    let journey_id = journey.journey_id.clone();
    let messages: Vec<Message> = task.iter().map(|t| Message::new(t.to_body())).collect();
    let write = WriteOp::Put {
        item,
        condition: Some(Condition::NotExists),
    };
    match app.commit(vec![write], messages).await {
        Ok(()) => {
            let receipt = Receipt {
                journey_id,
                created_at: now,
                status,
            };
            Ok(json_response(StatusCode::CREATED, &receipt))
        }
        Err(StoreError::TransactionCanceled { index: 0, .. }) => {
            // Already there: an identical retry gets the original receipt, anything else 409.
            let existing = app
                .store
                .get(&key)
                .await?
                .ok_or_else(ApiError::unavailable)?;
            let existing = JourneyRecord::from_item(&existing);
            let receipt = existing.receipt().ok_or_else(ApiError::internal)?;
            if existing.same_document(&doc_hash) {
                let mut response = json_response(StatusCode::OK, &receipt);
                response.headers_mut().insert(
                    "idempotent-replayed",
                    http::HeaderValue::from_static("true"),
                );
                Ok(response)
            } else {
                Err(ApiError::conflict(format!(
                    "journey {} was already received at {} with a different content; proofs are never modified",
                    receipt.journey_id, receipt.created_at
                ))
                .with_details(vec![Detail::new("/journey_id", format!("created_at {}", receipt.created_at))]))
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// The item `POST /v2/journeys` writes for `journey` (parsed from `doc`, received as the
/// bytes `body`) sent by `operator` at `received_at`: [`JourneyRecord::accepted`], the one
/// constructor of a journey item. Acceptance writes it, tests and tools seed stores with it
/// ([`JourneyRecord::accepted_item`]).
pub fn accepted(
    secret: &str,
    operator: OperatorId,
    journey: &journey_v2::Journey,
    doc: &serde_json::Value,
    body: &[u8],
    received_at: chrono::DateTime<chrono::Utc>,
) -> Result<Accepted, ApiError> {
    JourneyRecord::accepted(secret, operator, journey, doc, body, received_at)
        .ok_or_else(ApiError::internal)
}

pub async fn status(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let operator = ctx.operator()?;
    let journey_id = ctx.param("journey_id");
    if journey_id.chars().count() > MAX_JOURNEY_ID_CHARS {
        return Err(ApiError::not_found("journey"));
    }
    // The journey and its draft incentives: one query of its partition.
    let (item, drafts) = incentives::journey_with_drafts(app, &keys::journey(operator, journey_id))
        .await?
        .ok_or_else(|| ApiError::not_found("journey"))?;
    // Final lines instead of drafts for months made final (two small reads per campaign).
    let incentives = crate::campaigns::monthly::statement::journey_incentives(
        app, operator, journey_id, &drafts,
    )
    .await?;
    let item = JourneyRecord::from_item(&item);
    // `None` only for stored facts (or, before them, a document) that no longer read.
    let facts = item.facts();
    let (start, end) = facts.as_ref().map(places::trip_ends).unzip();
    let processed = !item.is(JourneyStatus::Pending);
    let campaigns = match &facts {
        Some(f) => campaigns::checks(app, operator, f, processed, &incentives).await?,
        None => Vec::new(),
    };
    let view = (|| {
        Some(JourneyView {
            journey_id: item.journey_id.clone()?,
            operator_journey_id: item.operator_journey_id.clone(),
            status: item.status?,
            created_at: item.created_at.clone()?,
            updated_at: item.updated()?.to_owned(),
            fraud_labels: JourneyRecord::labels(&item.fraud_labels),
            anomaly_labels: JourneyRecord::labels(&item.anomaly_labels),
            start,
            end,
            incentives,
            campaigns,
        })
    })()
    .ok_or_else(|| {
        tracing::error!("unreadable journey item");
        ApiError::internal()
    })?;
    Ok(json_response(StatusCode::OK, &view))
}

/// `GET /v2/journeys/{journey_id}`: a journey and what became of it.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JourneyView {
    pub journey_id: String,
    /// The operator's trip id, when the document had one.
    pub operator_journey_id: Option<String>,
    pub status: JourneyStatus,
    pub created_at: String,
    pub updated_at: String,
    /// What the fraud pass found (`too_many_trips_by_day`, `temporal_overlap`,
    /// `too_close_trips`, `interchangeable_roles`).
    pub fraud_labels: Vec<String>,
    /// What processing found (`distance_shorter_than_straight_line`, `speed_too_high`,
    /// `distance_too_short`).
    pub anomaly_labels: Vec<String>,
    /// Where the passenger's trip starts: country, and the commune (the INSEE code sent,
    /// else the coordinates resolved) with its EPCI, département and région.
    pub start: Option<places::EndView>,
    /// Where it ends, likewise.
    pub end: Option<places::EndView>,
    pub incentives: Vec<incentives::StatusView>,
    /// Every campaign active on the journey's date: whether it pays it, and if not, why.
    pub campaigns: Vec<campaigns::CampaignCheck>,
}

/// `DELETE /v2/journeys/{journey_id}`: the journey, canceled.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Canceled {
    pub journey_id: String,
    /// Always `canceled`.
    pub status: JourneyStatus,
    /// When it was first canceled (a repeated call answers the same time).
    pub canceled_at: String,
}

/// `DELETE /v2/journeys/{journey_id}`: the operator invalidates a journey. It stays stored
/// with its cancel time and reason; repeating the call answers the first `canceled_at`.
pub async fn cancel(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let operator = ctx.operator()?;
    let journey_id = ctx.param("journey_id");
    if journey_id.chars().count() > MAX_JOURNEY_ID_CHARS {
        return Err(ApiError::not_found("journey"));
    }
    let reason: CancelReason = ctx.json()?;
    let problems = reason.check();
    if !problems.is_empty() {
        let details = problems
            .into_iter()
            .map(|(p, r)| Detail::new(p, r))
            .collect();
        return Err(ApiError::invalid("invalid_request", details));
    }

    let now = rfc3339(app.clock.now());
    let canceled_at = crate::journeys::cancel(app, operator, journey_id, &reason, &now).await?;
    Ok(json_response(
        StatusCode::OK,
        &Canceled {
            journey_id: journey_id.to_owned(),
            status: JourneyStatus::Canceled,
            canceled_at,
        },
    ))
}

/// A journey's violations as the HTTP answer.
impl Invalid {
    /// For [`parse`]'s errors: 400 `invalid_journey`.
    pub fn into_bad_request(self) -> ApiError {
        self.into_api_error(StatusCode::BAD_REQUEST, "invalid_journey")
    }

    /// For [`check`]'s errors: 422 `impossible_journey`.
    pub fn into_unprocessable(self) -> ApiError {
        self.into_api_error(StatusCode::UNPROCESSABLE_ENTITY, "impossible_journey")
    }

    fn into_api_error(self, status: StatusCode, code: &'static str) -> ApiError {
        let message = match self.details.len() {
            1 => "1 error in the journey".to_owned(),
            n => format!("{n} errors in the journey"),
        };
        ApiError::new(status, code, message).with_details(self.details)
    }
}
