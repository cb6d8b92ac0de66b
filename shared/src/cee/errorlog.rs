//! The log of refused registrations, for support: what was refused, when and why, per
//! operator. No personal data: the kind, the answer (status, code, message, field paths)
//! and the journey type and `operator_journey_id` when the request had valid ones.
//! Read by registry admins with `registry admin cee errors --operator ID`.

use serde::Serialize;

use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::error::Detail;
use crate::domain::operator::OperatorId;
use crate::records::cee::CeeRefusal;
use crate::records::keys;
use crate::store::{Query, StoreResult};

/// Why a registration was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A field is missing, malformed or not allowed (400).
    Validation,
    /// A date is outside the window, not yet at J+7, or in the future (400).
    Date,
    /// The journey is not the caller's or not eligible (404).
    NonEligible,
    /// An earlier record blocks it (409).
    Conflict,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Validation => "validation",
            Kind::Date => "date",
            Kind::NonEligible => "non_eligible",
            Kind::Conflict => "conflict",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Entry {
    pub at: String,
    pub operator_id: u64,
    pub kind: String,
    pub status: u16,
    pub code: String,
    pub message: String,
    pub details: Vec<Detail>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journey_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator_journey_id: Option<String>,
}

/// What the registration was answered.
pub struct Refusal<'a> {
    pub status: u16,
    pub code: &'a str,
    pub message: &'a str,
    pub details: &'a [Detail],
}

/// Records a refusal. A failure to log is itself logged, never turned into the answer.
pub async fn record(
    app: &App,
    operator: OperatorId,
    kind: Kind,
    error: Refusal<'_>,
    journey_type: Option<&str>,
    operator_journey_id: Option<&str>,
) {
    let now = rfc3339(app.clock.now());
    let id = uuid::Uuid::new_v4().simple().to_string();
    let item = CeeRefusal {
        at: now,
        kind: kind.as_str().to_owned(),
        status: error.status,
        code: error.code.to_owned(),
        message: error.message.to_owned(),
        details: error.details.to_vec(),
        journey_type: journey_type.map(str::to_owned),
        operator_journey_id: operator_journey_id.map(str::to_owned),
    }
    .to_item(operator, &id);
    if let Err(e) = app.store.put(item, None).await {
        tracing::warn!(error = %e, kind = kind.as_str(), "cannot record a refused CEE registration");
    }
}

/// The latest `limit` refusals of an operator, newest first.
pub async fn latest(app: &App, operator: OperatorId, limit: usize) -> StoreResult<Vec<Entry>> {
    let page = app
        .store
        .query(
            Query::partition(keys::cee_errors(operator))
                .descending()
                .limit(limit),
        )
        .await?;
    Ok(page
        .items
        .iter()
        .map(|item| {
            let r = CeeRefusal::from_item(item);
            Entry {
                at: r.at,
                operator_id: operator.0,
                kind: r.kind,
                status: r.status,
                code: r.code,
                message: r.message,
                details: r.details,
                journey_type: r.journey_type,
                operator_journey_id: r.operator_journey_id,
            }
        })
        .collect())
}
