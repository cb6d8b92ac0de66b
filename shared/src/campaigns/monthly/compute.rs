//! The monthly run of one campaign over one month, as a pure function of the month's
//! journeys (in any order), the campaigns and the counters carried from earlier finalized
//! months: op1 (journeys no longer `ok` cancel their incentives), op3 (a higher-priority
//! exclusive campaign that pays the journey takes it) before op2 (caps recomputed from
//! scratch in journey start order, ties by operator then journey id). No clock, no store,
//! no hash-map order reaches the output: the same inputs give the same bytes.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::campaign::counters::{CounterKey, MemoryCounters, PeriodKey, PersonKey, Tally};
use crate::domain::campaign::engine::{self, Evaluation, Outcome, Trip};
use crate::domain::campaign::{Campaign, PaidRole, Stacking};
use crate::domain::facts::Facts;
use crate::domain::journey::JourneyStatus;
use crate::domain::operator::OperatorId;
use crate::records::journey::{JourneyRecord, Party};

/// A journey of the month that has drafts from the campaign.
#[derive(Debug)]
pub struct Entry {
    pub operator: OperatorId,
    pub journey_id: String,
    pub operator_journey_id: Option<String>,
    pub start: DateTime<Utc>,
    /// `YYYY-MM-DD`, campaign time zone (as the drafts recorded it).
    pub local_date: String,
    /// Paid roles of its drafts and the cents computed then (lines of canceled journeys).
    pub drafts: Vec<(PaidRole, u64)>,
    pub state: State,
}

#[derive(Debug)]
pub enum State {
    /// Status `ok`: evaluated again.
    Payable {
        facts: Box<Facts>,
        siret: Option<String>,
        driver: Option<PersonKey>,
        passenger: Option<PersonKey>,
    },
    /// op1: canceled, fraud, anomaly or expired, with this reason.
    Canceled(&'static str),
    /// Cannot be paid this month (not processed yet, facts unreadable).
    NotEligible(&'static str),
}

impl State {
    /// A stored journey's state now (`siret`: its operator's, see
    /// [`crate::campaigns::Sirets`]): op1's reason, not processed yet, facts
    /// unreadable, else payable with its facts and identity keys.
    pub fn of(record: &JourneyRecord, siret: Option<String>) -> State {
        let status = record.status_str();
        if let Some(reason) = cancel_reason(status) {
            return State::Canceled(reason);
        }
        if status != JourneyStatus::Ok.as_str() {
            return State::NotEligible("journey_not_processed");
        }
        let Some(facts) = record.facts() else {
            tracing::error!(operator = ?record.operator, journey_id = ?record.journey_id,
                "stored journey facts do not read");
            return State::NotEligible("journey_unreadable");
        };
        let person = |party: &Party| party.key.as_deref().and_then(PersonKey::from_hex);
        State::Payable {
            facts: Box::new(facts),
            siret,
            driver: person(&record.driver),
            passenger: person(&record.passenger),
        }
    }
}

/// Reason of op1 for a journey status, `None` for `ok` and `pending`.
pub fn cancel_reason(status: &str) -> Option<&'static str> {
    match status {
        "canceled" => Some("journey_canceled"),
        "fraud_error" => Some("fraud"),
        "anomaly_error" => Some("anomaly"),
        "expired" => Some("expired"),
        _ => None,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LineStatus {
    Validated,
    Capped,
    Canceled,
    NotEligible,
    /// Negative: gives back what an earlier final month paid a journey canceled since.
    Correction,
}

impl LineStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LineStatus::Validated => "validated",
            LineStatus::Capped => "capped",
            LineStatus::Canceled => "canceled",
            LineStatus::NotEligible => "not_eligible",
            LineStatus::Correction => "correction",
        }
    }

    pub fn parse(s: &str) -> Option<LineStatus> {
        [
            LineStatus::Validated,
            LineStatus::Capped,
            LineStatus::Canceled,
            LineStatus::NotEligible,
            LineStatus::Correction,
        ]
        .into_iter()
        .find(|l| l.as_str() == s)
    }
}

/// One final incentive: one per (journey, paid role).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = FinalIncentive))]
pub struct Line {
    pub journey_id: String,
    pub operator_id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_journey_id: Option<String>,
    pub role: PaidRole,
    pub start: String,
    pub local_date: String,
    pub status: LineStatus,
    /// Cents paid (negative for a correction).
    pub amount: i64,
    /// Cents of the trip before caps (as drafted, for a canceled journey).
    pub computed: u64,
    /// The cap that bit (`capped`), why not (`not_eligible`, `canceled`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The exclusive campaign that pays the journey instead (op3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_by: Option<String>,
    /// The final month a correction line corrects (`YYYY-MM`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = MonthlyCount))]
pub struct Count {
    pub count: u64,
    pub amount: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = MonthlyTotals))]
pub struct Totals {
    pub journeys: u64,
    /// Validated and capped lines paying something: what is to be paid.
    pub paid: Count,
    /// Paid, less the corrections of earlier months.
    pub net: Count,
    /// Per line status.
    pub by_status: BTreeMap<LineStatus, Count>,
}

