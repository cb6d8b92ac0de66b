//! Backfill of the operators' journey listing (`gsi2`, what `GET /v2/journeys` reads):
//! journeys accepted before the listing existed have no entry and are not listed. This job
//! scans the table by segments and gives each such journey its entry, from the passenger's
//! start it already stores. Idempotent and safe beside live traffic: a journey with its
//! entry is skipped without a write, and each write is conditioned on the entry being
//! absent (acceptance writes the same entry for a new journey).

use serde::Serialize;

use super::scan::each_journey;
use crate::app::App;
use crate::records::journey::{JourneyRecord, ListingEntry};
use crate::store::{StoreError, StoreResult};

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
    let reports = each_journey(app, segments, parallel, async |item, report: &mut Report| {
        report.journeys += 1;
        let journey = JourneyRecord::from_item(item);
        if journey.listing.is_some() {
            report.present += 1;
            return Ok(());
        }
        let Some((key, update, condition)) = ListingEntry::backfill(&journey) else {
            tracing::error!(pk = %journey.key.pk, "journey without operator or passenger start; not listed");
            report.unreadable += 1;
            return Ok(());
        };
        match app.store.update(&key, update, Some(condition)).await {
            Ok(_) => report.added += 1,
            // Deleted meanwhile, or given its entry by another run: nothing to do.
            Err(StoreError::ConditionFailed { .. }) => report.present += 1,
            Err(e) => return Err(e),
        }
        Ok(())
    })
    .await?;
    let mut total = Report::default();
    for r in &reports {
        total.add(r);
    }
    Ok(total)
}
