//! The campaign items: the current campaign, its versions (history) and the generation
//! counter every campaign change moves.

use serde_json::Value;

use super::item::{Condition, Item, Update};
use super::keys;
use crate::domain::campaign::CampaignId;

/// The current state of a campaign.
#[derive(Clone, Debug, PartialEq)]
pub struct CampaignRecord {
    pub id: CampaignId,
    /// The document as loaded (stored as JSON).
    pub document: Value,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
    pub territory_id: Option<String>,
    /// Closed early: the last day of the campaign (YYYY-MM-DD).
    pub closed_on: Option<String>,
}

impl CampaignRecord {
    pub fn to_item(&self) -> Item {
        let mut item = Item::new(keys::campaign(&self.id))
            .with("document", self.document.to_string())
            .with("version", self.version)
            .with("created_at", self.created_at.clone())
            .with("updated_at", self.updated_at.clone());
        if let Some(t) = &self.territory_id {
            item.set("territory_id", t.clone());
        }
        if let Some(day) = &self.closed_on {
            item.set("closed_on", day.clone());
        }
        item
    }

    /// `None` when not a campaign item, or its document is not JSON (never expected).
    pub fn from_item(item: &Item) -> Option<CampaignRecord> {
        Some(CampaignRecord {
            id: CampaignId::parse(&item.key.sk)?,
            document: serde_json::from_str(item.s("document")?).ok()?,
            version: item.n("version")?,
            created_at: item.s("created_at")?.to_owned(),
            updated_at: item.s("updated_at")?.to_owned(),
            territory_id: item.s("territory_id").map(str::to_owned),
            closed_on: item.s("closed_on").map(str::to_owned),
        })
    }

    /// The campaign is still at `version` (nobody changed it since it was read).
    pub fn same_version(version: i64) -> Condition {
        Condition::equals("version", version)
    }

    /// Closes it on `closed_on`, as `version`, at `at`.
    pub fn close(closed_on: &str, version: i64, at: &str) -> Update {
        Update::new()
            .set("closed_on", closed_on.to_owned())
            .set("version", version)
            .set("updated_at", at.to_owned())
    }
}

/// One version of a campaign's history.
#[derive(Clone, Debug, PartialEq)]
pub struct CampaignVersion {
    pub id: CampaignId,
    pub version: i64,
    /// `created`, `updated` or `closed`.
    pub action: String,
    pub at: String,
    pub document: Value,
    pub closed_on: Option<String>,
}

impl CampaignVersion {
    pub fn to_item(&self) -> Item {
        let mut item = Item::new(keys::campaign_version(&self.id, self.version))
            .with("version", self.version)
            .with("action", self.action.clone())
            .with("at", self.at.clone())
            .with("document", self.document.to_string());
        if let Some(day) = &self.closed_on {
            item.set("closed_on", day.clone());
        }
        item
    }

    /// `None` when an attribute is missing or the document is not JSON (never expected).
    pub fn from_item(id: &CampaignId, item: &Item) -> Option<CampaignVersion> {
        Some(CampaignVersion {
            id: id.clone(),
            version: item.n("version")?,
            action: item.s("action")?.to_owned(),
            at: item.s("at")?.to_owned(),
            document: serde_json::from_str(item.s("document")?).ok()?,
            closed_on: item.s("closed_on").map(str::to_owned),
        })
    }
}

/// The campaigns' generation counter (see [`keys::campaigns_generation`]).
pub struct Generation;

impl Generation {
    /// The generation an item holds (0 when none).
    pub fn of(item: &Item) -> Option<i64> {
        item.n("value")
    }

    pub fn bump() -> Update {
        Update::new().add("value", 1)
    }
}
