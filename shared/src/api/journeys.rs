//! `POST /v2/journeys`, `GET` and `DELETE /v2/journeys/{journey_id}`.
//!
//! A journey is parsed as a whole v2 document (400 with every violation), then checked
//! against the reception time (422); one received 120 h or more after its end is stored as
//! `expired` and never processed. The document is kept byte for byte as received (audit),
//! with the hash of its canonical form (sorted keys), so a retry of the same JSON value is
//! recognised whatever its formatting.

use bytes::Bytes;
use http::{Response, StatusCode};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::error::{json_response, ApiError, Detail};
use super::ratelimit::{self, RateClass};
use super::{auth, Ctx};
use crate::app::App;
use crate::campaigns::drafts as incentives;
use crate::clock::rfc3339;
use crate::domain::identity::identity_key;
use crate::domain::journey::{
    pack_document, CancelReason, JourneyStatus, Receipt, MAX_JOURNEY_ID_CHARS,
};
use crate::domain::journey_v2::{self, Invalid};
use crate::domain::operator::OperatorId;
use crate::domain::token::Permission;
use crate::jobs::Task;
use crate::queue::Message;
use crate::records::keys;
use crate::store::{
    Condition, Item, StoreError, Update, WriteOp, GSI1_PK, GSI1_SK, MAX_TRANSACTION_WRITES,
};

/// The receipt as first answered (its status then, not the journey's status now).
fn receipt_of(item: &Item) -> Option<Receipt> {
    Some(Receipt {
        journey_id: item.s("journey_id")?.to_owned(),
        created_at: item.s("created_at")?.to_owned(),
        status: JourneyStatus::parse(item.s("receipt_status")?)?,
    })
}

