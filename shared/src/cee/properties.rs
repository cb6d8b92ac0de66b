//! Properties of the CEE rules (cee.md, "Look-back and dedup rules", "Campaign window"),
//! checked against an independent reading of the spec:
//! * the look-back: a record blocks iff it is dated from N calendar years before the new
//!   operation on (later ones too), imported records only from their floor (Paris); short
//!   look-backs are within long ones; blocking is monotonic in both dates;
//! * the 409 names a standardized application before an imported record, then the most
//!   recent, whatever the order records are found in;
//! * the history (store level): any sequence of registrations, deletions, imports,
//!   identity attachments and simulations on a small population of people gives the
//!   outcomes a model of cee.md predicts; simulate agrees with register and writes
//!   nothing; of two registrations of one person within the look-back exactly one wins,
//!   in either order;
//! * `POST /v2/policies/cee` (long): the date checks and their boundaries (application
//!   timestamp in the past, operation strictly inside the window, J+7), each refusal at
//!   its field and logged as `date`.

use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, TimeZone, Utc};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};

use super::history::{self, NewApplication, Outcome, Person};
use super::imports::{self, IdentityItem, IdentityTarget, ItemError, Specific};
use crate::app::App;
use crate::clock::FixedClock;
use crate::domain::cee::fields::{DrivingLicense, IdentityKey, JourneyType, LastNameTrunc};
use crate::domain::cee::rules::{blocks, first_blocking, Campaign, Record, RecordKind};
use crate::domain::operator::OperatorId;
use crate::domain::phone::PhoneTrunc;
use crate::queue::memory::MemoryQueue;
use crate::store::memory::MemoryStore;
use crate::store::{Item, Scan};

// ---------------------------------------------------------------------------------------
// The spec's rules, written again independently (calendar arithmetic on dates, the floors
// from the Paris time zone).

fn years(journey_type: JourneyType, kind: RecordKind) -> i32 {
    match (journey_type, kind) {
        (JourneyType::Short, RecordKind::Standardized) => 5,
        (JourneyType::Short, RecordKind::Specific) => 3,
        (JourneyType::Long, RecordKind::Standardized) => 12,
        (JourneyType::Long, RecordKind::Specific) => 10,
    }
}

/// The same date and time `n` years earlier; 29 February becomes 28 February.
fn years_before(t: DateTime<Utc>, n: i32) -> DateTime<Utc> {
    let d = t.date_naive();
    let y = d.year() - n;
    let day = NaiveDate::from_ymd_opt(y, d.month(), d.day())
        .or_else(|| NaiveDate::from_ymd_opt(y, d.month(), d.day() - 1))
        .unwrap();
    day.and_time(t.time()).and_utc()
}

fn floor(journey_type: JourneyType) -> DateTime<Utc> {
    let year = match journey_type {
        JourneyType::Short => 2020,
        JourneyType::Long => 2015,
    };
    chrono_tz::Europe::Paris
        .with_ymd_and_hms(year, 1, 1, 0, 0, 0)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn spec_blocks(
    kind: RecordKind,
    record: DateTime<Utc>,
    journey_type: JourneyType,
    date: DateTime<Utc>,
) -> bool {
    let after_floor = kind == RecordKind::Standardized || record >= floor(journey_type);
    after_floor && record >= years_before(date, years(journey_type, kind))
}

/// What the 409 names: (kind, date) of a standardized record first, then the latest.
fn spec_named(
    records: &[(RecordKind, DateTime<Utc>)],
    journey_type: JourneyType,
    date: DateTime<Utc>,
) -> Option<(RecordKind, DateTime<Utc>)> {
    let blocking: Vec<_> = records
        .iter()
        .filter(|(k, t)| spec_blocks(*k, *t, journey_type, date))
        .copied()
        .collect();
    let standardized = blocking
        .iter()
        .filter(|(k, _)| *k == RecordKind::Standardized)
        .map(|(_, t)| *t)
        .max();
    match standardized {
        Some(t) => Some((RecordKind::Standardized, t)),
        None => blocking
            .iter()
            .map(|(_, t)| *t)
            .max()
            .map(|t| (RecordKind::Specific, t)),
    }
}

// ---------------------------------------------------------------------------------------
// Dates that sit on the rules' boundaries often.

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// New operation dates: ordinary days, 29 February, a Paris new year.
fn operation_date() -> impl Strategy<Value = DateTime<Utc>> {
    prop_oneof![
        Just(at("2025-06-15T10:00:00Z")),
        Just(at("2028-02-29T12:00:00Z")),
        Just(at("2024-02-29T00:00:00Z")),
        Just(at("2026-12-31T23:00:00Z")),
        Just(at("2023-01-03T08:30:00Z")),
        (1_672_531_200i64..1_798_761_600).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap()),
    ]
}

