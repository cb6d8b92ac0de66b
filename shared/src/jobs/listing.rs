//! Backfill of the operators' journey listing (`gsi2`, what `GET /v2/journeys` reads):
//! journeys accepted before the listing existed have no entry and are not listed. This job
//! scans the table by segments and gives each such journey its entry, from the passenger's
//! start it already stores. Idempotent and safe beside live traffic: a journey with its
//! entry is skipped without a write, and each write is conditioned on the entry being
//! absent (acceptance writes the same entry for a new journey).

use futures::stream::{self, StreamExt};
use serde::Serialize;

use crate::app::App;
use crate::records::journey::{JourneyRecord, ListingEntry};
use crate::records::keys;
use crate::store::{Scan, StoreError, StoreResult};

/// Items read per scan page.
const PAGE: usize = 500;

/// What a run did, summed over its segments.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Journey items read.
    pub journeys: u64,
    /// Entries added.
    pub added: u64,
    /// Journeys that had their entry already.
    pub present: u64,
    /// Journeys without an operator or a passenger start (logged): left as they are.
    pub unreadable: u64,
}

impl Report {
    fn add(&mut self, o: &Report) {
        self.journeys += o.journeys;
        self.added += o.added;
        self.present += o.present;
        self.unreadable += o.unreadable;
    }
}

/// Adds the missing entries of the whole table: `segments` scan segments, `parallel` at a
/// time.
pub async fn backfill(app: &App, segments: u32, parallel: usize) -> StoreResult<Report> {
    let segments = segments.max(1);
    let results: Vec<StoreResult<Report>> = stream::iter(0..segments)
        .map(|segment| backfill_segment(app, segment, segments))
        .buffer_unordered(parallel.max(1))
        .collect()
        .await;
    let mut report = Report::default();
    for r in results {
        report.add(&r?);
    }
    Ok(report)
}

async fn backfill_segment(app: &App, segment: u32, total_segments: u32) -> StoreResult<Report> {
    let mut report = Report::default();
    let mut cursor = None;
    loop {
        let page = app
            .store
            .scan(Scan {
                segment,
                total_segments,
                limit: PAGE,
                cursor,
            })
            .await?;
        for item in page.items.iter().filter(|i| keys::is_journey(&i.key)) {
            report.journeys += 1;
            let journey = JourneyRecord::from_item(item);
            if journey.listing.is_some() {
                report.present += 1;
                continue;
            }
            let Some((key, update, condition)) = ListingEntry::backfill(&journey) else {
                tracing::error!(pk = %journey.key.pk, "journey without operator or passenger start; not listed");
                report.unreadable += 1;
                continue;
            };
            match app.store.update(&key, update, Some(condition)).await {
                Ok(_) => report.added += 1,
                // Deleted meanwhile, or given its entry by another run: nothing to do.
                Err(StoreError::ConditionFailed { .. }) => report.present += 1,
                Err(e) => return Err(e),
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(report),
        }
    }
}
