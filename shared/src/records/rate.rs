//! The rate window item: requests counted for one operator, route class and minute (fixed
//! window, expired by TTL).

use super::item::{Item, Key, Update, TTL};
use super::keys;
use crate::domain::operator::OperatorId;

/// One operator's window of one route class and minute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateWindow<'a> {
    pub operator: OperatorId,
    pub class: &'a str,
    /// Minutes since the epoch.
    pub minute: i64,
}

impl RateWindow<'_> {
    pub fn key(&self) -> Key {
        keys::rate_counter(self.operator, self.class, self.minute)
    }

    /// Counts `requests` more; the item expires one minute after the window ends.
    pub fn take(&self, requests: i64) -> Update {
        Update::new()
            .add("count", requests)
            .set(TTL, (self.minute + 2) * 60)
    }

    /// Requests counted in the window, from its item after [`RateWindow::take`].
    pub fn count(item: &Item) -> u64 {
        u64::try_from(item.n("count").unwrap_or(0)).unwrap_or(u64::MAX)
    }
}
