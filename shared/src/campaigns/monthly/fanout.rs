//! The monthly run as units of work, so that no Lambda invocation nears its 15 minutes:
//!
//! * the plan ([`plan`]) records a run ([`progress`]) with one group per campaign and month
//!   and returns its first units;
//! * a big campaign (more drafts than `REGISTRY_MONTHLY_SHARD_DRAFTS`) is split into
//!   shards by journey start time ([`super::shards`]); a shard does what needs no counters (op1, op3,
//!   eligibility, amount: [`compute::prepare`]) and stores the prepared journeys;
//! * the campaign's final step applies the caps (op2) to every prepared journey in start
//!   order, in one place, so per-person caps, campaign-wide caps and the budget stay
//!   exactly those of a run in one process (a journey's incentives touch the counters of
//!   its driver and of its passenger, so no split by person would keep them apart);
//! * op3 needs no other campaign's results: a campaign only compares the documents of
//!   the campaigns recorded with the run ([`compute::rivals`]), so order does not matter.
//!
//! In AWS the `policy-monthly` Lambda plans and sends the units to the monthly queue, and
//! the `policy-monthly-worker` Lambda runs each ([`crate::records::task::Task::MonthlyUnit`]) and
//! sends the units it makes ready (a campaign's final step once its shards are done, the
//! next month of a chain). Locally ([`run_here`]) the same units run in this process.
//!
//! Forcing a month also recomputes the later months of the campaign that are final (each
//! a new version, in month order): they carried the forced month's counters.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use super::compute;
use super::finalize;
use super::progress::{self, Group, RunRecord};
use super::shards::{previous_done, read_prepared, run_shard, shards_for};
use super::{overlapping, read_entries, Month, Report, RunError};
use crate::app::App;
use crate::domain::campaign::{Campaign, CampaignId};
use crate::queue::Message;
use crate::records::keys;
use crate::records::monthly::{FinalMarker, VersionHeader};
use crate::records::run::RunUnit;
use crate::store::{Query, SkRange, StoreError};

/// How long a delivery that lost its unit to another delivery waits for it to complete
/// before handing the message back to the queue.
const WAIT_FOR_TWIN: Duration = Duration::from_secs(60);

pub use crate::records::task::MonthlyUnit as Unit;

impl Unit {
    pub(super) fn final_step(id: &CampaignId, month: Month) -> Unit {
        Unit {
            campaign: id.to_string(),
            month: month.to_string(),
            shard: None,
        }
    }

    fn message(&self, run_id: &str) -> Message {
        Message::new(
            crate::records::task::Task::MonthlyUnit {
                run_id: run_id.to_owned(),
                unit: self.clone(),
            }
            .to_body(),
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MonthlyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] crate::queue::QueueError),
    #[error("{0}")]
    Invalid(String),
    /// Another delivery of the unit is writing it and has not completed yet.
    #[error("{0}")]
    Busy(String),
}

impl From<RunError> for MonthlyError {
    fn from(e: RunError) -> Self {
        match e {
            RunError::Store(e) => MonthlyError::Store(e),
            other => MonthlyError::Invalid(other.to_string()),
        }
    }
}

/// The final months of a campaign after `month`, in order.
async fn later_finals(app: &App, id: &CampaignId, month: Month) -> Result<Vec<Month>, StoreError> {
    let page = app
        .store
        .query(
            Query::partition(keys::campaign_versions(id))
                .range(SkRange::Between(
                    format!("{}{month}~", keys::MONTHLY_FINAL_PREFIX),
                    format!("{}~", keys::MONTHLY_FINAL_PREFIX),
                ))
                .limit(1000),
        )
        .await?;
    Ok(page
        .items
        .iter()
        .filter_map(|i| Month::parse(i.key.sk.strip_prefix(keys::MONTHLY_FINAL_PREFIX)?))
        .filter(|m| *m > month)
        .collect())
}

