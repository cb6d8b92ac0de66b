//! The monthly run's final records of a campaign's month (docs/DATA_MODEL.md, "Monthly
//! results"): the `FINAL#` marker holding the current version, each version's header, its
//! chunks (lines, carried counters) and the operator index (line chunks and totals).
//! Lines, counters and totals are JSON the campaigns service writes and reads.

use super::item::{Condition, Item, Key, Update};
use super::keys;
use crate::domain::campaign::CampaignId;

/// The `FINAL#` marker of a finalized month: its current version.
#[derive(Clone, Debug, PartialEq)]
pub struct FinalMarker {
    pub version: i64,
    pub finalized_at: String,
}

impl FinalMarker {
    pub fn to_item(&self, id: &CampaignId, month: &str) -> Item {
        Item::new(keys::monthly_final(id, month))
            .with("version", self.version)
            .with("finalized_at", self.finalized_at.clone())
    }

    pub fn from_item(item: &Item) -> FinalMarker {
        FinalMarker {
            version: item.n("version").unwrap_or(1),
            finalized_at: item.s("finalized_at").unwrap_or_default().to_owned(),
        }
    }

    /// The marker still points at `previous` (`None`: there is none yet).
    pub fn still_at(previous: Option<i64>) -> Condition {
        match previous {
            Some(v) => Condition::equals("version", v),
            None => Condition::NotExists,
        }
    }
}

/// The header of one version of a campaign's month.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VersionHeader {
    pub campaign_id: String,
    pub month: String,
    pub version: i64,
    pub finalized_at: String,
    pub forced: bool,
    pub digest: String,
    /// JSON of the month's totals.
    pub totals: String,
    pub line_chunks: usize,
    pub carry_chunks: usize,
    pub carried_from: Option<String>,
    pub run_id: Option<String>,
}

impl VersionHeader {
    /// The attribute only a complete version has.
    pub const DONE: &'static str = "digest";

    /// The header written onto its (fenced) item.
    pub fn update(&self) -> Update {
        let mut update = Update::new()
            .set("campaign_id", self.campaign_id.clone())
            .set("month", self.month.clone())
            .set("version", self.version)
            .set("finalized_at", self.finalized_at.clone())
            .set("forced", self.forced)
            .set(Self::DONE, self.digest.clone())
            .set("totals", self.totals.clone())
            .set("line_chunks", self.line_chunks as i64)
            .set("carry_chunks", self.carry_chunks as i64);
        if let Some(from) = &self.carried_from {
            update = update.set("carried_from", from.clone());
        }
        if let Some(run_id) = &self.run_id {
            update = update.set("run_id", run_id.clone());
        }
        update
    }

    pub fn from_item(item: &Item) -> VersionHeader {
        let count = |name: &str| {
            item.n(name)
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(0)
        };
        let text = |name: &str| item.s(name).map(str::to_owned);
        VersionHeader {
            campaign_id: text("campaign_id").unwrap_or_default(),
            month: text("month").unwrap_or_default(),
            version: item.n("version").unwrap_or(1),
            finalized_at: text("finalized_at").unwrap_or_default(),
            forced: item.b("forced").unwrap_or(false),
            digest: text(Self::DONE).unwrap_or_default(),
            totals: text("totals").unwrap_or_default(),
            line_chunks: count("line_chunks"),
            carry_chunks: count("carry_chunks"),
            carried_from: text("carried_from"),
            run_id: text("run_id"),
        }
    }
}

/// A chunk of JSON data: a version's lines or carried counters, or an operator's lines.
pub fn chunk(key: Key, data: String) -> Item {
    Item::new(key).with("data", data)
}

/// An operator-index chunk of `lines` lines.
pub fn operator_chunk(key: Key, data: String, lines: usize) -> Item {
    chunk(key, data).with("lines", lines as i64)
}

/// The data of a chunk (`None`: not a chunk).
pub fn chunk_data(item: &Item) -> Option<&str> {
    item.s("data")
}

/// An operator's totals in one version: their JSON and how many line chunks it has.
pub fn operator_totals(key: Key, totals: String, line_chunks: usize) -> Item {
    Item::new(key)
        .with("totals", totals)
        .with("line_chunks", line_chunks as i64)
}

/// The totals' JSON of an operator's totals item.
pub fn operator_totals_json(item: &Item) -> Option<&str> {
    item.s("totals")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_markers_read_back_what_they_wrote() {
        let id = CampaignId::parse("c").unwrap();
        let header = VersionHeader {
            campaign_id: "c".into(),
            month: "2026-10".into(),
            version: 2,
            finalized_at: "2026-11-06T03:00:00.000Z".into(),
            forced: true,
            digest: "d".into(),
            totals: "{}".into(),
            line_chunks: 3,
            carry_chunks: 1,
            carried_from: Some("2026-09".into()),
            run_id: None,
        };
        let mut item = Item::new(keys::monthly_version(&id, "2026-10", 2));
        for (name, value) in header.update().set {
            item.set(&name, value);
        }
        assert_eq!(VersionHeader::from_item(&item), header);
        let marker = FinalMarker {
            version: 2,
            finalized_at: header.finalized_at.clone(),
        };
        assert_eq!(
            FinalMarker::from_item(&marker.to_item(&id, "2026-10")),
            marker
        );
    }
}