/// A record date relative to `date`: a whole number of calendar years before (or after)
/// it, nudged by a second, a day, or anything; or next to a floor.
fn record_date(date: DateTime<Utc>) -> impl Strategy<Value = DateTime<Utc>> {
    let near = |t: DateTime<Utc>| {
        prop_oneof![
            Just(0i64),
            Just(-1),
            Just(1),
            Just(-86_400),
            Just(86_400),
            -400 * 86_400i64..400 * 86_400,
        ]
        .prop_map(move |s| t + TimeDelta::seconds(s))
    };
    prop_oneof![
        6 => (-2i32..=14).prop_flat_map(move |n| near(years_before(date, n))),
        1 => near(floor(JourneyType::Short)),
        1 => near(floor(JourneyType::Long)),
    ]
}

fn journey_type() -> impl Strategy<Value = JourneyType> {
    prop_oneof![Just(JourneyType::Short), Just(JourneyType::Long)]
}

fn record_kind() -> impl Strategy<Value = RecordKind> {
    prop_oneof![Just(RecordKind::Standardized), Just(RecordKind::Specific)]
}

fn record(kind: RecordKind, datetime: DateTime<Utc>) -> Record {
    Record {
        kind,
        operator_id: OperatorId(1),
        datetime,
        uuid: None,
        journey_id: None,
    }
}

/// A new operation's date and type, and earlier records (kind, date).
type Dated = (DateTime<Utc>, JourneyType, Vec<(RecordKind, DateTime<Utc>)>);

