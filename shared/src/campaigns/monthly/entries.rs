//! Reading a month's entries: the journeys with drafts from a campaign, with their
//! current state.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::StreamExt;

use super::compute::{Entry, State};
use super::{all_items, Month};
use crate::app::App;
use crate::campaigns::Sirets;
use crate::domain::campaign::{Campaign, PaidRole};
use crate::domain::operator::OperatorId;
use crate::records::draft::Draft;
use crate::records::journey::JourneyRecord;
use crate::records::keys;
use crate::store::{Item, Query, SkRange, StoreError};

/// The month's journeys with drafts from the campaign, with their current state (`rivals`:
/// the campaigns op3 weighs against it, whose rules may name SIRETs too).
///
/// The index partition is read in slices of start time (one UTC day each: its sort keys
/// begin with the start instant), several at once; each slice's journeys are read in
/// batches and parsed on the slice's own task, so reading and parsing use every core.
///
/// With a `range` (a shard of a big campaign's month), only the drafts whose index sort key
/// is in it, in one slice.
pub(super) async fn read_entries(
    app: &App,
    campaign: &Campaign,
    rivals: &[&Campaign],
    month: Month,
    range: SkRange,
) -> Result<Vec<Entry>, StoreError> {
    let campaigns = std::iter::once(campaign).chain(rivals.iter().copied());
    let sirets = Arc::new(Sirets::for_campaigns(campaigns));
    let index = keys::incentives_index(&campaign.id, &month.to_string());
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
pub(super) fn start_slices(month: Month) -> Vec<SkRange> {
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
    sirets: &Sirets,
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

/// Journeys read at once ([`crate::store::Store::get_many`]).
pub(super) const JOURNEYS_PER_READ: usize = 100;

/// The entries of a batch of journeys (with their drafts), from one read of them all.
async fn read_batch(
    app: &App,
    batch: Vec<((u64, String), Vec<Draft>)>,
    sirets: &Sirets,
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
    sirets: &Sirets,
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
            let record = JourneyRecord::from_owned(item);
            State::of(&record, sirets.of(app, operator).await?)
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
