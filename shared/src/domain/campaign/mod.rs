//! Incentive campaigns (SPEC §4, ../shared/campaigns.md): a JSON document parsed once, on
//! load, into the types below; the engine ([`engine::evaluate`]) then evaluates journeys
//! against them without any further check, so a campaign that cannot be evaluated is
//! refused at load, never at run time.

mod caps;
pub mod counters;
pub mod document;
pub mod engine;
#[cfg(test)]
mod rules;
pub mod starting;
#[cfg(test)]
mod territories;

use chrono::NaiveDate;
use chrono_tz::Tz;

use super::geo::{Area, Commune};
use super::journey_v2::OperatorClass;
use super::operator::OperatorId;

pub use document::parse;

/// `[a-z0-9_-]{1,64}`: part of keys and URLs as is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CampaignId(String);

impl CampaignId {
    pub fn parse(s: &str) -> Option<CampaignId> {
        let ok = (1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        ok.then(|| CampaignId(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CampaignId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which ends of the trip must be in the territory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TerritoryRule {
    Start,
    End,
    StartOrEnd,
    StartAndEnd,
}

/// A kind of administrative unit a territory can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnitKind {
    Commune,
    Epci,
    Departement,
    Region,
}

impl UnitKind {
    /// The key of its list in a territory (`com`, `epci`, `dep`, `reg`).
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Commune => "com",
            UnitKind::Epci => "epci",
            UnitKind::Departement => "dep",
            UnitKind::Region => "reg",
        }
    }

    /// The code of the commune's unit of this kind (`None`: a commune in no EPCI).
    pub fn code_of(self, c: &Commune) -> Option<&'static str> {
        match self {
            UnitKind::Commune => Some(c.code),
            UnitKind::Epci => c.epci,
            UnitKind::Departement => Some(c.departement),
            UnitKind::Region => Some(c.region),
        }
    }
}

/// Named units (current commune codes, EPCI SIRENs, département and région codes) and/or
/// polygons: the union of all of them. A position is in it when its coordinates are in a
/// polygon, or its commune (its INSEE code, else its coordinates resolved) is in a listed
/// unit. An exclusion may also have `same`: see [`Territory::same`].
#[derive(Clone, Debug)]
pub struct Territory {
    pub rule: TerritoryRule,
    /// Sorted code lists, for binary search: communes, EPCI, départements, régions.
    pub com: Vec<String>,
    pub epci: Vec<String>,
    pub dep: Vec<String>,
    pub reg: Vec<String>,
    pub area: Option<Area>,
    /// Exclusions only: a trip whose start and end are in the same unit of this kind (and,
    /// when units or polygons are also given, in them by `rule`).
    pub same: Option<UnitKind>,
}

impl Territory {
    /// No unit, no polygon.
    pub fn has_no_place(&self) -> bool {
        self.com.is_empty()
            && self.epci.is_empty()
            && self.dep.is_empty()
            && self.reg.is_empty()
            && self.area.is_none()
    }

    pub fn is_empty(&self) -> bool {
        self.has_no_place() && self.same.is_none()
    }

    /// Whether the commune is in one of the listed units.
    pub fn lists(&self, c: &Commune) -> bool {
        let has = |list: &[String], code: Option<&str>| {
            code.is_some_and(|code| list.binary_search_by(|x| x.as_str().cmp(code)).is_ok())
        };
        has(&self.com, Some(c.code))
            || has(&self.epci, c.epci)
            || has(&self.dep, Some(c.departement))
            || has(&self.reg, Some(c.region))
    }
}

/// An operator named by a campaign: our integer id, or its SIRET (14 digits).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OperatorRef {
    Id(OperatorId),
    Siret(String),
}

impl OperatorRef {
    pub fn matches(&self, id: OperatorId, siret: Option<&str>) -> bool {
        match self {
            OperatorRef::Id(own) => *own == id,
            OperatorRef::Siret(s) => siret == Some(s.as_str()),
        }
    }
}