impl Totals {
    /// Counts one line (not `journeys`: callers know what a journey is for them).
    pub fn count(&mut self, l: &Line) {
        let c = self.by_status.entry(l.status).or_default();
        c.count += 1;
        c.amount += l.amount;
        if matches!(l.status, LineStatus::Validated | LineStatus::Capped) && l.amount > 0 {
            self.paid.count += 1;
            self.paid.amount += l.amount;
        }
        if l.amount != 0 {
            self.net.count += 1;
            self.net.amount += l.amount;
        }
    }
}

#[derive(Debug)]
pub struct Run {
    pub lines: Vec<Line>,
    pub totals: Totals,
    /// Counters to carry to later months (yearly from `year` on, whole campaign), sorted.
    pub carry: Vec<(CounterKey, Tally)>,
}

/// True when `a` goes before `b` for op3: higher priority, then earlier start, then id.
fn outranks(a: &Campaign, b: &Campaign) -> bool {
    (Reverse(a.priority), a.start, &a.id) < (Reverse(b.priority), b.start, &b.id)
}

/// Whether the campaign pays someone for the trip, caps aside.
fn pays(c: &Campaign, trip: &Trip) -> bool {
    match engine::evaluate(c, trip, &MemoryCounters::default()) {
        Evaluation::Eligible { incentives, .. } => incentives
            .iter()
            .any(|i| !matches!(i.outcome, Outcome::NotEligible(_))),
        Evaluation::NotEligible(_) => false,
    }
}

/// A journey of the month as far as it is decided without the counters: op1, op3,
/// eligibility and amount. What a shard of a big campaign hands to the campaign's final
/// step ([`finish`]), which applies the caps in start order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prepared {
    pub operator_id: u64,
    pub journey_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_journey_id: Option<String>,
    pub start: DateTime<Utc>,
    pub local_date: String,
    pub decision: Decision,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "is", rename_all = "snake_case")]
pub enum Decision {
    /// op1 (`canceled`) or not payable this month (`not_eligible`): a line per draft.
    Drafted {
        status: LineStatus,
        reason: String,
        drafts: Vec<(PaidRole, u64)>,
    },
    /// op3: this exclusive campaign pays the journey instead.
    LowerPriority { paid_by: String },
    /// The engine's reason.
    NotEligible { reason: String },
    /// Eligible: the caps decide.
    Payable {
        local_date: NaiveDate,
        computed: u64,
        driver: Option<PersonKey>,
        passenger: Option<PersonKey>,
        /// For a seats-per-ride cap.
        #[serde(default = "one_seat")]
        seats: u8,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ride: Option<PersonKey>,
    },
}

fn one_seat() -> u8 {
    1
}

/// The exclusive campaigns that take a journey from `campaign` when they pay it, best
/// first. They depend on the campaign documents only, never on another campaign's run:
/// each campaign's op3 is decided alone, whichever worker runs it and in whatever order.
pub fn rivals<'a>(campaign: &Campaign, campaigns: &[&'a Campaign]) -> Vec<&'a Campaign> {
    if campaign.stacking != Stacking::Exclusive {
        return Vec::new();
    }
    let mut rivals: Vec<&Campaign> = campaigns
        .iter()
        .copied()
        .filter(|c| c.id != campaign.id && c.stacking == Stacking::Exclusive)
        .filter(|c| outranks(c, campaign))
        .collect();
    rivals.sort_by(|a, b| {
        (Reverse(a.priority), a.start, &a.id).cmp(&(Reverse(b.priority), b.start, &b.id))
    });
    rivals
}

/// op1, op3 (before the caps: a journey this campaign does not pay consumes none of its
/// counters), eligibility and amount of one journey.
pub fn prepare(campaign: &Campaign, rivals: &[&Campaign], e: &Entry) -> Prepared {
    let drafted = |status, reason: &str| Decision::Drafted {
        status,
        reason: reason.to_owned(),
        drafts: e.drafts.clone(),
    };
    let decision = match &e.state {
        State::Canceled(reason) => drafted(LineStatus::Canceled, reason),
        State::NotEligible(reason) => drafted(LineStatus::NotEligible, reason),
        State::Payable {
            facts,
            siret,
            driver,
            passenger,
        } => {
            let trip = Trip::from_facts(facts, e.operator, siret.as_deref(), *driver, *passenger);
            if let Some(winner) = rivals.iter().find(|c| pays(c, &trip)) {
                Decision::LowerPriority {
                    paid_by: winner.id.to_string(),
                }
            } else {
                match engine::assess(campaign, &trip) {
                    Err(reason) => Decision::NotEligible {
                        reason: reason.as_str().to_owned(),
                    },
                    Ok(a) => Decision::Payable {
                        local_date: a.local_date,
                        computed: a.computed,
                        driver: a.driver,
                        passenger: a.passenger,
                        seats: a.seats,
                        ride: a.ride,
                    },
                }
            }
        }
    };
    Prepared {
        operator_id: e.operator.0,
        journey_id: e.journey_id.clone(),
        operator_journey_id: e.operator_journey_id.clone(),
        start: e.start,
        local_date: e.local_date.clone(),
        decision,
    }
}

