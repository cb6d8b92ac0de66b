//! What is written on and around a journey item after its acceptance, written once:
//!
//! * processing: its evidence items and (`ok`) trip-index entries, as plain puts
//!   ([`JourneyRecord::processing_writes`]), then its status ([`JourneyRecord::processed`]);
//! * a cancellation, or a processing that lost the race with one: the same items taken
//!   back ([`JourneyRecord::take_back`]), the journey canceled ([`JourneyRecord::cancel`]);
//! * the sweeper's count of re-enqueues, the fraud pass's labels.

use super::certificate;
use super::evidence;
use super::item::{Condition, Update, WriteOp};
use super::journey::{
    JourneyRecord, PendingEntry, Side, ANOMALY_LABELS, CANCELED_AT, CANCEL_CODE, CANCEL_MESSAGE,
    END_COUNTRY, FRAUD_LABELS, INCENTIVE_REV, PROCESSINGS, START_COUNTRY, STATUS, SWEEPS,
    UPDATED_AT,
};
use crate::domain::facts::Facts;
use crate::domain::fraud::{labels_json, Labels};
use crate::domain::journey::{CancelReason, JourneyStatus};
use crate::domain::operator::OperatorId;

/// What processing found for a pending journey.
#[derive(Clone, Debug, PartialEq)]
pub struct Processed<'a> {
    /// `ok` or `anomaly_error`.
    pub status: JourneyStatus,
    pub start_country: &'a str,
    pub end_country: &'a str,
    pub anomaly_labels: &'a [&'a str],
}

/// A change of a journey's fraud labels by the fraud pass.
#[derive(Clone, Debug, PartialEq)]
pub struct Relabel {
    pub write: WriteOp,
    pub from: JourneyStatus,
    pub to: JourneyStatus,
}

impl JourneyRecord {
    /// The condition of every write that only a `pending` journey takes.
    pub fn only_if_pending() -> Condition {
        Condition::equals(STATUS, JourneyStatus::Pending.as_str())
    }

    /// Its people become evidence for the fraud pass and, `ok`, it enters the trip index of
    /// both (certificates): the puts processing makes before it sets `status`. Idempotent,
    /// and taken back by [`JourneyRecord::take_back`].
    pub fn processing_writes(
        &self,
        operator: OperatorId,
        facts: &Facts,
        status: JourneyStatus,
    ) -> Vec<WriteOp> {
        let mut ops: Vec<WriteOp> = evidence::items_for(self, facts)
            .into_iter()
            .map(|item| WriteOp::Put {
                item,
                condition: None,
            })
            .collect();
        if status == JourneyStatus::Ok {
            ops.extend(certificate::list(operator, self, facts));
        }
        ops
    }

    /// Takes the journey's evidence and trip-index entries away, whether they were written
    /// or not (deleting an absent item is no error): after a cancellation, in its
    /// transaction or by the processing that lost the race with it.
    pub fn take_back(&self, operator: OperatorId) -> Vec<WriteOp> {
        let mut ops: Vec<WriteOp> = evidence::keys_of(self)
            .into_iter()
            .map(|key| WriteOp::Delete {
                key,
                condition: None,
            })
            .collect();
        ops.extend(certificate::unlist(operator, self));
        ops
    }

    /// Processing's last write: the status and what was found, out of the pending index;
    /// to apply under [`JourneyRecord::only_if_pending`].
    pub fn processed(found: &Processed, now: String) -> Update {
        let update = Update::new()
            .set(STATUS, found.status.as_str())
            .set(START_COUNTRY, found.start_country)
            .set(END_COUNTRY, found.end_country)
            .set(
                ANOMALY_LABELS,
                serde_json::to_string(found.anomaly_labels).unwrap_or_else(|_| "[]".into()),
            )
            .set(UPDATED_AT, now)
            // Counts the processings that took effect: the condition keeps it at 1, which
            // the crash and redelivery tests check.
            .add(PROCESSINGS, 1);
        PendingEntry::leave(update)
    }

    /// The cancellation of this journey as read: conditioned on its status, its draft
    /// revision and its not being canceled already, so that processing or drafts written
    /// since the read make it fail (and the whole is read again).
    pub fn cancel(&self, reason: &CancelReason, now: &str) -> WriteOp {
        let mut update = Update::new()
            .set(STATUS, JourneyStatus::Canceled.as_str())
            .set(CANCELED_AT, now.to_owned())
            .set(UPDATED_AT, now.to_owned());
        // Out of the pending index: never processed, never swept.
        update = PendingEntry::leave(update);
        if let Some(code) = &reason.code {
            update = update.set(CANCEL_CODE, code.clone());
        }
        if let Some(message) = &reason.message {
            update = update.set(CANCEL_MESSAGE, message.clone());
        }
        let rev = match self.incentive_rev {
            Some(rev) => Condition::equals(INCENTIVE_REV, rev),
            None => Condition::AttrMissing(INCENTIVE_REV.into()),
        };
        WriteOp::Update {
            key: self.key.clone(),
            update,
            condition: Some(Condition::All(vec![
                Condition::Exists,
                Condition::AttrMissing(CANCELED_AT.into()),
                Condition::equals(STATUS, self.status_str()),
                rev,
            ])),
        }
    }

