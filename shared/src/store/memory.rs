//! In-memory adapter for unit tests: one map behind a mutex, same semantics as the others.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::eval;
use super::{
    check_scan, check_transaction, segment_of, Condition, Cursor, Index, Item, Key, Page, Query,
    Scan, Store, StoreError, StoreResult, Update, WriteOp,
};

#[derive(Default)]
pub struct MemoryStore {
    items: Mutex<BTreeMap<Key, Item>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> StoreResult<std::sync::MutexGuard<'_, BTreeMap<Key, Item>>> {
        self.items
            .lock()
            .map_err(|_| StoreError::Unavailable("memory store poisoned".into()))
    }

    fn write_one(&self, op: WriteOp) -> StoreResult<Option<Item>> {
        let mut items = self.lock()?;
        let (key, state) = eval::plan_one(&op, |k| Ok(items.get(k).cloned()))?;
        apply(&mut items, key, state.clone());
        Ok(state)
    }
}

fn apply(items: &mut BTreeMap<Key, Item>, key: Key, state: Option<Item>) {
    match state {
        Some(item) => items.insert(key, item),
        None => items.remove(&key),
    };
}

#[async_trait]
impl Store for MemoryStore {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        Ok(self.lock()?.get(key).cloned())
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> StoreResult<()> {
        self.write_one(WriteOp::Put { item, condition }).map(|_| ())
    }

    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Option<Condition>,
    ) -> StoreResult<Item> {
        let op = WriteOp::Update {
            key: key.clone(),
            update,
            condition,
        };
        self.write_one(op)?
            .ok_or_else(|| StoreError::Invalid("update produced no item".into()))
    }

    async fn delete(&self, key: &Key, condition: Option<Condition>) -> StoreResult<()> {
        self.write_one(WriteOp::Delete {
            key: key.clone(),
            condition,
        })
        .map(|_| ())
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> StoreResult<()> {
        check_transaction(&ops)?;
        let mut items = self.lock()?;
        for (key, state) in eval::plan(&ops, |k| Ok(items.get(k).cloned()))? {
            apply(&mut items, key, state);
        }
        Ok(())
    }

    async fn query(&self, query: Query) -> StoreResult<Page> {
        let items = self.lock()?;
        let mut matching: Vec<&Item> = match query.index {
            Index::Table => items
                .range(Key::new(query.pk.clone(), "")..)
                .take_while(|(k, _)| k.pk == query.pk)
                .filter(|(k, _)| query.sk.contains(&k.sk))
                .map(|(_, item)| item)
                .collect(),
            Index::Gsi1 | Index::Gsi2 => items
                .values()
                .filter(|item| {
                    item.index_key(query.index)
                        .is_some_and(|(pk, sk)| pk == query.pk && query.sk.contains(sk))
                })
                .collect(),
        };
        matching.sort_by(|a, b| {
            cursor::order_key(query.index, a).cmp(&cursor::order_key(query.index, b))
        });
        if query.descending {
            matching.reverse();
        }
        cursor::page(
            matching.into_iter().map(Cow::Borrowed),
            query.index,
            query.descending,
            query.cursor.as_ref(),
            query.limit,
        )
    }

    async fn scan(&self, scan: Scan) -> StoreResult<Page> {
        check_scan(&scan)?;
        let items = self.lock()?;
        let mut matching: Vec<&Item> = items
            .values()
            .filter(|item| segment_of(&item.key.pk, scan.total_segments) == scan.segment)
            .collect();
        // The cursor compares order keys, so the items must be in that order.
        matching.sort_by_cached_key(|item| cursor::order_key(Index::Table, item));
        cursor::page(
            matching.into_iter().map(Cow::Borrowed),
            Index::Table,
            false,
            scan.cursor.as_ref(),
            scan.limit,
        )
    }
}

/// Cursors of the embedded adapters: the sort position of the last item returned.
pub(crate) mod cursor {
    use super::*;

    /// The total order of a query's results: (index sort key, pk, sk).
    pub fn order_key(index: Index, item: &Item) -> (String, String, String) {
        let sk = item
            .index_key(index)
            .map(|(_, sk)| sk.to_owned())
            .unwrap_or_default();
        (sk, item.key.pk.clone(), item.key.sk.clone())
    }

    pub fn encode(position: &(String, String, String)) -> Cursor {
        Cursor(serde_json::to_string(position).unwrap_or_default())
    }

    pub fn decode(cursor: &Cursor) -> StoreResult<(String, String, String)> {
        serde_json::from_str(&cursor.0).map_err(|_| StoreError::Invalid("malformed cursor".into()))
    }

    /// Takes the page after `after` from items already in result order (borrowed from a
    /// map, or owned as a query read them: those are moved, not copied).
    pub fn page<'a>(
        ordered: impl IntoIterator<Item = Cow<'a, Item>>,
        index: Index,
        descending: bool,
        after: Option<&Cursor>,
        limit: usize,
    ) -> StoreResult<Page> {
        let after = after.map(decode).transpose()?;
        let mut rest = ordered.into_iter().filter(|item| match &after {
            None => true,
            Some(pos) if descending => order_key(index, item.as_ref()) < *pos,
            Some(pos) => order_key(index, item.as_ref()) > *pos,
        });
        let limit = limit.max(1);
        let items: Vec<Item> = rest.by_ref().take(limit).map(Cow::into_owned).collect();
        let next = match (items.last(), rest.next()) {
            (Some(last), Some(_)) => Some(encode(&order_key(index, last))),
            _ => None,
        };
        Ok(Page { items, next })
    }
}
