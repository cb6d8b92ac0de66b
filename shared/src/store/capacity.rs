//! What a write costs on DynamoDB on-demand, from the item itself, by the sizing rules AWS
//! documents ("Item sizes and formats"; "Read/write capacity mode"): an item's size is the
//! UTF-8 length of every attribute name plus its value (a string's UTF-8 length, a number
//! about one byte per two significant digits plus one, a boolean one byte); a standard write
//! costs one write unit per started KB, a transactional write twice that; a global secondary
//! index whose key the item carries costs one more write of the projected item.
//! moto does not meter capacity, so tests and docs/BENCHMARKS.md use this to count units.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::Condition;
use super::{
    Attr, Index, Item, Key, Page, Query, Scan, Store, StoreResult, Update, WriteOp, GSI1_PK,
    GSI1_SK, GSI2_PK, GSI2_SK, PK, SK,
};

const KB: usize = 1024;
/// A strongly consistent read unit covers 4 KB; an eventually consistent one 8 KB.
const READ_KB: usize = 4 * KB;

fn number_size(n: i64) -> usize {
    let digits = n.unsigned_abs().to_string();
    let significant = digits.trim_end_matches('0').len().max(1);
    significant.div_ceil(2) + 1
}

fn value_size(value: &Attr) -> usize {
    match value {
        Attr::S(s) => s.len(),
        Attr::N(n) => number_size(*n),
        Attr::B(_) => 1,
    }
}

/// The item's size as DynamoDB counts it, keys included.
pub fn item_size(item: &Item) -> usize {
    PK.len()
        + item.key.pk.len()
        + SK.len()
        + item.key.sk.len()
        + item
            .attrs
            .iter()
            .map(|(name, value)| name.len() + value_size(value))
            .sum::<usize>()
}

/// Write units of one standard (non-transactional) write of `size` bytes.
pub fn write_units(size: usize) -> usize {
    size.div_ceil(KB).max(1)
}

/// Which attributes an index copies from the table (`Projection` in template.yaml).
#[derive(Clone, Copy, Debug)]
pub enum Projection {
    All,
    /// The keys and these attributes.
    Include(&'static [&'static str]),
}

/// The projection of `gsi1` in template.yaml.
pub const GSI1_PROJECTION: Projection = Projection::All;

/// The item as `gsi1` stores it, if the item is indexed.
pub fn gsi1_projection(item: &Item, projection: Projection) -> Option<Item> {
    if !item.attrs.contains_key(GSI1_PK) || !item.attrs.contains_key(GSI1_SK) {
        return None;
    }
    let projected = match projection {
        Projection::All => return Some(item.clone()),
        Projection::Include(names) => names,
    };
    let mut copy = Item::new(item.key.clone());
    for name in [GSI1_PK, GSI1_SK].iter().chain(projected) {
        if let Some(v) = item.attrs.get(*name) {
            copy.attrs.insert((*name).to_owned(), v.clone());
        }
    }
    Some(copy)
}

/// Write units of `gsi2` (keys only, template.yaml) for one write: an entry written when
/// it appears, leaves or changes key; updates of other attributes leave it alone.
fn gsi2_cost(before: &Option<Item>, after: &Option<Item>) -> usize {
    let entry = |item: &Option<Item>| {
        let item = item.as_ref()?;
        let (pk, sk) = item.index_key(Index::Gsi2)?;
        let keys = Item::new(item.key.clone())
            .with(GSI2_PK, pk)
            .with(GSI2_SK, sk);
        Some(((pk.to_owned(), sk.to_owned()), item_size(&keys)))
    };
    match (entry(before), entry(after)) {
        (None, None) => 0,
        (Some((k0, _)), Some((k1, _))) if k0 == k1 => 0,
        (Some((_, s0)), Some((_, s1))) => write_units(s0) + write_units(s1),
        (Some((_, s)), None) | (None, Some((_, s))) => write_units(s),
    }
}

/// Read units of a strongly consistent read of `size` bytes.
pub fn read_units(size: usize) -> f64 {
    size.div_ceil(READ_KB).max(1) as f64
}

/// Capacity units counted by [`Metered`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Units {
    pub write: f64,
    pub read: f64,
}

/// A store that counts the units each call would consume on DynamoDB on-demand (table and
/// `gsi1`, with the given projection), around any other store. For measuring, not for
/// production: it reads each written item before and after the write to know its sizes.
pub struct Metered {
    inner: Arc<dyn Store>,
    gsi1: Projection,
    units: Mutex<Units>,
}

impl Metered {
    pub fn new(inner: Arc<dyn Store>, gsi1: Projection) -> Self {
        Metered {
            inner,
            gsi1,
            units: Mutex::default(),
        }
    }

    /// Units so far, and starts counting again from zero.
    pub fn take(&self) -> Units {
        self.units
            .lock()
            .map(|mut u| std::mem::take(&mut *u))
            .unwrap_or_default()
    }

    fn add(&self, units: Units) {
        if let Ok(mut u) = self.units.lock() {
            u.write += units.write;
            u.read += units.read;
        }
    }

