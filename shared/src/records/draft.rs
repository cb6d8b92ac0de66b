//! The draft incentive item (one per journey, campaign and paid role, in the journey's
//! partition and the campaign's monthly incentives index), the draft counters it moves and
//! the campaign's monthly incentive totals.

use super::item::{Condition, Item, Key, Update, GSI1_PK, GSI1_SK};
use super::keys;
use crate::domain::campaign::counters::Tally;
use crate::domain::campaign::CampaignId;
use crate::domain::operator::OperatorId;

/// Status of a draft that counts.
pub const DRAFT: &str = "draft";
/// Status of a draft given back (its journey canceled).
pub const CANCELED: &str = "canceled";

/// What a draft added to one counter: the counter's key (`pk`, `sk`), trips and cents.
pub type Counted = (String, String, i64, i64);

/// A draft incentive, as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Draft {
    pub key: Key,
    pub campaign: CampaignId,
    pub journey_id: String,
    pub operator: OperatorId,
    pub operator_journey_id: Option<String>,
    /// `driver` or `passenger`.
    pub role: String,
    /// The paid person's identity key (hex), empty for none.
    pub person_key: String,
    /// Cents paid, and as computed before caps.
    pub amount: i64,
    pub computed: i64,
    /// [`DRAFT`] or [`CANCELED`].
    pub status: String,
    /// The journey's start (RFC 3339), its local date and month (campaign time zone).
    pub start: String,
    pub local_date: String,
    pub month: String,
    /// What it added to which counter; `None` if unreadable (never written so).
    pub counted: Option<Vec<Counted>>,
    pub created_at: String,
    pub capped_by: Option<String>,
    pub cap_index: Option<i64>,
    pub canceled_at: Option<String>,
}

