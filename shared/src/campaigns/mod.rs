//! Campaign management (SPEC §4): create, read, list, update before the start, close early,
//! every version kept. Used by the admin routes and by `registry admin campaign ...`, so
//! both behave the same. Drafts (per journey) are in [`drafts`].

pub mod drafts;
pub mod monthly;
pub mod simulate;

mod sirets;
pub mod starting;

use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::campaign::{self, document, Campaign, CampaignId};
use crate::domain::error::Detail;
use crate::records::campaign::{CampaignRecord, CampaignVersion, Generation};
use crate::records::keys;
use crate::store::{Condition, Item, Query, StoreError, StoreResult, WriteOp};

/// A campaign as stored: its document (as loaded) and what management added.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = Campaign))]
pub struct Stored {
    pub id: String,
    pub name: String,
    pub territory_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub territory_id: Option<String>,
    pub version: i64,
    /// upcoming, active, ended or closed (on the day it is read, campaign time zone).
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = String, pattern = "^(upcoming|active|ended|closed)$")
    )]
    pub status: &'static str,
    pub start: String,
    pub end: String,
    /// Last eligible day when closed early.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_on: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// The document as loaded (absent from listings).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::domain::campaign::document::RawCampaign))]
    pub document: Option<Value>,
}

/// One entry of a campaign's history.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CampaignVersion))]
pub struct Version {
    pub version: i64,
    /// created, updated or closed.
    pub action: String,
    pub at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_on: Option<String>,
    /// That version's document (`?version=N` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::domain::campaign::document::RawCampaign))]
    pub document: Option<Value>,
}

/// What can go wrong with a campaign request.
#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    /// The document breaks the format's rules: every violation.
    #[error("invalid campaign: {} errors", .0.len())]
    InvalidDocument(Vec<Detail>),
    /// Another field of the request is wrong.
    #[error("{}: {}", .0.path, .0.reason)]
    Invalid(Detail),
    #[error("campaign not found")]
    NotFound,
    #[error("campaign {0} already exists")]
    AlreadyExists(String),
    #[error("{0}")]
    Conflict(String),
    /// A stored campaign that does not read back.
    #[error("unreadable stored campaign")]
    Internal,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(details: Vec<Detail>) -> CampaignError {
    CampaignError::InvalidDocument(details)
}

