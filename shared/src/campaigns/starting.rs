//! Starting counters of a campaign that moves here from another system
//! (`domain::campaign::starting` reads them): stored in their own partition, added to the
//! draft counters so that drafts start from them, and read by the monthly run when no
//! earlier month of the campaign is final (a final month carries them on).

use std::collections::BTreeMap;

use serde::Serialize;

use super::CampaignError;
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::campaign::counters::{CounterKey, MemoryCounters, Tally};
use crate::domain::campaign::{starting, CampaignId};
use crate::domain::error::Detail;
use crate::records::draft::DraftCounter;
use crate::records::keys;
use crate::records::starting::{chunk_item, chunk_rows, StartingHeader, ROWS_PER_CHUNK};
use crate::store::{Query, SkRange, StoreError, StoreResult};

/// What a load stored.
#[derive(Clone, Debug, Serialize)]
pub struct Loaded {
    pub campaign_id: String,
    #[serde(flatten)]
    pub header: StartingHeader,
}

/// Loads (or replaces) the starting counters of campaign `id` from a JSON document. Refused
/// once a month of the campaign is final: its counters already went on from there.
pub async fn load(app: &App, id: &str, body: &[u8]) -> Result<Loaded, CampaignError> {
    let campaigns = super::all(app).await?;
    let campaign = campaigns
        .iter()
        .find(|c| c.id.as_str() == id)
        .ok_or(CampaignError::NotFound)?;
    let doc: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        CampaignError::InvalidDocument(vec![Detail::new("", format!("not JSON: {e}"))])
    })?;
    let parsed = starting::parse(campaign, &app.config.hash_secret, &doc)
        .map_err(CampaignError::InvalidDocument)?;
    let finals = app
        .store
        .query(
            Query::partition(keys::campaign_versions(&campaign.id))
                .range(SkRange::BeginsWith(keys::MONTHLY_FINAL_PREFIX.to_owned()))
                .limit(1),
        )
        .await?;
    if !finals.items.is_empty() {
        return Err(CampaignError::Conflict(format!(
            "campaign {id} has a final month: starting counters can no longer change"
        )));
    }
    let old = read(app, &campaign.id).await?;
    let generation = old.as_ref().map_or(1, |(h, _)| h.generation + 1);
    let chunks = parsed.counters.chunks(ROWS_PER_CHUNK);
    let header = StartingHeader {
        generation,
        chunks: chunks.len() as i64,
        as_of: parsed.as_of.to_string(),
        persons: parsed.persons as i64,
        counters: parsed.counters.len() as i64,
        loaded_at: rfc3339(app.clock.now()),
    };
    for (n, rows) in chunks.enumerate() {
        let key = keys::starting_chunk(&campaign.id, generation, n);
        app.store.put(chunk_item(key, rows), None).await?;
    }
    app.store
        .put(header.to_item(keys::starting_header(&campaign.id)), None)
        .await?;
    let mut wanted: BTreeMap<CounterKey, Tally> = BTreeMap::new();
    if let Some((h, rows)) = &old {
        wanted.extend(rows.iter().map(|(k, _)| (*k, Tally::default())));
        for n in 0..h.chunks.max(0) as usize {
            let key = keys::starting_chunk(&campaign.id, h.generation, n);
            app.store.delete(&key, None).await?;
        }
    }
    wanted.extend(parsed.counters.iter().copied());
    for (key, tally) in wanted {
        set_draft_start(app, &campaign.id, key, tally).await?;
    }
    Ok(Loaded {
        campaign_id: id.to_owned(),
        header,
    })
}

/// Makes the draft counter hold `start` as its starting part: adds the difference with
/// the starting part it held (`start_trips`, `start_amount`), conditionally, so a load run
/// again, or alongside drafts, counts each figure once.
async fn set_draft_start(
    app: &App,
    id: &CampaignId,
    key: CounterKey,
    start: Tally,
) -> Result<(), StoreError> {
    let (holder, rest) = key.storage();
    let item_key = keys::draft_counter(id, &holder, &rest);
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    let to = (n(start.trips), n(start.amount));
    loop {
        let item = app.store.get(&item_key).await?;
        let held = item.as_ref().and_then(DraftCounter::starting_part);
        if held.unwrap_or((0, 0)) == to {
            return Ok(());
        }
        let (update, condition) = DraftCounter::set_starting_part(held, to);
        match app.store.update(&item_key, update, Some(condition)).await {
            Ok(_) => return Ok(()),
            Err(StoreError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// The starting counters in force, with their header.
pub async fn read(
    app: &App,
    id: &CampaignId,
) -> StoreResult<Option<(StartingHeader, Vec<(CounterKey, Tally)>)>> {
    let Some(item) = app.store.get(&keys::starting_header(id)).await? else {
        return Ok(None);
    };
    let header = StartingHeader::from_item(&item);
    let keys: Vec<_> = (0..header.chunks.max(0) as usize)
        .map(|n| keys::starting_chunk(id, header.generation, n))
        .collect();
    let mut rows = Vec::new();
    for chunk in app.store.get_many(&keys).await? {
        match chunk.as_ref().and_then(chunk_rows) {
            Some(r) => rows.extend(r),
            None => {
                return Err(StoreError::Invalid(format!(
                    "starting counters of campaign {id}: a chunk is missing or unreadable"
                )))
            }
        }
    }
    Ok(Some((header, rows)))
}

/// The starting counters as the monthly run seeds them (empty when none were loaded).
pub async fn counters(app: &App, id: &CampaignId) -> StoreResult<MemoryCounters> {
    let mut counters = MemoryCounters::default();
    if let Some((_, rows)) = read(app, id).await? {
        for (k, t) in rows {
            counters.set(k, t);
        }
    }
    Ok(counters)
}