fn dated_records() -> impl Strategy<Value = Dated> {
    (operation_date(), journey_type()).prop_flat_map(|(date, jt)| {
        (
            Just(date),
            Just(jt),
            prop::collection::vec((record_kind(), record_date(date)), 0..8),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// A record blocks iff the spec says so, to the second, on both sides of every
    /// look-back and floor.
    #[test]
    fn a_record_blocks_iff_it_is_within_the_lookback(
        (date, jt, records) in dated_records(),
    ) {
        for (kind, t) in records {
            prop_assert_eq!(
                blocks(&record(kind, t), jt, date),
                spec_blocks(kind, t, jt, date),
                "{:?} record of {} against a {:?} operation of {}", kind, t, jt, date
            );
        }
    }

    /// Short look-backs are within long ones; a later record, or an earlier operation,
    /// never unblocks.
    #[test]
    fn blocking_is_monotonic(
        (date, _, records) in dated_records(),
        later in 0i64..20 * 366 * 86_400,
    ) {
        for (kind, t) in records {
            let r = record(kind, t);
            if blocks(&r, JourneyType::Short, date) {
                prop_assert!(blocks(&r, JourneyType::Long, date));
            }
            for jt in [JourneyType::Short, JourneyType::Long] {
                if blocks(&r, jt, date) {
                    let moved = record(kind, t + TimeDelta::seconds(later));
                    prop_assert!(blocks(&moved, jt, date), "later record");
                    prop_assert!(blocks(&r, jt, date - TimeDelta::seconds(later)), "earlier operation");
                }
            }
        }
    }

    /// The 409 names a blocking record iff there is one: a standardized one first, then
    /// the latest; the order the records are found in does not matter.
    #[test]
    fn the_conflict_names_the_spec_record_in_any_order(
        (date, jt, records) in dated_records(),
        shuffle in any::<u64>(),
    ) {
        let mut found: Vec<Record> = records.iter().map(|(k, t)| record(*k, *t)).collect();
        let named = |rs: &[Record]| first_blocking(rs, jt, date).map(|r| (r.kind, r.datetime));
        let expected = spec_named(&records, jt, date);
        prop_assert_eq!(named(&found), expected);
        let mut seed = shuffle;
        for i in (1..found.len()).rev() {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            found.swap(i, (seed >> 33) as usize % (i + 1));
        }
        prop_assert_eq!(named(&found), expected);
    }

    /// The window `[start, end)` for short journeys, `(start, end)` for long operations,
    /// and J+delay, to the second.
    #[test]
    fn campaign_window_and_delay_boundaries(
        start in 1_600_000_000i64..1_700_000_000,
        length in 1i64..400_000_000,
        offset in prop_oneof![Just(-1i64), Just(0), Just(1), -1_000_000i64..1_000_000],
        at_end in any::<bool>(),
        delay_days in 0i64..30,
    ) {
        let c = Campaign {
            start: Utc.timestamp_opt(start, 0).unwrap(),
            end: Utc.timestamp_opt(start + length, 0).unwrap(),
            delay: TimeDelta::days(delay_days),
        };
        let t = if at_end { c.end } else { c.start } + TimeDelta::seconds(offset);
        prop_assert_eq!(c.contains(t), c.start <= t && t < c.end);
        prop_assert_eq!(c.strictly_contains(t), c.start < t && t < c.end);
        prop_assert_eq!(c.available_at(t) - t, TimeDelta::days(delay_days));
    }
}

// ---------------------------------------------------------------------------------------
// The history, model-based: a small population so that people share identifiers.

const SECRET: &str = "property-secret";
const NAME_PHONES: [(&str, &str); 3] = [
    ("DUP", "+336123456"),
    ("DUP", "+336987654"),
    ("MAR", "+336123456"),
];

fn identity_key(i: u8) -> IdentityKey {
    IdentityKey::parse(&format!("{i:064x}")).unwrap()
}

fn licence(i: u8) -> DrivingLicense {
    DrivingLicense::parse(&format!("{i:012}")).unwrap()
}

fn name_phone(i: u8) -> (LastNameTrunc, PhoneTrunc) {
    let (name, phone) = NAME_PHONES[usize::from(i)];
    (
        LastNameTrunc::parse(name).unwrap(),
        PhoneTrunc::parse(phone).unwrap(),
    )
}

/// Who a registration or a simulation is about: indexes into small pools.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Who {
    identity: Option<u8>,
    licence: Option<u8>,
    name_phone: u8,
}

impl Who {
    fn person(&self) -> Person {
        let (name, phone) = name_phone(self.name_phone);
        Person::new(
            SECRET,
            self.identity.map(identity_key).as_ref(),
            self.licence.map(licence).as_ref(),
            &name,
            &phone,
        )
    }
}

#[derive(Clone, Debug)]
enum Op {
    /// `journey`: short registrations name one of the operator's journeys (its date is
    /// fixed), so the same journey can be registered twice.
    Register {
        who: Who,
        journey_type: JourneyType,
        operator: u8,
        journey: u8,
        date: DateTime<Utc>,
    },
    Delete {
        which: Index,
        owner: bool,
    },
    Import {
        name_phone: u8,
        journey_type: JourneyType,
        operator: u8,
        date: DateTime<Utc>,
    },
    AttachIdentity {
        which: Index,
        identity: u8,
        same_date: bool,
    },
    Simulate {
        who: Who,
        journey_type: JourneyType,
        date: DateTime<Utc>,
    },
}

/// Dates over 2008–2027, often a whole number of years from 2025-06-15T10:00Z (± 1 s).
fn history_date() -> impl Strategy<Value = DateTime<Utc>> {
    let anchor = at("2025-06-15T10:00:00Z");
    prop_oneof![
        (0i32..=17, prop_oneof![Just(0i64), Just(-1), Just(1)])
            .prop_map(move |(n, s)| years_before(anchor, n) + TimeDelta::seconds(s)),
        (1_199_145_600i64..1_798_761_600).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap()),
        Just(floor(JourneyType::Short)),
        Just(floor(JourneyType::Short) - TimeDelta::seconds(1)),
        Just(floor(JourneyType::Long) - TimeDelta::seconds(1)),
    ]
}

fn who(registered: bool) -> impl Strategy<Value = Who> {
    // Registrations always carry an identity key and a licence; simulations may not.
    let some = |n: u8| (0..n).prop_map(Some);
    let maybe = move |n: u8| {
        if registered {
            some(n).boxed()
        } else {
            prop_oneof![Just(None), some(n)].boxed()
        }
    };
    (maybe(3), maybe(3), 0..3u8).prop_map(|(identity, licence, name_phone)| Who {
        identity,
        licence,
        name_phone,
    })
}

fn op(journey_dates: Vec<DateTime<Utc>>) -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (who(true), journey_type(), 1..=2u8, 0..3u8, history_date()).prop_map(
            move |(who, journey_type, operator, journey, date)| {
                let date = match journey_type {
                    JourneyType::Short => journey_dates[usize::from(journey)],
                    JourneyType::Long => date,
                };
                Op::Register { who, journey_type, operator, journey, date }
            }
        ),
        1 => (any::<Index>(), any::<bool>()).prop_map(|(which, owner)| Op::Delete { which, owner }),
        2 => (0..3u8, journey_type(), 1..=2u8, history_date()).prop_map(
            |(name_phone, journey_type, operator, date)| Op::Import { name_phone, journey_type, operator, date }
        ),
        1 => (any::<Index>(), 0..3u8, prop::bool::weighted(0.8)).prop_map(
            |(which, identity, same_date)| Op::AttachIdentity { which, identity, same_date }
        ),
        3 => (who(false), journey_type(), history_date()).prop_map(
            |(who, journey_type, date)| Op::Simulate { who, journey_type, date }
        ),
    ]
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(history_date(), 3)
        .prop_flat_map(|dates| prop::collection::vec(op(dates), 1..30))
}

