//! Condition checks and update application, shared by the embedded adapters (SQLite and
//! memory) so both follow DynamoDB's semantics the same way.

use super::{Attr, Condition, Item, Key, StoreError, StoreResult, Update, WriteOp, PK, SK};

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
pub enum Outcome {
    /// The item's new state (`None` = deleted).
    Write(Option<Item>),
    /// A condition check that held.
    Unchanged,
    /// The write's condition did not hold.
    Failed { key: Key, condition: String },
}

/// Evaluates one write against the item's current state without touching storage.
pub fn outcome(op: &WriteOp, current: Option<&Item>) -> StoreResult<Outcome> {
    if let Some(condition) = op.condition() {
        if !holds(condition, current) {
            return Ok(Outcome::Failed {
                key: op.key().clone(),
                condition: condition.to_string(),
            });
        }
    }
    Ok(match op {
        WriteOp::Put { item, .. } => {
            validate_item(item)?;
            Outcome::Write(Some(item.clone()))
        }
        WriteOp::Update { key, update, .. } => {
            Outcome::Write(Some(apply_update(key, current.cloned(), update)?))
        }
        WriteOp::Delete { .. } => Outcome::Write(None),
        WriteOp::Check { .. } => Outcome::Unchanged,
    })
}

pub fn validate_item(item: &Item) -> StoreResult<()> {
    if item.key.pk.is_empty() || item.key.sk.is_empty() {
        return Err(StoreError::Invalid("empty pk or sk".into()));
    }
    for name in item.attrs.keys() {
        check_name(name)?;
    }
    Ok(())
}
