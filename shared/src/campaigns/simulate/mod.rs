//! A campaign document evaluated without storing it, over the stored journeys of a period,
//! with the monthly run's own code: [`compute::prepare`] (op1, op3 against the stored
//! campaigns, eligibility, amount) on every journey of the month, then
//! [`compute::finish`] (the caps in start order) on those it would pay, month after month
//! with the counters a final month carries (from zero, or from the starting counters of a
//! stored campaign with the same id). Nothing is written.

pub mod read;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use serde::Serialize;

use super::{load_checks, CampaignError};
use crate::app::App;
use crate::campaigns::monthly::compute::{self, Decision, LineStatus};
use crate::campaigns::monthly::Month;
use crate::domain::campaign::counters::MemoryCounters;
use crate::domain::campaign::{document, Campaign, OperatorRef, PaidRole};
use crate::domain::error::Detail;

/// At most this many months in one simulation.
pub const MAX_MONTHS: usize = 12;
/// Reasons listed per month.
const TOP_REASONS: usize = 10;

/// Counts of a month's journeys before the caps.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    pub journeys: u64,
    pub eligible: u64,
    /// Journeys not paid, by reason.
    pub not_paid: BTreeMap<String, u64>,
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.journeys += other.journeys;
        self.eligible += other.eligible;
        read::merge(&mut self.not_paid, &other.not_paid);
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = SimulationReason))]
pub struct ReasonCount {
    pub reason: String,
    pub journeys: u64,
}