/// What cee.md says the history holds.
#[derive(Default)]
struct Model {
    applications: Vec<Application>,
    imports: Vec<Imported>,
}

#[derive(Clone, Debug)]
struct Application {
    uuid: String,
    operator: u8,
    journey_type: JourneyType,
    datetime: DateTime<Utc>,
    identity: u8,
    licence: u8,
    live: bool,
}

#[derive(Clone, Debug)]
struct Imported {
    operator: u8,
    journey_type: JourneyType,
    name_phone: u8,
    datetime: DateTime<Utc>,
    identity: Option<u8>,
}

impl Model {
    /// Records of `journey_type` that are the person's (cee.md: same identity key, same
    /// licence, or same name and phone when the earlier record has no identity key).
    fn records(&self, who: &Who, journey_type: JourneyType) -> Vec<(RecordKind, DateTime<Utc>)> {
        let standardized = self
            .applications
            .iter()
            .filter(|a| a.live && a.journey_type == journey_type)
            .filter(|a| who.identity == Some(a.identity) || who.licence == Some(a.licence))
            .map(|a| (RecordKind::Standardized, a.datetime));
        let imported = self
            .imports
            .iter()
            .filter(|i| i.journey_type == journey_type)
            .filter(|i| match i.identity {
                Some(id) => who.identity == Some(id),
                None => who.name_phone == i.name_phone,
            })
            .map(|i| (RecordKind::Specific, i.datetime));
        standardized.chain(imported).collect()
    }

    fn named(
        &self,
        who: &Who,
        journey_type: JourneyType,
        date: DateTime<Utc>,
    ) -> Option<(RecordKind, DateTime<Utc>)> {
        spec_named(&self.records(who, journey_type), journey_type, date)
    }
}

fn app() -> App {
    let config = crate::config::Config {
        hash_secret: SECRET.into(),
        ..Default::default()
    };
    App::new(
        Arc::new(MemoryStore::new()),
        Arc::new(MemoryQueue::new(5)),
        config,
    )
    .with_clock(Arc::new(FixedClock::new(at("2027-06-01T00:00:00Z"))))
}

async fn everything(app: &App) -> Vec<Item> {
    let page = app
        .store
        .scan(Scan {
            segment: 0,
            total_segments: 1,
            limit: 100_000,
            cursor: None,
        })
        .await
        .unwrap();
    assert!(page.next.is_none());
    page.items
}

async fn simulate(
    app: &App,
    who: &Who,
    journey_type: JourneyType,
    date: DateTime<Utc>,
) -> Option<(RecordKind, DateTime<Utc>)> {
    let records = history::read(app, journey_type, &who.person())
        .await
        .unwrap()
        .records();
    first_blocking(&records, journey_type, date).map(|r| (r.kind, r.datetime))
}

