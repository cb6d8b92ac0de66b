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
pub mod fanout;
mod fence;
mod finalize;
pub mod progress;
pub mod statement;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use futures::StreamExt;
use serde::Serialize;

use self::compute::{Entry, Line, State, Totals};
use crate::app::App;
use crate::domain::campaign::counters::{CounterKey, MemoryCounters, PersonKey, Tally};
use crate::domain::campaign::{Campaign, CampaignId, PaidRole};
use crate::domain::journey::JourneyStatus;
use crate::domain::operator::{Operator, OperatorId};
use crate::records::draft::Draft;
use crate::records::journey::{JourneyRecord, Party};
use crate::records::keys;
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
    let entries = read_entries(app, &campaign.id, month, SkRange::All).await?;
    let all: Vec<&Campaign> = campaigns.iter().map(|c| c.as_ref()).collect();
    let rivals = compute::rivals(campaign, &all);
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

/// The counters carried by the latest finalized month before `month` (its current
/// version), and that month.
async fn carried_counters(
    app: &App,
    id: &CampaignId,
    month: Month,
) -> Result<(MemoryCounters, Option<String>), StoreError> {
    let mut counters = MemoryCounters::default();
    let page = app
        .store
        .query(
            Query::partition(keys::campaign_versions(id))
                .range(SkRange::Between(
                    keys::MONTHLY_FINAL_PREFIX.to_owned(),
                    format!("{}{month}", keys::MONTHLY_FINAL_PREFIX),
                ))
                .descending()
                .limit(2),
        )
        .await?;
    let own = keys::monthly_final(id, &month.to_string()).sk;
    let Some(marker) = page.items.into_iter().find(|i| i.key.sk != own) else {
        return Ok((counters, None));
    };
    let earlier = marker.key.sk[keys::MONTHLY_FINAL_PREFIX.len()..].to_owned();
    let version = marker.n("version").unwrap_or(1);
    let prefix = format!("V#{version:04}#C#");
    let chunks = all_items(
        app,
        Query::partition(keys::monthly_results(id, &earlier)).range(SkRange::BeginsWith(prefix)),
    )
    .await?;
    for chunk in chunks {
        let rows: Vec<(String, String, u64, u64)> = chunk
            .s("data")
            .and_then(|d| serde_json::from_str(d).ok())
            .unwrap_or_default();
        for (holder, rest, trips, amount) in rows {
            match CounterKey::from_storage(&holder, &rest) {
                Some(k) => counters.set(k, Tally { trips, amount }),
                None => {
                    tracing::error!(campaign = %id, holder, rest, "unreadable carried counter; skipped")
                }
            }
        }
    }
    Ok((counters, Some(earlier)))
}

