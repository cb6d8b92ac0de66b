//! What earlier final months leave to a month's run: the counters they carried and the
//! corrections of what they paid.

use std::collections::BTreeMap;

use super::compute::{self, Line};
use super::entries::JOURNEYS_PER_READ;
use super::{all_items, final_header, final_page, Month};
use crate::app::App;
use crate::domain::campaign::counters::{CounterKey, MemoryCounters, Tally};
use crate::domain::campaign::{CampaignId, PaidRole};
use crate::domain::operator::OperatorId;
use crate::records::journey::JourneyRecord;
use crate::records::keys;
use crate::records::monthly::{chunk_data, FinalMarker};
use crate::store::{Query, SkRange, StoreError};

/// The counters carried by the latest finalized month before `month` (its current
/// version), and that month; without one, the campaign's starting counters.
pub(super) async fn carried_counters(
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
        return Ok((crate::campaigns::starting::counters(app, id).await?, None));
    };
    let earlier = marker.key.sk[keys::MONTHLY_FINAL_PREFIX.len()..].to_owned();
    let version = FinalMarker::from_item(&marker).version;
    let prefix = keys::monthly_chunk_prefix(version, 'C');
    let chunks = all_items(
        app,
        Query::partition(keys::monthly_results(id, &earlier)).range(SkRange::BeginsWith(prefix)),
    )
    .await?;
    for chunk in chunks {
        let rows: Vec<(String, String, u64, u64)> = chunk_data(&chunk)
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
pub(super) async fn corrections(
    app: &App,
    id: &CampaignId,
    month: Month,
) -> Result<Vec<Line>, StoreError> {
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
