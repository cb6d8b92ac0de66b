//! The record of a monthly run: what was planned (one group per campaign and month, with
//! its shards), which units are done, and when the whole run finished. Each unit is
//! recorded once, in the transaction that completes it, so a unit delivered twice counts
//! once; the unit that completes the run stamps `finished_at` and logs one summary line.

use serde::{Deserialize, Serialize};

use super::{Month, Report};
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::campaign::CampaignId;
use crate::records::keys;
use crate::records::run::{self, MonthlyRun, RunGroup, RunUnit};
use crate::store::{Condition, Item, Query, StoreError, StoreResult, WriteOp};

/// One campaign and month of a run. A chain (a forced month, then the later final months
/// of the campaign) links each month to the one before, whose final step goes first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub campaign: CampaignId,
    pub month: Month,
    /// Shards preparing its journeys; 0: the final step reads them itself.
    pub shards: u32,
    pub shards_done: u32,
    pub prev: Option<Month>,
    pub next: Option<Month>,
}

impl Group {
    /// Units of the group: its shards and its final step.
    pub fn units(&self) -> u64 {
        u64::from(self.shards) + 1
    }

    fn item(&self, run_id: &str) -> Item {
        RunGroup {
            campaign: self.campaign.clone(),
            month: self.month.to_string(),
            shards: i64::from(self.shards),
            shards_done: Some(0),
            prev: self.prev.map(|p| p.to_string()),
            next: self.next.map(|n| n.to_string()),
        }
        .to_item(run_id)
    }

    fn from_item(item: &Item) -> Option<Group> {
        let g = RunGroup::from_item(item)?;
        let month = |m: Option<String>| m.as_deref().and_then(Month::parse);
        let count = |n: i64| u32::try_from(n).ok();
        Some(Group {
            campaign: g.campaign,
            month: Month::parse(&g.month)?,
            shards: count(g.shards)?,
            shards_done: g.shards_done.and_then(count).unwrap_or(0),
            prev: month(g.prev),
            next: month(g.next),
        })
    }
}

/// How a campaign's month ended in a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub campaign_id: String,
    pub month: String,
    pub shards: u32,
    pub shards_done: u32,
    /// Finalized: the version written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<Report>,
    /// Refused or failed for good (not over, final already, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A run as kept for operators (`registry jobs policy-monthly --last`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub run_id: String,
    pub month: String,
    pub force: bool,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub units: u64,
    pub units_done: u64,
    /// Per campaign and month, in campaign then month order; neither report nor error
    /// while pending.
    pub campaigns: Vec<Outcome>,
    pub warnings: Vec<String>,
}

/// What a plan records before any unit runs.
pub struct Start<'a> {
    pub run_id: &'a str,
    pub month: Month,
    pub force: bool,
    /// Every campaign id when the run was planned: op3 compares with these only.
    pub campaigns: &'a [CampaignId],
    pub groups: &'a [Group],
    /// Campaigns refused at once (their final step recorded as such).
    pub refused: &'a [(CampaignId, Month, String)],
    pub warnings: &'a [String],
}

/// Records a new run: its groups and refusals, then the header (the units' condition).
pub async fn start(app: &App, run: &Start<'_>) -> StoreResult<()> {
    for g in run.groups {
        app.store.put(g.item(run.run_id), None).await?;
    }
    for (id, month, error) in run.refused {
        let group = Group {
            campaign: id.clone(),
            month: *month,
            shards: 0,
            shards_done: 0,
            prev: None,
            next: None,
        };
        app.store.put(group.item(run.run_id), None).await?;
        app.store
            .put(unit_item(run.run_id, id, *month, Err(error)), None)
            .await?;
    }
    let units: u64 = run.groups.iter().map(Group::units).sum::<u64>() + run.refused.len() as u64;
    let started_at = rfc3339(app.clock.now());
    let header = MonthlyRun {
        run_id: run.run_id.to_owned(),
        month: run.month.to_string(),
        force: run.force,
        started_at,
        finished_at: None,
        units: i64::try_from(units).unwrap_or(i64::MAX),
        units_done: run.refused.len() as i64,
        campaigns: run
            .campaigns
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect(),
        warnings: run.warnings.to_vec(),
    }
    .to_item();
    app.store.put(header, Some(Condition::NotExists)).await
}

