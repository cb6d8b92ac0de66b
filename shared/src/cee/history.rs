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

use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::cee::fields::{DrivingLicense, IdentityKey, JourneyType, LastNameTrunc};
use crate::domain::cee::rules::Record;
use crate::domain::identity::keyed_hash;
use crate::domain::operator::OperatorId;
use crate::domain::phone::PhoneTrunc;
use crate::records::cee::{CeeApplication, CeeImported, CeeLock as Lock, LockEntry as Entry};
use crate::records::keys;
use crate::store::{Condition, Item, Query, StoreError, StoreResult, WriteOp};
use chrono::{DateTime, Utc};

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
    CeeImported::from_item(item)?.record()
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
            .filter_map(CeeImported::from_item)
            .filter(|i| i.id_hash.is_none())
            .filter_map(|i| i.record()),
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

fn application_item(new: &NewApplication, now: DateTime<Utc>) -> Item {
    CeeApplication {
        uuid: new.uuid.clone(),
        operator: new.operator,
        journey_type: new.journey_type.as_str().to_owned(),
        datetime: rfc3339(new.datetime),
        journey_id: new.journey_id.clone(),
        token: new.token.clone(),
        kid: new.kid.clone(),
        applied_at: rfc3339(new.application_timestamp),
        created_at: rfc3339(now),
        id_hash: new.person.identity.clone(),
        lic_hash: new.person.licence.clone(),
    }
    .to_item()
}

/// The application stored under `uuid`, as an earlier record.
pub fn application_record(item: &Item) -> Option<Record> {
    CeeApplication::from_item(item)?.record()
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
        let Some(application) = app
            .store
            .get(&key)
            .await?
            .as_ref()
            .and_then(CeeApplication::from_item)
        else {
            return Ok(false);
        };
        if application.operator != operator {
            return Ok(false);
        }
        let jt = application.journey_type.as_str();
        let mut lock_keys = Vec::new();
        if let Some(h) = &application.id_hash {
            lock_keys.push(keys::cee_lock(keys::cee_identity_partition(jt, h)));
        }
        if let Some(h) = &application.lic_hash {
            lock_keys.push(keys::cee_lock(keys::cee_licence_partition(jt, h)));
        }
        let now = rfc3339(app.clock.now());
        let mut ops = vec![
            WriteOp::Delete {
                key: key.clone(),
                condition: Some(CeeApplication::owned_by(operator)),
            },
            WriteOp::Put {
                item: application.archived(operator, &now),
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
