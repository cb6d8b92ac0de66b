//! Processing of an accepted journey (SPEC §3, "Normalisation"): the country of the trip's
//! start and end, the anomaly checks that decide between `ok` and `anomaly_error` (with
//! labels), for an `ok` journey its draft incentives (`campaigns::drafts`), and the
//! journey's people become evidence for the fraud pass. Idempotent: only a `pending`
//! journey changes, and a delivery that finds it canceled takes away what an interrupted
//! one may have written.

use super::TaskError;
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::anomaly;
use crate::domain::journey::JourneyStatus;
use crate::domain::operator::OperatorId;
use crate::records::journey::JourneyRecord;
use crate::records::keys;
use crate::records::processing::Processed;
use crate::store::StoreError;

pub async fn journey(app: &App, operator: OperatorId, journey_id: &str) -> Result<(), TaskError> {
    let key = keys::journey(operator, journey_id);
    let Some(item) = app.store.get(&key).await? else {
        return Err(TaskError(format!(
            "journey of operator {operator} not found"
        )));
    };
    let record = JourneyRecord::from_item(&item);
    match record.status {
        Some(JourneyStatus::Pending) => {}
        // An earlier delivery may have written its evidence and trip-index entries and then
        // lost the race with the cancellation, or crashed: they go.
        Some(JourneyStatus::Canceled) => return forget(app, operator, &record).await,
        // Processed already (a redelivery).
        _ => return Ok(()),
    }
    // Normalised at acceptance: facts that no longer read are a bug, left to the
    // dead-letter queue rather than guessed at.
    let facts = record
        .facts()
        .ok_or_else(|| TaskError("stored journey facts missing or not readable".into()))?;
    let labels: Vec<&str> = anomaly::anomalies(&facts)
        .into_iter()
        .map(|a| a.label())
        .collect();
    let status = if labels.is_empty() {
        JourneyStatus::Ok
    } else {
        JourneyStatus::AnomalyError
    };
    // The carpool itself is the passenger's trip: the driver may start earlier or end later.
    let [start_country, end_country] = facts.countries();
    let found = Processed {
        status,
        start_country: start_country.as_str(),
        end_country: end_country.as_str(),
        anomaly_labels: &labels,
    };
    let update = JourneyRecord::processed(&found, rfc3339(app.clock.now()));
    // Its draft incentives first, then the status (SPEC §4 "Draft"); `false`: canceled
    // meanwhile, the cancellation stands.
    if status == JourneyStatus::Ok
        && !crate::campaigns::drafts::process(app, &key, &record, &facts, operator).await?
    {
        return forget(app, operator, &record).await;
    }
    // Its people become evidence for the fraud pass and, `ok`, it enters the trip index of
    // both (certificates). Plain puts rather than one transaction with the status, which
    // DynamoDB would bill twice: they are idempotent, written before the status so that a
    // processed journey always has them, and taken away again when a cancellation wins
    // (here or at the next delivery, above). The fraud pass leaves pending journeys alone.
    let ops = record.processing_writes(operator, &facts, status);
    app.store.write_each(ops).await?;
    let only_if_pending = JourneyRecord::only_if_pending();
    match app.store.update(&key, update, Some(only_if_pending)).await {
        Ok(_) => Ok(()),
        // A twin delivery processed it first, or the operator canceled it meanwhile.
        Err(StoreError::ConditionFailed { .. }) => match app.store.get(&key).await? {
            Some(now) => {
                let now = JourneyRecord::from_item(&now);
                if now.is(JourneyStatus::Canceled) {
                    forget(app, operator, &now).await
                } else {
                    Ok(())
                }
            }
            None => Ok(()),
        },
        Err(e) => Err(e.into()),
    }
}

