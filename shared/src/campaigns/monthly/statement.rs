//! What final months mean for one operator (issue 7): its monthly statement (what its users
//! earned, per campaign: the basis of payments, `GET /v2/operators/{id}/incentives`) and
//! the final incentives of one of its journeys (the status route).
//!
//! A campaign's final record is stored in start order, in chunks, for the territory. The
//! run also writes, per operator with lines in it, an **operator index** of the same
//! version: the operator's lines sorted by journey id, in chunks of ~16 KB that never split
//! a journey, each keyed by its first journey id, and the operator's totals. So:
//! * a statement reads, per campaign overlapping the month, its final marker and the
//!   operator's totals (two small reads), then only the operator's own chunks;
//! * a journey's final lines in a campaign are one query (`sk <= <journey id>`, descending,
//!   limit 1) after the marker read: the chunk holding it is the last one keyed at or
//!   before it.
//!
//! The index is written before the marker, like the rest of the version: a run that did
//! not finish leaves only unreferenced items, and readers follow the marker's version.

use std::collections::{BTreeMap, BTreeSet};

use chrono::TimeDelta;
use serde::Serialize;

use super::compute::{Count, Line, LineStatus, Totals};
use super::Month;
use crate::app::App;
use crate::campaigns::drafts::StatusView;
use crate::domain::campaign::{Campaign, CampaignId};
use crate::domain::operator::OperatorId;
use crate::records::draft::Draft;
use crate::records::keys;
use crate::records::monthly::{self as record, FinalMarker};
use crate::store::{Item, Query, SkRange, StoreError};

/// Target size of one chunk of an operator's lines: a journey's lookup reads one chunk
/// (~4 read units strongly consistent on DynamoDB).
const CHUNK_BYTES: usize = 16 * 1024;
/// Longest journey-id part of a chunk's sort key, in bytes (DynamoDB sort keys hold 1 024;
/// journey ids may reach 256 four-byte characters).
const KEY_BYTES: usize = 900;
/// Writes in flight while storing a version (the SQLite writer groups them into one
/// commit; on DynamoDB they overlap their round trips).
pub(crate) const WRITES_IN_FLIGHT: usize = 16;

/// The journey-id part of a chunk key. Lines are ordered by it first, and a chunk never
/// splits journeys sharing it, so the lookup below is exact even for truncated ids.
fn key_part(journey_id: &str) -> &str {
    if journey_id.len() <= KEY_BYTES {
        return journey_id;
    }
    let mut end = KEY_BYTES;
    while !journey_id.is_char_boundary(end) {
        end -= 1;
    }
    &journey_id[..end]
}

fn order(l: &Line) -> (&str, &str, crate::domain::campaign::PaidRole) {
    (key_part(&l.journey_id), &l.journey_id, l.role)
}

/// The operator-index items of one operator's lines in one version of a campaign's month:
/// its line chunks, then its totals.
pub fn operator_items(
    id: &CampaignId,
    month: &str,
    version: i64,
    operator: OperatorId,
    mut lines: Vec<(&Line, &str)>,
) -> Vec<Item> {
    lines.sort_by(|a, b| order(a.0).cmp(&order(b.0)));
    let mut totals = Totals::default();
    let mut journeys = BTreeSet::new();
    let mut items = Vec::new();
    let mut chunk: Vec<&str> = Vec::new();
    let (mut chunk_key, mut last_key, mut bytes) = ("", "", 0);
    let mut flush = |chunk: &mut Vec<&str>, first: &str| {
        if chunk.is_empty() {
            return;
        }
        let data = super::encode::array(chunk);
        items.push(record::operator_chunk(
            keys::operator_final_chunk(operator, id, month, version, first),
            data,
            chunk.len(),
        ));
        chunk.clear();
    };
    let mut i = 0;
    while i < lines.len() {
        let journey = &lines[i].0.journey_id;
        let end = lines[i..]
            .iter()
            .position(|(l, _)| &l.journey_id != journey)
            .map_or(lines.len(), |n| i + n);
        let group = lines[i..end].iter().map(|(_, e)| *e);
        let size: usize = group.clone().map(|s| s.len() + 1).sum();
        let key = key_part(journey);
        if !chunk.is_empty() && bytes + size > CHUNK_BYTES && key != last_key {
            flush(&mut chunk, chunk_key);
            bytes = 0;
        }
        if chunk.is_empty() {
            chunk_key = key;
        }
        chunk.extend(group);
        bytes += size;
        last_key = key;
        for (l, _) in &lines[i..end] {
            totals.count(l);
            if l.status != LineStatus::Correction {
                journeys.insert(l.journey_id.as_str());
            }
        }
        i = end;
    }
    flush(&mut chunk, chunk_key);
    totals.journeys = journeys.len() as u64;
    let chunks = items.len();
    items.push(record::operator_totals(
        keys::operator_final_totals(operator, id, month, version),
        serde_json::to_string(&totals).unwrap_or_default(),
        chunks,
    ));
    items
}