fn n(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Draft {
    pub fn to_item(&self) -> Item {
        let role = self.role.as_str();
        let mut item = Item::new(self.key.clone())
            .with("campaign_id", self.campaign.as_str())
            .with("journey_id", self.journey_id.as_str())
            .with("operator_id", n(self.operator.0))
            .with("role", role)
            .with("person_key", self.person_key.as_str())
            .with("amount", self.amount)
            .with("computed", self.computed)
            .with("status", self.status.as_str())
            .with("start", self.start.as_str())
            .with("local_date", self.local_date.as_str())
            .with("month", self.month.as_str())
            .with("created_at", self.created_at.as_str())
            .with(GSI1_PK, keys::incentives_index(&self.campaign, &self.month))
            .with(
                GSI1_SK,
                format!(
                    "{}#{}#{}#{role}",
                    self.start, self.operator, self.journey_id
                ),
            );
        if let Some(counted) = &self.counted {
            item.set("counted", counted_json(counted));
        }
        let optional = [
            ("operator_journey_id", &self.operator_journey_id),
            ("capped_by", &self.capped_by),
            ("canceled_at", &self.canceled_at),
        ];
        for (name, value) in optional {
            if let Some(v) = value {
                item.set(name, v.clone());
            }
        }
        if let Some(i) = self.cap_index {
            item.set("cap_index", i);
        }
        item
    }

    /// `None` when an attribute always written is missing (never expected).
    pub fn from_item(item: &Item) -> Option<Draft> {
        let s = |name: &str| item.s(name).map(str::to_owned);
        Some(Draft {
            key: item.key.clone(),
            campaign: CampaignId::parse(item.s("campaign_id")?)?,
            journey_id: s("journey_id")?,
            operator: OperatorId(u64::try_from(item.n("operator_id")?).ok()?),
            operator_journey_id: s("operator_journey_id"),
            role: s("role")?,
            person_key: s("person_key")?,
            amount: item.n("amount")?,
            computed: item.n("computed")?,
            status: s("status")?,
            start: s("start")?,
            local_date: s("local_date")?,
            month: s("month")?,
            counted: item.s("counted").and_then(|c| serde_json::from_str(c).ok()),
            created_at: s("created_at")?,
            capped_by: s("capped_by"),
            cap_index: item.n("cap_index"),
            canceled_at: s("canceled_at"),
        })
    }

    /// Cancels a draft still counting: the update and its condition.
    pub fn cancel(now: &str) -> (Update, Condition) {
        let update = Update::new()
            .set("status", CANCELED)
            .set("canceled_at", now.to_owned());
        (update, Condition::equals("status", DRAFT))
    }

    /// Moves a draft to another person (re-keying), with what it counted rewritten when
    /// given; only while it is still `old`'s.
    pub fn rekey(old: &str, new: &str, counted: Option<&[Counted]>) -> (Update, Condition) {
        let mut update = Update::new().set("person_key", new.to_owned());
        if let Some(counted) = counted {
            update = update.set("counted", counted_json(counted));
        }
        (update, Condition::equals("person_key", old.to_owned()))
    }
}

fn counted_json(counted: &[Counted]) -> String {
    serde_json::to_string(counted).unwrap_or_default()
}

/// A draft counter (see [`keys::draft_counter`]): trips and cents counted so far.
pub struct DraftCounter;

impl DraftCounter {
    /// The tally of a counter item (0 for what is absent).
    pub fn tally(item: &Item) -> Tally {
        let get = |name: &str| {
            item.n(name)
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(0)
        };
        Tally {
            trips: get("trips"),
            amount: get("amount"),
        }
    }

    /// The counter still holds `read` (`None`: it was never written).
    pub fn holds(read: Option<Tally>) -> Condition {
        match read {
            Some(t) => Condition::All(vec![
                Condition::equals("trips", n(t.trips)),
                Condition::equals("amount", n(t.amount)),
            ]),
            None => Condition::AttrMissing("trips".into()),
        }
    }

    /// Adds trips and cents (negative to give back).
    pub fn add(trips: i64, amount: i64) -> Update {
        Update::new().add("trips", trips).add("amount", amount)
    }

    /// The starting part of a counter (the campaign's starting counters, `(trips,
    /// amount)`), included in its tally; `None` when none was ever set.
    pub fn starting_part(item: &Item) -> Option<(i64, i64)> {
        Some((item.n(START_TRIPS)?, item.n(START_AMOUNT)?))
    }

    /// Makes the starting part `to`, from `held` (what [`DraftCounter::starting_part`]
    /// read): the tally moves by the difference, on condition that the part is still
    /// `held`, so that a load run twice, or alongside drafts, counts each figure once.
    pub fn set_starting_part(held: Option<(i64, i64)>, to: (i64, i64)) -> (Update, Condition) {
        let (trips, amount) = held.unwrap_or((0, 0));
        let update = Self::add(to.0 - trips, to.1 - amount)
            .set(START_TRIPS, to.0)
            .set(START_AMOUNT, to.1);
        let condition = match held {
            Some((t, a)) => Condition::All(vec![
                Condition::equals(START_TRIPS, t),
                Condition::equals(START_AMOUNT, a),
            ]),
            None => Condition::AttrMissing(START_TRIPS.into()),
        };
        (update, condition)
    }
}

const START_TRIPS: &str = "start_trips";
const START_AMOUNT: &str = "start_amount";

/// A campaign's incentive totals of one month (see [`keys::incentive_totals`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IncentiveTotals {
    pub draft_count: i64,
    pub draft_amount: i64,
    pub canceled_count: i64,
    pub canceled_amount: i64,
}

impl IncentiveTotals {
    /// The totals of an item (0 for what is absent).
    pub fn from_item(item: &Item) -> IncentiveTotals {
        let get = |name: &str| item.n(name).unwrap_or(0);
        IncentiveTotals {
            draft_count: get("draft_count"),
            draft_amount: get("draft_amount"),
            canceled_count: get("canceled_count"),
            canceled_amount: get("canceled_amount"),
        }
    }

    /// Counts new drafts.
    pub fn add_drafts(count: i64, cents: i64) -> Update {
        Update::new()
            .add("draft_count", count)
            .add("draft_amount", cents)
    }

    /// Moves drafts to canceled.
    pub fn cancel(count: i64, cents: i64) -> Update {
        Update::new()
            .add("draft_count", -count)
            .add("draft_amount", -cents)
            .add("canceled_count", count)
            .add("canceled_amount", cents)
    }
}
