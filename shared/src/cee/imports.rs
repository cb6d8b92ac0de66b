//! Imports of an operator's earlier specific operations, and identity keys attached to
//! records that lack one. Batches of 1–1000 items: the whole batch is parsed first (one
//! schema error anywhere refuses it all), then each item is written on its own and
//! reported in input order. Items aiming at the same record run one after the other in
//! input order (the first one wins); different records run concurrently.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use serde_json::Value;

use super::history::{identity_hash, name_phone_hash};
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::cee::fields::{self, IdentityKey, JourneyType, LastNameTrunc, Reader};
use crate::domain::error::Detail;
use crate::domain::operator::OperatorId;
use crate::domain::phone::PhoneTrunc;
use crate::records::cee::{CeeApplication, CeeImported};
use crate::records::keys;
use crate::store::{Condition, Key, StoreError, StoreResult, WriteOp};

pub const MAX_ITEMS: usize = 1000;
/// Writes in flight at once for one batch.
const CONCURRENCY: usize = 16;

#[derive(Clone, Debug, PartialEq)]
pub struct Specific {
    pub journey_type: JourneyType,
    pub last_name: LastNameTrunc,
    pub phone: PhoneTrunc,
    pub datetime: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum IdentityTarget {
    Standardized { uuid: String },
    Specific(Specific),
}

#[derive(Clone, Debug, PartialEq)]
pub struct IdentityItem {
    pub target: IdentityTarget,
    pub identity: IdentityKey,
}

/// Why one item of a batch failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemError {
    /// The operator already imported a record for this journey type, name and phone.
    Conflict,
    /// No such record of this operator (or not at this datetime).
    NotFound,
    /// The record already has another identity key (written once, never overwritten).
    AlreadySet,
}

impl ItemError {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemError::Conflict => "conflict",
            ItemError::NotFound => "not_found",
            ItemError::AlreadySet => "already_set",
        }
    }
}

/// The array of a batch: 1 to 1000 items, each read by `item` at `/<index>`.
pub fn parse_batch<T>(
    body: &Value,
    item: impl Fn(&mut Reader) -> Option<T>,
) -> Result<Vec<T>, Vec<Detail>> {
    let Some(array) = body.as_array() else {
        return Err(vec![Detail::new("", "the body must be a JSON array")]);
    };
    if array.is_empty() || array.len() > MAX_ITEMS {
        return Err(vec![Detail::new(
            "",
            format!("must hold 1 to {MAX_ITEMS} items (got {})", array.len()),
        )]);
    }
    let mut details = Vec::new();
    let mut items = Vec::with_capacity(array.len());
    for (i, value) in array.iter().enumerate() {
        let mut reader = Reader::new(value, format!("/{i}"));
        let parsed = item(&mut reader);
        details.append(&mut reader.details);
        if let Some(parsed) = parsed {
            items.push(parsed);
        }
    }
    if details.is_empty() && items.len() == array.len() {
        Ok(items)
    } else {
        Err(details)
    }
}

fn specific_fields(r: &mut Reader) -> Option<Specific> {
    let journey_type = r.required("journey_type", JourneyType::parse);
    let last_name = r.required("last_name_trunc", LastNameTrunc::parse);
    let phone = r.required("phone_trunc", fields::parse_phone_trunc);
    let datetime = r.required("datetime", fields::parse_datetime);
    Some(Specific {
        journey_type: journey_type?,
        last_name: last_name?,
        phone: phone?,
        datetime: datetime?,
    })
}

/// `{journey_type, last_name_trunc, phone_trunc, datetime}`.
pub fn import_item(r: &mut Reader) -> Option<Specific> {
    r.only(&["journey_type", "last_name_trunc", "phone_trunc", "datetime"]);
    specific_fields(r)
}

