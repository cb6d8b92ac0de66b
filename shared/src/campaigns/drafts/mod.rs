//! Draft incentives (SPEC §4 "Draft"): computed when a journey is processed `ok`, one per
//! (journey, campaign, paid person), with provisional counters; canceled at once with
//! their journey. Written so that the monthly run can recompute everything from scratch:
//! drafts and draft counters live apart from anything final, each draft records the engine
//! version of the campaign and exactly what it added to which counter.
//!
//! Writes per (journey, campaign), in one transaction: the journey (`incentive_rev` + 1,
//! only while `pending`), its drafts (only if absent: a redelivered message adds nothing),
//! each counter it moves (only if it still holds what the engine read: concurrent journeys
//! of one person cannot both take the last trip of a cap; the loser re-reads and
//! re-evaluates) and the campaign's monthly totals. Cancellation checks `incentive_rev`, so
//! drafts written between its read and its write are never left behind.

mod cancel;
mod item;
mod listing;
mod status;

use std::collections::BTreeMap;

pub use self::cancel::cancel_groups;
pub use self::item::draft;
pub use self::listing::{list, Line, Totals};
pub use self::status::{journey_with_drafts, status_view, StatusView};
use crate::app::App;
use crate::campaigns::Sirets;
use crate::clock::rfc3339;
use crate::domain::campaign::counters::{CounterKey, MemoryCounters, PersonKey, Tally};
use crate::domain::campaign::engine::{self, Evaluation, Outcome, Trip};
use crate::domain::campaign::{Campaign, CampaignId};
use crate::domain::facts::Facts;
use crate::domain::operator::OperatorId;
use crate::records::draft::{DraftCounter, IncentiveTotals};
pub use crate::records::draft::{CANCELED, DRAFT};
use crate::records::journey::{JourneyRecord, Party};
use crate::records::keys;
use crate::store::{Condition, Key, StoreError, Update, WriteOp, MAX_TRANSACTION_WRITES};

/// Drafts that could not be written; processing is retried.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0}")]
pub struct DraftError(pub String);

impl From<StoreError> for DraftError {
    fn from(e: StoreError) -> Self {
        DraftError(e.to_string())
    }
}

/// Attribute of the journey item counting the draft transactions written for it.
pub const REV: &str = crate::records::journey::INCENTIVE_REV;
/// Attempts when counters moved between the read and the write.
const ATTEMPTS: usize = 16;