/// A new run id: when it started, and random.
fn new_run_id(app: &App) -> String {
    format!(
        "{}-{}",
        app.clock.now().format("%Y%m%dT%H%M%SZ"),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// Records a run of `month` over every campaign overlapping it; returns the record and
/// the units to run first (every shard, and the final steps that need none).
pub async fn plan(
    app: &App,
    month: Month,
    force: bool,
) -> Result<(RunRecord, Vec<Unit>), MonthlyError> {
    let campaigns = crate::campaigns::all(app).await?;
    let mut groups: Vec<Group> = Vec::new();
    let mut refused = Vec::new();
    let mut warnings = Vec::new();
    for c in overlapping(&campaigns, month) {
        let id = c.id.clone();
        if let Err(e) = finalize::next_version(app, &c, month, force).await {
            match e {
                RunError::Store(e) => return Err(e.into()),
                e => refused.push((id, month, e.to_string())),
            }
            continue;
        }
        let later = later_finals(app, &id, month).await?;
        let chain: Vec<Month> = if force {
            std::iter::once(month).chain(later).collect()
        } else {
            if !later.is_empty() {
                let list: Vec<String> = later.iter().map(Month::to_string).collect();
                warnings.push(format!(
                    "{id}: {} final already without the counters of {month}; rerun them \
                     with --force (from {}) to count it",
                    list.join(", "),
                    list[0]
                ));
            }
            vec![month]
        };
        for (i, m) in chain.iter().enumerate() {
            groups.push(Group {
                campaign: id.clone(),
                month: *m,
                shards: shards_for(app, &id, *m).await?,
                shards_done: 0,
                prev: i.checked_sub(1).map(|p| chain[p]),
                next: chain.get(i + 1).copied(),
            });
        }
    }
    let run_id = new_run_id(app);
    let ids: Vec<CampaignId> = campaigns.iter().map(|c| c.id.clone()).collect();
    progress::start(
        app,
        &progress::Start {
            run_id: &run_id,
            month,
            force,
            campaigns: &ids,
            groups: &groups,
            refused: &refused,
            warnings: &warnings,
        },
    )
    .await?;
    let mut units = Vec::new();
    for g in &groups {
        units.extend((0..g.shards).map(|n| Unit {
            campaign: g.campaign.to_string(),
            month: g.month.to_string(),
            shard: Some(n),
        }));
        if g.shards == 0 && g.prev.is_none() {
            units.push(Unit::final_step(&g.campaign, g.month));
        }
    }
    // Nothing to run (no campaign, or all refused): done at once.
    progress::finish_if_complete(app, &run_id).await?;
    let record = progress::read_run(app, &run_id)
        .await?
        .ok_or_else(|| MonthlyError::Invalid("the run just recorded is missing".into()))?;
    tracing::info!(run_id, %month, force, units = record.units, campaigns = groups.len(),
        refused = refused.len(), "monthly run planned");
    Ok((record, units))
}

/// AWS: plans the run and sends its first units to the monthly queue.
pub async fn fan_out(app: &App, month: Month, force: bool) -> Result<RunRecord, MonthlyError> {
    let (record, units) = plan(app, month, force).await?;
    send(app, &record.run_id, &units).await?;
    Ok(record)
}

async fn send(app: &App, run_id: &str, units: &[Unit]) -> Result<(), MonthlyError> {
    if !units.is_empty() {
        let messages = units.iter().map(|u| u.message(run_id)).collect();
        app.monthly_queue.send(messages).await?;
    }
    Ok(())
}

/// The queue worker's task: runs the unit, then sends the units it made ready.
pub async fn run_delivered(app: &App, run_id: &str, unit: &Unit) -> Result<(), MonthlyError> {
    let next = run_unit(app, run_id, unit).await?;
    send(app, run_id, &next).await
}

/// Runs one unit (idempotent: a unit done already does nothing) and returns the units it
/// made ready. Units of a run that does not exist are refused.
pub async fn run_unit(app: &App, run_id: &str, unit: &Unit) -> Result<Vec<Unit>, MonthlyError> {
    let invalid = |what: &str| MonthlyError::Invalid(format!("monthly unit {unit:?}: {what}"));
    let id = CampaignId::parse(&unit.campaign).ok_or_else(|| invalid("bad campaign id"))?;
    let month = Month::parse(&unit.month).ok_or_else(|| invalid("bad month"))?;
    let header = progress::header(app, run_id)
        .await?
        .ok_or_else(|| invalid("no such run"))?;
    let group = progress::group(app, run_id, &id, month)
        .await?
        .ok_or_else(|| invalid("not planned in this run"))?;
    let campaigns = crate::campaigns::all(app).await?;
    let planned: Vec<&Campaign> = campaigns
        .iter()
        .filter(|c| header.campaigns.contains(&c.id))
        .map(|c| c.as_ref())
        .collect();
    let campaign = planned
        .iter()
        .copied()
        .find(|c| c.id == id)
        .ok_or_else(|| invalid("campaign not found"))?;
    let ready = match unit.shard {
        Some(n) if n < group.shards => {
            run_shard(app, run_id, campaign, &planned, &group, n).await?
        }
        Some(_) => return Err(invalid("no such shard")),
        None => run_final(app, run_id, &header, campaign, &planned, &group).await?,
    };
    progress::finish_if_complete(app, run_id).await?;
    Ok(ready)
}

/// Waits for another delivery of the unit to record it done.
pub(super) async fn wait_done(app: &App, key: &crate::store::Key) -> Result<(), MonthlyError> {
    let deadline = tokio::time::Instant::now() + WAIT_FOR_TWIN;
    let mut pause = Duration::from_millis(20);
    while tokio::time::Instant::now() < deadline {
        if app
            .store
            .get(key)
            .await?
            .is_some_and(|i| RunUnit::is_done(&i))
        {
            return Ok(());
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
    Err(MonthlyError::Busy(format!(
        "{}/{} is being written by another delivery; retry later",
        key.pk, key.sk
    )))
}

/// A campaign's final step: op2 over the month's prepared journeys and the new version,
/// recorded with the unit in one transaction. Then the next month of a chain is ready.
async fn run_final(
    app: &App,
    run_id: &str,
    header: &progress::Header,
    campaign: &Campaign,
    planned: &[&Campaign],
    group: &Group,
) -> Result<Vec<Unit>, MonthlyError> {
    let (id, month) = (&campaign.id, group.month);
    let key = keys::monthly_run_unit(run_id, id, &month.to_string(), None);
    if progress::final_result(app, run_id, id, month)
        .await?
        .is_none()
    {
        finalize_group(app, run_id, header, campaign, planned, group, &key).await?;
    }
    let Some(next) = group.next else {
        return Ok(Vec::new());
    };
    match progress::group(app, run_id, id, next).await? {
        Some(g) if g.shards_done >= g.shards => Ok(vec![Unit::final_step(id, next)]),
        _ => Ok(Vec::new()),
    }
}

async fn finalize_group(
    app: &App,
    run_id: &str,
    header: &progress::Header,
    campaign: &Campaign,
    planned: &[&Campaign],
    group: &Group,
    key: &crate::store::Key,
) -> Result<(), MonthlyError> {
    let (id, month) = (&campaign.id, group.month);
    if let Some(prev) = group.prev {
        match progress::final_result(app, run_id, id, prev).await? {
            Some(Ok(_)) => {}
            Some(Err(_)) => {
                let why =
                    format!("{id} {month} not recomputed: {prev} was not finalized by this run");
                return Ok(progress::final_refused(app, run_id, id, month, &why).await?);
            }
            None => return Err(MonthlyError::Busy(format!("{id} {prev} is not done yet"))),
        }
    }
    // A chain's later months are final already: they are recomputed, as forced.
    let force = header.force || group.prev.is_some();
    let previous = match finalize::next_version(app, campaign, month, force).await {
        Ok(p) => p,
        Err(RunError::Store(e)) => return Err(e.into()),
        Err(e) => {
            return Ok(progress::final_refused(app, run_id, id, month, &e.to_string()).await?)
        }
    };
    let prepared = if group.shards == 0 {
        let rivals = compute::rivals(campaign, planned);
        let entries = read_entries(app, campaign, &rivals, month, SkRange::All).await?;
        entries
            .iter()
            .map(|e| compute::prepare(campaign, &rivals, e))
            .collect()
    } else {
        read_prepared(app, run_id, group).await?
    };
    match finalize::finalize(app, campaign, month, previous, prepared, Some(run_id)).await {
        Ok(_) => Ok(()),
        Err(RunError::Fenced { .. }) => wait_done(app, key).await,
        Err(RunError::Conflict { .. }) => {
            if written_by(app, id, month).await?.as_deref() == Some(run_id) {
                // Another delivery of this unit completed it.
                wait_done(app, key).await
            } else {
                let why = RunError::Conflict {
                    campaign: id.clone(),
                    month,
                };
                Ok(progress::final_refused(app, run_id, id, month, &why.to_string()).await?)
            }
        }
        Err(RunError::Store(e)) => Err(e.into()),
        Err(e) => Ok(progress::final_refused(app, run_id, id, month, &e.to_string()).await?),
    }
}

/// The run that wrote the current final version of a campaign's month.
async fn written_by(
    app: &App,
    id: &CampaignId,
    month: Month,
) -> Result<Option<String>, StoreError> {
    let m = month.to_string();
    let Some(version) = app
        .store
        .get(&keys::monthly_final(id, &m))
        .await?
        .map(|i| FinalMarker::from_item(&i).version)
    else {
        return Ok(None);
    };
    Ok(app
        .store
        .get(&keys::monthly_version(id, &m, version))
        .await?
        .and_then(|h| VersionHeader::from_item(&h).run_id))
}

/// The units of a run not done yet whose turn has come: after a unit failed for good (its
/// message dead-lettered), or to finish a run locally. Sending a unit that is running
/// or done changes nothing.
pub async fn pending(app: &App, run_id: &str) -> Result<Vec<Unit>, MonthlyError> {
    let record = progress::read_run(app, run_id)
        .await?
        .ok_or_else(|| MonthlyError::Invalid(format!("no monthly run {run_id}")))?;
    let mut units = Vec::new();
    for o in &record.campaigns {
        if o.report.is_some() || o.error.is_some() {
            continue;
        }
        let (Some(id), Some(month)) = (CampaignId::parse(&o.campaign_id), Month::parse(&o.month))
        else {
            continue;
        };
        let Some(group) = progress::group(app, run_id, &id, month).await? else {
            continue;
        };
        let mut shards_left = false;
        for n in 0..group.shards {
            let key = keys::monthly_run_unit(run_id, &id, &o.month, Some(n));
            let done = app
                .store
                .get(&key)
                .await?
                .is_some_and(|s| RunUnit::is_done(&s));
            if !done {
                shards_left = true;
                units.push(Unit {
                    campaign: o.campaign_id.clone(),
                    month: o.month.clone(),
                    shard: Some(n),
                });
            }
        }
        if !shards_left && previous_done(app, run_id, &group).await? {
            units.push(Unit::final_step(&id, month));
        }
    }
    Ok(units)
}

/// Sends the pending units of a run again (AWS: after dead letters).
pub async fn resume(app: &App, run_id: &str) -> Result<Vec<Unit>, MonthlyError> {
    let units = pending(app, run_id).await?;
    send(app, run_id, &units).await?;
    Ok(units)
}

/// Runs units in this process, `parallel` at a time, with the units they make ready,
/// until none is left; `progress` is told of each unit done.
pub async fn run_units(
    app: &App,
    run_id: &str,
    units: Vec<Unit>,
    parallel: usize,
    progress: Arc<dyn Fn(&Unit) + Send + Sync>,
) -> Result<RunRecord, MonthlyError> {
    let mut waiting: VecDeque<Unit> = units.into();
    let mut running = tokio::task::JoinSet::new();
    loop {
        while running.len() < parallel.max(1) {
            let Some(unit) = waiting.pop_front() else {
                break;
            };
            let (app, run_id) = (app.clone(), run_id.to_owned());
            running.spawn(async move {
                let next = run_unit(&app, &run_id, &unit).await;
                (unit, next)
            });
        }
        let Some(done) = running.join_next().await else {
            break;
        };
        let (unit, next) =
            done.map_err(|e| MonthlyError::Invalid(format!("monthly run unit: {e}")))?;
        for u in next? {
            if !waiting.contains(&u) {
                waiting.push_back(u);
            }
        }
        progress(&unit);
    }
    progress::read_run(app, run_id)
        .await?
        .ok_or_else(|| MonthlyError::Invalid("the run is missing".into()))
}

/// Locally: plans a run and runs all its units in this process.
pub async fn run_here(
    app: &App,
    month: Month,
    force: bool,
    parallel: usize,
    progress: Arc<dyn Fn(&Unit) + Send + Sync>,
) -> Result<RunRecord, MonthlyError> {
    let (record, units) = plan(app, month, force).await?;
    run_units(app, &record.run_id, units, parallel, progress).await
}

/// A run's outcomes as the per-campaign results of [`super::run_all`].
pub fn results(record: &RunRecord) -> Vec<Result<Report, RunError>> {
    record
        .campaigns
        .iter()
        .map(|o| match (&o.report, &o.error) {
            (Some(r), _) => Ok(r.clone()),
            (None, Some(e)) => Err(RunError::Recorded(e.clone())),
            (None, None) => Err(RunError::Recorded(format!(
                "{} {}: not done",
                o.campaign_id, o.month
            ))),
        })
        .collect()
}
