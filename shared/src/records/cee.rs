//! The CEE items (docs/DATA_MODEL.md, "CEE"): the standardized applications, the lock
//! items that list a person's live applications, the imported (specific) records and the
//! applications deleted (archived).

use serde::{Deserialize, Serialize};

use super::item::{Condition, Item, Key, Update, WriteOp};
use super::keys;
use crate::domain::cee::rules::{Record, RecordKind};
use crate::domain::error::Detail;
use crate::domain::operator::OperatorId;

fn stored_id(operator: OperatorId) -> i64 {
    i64::try_from(operator.0).unwrap_or(i64::MAX)
}

/// A registered (standardized) application. About 1 KB for a long application (the token
/// alone is 684 characters, the key id 19 bytes with its name: 1 035 bytes, two write
/// units). The uuid is in the key.
#[derive(Clone, Debug, PartialEq)]
pub struct CeeApplication {
    pub uuid: String,
    pub operator: OperatorId,
    pub journey_type: String,
    /// The operation date (RFC 3339).
    pub datetime: String,
    pub journey_id: Option<String>,
    pub token: String,
    /// The id of the key that signed `token`.
    pub kid: Option<String>,
    pub applied_at: String,
    pub created_at: String,
    /// Keyed hashes of the identity key and of the driving licence (its lock items).
    pub id_hash: Option<String>,
    pub lic_hash: Option<String>,
}

impl CeeApplication {
    /// Only the operator of an application item (who may see it).
    pub fn operator_of(item: &Item) -> Option<OperatorId> {
        item.n("operator_id")
            .and_then(|n| u64::try_from(n).ok())
            .map(OperatorId)
    }

    pub fn to_item(&self) -> Item {
        let mut item = Item::new(keys::cee_application(&self.uuid))
            .with("operator_id", stored_id(self.operator))
            .with("journey_type", self.journey_type.clone())
            .with("datetime", self.datetime.clone())
            .with("token", self.token.clone())
            .with("applied_at", self.applied_at.clone())
            .with("created_at", self.created_at.clone());
        let optional = [
            ("journey_id", &self.journey_id),
            ("kid", &self.kid),
            ("id_hash", &self.id_hash),
            ("lic_hash", &self.lic_hash),
        ];
        for (name, value) in optional {
            if let Some(v) = value {
                item.set(name, v.clone());
            }
        }
        item
    }

    /// `None` when not an application item or an attribute always written is missing.
    pub fn from_item(item: &Item) -> Option<CeeApplication> {
        let s = |name: &str| item.s(name).map(str::to_owned);
        Some(CeeApplication {
            uuid: item.key.pk.strip_prefix("CEE#")?.to_owned(),
            operator: CeeApplication::operator_of(item)?,
            journey_type: s("journey_type")?,
            datetime: s("datetime")?,
            journey_id: s("journey_id"),
            token: s("token")?,
            kid: s("kid"),
            applied_at: s("applied_at")?,
            created_at: s("created_at")?,
            id_hash: s("id_hash"),
            lic_hash: s("lic_hash"),
        })
    }

    /// The application as an earlier record (`None` if its date does not read).
    pub fn record(&self) -> Option<Record> {
        Some(Record {
            kind: RecordKind::Standardized,
            operator_id: self.operator,
            datetime: self.datetime.parse().ok()?,
            uuid: Some(self.uuid.clone()),
            journey_id: self.journey_id.clone(),
        })
    }

    /// The application still belongs to `operator`.
    pub fn owned_by(operator: OperatorId) -> Condition {
        Condition::equals("operator_id", stored_id(operator))
    }

    /// The archived copy of the application, deleted by `operator` at `now`.
    pub fn archived(&self, operator: OperatorId, now: &str) -> Item {
        let mut item = self.to_item();
        item.key = keys::cee_deleted(operator, now, &self.uuid);
        item.set("uuid", self.uuid.clone());
        item.set("deleted_at", now.to_owned());
        item
    }
}

/// One live standardized application, as a lock lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LockEntry {
    pub uuid: String,
    pub operator_id: u64,
    pub datetime: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journey_id: Option<String>,
}

impl LockEntry {
    pub fn record(&self) -> Option<Record> {
        Some(Record {
            kind: RecordKind::Standardized,
            operator_id: OperatorId(self.operator_id),
            datetime: self.datetime.parse().ok()?,
            uuid: Some(self.uuid.clone()),
            journey_id: self.journey_id.clone(),
        })
    }
}

/// A lock item as read: absent (`version` None) or at a version.
#[derive(Clone, Debug)]
pub struct CeeLock {
    pub key: Key,
    pub version: Option<i64>,
    pub entries: Vec<LockEntry>,
}

impl CeeLock {
    pub fn absent(key: Key) -> CeeLock {
        CeeLock {
            key,
            version: None,
            entries: Vec::new(),
        }
    }

    pub fn from_item(item: Item) -> CeeLock {
        let entries = item
            .s("entries")
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default();
        CeeLock {
            version: Some(item.n("version").unwrap_or(0)),
            key: item.key,
            entries,
        }
    }

    /// Nobody changed this lock since it was read.
    pub fn unchanged(&self) -> Condition {
        match self.version {
            None => Condition::NotExists,
            Some(v) => Condition::equals("version", v),
        }
    }

