//! Processing of an accepted journey (SPEC §3, "Normalisation"): the country of the trip's
//! start and end, the anomaly checks that decide between `ok` and `anomaly_error` (with
//! labels), for an `ok` journey its draft incentives (`campaigns::drafts`), and the
//! journey's people become evidence for the fraud pass. Idempotent: only a `pending`
//! journey changes.

use super::{fraud, TaskError};
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::anomaly;
use crate::domain::certificate;
use crate::domain::country::Country;
use crate::domain::journey::{self, JourneyStatus};
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
    let doc = journey::stored_document(&item)
        .ok_or_else(|| TaskError("stored document missing or not readable".into()))?;
    let journey = journey_v2::parse(&doc).map_err(|e| {
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
    // The carpool itself is the passenger's trip: the driver may start earlier or end later.
    let trip = &journey.passenger.person;
    let update = Update::new()
        .set("status", status.as_str())
        .set("start_country", Country::of(&trip.start.place).as_str())
        .set("end_country", Country::of(&trip.end.place).as_str())
        .set(
            "anomaly_labels",
            serde_json::to_string(&labels).unwrap_or_else(|_| "[]".into()),
        )
        .set("updated_at", rfc3339(app.clock.now()))
        // Counts the processings that took effect: the condition below keeps it at 1, which
        // the crash and redelivery tests check.
        .add("processings", 1)
        // Leaves the pending index: the sweeper no longer sees it.
        .remove(GSI1_PK)
        .remove(GSI1_SK);
    // Its draft incentives first, then the status (SPEC §4 "Draft"); `false`: canceled
    // meanwhile, the cancellation stands.
    if status == JourneyStatus::Ok
        && !crate::campaigns::drafts::process(app, &key, &item, &journey, operator).await?
    {
        return Ok(());
    }
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
    // An `ok` journey enters the trip index of both its persons (certificates), in the same
    // transaction: never a journey `ok` without its entries, nor entries of a canceled one.
    if status == JourneyStatus::Ok {
        ops.extend(certificate::list(operator, &item, &journey));
    }
    match app.store.transact(ops).await {
        // Canceled between the read and the write: the cancellation stands.
        Ok(()) | Err(StoreError::TransactionCanceled { index: 0, .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::config::Config;
    use crate::domain::journey::example_document;
    use crate::queue::memory::MemoryQueue;
    use crate::store::{memory::MemoryStore, Item};

    async fn processed(doc: serde_json::Value) -> Item {
        let app = App::new(
            Arc::new(MemoryStore::new()),
            Arc::new(MemoryQueue::default()),
            Config::default(),
        );
        let key = keys::journey(OperatorId(1), "j");
        let item = Item::new(key.clone()).with("status", "pending").with(
            journey::STORED_DOCUMENT,
            journey::pack_document(doc.to_string().as_bytes()),
        );
        app.store.put(item, None).await.unwrap();
        journey(&app, OperatorId(1), "j").await.unwrap();
        app.store.get(&key).await.unwrap().unwrap()
    }

    #[tokio::test]
    async fn countries_of_the_trip_come_from_coordinates_or_insee() {
        let now = chrono::Utc::now();
        // Paris → Versailles: in France at both ends.
        let item = processed(example_document("j", now)).await;
        assert_eq!(item.s("status"), Some("ok"));
        assert_eq!(
            (item.s("start_country"), item.s("end_country")),
            (Some("FR"), Some("FR"))
        );

        // Annemasse → Geneva, the end known by its INSEE code 99140 (Switzerland) only.
        let mut doc = example_document("j", now);
        for person in ["passenger", "driver"] {
            doc[person]["start"]["lat"] = json!(46.1934);
            doc[person]["start"]["lon"] = json!(6.2342);
            let end = &mut doc[person]["end"];
            end.as_object_mut().unwrap().retain(|k, _| k == "datetime");
            end["insee"] = json!("99140");
            doc[person]["distance"] = json!(9000);
        }
        let item = processed(doc.clone()).await;
        assert_eq!(item.s("status"), Some("ok"));
        assert_eq!(
            (item.s("start_country"), item.s("end_country")),
            (Some("FR"), Some("XX"))
        );

        // A French INSEE code is in France; coordinates win over a code when both are given.
        for person in ["passenger", "driver"] {
            doc[person]["end"]["insee"] = json!("74012");
            doc[person]["start"]["insee"] = json!("74012");
            doc[person]["start"]["lat"] = json!(46.2044);
            doc[person]["start"]["lon"] = json!(6.1432);
        }
        let item = processed(doc).await;
        assert_eq!(
            (item.s("start_country"), item.s("end_country")),
            (Some("XX"), Some("FR"))
        );
    }
}
