//! Per-operator rate limits, shared by every process and Lambda instance through one
//! counter item per operator, route class and minute (fixed window; items expire by TTL).

use super::error::ApiError;
use crate::app::App;
use crate::domain::keys;
use crate::domain::operator::OperatorId;
use crate::store::{Update, TTL};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateClass {
    /// `POST /v2/journeys`.
    Acquisition,
    /// Every other operator route.
    Other,
}

impl RateClass {
    fn name(self) -> &'static str {
        match self {
            RateClass::Acquisition => "acquisition",
            RateClass::Other => "other",
        }
    }
}

pub async fn check(app: &App, operator: OperatorId, class: RateClass) -> Result<(), ApiError> {
    let limit = match class {
        RateClass::Acquisition => app.config.rate_limit_per_min,
        RateClass::Other => app.config.other_rate_limit_per_min,
    };
    let now = app.clock.now().timestamp();
    let minute = now.div_euclid(60);
    let item = app
        .store
        .update(
            &keys::rate_counter(operator, class.name(), minute),
            Update::new().add("count", 1).set(TTL, (minute + 2) * 60),
            None,
        )
        .await?;
    let count = u64::try_from(item.n("count").unwrap_or(0)).unwrap_or(u64::MAX);
    if count > limit {
        let retry_after = u64::try_from(60 - now.rem_euclid(60)).unwrap_or(60).max(1);
        return Err(ApiError::too_many_requests(retry_after));
    }
    Ok(())
}