/// Negative lines for what earlier final months paid journeys canceled (or flagged) since,
/// unless a final month before this one corrected them already. Counters are not given
/// back: what was paid counted on the caps when it was paid.
async fn corrections(app: &App, id: &CampaignId, month: Month) -> Result<Vec<Line>, StoreError> {
    let markers = all_items(
        app,
        Query::partition(keys::campaign_versions(id)).range(SkRange::Between(
            keys::MONTHLY_FINAL_PREFIX.to_owned(),
            format!("{}{month}", keys::MONTHLY_FINAL_PREFIX),
        )),
    )
    .await?;
    let mut paid: BTreeMap<(String, u64, String, PaidRole), Line> = BTreeMap::new();
    let mut corrected = std::collections::BTreeSet::new();
    for marker in markers {
        let Some(earlier) = Month::parse(&marker.key.sk[keys::MONTHLY_FINAL_PREFIX.len()..]) else {
            continue;
        };
        if earlier >= month {
            continue;
        }
        let Some(header) = final_header(app, id, earlier, None).await? else {
            continue;
        };
        let (lines, _) = final_page(app, id, earlier, &header, None, 0, usize::MAX).await?;
        for l in lines {
            match l.status {
                compute::LineStatus::Correction => {
                    if let Some(m) = &l.corrects {
                        corrected.insert((m.clone(), l.operator_id, l.journey_id, l.role));
                    }
                }
                compute::LineStatus::Validated | compute::LineStatus::Capped if l.amount > 0 => {
                    let key = (
                        earlier.to_string(),
                        l.operator_id,
                        l.journey_id.clone(),
                        l.role,
                    );
                    paid.insert(key, l);
                }
                _ => {}
            }
        }
    }
    let open: Vec<_> = paid
        .into_iter()
        .filter(|(key, _)| !corrected.contains(key))
        .collect();
    let mut out = Vec::new();
    // Every journey paid in earlier months is read again: in batches.
    for batch in open.chunks(JOURNEYS_PER_READ) {
        let keys: Vec<_> = batch
            .iter()
            .map(|(_, l)| keys::journey(OperatorId(l.operator_id), &l.journey_id))
            .collect();
        let journeys = app.store.get_many(&keys).await?;
        for ((key, l), journey) in batch.iter().zip(journeys) {
            let reason = match &journey {
                None => Some("journey_missing"),
                Some(j) => compute::cancel_reason(JourneyRecord::from_item(j).status_str()),
            };
            if let Some(reason) = reason {
                out.push(Line {
                    status: compute::LineStatus::Correction,
                    amount: -l.amount,
                    reason: Some(reason.to_owned()),
                    paid_by: None,
                    corrects: Some(key.0.clone()),
                    ..l.clone()
                });
            }
        }
    }
    Ok(out)
}

/// The month's journeys with drafts from the campaign, with their current state.
///
/// The index partition is read in slices of start time (one UTC day each: its sort keys
/// begin with the start instant), several at once; each slice's journeys are read in
/// batches and parsed on the slice's own task, so reading and parsing use every core.
///
/// With a `range` (a shard of a big campaign's month), only the drafts whose index sort key
/// is in it, in one slice.
async fn read_entries(
    app: &App,
    id: &CampaignId,
    month: Month,
    range: SkRange,
) -> Result<Vec<Entry>, StoreError> {
    let sirets: Sirets = Arc::default();
    let index = keys::incentives_index(id, &month.to_string());
    let slices = match range {
        SkRange::All => start_slices(month),
        shard => vec![shard],
    };
    let mut tasks = futures::stream::iter(slices)
        .map(|range| {
            let (app, sirets, index) = (app.clone(), sirets.clone(), index.clone());
            tokio::spawn(async move { read_slice(&app, index, range, &sirets).await })
        })
        .buffer_unordered(SLICES_IN_FLIGHT);
    let mut entries = Vec::new();
    while let Some(done) = tasks.next().await {
        entries.extend(done.map_err(|e| StoreError::Unavailable(format!("read task: {e}")))??);
    }
    Ok(entries)
}

/// Sort-key ranges of the incentives index that together cover every key starting with
/// an RFC 3339 instant, each once: the UTC days from two before the month to two after
/// (a campaign's month, in its time zone, starts and ends within them), and the keys
/// before and after those days.
fn start_slices(month: Month) -> Vec<SkRange> {
    let day = chrono::Days::new(1);
    let first = month.first_day() - chrono::Days::new(2);
    let last = month.last_day() + chrono::Days::new(2);
    let mut slices = vec![SkRange::Lte(format!("{}\u{10FFFF}", first - day))];
    let mut d = first;
    while d <= last {
        slices.push(SkRange::BeginsWith(d.to_string()));
        d = d + day;
    }
    slices.push(SkRange::Gte((last + day).to_string()));
    slices
}

/// Index slices read at once (the embedded store has four reader connections).
const SLICES_IN_FLIGHT: usize = 4;

