//! Condition checks and update application, shared by the embedded adapters (SQLite and
//! memory) so both follow DynamoDB's semantics the same way.

use super::{
    Attr, Condition, Item, Key, StoreError, StoreResult, Update, WriteOp, GSI1_PK, GSI1_SK,
    GSI2_PK, GSI2_SK, PK, SK,
};

pub fn holds(condition: &Condition, current: Option<&Item>) -> bool {
    match condition {
        Condition::NotExists => current.is_none(),
        Condition::Exists => current.is_some(),
        Condition::Equals(name, value) => {
            current.and_then(|item| item.attrs.get(name)) == Some(value)
        }
        Condition::AttrMissing(name) => current.is_none_or(|item| !item.attrs.contains_key(name)),
        Condition::All(all) => all.iter().all(|c| holds(c, current)),
    }
}

/// Applies an update to the current item (or to a new, empty one).
pub fn apply_update(key: &Key, current: Option<Item>, update: &Update) -> StoreResult<Item> {
    let mut item = current.unwrap_or_else(|| Item::new(key.clone()));
    for (name, value) in &update.set {
        check_name(name)?;
        item.attrs.insert(name.clone(), value.clone());
    }
    for name in &update.remove {
        item.attrs.remove(name);
    }
    for (name, by) in &update.add {
        check_name(name)?;
        let current = match item.attrs.get(name) {
            None => 0,
            Some(Attr::N(n)) => *n,
            Some(other) => {
                return Err(StoreError::Invalid(format!(
                    "cannot add to {name}: it holds {other:?}"
                )))
            }
        };
        let next = current
            .checked_add(*by)
            .ok_or_else(|| StoreError::Invalid(format!("counter {name} overflows")))?;
        item.attrs.insert(name.clone(), Attr::N(next));
    }
    Ok(item)
}

pub fn check_name(name: &str) -> StoreResult<()> {
    if name == PK || name == SK || name.is_empty() {
        return Err(StoreError::Invalid(format!(
            "attribute name {name:?} is reserved"
        )));
    }
    Ok(())
}

/// What a write does to its item.
enum Outcome {
    /// The item's new state (`None` = deleted).
    Write(Option<Item>),
    /// A condition check that held.
    Unchanged,
    /// The write's condition did not hold.
    Failed { key: Key, condition: String },
}

/// Evaluates one write against the item's current state without touching storage.
/// Everything about a write that can be refused before looking at storage.
pub fn validate_op(op: &WriteOp) -> StoreResult<()> {
    validate_key(op.key())?;
    if let Some(condition) = op.condition() {
        validate_condition(condition)?;
    }
    match op {
        WriteOp::Put { item, .. } => validate_item(item),
        WriteOp::Update { update, .. } => validate_update(update),
        WriteOp::Delete { .. } | WriteOp::Check { .. } => Ok(()),
    }
}

fn outcome(op: &WriteOp, current: Option<&Item>) -> StoreResult<Outcome> {
    validate_op(op)?;
    if let Some(condition) = op.condition() {
        if !holds(condition, current) {
            return Ok(Outcome::Failed {
                key: op.key().clone(),
                condition: condition.to_string(),
            });
        }
    }
    Ok(match op {
        WriteOp::Put { item, .. } => Outcome::Write(Some(item.clone())),
        WriteOp::Update { key, update, .. } => {
            let updated = apply_update(key, current.cloned(), update)?;
            validate_item(&updated)?;
            Outcome::Write(Some(updated))
        }
        WriteOp::Delete { .. } => Outcome::Write(None),
        WriteOp::Check { .. } => Outcome::Unchanged,
    })
}

pub fn validate_key(key: &Key) -> StoreResult<()> {
    if key.pk.is_empty() || key.sk.is_empty() {
        return Err(StoreError::Invalid("empty pk or sk".into()));
    }
    Ok(())
}

/// What DynamoDB refuses in an item: reserved names, and index keys that are not
/// non-empty strings (the embedded adapters would silently leave the item out of the index).
pub fn validate_item(item: &Item) -> StoreResult<()> {
    validate_key(&item.key)?;
    for name in item.attrs.keys() {
        check_name(name)?;
    }
    for index_key in [GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK] {
        match item.attrs.get(index_key) {
            None => {}
            Some(Attr::S(s)) if !s.is_empty() => {}
            Some(_) => {
                return Err(StoreError::Invalid(format!(
                    "{index_key} must be a non-empty string"
                )))
            }
        }
    }
    Ok(())
}

/// Conditions may not name the key attributes (DynamoDB evaluates them differently).
pub fn validate_condition(condition: &Condition) -> StoreResult<()> {
    match condition {
        Condition::NotExists | Condition::Exists => Ok(()),
        Condition::Equals(name, _) | Condition::AttrMissing(name) => check_name(name),
        Condition::All(all) => all.iter().try_for_each(validate_condition),
    }
}

/// One change per attribute: DynamoDB refuses overlapping paths in one update.
pub fn validate_update(update: &Update) -> StoreResult<()> {
    let mut seen = std::collections::BTreeSet::new();
    let names = update
        .set
        .iter()
        .map(|(n, _)| n)
        .chain(&update.remove)
        .chain(update.add.iter().map(|(n, _)| n));
    for name in names {
        check_name(name)?;
        if !seen.insert(name) {
            return Err(StoreError::Invalid(format!(
                "two changes to {name} in one update"
            )));
        }
    }
    Ok(())
}

/// Evaluates writes against the current state before anything is written: the new state of
/// each written item (`None` = deleted), or the first write whose condition fails.
pub fn plan(
    ops: &[WriteOp],
    mut read: impl FnMut(&Key) -> StoreResult<Option<Item>>,
) -> StoreResult<Vec<(Key, Option<Item>)>> {
    let mut writes = Vec::with_capacity(ops.len());
    for (index, op) in ops.iter().enumerate() {
        // An unconditional put or delete does not depend on what is there: no read.
        let blind = matches!(
            op,
            WriteOp::Put {
                condition: None,
                ..
            } | WriteOp::Delete {
                condition: None,
                ..
            }
        );
        let current = if blind { None } else { read(op.key())? };
        match outcome(op, current.as_ref())? {
            Outcome::Failed { key, condition } => {
                return Err(StoreError::TransactionCanceled {
                    index,
                    key,
                    condition,
                })
            }
            Outcome::Unchanged => {}
            Outcome::Write(state) => writes.push((op.key().clone(), state)),
        }
    }
    Ok(writes)
}

/// One write outside a transaction: its new state, or `ConditionFailed`.
pub fn plan_one(
    op: &WriteOp,
    read: impl FnMut(&Key) -> StoreResult<Option<Item>>,
) -> StoreResult<(Key, Option<Item>)> {
    match plan(std::slice::from_ref(op), read) {
        Ok(mut writes) => writes
            .pop()
            .ok_or_else(|| StoreError::Invalid("a condition check alone writes nothing".into())),
        Err(StoreError::TransactionCanceled { key, condition, .. }) => {
            Err(StoreError::ConditionFailed { key, condition })
        }
        Err(e) => Err(e),
    }
}
