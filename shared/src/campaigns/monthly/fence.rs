//! Who may write a unit's items. A queue message can be delivered twice at once, or again
//! after a delivery crashed halfway; both write the same keys. Each attempt takes a fence
//! token on the unit's own item (an atomic counter: the latest attempt holds it), every
//! write is a transaction that checks the token, and the completion removes it. So an
//! attempt that crashed is simply taken over and its items rewritten, and of two attempts
//! at once only the latest writes: the results never mix the two. No clock is involved.

use crate::app::App;
use crate::store::{Condition, Item, Key, StoreError, StoreResult, Update, WriteOp};

const FENCE: &str = "fence";

#[derive(Debug)]
pub struct Fence {
    key: Key,
    token: i64,
}

/// The fence was taken by a later attempt: it writes (and completes) the unit now.
#[derive(Debug)]
pub struct Lost;

impl Fence {
    /// Takes the right to write the unit of `key` (creating the item if needed); `None`
    /// when the unit is complete already (its item has `done`).
    pub async fn take(app: &App, key: &Key, done: &str) -> StoreResult<Option<Fence>> {
        let update = Update::new().add(FENCE, 1);
        let complete = Some(Condition::AttrMissing(done.to_owned()));
        match app.store.update(key, update, complete).await {
            Ok(item) => Ok(Some(Fence {
                key: key.clone(),
                token: item.n(FENCE).unwrap_or(0),
            })),
            Err(StoreError::ConditionFailed { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn holds(&self) -> WriteOp {
        WriteOp::Check {
            key: self.key.clone(),
            condition: Condition::equals(FENCE, self.token),
        }
    }

    /// Writes one item while the fence holds.
    pub async fn put(&self, app: &App, item: Item) -> StoreResult<Result<(), Lost>> {
        let ops = vec![
            self.holds(),
            WriteOp::Put {
                item,
                condition: None,
            },
        ];
        match app.store.transact(ops).await {
            Ok(()) => Ok(Ok(())),
            Err(StoreError::TransactionCanceled { index: 0, .. }) => Ok(Err(Lost)),
            Err(e) => Err(e),
        }
    }

    /// The write that completes the unit (first in its completing transaction): `update`
    /// on the fenced item, which must set `done`, and the fence removed.
    pub fn complete(&self, update: Update) -> WriteOp {
        WriteOp::Update {
            key: self.key.clone(),
            update: update.remove(FENCE),
            condition: Some(Condition::equals(FENCE, self.token)),
        }
    }
}