/// `{cee_application_type, cee_application_uuid, identity_key}` or
/// `{cee_application_type: "specific", identity_key, phone_trunc, last_name_trunc,
/// journey_type, datetime}`.
pub fn identity_item(r: &mut Reader) -> Option<IdentityItem> {
    let kind = r.required("cee_application_type", |s| match s {
        "standardized" | "specific" => Ok(s == "specific"),
        _ => Err("must be standardized or specific".into()),
    });
    let identity = r.required("identity_key", IdentityKey::parse);
    let target = match kind? {
        true => {
            r.only(&[
                "cee_application_type",
                "identity_key",
                "journey_type",
                "last_name_trunc",
                "phone_trunc",
                "datetime",
            ]);
            IdentityTarget::Specific(specific_fields(r)?)
        }
        false => {
            r.only(&[
                "cee_application_type",
                "cee_application_uuid",
                "identity_key",
            ]);
            let uuid = r.required("cee_application_uuid", |s| {
                uuid::Uuid::try_parse(s)
                    .map(|u| u.hyphenated().to_string())
                    .map_err(|_| "must be a UUID".to_owned())
            })?;
            IdentityTarget::Standardized { uuid }
        }
    };
    Some(IdentityItem {
        target,
        identity: identity?,
    })
}

fn imported_key(app: &App, operator: OperatorId, s: &Specific) -> Key {
    imported_key_under(&app.config.hash_secret, operator, s)
}

fn imported_key_under(secret: &str, operator: OperatorId, s: &Specific) -> Key {
    let np = name_phone_hash(secret, &s.last_name, &s.phone);
    keys::cee_imported(s.journey_type.as_str(), &np, operator)
}

/// The result of one item of a batch.
pub type ItemResult = Result<(), ItemError>;

