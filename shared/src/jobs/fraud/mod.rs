//! The fraud pass (SPEC §3): every day, over the journeys of the last days, across every
//! operator, per person. Work is split into units (identity-key shard × days) that read
//! only their own evidence partitions, so the pass scales with the number of shards, not
//! with one process reading everything:
//!
//! * on AWS the `fraud-pass` Lambda (daily schedule) records a run and sends one queue
//!   message per (day, shard); the queue consumer runs each ([`crate::jobs::Task::FraudUnit`]);
//! * locally (`registry jobs fraud-pass`, the scheduler of `registry serve`) one unit per
//!   shard covers the whole window, run in this process ([`run_here`]).
//!
//! Units are idempotent (labels are a function of the evidence; a journey is written only
//! when its labels change), so a unit that crashed or ran twice is simply run again. Each
//! unit records its result on the run; the unit that completes the run adds them up, logs
//! one structured line and stores the totals for registry admins ([`last_run`]).

pub use crate::records::evidence;
mod unit;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::fraud::{paris_day, FraudLabel, FraudRules};
use crate::queue::Message;
use crate::records::keys::{self, FRAUD_SHARDS};
use crate::records::run::{count_unit, run_id_of, FraudRun};
use crate::store::{Condition, Query, SkRange, StoreError, WriteOp};

pub use crate::records::task::FraudUnit as Unit;

impl Unit {
    fn name(&self) -> String {
        format!("{}#{}#{:02}", self.first_day, self.last_day, self.shard)
    }
}

/// What a unit found. Counts are of person-journeys (one person in one journey): a journey
/// whose passenger and driver are both flagged counts twice.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UnitReport {
    /// Person-journeys judged.
    pub evidence: u64,
    /// Person-journeys with at least one label.
    pub flagged: u64,
    /// Person-journeys per label.
    pub labels: BTreeMap<String, u64>,
    /// Label writes: person-journeys whose labels (and maybe their journey's status) this
    /// run changed; 0 on a rerun.
    pub written: u64,
    /// Person-journeys with a position known only by INSEE code (no distance rule).
    pub without_coordinates: u64,
    /// Unreadable evidence items (logged).
    pub skipped: u64,
}

impl UnitReport {
    fn add(&mut self, other: &UnitReport) {
        self.evidence += other.evidence;
        self.flagged += other.flagged;
        for (label, n) in &other.labels {
            *self.labels.entry(label.clone()).or_default() += n;
        }
        self.written += other.written;
        self.without_coordinates += other.without_coordinates;
        self.skipped += other.skipped;
    }
}

/// A run as kept for registry admins.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    #[serde(flatten)]
    pub header: FraudRun,
    /// Totals of the units done so far (all of them once `finished_at` is set).
    pub totals: UnitReport,
}

#[derive(Debug, thiserror::Error)]
pub enum FraudError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] crate::queue::QueueError),
    #[error("{0}")]
    Invalid(String),
}

/// The days a pass covers: `since` (default: `window_days` before today) to today, in
/// Europe/Paris. Today is covered too (its evening is judged again by tomorrow's run).
pub fn window(
    now: DateTime<Utc>,
    rules: &FraudRules,
    since: Option<NaiveDate>,
) -> Result<(NaiveDate, NaiveDate), FraudError> {
    let today = paris_day(now);
    let first = since.unwrap_or(today - TimeDelta::days(i64::from(rules.window_days)));
    if first > today {
        return Err(FraudError::Invalid(format!(
            "--since {first} is after today ({today})"
        )));
    }
    if today - first > TimeDelta::days(366) {
        return Err(FraudError::Invalid(format!(
            "--since {first}: at most 366 days back (evidence is kept 45 days on DynamoDB)"
        )));
    }
    Ok((first, today))
}

/// Hour (Europe/Paris) of the daily run: template.yaml's schedule, and `registry serve`'s.
pub const DAILY_AT_HOUR: u32 = 3;