/// Takes a canceled journey's evidence and trip-index entries away, whether they were
/// written or not (deleting an absent item is no error).
async fn forget(app: &App, operator: OperatorId, record: &JourneyRecord) -> Result<(), TaskError> {
    Ok(app.store.write_each(record.take_back(operator)).await?)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::config::Config;
    use crate::domain::journey::example_document;
    use crate::queue::memory::MemoryQueue;
    use crate::store::memory::MemoryStore;
    use crate::store::Store;
    use crate::store::{Condition, Item, Update, WriteOp};

    async fn processed(doc: serde_json::Value) -> Item {
        let app = App::new(
            Arc::new(MemoryStore::new()),
            Arc::new(MemoryQueue::default()),
            Config::default(),
        );
        let key = keys::journey(OperatorId(1), "j");
        let item = Item::new(key.clone()).with("status", "pending").with(
            crate::records::journey::STORED_DOCUMENT,
            crate::domain::journey::pack_document(doc.to_string().as_bytes()),
        );
        app.store.put(item, None).await.unwrap();
        journey(&app, OperatorId(1), "j").await.unwrap();
        app.store.get(&key).await.unwrap().unwrap()
    }

    /// A pending journey as acceptance writes it.
    fn pending(now: chrono::DateTime<chrono::Utc>) -> Item {
        crate::records::journey::JourneyRecord::accepted_item(
            &Config::default().hash_secret,
            OperatorId(1),
            &example_document("j", now),
            now,
        )
        .unwrap()
    }

    /// The evidence and trip-index entries of `item` that exist.
    async fn written(app: &App, item: &Item) -> usize {
        let item = &JourneyRecord::from_item(item);
        let keys = crate::jobs::fraud::evidence::keys_of(item)
            .into_iter()
            .chain(
                crate::records::certificate::index_keys(OperatorId(1), item)
                    .into_iter()
                    .map(|(_, k)| k),
            );
        let mut found = 0;
        for key in keys {
            found += usize::from(app.store.get(&key).await.unwrap().is_some());
        }
        found
    }

    /// Runs the real store, but the journey's status update (processing's last write)
    /// either fails as if the process died there, or finds a cancellation committed just
    /// before it.
    struct LastWrite {
        inner: MemoryStore,
        cancel_first: bool,
    }

    #[async_trait::async_trait]
    impl crate::store::Store for LastWrite {
        async fn get(&self, key: &crate::store::Key) -> crate::store::StoreResult<Option<Item>> {
            self.inner.get(key).await
        }
        async fn put(&self, item: Item, c: Option<Condition>) -> crate::store::StoreResult<()> {
            self.inner.put(item, c).await
        }
        async fn update(
            &self,
            key: &crate::store::Key,
            update: Update,
            c: Option<Condition>,
        ) -> crate::store::StoreResult<Item> {
            if *key == keys::journey(OperatorId(1), "j") {
                if !self.cancel_first {
                    return Err(StoreError::Unavailable("died before the status".into()));
                }
                let cancel = Update::new().set("status", "canceled");
                self.inner.update(key, cancel, None).await?;
            }
            self.inner.update(key, update, c).await
        }
        async fn delete(
            &self,
            key: &crate::store::Key,
            c: Option<Condition>,
        ) -> crate::store::StoreResult<()> {
            self.inner.delete(key, c).await
        }
        async fn transact(&self, ops: Vec<WriteOp>) -> crate::store::StoreResult<()> {
            self.inner.transact(ops).await
        }
        async fn query(
            &self,
            q: crate::store::Query,
        ) -> crate::store::StoreResult<crate::store::Page> {
            self.inner.query(q).await
        }
        async fn scan(
            &self,
            s: crate::store::Scan,
        ) -> crate::store::StoreResult<crate::store::Page> {
            self.inner.scan(s).await
        }
    }

    fn app_on(store: Arc<dyn crate::store::Store>) -> App {
        App::new(store, Arc::new(MemoryQueue::default()), Config::default())
    }

    #[tokio::test]
    async fn a_processed_journey_has_its_evidence_and_trip_index_entries() {
        let app = app_on(Arc::new(MemoryStore::new()));
        let item = pending(chrono::Utc::now());
        app.store.put(item.clone(), None).await.unwrap();
        journey(&app, OperatorId(1), "j").await.unwrap();
        assert_eq!(written(&app, &item).await, 4);
        let stored = app.store.get(&item.key).await.unwrap().unwrap();
        assert_eq!(stored.s("status"), Some("ok"));
        assert_eq!(stored.n("processings"), Some(1));
        // Redelivered: nothing changes.
        journey(&app, OperatorId(1), "j").await.unwrap();
        let again = app.store.get(&item.key).await.unwrap().unwrap();
        assert_eq!(again.n("processings"), Some(1));
        assert_eq!(written(&app, &item).await, 4);
    }

    #[tokio::test]
    async fn a_cancellation_that_wins_the_race_leaves_no_evidence_nor_trip() {
        let app = app_on(Arc::new(LastWrite {
            inner: MemoryStore::new(),
            cancel_first: true,
        }));
        let item = pending(chrono::Utc::now());
        app.store.put(item.clone(), None).await.unwrap();
        journey(&app, OperatorId(1), "j").await.unwrap();
        let stored = app.store.get(&item.key).await.unwrap().unwrap();
        assert_eq!(stored.s("status"), Some("canceled"));
        assert_eq!(stored.n("processings"), None);
        assert_eq!(written(&app, &item).await, 0);
    }

    #[tokio::test]
    async fn the_delivery_after_a_crash_and_a_cancellation_takes_away_what_was_written() {
        let store = Arc::new(LastWrite {
            inner: MemoryStore::new(),
            cancel_first: false,
        });
        let app = app_on(store.clone());
        let item = pending(chrono::Utc::now());
        app.store.put(item.clone(), None).await.unwrap();
        // Dies after its puts, before the status.
        assert!(journey(&app, OperatorId(1), "j").await.is_err());
        assert_eq!(written(&app, &item).await, 4);
        // The operator cancels (the journey still pending: the cancellation transaction had
        // nothing to delete if it ran before the puts), then the message comes back.
        let cancel = Update::new().set("status", "canceled");
        store.inner.update(&item.key, cancel, None).await.unwrap();
        journey(&app, OperatorId(1), "j").await.unwrap();
        assert_eq!(written(&app, &item).await, 0);
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
