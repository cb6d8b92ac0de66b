//! Per-operator rate limits, shared by every process and Lambda instance through one
//! counter item per operator, route class and minute (fixed window; items expire by TTL).
//!
//! A process does not write the counter for every request: it takes requests from it in
//! leases (one `ADD n` for n requests) and accepts them locally until they are used. A
//! lease is a small share of what remains in the window (1 when a window starts or nears
//! its limit), so the shared count never passes the limit through leases, and what
//! leases leave unused when a window ends (the only way an operator under its limit could
//! be refused) stays a small share of the limit. A process that saw an operator over its
//! limit remembers it until the window ends and refuses without writing: a flood past the
//! limit does not hammer the counter item.

use super::error::ApiError;
use crate::app::App;
use crate::domain::operator::OperatorId;
use crate::records::rate::RateWindow;

use crate::domain::rate::Local;
pub use crate::domain::rate::RateClass;

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
    let key = (operator, class);
    let asked = match app.rate_windows.take(key, minute) {
        Local::Accept => return Ok(()),
        Local::Refuse => return Err(ApiError::too_many_requests(retry_after(now))),
        Local::Lease(n) => n,
    };
    let window = RateWindow {
        operator,
        class: class.name(),
        minute,
    };
    let item = app
        .store
        .update(
            &window.key(),
            window.take(i64::try_from(asked).unwrap_or(1)),
            None,
        )
        .await?;
    let count = RateWindow::count(&item);
    if app.rate_windows.leased(key, minute, asked, count, limit) {
        Ok(())
    } else {
        Err(ApiError::too_many_requests(retry_after(now)))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::{Clock, FixedClock};
    use crate::config::Config;
    use crate::queue::memory::MemoryQueue;
    use crate::records::keys;
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

    /// Processes sharing one store, as Lambda instances share the table.
    fn processes(store: Arc<dyn Store>, n: usize, limit: u64, clock: &Arc<FixedClock>) -> Vec<App> {
        (0..n)
            .map(|_| {
                let config = Config {
                    rate_limit_per_min: limit,
                    ..Config::default()
                };
                App::new(store.clone(), Arc::new(MemoryQueue::default()), config)
                    .with_clock(clock.clone())
            })
            .collect()
    }

    #[tokio::test]
    async fn requests_are_counted_in_leases_one_write_for_many() {
        use crate::store::capacity::{Metered, GSI1_PROJECTION};
        let clock = Arc::new(FixedClock::new("2026-11-24T10:00:00Z".parse().unwrap()));
        let metered = Arc::new(Metered::new(Arc::new(MemoryStore::new()), GSI1_PROJECTION));
        let app = processes(metered.clone(), 1, 20_000, &clock).remove(0);
        for _ in 0..1000 {
            check(&app, OperatorId(1), RateClass::Acquisition)
                .await
                .unwrap();
        }
        // A lease of 1 opens the window, then leases of 100.
        assert_eq!(metered.take().write, 11.0);
    }

    #[tokio::test]
    async fn processes_together_accept_exactly_the_limit_and_all_of_it() {
        let clock = Arc::new(FixedClock::new("2026-11-24T10:00:00Z".parse().unwrap()));
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let limit = 5_000;
        let apps = processes(store, 4, limit, &clock);
        // Under the limit, spread over the processes: all accepted.
        for n in 0..4_900 {
            check(&apps[n % 4], OperatorId(1), RateClass::Acquisition)
                .await
                .unwrap();
        }
        // Past it: exactly the limit in all, whichever process answers.
        let mut accepted = 4_900;
        for n in 0..1_000 {
            let app = &apps[(n * 7 / 3) % 4];
            accepted += u64::from(
                check(app, OperatorId(1), RateClass::Acquisition)
                    .await
                    .is_ok(),
            );
        }
        assert_eq!(accepted, limit);
        // The next window starts afresh on every process.
        clock.advance(chrono::Duration::seconds(60));
        for app in &apps {
            check(app, OperatorId(1), RateClass::Acquisition)
                .await
                .unwrap();
        }
    }
}