/// Runs `write` on every item, grouping items with the same target key so they run in
/// input order; returns the results in input order.
async fn run_batch<T, F, Fut>(
    items: &[T],
    target: impl Fn(&T) -> Key,
    write: F,
) -> StoreResult<Vec<ItemResult>>
where
    F: Fn(&T) -> Fut,
    Fut: std::future::Future<Output = StoreResult<ItemResult>>,
{
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut by_key: HashMap<Key, usize> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let group = *by_key.entry(target(item)).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[group].push(i);
    }
    let write = &write;
    let done: Vec<StoreResult<Vec<(usize, ItemResult)>>> = stream::iter(groups)
        .map(|group| async move {
            let mut out = Vec::with_capacity(group.len());
            for i in group {
                out.push((i, write(&items[i]).await?));
            }
            Ok(out)
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut results = vec![Ok(()); items.len()];
    for group in done {
        for (i, result) in group? {
            results[i] = result;
        }
    }
    Ok(results)
}

/// Stores each imported record unless the operator already imported one for this journey
/// type, name and phone (under the current secret or, during a rotation, the previous one).
pub async fn import(
    app: &App,
    operator: OperatorId,
    items: &[Specific],
) -> StoreResult<Vec<ItemResult>> {
    let now = rfc3339(app.clock.now());
    run_batch(
        items,
        |s| imported_key(app, operator, s),
        |s| {
            let item = CeeImported {
                key: imported_key(app, operator, s),
                operator,
                journey_type: s.journey_type.as_str().to_owned(),
                datetime: rfc3339(s.datetime),
                imported_at: Some(now.clone()),
                id_hash: None,
            }
            .to_item();
            let mut ops = vec![WriteOp::Put {
                item,
                condition: Some(Condition::NotExists),
            }];
            if let Some(previous) = &app.config.hash_secret_previous {
                ops.push(WriteOp::Check {
                    key: imported_key_under(previous, operator, s),
                    condition: Condition::NotExists,
                });
            }
            async move {
                match app.store.commit(ops, Vec::new()).await {
                    Ok(_) => Ok(Ok(())),
                    Err(StoreError::TransactionCanceled { .. }) => Ok(Err(ItemError::Conflict)),
                    Err(e) => Err(e),
                }
            }
        },
    )
    .await
}

/// Attaches identity keys, each written once: the same key again is a success (a retried
/// batch), another key fails with `already_set`.
pub async fn attach_identities(
    app: &App,
    operator: OperatorId,
    items: &[IdentityItem],
) -> StoreResult<Vec<ItemResult>> {
    run_batch(
        items,
        |item| match &item.target {
            IdentityTarget::Standardized { uuid } => keys::cee_application(uuid),
            IdentityTarget::Specific(s) => imported_key(app, operator, s),
        },
        |item| {
            let item = item.clone();
            async move {
                let secret = app.config.hash_secret.as_str();
                let previous = app.config.hash_secret_previous.as_deref();
                match &item.target {
                    IdentityTarget::Standardized { uuid } => {
                        let hashes: Vec<String> = std::iter::once(secret)
                            .chain(previous)
                            .map(|s| identity_hash(s, &item.identity))
                            .collect();
                        standardized_identity(app, operator, uuid, &hashes).await
                    }
                    IdentityTarget::Specific(s) => {
                        let found =
                            specific_identity(app, operator, s, secret, &item.identity).await?;
                        match (found, previous) {
                            // Imported before a rotation: its hashes are under the previous
                            // secret, the identity's too (one secret per record).
                            (Err(ItemError::NotFound), Some(previous)) => {
                                specific_identity(app, operator, s, previous, &item.identity).await
                            }
                            (found, _) => Ok(found),
                        }
                    }
                }
            }
        },
    )
    .await
}

/// Registered applications always carry their identity key (register requires it): the
/// same key (its hash under any of `hashes`' secrets) is a success, another one
/// `already_set`.
async fn standardized_identity(
    app: &App,
    operator: OperatorId,
    uuid: &str,
    hashes: &[String],
) -> StoreResult<ItemResult> {
    let Some(application) = app
        .store
        .get(&keys::cee_application(uuid))
        .await?
        .as_ref()
        .and_then(CeeApplication::from_item)
    else {
        return Ok(Err(ItemError::NotFound));
    };
    if application.operator != operator {
        return Ok(Err(ItemError::NotFound));
    }
    Ok(match &application.id_hash {
        Some(existing) if hashes.iter().any(|h| h == existing) => Ok(()),
        _ => Err(ItemError::AlreadySet),
    })
}

/// The imported record gets `id_hash` (it no longer matches by name and phone) and a copy
/// in the identity key's partition (it now matches by identity), in one transaction; every
/// hash under `secret`.
async fn specific_identity(
    app: &App,
    operator: OperatorId,
    s: &Specific,
    secret: &str,
    identity: &IdentityKey,
) -> StoreResult<ItemResult> {
    let key = imported_key_under(secret, operator, s);
    let hash = identity_hash(secret, identity);
    let datetime = rfc3339(s.datetime);
    let copy = CeeImported {
        key: keys::cee_imported_identity(
            s.journey_type.as_str(),
            &hash,
            operator,
            &name_phone_hash(secret, &s.last_name, &s.phone),
        ),
        operator,
        journey_type: s.journey_type.as_str().to_owned(),
        datetime: datetime.clone(),
        imported_at: None,
        id_hash: None,
    }
    .to_item();
    let (update, condition) = CeeImported::attach_identity(&hash, &datetime);
    let ops = vec![
        WriteOp::Update {
            key: key.clone(),
            update,
            condition: Some(condition),
        },
        WriteOp::Put {
            item: copy,
            condition: Some(Condition::NotExists),
        },
    ];
    match app.store.transact(ops).await {
        Ok(()) => Ok(Ok(())),
        Err(StoreError::TransactionCanceled { .. }) => {
            let existing = app.store.get(&key).await?;
            let existing = existing.as_ref().and_then(CeeImported::from_item);
            Ok(match existing {
                Some(record) if record.datetime == datetime => match record.id_hash.as_deref() {
                    Some(h) if h == hash.as_str() => Ok(()),
                    _ => Err(ItemError::AlreadySet),
                },
                _ => Err(ItemError::NotFound),
            })
        }
        Err(e) => Err(e),
    }
}
