//! `POST /v2/journeys` and `GET /v2/journeys/{journey_id}`.
//!
//! Full v2 validation is the acquisition issue's; here the body must be a JSON object with a
//! `journey_id` string (and, if present, the caller's `operator_id`). The document is kept
//! byte for byte as received (audit), with the hash of its canonical form (sorted keys), so
//! a retry of the same JSON value is recognised whatever its formatting.

use bytes::Bytes;
use http::{Response, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::error::{json_response, ApiError, Detail};
use super::ratelimit::{self, RateClass};
use super::{auth, Ctx};
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::journey::{CancelReason, JourneyStatus, Receipt, MAX_JOURNEY_ID_CHARS};
use crate::domain::keys;
use crate::domain::operator::OperatorId;
use crate::domain::token::Permission;
use crate::jobs::Task;
use crate::queue::Message;
use crate::store::{Condition, Item, StoreError, Update, WriteOp, GSI1_PK, GSI1_SK};

/// The minimal shape checks of the foundation: an object with a usable `journey_id`.
fn parse(ctx: &Ctx, operator: OperatorId) -> Result<(String, Value), ApiError> {
    let doc = ctx.json_object()?;
    let journey_id = match doc.get("journey_id") {
        Some(Value::String(id)) if (1..=MAX_JOURNEY_ID_CHARS).contains(&id.chars().count()) => {
            id.clone()
        }
        Some(Value::String(_)) => {
            return Err(ApiError::invalid(
                "invalid_journey",
                vec![Detail::new("/journey_id", "must be 1 to 256 characters")],
            ))
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "invalid_journey",
                vec![Detail::new("/journey_id", "must be a string")],
            ))
        }
        None => {
            return Err(ApiError::invalid(
                "invalid_journey",
                vec![Detail::new("/journey_id", "is required")],
            ))
        }
    };
    if let Some(declared) = doc.get("operator_id") {
        if declared.as_u64() != Some(operator.0) {
            return Err(ApiError::forbidden(
                "operator_id is not the operator of this token",
            ));
        }
    }
    Ok((journey_id, Value::Object(doc)))
}

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
    let (journey_id, doc) = parse(ctx, operator)?;

    // serde_json keeps object keys sorted: equal JSON values serialise identically.
    let doc_hash = hex::encode(Sha256::digest(doc.to_string().as_bytes()));
    // The body parsed as JSON, so it is UTF-8.
    let received = String::from_utf8_lossy(&ctx.body).into_owned();
    let now = rfc3339(app.clock.now());
    let key = keys::journey(operator, &journey_id);
    let mut item = Item::new(key.clone())
        .with(
            "operator_id",
            i64::try_from(operator.0).map_err(|_| ApiError::internal())?,
        )
        .with("journey_id", journey_id.clone())
        .with("status", JourneyStatus::Pending.as_str())
        .with("receipt_status", JourneyStatus::Pending.as_str())
        .with("created_at", now.clone())
        .with("updated_at", now.clone())
        .with("doc", received)
        .with("doc_hash", doc_hash.clone())
        .with(
            GSI1_PK,
            keys::pending_index(keys::pending_shard(operator, &journey_id)),
        )
        // Bounded length whatever the id (DynamoDB index sort keys hold 1 024 bytes).
        .with(GSI1_SK, format!("{now}#{operator}#{}", &doc_hash[..16]));
    if let Some(Value::String(trip)) = doc.get("operator_journey_id") {
        item.set("operator_journey_id", trip.clone());
    }
    let task = Task::ProcessJourney {
        operator_id: operator,
        journey_id: journey_id.clone(),
    };
    let write = WriteOp::Put {
        item,
        condition: Some(Condition::NotExists),
    };
    match app
        .commit(vec![write], vec![Message::new(task.to_body())])
        .await
    {
        Ok(()) => {
            let receipt = Receipt {
                journey_id,
                created_at: now,
                status: JourneyStatus::Pending,
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

pub async fn status(app: &App, ctx: &Ctx) -> Result<Response<Bytes>, ApiError> {
    let principal = auth::authenticate(app, &ctx.headers).await?;
    let operator = principal.require(Permission::JourneyRead)?;
    ratelimit::check(app, operator, RateClass::Other).await?;
    let journey_id = ctx.param("journey_id");
    if journey_id.chars().count() > MAX_JOURNEY_ID_CHARS {
        return Err(ApiError::not_found("journey"));
    }
    let item = app
        .store
        .get(&keys::journey(operator, journey_id))
        .await?
        .ok_or_else(|| ApiError::not_found("journey"))?;
    let labels = |name: &str| -> Vec<String> {
        item.s(name)
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default()
    };
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "journey_id": item.s("journey_id"),
            "operator_journey_id": item.s("operator_journey_id"),
            "status": item.s("status"),
            "created_at": item.s("created_at"),
            "updated_at": item.s("updated_at"),
            "fraud_labels": labels("fraud_labels"),
            "anomaly_labels": labels("anomaly_labels"),
            "incentives": [],
        }),
    ))
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
    let ops = vec![
        WriteOp::Update {
            key: key.clone(),
            update,
            condition: Some(Condition::All(vec![
                Condition::Exists,
                Condition::AttrMissing("canceled_at".into()),
            ])),
        },
        // Counted once per journey: only the first cancellation passes the condition.
        WriteOp::Update {
            key: keys::operator_stats(operator),
            update: Update::new().add("canceled", 1),
            condition: None,
        },
    ];
    let canceled_at = match app.store.transact(ops).await {
        Ok(()) => now,
        Err(StoreError::TransactionCanceled { index: 0, .. }) => app
            .store
            .get(&key)
            .await?
            .and_then(|item| item.s("canceled_at").map(str::to_owned))
            .ok_or_else(|| ApiError::not_found("journey"))?,
        Err(e) => return Err(e.into()),
    };
    Ok(json_response(
        StatusCode::OK,
        &json!({"journey_id": journey_id, "status": "canceled", "canceled_at": canceled_at}),
    ))
}