/// The entries of one slice of the incentives index.
async fn read_slice(
    app: &App,
    index: String,
    range: SkRange,
    sirets: &tokio::sync::Mutex<BTreeMap<u64, Option<String>>>,
) -> Result<Vec<Entry>, StoreError> {
    let drafts = all_items(app, Query::index(index).range(range).limit(500)).await?;
    let mut journeys: BTreeMap<(u64, String), Vec<Draft>> = BTreeMap::new();
    for d in drafts.iter().filter_map(Draft::from_item) {
        journeys
            .entry((d.operator.0, d.journey_id.clone()))
            .or_default()
            .push(d);
    }
    let mut entries = Vec::with_capacity(journeys.len());
    let mut journeys = journeys.into_iter().peekable();
    while journeys.peek().is_some() {
        let batch: Vec<_> = journeys.by_ref().take(JOURNEYS_PER_READ).collect();
        entries.extend(read_batch(app, batch, sirets).await?);
    }
    Ok(entries)
}

type Sirets = Arc<tokio::sync::Mutex<BTreeMap<u64, Option<String>>>>;

/// Journeys read at once ([`crate::store::Store::get_many`]).
const JOURNEYS_PER_READ: usize = 100;

/// The entries of a batch of journeys (with their drafts), from one read of them all.
async fn read_batch(
    app: &App,
    batch: Vec<((u64, String), Vec<Draft>)>,
    sirets: &tokio::sync::Mutex<BTreeMap<u64, Option<String>>>,
) -> Result<Vec<Entry>, StoreError> {
    let keys: Vec<_> = batch
        .iter()
        .map(|((op, journey_id), _)| keys::journey(OperatorId(*op), journey_id))
        .collect();
    let items = app.store.get_many(&keys).await?;
    let mut entries = Vec::with_capacity(batch.len());
    for (((op, journey_id), drafts), item) in batch.into_iter().zip(items) {
        if let Some(e) = entry(app, OperatorId(op), journey_id, drafts, item, sirets).await? {
            entries.push(e);
        }
    }
    Ok(entries)
}

/// A journey's entry from its drafts and its item as read now.
async fn entry(
    app: &App,
    operator: OperatorId,
    journey_id: String,
    drafts: Vec<Draft>,
    item: Option<Item>,
    sirets: &tokio::sync::Mutex<BTreeMap<u64, Option<String>>>,
) -> Result<Option<Entry>, StoreError> {
    let Some(first) = drafts.first() else {
        return Ok(None);
    };
    let Some(start) = DateTime::parse_from_rfc3339(&first.start)
        .ok()
        .map(|t| t.with_timezone(&Utc))
    else {
        tracing::error!(%operator, journey_id, "draft without a start; skipped");
        return Ok(None);
    };
    let local_date = first.local_date.clone();
    let operator_journey_id = first.operator_journey_id.clone();
    let mut roles: Vec<(PaidRole, u64)> = drafts
        .iter()
        .filter_map(|d| {
            let role = PaidRole::parse(&d.role)?;
            Some((role, u64::try_from(d.computed).ok()?))
        })
        .collect();
    roles.sort();
    let state = match item {
        None => State::Canceled("journey_missing"),
        Some(item) => {
            let item = JourneyRecord::from_item(&item);
            let status = item.status_str();
            if let Some(reason) = compute::cancel_reason(status) {
                State::Canceled(reason)
            } else if status != JourneyStatus::Ok.as_str() {
                State::NotEligible("journey_not_processed")
            } else {
                match item.parsed() {
                    None => {
                        tracing::error!(%operator, journey_id, "stored journey does not parse");
                        State::NotEligible("journey_unreadable")
                    }
                    Some(journey) => {
                        let siret = siret(app, operator, sirets).await?;
                        let person =
                            |party: &Party| party.key.as_deref().and_then(PersonKey::from_hex);
                        State::Payable {
                            journey: Box::new(journey),
                            siret,
                            driver: person(&item.driver),
                            passenger: person(&item.passenger),
                        }
                    }
                }
            }
        }
    };
    Ok(Some(Entry {
        operator,
        journey_id,
        operator_journey_id,
        start,
        local_date,
        drafts: roles,
        state,
    }))
}

