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

use std::collections::BTreeMap;

use serde::Serialize;

use super::CampaignError;
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::campaign::counters::{CounterKey, MemoryCounters, PersonKey, Tally};
use crate::domain::campaign::engine::{self, Evaluation, Outcome, Trip};
use crate::domain::campaign::{Campaign, CampaignId};
use crate::domain::error::Detail;
use crate::domain::journey_v2::Journey;
use crate::domain::operator::{Operator, OperatorId};
use crate::records::draft::{Counted, Draft, DraftCounter, IncentiveTotals};
pub use crate::records::draft::{CANCELED, DRAFT};
use crate::records::journey::{JourneyRecord, Party};
use crate::records::keys;
use crate::store::{
    Condition, Item, Key, Query, SkRange, StoreError, Update, WriteOp, MAX_TRANSACTION_WRITES,
};

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
    journey: &Journey,
    operator: OperatorId,
) -> Result<bool, DraftError> {
    let campaigns = crate::campaigns::all(app).await?;
    if !campaigns.is_empty() {
        let siret = if campaigns.iter().any(|c| {
            c.operators
                .iter()
                .chain(c.operator_windows.iter().map(|w| &w.operator))
                .any(|o| matches!(o, crate::domain::campaign::OperatorRef::Siret(_)))
        }) {
            app.store
                .get(&keys::operator(operator))
                .await?
                .and_then(|o| Operator::siret_of(&o))
        } else {
            None
        };
        let person = |party: &Party| party.key.as_deref().and_then(PersonKey::from_hex);
        let trip = Trip::from_journey(
            journey,
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
    let journey_id = item.journey_id.as_deref().unwrap_or_default();
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
        let mut ops = vec![WriteOp::Update {
            key: key.clone(),
            update: Update::new().add(REV, 1),
            condition: Some(JourneyRecord::only_if_pending()),
        }];
        let mut deltas: BTreeMap<CounterKey, Tally> = BTreeMap::new();
        let (mut count, mut cents) = (0i64, 0i64);
        for i in &incentives {
            if matches!(i.outcome, Outcome::NotEligible(_)) {
                continue;
            }
            for (k, d) in &i.counted {
                let t = deltas.entry(*k).or_default();
                t.trips += d.trips;
                t.amount += d.amount;
            }
            count += 1;
            cents += n(i.amount);
            let draft = draft_item(
                campaign,
                operator,
                journey_id,
                item.operator_journey_id.as_deref(),
                trip,
                local_date,
                i,
                &now,
            );
            ops.push(WriteOp::Put {
                item: draft,
                condition: Some(Condition::NotExists),
            });
        }
        let drafts = ops.len() - 1;
        if drafts == 0 {
            return Ok(true);
        }
        for (k, d) in &deltas {
            let (holder, rest) = k.storage();
            ops.push(WriteOp::Update {
                key: keys::draft_counter(&campaign.id, &holder, &rest),
                update: DraftCounter::add(n(d.trips), n(d.amount)),
                condition: Some(DraftCounter::holds(read.get(k).copied().flatten())),
            });
        }
        ops.push(WriteOp::Update {
            key: keys::incentive_totals(&campaign.id, &month),
            update: IncentiveTotals::add_drafts(count, cents),
            condition: None,
        });
        debug_assert!(ops.len() <= MAX_TRANSACTION_WRITES);
        match app.store.transact(ops).await {
            Ok(()) => return Ok(true),
            Err(StoreError::TransactionCanceled { index: 0, .. }) => return Ok(false),
            // Written by an earlier delivery of this message.
            Err(StoreError::TransactionCanceled { index, .. }) if index <= drafts => {
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

/// The stored draft of one incentive of a trip (`incentive` from evaluating `campaign`):
/// what the status route, the listings and the monthly run read.
#[allow(clippy::too_many_arguments)]
pub fn draft_item(
    campaign: &Campaign,
    operator: OperatorId,
    journey_id: &str,
    operator_journey_id: Option<&str>,
    trip: &Trip<'_>,
    local_date: chrono::NaiveDate,
    i: &engine::Incentive,
    now: &str,
) -> Item {
    let d = draft(
        campaign,
        operator,
        journey_id,
        operator_journey_id,
        trip,
        local_date,
        i,
        now,
    );
    d.to_item()
}

/// The draft of one incentive of a trip, see [`draft_item`].
#[allow(clippy::too_many_arguments)]
pub fn draft(
    campaign: &Campaign,
    operator: OperatorId,
    journey_id: &str,
    operator_journey_id: Option<&str>,
    trip: &Trip<'_>,
    local_date: chrono::NaiveDate,
    i: &engine::Incentive,
    now: &str,
) -> Draft {
    let counted: Vec<Counted> = i
        .counted
        .iter()
        .map(|(k, d)| {
            let (holder, rest) = k.storage();
            let store_key = keys::draft_counter(&campaign.id, &holder, &rest);
            (store_key.pk, store_key.sk, n(d.trips), n(d.amount))
        })
        .collect();
    let (capped_by, cap_index) = match i.outcome {
        Outcome::Capped { cap, label } => (Some(label.to_owned()), Some(n(cap as u64))),
        _ => (None, None),
    };
    Draft {
        key: keys::draft_incentive(operator, journey_id, &campaign.id, i.role.as_str()),
        campaign: campaign.id.clone(),
        journey_id: journey_id.to_owned(),
        operator,
        operator_journey_id: operator_journey_id.map(str::to_owned),
        role: i.role.as_str().to_owned(),
        person_key: trip_person(trip, i.role)
            .map(PersonKey::to_hex)
            .unwrap_or_default(),
        amount: n(i.amount),
        computed: n(i.computed),
        status: DRAFT.to_owned(),
        start: rfc3339(trip.start),
        local_date: local_date.format("%Y-%m-%d").to_string(),
        month: local_date.format("%Y-%m").to_string(),
        counted: Some(counted),
        created_at: now.to_owned(),
        capped_by,
        cap_index,
        canceled_at: None,
    }
}

fn trip_person(trip: &Trip, role: crate::domain::campaign::PaidRole) -> Option<PersonKey> {
    match role {
        crate::domain::campaign::PaidRole::Driver => trip.driver,
        crate::domain::campaign::PaidRole::Passenger => trip.passenger,
    }
}

/// The writes that cancel the given drafts (still `draft`) and give back what they counted:
/// grouped per campaign and month, each group complete in itself.
pub fn cancel_groups(drafts: &[Item], now: &str) -> Vec<Vec<WriteOp>> {
    let mut groups: BTreeMap<(CampaignId, String), Vec<Draft>> = BTreeMap::new();
    for d in drafts.iter().filter_map(Draft::from_item) {
        if d.status == DRAFT {
            groups
                .entry((d.campaign.clone(), d.month.clone()))
                .or_default()
                .push(d);
        }
    }
    groups
        .into_iter()
        .map(|((id, month), drafts)| {
            let mut ops = Vec::new();
            let mut deltas: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
            let (mut count, mut cents) = (0i64, 0i64);
            for d in drafts {
                let (update, condition) = Draft::cancel(now);
                ops.push(WriteOp::Update {
                    key: d.key.clone(),
                    update,
                    condition: Some(condition),
                });
                count += 1;
                cents += d.amount;
                for (pk, sk, trips, amount) in d.counted.unwrap_or_default() {
                    let t = deltas.entry((pk, sk)).or_default();
                    t.0 += trips;
                    t.1 += amount;
                }
            }
            for ((pk, sk), (trips, amount)) in deltas {
                ops.push(WriteOp::Update {
                    key: Key::new(pk, sk),
                    update: DraftCounter::add(-trips, -amount),
                    condition: None,
                });
            }
            ops.push(WriteOp::Update {
                key: keys::incentive_totals(&id, &month),
                update: IncentiveTotals::cancel(count, cents),
                condition: None,
            });
            ops
        })
        .collect()
}

/// A journey item and its drafts, in one strongly consistent query of its partition.
pub async fn journey_with_drafts(
    app: &App,
    key: &Key,
) -> Result<Option<(Item, Vec<Item>)>, StoreError> {
    let mut journey = None;
    let mut drafts = Vec::new();
    let mut cursor = None;
    loop {
        let page = app
            .store
            .query(Query::partition(key.pk.clone()).limit(100).after(cursor))
            .await?;
        for item in page.items {
            if item.key.sk == key.sk {
                journey = Some(item);
            } else if item.key.sk.starts_with(keys::DRAFT_PREFIX) {
                drafts.push(item);
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(journey.map(|j| (j, drafts)))
}

/// An incentive of a journey, as the status route shows it.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = JourneyIncentive))]
pub struct StatusView {
    pub campaign_id: String,
    /// `driver` or `passenger`.
    pub role: String,
    /// Cents.
    pub amount: i64,
    /// `draft` or `canceled` until the campaign's month is final; then the final line's
    /// status (`validated`, `capped`, `canceled`, `not_eligible`, `correction`).
    pub status: String,
    /// The cap that reduced the amount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capped_by: Option<String>,
    /// Final lines only: the month (campaign's time zone) and its final version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub month: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub final_version: Option<i64>,
    /// Final lines only: why it is canceled, capped or not eligible.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Final lines only: the higher-priority campaign that pays the journey instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_by: Option<String>,
    /// Final correction lines only: the month whose line this corrects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrects: Option<String>,
}

/// What the status route shows of a journey's incentives (unreadable drafts, never
/// expected, are logged and left out).
pub fn status_view(drafts: &[Item]) -> Vec<StatusView> {
    drafts
        .iter()
        .filter_map(|d| {
            let view = Draft::from_item(d).map(|d| StatusView {
                campaign_id: d.campaign.as_str().to_owned(),
                role: d.role,
                amount: d.amount,
                status: d.status,
                capped_by: d.capped_by,
                month: None,
                final_version: None,
                reason: None,
                paid_by: None,
                corrects: None,
            });
            if view.is_none() {
                tracing::error!(sk = %d.key.sk, "unreadable draft incentive left out");
            }
            view
        })
        .collect()
}

/// One line of a campaign's incentive listing (draft).
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = DraftIncentive))]
pub struct Line {
    pub journey_id: String,
    pub operator_id: i64,
    pub operator_journey_id: Option<String>,
    pub role: String,
    pub status: String,
    pub amount: i64,
    pub computed: i64,
    pub capped_by: Option<String>,
    pub start: String,
    pub local_date: String,
}

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = IncentiveTotals))]
pub struct Totals {
    pub count: i64,
    pub amount: i64,
}

/// A page of a campaign's incentives of one month (index order: journey start), with the
/// month's totals for the asked status (all statuses when none).
pub async fn list(
    app: &App,
    id: &CampaignId,
    month: &str,
    status: Option<&str>,
    limit: usize,
    cursor: Option<crate::store::Cursor>,
) -> Result<(Vec<Line>, Totals, Option<crate::store::Cursor>), CampaignError> {
    let from_client = cursor.is_some();
    let page = match app
        .store
        .query(
            Query::index(keys::incentives_index(id, month))
                .range(SkRange::All)
                .limit(limit)
                .after(cursor),
        )
        .await
    {
        Ok(page) => page,
        // The cursor came from the client: one the store cannot read (garbage, or another
        // listing's) is the client's error, not the registry's.
        Err(StoreError::Invalid(_)) if from_client => {
            return Err(CampaignError::Invalid(Detail::new(
                "cursor",
                "is not a cursor of this listing",
            )))
        }
        Err(e) => return Err(e.into()),
    };
    let lines = page
        .items
        .iter()
        .filter_map(Draft::from_item)
        .filter(|d| status.is_none_or(|s| d.status == s))
        .map(|d| Line {
            journey_id: d.journey_id,
            operator_id: n(d.operator.0),
            operator_journey_id: d.operator_journey_id,
            role: d.role,
            status: d.status,
            amount: d.amount,
            computed: d.computed,
            capped_by: d.capped_by,
            start: d.start,
            local_date: d.local_date,
        })
        .collect();
    let t = app
        .store
        .get(&keys::incentive_totals(id, month))
        .await?
        .as_ref()
        .map(IncentiveTotals::from_item)
        .unwrap_or_default();
    let totals = match status {
        Some(DRAFT) => Totals {
            count: t.draft_count,
            amount: t.draft_amount,
        },
        Some(CANCELED) => Totals {
            count: t.canceled_count,
            amount: t.canceled_amount,
        },
        _ => Totals {
            count: t.draft_count + t.canceled_count,
            amount: t.draft_amount + t.canceled_amount,
        },
    };
    Ok((lines, totals, page.next))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::{json, Value};

    use super::*;
    use crate::api::journeys::accepted_item;
    use crate::config::Config;
    use crate::domain::journey::example_document;
    use crate::queue::memory::MemoryQueue;
    use crate::store::memory::MemoryStore;

    const OP: OperatorId = OperatorId(1);

    async fn app_with_campaign(caps: Value) -> App {
        let app = App::new(
            Arc::new(MemoryStore::new()),
            Arc::new(MemoryQueue::default()),
            Config::default(),
        );
        let today = chrono::Utc::now().date_naive();
        let doc = json!({
            "id": "c1", "name": "c", "territory_name": "t",
            "start": (today - chrono::Days::new(3)).to_string(),
            "end": (today + chrono::Days::new(3)).to_string(),
            "time_zone": "UTC",
            "territory": {"rule": "start", "geojson": {"type": "Polygon", "coordinates": [[
                [1.0, 48.0], [3.0, 48.0], [3.0, 49.5], [1.0, 49.5], [1.0, 48.0]]]}},
            "pays": ["driver", "passenger"],
            "amount": {"mode": "first_matching_band", "bands": [{"from": 0, "fixed": 100}]},
            "caps": caps
        });
        crate::campaigns::create(&app, doc.to_string().as_bytes())
            .await
            .unwrap();
        app
    }

    /// When [`pending`] journeys start (the campaign's time zone is UTC).
    fn started() -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() - chrono::Duration::minutes(90)
    }

    /// A pending journey of driver `d` and passenger `p`, started 90 minutes ago.
    async fn pending(app: &App, id: &str, d: u8, p: u8) {
        let now = chrono::Utc::now();
        let doc = example_document(id, now);
        let mut item = accepted_item(&app.config.hash_secret, OP, &doc, now).unwrap();
        // The people the test names.
        item.set("driver_key", hex::encode([d; 32]));
        item.set("passenger_key", hex::encode([p + 100; 32]));
        app.store.put(item, None).await.unwrap();
    }

    async fn drafts_of(app: &App, id: &str) -> Vec<Item> {
        journey_with_drafts(app, &keys::journey(OP, id))
            .await
            .unwrap()
            .unwrap()
            .1
    }

    async fn counter(app: &App, holder: &str, rest: &str) -> (i64, i64) {
        let id = CampaignId::parse("c1").unwrap();
        let item = app
            .store
            .get(&keys::draft_counter(&id, holder, rest))
            .await
            .unwrap();
        let n = |name| item.as_ref().and_then(|i| i.n(name)).unwrap_or(0);
        (n("trips"), n("amount"))
    }

    /// Journeys of one driver processed all at once: the counters' conditions let exactly
    /// as many through as the caps allow, and the counters hold exactly what was granted.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_processing_never_exceeds_a_cap() {
        let app = app_with_campaign(json!([
            {"kind": "trips", "per": "day", "max": 3},
            {"kind": "budget", "max": 1000}
        ]))
        .await;
        let n = 12;
        for i in 0..n {
            pending(&app, &format!("j-{i}"), 7, i).await;
        }
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..n {
            let app = app.clone();
            tasks.spawn(async move {
                let id = format!("j-{i}");
                // The queue redelivers a failed message: so does this loop.
                while crate::jobs::process::journey(&app, OP, &id).await.is_err() {}
            });
        }
        while tasks.join_next().await.is_some() {}

        let (mut driver_paid, mut total) = (0, 0);
        for i in 0..n {
            let id = format!("j-{i}");
            let journey = app
                .store
                .get(&keys::journey(OP, &id))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(journey.s("status"), Some("ok"));
            for d in drafts_of(&app, &id).await {
                let amount = d.n("amount").unwrap();
                total += amount;
                if d.s("role") == Some("driver") && amount > 0 {
                    driver_paid += 1;
                }
            }
        }
        // 3 trips a day for the driver; the budget (1 000 c) pays 10 incentives of 100.
        assert_eq!(driver_paid, 3);
        assert_eq!(total, 1000);
        let today = started().date_naive();
        let driver = hex::encode([7u8; 32]);
        assert_eq!(
            counter(&app, &driver, &format!("driver#D{today}")).await,
            (3, 300)
        );
        assert_eq!(counter(&app, "*", "*#C").await.1, 1000);

        // Processing again (a redelivery) adds nothing.
        for i in 0..n {
            crate::jobs::process::journey(&app, OP, &format!("j-{i}"))
                .await
                .unwrap();
        }
        assert_eq!(counter(&app, "*", "*#C").await.1, 1000);
    }

    #[tokio::test]
    async fn cancel_groups_give_back_exactly_what_was_counted() {
        let app = app_with_campaign(json!([{"kind": "amount", "per": "month", "max": 150}])).await;
        pending(&app, "a", 1, 1).await;
        pending(&app, "b", 1, 2).await;
        for id in ["a", "b"] {
            crate::jobs::process::journey(&app, OP, id).await.unwrap();
        }
        let month = started().format("%Y-%m").to_string();
        let driver = hex::encode([1u8; 32]);
        // The driver got 100 then the remaining 50.
        assert_eq!(
            counter(&app, &driver, &format!("driver#M{month}")).await,
            (2, 150)
        );
        let drafts = drafts_of(&app, "b").await;
        let groups = cancel_groups(&drafts, "2030-01-01T00:00:00.000Z");
        assert_eq!(groups.len(), 1);
        app.store.transact(groups[0].clone()).await.unwrap();
        assert_eq!(
            counter(&app, &driver, &format!("driver#M{month}")).await,
            (1, 100)
        );
        let totals = app
            .store
            .get(&keys::incentive_totals(
                &CampaignId::parse("c1").unwrap(),
                &month,
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (totals.n("draft_count"), totals.n("draft_amount")),
            (Some(2), Some(200))
        );
        assert_eq!(
            (totals.n("canceled_count"), totals.n("canceled_amount")),
            (Some(2), Some(150))
        );
        // Already canceled drafts give nothing back twice.
        let drafts = drafts_of(&app, "b").await;
        assert!(cancel_groups(&drafts, "x").is_empty());
    }
}