pub async fn create(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let principal = auth::authenticate(app, &ctx.headers).await?;
    let operator = principal.require(Permission::JourneyCreate)?;
    ratelimit::check(app, operator, RateClass::Acquisition).await?;
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
            let receipt = receipt_of(&existing).ok_or_else(ApiError::internal)?;
            if existing.s("doc_hash") == Some(doc_hash.as_str()) {
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

/// A journey as acceptance stores it, and what acceptance does with it.
#[derive(Clone, Debug, PartialEq)]
pub struct Accepted {
    pub item: Item,
    /// `pending`, or `expired` for a late journey.
    pub status: JourneyStatus,
    /// Hash of the document's canonical form: a retry of the same value is recognised by it.
    pub doc_hash: String,
    /// The processing task of a pending journey.
    pub task: Option<Task>,
}

/// The item `POST /v2/journeys` writes for `journey` (parsed from `doc`, received as the
/// bytes `body`) sent by `operator` at `received_at`. The one constructor of a journey item:
/// acceptance writes it, tests and tools seed stores with it ([`accepted_item`]).
pub fn accepted(
    secret: &str,
    operator: OperatorId,
    journey: &journey_v2::Journey,
    doc: &serde_json::Value,
    body: &[u8],
    received_at: chrono::DateTime<chrono::Utc>,
) -> Result<Accepted, ApiError> {
    // Late journeys are kept (nothing is lost) but never processed nor paid.
    let status = if journey_v2::late(journey, received_at) {
        JourneyStatus::Expired
    } else {
        JourneyStatus::Pending
    };
    let journey_id = &journey.journey_id;
    // serde_json keeps object keys sorted: equal JSON values serialise identically.
    let doc_hash = hex::encode(Sha256::digest(doc.to_string().as_bytes()));
    let now = rfc3339(received_at);
    let mut item = Item::new(keys::journey(operator, journey_id))
        .with(
            "operator_id",
            i64::try_from(operator.0).map_err(|_| ApiError::internal())?,
        )
        .with("journey_id", journey_id.clone())
        .with("status", status.as_str())
        .with("receipt_status", status.as_str())
        .with("created_at", now.clone())
        .with("updated_at", now.clone())
        .with(
            crate::records::journey::STORED_DOCUMENT,
            pack_document(body),
        )
        .with("doc_hash", doc_hash.clone());
    if let Some(trip) = &journey.operator_journey_id {
        item.set("operator_journey_id", trip.clone());
    }
    // The normalised form the later jobs read without parsing the document again: who
    // (identity keys, keyed hashes: never a phone number) and when (UTC instants).
    for (role, person) in [
        ("passenger", &journey.passenger.person),
        ("driver", &journey.driver.person),
    ] {
        item.set(
            &format!("{role}_key"),
            identity_key(secret, operator, &person.identity),
        );
        item.set(&format!("{role}_start"), rfc3339(person.start.datetime));
        item.set(&format!("{role}_end"), rfc3339(person.end.datetime));
    }
    let mut task = None;
    if status == JourneyStatus::Pending {
        item.set(
            GSI1_PK,
            keys::pending_index(keys::pending_shard(operator, journey_id)),
        );
        // Bounded length whatever the id (DynamoDB index sort keys hold 1 024 bytes).
        item.set(GSI1_SK, format!("{now}#{operator}#{}", &doc_hash[..16]));
        task = Some(Task::ProcessJourney {
            operator_id: operator,
            journey_id: journey_id.clone(),
        });
    }
    Ok(Accepted {
        item,
        status,
        doc_hash,
        task,
    })
}

/// The item acceptance writes for the whole document `doc`, sent as `doc.to_string()` by
/// `operator` at `received_at`, for tests and tools that seed a store: what they store
/// cannot drift from what `POST /v2/journeys` writes. The document must parse; the checks
/// against the reception time are not made (a test may store what the API would refuse).
pub fn accepted_item(
    secret: &str,
    operator: OperatorId,
    doc: &serde_json::Value,
    received_at: chrono::DateTime<chrono::Utc>,
) -> Result<Item, ApiError> {
    let journey = journey_v2::parse_value(doc).map_err(Invalid::into_bad_request)?;
    let body = doc.to_string();
    Ok(accepted(
        secret,
        operator,
        &journey,
        doc,
        body.as_bytes(),
        received_at,
    )?
    .item)
}

pub async fn status(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let principal = auth::authenticate(app, &ctx.headers).await?;
    let operator = principal.require(Permission::JourneyRead)?;
    ratelimit::check(app, operator, RateClass::Other).await?;
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
    let labels = |name: &str| -> Vec<String> {
        item.s(name)
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default()
    };
    let view = (|| {
        Some(JourneyView {
            journey_id: item.s("journey_id")?.to_owned(),
            operator_journey_id: item.s("operator_journey_id").map(str::to_owned),
            status: JourneyStatus::parse(item.s("status")?)?,
            created_at: item.s("created_at")?.to_owned(),
            updated_at: item.s("updated_at")?.to_owned(),
            fraud_labels: labels("fraud_labels"),
            anomaly_labels: labels("anomaly_labels"),
            incentives,
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
    pub incentives: Vec<incentives::StatusView>,
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
    let principal = auth::authenticate(app, &ctx.headers).await?;
    let operator = principal.require(Permission::JourneyDelete)?;
    ratelimit::check(app, operator, RateClass::Other).await?;
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

    let key = keys::journey(operator, journey_id);
    let now = rfc3339(app.clock.now());
    let mut update = Update::new()
        .set("status", JourneyStatus::Canceled.as_str())
        .set("canceled_at", now.clone())
        .set("updated_at", now.clone())
        // Out of the pending index: never processed, never swept.
        .remove(GSI1_PK)
        .remove(GSI1_SK);
    if let Some(code) = &reason.code {
        update = update.set("cancel_code", code.clone());
    }
    if let Some(message) = &reason.message {
        update = update.set("cancel_message", message.clone());
    }
    let canceled_at = cancel_with_drafts(app, &key, operator, update, &now).await?;
    Ok(json_response(
        StatusCode::OK,
        &Canceled {
            journey_id: journey_id.to_owned(),
            status: JourneyStatus::Canceled,
            canceled_at,
        },
    ))
}

/// Cancels a journey, its draft incentives and its fraud evidence (a canceled journey is
/// no evidence against others): in one transaction when they fit (the usual case), else
/// the journey with what fits and the remaining drafts right after. Processing between the
/// read and the write (status, drafts: `incentive_rev`) makes the write fail and the whole
/// is read again. Repeating the call finishes an interrupted one.
async fn cancel_with_drafts(
    app: &App,
    key: &crate::store::Key,
    operator: crate::domain::operator::OperatorId,
    update: Update,
    now: &str,
) -> Result<String, ApiError> {
    for _ in 0..5 {
        let (journey, drafts) = incentives::journey_with_drafts(app, key)
            .await?
            .ok_or_else(|| ApiError::not_found("journey"))?;
        let groups = incentives::cancel_groups(&drafts, now);
        if let Some(canceled_at) = journey.s("canceled_at") {
            finish(app, groups).await?;
            return Ok(canceled_at.to_owned());
        }
        let rev = match journey.n(incentives::REV) {
            Some(rev) => Condition::equals(incentives::REV, rev),
            None => Condition::AttrMissing(incentives::REV.into()),
        };
        let status = journey.s("status").unwrap_or_default().to_owned();
        let mut ops = vec![
            WriteOp::Update {
                key: key.clone(),
                update: update.clone(),
                condition: Some(Condition::All(vec![
                    Condition::Exists,
                    Condition::AttrMissing("canceled_at".into()),
                    Condition::equals("status", status),
                    rev,
                ])),
            },
            // Counted once per journey: only the first cancellation passes the condition.
            WriteOp::Update {
                key: keys::operator_stats(operator),
                update: crate::records::operator::OperatorStats::canceled(),
                condition: None,
            },
        ];
        ops.extend(
            crate::jobs::fraud::evidence::keys_of(&journey)
                .into_iter()
                .map(|key| WriteOp::Delete {
                    key,
                    condition: None,
                }),
        );
        // Out of the certificates issued from now on (those issued before stay as they are).
        ops.extend(crate::records::certificate::unlist(operator, &journey));
        let mut rest = Vec::new();
        for group in groups {
            if rest.is_empty() && ops.len() + group.len() <= MAX_TRANSACTION_WRITES {
                ops.extend(group);
            } else {
                rest.push(group);
            }
        }
        match app.store.transact(ops).await {
            Ok(()) => {
                finish(app, rest).await?;
                return Ok(now.to_owned());
            }
            // Canceled, processed or given drafts meanwhile: read again.
            Err(StoreError::TransactionCanceled { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::unavailable())
}

/// Cancels the remaining drafts of a canceled journey, one campaign at a time.
async fn finish(app: &App, groups: Vec<Vec<WriteOp>>) -> Result<(), ApiError> {
    for ops in groups {
        match app.store.transact(ops).await {
            // Done by a concurrent call.
            Ok(()) | Err(StoreError::TransactionCanceled { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
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
