//! The history search and the registration write (docs/DATA_MODEL.md, "CEE").
//!
//! Each person's standardized applications are summarised, per journey type, in two lock
//! items: one per identity key, one per driving licence. A lock lists the live
//! applications it covers and carries a `version`. A registration reads the locks and the
//! imported records, decides, then writes the application and both locks in one
//! transaction conditioned on each lock being still absent or at the version it read. Two
//! registrations of one person can both read "nothing", but only one transaction passes:
//! the other fails its condition, reads again and finds the winner (409). No decision rests
//! on an unconditioned read.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::cee::fields::{DrivingLicense, IdentityKey, JourneyType, LastNameTrunc};
use crate::domain::cee::rules::{Record, RecordKind};
use crate::domain::identity::keyed_hash;
use crate::domain::operator::OperatorId;
use crate::domain::phone::PhoneTrunc;
use crate::records::keys;
use crate::store::{Condition, Item, Key, Query, StoreError, StoreResult, WriteOp};

/// Attempts before a registration or deletion that keeps losing its lock race gives up (503).
const ATTEMPTS: usize = 8;

/// The keyed hashes a person is searched by (under the current secret: what a
/// registration writes), and the same under the previous secret during a rotation
/// (searched, never written).
#[derive(Clone, Debug, PartialEq)]
pub struct Person {
    pub identity: Option<String>,
    pub licence: Option<String>,
    pub name_phone: String,
    pub previous: Option<Box<Person>>,
}

impl Person {
    /// The person under the configured secrets: `REGISTRY_HASH_SECRET` and, when set,
    /// `REGISTRY_HASH_SECRET_PREVIOUS`.
    pub fn searched(
        config: &crate::config::Config,
        identity: Option<&IdentityKey>,
        licence: Option<&DrivingLicense>,
        name: &LastNameTrunc,
        phone: &PhoneTrunc,
    ) -> Person {
        let mut person = Person::new(&config.hash_secret, identity, licence, name, phone);
        person.previous = config
            .hash_secret_previous
            .as_deref()
            .map(|previous| Box::new(Person::new(previous, identity, licence, name, phone)));
        person
    }

    /// The person under one secret.
    pub fn new(
        secret: &str,
        identity: Option<&IdentityKey>,
        licence: Option<&DrivingLicense>,
        name: &LastNameTrunc,
        phone: &PhoneTrunc,
    ) -> Person {
        Person {
            identity: identity.map(|k| identity_hash(secret, k)),
            licence: licence.map(|l| keyed_hash(secret, &["cee-licence", l.as_str()])),
            name_phone: name_phone_hash(secret, name, phone),
            previous: None,
        }
    }
}

pub fn identity_hash(secret: &str, key: &IdentityKey) -> String {
    keyed_hash(secret, &["cee-identity", key.as_str()])
}

pub fn name_phone_hash(secret: &str, name: &LastNameTrunc, phone: &PhoneTrunc) -> String {
    keyed_hash(secret, &["cee-name-phone", name.as_str(), phone.as_str()])
}

/// One live standardized application, as a lock lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Entry {
    uuid: String,
    operator_id: u64,
    datetime: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    journey_id: Option<String>,
}

