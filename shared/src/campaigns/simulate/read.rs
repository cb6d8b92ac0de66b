//! The stored journeys of one month of a campaign (its time zone), whatever their
//! campaigns: each operator's journey listing (gsi2, by UTC month of the passenger's
//! start), read a UTC day at a time on several tasks, each journey decided at once with
//! the monthly run's [`compute::prepare`] (op1, op3, eligibility, amount). Only journeys
//! the caps must still decide are kept; the others are counted by reason.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Datelike, Months};
use futures::StreamExt;

use super::Tally;
use crate::app::App;
use crate::campaigns::monthly::compute::{self, Decision, Entry, Prepared, State};
use crate::campaigns::monthly::Month;
use crate::domain::campaign::Campaign;
use crate::domain::operator::{Operator, OperatorId};
use crate::records::journey::JourneyRecord;
use crate::records::keys;
use crate::store::{Item, Key, Query, SkRange, StoreError};

/// Journeys read at once, and slices in flight.
const BATCH: usize = 500;
const IN_FLIGHT: usize = 8;

/// What one month's reading leaves: the journeys the caps decide, and the counts of all.
#[derive(Default)]
pub struct MonthRead {
    pub payable: Vec<Prepared>,
    pub tally: Tally,
}

/// The operators, with their SIRET (campaigns may name operators by SIRET).
pub async fn operators(app: &App) -> Result<Vec<(OperatorId, Option<String>)>, StoreError> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = app
            .store
            .query(Query::index(keys::OPERATORS_INDEX).limit(500).after(cursor))
            .await?;
        out.extend(
            page.items
                .iter()
                .filter_map(Operator::from_item)
                .map(|o| (o.id, o.siret.clone())),
        );
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(out),
        }
    }
}

/// The listing partitions and ranges holding every journey starting in `month` in any
/// time zone: the last UTC day of the month before, each UTC day of the month (one slice
/// each, so that the slices are read on several tasks), and the first day of the next.
fn listing_slices(operator: OperatorId, month: Month) -> Vec<(String, SkRange)> {
    let first = month.first_day();
    let before = first - chrono::Days::new(1);
    let after = first + Months::new(1);
    let partition = |d: chrono::NaiveDate| {
        keys::journey_listing(operator, &format!("{:04}-{:02}", d.year(), d.month()))
    };
    let mut slices = vec![(partition(before), SkRange::Gte(before.to_string()))];
    let this = partition(first);
    slices.extend(
        first
            .iter_days()
            .take_while(|d| *d <= month.last_day())
            .map(|d| (this.clone(), SkRange::BeginsWith(d.to_string()))),
    );
    // Every instant of the next month's first day ("T…" sorts before "U").
    slices.push((partition(after), SkRange::Lte(format!("{after}U"))));
    slices
}

/// Reads and decides the journeys of `month` for `campaign` (`rivals`: op3).
pub async fn month(
    app: &App,
    campaign: &Arc<Campaign>,
    rivals: &Arc<Vec<Arc<Campaign>>>,
    operators: &[(OperatorId, Option<String>)],
    month: Month,
) -> Result<MonthRead, StoreError> {
    let mut slices = Vec::new();
    for (op, siret) in operators {
        for (partition, range) in listing_slices(*op, month) {
            slices.push((*op, siret.clone(), partition, range));
        }
    }
    let mut tasks = futures::stream::iter(slices)
        .map(|(op, siret, partition, range)| {
            let (app, campaign, rivals) = (app.clone(), campaign.clone(), rivals.clone());
            tokio::spawn(async move {
                let mut out = MonthRead::default();
                let mut cursor = None;
                loop {
                    let query = Query::index2(partition.clone())
                        .range(range.clone())
                        .limit(BATCH)
                        .after(cursor);
                    let page = app.store.query(query).await?;
                    let journeys = journeys(&app, page.items).await?;
                    decide(&campaign, &rivals, op, &siret, &journeys, month, &mut out);
                    match page.next {
                        Some(next) => cursor = Some(next),
                        None => return Ok::<_, StoreError>(out),
                    }
                }
            })
        })
        .buffer_unordered(IN_FLIGHT);
    let mut out = MonthRead::default();
    while let Some(done) = tasks.next().await {
        let read = done.map_err(|e| StoreError::Unavailable(format!("read task: {e}")))??;
        out.payable.extend(read.payable);
        out.tally.add(&read.tally);
    }
    Ok(out)
}

/// The journeys of a page of the listing: as the index gave them, or read by key when it
/// gave keys only.
async fn journeys(app: &App, entries: Vec<Item>) -> Result<Vec<JourneyRecord>, StoreError> {
    let mut journeys = Vec::with_capacity(entries.len());
    let mut keys: Vec<Key> = Vec::new();
    for entry in entries {
        match JourneyRecord::from_listing(entry) {
            Ok(journey) => journeys.push(journey),
            Err(key) => keys.push(key),
        }
    }
    if !keys.is_empty() {
        let items = app.store.get_many(&keys).await?;
        journeys.extend(items.into_iter().flatten().map(JourneyRecord::from_owned));
    }
    Ok(journeys)
}

/// One page: each journey of the month decided; the payable kept, the rest counted.
fn decide(
    campaign: &Campaign,
    rivals: &[Arc<Campaign>],
    op: OperatorId,
    siret: &Option<String>,
    journeys: &[JourneyRecord],
    month: Month,
    out: &mut MonthRead,
) {
    let rivals: Vec<&Campaign> = rivals.iter().map(|c| c.as_ref()).collect();
    for record in journeys {
        let Some(start) = record.passenger.start_at() else {
            continue;
        };
        let local = start.with_timezone(&campaign.time_zone).date_naive();
        if Month::of(local) != month {
            continue;
        }
        out.tally.journeys += 1;
        let state = State::of(record, siret.clone());
        let entry = Entry {
            operator: op,
            journey_id: record.journey_id.clone().unwrap_or_default(),
            operator_journey_id: record.operator_journey_id.clone(),
            start,
            local_date: local.to_string(),
            drafts: Vec::new(),
            state,
        };
        let prepared = compute::prepare(campaign, &rivals, &entry);
        let reason = match &prepared.decision {
            Decision::Payable { .. } => {
                out.tally.eligible += 1;
                out.payable.push(prepared);
                continue;
            }
            Decision::Drafted { reason, .. } | Decision::NotEligible { reason } => reason.clone(),
            Decision::LowerPriority { .. } => "lower_priority".to_owned(),
        };
        *out.tally.not_paid.entry(reason).or_default() += 1;
    }
}

/// Counts by reason, merged.
pub fn merge(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>) {
    for (k, v) in from {
        *into.entry(k.clone()).or_default() += v;
    }
}