/// The operator index of one version of a campaign's month, written before its marker;
/// `encoded`: each line's JSON ([`super::encode::lines`]).
pub fn index_items(
    id: &CampaignId,
    month: &str,
    version: i64,
    lines: &[Line],
    encoded: &[String],
) -> Vec<Item> {
    let mut per_operator: BTreeMap<u64, Vec<(&Line, &str)>> = BTreeMap::new();
    for (l, e) in lines.iter().zip(encoded) {
        per_operator.entry(l.operator_id).or_default().push((l, e));
    }
    per_operator
        .into_iter()
        .flat_map(|(operator, lines)| {
            operator_items(id, month, version, OperatorId(operator), lines)
        })
        .collect()
}

fn chunk_lines(item: &Item) -> Result<Vec<Line>, StoreError> {
    record::chunk_data(item)
        .and_then(|d| serde_json::from_str(d).ok())
        .ok_or_else(|| StoreError::Invalid(format!("unreadable lines in {:?}", item.key)))
}

/// The current final version of a campaign's month, and when it was made final.
async fn final_version(
    app: &App,
    id: &CampaignId,
    month: &str,
) -> Result<Option<(i64, String)>, StoreError> {
    Ok(app
        .store
        .get(&keys::monthly_final(id, month))
        .await?
        .map(|m| {
            let marker = FinalMarker::from_item(&m);
            (marker.version, marker.finalized_at)
        }))
}

/// A journey's lines in one version of a campaign's final month (none when the run did
/// not see it).
pub async fn journey_lines(
    app: &App,
    operator: OperatorId,
    id: &CampaignId,
    month: &str,
    version: i64,
    journey_id: &str,
) -> Result<Vec<Line>, StoreError> {
    let prefix = keys::operator_final_chunk_prefix(version);
    let page = app
        .store
        .query(
            Query::partition(keys::operator_finals(operator, id, month))
                .range(SkRange::Between(
                    prefix.clone(),
                    format!("{prefix}{}", key_part(journey_id)),
                ))
                .descending()
                .limit(1),
        )
        .await?;
    let Some(chunk) = page.items.first() else {
        return Ok(Vec::new());
    };
    Ok(chunk_lines(chunk)?
        .into_iter()
        .filter(|l| l.journey_id == journey_id)
        .collect())
}

/// The incentives the status route shows for a journey's drafts: per campaign and month,
/// the final lines once that month is final (one marker read and one query each, at
/// once), the drafts before. Months not over anywhere yet cost no read.
pub async fn journey_incentives(
    app: &App,
    operator: OperatorId,
    journey_id: &str,
    drafts: &[Item],
) -> Result<Vec<StatusView>, StoreError> {
    let mut groups: BTreeMap<(String, String), Vec<Item>> = BTreeMap::new();
    for d in drafts {
        let key = Draft::from_item(d)
            .map(|p| (p.campaign.as_str().to_owned(), p.month))
            .unwrap_or_default();
        groups.entry(key).or_default().push(d.clone());
    }
    // The latest date anywhere on Earth (UTC+14): a month whose last day is before it may
    // be final in some campaign's time zone.
    let latest = (app.clock.now() + TimeDelta::hours(14)).date_naive();
    let views = futures::future::try_join_all(groups.into_iter().map(
        |((campaign, month), drafts)| async move {
            let parsed = CampaignId::parse(&campaign).zip(Month::parse(&month));
            let Some((id, m)) = parsed.filter(|(_, m)| m.last_day() < latest) else {
                return Ok::<_, StoreError>(super::super::drafts::status_view(&drafts));
            };
            let Some((version, _)) = final_version(app, &id, &month).await? else {
                return Ok(super::super::drafts::status_view(&drafts));
            };
            let lines = journey_lines(app, operator, &id, &month, version, journey_id).await?;
            if lines.is_empty() {
                // Processed after its month was made final: the run did not see it.
                return Ok(super::super::drafts::status_view(&drafts));
            }
            Ok(lines
                .iter()
                .map(|l| final_view(&id, m, version, l))
                .collect())
        },
    ))
    .await?;
    Ok(views.into_iter().flatten().collect())
}