async fn siret(
    app: &App,
    operator: OperatorId,
    cache: &tokio::sync::Mutex<BTreeMap<u64, Option<String>>>,
) -> Result<Option<String>, StoreError> {
    let mut cache = cache.lock().await;
    if let Some(s) = cache.get(&operator.0) {
        return Ok(s.clone());
    }
    let s = app
        .store
        .get(&keys::operator(operator))
        .await?
        .and_then(|o| Operator::siret_of(&o));
    cache.insert(operator.0, s.clone());
    Ok(s)
}

/// What identifies a final record, without its lines.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = FinalRecord))]
pub struct FinalHeader {
    pub version: i64,
    pub finalized_at: String,
    pub forced: bool,
    pub digest: String,
    #[serde(skip)]
    pub totals: Totals,
    #[serde(skip)]
    line_chunks: usize,
}

/// The header of a month's final record: its current version, or the one asked; `None`
/// while the month is not final (or the version does not exist).
pub async fn final_header(
    app: &App,
    id: &CampaignId,
    month: Month,
    version: Option<i64>,
) -> Result<Option<FinalHeader>, StoreError> {
    let m = month.to_string();
    let version = match version {
        Some(v) => v,
        None => match app.store.get(&keys::monthly_final(id, &m)).await? {
            Some(marker) => marker.n("version").unwrap_or(1),
            None => return Ok(None),
        },
    };
    let Some(header) = app
        .store
        .get(&keys::monthly_version(id, &m, version))
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(FinalHeader {
        version,
        finalized_at: header.s("finalized_at").unwrap_or_default().to_owned(),
        forced: header.b("forced").unwrap_or(false),
        digest: header.s("digest").unwrap_or_default().to_owned(),
        totals: header
            .s("totals")
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default(),
        line_chunks: header
            .n("line_chunks")
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0),
    }))
}

async fn chunk(
    app: &App,
    id: &CampaignId,
    month: &str,
    version: i64,
    n: usize,
) -> Result<Vec<Line>, StoreError> {
    let key = keys::monthly_chunk(id, month, version, 'L', n);
    let item = app.store.get(&key).await?;
    item.as_ref()
        .and_then(|c| c.s("data"))
        .and_then(|d| serde_json::from_str(d).ok())
        .ok_or_else(|| StoreError::Invalid(format!("lines missing or unreadable in {key:?}")))
}

/// Up to `limit` lines of a final record from line `from` (in start order), those of
/// `status` only when given; the index to continue from when there are more.
pub async fn final_page(
    app: &App,
    id: &CampaignId,
    month: Month,
    header: &FinalHeader,
    status: Option<compute::LineStatus>,
    from: usize,
    limit: usize,
) -> Result<(Vec<Line>, Option<usize>), StoreError> {
    let m = month.to_string();
    let mut lines = Vec::new();
    let mut n = from / LINES_PER_CHUNK;
    while n < header.line_chunks {
        let part = chunk(app, id, &m, header.version, n).await?;
        let base = n * LINES_PER_CHUNK;
        for (i, line) in part.into_iter().enumerate() {
            let index = base + i;
            if index < from || status.is_some_and(|s| s != line.status) {
                continue;
            }
            if lines.len() == limit {
                return Ok((lines, Some(index)));
            }
            lines.push(line);
        }
        n += 1;
    }
    Ok((lines, None))
}

/// A campaign's final record of a month: its current version, or the one asked.
pub async fn read_final(
    app: &App,
    id: &CampaignId,
    month: Month,
    version: Option<i64>,
) -> Result<Option<Final>, StoreError> {
    let Some(header) = final_header(app, id, month, version).await? else {
        return Ok(None);
    };
    let (lines, _) = final_page(app, id, month, &header, None, 0, usize::MAX).await?;
    Ok(Some(Final {
        campaign_id: id.to_string(),
        month: month.to_string(),
        version: header.version,
        finalized_at: header.finalized_at,
        forced: header.forced,
        digest: header.digest,
        totals: header.totals,
        lines,
    }))
}

#[cfg(test)]
mod fanout_tests;
#[cfg(test)]
mod tests;
