//! The caps of a campaign applied, in order, to one paid person's incentive of a trip.

use super::counters::{CounterKey, Counters, PersonKey, Tally};
use super::document::MAX_CAPS;
use super::engine::{Assessed, Incentive, Outcome, Reason};
use super::{Campaign, Cap, PaidRole};

/// The counters of one person's incentive, in the order of `c.counters` (on the stack: a
/// campaign has at most MAX_CAPS caps); `None` when one cannot be counted.
fn counter_keys(
    c: &Campaign,
    trip: &Assessed,
    role: PaidRole,
    person: PersonKey,
) -> Option<[Option<CounterKey>; MAX_CAPS]> {
    let mut keys = [None::<CounterKey>; MAX_CAPS];
    for (i, spec) in c.counters.iter().enumerate() {
        let other = |r| trip.person(r);
        let key = CounterKey::for_spec(
            spec,
            role,
            person,
            other,
            trip.ride,
            trip.operator,
            trip.local_date,
        );
        keys[i] = Some(key.ok()?);
    }
    Some(keys)
}

/// The caps, in order, on one paid person's incentive; counters are read on first use.
pub(super) fn grant(
    c: &Campaign,
    trip: &Assessed,
    counters: &impl Counters,
    earlier: &[Incentive],
    role: PaidRole,
    person: PersonKey,
) -> Incentive {
    let computed = trip.computed;
    let Some(keys) = counter_keys(c, trip, role, person) else {
        // A `who` cap on a person the journey does not identify: cannot be counted.
        return Incentive {
            role,
            amount: 0,
            computed,
            outcome: Outcome::NotEligible(Reason::IdentityUnknown),
            counted: Vec::new(),
        };
    };
    let mut read = [None::<Tally>; MAX_CAPS];
    let mut amount = computed;
    let mut outcome = Outcome::Granted;
    for ((index, cap), counter) in c.caps.iter().zip(&c.cap_counters) {
        if amount == 0 {
            // Nothing granted: nothing to count, the reason is set.
            break;
        }
        let Some(i) = *counter else { continue };
        let Some(key) = &keys[i] else { continue };
        let used = *read[i].get_or_insert_with(|| counters.get(key));
        let allowed = allowed(
            cap,
            used,
            || earlier_on(c, earlier, i).amount,
            amount,
            trip.seats,
        );
        if allowed < amount {
            amount = allowed;
            if outcome == Outcome::Granted {
                outcome = Outcome::Capped {
                    cap: *index,
                    label: cap.label(),
                };
            }
        }
    }
    // Counters count what was granted: nothing when the caps left nothing; a journey
    // counts once per counter (a ride's counter counts its seats).
    let counted = if amount == 0 {
        Vec::new()
    } else {
        keys[..c.counters.len()]
            .iter()
            .enumerate()
            .filter_map(|(i, key)| {
                let once = u64::from(earlier_on(c, earlier, i).trips == 0);
                let trips = match c.counters[i].scope {
                    super::Scope::Ride => once * u64::from(trip.seats),
                    _ => once,
                };
                Some((key.as_ref().copied()?, Tally { trips, amount }))
            })
            .collect()
    };
    Incentive {
        role,
        amount,
        computed,
        outcome,
        counted,
    }
}

/// A counter shared by both roles already holds what the earlier incentive of this
/// journey counted there (same counter index: `counted` follows `c.counters`).
fn earlier_on(c: &Campaign, earlier: &[Incentive], i: usize) -> Tally {
    if !c.counters[i].shared_by_roles() {
        return Tally::default();
    }
    earlier
        .iter()
        .filter_map(|e| e.counted.get(i))
        .fold(Tally::default(), |t, (_, d)| Tally {
            trips: t.trips + d.trips,
            amount: t.amount + d.amount,
        })
}

/// What `cap` lets through of `amount`, its counter having `used` (plus, for amounts,
/// what this journey's earlier incentive counted there: `earlier_amount`).
fn allowed(
    cap: &Cap,
    used: Tally,
    earlier_amount: impl FnOnce() -> u64,
    amount: u64,
    seats: u8,
) -> u64 {
    match *cap {
        // This trip is not in the counters yet, whoever of its people was counted.
        Cap::Trips { max, .. } => {
            if used.trips < max {
                amount
            } else {
                0
            }
        }
        Cap::Amount { max, .. } | Cap::Budget { max } => {
            amount.min(max.saturating_sub(used.amount + earlier_amount()))
        }
        // All or nothing, in seats: this journey's seats must fit in what is left.
        Cap::SeatsPerRide { max, .. } => {
            if used.trips + u64::from(seats) <= max {
                amount
            } else {
                0
            }
        }
        Cap::SeatsPerTrip { .. } => amount,
    }
}