/// The next daily run after `now`: 03:00 Europe/Paris.
pub fn next_daily_run(now: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::TimeZone;
    let paris = chrono_tz::Europe::Paris;
    let mut day = paris_day(now);
    loop {
        let at = day
            .and_hms_opt(DAILY_AT_HOUR, 0, 0)
            .and_then(|t| paris.from_local_datetime(&t).earliest())
            .map(|t| t.with_timezone(&Utc));
        if let Some(at) = at.filter(|at| *at > now) {
            return at;
        }
        day += TimeDelta::days(1);
    }
}

/// Records a new run of `units` units; returns its id.
async fn start_run(
    app: &App,
    first_day: NaiveDate,
    last_day: NaiveDate,
    units: usize,
) -> Result<String, StoreError> {
    let now = app.clock.now();
    let started_at = rfc3339(now);
    let run_id = format!(
        "{}-{}",
        now.format("%Y%m%dT%H%M%SZ"),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let header = FraudRun {
        run_id: run_id.clone(),
        first_day,
        last_day,
        started_at,
        finished_at: None,
        units: units as u64,
        units_done: 0,
    }
    .to_item();
    app.store.put(header, Some(Condition::NotExists)).await?;
    Ok(run_id)
}

/// Records the result of one unit (once, whatever the retries); the unit that completes the
/// run adds the results up, logs them and returns the finished record.
pub async fn finish_unit(
    app: &App,
    run_id: &str,
    unit: &Unit,
    report: &UnitReport,
) -> Result<Option<RunRecord>, StoreError> {
    let result = FraudRun::unit_item(
        run_id,
        &unit.name(),
        serde_json::to_string(report).unwrap_or_default(),
    );
    let header = keys::fraud_run(run_id);
    let ops = vec![
        WriteOp::Put {
            item: result,
            condition: Some(Condition::NotExists),
        },
        WriteOp::Update {
            key: header.clone(),
            update: count_unit(),
            condition: Some(Condition::Exists),
        },
    ];
    match app.store.transact(ops).await {
        Ok(()) => {}
        // Recorded by an earlier delivery of the same unit: see whether the run is complete.
        Err(StoreError::TransactionCanceled { index: 0, .. }) => {}
        Err(StoreError::TransactionCanceled { .. }) => {
            tracing::warn!(
                run_id,
                "fraud pass unit of an unknown run; result not recorded"
            );
            return Ok(None);
        }
        Err(e) => return Err(e),
    }
    let Some(record) = read_run(app, run_id).await? else {
        return Ok(None);
    };
    if record.header.finished_at.is_some() || record.header.units_done < record.header.units {
        return Ok(None);
    }
    let finished_at = rfc3339(app.clock.now());
    let (done, once) = FraudRun::finish(
        &finished_at,
        serde_json::to_string(&record.totals).unwrap_or_default(),
    );
    match app.store.update(&header, done, Some(once)).await {
        Ok(_) => {}
        // Another unit finished it at the same moment.
        Err(StoreError::ConditionFailed { .. }) => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut record = record;
    record.header.finished_at = Some(finished_at);
    log_run(&record);
    Ok(Some(record))
}

/// The one structured line of a finished run.
fn log_run(r: &RunRecord) {
    let label = |l: FraudLabel| r.totals.labels.get(l.as_str()).copied().unwrap_or(0);
    let h = &r.header;
    tracing::info!(
        run_id = %h.run_id,
        first_day = %h.first_day,
        last_day = %h.last_day,
        units = h.units,
        evidence = r.totals.evidence,
        flagged = r.totals.flagged,
        written = r.totals.written,
        interchangeable_roles = label(FraudLabel::InterchangeableRoles),
        temporal_overlap = label(FraudLabel::TemporalOverlap),
        too_close_trips = label(FraudLabel::TooCloseTrips),
        too_many_trips_by_day = label(FraudLabel::TooManyTripsByDay),
        without_coordinates = r.totals.without_coordinates,
        skipped = r.totals.skipped,
        started_at = %h.started_at,
        "fraud pass done"
    );
}

/// A run with the totals of the units recorded so far.
pub async fn read_run(app: &App, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
    let Some(header) = app.store.get(&keys::fraud_run(run_id)).await? else {
        return Ok(None);
    };
    let Some(run) = FraudRun::from_item(run_id, &header) else {
        return Ok(None);
    };
    let mut totals = UnitReport::default();
    let mut cursor = None;
    let pk = header.key.pk.clone();
    loop {
        let page = app
            .store
            .query(
                Query::partition(pk.clone())
                    .range(SkRange::BeginsWith("UNIT#".into()))
                    .limit(1000)
                    .after(cursor),
            )
            .await?;
        for item in &page.items {
            if let Some(r) =
                FraudRun::unit_report(item).and_then(|s| serde_json::from_str::<UnitReport>(s).ok())
            {
                totals.add(&r);
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(Some(RunRecord {
        header: run,
        totals,
    }))
}

/// The most recent run (finished or not), for `registry jobs fraud-pass --last`.
pub async fn last_run(app: &App) -> Result<Option<RunRecord>, StoreError> {
    let page = app
        .store
        .query(Query::index(keys::FRAUD_RUNS_INDEX).descending().limit(1))
        .await?;
    match page.items.first().and_then(run_id_of) {
        Some(run_id) => read_run(app, run_id).await,
        None => Ok(None),
    }
}

/// Runs one unit and records its result (the queue consumer's task).
pub async fn run_unit(
    app: &App,
    run_id: &str,
    unit: &Unit,
) -> Result<Option<RunRecord>, FraudError> {
    let rules = app.config.fraud.clone();
    let report = unit::run(app, &rules, unit).await?;
    tracing::info!(run_id, shard = unit.shard, first_day = %unit.first_day, last_day = %unit.last_day, evidence = report.evidence, flagged = report.flagged, written = report.written, "fraud pass unit done");
    Ok(finish_unit(app, run_id, unit, &report).await?)
}

/// AWS: records a run and sends one message per (day, shard) of the window.
pub async fn fan_out(app: &App, since: Option<NaiveDate>) -> Result<RunRecord, FraudError> {
    let (first, last) = window(app.clock.now(), &app.config.fraud, since)?;
    let mut units = Vec::new();
    let mut day = first;
    while day <= last {
        units.extend((0..FRAUD_SHARDS).map(|shard| Unit {
            shard,
            first_day: day,
            last_day: day,
        }));
        day += TimeDelta::days(1);
    }
    let run_id = start_run(app, first, last, units.len()).await?;
    let messages: Vec<Message> = units
        .into_iter()
        .map(|unit| {
            Message::new(
                crate::jobs::Task::FraudUnit {
                    run_id: run_id.clone(),
                    unit,
                }
                .to_body(),
            )
        })
        .collect();
    app.queue.send(messages).await?;
    read_run(app, &run_id)
        .await?
        .ok_or_else(|| FraudError::Invalid("the run just recorded is missing".into()))
}

/// Locally: the whole pass in this process, one unit per shard over the whole window (each
/// partition read once), `parallel` at a time; `progress` is called after each unit.
pub async fn run_here(
    app: &App,
    since: Option<NaiveDate>,
    parallel: usize,
    progress: Arc<dyn Fn(&UnitReport) + Send + Sync>,
) -> Result<RunRecord, FraudError> {
    let (first, last) = window(app.clock.now(), &app.config.fraud, since)?;
    let units: Vec<Unit> = (0..FRAUD_SHARDS)
        .map(|shard| Unit {
            shard,
            first_day: first,
            last_day: last,
        })
        .collect();
    let run_id = start_run(app, first, last, units.len()).await?;
    let queue = Arc::new(std::sync::Mutex::new(units));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..parallel.max(1) {
        let (app, run_id, queue, progress) =
            (app.clone(), run_id.clone(), queue.clone(), progress.clone());
        workers.spawn(async move {
            loop {
                let next = queue.lock().ok().and_then(|mut q| q.pop());
                let Some(unit) = next else {
                    return Ok::<(), FraudError>(());
                };
                let rules = app.config.fraud.clone();
                let report = unit::run(&app, &rules, &unit).await?;
                progress(&report);
                finish_unit(&app, &run_id, &unit, &report).await?;
            }
        });
    }
    while let Some(done) = workers.join_next().await {
        done.map_err(|e| FraudError::Invalid(format!("fraud pass worker: {e}")))??;
    }
    read_run(app, &run_id)
        .await?
        .ok_or_else(|| FraudError::Invalid("the run just recorded is missing".into()))
}
