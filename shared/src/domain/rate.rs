//! Per-operator rate limits: the rules of the leases a process takes from the shared
//! per-minute counter (the counter itself is written by the HTTP edge, `api::ratelimit`).

use std::collections::HashMap;
use std::sync::Mutex;

use super::operator::OperatorId;

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
    pub fn name(self) -> &'static str {
        match self {
            RateClass::Acquisition => "acquisition",
            RateClass::Cee => "cee",
            RateClass::Other => "other",
        }
    }
}

/// A lease asks for this share of what remained in the window at the last lease ...
const LEASE_SHARE: u64 = 32;
/// ... and never more than this many requests.
const MAX_LEASE: u64 = 100;

/// What this process knows of one operator's window of one class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Window {
    /// `left` requests leased and not used yet; the next lease asks for `next`.
    Leased { minute: i64, left: u64, next: u64 },
    /// Over the limit until the window ends.
    Blocked { minute: i64 },
}

/// The windows this process holds leases in or saw over the limit.
#[derive(Default)]
pub struct Windows(Mutex<HashMap<(OperatorId, RateClass), Window>>);

pub enum Local {
    Accept,
    Refuse,
    /// Ask the shared counter for this many requests.
    Lease(u64),
}

impl Windows {
    pub fn take(&self, key: (OperatorId, RateClass), minute: i64) -> Local {
        let Ok(mut map) = self.0.lock() else {
            return Local::Lease(1);
        };
        match map.get_mut(&key) {
            Some(Window::Blocked { minute: m }) if *m == minute => Local::Refuse,
            Some(Window::Leased {
                minute: m,
                left,
                next,
            }) if *m == minute => {
                if *left > 0 {
                    *left -= 1;
                    Local::Accept
                } else {
                    Local::Lease(*next)
                }
            }
            // A new window starts with a lease of one: its answer says what remains.
            _ => Local::Lease(1),
        }
    }

    /// Records a lease of `asked` that brought the shared count to `count`; returns whether
    /// the request that asked is accepted.
    pub fn leased(
        &self,
        key: (OperatorId, RateClass),
        minute: i64,
        asked: u64,
        count: u64,
        limit: u64,
    ) -> bool {
        let before = count.saturating_sub(asked);
        let granted = limit.saturating_sub(before).min(asked);
        let window = if granted == 0 {
            Window::Blocked { minute }
        } else {
            let remaining = limit.saturating_sub(count);
            Window::Leased {
                minute,
                // One of them is this request's.
                left: granted - 1,
                next: (remaining / LEASE_SHARE).clamp(1, MAX_LEASE),
            }
        };
        if let Ok(mut map) = self.0.lock() {
            // Forget the windows that ended.
            map.retain(|_, w| match w {
                Window::Leased { minute: m, .. } | Window::Blocked { minute: m } => *m >= minute,
            });
            // Requests still leased in this window (taken by concurrent requests of this
            // process) are kept: the lease adds to them.
            let window = match (map.get(&key), window) {
                (
                    Some(Window::Leased {
                        minute: m, left, ..
                    }),
                    Window::Leased {
                        minute,
                        left: more,
                        next,
                    },
                ) if *m == minute => Window::Leased {
                    minute,
                    left: left + more,
                    next,
                },
                _ => window,
            };
            map.insert(key, window);
        }
        granted > 0
    }
}