/// Dates (inclusive, in the campaign's time zone) between which an operator's journeys
/// are eligible; outside them they are not.
#[derive(Clone, Debug, PartialEq)]
pub struct OperatorWindow {
    pub operator: OperatorRef,
    pub from: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

/// Metres, `[min, max)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DistanceRange {
    pub min: u32,
    pub max: Option<u32>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Days {
    /// Bit `d` set = ISO weekday `d` (1 Monday … 7 Sunday) is eligible.
    pub weekdays: u8,
    /// Sorted.
    pub exclude: Vec<NaiveDate>,
    /// Sorted by date: that day's amount.
    pub boost: Vec<(NaiveDate, Boost)>,
    /// Minutes since local midnight, `[from, to)`; empty = all day.
    pub hours: Vec<(u16, u16)>,
}

/// A boost day's amount.
#[derive(Clone, Debug, PartialEq)]
pub enum Boost {
    /// The trip's amount is multiplied by `factor / 100`.
    Factor(u32),
    /// This amount rule replaces the campaign's for the day.
    Amount(Amount),
}

/// Which passengers' trips a campaign pays, by the passenger's `over_18`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Age {
    Any,
    /// `over_18: true` only.
    Adult,
    /// `over_18: true` or not given; not `false`.
    AdultOrUnknown,
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum PaidRole {
    Driver,
    Passenger,
}

impl PaidRole {
    pub fn as_str(self) -> &'static str {
        match self {
            PaidRole::Driver => "driver",
            PaidRole::Passenger => "passenger",
        }
    }

    pub fn parse(s: &str) -> Option<PaidRole> {
        match s {
            "driver" => Some(PaidRole::Driver),
            "passenger" => Some(PaidRole::Passenger),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    FirstMatchingBand,
    SumOfBands,
}

/// `[from, to)` metres; `fixed` cents, `per_km` thousandths of a cent per km.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Band {
    pub from: u32,
    pub to: Option<u32>,
    pub fixed: u32,
    pub per_km_millicents: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Amount {
    pub mode: Mode,
    pub bands: Vec<Band>,
    pub per_seat: bool,
    pub min_per_trip: Option<u64>,
    pub max_per_trip: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Period {
    Day,
    Month,
    Year,
    Campaign,
}

impl Period {
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Month => "month",
            Period::Year => "year",
            Period::Campaign => "campaign",
        }
    }
}

/// Whose counter a cap reads: each person (identity key) per paid role, each person per
/// operator and paid role, or the whole campaign.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    Person,
    OperatorPerson,
    Campaign,
    /// One shared ride: the journeys of an operator with one `operator_journey_id`.
    Ride,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cap {
    SeatsPerTrip {
        max: u8,
    },
    /// The seats paid on one ride (operator + `operator_journey_id`) per period, across
    /// its passengers' journeys: a journey whose seats no longer fit gets 0.
    SeatsPerRide {
        per: Period,
        max: u64,
    },
    /// All or nothing: the trip over the limit gets 0. Counts the paid person's journeys,
    /// or with `who` those of the journey's driver (or passenger), whoever is paid: "6 trips
    /// per driver per day" on a campaign paying passengers.
    Trips {
        per: Period,
        max: u64,
        who: Option<PaidRole>,
        scope: Scope,
    },
    /// Pays the remainder (max − used), then 0.
    Amount {
        per: Period,
        max: u64,
        who: Option<PaidRole>,
        scope: Scope,
    },
    /// The campaign's total, every person and role together.
    Budget {
        max: u64,
    },
}

/// Which counter a cap reads, whoever is paid: its period, whose trips (`who`) and scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CounterSpec {
    pub per: Period,
    pub who: Option<PaidRole>,
    pub scope: Scope,
}

impl CounterSpec {
    /// The spec of a cap's counter (`None` for seats per trip).
    pub fn of(cap: &Cap) -> Option<CounterSpec> {
        match *cap {
            Cap::SeatsPerTrip { .. } => None,
            Cap::SeatsPerRide { per, .. } => Some(CounterSpec {
                per,
                who: None,
                scope: Scope::Ride,
            }),
            Cap::Budget { .. } => Some(CounterSpec {
                per: Period::Campaign,
                who: None,
                scope: Scope::Campaign,
            }),
            Cap::Trips {
                per, who, scope, ..
            }
            | Cap::Amount {
                per, who, scope, ..
            } => Some(CounterSpec {
                per,
                who: if scope == Scope::Campaign { None } else { who },
                scope,
            }),
        }
    }

    /// The same counter for the driver's and the passenger's incentive of a journey.
    pub fn shared_by_roles(&self) -> bool {
        matches!(self.scope, Scope::Campaign | Scope::Ride) || self.who.is_some()
    }
}