fn final_view(id: &CampaignId, month: Month, version: i64, l: &Line) -> StatusView {
    StatusView {
        campaign_id: id.to_string(),
        role: l.role.as_str().to_owned(),
        amount: l.amount,
        status: l.status.as_str().to_owned(),
        capped_by: None,
        month: Some(month.to_string()),
        final_version: Some(version),
        reason: l.reason.clone(),
        paid_by: l.paid_by.clone(),
        corrects: l.corrects.clone(),
    }
}

/// `GET /v2/operators/{id}/incentives?month=`: what an operator's users earned in a month.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Statement {
    pub operator_id: u64,
    pub month: String,
    /// Every campaign overlapping the month is final (and the month is over): the
    /// statement will not change unless a campaign's month is rerun (`--force`).
    #[serde(rename = "final")]
    pub is_final: bool,
    /// Campaigns overlapping the month, by id: final ones where the operator has lines,
    /// and every one not final yet (their lines come with the monthly run).
    pub campaigns: Vec<CampaignPart>,
    /// Sums over the final campaigns listed.
    pub totals: StatementTotals,
    /// This page of lines: campaign by campaign (id order), by journey id then role.
    pub lines: Vec<StatementLine>,
    pub next_cursor: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignPart {
    pub campaign_id: String,
    pub name: String,
    pub territory_name: String,
    #[serde(rename = "final")]
    pub is_final: bool,
    /// The final version the lines come from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finalized_at: Option<String>,
    /// The operator's lines of this campaign: journeys, paid (validated and capped lines
    /// paying something), net (less corrections), per status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totals: Option<Totals>,
}

#[derive(Clone, Debug, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatementTotals {
    pub paid: Count,
    pub net: Count,
    pub by_status: BTreeMap<LineStatus, Count>,
}

/// One final incentive of one of the operator's journeys.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatementLine {
    pub campaign_id: String,
    pub journey_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator_journey_id: Option<String>,
    /// Who is paid: `driver` or `passenger`.
    pub role: crate::domain::campaign::PaidRole,
    /// validated, capped, canceled, not_eligible or correction.
    pub status: LineStatus,
    /// Cents paid (negative for a correction).
    pub amount: i64,
    /// Cents of the trip before caps.
    pub computed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrects: Option<String>,
    pub start: String,
    pub local_date: String,
}

impl StatementLine {
    fn of(campaign: &CampaignId, l: Line) -> StatementLine {
        StatementLine {
            campaign_id: campaign.to_string(),
            journey_id: l.journey_id,
            operator_journey_id: l.operator_journey_id,
            role: l.role,
            status: l.status,
            amount: l.amount,
            computed: l.computed,
            reason: l.reason,
            paid_by: l.paid_by,
            corrects: l.corrects,
            start: l.start,
            local_date: l.local_date,
        }
    }
}

/// Where a statement page ended: a campaign, the version its lines are read from (pinned:
/// a rerun meanwhile does not mix versions), a chunk and a line in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    campaign: CampaignId,
    version: i64,
    chunk: String,
    line: usize,
}

