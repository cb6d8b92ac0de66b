//! Reading a month's final record: its header, its lines page by page, or all of it.

use serde::Serialize;

use super::compute::{self, Line, Totals};
use super::{Final, Month, LINES_PER_CHUNK};
use crate::app::App;
use crate::domain::campaign::CampaignId;
use crate::records::keys;
use crate::records::monthly::{chunk_data, FinalMarker, VersionHeader};
use crate::store::StoreError;

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
            Some(marker) => FinalMarker::from_item(&marker).version,
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
    let header = VersionHeader::from_item(&header);
    Ok(Some(FinalHeader {
        version,
        finalized_at: header.finalized_at,
        forced: header.forced,
        digest: header.digest,
        totals: serde_json::from_str(&header.totals).unwrap_or_default(),
        line_chunks: header.line_chunks,
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
        .and_then(chunk_data)
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