    /// The write that replaces this lock by `entries`, if nobody changed it since it was read.
    pub fn write(&self, entries: &[LockEntry]) -> WriteOp {
        let latest = entries.iter().map(|e| e.datetime.as_str()).max();
        let mut item = Item::new(self.key.clone())
            .with("version", self.version.unwrap_or(0) + 1)
            .with(
                "entries",
                serde_json::to_string(entries).unwrap_or_else(|_| "[]".into()),
            );
        if let Some(latest) = latest {
            item.set("latest", latest.to_owned());
        }
        WriteOp::Put {
            item,
            condition: Some(self.unchanged()),
        }
    }
}

/// An imported (specific) record, at its name + phone key or, once its identity key is
/// attached, copied at its identity key.
#[derive(Clone, Debug, PartialEq)]
pub struct CeeImported {
    pub key: Key,
    pub operator: OperatorId,
    pub journey_type: String,
    /// The operation date (RFC 3339).
    pub datetime: String,
    /// At the name + phone key only.
    pub imported_at: Option<String>,
    /// Set once, when the identity key is attached (name + phone key only).
    pub id_hash: Option<String>,
}

impl CeeImported {
    pub fn to_item(&self) -> Item {
        let mut item = Item::new(self.key.clone())
            .with("operator_id", stored_id(self.operator))
            .with("journey_type", self.journey_type.clone())
            .with("datetime", self.datetime.clone());
        if let Some(at) = &self.imported_at {
            item.set("imported_at", at.clone());
        }
        if let Some(h) = &self.id_hash {
            item.set("id_hash", h.clone());
        }
        item
    }

    /// `None` when an attribute always written is missing (or not an imported record).
    pub fn from_item(item: &Item) -> Option<CeeImported> {
        Some(CeeImported {
            key: item.key.clone(),
            operator: CeeApplication::operator_of(item)?,
            journey_type: item.s("journey_type")?.to_owned(),
            datetime: item.s("datetime")?.to_owned(),
            imported_at: item.s("imported_at").map(str::to_owned),
            id_hash: item.s("id_hash").map(str::to_owned),
        })
    }

    /// The imported record as an earlier record (`None` if its date does not read).
    pub fn record(&self) -> Option<Record> {
        Some(Record {
            kind: RecordKind::Specific,
            operator_id: self.operator,
            datetime: self.datetime.parse().ok()?,
            uuid: None,
            journey_id: None,
        })
    }

    /// Attaches the identity key's hash, once, to the record of `datetime`.
    pub fn attach_identity(hash: &str, datetime: &str) -> (Update, Condition) {
        let update = Update::new().set("id_hash", hash.to_owned());
        let condition = Condition::All(vec![
            Condition::Exists,
            Condition::AttrMissing("id_hash".into()),
            Condition::equals("datetime", datetime.to_owned()),
        ]);
        (update, condition)
    }
}

/// A refused registration, in its operator's error log (in time order).
#[derive(Clone, Debug, PartialEq)]
pub struct CeeRefusal {
    pub at: String,
    /// `validation`, `date`, `non_eligible` or `conflict`.
    pub kind: String,
    /// The answer: HTTP status, code, message and the offending fields.
    pub status: u16,
    pub code: String,
    pub message: String,
    pub details: Vec<Detail>,
    pub journey_type: Option<String>,
    pub operator_journey_id: Option<String>,
}

#[derive(Deserialize)]
struct DetailRow {
    path: String,
    reason: String,
}

impl CeeRefusal {
    /// The entry of `operator`'s log, `id` making it unique at its instant.
    pub fn to_item(&self, operator: OperatorId, id: &str) -> Item {
        let key = Key::new(keys::cee_errors(operator), format!("{}#{id}", self.at));
        let mut item = Item::new(key)
            .with("at", self.at.clone())
            .with("kind", self.kind.clone())
            .with("status", i64::from(self.status))
            .with("code", self.code.clone())
            .with("message", self.message.clone())
            .with(
                "details",
                serde_json::to_string(&self.details).unwrap_or_else(|_| "[]".into()),
            );
        if let Some(jt) = &self.journey_type {
            item.set("journey_type", jt.clone());
        }
        if let Some(j) = &self.operator_journey_id {
            item.set("operator_journey_id", j.clone());
        }
        item
    }

    /// What an item holds (empty for what is missing).
    pub fn from_item(item: &Item) -> CeeRefusal {
        let s = |name: &str| item.s(name).unwrap_or_default().to_owned();
        CeeRefusal {
            at: s("at"),
            kind: s("kind"),
            status: item
                .n("status")
                .and_then(|n| u16::try_from(n).ok())
                .unwrap_or(0),
            code: s("code"),
            message: s("message"),
            details: item
                .s("details")
                .and_then(|s| serde_json::from_str::<Vec<DetailRow>>(s).ok())
                .unwrap_or_default()
                .into_iter()
                .map(|d| Detail::new(d.path, d.reason))
                .collect(),
            journey_type: item.s("journey_type").map(str::to_owned),
            operator_journey_id: item.s("operator_journey_id").map(str::to_owned),
        }
    }
}