/// Computes and stores the drafts of a journey being processed to `ok`, then applies
/// `update` (its new status) while it is still `pending`. A journey canceled meanwhile
/// keeps its cancellation and gets no drafts.
pub async fn process(
    app: &App,
    key: &Key,
    item: &JourneyRecord,
    facts: &Facts,
    operator: OperatorId,
) -> Result<bool, DraftError> {
    let campaigns = crate::campaigns::all(app).await?;
    if !campaigns.is_empty() {
        let sirets = Sirets::for_campaigns(campaigns.iter().map(|c| c.as_ref()));
        let siret = sirets.of(app, operator).await?;
        let person = |party: &Party| party.key.as_deref().and_then(PersonKey::from_hex);
        let trip = Trip::from_facts(
            facts,
            operator,
            siret.as_deref(),
            person(&item.driver),
            person(&item.passenger),
        );
        for campaign in campaigns.iter() {
            if !campaign_draft(app, key, item, campaign, &trip, operator).await? {
                // No longer pending: canceled meanwhile.
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// Reads counters the engine may need for this trip.
async fn read_counters(
    app: &App,
    campaign: &Campaign,
    trip: &Trip<'_>,
) -> Result<(MemoryCounters, BTreeMap<CounterKey, Option<Tally>>), DraftError> {
    // Every key evaluation may read: with empty counters it reads them all.
    let mut probe = MemoryCounters::default();
    let mut keys = Vec::new();
    if let Evaluation::Eligible { incentives, .. } = engine::evaluate(campaign, trip, &probe) {
        for i in &incentives {
            keys.extend(i.counted.iter().map(|(k, _)| *k));
        }
    }
    keys.sort();
    keys.dedup();
    let mut tasks = tokio::task::JoinSet::new();
    for key in keys {
        let store = app.store.clone();
        let (holder, rest) = key.storage();
        let store_key = keys::draft_counter(&campaign.id, &holder, &rest);
        tasks.spawn(async move { (key, store.get(&store_key).await) });
    }
    let mut read = BTreeMap::new();
    while let Some(joined) = tasks.join_next().await {
        let (key, item) = joined.map_err(|e| DraftError(format!("counter read: {e}")))?;
        let tally = item?.as_ref().map(DraftCounter::tally);
        if let Some(t) = tally {
            probe.set(key, t);
        }
        read.insert(key, tally);
    }
    Ok((probe, read))
}

fn n(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Evaluates one campaign and writes its drafts. `false` when the journey is no longer
/// pending.
async fn campaign_draft(
    app: &App,
    key: &Key,
    item: &JourneyRecord,
    campaign: &Campaign,
    trip: &Trip<'_>,
    operator: OperatorId,
) -> Result<bool, DraftError> {
    for _ in 0..ATTEMPTS {
        let (counters, read) = read_counters(app, campaign, trip).await?;
        let Evaluation::Eligible {
            local_date,
            incentives,
        } = engine::evaluate(campaign, trip, &counters)
        else {
            return Ok(true);
        };
        let month = local_date.format("%Y-%m").to_string();
        let now = rfc3339(app.clock.now());
        let drafts = Drafts::of(
            campaign,
            operator,
            item,
            trip,
            local_date,
            &incentives,
            &now,
        );
        if drafts.puts.is_empty() {
            return Ok(true);
        }
        let written = drafts.puts.len();
        let ops = drafts.transaction(key, &campaign.id, &month, &read);
        debug_assert!(ops.len() <= MAX_TRANSACTION_WRITES);
        match app.store.transact(ops).await {
            Ok(()) => return Ok(true),
            Err(StoreError::TransactionCanceled { index: 0, .. }) => return Ok(false),
            // Written by an earlier delivery of this message.
            Err(StoreError::TransactionCanceled { index, .. }) if index <= written => {
                return Ok(true)
            }
            // A counter moved: read again and evaluate again.
            Err(StoreError::TransactionCanceled { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(DraftError(format!(
        "counters of campaign {} kept moving; retried later",
        campaign.id
    )))
}

/// The drafts of one evaluation (its incentives that are not `NotEligible`) and what they
/// add to the counters and to the month's totals.
struct Drafts {
    puts: Vec<WriteOp>,
    deltas: BTreeMap<CounterKey, Tally>,
    count: i64,
    cents: i64,
}

impl Drafts {
    fn of(
        campaign: &Campaign,
        operator: OperatorId,
        item: &JourneyRecord,
        trip: &Trip<'_>,
        local_date: chrono::NaiveDate,
        incentives: &[engine::Incentive],
        now: &str,
    ) -> Drafts {
        let journey_id = item.journey_id.as_deref().unwrap_or_default();
        let mut drafts = Drafts {
            puts: Vec::new(),
            deltas: BTreeMap::new(),
            count: 0,
            cents: 0,
        };
        for i in incentives {
            if matches!(i.outcome, Outcome::NotEligible(_)) {
                continue;
            }
            for (k, d) in &i.counted {
                let t = drafts.deltas.entry(*k).or_default();
                t.trips += d.trips;
                t.amount += d.amount;
            }
            drafts.count += 1;
            drafts.cents += n(i.amount);
            let draft = draft(
                campaign,
                operator,
                journey_id,
                item.operator_journey_id.as_deref(),
                trip,
                local_date,
                i,
                now,
            )
            .to_item();
            drafts.puts.push(WriteOp::Put {
                item: draft,
                condition: Some(Condition::NotExists),
            });
        }
        drafts
    }

    /// The transaction: the journey (only while pending), the drafts (only if absent),
    /// each counter (only if it still holds what was `read`), the month's totals.
    fn transaction(
        self,
        key: &Key,
        campaign: &CampaignId,
        month: &str,
        read: &BTreeMap<CounterKey, Option<Tally>>,
    ) -> Vec<WriteOp> {
        let mut ops = vec![WriteOp::Update {
            key: key.clone(),
            update: Update::new().add(REV, 1),
            condition: Some(JourneyRecord::only_if_pending()),
        }];
        ops.extend(self.puts);
        for (k, d) in &self.deltas {
            let (holder, rest) = k.storage();
            ops.push(WriteOp::Update {
                key: keys::draft_counter(campaign, &holder, &rest),
                update: DraftCounter::add(n(d.trips), n(d.amount)),
                condition: Some(DraftCounter::holds(read.get(k).copied().flatten())),
            });
        }
        ops.push(WriteOp::Update {
            key: keys::incentive_totals(campaign, month),
            update: IncentiveTotals::add_drafts(self.count, self.cents),
            condition: None,
        });
        ops
    }
}

#[cfg(test)]
mod tests;