/// The parsed campaign of a stored item, closed early if it was.
fn parsed(item: &Item) -> Option<(CampaignRecord, Campaign)> {
    let record = CampaignRecord::from_item(item)?;
    let mut campaign = campaign::parse(&record.document).ok()?;
    if let Some(day) = record.closed_on.as_deref().and_then(date) {
        campaign.close_on(day);
    }
    Some((record, campaign))
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

fn stored(item: &Item, with_document: bool, now: chrono::DateTime<Utc>) -> Option<Stored> {
    let (record, campaign) = parsed(item)?;
    let today = campaign.today(now);
    let status = if record.closed_on.is_some() {
        "closed"
    } else if today < campaign.start {
        "upcoming"
    } else if today > campaign.end {
        "ended"
    } else {
        "active"
    };
    Some(Stored {
        id: campaign.id.to_string(),
        name: campaign.name.clone(),
        territory_name: campaign.territory_name.clone(),
        territory_id: campaign.territory_id.clone(),
        version: record.version,
        status,
        start: record.document["start"].as_str()?.to_owned(),
        end: record.document["end"].as_str()?.to_owned(),
        closed_on: record.closed_on,
        created_at: record.created_at,
        updated_at: record.updated_at,
        document: with_document.then_some(record.document),
    })
}

fn current_item(
    campaign: &Campaign,
    document: &Value,
    version: i64,
    created_at: &str,
    now: &str,
) -> Item {
    CampaignRecord {
        id: campaign.id.clone(),
        document: document.clone(),
        version,
        created_at: created_at.to_owned(),
        updated_at: now.to_owned(),
        territory_id: campaign.territory_id.clone(),
        closed_on: None,
    }
    .to_item()
}

fn version_item(
    id: &CampaignId,
    version: i64,
    action: &str,
    at: &str,
    document: &Value,
    closed_on: Option<&str>,
) -> Item {
    CampaignVersion {
        id: id.clone(),
        version,
        action: action.to_owned(),
        at: at.to_owned(),
        document: document.clone(),
        closed_on: closed_on.map(str::to_owned),
    }
    .to_item()
}

fn generation_bump() -> WriteOp {
    WriteOp::Update {
        key: keys::campaigns_generation(),
        update: Generation::bump(),
        condition: None,
    }
}

/// What a new document must also satisfy ([`document::load_checks`]), and every operator
/// it names by id must exist: every problem at once.
async fn load_checks(app: &App, document: &Value, c: &Campaign) -> Result<(), CampaignError> {
    let mut details = document::load_checks(document, c);
    let named = c
        .operators
        .iter()
        .enumerate()
        .map(|(i, o)| (format!("/operators/{i}"), o));
    let windows = c.operator_windows.iter().enumerate();
    let windows = windows.map(|(i, w)| (format!("/operator_windows/{i}/operator"), &w.operator));
    for (path, operator) in named.chain(windows) {
        if let campaign::OperatorRef::Id(id) = operator {
            if app.store.get(&keys::operator(*id)).await?.is_none() {
                details.push(Detail::new(
                    path,
                    format!("no operator has the id {}", id.0),
                ));
            }
        }
    }
    if details.is_empty() {
        Ok(())
    } else {
        Err(invalid(details))
    }
}

/// Loads a new campaign (version 1). 409 when the id exists.
pub async fn create(app: &App, body: &[u8]) -> Result<Stored, CampaignError> {
    let (document, campaign) = document::parse_bytes(body).map_err(invalid)?;
    load_checks(app, &document, &campaign).await?;
    let now = rfc3339(app.clock.now());
    let ops = vec![
        WriteOp::Put {
            item: current_item(&campaign, &document, 1, &now, &now),
            condition: Some(Condition::NotExists),
        },
        WriteOp::Put {
            item: version_item(&campaign.id, 1, "created", &now, &document, None),
            condition: Some(Condition::NotExists),
        },
        generation_bump(),
    ];
    match app.store.transact(ops).await {
        Ok(()) => {}
        Err(StoreError::TransactionCanceled { index: 0 | 1, .. }) => {
            return Err(CampaignError::AlreadyExists(campaign.id.to_string()))
        }
        Err(e) => return Err(e.into()),
    }
    get(app, &campaign.id, true)
        .await?
        .ok_or(CampaignError::Internal)
}

fn parse_id(id: &str) -> Result<CampaignId, CampaignError> {
    CampaignId::parse(id).ok_or(CampaignError::NotFound)
}

async fn current(
    app: &App,
    id: &CampaignId,
) -> Result<(Item, CampaignRecord, Campaign), CampaignError> {
    let item = app
        .store
        .get(&keys::campaign(id))
        .await?
        .ok_or(CampaignError::NotFound)?;
    let (record, campaign) = parsed(&item).ok_or_else(|| {
        tracing::error!(campaign = %id, "stored campaign does not parse");
        CampaignError::Internal
    })?;
    Ok((item, record, campaign))
}

/// Replaces the document of a campaign that has not started (in its time zone), keeping
/// the previous one in its history. The new document must keep the id and start later
/// than today too.
pub async fn update(app: &App, id: &str, body: &[u8]) -> Result<Stored, CampaignError> {
    let id = parse_id(id)?;
    let (document, campaign) = document::parse_bytes(body).map_err(invalid)?;
    load_checks(app, &document, &campaign).await?;
    if campaign.id != id {
        return Err(invalid(vec![Detail::new(
            "/id",
            format!("must be {id}, the campaign updated"),
        )]));
    }
    let (_, record, old) = current(app, &id).await?;
    let now = app.clock.now();
    if record.closed_on.is_some() {
        return Err(CampaignError::Conflict(format!("campaign {id} is closed")));
    }
    let today = old.today(now);
    if today >= old.start {
        return Err(CampaignError::Conflict(format!(
            "campaign {id} started on {}: it can only be closed, not updated",
            old.start
        )));
    }
    if campaign.today(now) >= campaign.start {
        return Err(invalid(vec![Detail::new(
            "/start",
            "must be after today: an update cannot start a campaign in the past",
        )]));
    }
    let version = record.version + 1;
    let at = rfc3339(now);
    let ops = vec![
        WriteOp::Put {
            item: current_item(&campaign, &document, version, &record.created_at, &at),
            condition: Some(CampaignRecord::same_version(record.version)),
        },
        WriteOp::Put {
            item: version_item(&id, version, "updated", &at, &document, None),
            condition: Some(Condition::NotExists),
        },
        generation_bump(),
    ];
    match app.store.transact(ops).await {
        Ok(()) => get(app, &id, true).await?.ok_or(CampaignError::Internal),
        Err(StoreError::TransactionCanceled { .. }) => Err(CampaignError::Conflict(format!(
            "campaign {id} was changed meanwhile; read it again"
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Closes a campaign early: journeys after `last_day` (default: today, campaign time
/// zone) are no longer eligible. Not in the past (drafts were computed), not after the
/// end; closing again earlier is allowed, the same day again changes nothing.
pub async fn close(app: &App, id: &str, last_day: Option<&str>) -> Result<Stored, CampaignError> {
    let id = parse_id(id)?;
    let (item, record, campaign) = current(app, &id).await?;
    let now = app.clock.now();
    let today = campaign.today(now);
    let day = match last_day {
        Some(s) => date(s).filter(|_| s.len() == 10).ok_or_else(|| {
            CampaignError::Invalid(Detail::new("/last_day", "must be a date YYYY-MM-DD"))
        })?,
        None => today,
    };
    if day < today {
        return Err(CampaignError::Invalid(Detail::new(
            "/last_day",
            "must be today or later: journeys up to now may already have draft incentives",
        )));
    }
    if today > campaign.end {
        return Err(CampaignError::Conflict(format!(
            "campaign {id} ended on {}",
            campaign.end
        )));
    }
    if day >= campaign.end {
        if record.closed_on.is_some() {
            // Closed already on this day or earlier: nothing to do.
            return stored(&item, true, now).ok_or(CampaignError::Internal);
        }
        return Err(CampaignError::Invalid(Detail::new(
            "/last_day",
            "must be before the campaign's end",
        )));
    }
    let version = record.version + 1;
    let at = rfc3339(now);
    let closed_on = day.format("%Y-%m-%d").to_string();
    let ops = vec![
        WriteOp::Update {
            key: keys::campaign(&id),
            update: CampaignRecord::close(&closed_on, version, &at),
            condition: Some(CampaignRecord::same_version(record.version)),
        },
        WriteOp::Put {
            item: version_item(
                &id,
                version,
                "closed",
                &at,
                &record.document,
                Some(&closed_on),
            ),
            condition: Some(Condition::NotExists),
        },
        generation_bump(),
    ];
    match app.store.transact(ops).await {
        Ok(()) => get(app, &id, true).await?.ok_or(CampaignError::Internal),
        Err(StoreError::TransactionCanceled { .. }) => Err(CampaignError::Conflict(format!(
            "campaign {id} was changed meanwhile; read it again"
        ))),
        Err(e) => Err(e.into()),
    }
}

pub async fn get(
    app: &App,
    id: &CampaignId,
    with_document: bool,
) -> Result<Option<Stored>, CampaignError> {
    let Some(item) = app.store.get(&keys::campaign(id)).await? else {
        return Ok(None);
    };
    Ok(Some(
        stored(&item, with_document, app.clock.now()).ok_or(CampaignError::Internal)?,
    ))
}

/// A campaign by its id as given in a URL (404 for an impossible id).
pub async fn find(app: &App, id: &str) -> Result<Stored, CampaignError> {
    get(app, &parse_id(id)?, true)
        .await?
        .ok_or(CampaignError::NotFound)
}

async fn partition(app: &App, pk: String) -> StoreResult<Vec<Item>> {
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = app
            .store
            .query(Query::partition(pk.clone()).limit(100).after(cursor))
            .await?;
        items.extend(page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(items),
        }
    }
}

/// Every campaign (without documents), by id; `territory` keeps only its own.
pub async fn list(app: &App, territory: Option<&str>) -> Result<Vec<Stored>, CampaignError> {
    let now = app.clock.now();
    let items = partition(app, keys::CAMPAIGNS.to_owned()).await?;
    Ok(items
        .iter()
        .filter(|i| {
            territory.is_none()
                || CampaignRecord::from_item(i)
                    .and_then(|r| r.territory_id)
                    .as_deref()
                    == territory
        })
        .filter_map(|i| stored(i, false, now))
        .collect())
}

/// A campaign's history, oldest first (documents included when asked).
pub async fn versions(
    app: &App,
    id: &CampaignId,
    with_documents: bool,
) -> Result<Vec<Version>, CampaignError> {
    let items = partition(app, keys::campaign_versions(id)).await?;
    Ok(items
        .iter()
        .filter(|i| i.key.sk.starts_with("V#"))
        .filter_map(|i| CampaignVersion::from_item(id, i))
        .map(|v| Version {
            version: v.version,
            action: v.action,
            at: v.at,
            closed_on: v.closed_on,
            document: with_documents.then_some(v.document),
        })
        .collect())
}

pub use crate::app::Campaigns;
pub use sirets::Sirets;

/// The campaigns processing evaluates journeys against, re-read only when a campaign
/// changed (the generation counter moved): one small read per journey otherwise.
pub async fn all(app: &App) -> StoreResult<Campaigns> {
    let generation = app
        .store
        .get(&keys::campaigns_generation())
        .await?
        .and_then(|i| Generation::of(&i))
        .unwrap_or(0);
    if let Some(campaigns) = app.campaigns.get(generation) {
        return Ok(campaigns);
    }
    // No generation yet: no campaign was ever loaded.
    let items = if generation == 0 {
        Vec::new()
    } else {
        partition(app, keys::CAMPAIGNS.to_owned()).await?
    };
    let campaigns: Vec<Arc<Campaign>> = items
        .iter()
        .filter_map(|item| {
            let parsed = parsed(item);
            if parsed.is_none() {
                // Validated at load: a stored document that no longer parses is a bug.
                tracing::error!(campaign = %item.key.sk, "stored campaign does not parse; skipped");
            }
            parsed.map(|(_, c)| Arc::new(c))
        })
        .collect();
    let campaigns = Arc::new(campaigns);
    app.campaigns.offer(generation, campaigns.clone());
    Ok(campaigns)
}