impl Entry {
    fn record(&self) -> Option<Record> {
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
struct Lock {
    key: Key,
    version: Option<i64>,
    entries: Vec<Entry>,
}

impl Lock {
    fn absent(key: Key) -> Lock {
        Lock {
            key,
            version: None,
            entries: Vec::new(),
        }
    }

    fn from_item(item: Item) -> Lock {
        let entries = item
            .s("entries")
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default();
        Lock {
            version: Some(item.n("version").unwrap_or(0)),
            key: item.key,
            entries,
        }
    }

    /// Nobody changed this lock since it was read.
    fn unchanged(&self) -> Condition {
        match self.version {
            None => Condition::NotExists,
            Some(v) => Condition::equals("version", v),
        }
    }

    /// The write that replaces this lock by `entries`, if nobody changed it since it was read.
    fn write(&self, entries: &[Entry]) -> WriteOp {
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

/// What the history search read for one person and journey type.
#[derive(Debug)]
pub struct History {
    /// The locks under the current secret: a registration writes them.
    locks: Vec<Lock>,
    /// The locks under the previous secret: a registration only checks that they did not
    /// change (a registration still running under the previous secret during a rotation).
    previous_locks: Vec<Lock>,
    imported: Vec<Record>,
}

impl History {
    /// Every earlier record of the person (a standardized application listed by both its
    /// locks appears twice, which changes nothing to the decision).
    pub fn records(&self) -> Vec<Record> {
        self.locks
            .iter()
            .chain(&self.previous_locks)
            .flat_map(|l| l.entries.iter().filter_map(Entry::record))
            .chain(self.imported.iter().cloned())
            .collect()
    }
}

fn imported_record(item: &Item) -> Option<Record> {
    Some(Record {
        kind: RecordKind::Specific,
        operator_id: OperatorId(u64::try_from(item.n("operator_id")?).ok()?),
        datetime: item.s("datetime")?.parse().ok()?,
        uuid: None,
        journey_id: None,
    })
}

async fn whole_partition(app: &App, pk: String) -> StoreResult<Vec<Item>> {
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = app
            .store
            .query(Query::partition(pk.clone()).limit(200).after(cursor))
            .await?;
        items.extend(page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(items),
        }
    }
}

/// The history search: at most three reads (the identity partition, the licence lock, the
/// name+phone partition), all strongly consistent; three more under the previous secret
/// during a rotation.
pub async fn read(app: &App, journey_type: JourneyType, person: &Person) -> StoreResult<History> {
    let (locks, mut imported) = read_hashes(app, journey_type, person).await?;
    let previous_locks = match &person.previous {
        Some(previous) => {
            let (locks, more) = read_hashes(app, journey_type, previous).await?;
            imported.extend(more);
            locks
        }
        None => Vec::new(),
    };
    Ok(History {
        locks,
        previous_locks,
        imported,
    })
}

/// The locks and imported records under one secret's hashes.
async fn read_hashes(
    app: &App,
    journey_type: JourneyType,
    person: &Person,
) -> StoreResult<(Vec<Lock>, Vec<Record>)> {
    let jt = journey_type.as_str();
    let mut locks = Vec::new();
    let mut imported = Vec::new();
    if let Some(identity) = &person.identity {
        let pk = keys::cee_identity_partition(jt, identity);
        let mut lock = Lock::absent(keys::cee_lock(pk.clone()));
        for item in whole_partition(app, pk).await? {
            if item.key.sk == keys::CEE_LOCK {
                lock = Lock::from_item(item);
            } else if let Some(record) = imported_record(&item) {
                imported.push(record);
            }
        }
        locks.push(lock);
    }
    if let Some(licence) = &person.licence {
        let key = keys::cee_lock(keys::cee_licence_partition(jt, licence));
        let lock = match app.store.get(&key).await? {
            Some(item) => Lock::from_item(item),
            None => Lock::absent(key),
        };
        locks.push(lock);
    }
    // Name + phone only match imported records that have no identity key.
    let np_pk = keys::cee_imported(jt, &person.name_phone, OperatorId(0)).pk;
    let items = whole_partition(app, np_pk).await?;
    imported.extend(
        items
            .iter()
            .filter(|i| i.s("id_hash").is_none())
            .filter_map(imported_record),
    );
    Ok((locks, imported))
}

/// A registration ready to be written.
#[derive(Clone, Debug)]
pub struct NewApplication {
    pub uuid: String,
    pub operator: OperatorId,
    pub journey_type: JourneyType,
    /// The operation date.
    pub datetime: DateTime<Utc>,
    pub journey_id: Option<String>,
    pub token: String,
    /// The id of the key that signed `token`.
    pub kid: Option<String>,
    pub application_timestamp: DateTime<Utc>,
    pub person: Person,
}

#[derive(Debug, PartialEq)]
pub enum Outcome {
    Created,
    /// An earlier record blocks it (or, for short, the journey already has an application).
    Conflict(Record),
    /// Lost the lock race too many times in a row.
    Busy,
}

/// About 1 KB for a long application (the token alone is 684 characters, the key id 19
/// bytes with its name: 1 035 bytes, two write units). The uuid is in the key.
fn application_item(new: &NewApplication, now: DateTime<Utc>) -> Item {
    let mut item = Item::new(keys::cee_application(&new.uuid))
        .with(
            "operator_id",
            i64::try_from(new.operator.0).unwrap_or(i64::MAX),
        )
        .with("journey_type", new.journey_type.as_str())
        .with("datetime", rfc3339(new.datetime))
        .with("token", new.token.clone())
        .with("applied_at", rfc3339(new.application_timestamp))
        .with("created_at", rfc3339(now));
    if let Some(j) = &new.journey_id {
        item.set("journey_id", j.clone());
    }
    if let Some(kid) = &new.kid {
        item.set("kid", kid.clone());
    }
    if let Some(h) = &new.person.identity {
        item.set("id_hash", h.clone());
    }
    if let Some(h) = &new.person.licence {
        item.set("lic_hash", h.clone());
    }
    item
}

/// The application stored under `uuid`, as an earlier record.
pub fn application_record(item: &Item) -> Option<Record> {
    Some(Record {
        kind: RecordKind::Standardized,
        operator_id: OperatorId(u64::try_from(item.n("operator_id")?).ok()?),
        datetime: item.s("datetime")?.parse().ok()?,
        uuid: item.key.pk.strip_prefix("CEE#").map(str::to_owned),
        journey_id: item.s("journey_id").map(str::to_owned),
    })
}

/// Searches the history and writes the application with its locks, deciding by the
/// transaction's conditions. For short, the application's key (derived from the journey)
/// makes a second application of the same journey fail too.
pub async fn register(app: &App, new: &NewApplication) -> StoreResult<Outcome> {
    let entry = Entry {
        uuid: new.uuid.clone(),
        operator_id: new.operator.0,
        datetime: rfc3339(new.datetime),
        journey_id: new.journey_id.clone(),
    };
    for _ in 0..ATTEMPTS {
        let history = read(app, new.journey_type, &new.person).await?;
        let records = history.records();
        if let Some(r) =
            crate::domain::cee::rules::first_blocking(&records, new.journey_type, new.datetime)
        {
            return Ok(Outcome::Conflict(r.clone()));
        }
        let mut ops = vec![WriteOp::Put {
            item: application_item(new, app.clock.now()),
            condition: Some(Condition::NotExists),
        }];
        for lock in &history.locks {
            let mut entries = lock.entries.clone();
            entries.push(entry.clone());
            ops.push(lock.write(&entries));
        }
        ops.extend(history.previous_locks.iter().map(|lock| WriteOp::Check {
            key: lock.key.clone(),
            condition: lock.unchanged(),
        }));
        match app.store.transact(ops).await {
            Ok(()) => return Ok(Outcome::Created),
            Err(StoreError::TransactionCanceled { index: 0, .. }) => {
                let key = keys::cee_application(&new.uuid);
                if let Some(record) = app
                    .store
                    .get(&key)
                    .await?
                    .as_ref()
                    .and_then(application_record)
                {
                    return Ok(Outcome::Conflict(record));
                }
                // Deleted meanwhile: try again.
            }
            // A lock changed since it was read: read again and decide again.
            Err(StoreError::TransactionCanceled { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Outcome::Busy)
}

/// Deletes an application of `operator`: moved to the deleted archive and removed from its
/// locks, in one transaction. `Ok(false)` when there is no such application of this
/// operator (404).
pub async fn delete(app: &App, operator: OperatorId, uuid: &str) -> StoreResult<bool> {
    let key = keys::cee_application(uuid);
    for _ in 0..ATTEMPTS {
        let Some(item) = app.store.get(&key).await? else {
            return Ok(false);
        };
        let owner = item.n("operator_id").and_then(|n| u64::try_from(n).ok());
        if owner != Some(operator.0) {
            return Ok(false);
        }
        let jt = item.s("journey_type").unwrap_or_default();
        let mut lock_keys = Vec::new();
        if let Some(h) = item.s("id_hash") {
            lock_keys.push(keys::cee_lock(keys::cee_identity_partition(jt, h)));
        }
        if let Some(h) = item.s("lic_hash") {
            lock_keys.push(keys::cee_lock(keys::cee_licence_partition(jt, h)));
        }
        let now = rfc3339(app.clock.now());
        let mut archived = item.clone();
        archived.key = keys::cee_deleted(operator, &now, uuid);
        archived.set("uuid", uuid.to_owned());
        archived.set("deleted_at", now.clone());
        let mut ops = vec![
            WriteOp::Delete {
                key: key.clone(),
                condition: Some(Condition::equals(
                    "operator_id",
                    i64::try_from(operator.0).unwrap_or(i64::MAX),
                )),
            },
            WriteOp::Put {
                item: archived,
                condition: Some(Condition::NotExists),
            },
        ];
        for lock_key in lock_keys {
            if let Some(lock) = app.store.get(&lock_key).await?.map(Lock::from_item) {
                let entries: Vec<Entry> = lock
                    .entries
                    .iter()
                    .filter(|e| e.uuid != uuid)
                    .cloned()
                    .collect();
                if entries.len() != lock.entries.len() {
                    ops.push(lock.write(&entries));
                }
            }
        }
        match app.store.transact(ops).await {
            Ok(()) => return Ok(true),
            Err(StoreError::TransactionCanceled { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Unavailable(
        "deletion kept losing to concurrent writes".into(),
    ))
}
