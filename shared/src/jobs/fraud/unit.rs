//! One unit of work of the pass: one identity-key shard over a range of days. Each day's
//! evidence partition is read once; a day is judged with its two neighbours, so pairs that
//! cross midnight are seen (journeys up to ~23 h). The labels of a journey depend only on
//! the evidence, so every unit that covers a day computes the same labels for it, and a
//! journey is written only when they differ from the ones last written.

use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeDelta};
use tokio::task::JoinSet;

use super::evidence;
use super::{FraudError, Unit, UnitReport};
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::fraud::{person_labels, Evidence, FraudRules, Labels, Role};
use crate::domain::journey::JourneyStatus;
use crate::records::journey::{JourneyRecord, Side};
use crate::records::keys;
use crate::store::{Query, StoreError};

/// Items per query page (DynamoDB stops at 1 MB first).
const PAGE: usize = 1000;
/// Journey writes in flight at once (the embedded store groups them into one commit).
const WRITES_IN_FLIGHT: usize = 64;
/// Attempts to write one journey when it changes under us.
const ATTEMPTS: usize = 5;

pub async fn run(app: &App, rules: &FraudRules, unit: &Unit) -> Result<UnitReport, FraudError> {
    let mut report = UnitReport::default();
    let mut days: BTreeMap<NaiveDate, Vec<Evidence>> = BTreeMap::new();
    let mut day = unit.first_day;
    while day <= unit.last_day {
        let (before, after) = (day - TimeDelta::days(1), day + TimeDelta::days(1));
        days.retain(|d, _| *d >= before);
        for d in [before, day, after] {
            if let std::collections::btree_map::Entry::Vacant(slot) = days.entry(d) {
                let (items, unreadable) = load(app, d, unit.shard).await?;
                // Counted for the days this unit judges, not for their neighbours.
                if (unit.first_day..=unit.last_day).contains(&d) {
                    report.skipped += unreadable;
                }
                slot.insert(items);
            }
        }
        let changes = judge(rules, &days, day, &mut report);
        write(app, changes, &mut report).await?;
        day = after;
    }
    Ok(report)
}

/// Every readable evidence item of one partition, and how many were not.
async fn load(app: &App, day: NaiveDate, shard: u32) -> Result<(Vec<Evidence>, u64), StoreError> {
    let mut out = Vec::new();
    let mut unreadable = 0;
    let mut cursor = None;
    loop {
        let query = Query::partition(keys::fraud_partition(day, shard))
            .limit(PAGE)
            .after(cursor);
        let page = app.store.query(query).await?;
        for item in &page.items {
            match evidence::decode(item) {
                Some(e) => out.push(e),
                None => {
                    unreadable += 1;
                    tracing::warn!(pk = %item.key.pk, "unreadable fraud evidence item; skipped");
                }
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok((out, unreadable)),
        }
    }
}

/// The journeys of `day` whose labels differ from the ones last written, with their labels.
fn judge(
    rules: &FraudRules,
    days: &BTreeMap<NaiveDate, Vec<Evidence>>,
    day: NaiveDate,
    report: &mut UnitReport,
) -> Vec<(Evidence, Labels)> {
    let mut all: Vec<(&Evidence, bool)> = days
        .iter()
        .flat_map(|(d, items)| items.iter().map(move |e| (e, *d == day)))
        .collect();
    all.sort_by(|(a, _), (b, _)| (&a.person, a.start).cmp(&(&b.person, b.start)));
    let mut changes = Vec::new();
    let mut unchecked = 0;
    for person in all.chunk_by(|(a, _), (b, _)| a.person == b.person) {
        if !person.iter().any(|(_, owned)| *owned) {
            continue;
        }
        let items: Vec<&Evidence> = person.iter().map(|(e, _)| *e).collect();
        let found = person_labels(rules, &items);
        for ((e, owned), labels) in person.iter().zip(found.labels) {
            if !owned {
                continue;
            }
            report.evidence += 1;
            if e.from.is_none() || e.to.is_none() {
                report.without_coordinates += 1;
            }
            if !labels.is_empty() {
                report.flagged += 1;
                for l in &labels {
                    *report.labels.entry(l.as_str().to_owned()).or_default() += 1;
                }
            }
            if labels != e.labels {
                changes.push(((*e).clone(), labels));
            }
        }
        if found.unchecked_pairs > 0 {
            unchecked += found.unchecked_pairs;
        }
    }
    if unchecked > 0 {
        // A position given by INSEE code only: the distance rule cannot judge these pairs.
        tracing::warn!(day = %day, pairs = unchecked, "fraud pass: close journeys without coordinates; too_close_trips skipped for them");
    }
    changes
}

async fn write(
    app: &App,
    changes: Vec<(Evidence, Labels)>,
    report: &mut UnitReport,
) -> Result<(), StoreError> {
    let mut changes = changes.into_iter();
    loop {
        let mut batch = JoinSet::new();
        for (e, labels) in changes.by_ref().take(WRITES_IN_FLIGHT) {
            let app = app.clone();
            batch.spawn(async move { write_one(&app, &e, &labels).await });
        }
        if batch.is_empty() {
            return Ok(());
        }
        while let Some(done) = batch.join_next().await {
            match done {
                Ok(Ok(true)) => report.written += 1,
                Ok(Ok(false)) => {}
                Ok(Err(e)) => return Err(e),
                Err(e) => return Err(StoreError::Unavailable(format!("label write task: {e}"))),
            }
        }
    }
}

fn side(role: Role) -> Side {
    match role {
        Role::Passenger => Side::Passenger,
        Role::Driver => Side::Driver,
    }
}

/// Writes the labels of one person in one journey: that role's labels, the journey's
/// labels (both roles together) and its status, and the labels on the evidence item, in
/// one transaction conditioned on what was read. Returns false when there is nothing to
/// write (the journey was canceled, or is not processed yet).
async fn write_one(app: &App, e: &Evidence, labels: &Labels) -> Result<bool, StoreError> {
    let key = keys::journey(e.operator, &e.journey_id);
    for _ in 0..ATTEMPTS {
        let Some(journey) = app.store.get(&key).await? else {
            tracing::warn!(operator = %e.operator, "fraud evidence of a missing journey; skipped");
            return Ok(false);
        };
        let journey = JourneyRecord::from_item(&journey);
        let Some(relabel) = journey.relabel(side(e.role), labels, rfc3339(app.clock.now())) else {
            return Ok(false);
        };
        let mut ops = vec![relabel.write, evidence::labels_write(e, labels)];
        // Only `ok` journeys count in certificates: flagged, it leaves its persons' trip
        // indexes; cleared (its only evidence was canceled), it comes back.
        match (relabel.from, relabel.to) {
            (JourneyStatus::Ok, JourneyStatus::FraudError) => {
                ops.extend(crate::records::certificate::unlist(e.operator, &journey));
            }
            (JourneyStatus::FraudError, JourneyStatus::Ok) => {
                let facts = journey.facts().ok_or_else(|| {
                    StoreError::Invalid("stored journey facts not readable".into())
                })?;
                ops.extend(crate::records::certificate::list(
                    e.operator, &journey, &facts,
                ));
            }
            _ => {}
        }
        match app.store.transact(ops).await {
            Ok(()) => return Ok(true),
            // Changed meanwhile (the other role's labels, a cancellation): read again.
            Err(StoreError::TransactionCanceled { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Unavailable(format!(
        "journey of operator {} kept changing during the fraud pass; the next run retries",
        e.operator
    )))
}
