//! Re-keying after a rotation of the hash secret (docs/OPERATIONS.md, "Rotate the hash
//! secret"): the identity keys of stored journeys (`passenger_key`, `driver_key`) are
//! recomputed from their stored documents with `REGISTRY_HASH_SECRET`, and everything keyed
//! by them moves along: the journey's fraud evidence items, its certificate trip-index
//! entries, the `person_key` of its draft incentives and what those drafts counted in the
//! per-person draft counters.
//!
//! A scan of the table by segments; each journey on its own, in one transaction when it
//! fits (the usual case). The journey's keys change last, in that transaction, so a journey
//! still under its old keys has work left and one under the new keys is done: a rerun after
//! a crash finishes the work, and skips a done journey without a read beyond the scan. Only journeys
//! keyed under `REGISTRY_HASH_SECRET_PREVIOUS` are changed: keys matching neither secret
//! are counted and left alone (a wrong secret in the environment must not rewrite them).

use std::collections::BTreeMap;

use serde::Serialize;

use super::scan::each_journey;
use crate::app::App;
use crate::campaigns::drafts::{self, DRAFT};
use crate::domain::identity::identity_key;
use crate::domain::journey::JourneyStatus;
use crate::domain::journey_v2::Journey;
use crate::domain::operator::OperatorId;
use crate::jobs::fraud::evidence;
use crate::records::draft::{Draft, DraftCounter};
use crate::records::journey::{JourneyRecord, Side};
use crate::records::processing::KeyMove;
use crate::store::{
    Condition, Item, Key, StoreError, StoreResult, WriteOp, MAX_TRANSACTION_WRITES,
};

/// Attempts on one journey that keeps changing under the job (processing, cancellation,
/// fraud pass); the next run picks it up.
const ATTEMPTS: usize = 5;

/// What a run did, summed over its segments.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Journey items read.
    pub journeys: u64,
    /// Journeys moved from the previous secret's keys to the current one's.
    pub rekeyed: u64,
    /// Journeys already under the current secret (nothing written).
    pub current: u64,
    /// Journeys still `pending`: processing writes their evidence and drafts from the keys
    /// it reads; a rerun once they are processed re-keys them.
    pub pending: u64,
    /// Journeys whose stored keys match neither secret: left as they are.
    pub unknown_secret: u64,
    /// Journeys whose stored document cannot be read (logged): left as they are.
    pub unreadable: u64,
    /// Journeys that kept changing during the run: left for the next run.
    pub busy: u64,
    pub evidence_moved: u64,
    pub trip_entries_moved: u64,
    pub drafts_rekeyed: u64,
    /// Counter contributions (one draft, one counter) moved to the new person's counter.
    pub counters_moved: u64,
    /// Drafts too big to move with their counters in one transaction: their `person_key`
    /// changed, their counts stay in the old person's counters (the monthly run recomputes
    /// caps from the drafts).
    pub counters_kept: u64,
}

impl Report {
    fn add(&mut self, o: &Report) {
        self.journeys += o.journeys;
        self.rekeyed += o.rekeyed;
        self.current += o.current;
        self.pending += o.pending;
        self.unknown_secret += o.unknown_secret;
        self.unreadable += o.unreadable;
        self.busy += o.busy;
        self.evidence_moved += o.evidence_moved;
        self.trip_entries_moved += o.trip_entries_moved;
        self.drafts_rekeyed += o.drafts_rekeyed;
        self.counters_moved += o.counters_moved;
        self.counters_kept += o.counters_kept;
    }

