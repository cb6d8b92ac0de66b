//! Per-operator rate limits, shared by every process and Lambda instance through one
//! counter item per operator, route class and minute (fixed window; items expire by TTL).
//! A process that saw an operator over its limit remembers it until the window ends and
//! refuses without writing: a flood past the limit does not hammer the counter item.

use std::collections::HashMap;
use std::sync::Mutex;

use super::error::ApiError;
use crate::app::App;
use crate::domain::keys;
use crate::domain::operator::OperatorId;
use crate::store::{Update, TTL};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RateClass {
    /// `POST /v2/journeys`.
    Acquisition,
    /// The CEE routes, together.
    Cee,
    /// Every other operator route.
    Other,
}

impl RateClass {
    fn name(self) -> &'static str {
        match self {
            RateClass::Acquisition => "acquisition",
            RateClass::Cee => "cee",
            RateClass::Other => "other",
        }
    }
}

/// The windows in which this process already saw an operator over its limit.
#[derive(Default)]
pub struct Blocked(Mutex<HashMap<(OperatorId, RateClass), i64>>);

impl Blocked {
    fn is_blocked(&self, key: (OperatorId, RateClass), minute: i64) -> bool {
        self.0.lock().is_ok_and(|m| m.get(&key) == Some(&minute))
    }

    fn block(&self, key: (OperatorId, RateClass), minute: i64) {
        if let Ok(mut m) = self.0.lock() {
            m.retain(|_, until| *until >= minute);
            m.insert(key, minute);
        }
    }
}

fn retry_after(now: i64) -> u64 {
    u64::try_from(60 - now.rem_euclid(60)).unwrap_or(60).max(1)
}

pub async fn check(app: &App, operator: OperatorId, class: RateClass) -> Result<(), ApiError> {
    let limit = match class {
        RateClass::Acquisition => app.config.rate_limit_per_min,
        RateClass::Cee => app.config.cee_rate_limit_per_min,
        RateClass::Other => app.config.other_rate_limit_per_min,
    };
    let now = app.clock.now().timestamp();
    let minute = now.div_euclid(60);
    if app.rate_blocked.is_blocked((operator, class), minute) {
        return Err(ApiError::too_many_requests(retry_after(now)));
    }
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
        app.rate_blocked.block((operator, class), minute);
        return Err(ApiError::too_many_requests(retry_after(now)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::{Clock, FixedClock};
    use crate::config::Config;
    use crate::domain::keys;
    use crate::queue::memory::MemoryQueue;
    use crate::store::memory::MemoryStore;
    use crate::store::Store;

    #[tokio::test]
    async fn over_the_limit_is_429_until_the_next_minute_without_more_writes() {
        let clock = Arc::new(FixedClock::new("2026-11-24T10:00:10Z".parse().unwrap()));
        let config = Config {
            rate_limit_per_min: 3,
            ..Config::default()
        };
        let store = Arc::new(MemoryStore::new());
        let app = App::new(store.clone(), Arc::new(MemoryQueue::default()), config)
            .with_clock(clock.clone());
        let op = OperatorId(7);
        for _ in 0..3 {
            check(&app, op, RateClass::Acquisition).await.unwrap();
        }
        let refused = check(&app, op, RateClass::Acquisition).await.unwrap_err();
        assert_eq!(
            (refused.status.as_u16(), refused.retry_after),
            (429, Some(50))
        );
        // Refused again without touching the shared counter.
        check(&app, op, RateClass::Acquisition).await.unwrap_err();
        let minute = clock.now().timestamp().div_euclid(60);
        let counter = store
            .get(&keys::rate_counter(op, "acquisition", minute))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(counter.n("count"), Some(4));
        // Other classes and operators are not affected; the next minute starts afresh.
        check(&app, op, RateClass::Other).await.unwrap();
        check(&app, OperatorId(8), RateClass::Acquisition)
            .await
            .unwrap();
        clock.advance(chrono::Duration::seconds(50));
        check(&app, op, RateClass::Acquisition).await.unwrap();
    }
}