/// The header fields units need.
#[derive(Clone, Debug)]
pub struct Header {
    pub month: Month,
    pub force: bool,
    pub campaigns: Vec<CampaignId>,
}

pub async fn header(app: &App, run_id: &str) -> StoreResult<Option<Header>> {
    let Some(item) = app.store.get(&keys::monthly_run(run_id)).await? else {
        return Ok(None);
    };
    let run = MonthlyRun::from_item(run_id, &item);
    let Some(month) = Month::parse(&run.month) else {
        return Err(StoreError::Invalid(format!(
            "monthly run {run_id}: no month"
        )));
    };
    Ok(Some(Header {
        month,
        force: run.force,
        campaigns: run
            .campaigns
            .iter()
            .filter_map(|s| CampaignId::parse(s))
            .collect(),
    }))
}

pub async fn group(
    app: &App,
    run_id: &str,
    id: &CampaignId,
    month: Month,
) -> StoreResult<Option<Group>> {
    let key = keys::monthly_run_group(run_id, id, &month.to_string());
    Ok(app
        .store
        .get(&key)
        .await?
        .as_ref()
        .and_then(Group::from_item))
}

/// The recorded result of a campaign's final step: `None` while not done.
pub async fn final_result(
    app: &App,
    run_id: &str,
    id: &CampaignId,
    month: Month,
) -> StoreResult<Option<Result<Report, String>>> {
    let key = keys::monthly_run_unit(run_id, id, &month.to_string(), None);
    Ok(app.store.get(&key).await?.as_ref().and_then(unit_result))
}

fn unit_result(item: &Item) -> Option<Result<Report, String>> {
    match RunUnit::final_result(item)? {
        Err(error) => Some(Err(error.to_owned())),
        Ok(report) => Some(
            serde_json::from_str(report)
                .map_err(|e| format!("unreadable report recorded ({e}): {report}")),
        ),
    }
}

fn unit_item(run_id: &str, id: &CampaignId, month: Month, result: Result<&Report, &str>) -> Item {
    let key = keys::monthly_run_unit(run_id, id, &month.to_string(), None);
    let result = result.map(|report| serde_json::to_string(report).unwrap_or_default());
    RunUnit::final_item(key, result)
}

fn count_unit(run_id: &str) -> WriteOp {
    WriteOp::Update {
        key: keys::monthly_run(run_id),
        update: run::count_unit(),
        condition: Some(Condition::Exists),
    }
}

/// The writes recording a final step (once: the record must not exist yet).
pub fn final_done(
    run_id: &str,
    id: &CampaignId,
    month: Month,
    result: Result<&Report, &str>,
) -> Vec<WriteOp> {
    vec![
        WriteOp::Put {
            item: unit_item(run_id, id, month, result),
            condition: Some(Condition::NotExists),
        },
        count_unit(run_id),
    ]
}