impl Cap {
    /// Position in the documented order of application (campaigns.md): seats per trip,
    /// seats per ride, trips per day, month, year, campaign, amount in total, per year,
    /// month, day, budget.
    fn rank(&self) -> u8 {
        match self {
            Cap::SeatsPerTrip { .. } => 0,
            Cap::SeatsPerRide { .. } => 1,
            Cap::Trips { per, .. } => match per {
                Period::Day => 2,
                Period::Month => 3,
                Period::Year => 4,
                Period::Campaign => 5,
            },
            Cap::Amount { per, .. } => match per {
                Period::Campaign => 6,
                Period::Year => 7,
                Period::Month => 8,
                Period::Day => 9,
            },
            Cap::Budget { .. } => 10,
        }
    }

    /// Stable name, shown as the reason of a capped incentive.
    pub fn label(&self) -> &'static str {
        use Period::*;
        match self {
            Cap::SeatsPerTrip { .. } => "seats_per_trip",
            Cap::SeatsPerRide { .. } => "seats_per_ride",
            Cap::Budget { .. } => "budget",
            Cap::Trips {
                per,
                scope: Scope::Campaign,
                ..
            } => match per {
                Day => "campaign_trips_per_day",
                Month => "campaign_trips_per_month",
                Year => "campaign_trips_per_year",
                Campaign => "campaign_trips_in_total",
            },
            Cap::Trips { per, .. } => match per {
                Day => "trips_per_day",
                Month => "trips_per_month",
                Year => "trips_per_year",
                Campaign => "trips_in_total",
            },
            Cap::Amount {
                per,
                scope: Scope::Campaign,
                ..
            } => match per {
                Day => "campaign_amount_per_day",
                Month => "campaign_amount_per_month",
                Year => "campaign_amount_per_year",
                Campaign => "campaign_amount_in_total",
            },
            Cap::Amount { per, .. } => match per {
                Day => "amount_per_day",
                Month => "amount_per_month",
                Year => "amount_per_year",
                Campaign => "amount_in_total",
            },
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stacking {
    Exclusive,
    Stackable,
}

/// A campaign ready to evaluate. Built only by [`parse`].
#[derive(Clone, Debug)]
pub struct Campaign {
    pub id: CampaignId,
    pub name: String,
    pub territory_name: String,
    /// Territory tokens with this id read the campaign (extension of the format).
    pub territory_id: Option<String>,
    /// Inclusive, in `time_zone`.
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub time_zone: Tz,
    pub territory: Territory,
    pub exclude_territory: Option<Territory>,
    /// Empty = every operator.
    pub operators: Vec<OperatorRef>,
    /// Index by class (A, B, C); all true when the document names none.
    pub operator_classes: [bool; 3],
    pub operator_windows: Vec<OperatorWindow>,
    pub age: Age,
    pub distance: DistanceRange,
    pub days: Days,
    pub driver_paid: bool,
    pub passenger_paid: bool,
    pub amount: Amount,
    /// In the order of application, each with its index in the document.
    pub caps: Vec<(usize, Cap)>,
    /// The distinct counters the caps read (several caps may read one), and for each cap
    /// (same order as `caps`) the index of its counter; seats per trip reads none.
    pub counters: Vec<CounterSpec>,
    pub cap_counters: Vec<Option<usize>>,
    pub priority: i32,
    pub stacking: Stacking,
}

impl Campaign {
    pub fn class_eligible(&self, class: OperatorClass) -> bool {
        self.operator_classes[match class {
            OperatorClass::A => 0,
            OperatorClass::B => 1,
            OperatorClass::C => 2,
        }]
    }

    /// Whether the campaign names an operator by SIRET (then the engine needs the trip's
    /// operator SIRET).
    pub fn names_sirets(&self) -> bool {
        self.operators
            .iter()
            .chain(self.operator_windows.iter().map(|w| &w.operator))
            .any(|o| matches!(o, OperatorRef::Siret(_)))
    }

    /// Closes the campaign early: journeys after `last_day` are no longer eligible.
    pub fn close_on(&mut self, last_day: NaiveDate) {
        self.end = self.end.min(last_day);
    }

    pub fn paid_roles(&self) -> impl Iterator<Item = PaidRole> + '_ {
        [
            (PaidRole::Driver, self.driver_paid),
            (PaidRole::Passenger, self.passenger_paid),
        ]
        .into_iter()
        .filter(|(_, paid)| *paid)
        .map(|(role, _)| role)
    }

    /// Today in the campaign's time zone.
    pub fn today(&self, now: chrono::DateTime<chrono::Utc>) -> NaiveDate {
        now.with_timezone(&self.time_zone).date_naive()
    }
}

#[cfg(test)]
mod examples;
