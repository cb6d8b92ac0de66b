//! The final step of a campaign's month: op2 over the month's prepared journeys (from one
//! process or from every shard), then the new version written: lines, carried counters and
//! the operator index (see [`super::statement`]) in chunks, then, in one transaction, the header, the `FINAL#` marker pointing at it and
//! what the run records of the unit. Writes hold a [`Fence`] on the header, so a delivery
//! that crashed halfway is taken over and rewritten, and two at once never mix.

use futures::{StreamExt, TryStreamExt};

use super::compute::{self, Prepared};
use super::fence::{Fence, Lost};
use super::{
    carried_counters, corrections, encode, statement, Month, Report, RunError, COUNTERS_PER_CHUNK,
    LINES_PER_CHUNK,
};
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::campaign::Campaign;
use crate::records::keys;
use crate::records::monthly::{self as record, FinalMarker, VersionHeader};
use crate::store::{Item, StoreError, WriteOp};

/// The current version of the month, which a run replaces (`None`: not final yet). Refused
/// when the month is not over in the campaign's time zone, or final already and not forced.
pub(super) async fn next_version(
    app: &App,
    campaign: &Campaign,
    month: Month,
    force: bool,
) -> Result<Option<i64>, RunError> {
    let id = &campaign.id;
    if campaign.today(app.clock.now()) <= month.last_day() {
        return Err(RunError::NotOver {
            campaign: id.clone(),
            month,
        });
    }
    let current = app
        .store
        .get(&keys::monthly_final(id, &month.to_string()))
        .await?;
    let previous = current.as_ref().map(|i| FinalMarker::from_item(i).version);
    match (previous, force) {
        (Some(version), false) => Err(RunError::AlreadyFinal {
            campaign: id.clone(),
            month,
            version,
        }),
        _ => Ok(previous),
    }
}

/// op2 over `prepared` (every journey of the month) and the version after `previous`;
/// with `run_id`, the run's unit is recorded done in the same transaction.
pub(super) async fn finalize(
    app: &App,
    campaign: &Campaign,
    month: Month,
    previous: Option<i64>,
    mut prepared: Vec<Prepared>,
    run_id: Option<&str>,
) -> Result<Report, RunError> {
    let id = &campaign.id;
    let m = month.to_string();
    let (seed, carried_from) = carried_counters(app, id, month).await?;
    let late = corrections(app, id, month).await?;
    let run = compute::finish(campaign, &mut prepared, seed, month.year(), late);
    drop(prepared);
    let encoded = encode::lines(&run.lines);
    let digest = encode::digest(&run.totals, &encoded);
    let version = previous.unwrap_or(0) + 1;
    // Complete already: written by another run (or another delivery of this one).
    let Some(fence) = Fence::take(
        app,
        &keys::monthly_version(id, &m, version),
        VersionHeader::DONE,
    )
    .await?
    else {
        return Err(conflict(campaign, month));
    };

    let chunks = Chunks::of(campaign, &m, version, &run, encoded);
    let (line_chunks, carry_chunks) = (chunks.lines.len(), chunks.carry.len());
    let puts = chunks
        .lines
        .into_iter()
        .chain(chunks.carry)
        .chain(chunks.index);
    let written: Vec<Result<(), Lost>> =
        futures::stream::iter(puts.map(|item| fence.put(app, item)))
            .buffer_unordered(statement::WRITES_IN_FLIGHT)
            .try_collect()
            .await?;
    if written.iter().any(Result::is_err) {
        return Err(fenced(campaign, month));
    }
    let now = rfc3339(app.clock.now());
    let header = VersionHeader {
        campaign_id: id.to_string(),
        month: m.clone(),
        version,
        finalized_at: now.clone(),
        forced: previous.is_some(),
        digest: digest.clone(),
        totals: serde_json::to_string(&run.totals).unwrap_or_default(),
        line_chunks,
        carry_chunks,
        carried_from: carried_from.clone(),
        run_id: run_id.map(str::to_owned),
    };
    let report = Report {
        campaign_id: id.to_string(),
        month: m,
        version,
        digest,
        totals: run.totals,
        carried_from,
    };
    complete(
        app, campaign, month, previous, fence, header, run_id, &report,
    )
    .await?;
    tracing::info!(campaign = %id, month = %report.month, version, journeys = report.totals.journeys,
        paid = report.totals.paid.amount, "monthly run finalized");
    Ok(report)
}

fn conflict(campaign: &Campaign, month: Month) -> RunError {
    RunError::Conflict {
        campaign: campaign.id.clone(),
        month,
    }
}

fn fenced(campaign: &Campaign, month: Month) -> RunError {
    RunError::Fenced {
        campaign: campaign.id.clone(),
        month,
    }
}

/// What a version writes before its header: its lines, the counters it carries to the next
/// months, and the operators' index of its lines, in chunks.
struct Chunks {
    lines: Vec<Item>,
    carry: Vec<Item>,
    index: Vec<Item>,
}

impl Chunks {
    fn of(
        campaign: &Campaign,
        m: &str,
        version: i64,
        run: &compute::Run,
        encoded: Vec<String>,
    ) -> Chunks {
        let id = &campaign.id;
        let lines = encoded
            .chunks(LINES_PER_CHUNK)
            .enumerate()
            .map(|(n, chunk)| {
                record::chunk(
                    keys::monthly_chunk(id, m, version, 'L', n),
                    encode::array(chunk),
                )
            })
            .collect();
        let carry = run
            .carry
            .chunks(COUNTERS_PER_CHUNK)
            .enumerate()
            .map(|(n, chunk)| {
                let rows: Vec<(String, String, u64, u64)> = chunk
                    .iter()
                    .map(|(k, t)| {
                        let (holder, rest) = k.storage();
                        (holder, rest, t.trips, t.amount)
                    })
                    .collect();
                record::chunk(
                    keys::monthly_chunk(id, m, version, 'C', n),
                    serde_json::to_string(&rows).unwrap_or_default(),
                )
            })
            .collect();
        let index = statement::index_items(id, m, version, &run.lines, &encoded);
        Chunks {
            lines,
            carry,
            index,
        }
    }
}

/// In one transaction: the header completed under the fence, the `FINAL#` marker moved from
/// `previous` to this version, and (with `run_id`) the run's unit recorded done.
#[allow(clippy::too_many_arguments)]
async fn complete(
    app: &App,
    campaign: &Campaign,
    month: Month,
    previous: Option<i64>,
    fence: Fence,
    header: VersionHeader,
    run_id: Option<&str>,
    report: &Report,
) -> Result<(), RunError> {
    let marker = FinalMarker {
        version: header.version,
        finalized_at: header.finalized_at.clone(),
    };
    let id = &campaign.id;
    let mut ops = vec![
        fence.complete(header.update()),
        WriteOp::Put {
            item: marker.to_item(id, &header.month),
            condition: Some(FinalMarker::still_at(previous)),
        },
    ];
    if let Some(run_id) = run_id {
        ops.extend(super::progress::final_done(run_id, id, month, Ok(report)));
    }
    match app.store.transact(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::TransactionCanceled { index: 0, .. }) => Err(fenced(campaign, month)),
        Err(StoreError::TransactionCanceled { index: 1, .. }) => Err(conflict(campaign, month)),
        // The unit was recorded meanwhile: only a delivery holding the fence can.
        Err(StoreError::TransactionCanceled { .. }) => Err(fenced(campaign, month)),
        Err(e) => Err(e.into()),
    }
}
