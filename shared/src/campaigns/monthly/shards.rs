//! The shards of a big campaign's month: how many and which slice of the month each
//! takes, a shard's work (op1, op3, eligibility and amounts, [`compute::prepare`]) stored
//! as chunks of prepared journeys, and their reading back by the final step.

use chrono::TimeZone;

use super::compute::{self, Prepared};
use super::fanout::{wait_done, MonthlyError, Unit};
use super::fence::Fence;
use super::progress::{self, Group};
use super::{read_entries, Month};
use crate::app::App;
use crate::domain::campaign::{Campaign, CampaignId};
use crate::records::draft::IncentiveTotals;
use crate::records::keys;
use crate::records::run::{PreparedChunk, RunUnit};
use crate::store::{SkRange, StoreError};

/// At most this many shards per campaign and month.
const MAX_SHARDS: u32 = 256;
/// Bytes of prepared journeys per stored chunk (DynamoDB items stop at 400 KB).
const CHUNK_BYTES: usize = 256 * 1024;
/// Prepared chunks read at once by a final step.
const CHUNKS_IN_FLIGHT: usize = 8;

/// Shards for a campaign's month, from the count of its drafts; 0 below one shard's worth.
pub(super) async fn shards_for(
    app: &App,
    id: &CampaignId,
    month: Month,
) -> Result<u32, StoreError> {
    let per_shard = app.config.monthly_shard_drafts.max(1);
    let totals = app
        .store
        .get(&keys::incentive_totals(id, &month.to_string()))
        .await?;
    let t = totals
        .as_ref()
        .map(IncentiveTotals::from_item)
        .unwrap_or_default();
    let drafts = u64::try_from(t.draft_count + t.canceled_count).unwrap_or(0);
    let shards = drafts.div_ceil(per_shard);
    Ok(if shards <= 1 {
        0
    } else {
        u32::try_from(shards).unwrap_or(MAX_SHARDS).min(MAX_SHARDS)
    })
}

/// The index sort-key range of shard `n` of `shards`: equal slices of the month's time
/// in the campaign's zone (drafts' index sort keys start with the journey's start).
pub(super) fn shard_range(campaign: &Campaign, month: Month, n: u32, shards: u32) -> SkRange {
    let tz = campaign.time_zone;
    let midnight = |day: chrono::NaiveDate| {
        tz.from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
            .earliest()
            .map(|t| t.with_timezone(&chrono::Utc))
    };
    let next = month.last_day().succ_opt().unwrap_or(month.last_day());
    let (Some(from), Some(to)) = (midnight(month.first_day()), midnight(next)) else {
        return SkRange::All;
    };
    let span = (to - from).num_seconds();
    let bound = |k: u32| {
        let at = from + chrono::Duration::seconds(span * i64::from(k) / i64::from(shards));
        crate::clock::rfc3339(at)
    };
    // A bound never equals a sort key: those continue after the start (`<start>#...`).
    match (n, shards) {
        (_, 0 | 1) => SkRange::All,
        (0, _) => SkRange::Lte(bound(1)),
        (n, s) if n + 1 >= s => SkRange::Gte(bound(n)),
        (n, _) => SkRange::Between(bound(n), bound(n + 1)),
    }
}