    /// The sweeper's count of re-enqueues; to apply under [`JourneyRecord::only_if_pending`].
    pub fn swept() -> Update {
        Update::new().add(SWEEPS, 1)
    }

    /// The fraud pass's write of one person's `labels` on this journey as read: that
    /// person's labels, the union with the other's, and the status that follows. `None`
    /// when the journey is not for the pass to judge (canceled, pending, unreadable).
    pub fn relabel(&self, side: Side, labels: &Labels, now: String) -> Option<Relabel> {
        let status = self.status?;
        // Canceled: its evidence no longer counts. Pending: processing writes the evidence
        // just before the status, and would overwrite a status set here; the next pass
        // writes these labels.
        if matches!(status, JourneyStatus::Canceled | JourneyStatus::Pending) {
            return None;
        }
        let other = match side {
            Side::Passenger => Side::Driver,
            Side::Driver => Side::Passenger,
        };
        let (mine, theirs) = (self.party(side), self.party(other));
        let union: Labels = labels
            .iter()
            .copied()
            .chain(
                theirs
                    .fraud_labels
                    .as_deref()
                    .map(crate::domain::fraud::parse_labels)
                    .unwrap_or_default(),
            )
            .collect();
        let to = match (status, union.is_empty()) {
            (JourneyStatus::Ok, false) => JourneyStatus::FraudError,
            (JourneyStatus::FraudError, true) => JourneyStatus::Ok,
            (s, _) => s,
        };
        let (mine_attr, theirs_attr) = (side.attr(FRAUD_LABELS), other.attr(FRAUD_LABELS));
        let update = Update::new()
            .set(&mine_attr, labels_json(labels))
            .set(FRAUD_LABELS, labels_json(&union))
            .set(STATUS, to.as_str())
            .set(UPDATED_AT, now);
        let condition = Condition::All(vec![
            Condition::equals(STATUS, status.as_str()),
            as_read(&mine_attr, mine.fraud_labels.as_deref()),
            as_read(&theirs_attr, theirs.fraud_labels.as_deref()),
        ]);
        Some(Relabel {
            write: WriteOp::Update {
                key: self.key.clone(),
                update,
                condition: Some(condition),
            },
            from: status,
            to,
        })
    }
}

/// `Equals` the value read, or absent when it was absent.
fn as_read(name: &str, value: Option<&str>) -> Condition {
    match value {
        Some(v) => Condition::equals(name, v),
        None => Condition::AttrMissing(name.to_owned()),
    }
}

/// One person's identity key changing (re-keying after a rotation of the hash secret).
#[derive(Clone, Debug, PartialEq)]
pub struct KeyMove {
    pub side: Side,
    pub old: String,
    pub new: String,
}

impl JourneyRecord {
    /// The journey with the new keys set, to derive the new keys of its items.
    pub fn rekeyed(&self, moves: &[KeyMove]) -> JourneyRecord {
        let mut renamed = self.clone();
        for m in moves {
            let party = match m.side {
                Side::Passenger => &mut renamed.passenger,
                Side::Driver => &mut renamed.driver,
            };
            party.key = Some(m.new.clone());
        }
        renamed
    }

    /// A write of the re-keying on the journey as it was read still (its status, its draft
    /// revision `rev` and its old keys), bumping the revision; with `set_keys`, the one that
    /// sets the new keys. Every transaction of the job bumps the revision, so a cancellation
    /// that read the drafts before a move reads them again.
    pub fn rekey_write(&self, rev: Option<i64>, moves: &[KeyMove], set_keys: bool) -> WriteOp {
        let key_attr = |m: &KeyMove| m.side.attr("key");
        let mut conditions = vec![
            Condition::equals(STATUS, self.status_str()),
            match rev {
                Some(rev) => Condition::equals(INCENTIVE_REV, rev),
                None => Condition::AttrMissing(INCENTIVE_REV.into()),
            },
        ];
        conditions.extend(
            moves
                .iter()
                .map(|m| Condition::equals(&key_attr(m), m.old.clone())),
        );
        let update = if set_keys {
            moves
                .iter()
                .fold(Update::new(), |u, m| u.set(&key_attr(m), m.new.clone()))
        } else {
            Update::new()
        };
        WriteOp::Update {
            key: self.key.clone(),
            update: update.add(INCENTIVE_REV, 1),
            condition: Some(Condition::All(conditions)),
        }
    }
}
