//! The run records of the batch jobs: a fraud pass run and a monthly run, each a header
//! (listed in its index, newest first) with one item per unit done; the monthly run also
//! keeps its groups (campaign and month) and the journeys its shards prepared.

use chrono::NaiveDate;

use super::item::{Condition, Item, Key, Update, GSI1_PK, GSI1_SK, TTL};
use super::keys;
use crate::domain::campaign::CampaignId;

fn stored_count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn count(item: &Item, name: &str) -> u64 {
    item.n(name)
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(0)
}

/// The id of the run an index entry (a run header) stands for.
pub fn run_id_of(header: &Item) -> Option<&str> {
    header.s("run_id")
}

/// Counts one more unit done on a run header (fraud pass or monthly run).
pub fn count_unit() -> Update {
    Update::new().add("units_done", 1)
}

/// The header of a fraud pass run.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FraudRun {
    pub run_id: String,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub units: u64,
    pub units_done: u64,
}

impl FraudRun {
    pub fn to_item(&self) -> Item {
        let mut item = Item::new(keys::fraud_run(&self.run_id))
            .with("run_id", self.run_id.clone())
            .with("first_day", self.first_day.to_string())
            .with("last_day", self.last_day.to_string())
            .with("started_at", self.started_at.clone())
            .with("units", stored_count(self.units))
            .with("units_done", stored_count(self.units_done))
            .with(GSI1_PK, keys::FRAUD_RUNS_INDEX)
            .with(GSI1_SK, format!("{}#{}", self.started_at, self.run_id));
        if let Some(at) = &self.finished_at {
            item.set("finished_at", at.clone());
        }
        item
    }

    /// `None` without its days (what is missing otherwise reads empty or 0).
    pub fn from_item(run_id: &str, item: &Item) -> Option<FraudRun> {
        let day = |name: &str| item.s(name).and_then(|s| s.parse::<NaiveDate>().ok());
        Some(FraudRun {
            run_id: run_id.to_owned(),
            first_day: day("first_day")?,
            last_day: day("last_day")?,
            started_at: item.s("started_at").unwrap_or_default().to_owned(),
            finished_at: item.s("finished_at").map(str::to_owned),
            units: count(item, "units"),
            units_done: count(item, "units_done"),
        })
    }

    /// Stamps the run finished with its totals (JSON), once.
    pub fn finish(finished_at: &str, totals: String) -> (Update, Condition) {
        let update = Update::new()
            .set("finished_at", finished_at.to_owned())
            .set("totals", totals);
        (update, Condition::AttrMissing("finished_at".into()))
    }

    /// The result of one unit: its report (JSON).
    pub fn unit_item(run_id: &str, unit: &str, report: String) -> Item {
        Item::new(keys::fraud_run_unit(run_id, unit)).with("report", report)
    }

    /// The report (JSON) of a unit's item.
    pub fn unit_report(item: &Item) -> Option<&str> {
        item.s("report")
    }
}

/// The header of a monthly run.
#[derive(Clone, Debug, PartialEq)]
pub struct MonthlyRun {
    pub run_id: String,
    /// The month asked (YYYY-MM); empty when missing (never expected).
    pub month: String,
    pub force: bool,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub units: i64,
    pub units_done: i64,
    /// Every campaign id when the run was planned.
    pub campaigns: Vec<String>,
    pub warnings: Vec<String>,
}

impl MonthlyRun {
    pub fn to_item(&self) -> Item {
        let mut item = Item::new(keys::monthly_run(&self.run_id))
            .with("run_id", self.run_id.clone())
            .with("month", self.month.clone())
            .with("force", self.force)
            .with("started_at", self.started_at.clone())
            .with("units", self.units)
            .with("units_done", self.units_done)
            .with(
                "campaigns",
                serde_json::to_string(&self.campaigns).unwrap_or_default(),
            )
            .with(
                "warnings",
                serde_json::to_string(&self.warnings).unwrap_or_default(),
            )
            .with(GSI1_PK, keys::MONTHLY_RUNS_INDEX)
            .with(GSI1_SK, format!("{}#{}", self.started_at, self.run_id));
        if let Some(at) = &self.finished_at {
            item.set("finished_at", at.clone());
        }
        item
    }