    /// Journeys left under an old key by this run (a rerun is due once `pending` ones are
    /// processed; `busy` ones on the next run).
    pub fn left(&self) -> u64 {
        self.pending + self.busy
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RekeyError {
    #[error("REGISTRY_HASH_SECRET_PREVIOUS is not set: nothing to re-key from")]
    NoPreviousSecret,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Re-keys every journey of the table: `segments` scan segments, `parallel` at a time.
pub async fn run(app: &App, segments: u32, parallel: usize) -> Result<Report, RekeyError> {
    let previous = app
        .config
        .hash_secret_previous
        .as_deref()
        .ok_or(RekeyError::NoPreviousSecret)?;
    let reports = each_journey(
        app,
        segments,
        parallel,
        async |item, report: &mut Report| {
            report.journeys += 1;
            rekey_journey(app, previous, item, report).await
        },
    )
    .await?;
    let mut total = Report::default();
    for r in &reports {
        total.add(r);
    }
    Ok(total)
}

/// The keys of a journey under one secret, by role (as acceptance computes them).
fn keys_under(secret: &str, operator: OperatorId, journey: &Journey) -> [String; 2] {
    [
        identity_key(secret, operator, &journey.passenger.person.identity),
        identity_key(secret, operator, &journey.driver.person.identity),
    ]
}

/// The identity keys stored on a journey, by role (passenger, driver).
fn stored_keys(journey: &JourneyRecord) -> [&str; 2] {
    Side::BOTH.map(|side| journey.party(side).key.as_deref().unwrap_or_default())
}

async fn rekey_journey(
    app: &App,
    previous: &str,
    scanned: &Item,
    report: &mut Report,
) -> StoreResult<()> {
    let scanned = JourneyRecord::from_item(scanned);
    let Some(operator) = scanned.operator else {
        tracing::error!(pk = %scanned.key.pk, "journey without operator_id; not re-keyed");
        report.unreadable += 1;
        return Ok(());
    };
    let Some(parsed) = scanned.parsed() else {
        tracing::error!(pk = %scanned.key.pk, "stored document not readable; not re-keyed");
        report.unreadable += 1;
        return Ok(());
    };
    let current = keys_under(&app.config.hash_secret, operator, &parsed);
    // Done already (or accepted after the switch): no read, no write.
    if stored_keys(&scanned) == current.each_ref().map(String::as_str) {
        report.current += 1;
        return Ok(());
    }
    let old = keys_under(previous, operator, &parsed);
    for _ in 0..ATTEMPTS {
        // Strongly consistent: the scan may be stale.
        let Some((item, drafts)) = drafts::journey_with_drafts(app, &scanned.key).await? else {
            return Ok(());
        };
        let item = JourneyRecord::from_item(&item);
        let stored = stored_keys(&item).map(str::to_owned);
        if stored == current {
            report.current += 1;
            return Ok(());
        }
        if item.is(JourneyStatus::Pending) {
            report.pending += 1;
            return Ok(());
        }
        let mut moves = Vec::new();
        for (i, side) in Side::BOTH.into_iter().enumerate() {
            if stored[i] == current[i] {
                continue;
            }
            if stored[i] != old[i] {
                report.unknown_secret += 1;
                return Ok(());
            }
            moves.push(KeyMove {
                side,
                old: stored[i].clone(),
                new: current[i].clone(),
            });
        }
        let mut done = Report::default();
        match write(app, operator, &item, &drafts, &moves, &mut done).await {
            Ok(()) => {
                done.rekeyed = 1;
                report.add(&done);
                return Ok(());
            }
            // Changed meanwhile: read again (drafts already moved are not moved again).
            Err(StoreError::TransactionCanceled { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    tracing::warn!(pk = %scanned.key.pk, "journey kept changing during the re-keying; left for the next run");
    report.busy += 1;
    Ok(())
}

/// A draft's new `person_key` and, when it still counts, its counts moved from the old
/// person's counters to the new person's.
struct DraftMove {
    update: WriteOp,
    counters: BTreeMap<Key, (i64, i64)>,
}

fn draft_move(draft: &Item, moves: &[KeyMove]) -> Option<DraftMove> {
    let d = Draft::from_item(draft)?;
    let m = moves.iter().find(|m| m.side.name() == d.role)?;
    if d.person_key != m.old {
        // Moved already, or not this person (no key: a campaign-wide draft).
        return None;
    }
    let Some(counted) = d.counted else {
        // Written by processing, so always readable; if not, its counts stay where they are.
        tracing::error!(sk = %draft.key.sk, "unreadable counted of a draft; counters not moved");
        return Some(DraftMove {
            update: without_counters(draft, moves)?,
            counters: BTreeMap::new(),
        });
    };
    let counts = d.status == DRAFT;
    let mut counters = BTreeMap::new();
    let mut rewritten = Vec::with_capacity(counted.len());
    for (pk, sk, trips, amount) in counted {
        // Per-person counters hold the key in their partition (`CTR#<campaign>#<holder>`);
        // campaign-wide ones (`*`) stay.
        let new_pk = pk.replace(&m.old, &m.new);
        if new_pk != pk && counts {
            let old = counters.entry(Key::new(pk, sk.clone())).or_insert((0, 0));
            old.0 -= trips;
            old.1 -= amount;
            let new = counters
                .entry(Key::new(new_pk.clone(), sk.clone()))
                .or_insert((0, 0));
            new.0 += trips;
            new.1 += amount;
        }
        rewritten.push((new_pk, sk, trips, amount));
    }
    let (update, condition) = Draft::rekey(&m.old, &m.new, Some(&rewritten));
    let update = WriteOp::Update {
        key: draft.key.clone(),
        update,
        condition: Some(condition),
    };
    Some(DraftMove { update, counters })
}

/// The same draft keeping its counts where they are (too many counters to move at once).
fn without_counters(draft: &Item, moves: &[KeyMove]) -> Option<WriteOp> {
    let d = Draft::from_item(draft)?;
    let m = moves.iter().find(|m| m.side.name() == d.role)?;
    let (update, condition) = Draft::rekey(&m.old, &m.new, None);
    Some(WriteOp::Update {
        key: draft.key.clone(),
        update,
        condition: Some(condition),
    })
}

fn counter_ops(counters: &BTreeMap<Key, (i64, i64)>) -> Vec<WriteOp> {
    counters
        .iter()
        .filter(|(_, (t, a))| *t != 0 || *a != 0)
        .map(|(key, (trips, amount))| WriteOp::Update {
            key: key.clone(),
            update: DraftCounter::add(*trips, *amount),
            condition: None,
        })
        .collect()
}

/// Moves of items keyed by the identity keys: `Delete` old + `Put` new with the same
/// attributes, for each of `old` that exists.
async fn moved_items(app: &App, pairs: Vec<(Key, Key)>) -> StoreResult<Vec<WriteOp>> {
    let olds: Vec<Key> = pairs.iter().map(|(o, _)| o.clone()).collect();
    let found = app.store.get_many(&olds).await?;
    let mut ops = Vec::new();
    for ((_, new), item) in pairs.into_iter().zip(found) {
        let Some(item) = item else { continue };
        ops.push(WriteOp::Delete {
            key: item.key.clone(),
            condition: Some(Condition::Exists),
        });
        ops.push(WriteOp::Put {
            item: Item {
                key: new,
                attrs: item.attrs,
            },
            condition: None,
        });
    }
    Ok(ops)
}

async fn write(
    app: &App,
    operator: OperatorId,
    item: &JourneyRecord,
    drafts: &[Item],
    moves: &[KeyMove],
    done: &mut Report,
) -> StoreResult<()> {
    let new_item = item.rekeyed(moves);
    // Evidence and trip-index keys, old and new, for the roles that move (a role whose key
    // stays derives the same key twice: left out).
    let evidence_pairs: Vec<(Key, Key)> = evidence::keys_of(item)
        .into_iter()
        .zip(evidence::keys_of(&new_item))
        .filter(|(o, n)| o != n)
        .collect();
    let trip_pairs: Vec<(Key, Key)> = crate::records::certificate::index_keys(operator, item)
        .into_iter()
        .zip(crate::records::certificate::index_keys(operator, &new_item))
        .map(|((_, o), (_, n))| (o, n))
        .filter(|(o, n)| o != n)
        .collect();
    let evidence_ops = dedup(moved_items(app, evidence_pairs).await?);
    let trip_ops = moved_items(app, trip_pairs).await?;
    let draft_moves: Vec<(&Item, DraftMove)> = drafts
        .iter()
        .filter_map(|d| Some((d, draft_move(d, moves)?)))
        .collect();

    let mut rev = item.incentive_rev;
    let fixed = 1 + evidence_ops.len() + trip_ops.len();
    let mut all_counters: BTreeMap<Key, (i64, i64)> = BTreeMap::new();
    for (_, m) in &draft_moves {
        for (k, (t, a)) in &m.counters {
            let c = all_counters.entry(k.clone()).or_insert((0, 0));
            c.0 += t;
            c.1 += a;
        }
    }
    let together = fixed + draft_moves.len() + counter_ops(&all_counters).len();
    let mut final_ops = Vec::new();
    if together <= MAX_TRANSACTION_WRITES {
        // The usual case: everything in one transaction.
        for (_, m) in &draft_moves {
            final_ops.push(m.update.clone());
            done.counters_moved += count_contributions(&m.counters);
        }
        final_ops.extend(counter_ops(&all_counters));
    } else {
        // Many drafts: each draft (with its counters when they fit) in a transaction of its
        // own that also bumps the journey's revision, before the journey's keys change.
        for (draft, m) in &draft_moves {
            let counters = counter_ops(&m.counters);
            let mut ops = vec![item.rekey_write(rev, moves, false)];
            if 2 + counters.len() <= MAX_TRANSACTION_WRITES {
                ops.push(m.update.clone());
                ops.extend(counters);
                done.counters_moved += count_contributions(&m.counters);
            } else if let Some(update) = without_counters(draft, moves) {
                ops.push(update);
                done.counters_kept += 1;
            }
            app.store.transact(ops).await?;
            rev = Some(rev.unwrap_or(0) + 1);
        }
    }
    done.drafts_rekeyed = draft_moves.len() as u64;
    done.evidence_moved = (evidence_ops.len() / 2) as u64;
    done.trip_entries_moved = (trip_ops.len() / 2) as u64;
    let mut ops = vec![item.rekey_write(rev, moves, true)];
    ops.extend(evidence_ops);
    ops.extend(trip_ops);
    ops.extend(final_ops);
    app.store.transact(ops).await
}

/// Counter contributions a draft move carries (each contribution = one old + one new).
fn count_contributions(counters: &BTreeMap<Key, (i64, i64)>) -> u64 {
    (counters.len() / 2) as u64
}

/// A person who is both driver and passenger of one journey starting at one instant has
/// one evidence key for both roles: it moves once.
fn dedup(ops: Vec<WriteOp>) -> Vec<WriteOp> {
    let mut seen = std::collections::BTreeSet::new();
    ops.into_iter()
        .filter(|op| seen.insert((op.key().clone(), matches!(op, WriteOp::Delete { .. }))))
        .collect()
}