fn short_uuid(operator: u8, journey: u8) -> String {
    format!("00000000-0000-4000-8000-0000000{operator:02}{journey:03}")
}

async fn run_history(ops: Vec<Op>) -> Result<(), TestCaseError> {
    // Time moves between operations, as it does between requests. (With a frozen clock a
    // second deletion of a re-registered short application would collide with the first
    // one's archive key, `CEE#DELETED#<op>#<deleted_at>#<uuid>`, and answer 503.)
    let clock = Arc::new(FixedClock::new(at("2027-06-01T00:00:00Z")));
    let app = app().with_clock(clock.clone());
    let mut model = Model::default();
    let mut long_uuids = 0u32;
    for (step, op) in ops.into_iter().enumerate() {
        clock.advance(TimeDelta::milliseconds(1));
        match op {
            Op::Register {
                who,
                journey_type,
                operator,
                journey,
                date,
            } => {
                let uuid = match journey_type {
                    JourneyType::Short => short_uuid(operator, journey),
                    JourneyType::Long => {
                        long_uuids += 1;
                        format!("00000000-0000-4000-9000-{long_uuids:012}")
                    }
                };
                let simulated = simulate(&app, &who, journey_type, date).await;
                let new = NewApplication {
                    uuid: uuid.clone(),
                    operator: OperatorId(operator.into()),
                    journey_type,
                    datetime: date,
                    journey_id: (journey_type == JourneyType::Short).then(|| format!("j{journey}")),
                    token: "token".into(),
                    kid: None,
                    application_timestamp: date,
                    person: who.person(),
                };
                let outcome = history::register(&app, &new).await.unwrap();
                let same_journey = model
                    .applications
                    .iter()
                    .find(|a| a.live && a.uuid == uuid)
                    .cloned();
                let expected = match (model.named(&who, journey_type, date), &same_journey) {
                    (Some(named), _) => Some(named),
                    (None, Some(a)) => Some((RecordKind::Standardized, a.datetime)),
                    (None, None) => None,
                };
                let got = match &outcome {
                    Outcome::Created => None,
                    Outcome::Conflict(r) => Some((r.kind, r.datetime)),
                    Outcome::Busy => return Err(TestCaseError::fail("busy without concurrency")),
                };
                prop_assert_eq!(
                    got,
                    expected,
                    "step {}: register {:?} {:?} {}",
                    step,
                    who,
                    journey_type,
                    date
                );
                // Simulate (the same search) agrees with register, except for a second
                // application of the same journey, which only its key refuses.
                if same_journey.is_none() {
                    prop_assert_eq!(
                        simulated,
                        got,
                        "step {}: simulate disagrees with register",
                        step
                    );
                }
                if outcome == Outcome::Created {
                    model.applications.push(Application {
                        uuid,
                        operator,
                        journey_type,
                        datetime: date,
                        identity: who.identity.unwrap(),
                        licence: who.licence.unwrap(),
                        live: true,
                    });
                }
            }
            Op::Delete { which, owner } => {
                if model.applications.is_empty() {
                    continue;
                }
                let i = which.index(model.applications.len());
                let a = model.applications[i].clone();
                let caller = if owner { a.operator } else { 3 - a.operator };
                let deleted = history::delete(&app, OperatorId(caller.into()), &a.uuid)
                    .await
                    .unwrap();
                // A short application deleted then registered again has the same uuid.
                let live = model
                    .applications
                    .iter()
                    .position(|x| x.live && x.uuid == a.uuid);
                prop_assert_eq!(deleted, live.is_some() && owner, "step {}: delete", step);
                if let (true, Some(j)) = (deleted, live) {
                    model.applications[j].live = false;
                }
            }
            Op::Import {
                name_phone: np,
                journey_type,
                operator,
                date,
            } => {
                let (last_name, phone) = name_phone(np);
                let item = Specific {
                    journey_type,
                    last_name,
                    phone,
                    datetime: date,
                };
                let result = imports::import(&app, OperatorId(operator.into()), &[item])
                    .await
                    .unwrap();
                let repeat = model.imports.iter().any(|i| {
                    i.operator == operator && i.journey_type == journey_type && i.name_phone == np
                });
                let expected = if repeat {
                    Err(ItemError::Conflict)
                } else {
                    Ok(())
                };
                prop_assert_eq!(result, vec![expected], "step {}: import", step);
                if !repeat {
                    model.imports.push(Imported {
                        operator,
                        journey_type,
                        name_phone: np,
                        datetime: date,
                        identity: None,
                    });
                }
            }
            Op::AttachIdentity {
                which,
                identity,
                same_date,
            } => {
                if model.imports.is_empty() {
                    continue;
                }
                let i = which.index(model.imports.len());
                let target = model.imports[i].clone();
                let (last_name, phone) = name_phone(target.name_phone);
                let datetime = if same_date {
                    target.datetime
                } else {
                    target.datetime + TimeDelta::seconds(1)
                };
                let item = IdentityItem {
                    target: IdentityTarget::Specific(Specific {
                        journey_type: target.journey_type,
                        last_name,
                        phone,
                        datetime,
                    }),
                    identity: identity_key(identity),
                };
                let result =
                    imports::attach_identities(&app, OperatorId(target.operator.into()), &[item])
                        .await
                        .unwrap();
                let expected = match (same_date, target.identity) {
                    (false, _) => Err(ItemError::NotFound),
                    (true, None) => Ok(()),
                    (true, Some(id)) if id == identity => Ok(()),
                    (true, Some(_)) => Err(ItemError::AlreadySet),
                };
                prop_assert_eq!(result, vec![expected], "step {}: attach identity", step);
                if expected.is_ok() {
                    model.imports[i].identity = Some(identity);
                }
            }
            Op::Simulate {
                who,
                journey_type,
                date,
            } => {
                let before = everything(&app).await;
                let got = simulate(&app, &who, journey_type, date).await;
                prop_assert_eq!(
                    got,
                    model.named(&who, journey_type, date),
                    "step {}: simulate {:?}",
                    step,
                    who
                );
                prop_assert!(everything(&app).await == before, "simulate wrote something");
            }
        }
    }
    Ok(())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Any sequence of operations gives the outcomes the model of cee.md predicts.
#[test]
fn the_history_follows_the_spec() {
    let rt = runtime();
    let mut runner = TestRunner::new(Config::with_cases(400));
    runner
        .run(&ops(), |ops| rt.block_on(run_history(ops)))
        .unwrap();
}

/// Two registrations of one person (sharing an identity key, a licence, or both): the
/// first is created; the second is refused iff the first is dated within its look-back or
/// after it. So within the look-back exactly one wins in either order, even when the
/// second is dated before the first; further apart, only the later one registered first
/// blocks the other (cee.md: "records dated after the new one also block").
#[test]
fn of_two_registrations_of_one_person_exactly_one_wins_in_either_order() {
    let rt = runtime();
    let mut runner = TestRunner::new(Config::with_cases(200));
    let strategy = (journey_type(), history_date(), history_date(), 0..3u8);
    runner
        .run(&strategy, |(jt, a, b, shared)| {
            rt.block_on(async {
                let blocks_b = spec_blocks(RecordKind::Standardized, a, jt, b);
                let blocks_a = spec_blocks(RecordKind::Standardized, b, jt, a);
                // Same identity key, same licence, or both (never the name: it is not
                // compared for applications that carry an identity key).
                let first = Who {
                    identity: Some(0),
                    licence: Some(0),
                    name_phone: 0,
                };
                let second = Who {
                    identity: Some(if shared == 1 { 1 } else { 0 }),
                    licence: Some(if shared == 2 { 1 } else { 0 }),
                    name_phone: 1,
                };
                let mut created = Vec::new();
                for order in [[(first, a), (second, b)], [(second, b), (first, a)]] {
                    let app = app();
                    let mut n = 0u8;
                    for (i, (who, date)) in order.into_iter().enumerate() {
                        let new = NewApplication {
                            uuid: format!("00000000-0000-4000-9000-{i:012}"),
                            operator: OperatorId(1 + i as u64),
                            journey_type: jt,
                            datetime: date,
                            journey_id: None,
                            token: "t".into(),
                            kid: None,
                            application_timestamp: date,
                            person: who.person(),
                        };
                        if history::register(&app, &new).await.unwrap() == Outcome::Created {
                            n += 1;
                        }
                    }
                    created.push(n);
                }
                let expected = vec![1 + u8::from(!blocks_b), 1 + u8::from(!blocks_a)];
                prop_assert_eq!(&created, &expected, "{:?} {} {}", jt, a, b);
                if blocks_a && blocks_b {
                    prop_assert_eq!(created, vec![1, 1]);
                }
                Ok(())
            })
        })
        .unwrap();
}

// ---------------------------------------------------------------------------------------
// Through `POST /v2/policies/cee`: the date checks of a long registration.

mod register {
    use bytes::Bytes;
    use serde_json::{json, Value};

    use super::*;
    use crate::admin;

    /// A reception time and dates next to every boundary of the checks.
    fn case() -> impl Strategy<Value = (DateTime<Utc>, DateTime<Utc>, DateTime<Utc>)> {
        let window = Campaign::default();
        (
            prop_oneof![
                Just(at("2026-12-01T00:00:00Z")),
                Just(at("2027-03-01T00:00:00Z")),
                Just(at("2023-01-05T12:00:00Z")),
            ],
            prop_oneof![Just(-1i64), Just(0), Just(1), -3_000_000i64..3_000_000],
            0..3u8,
            prop_oneof![Just(-1i64), Just(0), Just(1), -1_000_000i64..1_000_000],
        )
            .prop_map(move |(now, nudge, anchor, ts_nudge)| {
                let base = match anchor {
                    0 => window.start,
                    1 => window.end,
                    _ => now - window.delay,
                };
                (
                    now,
                    base + TimeDelta::seconds(nudge),
                    now + TimeDelta::seconds(ts_nudge),
                )
            })
    }

    #[test]
    fn long_registrations_are_refused_exactly_at_the_date_boundaries() {
        let rt = runtime();
        let mut runner = TestRunner::new(Config::with_cases(48));
        let people = std::sync::atomic::AtomicU32::new(0);
        runner
            .run(&case(), |(now, datetime, timestamp)| {
                rt.block_on(async {
                    let config = crate::config::Config {
                        signing_key: Some(crate::domain::cee::signature::test_signer()),
                        ..Default::default()
                    };
                    let app = App::new(
                        Arc::new(MemoryStore::new()),
                        Arc::new(MemoryQueue::new(5)),
                        config,
                    )
                    .with_clock(Arc::new(FixedClock::new(now)));
                    let (op, created) =
                        admin::operator_with_token(&app, "op", Some("89248032800012".into()))
                            .await
                            .unwrap();
                    let token = created.token;
                    // A new person each time: only the dates decide.
                    let n = people.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let body = json!({
                        "journey_type": "long",
                        "driving_license": format!("{n:012}"),
                        "last_name_trunc": "DUP",
                        "identity_key": format!("{n:064x}"),
                        "phone_trunc": "+336123456",
                        "datetime": datetime.to_rfc3339(),
                        "application_timestamp": timestamp.to_rfc3339(),
                    });
                    let request = http::Request::builder()
                        .method("POST")
                        .uri("/v2/policies/cee")
                        .header("authorization", format!("Bearer {token}"))
                        .body(Bytes::from(body.to_string()))
                        .unwrap();
                    let response = crate::api::handle(&app, request, None, None).await;
                    let window = Campaign::default();
                    // cee.md, in the order the checks are made: the application timestamp
                    // in the past, then the operation strictly inside the window, then J+7.
                    let inside = window.start < datetime && datetime < window.end;
                    let refused_at = if timestamp > now {
                        Some("/application_timestamp")
                    } else if !inside || datetime + TimeDelta::days(7) > now {
                        Some("/datetime")
                    } else {
                        None
                    };
                    let answer: Value = serde_json::from_slice(response.body()).unwrap_or_default();
                    match refused_at {
                        None => {
                            prop_assert_eq!(response.status(), 201, "{}", answer);
                            prop_assert_eq!(answer["datetime"].as_str().map(at), Some(datetime));
                        }
                        Some(path) => {
                            prop_assert_eq!(response.status(), 400, "{} {}", datetime, answer);
                            prop_assert_eq!(&answer["error"]["details"][0]["path"], &json!(path));
                            let logged =
                                crate::cee::errorlog::latest(&app, op.id, 1).await.unwrap();
                            prop_assert_eq!(logged.first().map(|e| e.kind.as_str()), Some("date"));
                        }
                    }
                    Ok(())
                })
            })
            .unwrap();
    }
}