/// Runs `campaign` over the month's `entries`; `campaigns` are all campaigns (op3),
/// `counters` those carried from earlier finalized months, `year` the month's year;
/// `corrections` (of earlier months' lines) follow the month's lines.
pub fn run(
    campaign: &Campaign,
    campaigns: &[&Campaign],
    entries: &mut [Entry],
    counters: MemoryCounters,
    year: i32,
    corrections: Vec<Line>,
) -> Run {
    let rivals = rivals(campaign, campaigns);
    let mut prepared: Vec<Prepared> = entries
        .iter()
        .map(|e| prepare(campaign, &rivals, e))
        .collect();
    finish(campaign, &mut prepared, counters, year, corrections)
}

/// op2 over the month's prepared journeys (in any order; all of them, from every shard):
/// the caps recomputed from scratch in start order (ties by operator then journey id),
/// then the lines, totals and counters to carry.
pub fn finish(
    campaign: &Campaign,
    prepared: &mut [Prepared],
    mut counters: MemoryCounters,
    year: i32,
    mut corrections: Vec<Line>,
) -> Run {
    prepared.sort_by(|a, b| {
        (a.start, a.operator_id, &a.journey_id).cmp(&(b.start, b.operator_id, &b.journey_id))
    });
    let mut lines = Vec::new();
    for p in prepared.iter() {
        p.lines(campaign, &mut counters, &mut lines);
    }

    corrections.sort_by(|a, b| {
        (&a.corrects, &a.start, a.operator_id, &a.journey_id, a.role).cmp(&(
            &b.corrects,
            &b.start,
            b.operator_id,
            &b.journey_id,
            b.role,
        ))
    });
    lines.extend(corrections);
    let mut totals = Totals {
        journeys: prepared.len() as u64,
        ..Totals::default()
    };
    for l in &lines {
        totals.count(l);
    }
    Run {
        lines,
        totals,
        carry: carried(&counters, year),
    }
}

/// The counters later months start from: yearly ones of `year` on, and whole-campaign ones.
fn carried(counters: &MemoryCounters, year: i32) -> Vec<(CounterKey, Tally)> {
    let mut carry: Vec<(CounterKey, Tally)> = counters
        .iter()
        .filter(|(k, _)| match k.period {
            PeriodKey::Year(y) => y >= year,
            PeriodKey::Whole => true,
            PeriodKey::Day(_) | PeriodKey::Month(..) => false,
        })
        .copied()
        .collect();
    carry.sort_by_key(|(k, _)| *k);
    carry
}

impl Prepared {
    /// A line of this journey.
    fn line(
        &self,
        role: PaidRole,
        status: LineStatus,
        amount: i64,
        computed: u64,
        reason: Option<&str>,
    ) -> Line {
        Line {
            journey_id: self.journey_id.clone(),
            operator_id: self.operator_id,
            operator_journey_id: self.operator_journey_id.clone(),
            role,
            start: crate::clock::rfc3339(self.start),
            local_date: self.local_date.clone(),
            status,
            amount,
            computed,
            reason: reason.map(str::to_owned),
            paid_by: None,
            corrects: None,
        }
    }

    /// op2 on this journey: its lines, the payable ones capped against `counters`, which
    /// then count what was granted.
    fn lines(&self, campaign: &Campaign, counters: &mut MemoryCounters, lines: &mut Vec<Line>) {
        match &self.decision {
            Decision::Drafted {
                status,
                reason,
                drafts,
            } => {
                for &(role, computed) in drafts {
                    lines.push(self.line(role, *status, 0, computed, Some(reason)));
                }
            }
            Decision::LowerPriority { paid_by } => {
                for role in campaign.paid_roles() {
                    let mut l =
                        self.line(role, LineStatus::NotEligible, 0, 0, Some("lower_priority"));
                    l.paid_by = Some(paid_by.clone());
                    lines.push(l);
                }
            }
            Decision::NotEligible { reason } => {
                for role in campaign.paid_roles() {
                    lines.push(self.line(role, LineStatus::NotEligible, 0, 0, Some(reason)));
                }
            }
            Decision::Payable {
                local_date,
                computed,
                driver,
                passenger,
                seats,
                ride,
            } => {
                let trip = engine::Assessed {
                    operator: OperatorId(self.operator_id),
                    local_date: *local_date,
                    computed: *computed,
                    driver: *driver,
                    passenger: *passenger,
                    seats: *seats,
                    ride: *ride,
                };
                let incentives = engine::apply_caps(campaign, &trip, counters);
                for i in &incentives {
                    let (status, reason) = match i.outcome {
                        Outcome::Granted => (LineStatus::Validated, None),
                        Outcome::Capped { label, .. } => (LineStatus::Capped, Some(label)),
                        Outcome::NotEligible(r) => (LineStatus::NotEligible, Some(r.as_str())),
                    };
                    let amount = i64::try_from(i.amount).unwrap_or(i64::MAX);
                    lines.push(self.line(i.role, status, amount, i.computed, reason));
                }
                for i in &incentives {
                    counters.add(&i.counted);
                }
            }
        }
    }
}