impl Cursor {
    pub fn encode(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
            "{}\n{}\n{}\n{}",
            self.campaign, self.version, self.line, self.chunk
        ))
    }

    /// `None` for anything [`Cursor::encode`] did not make.
    pub fn decode(s: &str) -> Option<Cursor> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let mut parts = text.splitn(4, '\n');
        let campaign = CampaignId::parse(parts.next()?)?;
        let version: i64 = parts.next()?.parse().ok()?;
        let line: usize = parts.next()?.parse().ok()?;
        let chunk = parts.next()?.to_owned();
        (version > 0 && chunk.starts_with(&keys::operator_final_chunk_prefix(version))).then_some(
            Cursor {
                campaign,
                version,
                chunk,
                line,
            },
        )
    }
}

/// One campaign as the statement sees it.
async fn part(
    app: &App,
    operator: OperatorId,
    campaign: &Campaign,
    month: &str,
) -> Result<CampaignPart, StoreError> {
    let mut part = CampaignPart {
        campaign_id: campaign.id.to_string(),
        name: campaign.name.clone(),
        territory_name: campaign.territory_name.clone(),
        is_final: false,
        version: None,
        finalized_at: None,
        totals: None,
    };
    if let Some((version, finalized_at)) = final_version(app, &campaign.id, month).await? {
        part.is_final = true;
        part.version = Some(version);
        part.finalized_at = Some(finalized_at);
        part.totals = app
            .store
            .get(&keys::operator_final_totals(
                operator,
                &campaign.id,
                month,
                version,
            ))
            .await?
            .and_then(|t| {
                record::operator_totals_json(&t).and_then(|s| serde_json::from_str(s).ok())
            });
    }
    Ok(part)
}

/// One page (at most `limit` lines, from `after`) of an operator's statement of `month`.
pub async fn read(
    app: &App,
    operator: OperatorId,
    month: Month,
    after: Option<Cursor>,
    limit: usize,
) -> Result<Statement, StoreError> {
    let m = month.to_string();
    let mut campaigns = super::overlapping(&crate::campaigns::all(app).await?, month);
    campaigns.sort_by(|a, b| a.id.cmp(&b.id));
    let parts = futures::future::try_join_all(
        campaigns
            .iter()
            .map(|c| part(app, operator, c.as_ref(), &m)),
    )
    .await?;
    let is_final = if parts.is_empty() {
        // Nothing to wait for once the month is over.
        month <= Month::previous(app.clock.now())
    } else {
        parts.iter().all(|p| p.is_final)
    };
    // Final campaigns where the operator has nothing are left out.
    let parts: Vec<CampaignPart> = parts
        .into_iter()
        .filter(|p| !p.is_final || p.totals.is_some())
        .collect();
    let totals = StatementTotals::of(&parts);
    let (lines, next) = lines_page(app, operator, &m, &parts, after, limit).await?;
    Ok(Statement {
        operator_id: operator.0,
        month: m,
        is_final,
        campaigns: parts,
        totals,
        lines,
        next_cursor: next.map(|c| c.encode()),
    })
}

impl StatementTotals {
    /// The sums over the final campaigns' totals.
    fn of(parts: &[CampaignPart]) -> StatementTotals {
        let mut totals = StatementTotals::default();
        for t in parts.iter().filter_map(|p| p.totals.as_ref()) {
            totals.paid.count += t.paid.count;
            totals.paid.amount += t.paid.amount;
            totals.net.count += t.net.count;
            totals.net.amount += t.net.amount;
            for (status, c) in &t.by_status {
                let sum = totals.by_status.entry(*status).or_default();
                sum.count += c.count;
                sum.amount += c.amount;
            }
        }
        totals
    }
}

/// At most `limit` lines of the final campaigns, in campaign order, from `after`; the
/// cursor of the first line left out when the page is full.
async fn lines_page(
    app: &App,
    operator: OperatorId,
    month: &str,
    parts: &[CampaignPart],
    after: Option<Cursor>,
    limit: usize,
) -> Result<(Vec<StatementLine>, Option<Cursor>), StoreError> {
    let mut lines = Vec::new();
    for p in parts.iter().filter(|p| p.totals.is_some()) {
        let (Some(id), Some(current)) = (CampaignId::parse(&p.campaign_id), p.version) else {
            continue;
        };
        let start = match &after {
            Some(c) if c.campaign > id => continue,
            Some(c) if c.campaign == id => c.clone(),
            _ => Cursor {
                campaign: id,
                version: current,
                chunk: keys::operator_final_chunk_prefix(current),
                line: 0,
            },
        };
        if let Some(next) = campaign_lines(app, operator, month, start, limit, &mut lines).await? {
            return Ok((lines, Some(next)));
        }
    }
    Ok((lines, None))
}

