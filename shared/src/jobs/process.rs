//! Processing of an accepted journey (the foundation marks it processed; normalisation,
//! anomaly checks and incentives come with their issues).

use super::TaskError;
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::journey::JourneyStatus;
use crate::domain::keys;
use crate::domain::operator::OperatorId;
use crate::store::{Condition, StoreError, Update, GSI1_PK, GSI1_SK};

pub async fn journey(app: &App, operator: OperatorId, journey_id: &str) -> Result<(), TaskError> {
    let key = keys::journey(operator, journey_id);
    let update = Update::new()
        .set("status", JourneyStatus::Ok.as_str())
        .set("updated_at", rfc3339(app.clock.now()))
        // Leaves the pending index: the sweeper no longer sees it.
        .remove(GSI1_PK)
        .remove(GSI1_SK);
    let only_if_pending = Condition::equals("status", JourneyStatus::Pending.as_str());
    match app.store.update(&key, update, Some(only_if_pending)).await {
        Ok(_) => Ok(()),
        Err(StoreError::ConditionFailed { .. }) => match app.store.get(&key).await? {
            // Processed already (a redelivery) or expired/canceled meanwhile: nothing to do.
            Some(_) => Ok(()),
            None => Err(TaskError(format!(
                "journey of operator {operator} not found"
            ))),
        },
        Err(e) => Err(e.into()),
    }
}