    fn index_entry(&self, item: &Option<Item>) -> Option<(String, String, usize)> {
        let item = item.as_ref()?;
        let projected = gsi1_projection(item, self.gsi1)?;
        Some((
            projected.s(GSI1_PK)?.to_owned(),
            projected.s(GSI1_SK)?.to_owned(),
            item_size(&projected),
        ))
    }

    /// The units of one write of `key`, from the item before and after it; `factor` 2 for a
    /// transactional write.
    fn write_cost(&self, before: &Option<Item>, after: &Option<Item>, factor: f64) -> f64 {
        let size = |i: &Option<Item>| i.as_ref().map(item_size).unwrap_or(0);
        let table = write_units(size(before).max(size(after))) as f64 * factor;
        let index = match (self.index_entry(before), self.index_entry(after)) {
            (None, None) => 0,
            (Some((_, _, s)), None) | (None, Some((_, _, s))) => write_units(s),
            (Some((pk0, sk0, s0)), Some((pk1, sk1, s1))) if pk0 == pk1 && sk0 == sk1 => {
                // Unchanged entry: written again only if a projected attribute changed.
                if s0 == s1 && before == after {
                    0
                } else {
                    write_units(s0.max(s1))
                }
            }
            // A new index key: the old entry is deleted and a new one written.
            (Some((_, _, s0)), Some((_, _, s1))) => write_units(s0) + write_units(s1),
        };
        table + (index + gsi2_cost(before, after)) as f64
    }

    async fn metered_write<T>(
        &self,
        keys: &[&Key],
        factor: f64,
        write: impl std::future::Future<Output = StoreResult<T>>,
    ) -> StoreResult<T> {
        let mut before = Vec::with_capacity(keys.len());
        for key in keys {
            before.push(self.inner.get(key).await?);
        }
        let result = write.await;
        let mut write_units = 0.0;
        for (key, before) in keys.iter().zip(&before) {
            let after = self.inner.get(key).await?;
            write_units += self.write_cost(before, &after, factor);
        }
        self.add(Units {
            write: write_units,
            read: 0.0,
        });
        result
    }

    fn page_read(&self, page: &StoreResult<Page>, consistent: bool) {
        if let Ok(page) = page {
            let size: usize = page.items.iter().map(item_size).sum();
            let units = read_units(size);
            self.add(Units {
                write: 0.0,
                read: if consistent { units } else { units / 2.0 },
            });
        }
    }
}

#[async_trait]
impl Store for Metered {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        let item = self.inner.get(key).await?;
        self.add(Units {
            write: 0.0,
            read: read_units(item.as_ref().map(item_size).unwrap_or(0)),
        });
        Ok(item)
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> StoreResult<()> {
        let key = item.key.clone();
        self.metered_write(&[&key], 1.0, self.inner.put(item, condition))
            .await
    }

    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Option<Condition>,
    ) -> StoreResult<Item> {
        self.metered_write(&[key], 1.0, self.inner.update(key, update, condition))
            .await
    }

    async fn delete(&self, key: &Key, condition: Option<Condition>) -> StoreResult<()> {
        self.metered_write(&[key], 1.0, self.inner.delete(key, condition))
            .await
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> StoreResult<()> {
        let keys: Vec<Key> = ops.iter().map(|op| op.key().clone()).collect();
        let refs: Vec<&Key> = keys.iter().collect();
        self.metered_write(&refs, 2.0, self.inner.transact(ops))
            .await
    }

    async fn query(&self, query: Query) -> StoreResult<Page> {
        // Strongly consistent on the table, eventually consistent on the index (as the
        // DynamoDB adapter asks).
        let consistent = query.index == Index::Table;
        let page = self.inner.query(query).await;
        self.page_read(&page, consistent);
        page
    }

    async fn scan(&self, scan: Scan) -> StoreResult<Page> {
        let page = self.inner.scan(scan).await;
        self.page_read(&page, true);
        page
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Key;

    #[test]
    fn sizes_follow_the_documented_rules() {
        assert_eq!(number_size(0), 2);
        assert_eq!(number_size(7), 2);
        assert_eq!(number_size(1200), 2, "trailing zeros are not significant");
        assert_eq!(number_size(123), 3);
        assert_eq!(number_size(-123456), 4);
        let item = Item::new(Key::new("ab", "c"))
            .with("name", "é")
            .with("n", 42);
        // pk(2)+ab(2) + sk(2)+c(1) + name(4)+é(2 bytes) + n(1)+42(2)
        assert_eq!(item_size(&item), 16);
        assert_eq!(write_units(1), 1);
        assert_eq!(write_units(1024), 1);
        assert_eq!(write_units(1025), 2);
    }

    #[test]
    fn only_indexed_items_have_a_projection() {
        let plain = Item::new(Key::new("a", "b")).with("x", "y");
        assert_eq!(gsi1_projection(&plain, Projection::All), None);
        let indexed = plain.with(GSI1_PK, "P").with(GSI1_SK, "s");
        assert_eq!(
            gsi1_projection(&indexed, Projection::All).as_ref(),
            Some(&indexed)
        );
        let projected = gsi1_projection(&indexed, Projection::Include(&[])).unwrap();
        assert!(!projected.attrs.contains_key("x"));
        assert_eq!(projected.s(GSI1_PK), Some("P"));
    }
}