    /// What a header holds (empty, false or 0 for what is missing or unreadable).
    pub fn from_item(run_id: &str, item: &Item) -> MonthlyRun {
        let list = |name: &str| {
            item.s(name)
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or_default()
        };
        MonthlyRun {
            run_id: run_id.to_owned(),
            month: item.s("month").unwrap_or_default().to_owned(),
            force: item.b("force").unwrap_or(false),
            started_at: item.s("started_at").unwrap_or_default().to_owned(),
            finished_at: item.s("finished_at").map(str::to_owned),
            units: item.n("units").unwrap_or(0),
            units_done: item.n("units_done").unwrap_or(0),
            campaigns: list("campaigns"),
            warnings: list("warnings"),
        }
    }

    /// Stamps the run finished, once.
    pub fn finish(finished_at: String) -> (Update, Condition) {
        let update = Update::new().set("finished_at", finished_at);
        (update, Condition::AttrMissing("finished_at".into()))
    }
}

/// One campaign and month of a monthly run, months as YYYY-MM.
#[derive(Clone, Debug, PartialEq)]
pub struct RunGroup {
    pub campaign: CampaignId,
    pub month: String,
    pub shards: i64,
    pub shards_done: Option<i64>,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl RunGroup {
    pub fn to_item(&self, run_id: &str) -> Item {
        let mut item = Item::new(keys::monthly_run_group(run_id, &self.campaign, &self.month))
            .with("campaign_id", self.campaign.as_str())
            .with("month", self.month.clone())
            .with("shards", self.shards);
        if let Some(done) = self.shards_done {
            item.set("shards_done", done);
        }
        for (name, month) in [("prev", &self.prev), ("next", &self.next)] {
            if let Some(m) = month {
                item.set(name, m.clone());
            }
        }
        item
    }

    pub fn from_item(item: &Item) -> Option<RunGroup> {
        Some(RunGroup {
            campaign: CampaignId::parse(item.s("campaign_id")?)?,
            month: item.s("month")?.to_owned(),
            shards: item.n("shards")?,
            shards_done: item.n("shards_done"),
            prev: item.s("prev").map(str::to_owned),
            next: item.s("next").map(str::to_owned),
        })
    }

    /// Counts one more shard done.
    pub fn shard_done() -> Update {
        Update::new().add("shards_done", 1)
    }
}

/// The item of one unit of a monthly run: a shard (how many journeys it prepared, in how
/// many chunks) or a campaign's final step (its report or why it failed).
pub struct RunUnit;

impl RunUnit {
    /// The attribute a completed unit has (the fence's completion mark).
    pub const DONE: &'static str = "done";

    pub fn is_done(item: &Item) -> bool {
        item.b(Self::DONE) == Some(true)
    }

    /// Completes a shard.
    pub fn shard_done(chunks: usize, journeys: usize) -> Update {
        Update::new()
            .set(Self::DONE, true)
            .set("chunks", chunks as i64)
            .set("journeys", journeys as i64)
    }

    /// The chunks a shard prepared (0 when none or unknown).
    pub fn chunks(item: &Item) -> usize {
        usize::try_from(item.n("chunks").unwrap_or(0)).unwrap_or(0)
    }

    /// A final step done: its report (JSON), or the error that ended it.
    pub fn final_item(key: Key, result: Result<String, &str>) -> Item {
        let item = Item::new(key).with(Self::DONE, true);
        match result {
            Ok(report) => item.with("report", report),
            Err(error) => item.with("error", error),
        }
    }

    /// What a final step recorded: its report (JSON) or its error; `None` when neither.
    pub fn final_result(item: &Item) -> Option<Result<&str, &str>> {
        if let Some(error) = item.s("error") {
            return Some(Err(error));
        }
        item.s("report").map(Ok)
    }
}

/// A chunk of the journeys a shard prepared (a JSON array), kept until `ttl`.
pub struct PreparedChunk;

impl PreparedChunk {
    pub fn to_item(key: Key, data: &str, ttl: i64) -> Item {
        Item::new(key).with("data", data).with(TTL, ttl)
    }

    pub fn data(item: &Item) -> Option<&str> {
        item.s("data")
    }
}