/// Appends one campaign's final lines for the operator, from `start`, to `lines` until it
/// holds `limit`; the cursor of the first line left out.
async fn campaign_lines(
    app: &App,
    operator: OperatorId,
    month: &str,
    start: Cursor,
    limit: usize,
    lines: &mut Vec<StatementLine>,
) -> Result<Option<Cursor>, StoreError> {
    let prefix = keys::operator_final_chunk_prefix(start.version);
    let mut cursor = None;
    loop {
        let page = app
            .store
            .query(
                Query::partition(keys::operator_finals(operator, &start.campaign, month))
                    .range(SkRange::Between(
                        start.chunk.clone(),
                        format!("{prefix}\u{10FFFF}"),
                    ))
                    .limit(16)
                    .after(cursor),
            )
            .await?;
        for chunk in &page.items {
            let first = if chunk.key.sk == start.chunk {
                start.line
            } else {
                0
            };
            for (n, l) in chunk_lines(chunk)?.into_iter().enumerate().skip(first) {
                if lines.len() == limit {
                    return Ok(Some(Cursor {
                        chunk: chunk.key.sk.clone(),
                        line: n,
                        ..start
                    }));
                }
                lines.push(StatementLine::of(&start.campaign, l));
            }
        }
        match page.next {
            Some(c) => cursor = Some(c),
            None => return Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::config::Config;
    use crate::domain::campaign::PaidRole;
    use crate::queue::memory::MemoryQueue;
    use crate::store::memory::MemoryStore;

    fn line(journey: &str, role: PaidRole, amount: i64) -> Line {
        Line {
            journey_id: journey.to_owned(),
            operator_id: 3,
            operator_journey_id: None,
            role,
            start: "2025-03-01T08:00:00.000Z".into(),
            local_date: "2025-03-01".into(),
            status: if amount > 0 {
                LineStatus::Validated
            } else {
                LineStatus::NotEligible
            },
            amount,
            computed: 100,
            reason: None,
            paid_by: None,
            corrects: None,
        }
    }

    fn chunks(items: &[Item]) -> Vec<(String, Vec<Line>)> {
        items
            .iter()
            .filter(|i| i.s("data").is_some())
            .map(|i| (i.key.sk.clone(), chunk_lines(i).unwrap()))
            .collect()
    }

    #[test]
    fn lines_are_chunked_by_journey_id_without_splitting_a_journey() {
        let id = CampaignId::parse("c").unwrap();
        // Start order (as the run gives them), not id order; both roles of each journey.
        let lines: Vec<Line> = (0..400)
            .rev()
            .flat_map(|n| {
                let j = format!("j-{n:04}");
                [
                    line(&j, PaidRole::Passenger, 0),
                    line(&j, PaidRole::Driver, 100),
                ]
            })
            .collect();
        let encoded = crate::campaigns::monthly::encode::lines(&lines);
        let pairs = lines
            .iter()
            .zip(encoded.iter().map(String::as_str))
            .collect();
        let items = operator_items(&id, "2025-03", 2, OperatorId(3), pairs);
        let chunks = chunks(&items);
        assert!(chunks.len() > 2, "{} chunks", chunks.len());
        let mut all = Vec::new();
        for (sk, lines) in &chunks {
            assert_eq!(sk, &format!("V0002#L#{}", lines[0].journey_id));
            assert_eq!(lines.first().unwrap().role, PaidRole::Driver);
            assert_eq!(lines.last().unwrap().role, PaidRole::Passenger, "{sk}");
            let size: usize = lines
                .iter()
                .map(|l| serde_json::to_string(l).unwrap().len() + 1)
                .sum();
            assert!(size <= CHUNK_BYTES, "{size}");
            all.extend(lines.iter().map(|l| (l.journey_id.clone(), l.role)));
        }
        let mut sorted = all.clone();
        sorted.sort();
        assert_eq!(all, sorted, "journey id order, then role");
        assert_eq!(all.len(), 800);
        let totals = items.last().unwrap();
        assert_eq!(totals.key.sk, "V0002#T");
        let t: Totals = serde_json::from_str(totals.s("totals").unwrap()).unwrap();
        assert_eq!(t.journeys, 400);
        assert_eq!(
            t.paid,
            Count {
                count: 400,
                amount: 40_000
            }
        );
        assert_eq!(t.by_status[&LineStatus::NotEligible].count, 400);
    }

    #[test]
    fn long_ids_are_cut_at_a_character_boundary_in_keys() {
        let long = "𝄞".repeat(256);
        assert_eq!(long.len(), 1024);
        assert_eq!(key_part(&long).len(), KEY_BYTES);
        assert!(long.starts_with(key_part(&long)));
        assert_eq!(key_part("abc"), "abc");
        let three = format!("a{}", "€".repeat(300));
        assert!(key_part(&three).len() <= KEY_BYTES && key_part(&three).len() > KEY_BYTES - 3);
    }

    #[test]
    fn cursors_round_trip_and_anything_else_is_refused() {
        let c = Cursor {
            campaign: CampaignId::parse("paris-2025").unwrap(),
            version: 3,
            chunk: "V0003#L#j,1\n2".into(),
            line: 17,
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        use base64::Engine;
        let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        for bad in [
            "".to_owned(),
            "%%".to_owned(),
            enc("paris\n3\n1"),
            enc("Paris\n3\n1\nV0003#L#x"),
            enc("paris\n2\n1\nV0003#L#x"),
            enc("paris\n0\n1\nV0000#L#x"),
            enc("paris\n3\n-1\nV0003#L#x"),
        ] {
            assert_eq!(Cursor::decode(&bad), None, "{bad}");
        }
    }

    /// The lookup finds every journey, including ids whose key part is cut (several ids
    /// share it) and ids that sort between chunks' first ids.
    #[tokio::test]
    async fn every_journey_is_found_in_its_chunk() {
        let app = App::new(
            Arc::new(MemoryStore::new()),
            Arc::new(MemoryQueue::default()),
            Config::default(),
        );
        let id = CampaignId::parse("c").unwrap();
        let long = "x".repeat(KEY_BYTES);
        let mut ids: Vec<String> = (0..300).map(|n| format!("j-{n:03}")).collect();
        ids.extend((0..40).map(|n| format!("{long}{n:02}")));
        ids.push("a b".into());
        ids.push("a".into());
        let lines: Vec<Line> = ids.iter().map(|j| line(j, PaidRole::Driver, 100)).collect();
        let encoded = crate::campaigns::monthly::encode::lines(&lines);
        let pairs = lines
            .iter()
            .zip(encoded.iter().map(String::as_str))
            .collect();
        let items = operator_items(&id, "2025-03", 1, OperatorId(3), pairs);
        assert!(chunks(&items).len() > 3);
        for item in items {
            app.store.put(item, None).await.unwrap();
        }
        for j in &ids {
            let found = journey_lines(&app, OperatorId(3), &id, "2025-03", 1, j)
                .await
                .unwrap();
            assert_eq!(found.len(), 1, "{j}");
            assert_eq!(&found[0].journey_id, j);
        }
        for absent in ["", "0", "j-0005", "zzz", &format!("{long}99")] {
            let found = journey_lines(&app, OperatorId(3), &id, "2025-03", 1, absent)
                .await
                .unwrap();
            assert!(found.is_empty(), "{absent}");
        }
        // Another version or operator has nothing.
        let other = journey_lines(&app, OperatorId(4), &id, "2025-03", 1, "j-001")
            .await
            .unwrap();
        assert!(other.is_empty());
        let other = journey_lines(&app, OperatorId(3), &id, "2025-03", 2, "j-001")
            .await
            .unwrap();
        assert!(other.is_empty());
    }
}