/// A shard: its journeys prepared and stored in chunks, then the shard counted done.
pub(super) async fn run_shard(
    app: &App,
    run_id: &str,
    campaign: &Campaign,
    planned: &[&Campaign],
    group: &Group,
    n: u32,
) -> Result<Vec<Unit>, MonthlyError> {
    let (id, month) = (&campaign.id, group.month);
    let m = month.to_string();
    let key = keys::monthly_run_unit(run_id, id, &m, Some(n));
    if let Some(fence) = Fence::take(app, &key, RunUnit::DONE).await? {
        let range = shard_range(campaign, month, n, group.shards);
        let rivals = compute::rivals(campaign, planned);
        let entries = read_entries(app, campaign, &rivals, month, range).await?;
        let mut prepared: Vec<Prepared> = entries
            .iter()
            .map(|e| compute::prepare(campaign, &rivals, e))
            .collect();
        // Read concurrently: in start order, a delivery writes what any other would.
        prepared.sort_by(|a, b| {
            (a.start, a.operator_id, &a.journey_id).cmp(&(b.start, b.operator_id, &b.journey_id))
        });
        let mut chunks: Vec<String> = Vec::new();
        let mut chunk = String::from("[");
        for p in &prepared {
            let p = serde_json::to_string(p)
                .map_err(|e| MonthlyError::Invalid(format!("prepared journey: {e}")))?;
            if chunk.len() + p.len() > CHUNK_BYTES && chunk.len() > 1 {
                chunks.push(std::mem::replace(&mut chunk, String::from("[")) + "]");
            }
            if chunk.len() > 1 {
                chunk.push(',');
            }
            chunk.push_str(&p);
        }
        if chunk.len() > 1 {
            chunks.push(chunk + "]");
        }
        let mut lost = false;
        for (i, data) in chunks.iter().enumerate() {
            let key = keys::monthly_run_prepared(run_id, id, &m, n, i);
            let item = PreparedChunk::to_item(key, data, ttl(app));
            if fence.put(app, item).await?.is_err() {
                lost = true;
                break;
            }
        }
        if !lost {
            let update = RunUnit::shard_done(chunks.len(), entries.len());
            let mut ops = vec![fence.complete(update)];
            ops.extend(progress::shard_done(run_id, id, month));
            match app.store.transact(ops).await {
                Ok(()) => {
                    tracing::info!(run_id, campaign = %id, month = %m, shard = n,
                        journeys = entries.len(), "monthly run shard done");
                }
                Err(StoreError::TransactionCanceled { index: 0, .. }) => lost = true,
                Err(e) => return Err(e.into()),
            }
        }
        if lost {
            wait_done(app, &key).await?;
        }
    }
    // Done, by this delivery or an earlier one: is the final step ready?
    let group = progress::group(app, run_id, id, month)
        .await?
        .unwrap_or_else(|| group.clone());
    if group.shards_done >= group.shards && previous_done(app, run_id, &group).await? {
        return Ok(vec![Unit::final_step(id, month)]);
    }
    Ok(Vec::new())
}

/// Prepared chunks are kept 30 days (DynamoDB TTL): long enough to investigate a run.
pub(super) fn ttl(app: &App) -> i64 {
    (app.clock.now() + chrono::Duration::days(30)).timestamp()
}

pub(super) async fn previous_done(
    app: &App,
    run_id: &str,
    group: &Group,
) -> Result<bool, StoreError> {
    match group.prev {
        None => Ok(true),
        Some(prev) => Ok(progress::final_result(app, run_id, &group.campaign, prev)
            .await?
            .is_some()),
    }
}

/// Every journey the shards of a group prepared (chunks read several at once: the final
/// step sorts them).
pub(super) async fn read_prepared(
    app: &App,
    run_id: &str,
    group: &Group,
) -> Result<Vec<Prepared>, MonthlyError> {
    use futures::StreamExt;
    let (id, m) = (&group.campaign, group.month.to_string());
    let mut wanted = Vec::new();
    for n in 0..group.shards {
        let shard = app
            .store
            .get(&keys::monthly_run_unit(run_id, id, &m, Some(n)))
            .await?
            .filter(RunUnit::is_done)
            .ok_or_else(|| MonthlyError::Invalid(format!("{id} {m}: shard {n} is not done")))?;
        let chunks = RunUnit::chunks(&shard);
        wanted.extend((0..chunks).map(|i| keys::monthly_run_prepared(run_id, id, &m, n, i)));
    }
    let chunks: Vec<Result<Vec<Prepared>, MonthlyError>> = futures::stream::iter(wanted)
        .map(|key| async move {
            app.store
                .get(&key)
                .await?
                .as_ref()
                .and_then(PreparedChunk::data)
                .and_then(|d| serde_json::from_str(d).ok())
                .ok_or_else(|| {
                    MonthlyError::Invalid(format!(
                        "prepared journeys missing or unreadable in {key:?}"
                    ))
                })
        })
        .buffer_unordered(CHUNKS_IN_FLIGHT)
        .collect()
        .await;
    let mut prepared = Vec::new();
    for chunk in chunks {
        prepared.extend(chunk?);
    }
    Ok(prepared)
}