/// One month of a simulation.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = SimulationMonth))]
pub struct MonthResult {
    /// `YYYY-MM`, in the campaign's time zone.
    pub month: String,
    /// Stored journeys whose passenger starts that month.
    pub journeys: u64,
    /// Those the campaign would pay someone for, caps aside.
    pub eligible: u64,
    /// Journeys paid something, and incentives (one per paid person of a journey).
    pub journeys_paid: u64,
    pub incentives_paid: u64,
    /// Cents.
    pub amount: u64,
    /// Distinct persons paid.
    pub people_paid: u64,
    /// Incentives each cap reduced (possibly to 0), by cap.
    pub capped: BTreeMap<String, u64>,
    /// Journeys paid nothing, by reason (most frequent first, at most 10): an eligibility
    /// reason, `journey_canceled`…, `lower_priority`, or the cap that left nothing.
    pub not_paid: Vec<ReasonCount>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Simulation {
    pub campaign_id: String,
    pub from: String,
    pub to: String,
    /// Whether the counters started from a stored campaign's starting counters.
    pub starting_counters: bool,
    /// Cents, every month.
    pub amount: u64,
    pub months: Vec<MonthResult>,
}

/// The months `from..=to`; 400 naming the parameter when wrong.
pub fn months(from: Option<&str>, to: Option<&str>) -> Result<Vec<Month>, CampaignError> {
    let read = |name: &str, v: Option<&str>| {
        v.and_then(Month::parse).ok_or_else(|| {
            CampaignError::Invalid(Detail::new(name, "is required: a month YYYY-MM"))
        })
    };
    let (from, to) = (read("from", from)?, read("to", to)?);
    if to < from {
        return Err(CampaignError::Invalid(Detail::new(
            "to",
            "must not be before from",
        )));
    }
    let mut out = vec![from];
    while let Some(m) = out.last().copied().filter(|m| *m < to) {
        if out.len() == MAX_MONTHS {
            return Err(CampaignError::Invalid(Detail::new(
                "to",
                format!("at most {MAX_MONTHS} months from from"),
            )));
        }
        out.push(Month::of(m.last_day() + chrono::Days::new(1)));
    }
    Ok(out)
}

/// Parses and checks a campaign document as `POST /v2/campaigns` would, without storing it.
pub async fn parse(app: &App, body: &[u8]) -> Result<Campaign, CampaignError> {
    let (value, campaign) = document::parse_bytes(body).map_err(CampaignError::InvalidDocument)?;
    load_checks(app, &value, &campaign).await?;
    Ok(campaign)
}

/// Simulates `campaign` over `months` of stored journeys.
pub async fn simulate(
    app: &App,
    campaign: Campaign,
    months: &[Month],
) -> Result<Simulation, CampaignError> {
    let campaign = Arc::new(campaign);
    let stored = super::all(app).await?;
    let others: Vec<&Campaign> = stored
        .iter()
        .filter(|c| c.id != campaign.id)
        .map(|c| c.as_ref())
        .collect();
    let rival_ids: Vec<_> = compute::rivals(&campaign, &others)
        .iter()
        .map(|c| c.id.clone())
        .collect();
    let rivals: Arc<Vec<Arc<Campaign>>> = Arc::new(
        rival_ids
            .iter()
            .filter_map(|id| stored.iter().find(|c| &c.id == id).cloned())
            .collect(),
    );
    let mut counters = if stored.iter().any(|c| c.id == campaign.id) {
        super::starting::counters(app, &campaign.id).await?
    } else {
        MemoryCounters::default()
    };
    let starting_counters = !counters.is_empty();
    let mut operators = read::operators(app).await?;
    // A campaign naming operators by id only reads theirs.
    if !campaign.operators.is_empty()
        && campaign
            .operators
            .iter()
            .all(|o| matches!(o, OperatorRef::Id(_)))
    {
        operators.retain(|(id, siret)| {
            campaign
                .operators
                .iter()
                .any(|o| o.matches(*id, siret.as_deref()))
        });
    }
    let mut out = Vec::with_capacity(months.len());
    for &month in months {
        let read = read::month(app, &campaign, &rivals, &operators, month).await?;
        let (result, carry) = month_result(&campaign, month, read, counters);
        counters = carry;
        out.push(result);
    }
    Ok(Simulation {
        campaign_id: campaign.id.to_string(),
        from: months.first().map(|m| m.to_string()).unwrap_or_default(),
        to: months.last().map(|m| m.to_string()).unwrap_or_default(),
        starting_counters,
        amount: out.iter().map(|m| m.amount).sum(),
        months: out,
    })
}

/// The caps on a month's payable journeys (the monthly run's op2), and the figures.
fn month_result(
    campaign: &Campaign,
    month: Month,
    read: read::MonthRead,
    counters: MemoryCounters,
) -> (MonthResult, MemoryCounters) {
    let read::MonthRead {
        mut payable,
        mut tally,
    } = read;
    let run = compute::finish(campaign, &mut payable, counters, month.year(), Vec::new());
    let roles: Vec<PaidRole> = campaign.paid_roles().collect();
    let mut result = MonthResult {
        month: month.to_string(),
        journeys: tally.journeys,
        eligible: tally.eligible,
        journeys_paid: 0,
        incentives_paid: 0,
        amount: 0,
        people_paid: 0,
        capped: BTreeMap::new(),
        not_paid: Vec::new(),
    };
    let mut people = HashSet::new();
    // `finish` sorted `payable` and wrote one line per paid role of each, in that order.
    for (p, lines) in payable.iter().zip(run.lines.chunks(roles.len().max(1))) {
        let Decision::Payable {
            driver, passenger, ..
        } = &p.decision
        else {
            continue;
        };
        let mut paid = false;
        for l in lines {
            if l.status == LineStatus::Capped {
                let label = l.reason.clone().unwrap_or_default();
                *result.capped.entry(label).or_default() += 1;
            }
            if l.amount > 0 {
                paid = true;
                result.incentives_paid += 1;
                result.amount += l.amount as u64;
                let person = match l.role {
                    PaidRole::Driver => driver,
                    PaidRole::Passenger => passenger,
                };
                people.extend(*person);
            }
        }
        if paid {
            result.journeys_paid += 1;
        } else {
            let reason = lines
                .iter()
                .find_map(|l| l.reason.clone())
                .unwrap_or_default();
            *tally.not_paid.entry(reason).or_default() += 1;
        }
    }
    result.people_paid = people.len() as u64;
    let mut reasons: Vec<ReasonCount> = tally
        .not_paid
        .into_iter()
        .map(|(reason, journeys)| ReasonCount { reason, journeys })
        .collect();
    reasons.sort_by(|a, b| {
        b.journeys
            .cmp(&a.journeys)
            .then_with(|| a.reason.cmp(&b.reason))
    });
    reasons.truncate(TOP_REASONS);
    result.not_paid = reasons;
    let mut carried = MemoryCounters::default();
    for (k, t) in run.carry {
        carried.set(k, t);
    }
    (result, carried)
}

/// The columns of [`Simulation::csv_rows`].
pub const CSV_COLUMNS: [&str; 9] = [
    "month",
    "journeys",
    "eligible",
    "journeys_paid",
    "incentives_paid",
    "amount",
    "people_paid",
    "capped",
    "not_paid",
];

impl Simulation {
    /// One CSV row per month, under [`CSV_COLUMNS`]: caps as `cap=count` and reasons as
    /// `reason=journeys`, each list separated by `;`.
    pub fn csv_rows(&self) -> Vec<[String; 9]> {
        self.months
            .iter()
            .map(|m| {
                let capped: Vec<String> =
                    m.capped.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let reasons: Vec<String> = m
                    .not_paid
                    .iter()
                    .map(|r| format!("{}={}", r.reason, r.journeys))
                    .collect();
                [
                    m.month.to_string(),
                    m.journeys.to_string(),
                    m.eligible.to_string(),
                    m.journeys_paid.to_string(),
                    m.incentives_paid.to_string(),
                    m.amount.to_string(),
                    m.people_paid.to_string(),
                    capped.join(";"),
                    reasons.join(";"),
                ]
            })
            .collect()
    }
}
