//! Processing of an accepted journey: the anomaly checks of SPEC §3 decide between `ok` and
//! `anomaly_error` (with labels), and the journey's people become evidence for the fraud pass.
//! Idempotent: only a `pending` journey changes.

use super::{fraud, TaskError};
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::anomaly;
use crate::domain::journey::JourneyStatus;
use crate::domain::journey_v2;
use crate::domain::keys;
use crate::domain::operator::OperatorId;
use crate::store::{Condition, StoreError, Update, WriteOp, GSI1_PK, GSI1_SK};

pub async fn journey(app: &App, operator: OperatorId, journey_id: &str) -> Result<(), TaskError> {
    let key = keys::journey(operator, journey_id);
    let Some(item) = app.store.get(&key).await? else {
        return Err(TaskError(format!(
            "journey of operator {operator} not found"
        )));
    };
    if item.s("status") != Some(JourneyStatus::Pending.as_str()) {
        // Processed already (a redelivery), or expired/canceled meanwhile.
        return Ok(());
    }
    // Validated at acceptance: a document that no longer parses is a bug, left to the
    // dead-letter queue rather than guessed at.
    let doc = item.s("doc").unwrap_or_default();
    let journey = journey_v2::parse(doc.as_bytes()).map_err(|e| {
        TaskError(format!(
            "stored document does not parse: {} errors",
            e.details.len()
        ))
    })?;
    let labels: Vec<&str> = anomaly::anomalies(&journey)
        .into_iter()
        .map(|a| a.label())
        .collect();
    let status = if labels.is_empty() {
        JourneyStatus::Ok
    } else {
        JourneyStatus::AnomalyError
    };
    let update = Update::new()
        .set("status", status.as_str())
        .set(
            "anomaly_labels",
            serde_json::to_string(&labels).unwrap_or_else(|_| "[]".into()),
        )
        .set("updated_at", rfc3339(app.clock.now()))
        // Leaves the pending index: the sweeper no longer sees it.
        .remove(GSI1_PK)
        .remove(GSI1_SK);
    let only_if_pending = Condition::equals("status", JourneyStatus::Pending.as_str());
    let mut ops = vec![WriteOp::Update {
        key,
        update,
        condition: Some(only_if_pending),
    }];
    // Its people become evidence for the fraud pass, with the status change: a processed
    // journey is always evidence, a pending one never.
    ops.extend(
        fraud::evidence::items_for(&item, &journey)
            .into_iter()
            .map(|item| WriteOp::Put {
                item,
                condition: None,
            }),
    );
    match app.store.transact(ops).await {
        // Canceled between the read and the write: the cancellation stands.
        Ok(()) | Err(StoreError::TransactionCanceled { index: 0, .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