/// Records a final step that refused or failed for good; nothing when already recorded.
pub async fn final_refused(
    app: &App,
    run_id: &str,
    id: &CampaignId,
    month: Month,
    error: &str,
) -> StoreResult<()> {
    tracing::warn!(run_id, campaign = %id, %month, error, "monthly run: campaign not finalized");
    match app
        .store
        .transact(final_done(run_id, id, month, Err(error)))
        .await
    {
        Ok(()) | Err(StoreError::TransactionCanceled { index: 0, .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The writes that count a shard done, after the one completing its own record.
pub fn shard_done(run_id: &str, id: &CampaignId, month: Month) -> Vec<WriteOp> {
    vec![
        count_unit(run_id),
        WriteOp::Update {
            key: keys::monthly_run_group(run_id, id, &month.to_string()),
            update: RunGroup::shard_done(),
            condition: Some(Condition::Exists),
        },
    ]
}

/// Stamps `finished_at` once every unit is done (the first unit to see it does);
/// returns the finished record then.
pub async fn finish_if_complete(app: &App, run_id: &str) -> StoreResult<Option<RunRecord>> {
    let key = keys::monthly_run(run_id);
    let Some(header) = app.store.get(&key).await? else {
        return Ok(None);
    };
    let run = MonthlyRun::from_item(run_id, &header);
    if run.finished_at.is_some() || run.units_done < run.units {
        return Ok(None);
    }
    let (done, once) = MonthlyRun::finish(rfc3339(app.clock.now()));
    match app.store.update(&key, done, Some(once)).await {
        Ok(_) => {}
        Err(StoreError::ConditionFailed { .. }) => return Ok(None),
        Err(e) => return Err(e),
    }
    let record = read_run(app, run_id).await?;
    if let Some(r) = &record {
        let finalized = r.campaigns.iter().filter(|c| c.report.is_some()).count();
        let paid: i64 = r
            .campaigns
            .iter()
            .filter_map(|c| c.report.as_ref())
            .map(|rep| rep.totals.paid.amount)
            .sum();
        tracing::info!(run_id, month = %r.month, force = r.force, units = r.units,
            campaigns = r.campaigns.len(), finalized, refused = r.campaigns.len() - finalized,
            paid, started_at = %r.started_at, "monthly run done");
    }
    Ok(record)
}

/// A run with the outcome of every campaign and month so far.
pub async fn read_run(app: &App, run_id: &str) -> StoreResult<Option<RunRecord>> {
    let Some(header) = app.store.get(&keys::monthly_run(run_id)).await? else {
        return Ok(None);
    };
    let mut groups = Vec::new();
    let mut results = std::collections::BTreeMap::new();
    let mut cursor = None;
    loop {
        let page = app
            .store
            .query(
                Query::partition(header.key.pk.clone())
                    .limit(1000)
                    .after(cursor),
            )
            .await?;
        for item in &page.items {
            if item.key.sk.starts_with("GROUP#") {
                groups.extend(Group::from_item(item));
            } else if item.key.sk.starts_with("UNIT#") && item.key.sk.ends_with("#F") {
                if let Some(r) = unit_result(item) {
                    results.insert(item.key.sk.clone(), r);
                }
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let campaigns = groups
        .iter()
        .map(|g| {
            let m = g.month.to_string();
            let key = keys::monthly_run_unit(run_id, &g.campaign, &m, None);
            let (report, error) = match results.remove(&key.sk) {
                Some(Ok(r)) => (Some(r), None),
                Some(Err(e)) => (None, Some(e)),
                None => (None, None),
            };
            Outcome {
                campaign_id: g.campaign.to_string(),
                month: m,
                shards: g.shards,
                shards_done: g.shards_done,
                report,
                error,
            }
        })
        .collect();
    let run = MonthlyRun::from_item(run_id, &header);
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    Ok(Some(RunRecord {
        run_id: run.run_id,
        month: run.month,
        force: run.force,
        started_at: run.started_at,
        finished_at: run.finished_at,
        units: count(run.units),
        units_done: count(run.units_done),
        campaigns,
        warnings: run.warnings,
    }))
}

/// The most recent run (finished or not).
pub async fn last_run(app: &App) -> StoreResult<Option<RunRecord>> {
    let page = app
        .store
        .query(Query::index(keys::MONTHLY_RUNS_INDEX).descending().limit(1))
        .await?;
    match page.items.first().and_then(run::run_id_of) {
        Some(run_id) => read_run(app, run_id).await,
        None => Ok(None),
    }
}
