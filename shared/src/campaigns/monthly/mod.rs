//! The monthly policy run (SPEC §4 "Monthly run", issue 7): on the 6th the incentives of
//! the previous month become final. Per campaign overlapping the month: its journeys with
//! drafts (the month's incentives index) are read with their current status and document,
//! [`compute::run`] decides every line, and the result is stored as a new version of the
//! campaign's final record for that month: a header (totals, digest), the lines and the
//! counters carried to later months, in chunks, then the `FINAL#` marker pointing at it.
//! A month already final is refused unless forced; a forced run writes the next version
//! and keeps the earlier ones. The marker is written last, conditioned on the version
//! read: a crashed run leaves only unreferenced chunks, two concurrent runs cannot both
//! win.

pub mod compute;
pub mod encode;
mod entries;
pub mod fanout;
mod fence;
mod final_record;
mod finalize;
mod history;
pub mod progress;
mod shards;
pub mod statement;

use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;

use self::compute::{Line, Totals};
use self::entries::read_entries;
pub use self::final_record::{final_header, final_page, read_final, FinalHeader};
use self::history::{carried_counters, corrections};
use crate::app::App;
use crate::domain::campaign::{Campaign, CampaignId};
use crate::store::{Item, Query, SkRange, StoreError};

/// Lines per stored chunk (a line is ~250 bytes: far below DynamoDB's 400 KB per item).
const LINES_PER_CHUNK: usize = 500;
const COUNTERS_PER_CHUNK: usize = 1000;

/// A calendar month, `YYYY-MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month {
    first: NaiveDate,
}

impl Month {
    pub fn parse(s: &str) -> Option<Month> {
        if s.len() != 7 || s.as_bytes()[4] != b'-' {
            return None;
        }
        let first = NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d").ok()?;
        Some(Month { first })
    }

    pub fn of(day: NaiveDate) -> Month {
        Month {
            first: day.with_day(1).unwrap_or(day),
        }
    }

    /// The month before the one of `now` in Europe/Paris: what the run of the 6th
    /// finalizes.
    pub fn previous(now: DateTime<Utc>) -> Month {
        let today = now.with_timezone(&chrono_tz::Europe::Paris).date_naive();
        Month::of(Month::of(today).first.pred_opt().unwrap_or(today))
    }

    pub fn first_day(self) -> NaiveDate {
        self.first
    }

    pub fn last_day(self) -> NaiveDate {
        self.first
            .checked_add_months(chrono::Months::new(1))
            .and_then(|d| d.pred_opt())
            .unwrap_or(self.first)
    }

    pub fn year(self) -> i32 {
        self.first.year()
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.first.format("%Y-%m"))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{campaign} {month} is final already (version {version}); rerun with force to write version {next}", next = version + 1)]
    AlreadyFinal {
        campaign: CampaignId,
        month: Month,
        version: i64,
    },
    #[error("{month} is not over yet in the time zone of {campaign}")]
    NotOver { campaign: CampaignId, month: Month },
    #[error("{campaign} {month} was finalized by another run meanwhile")]
    Conflict { campaign: CampaignId, month: Month },
    /// Another delivery of the same unit took over the writing (it completes the unit).
    #[error("{campaign} {month} is being written by another delivery of this unit")]
    Fenced { campaign: CampaignId, month: Month },
    /// A refusal or failure as a recorded run kept it.
    #[error("{0}")]
    Recorded(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a run of one campaign wrote.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Report {
    pub campaign_id: String,
    pub month: String,
    pub version: i64,
    pub digest: String,
    pub totals: Totals,
    /// The finalized month whose counters were carried in, if any.
    pub carried_from: Option<String>,
}

/// A stored final record.
#[derive(Clone, Debug, Serialize)]
pub struct Final {
    pub campaign_id: String,
    pub month: String,
    pub version: i64,
    pub finalized_at: String,
    pub forced: bool,
    /// SHA-256 of [`results_bytes`]: equal digests, byte-identical results.
    pub digest: String,
    pub totals: Totals,
    pub lines: Vec<Line>,
}

/// The canonical bytes of a month's results (what the digest covers): totals then lines,
/// JSON.
pub fn results_bytes(totals: &Totals, lines: &[Line]) -> Vec<u8> {
    serde_json::to_vec(&(totals, lines)).unwrap_or_default()
}

/// Day of the month and Europe/Paris hour of the scheduled run.
pub const RUN_DAY: u32 = 6;
pub const RUN_HOUR: u32 = 4;

/// The next scheduled run after `now`: the 6th at 04:00 Europe/Paris.
pub fn next_run(now: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::TimeZone;
    let paris = chrono_tz::Europe::Paris;
    let mut month = Month::of(now.with_timezone(&paris).date_naive());
    loop {
        let at = month
            .first
            .with_day(RUN_DAY)
            .and_then(|d| d.and_hms_opt(RUN_HOUR, 0, 0))
            .and_then(|t| paris.from_local_datetime(&t).earliest())
            .map(|t| t.with_timezone(&Utc));
        if let Some(at) = at.filter(|at| *at > now) {
            return at;
        }
        month = Month::of(month.last_day().succ_opt().unwrap_or(month.first));
    }
}

/// Campaigns whose dates overlap the month (in their own time zone).
pub fn overlapping(campaigns: &[Arc<Campaign>], month: Month) -> Vec<Arc<Campaign>> {
    campaigns
        .iter()
        .filter(|c| c.start <= month.last_day() && c.end >= month.first_day())
        .cloned()
        .collect()
}

/// Runs every campaign overlapping the month in this process, as a recorded run
/// ([`fanout::run_here`], units two at a time); `done` is told of each campaign's result.
pub async fn run_all(
    app: &App,
    month: Month,
    force: bool,
    done: &(dyn Fn(&std::result::Result<Report, RunError>) + Sync),
) -> Result<Vec<std::result::Result<Report, RunError>>, StoreError> {
    let record = fanout::run_here(app, month, force, 2, Arc::new(|_: &fanout::Unit| {}))
        .await
        .map_err(|e| match e {
            fanout::MonthlyError::Store(e) => e,
            other => StoreError::Invalid(other.to_string()),
        })?;
    let results = fanout::results(&record);
    for r in &results {
        done(r);
    }
    Ok(results)
}

/// The monthly run of one campaign (`campaigns`: all of them, for op3), in this process
/// and without a run record ([`fanout`] runs campaigns as units of a recorded run).
pub async fn run_campaign(
    app: &App,
    campaigns: &[Arc<Campaign>],
    campaign: &Campaign,
    month: Month,
    force: bool,
) -> Result<Report, RunError> {
    let previous = finalize::next_version(app, campaign, month, force).await?;
    let all: Vec<&Campaign> = campaigns.iter().map(|c| c.as_ref()).collect();
    let rivals = compute::rivals(campaign, &all);
    let entries = read_entries(app, campaign, &rivals, month, SkRange::All).await?;
    let prepared = entries
        .iter()
        .map(|e| compute::prepare(campaign, &rivals, e))
        .collect();
    finalize::finalize(app, campaign, month, previous, prepared, None).await
}

/// Every item of a partition in a sort-key range.
async fn all_items(app: &App, query: Query) -> Result<Vec<Item>, StoreError> {
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = app.store.query(query.clone().after(cursor)).await?;
        items.extend(page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(items),
        }
    }
}

#[cfg(test)]
mod fanout_tests;
#[cfg(test)]
mod tests;
