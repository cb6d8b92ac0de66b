//! The storage port, shaped like DynamoDB: items addressed by partition key + sort key,
//! conditional writes, atomic counters, small transactions, queries by partition with a
//! sort-key range, one overloaded secondary index (`gsi1`) and segmented scans.
//!
//! Three adapters implement exactly the same semantics: [`dynamodb`] (production),
//! [`sqlite`] (embedded, `registry serve`) and [`memory`] (unit tests). The conformance
//! suite in `shared/tests/store_conformance.rs` runs against all three.

pub mod capacity;
pub mod dynamodb;
pub mod eval;
pub mod memory;
#[cfg(feature = "embedded")]
pub mod sqlite;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::queue::Message;

pub use crate::records::item::{
    Attr, Condition, Index, Item, Key, SkRange, Update, WriteOp, GSI1_PK, GSI1_SK, GSI2_PK,
    GSI2_SK, PK, SK, TTL,
};

#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub index: Index,
    pub pk: String,
    pub sk: SkRange,
    pub limit: usize,
    pub descending: bool,
    pub cursor: Option<Cursor>,
}

impl Query {
    pub fn partition(pk: impl Into<String>) -> Self {
        Query {
            index: Index::Table,
            pk: pk.into(),
            sk: SkRange::All,
            limit: 100,
            descending: false,
            cursor: None,
        }
    }
    pub fn index(pk: impl Into<String>) -> Self {
        Query {
            index: Index::Gsi1,
            ..Query::partition(pk)
        }
    }
    /// A query of the second index (`gsi2`): keys only in DynamoDB (read the items after),
    /// whole items in the embedded stores (`JourneyRecord::from_listing` takes either).
    pub fn index2(pk: impl Into<String>) -> Self {
        Query {
            index: Index::Gsi2,
            ..Query::partition(pk)
        }
    }
    pub fn range(mut self, sk: SkRange) -> Self {
        self.sk = sk;
        self
    }
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit.max(1);
        self
    }
    pub fn descending(mut self) -> Self {
        self.descending = true;
        self
    }
    pub fn after(mut self, cursor: Option<Cursor>) -> Self {
        self.cursor = cursor;
        self
    }
}

/// One segment of a parallel full-table scan (for batch jobs).
#[derive(Clone, Debug, PartialEq)]
pub struct Scan {
    pub segment: u32,
    pub total_segments: u32,
    pub limit: usize,
    pub cursor: Option<Cursor>,
}

/// Where a query or scan page ended: pass it back to read the next page. Opaque to callers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor(pub String);

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    pub items: Vec<Item>,
    pub next: Option<Cursor>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StoreError {
    /// A single-item write's condition did not hold.
    #[error("condition failed on {key:?}: {condition}")]
    ConditionFailed { key: Key, condition: String },
    /// A transaction was refused; `index` is the position of the first failing write.
    #[error("transaction canceled: write #{index} on {key:?} failed its condition ({condition})")]
    TransactionCanceled {
        index: usize,
        key: Key,
        condition: String,
    },
    /// The request itself is wrong (e.g. two writes on one item in a transaction).
    #[error("invalid store request: {0}")]
    Invalid(String),
    /// The backend cannot be reached or is overloaded; retrying later may work.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Maximum writes in one transaction (DynamoDB's limit is 100; we keep transactions small).
pub const MAX_TRANSACTION_WRITES: usize = 25;

/// What happened to the messages handed to [`Store::commit`].
#[derive(Debug, PartialEq)]
pub enum Outbox {
    /// Written in the same transaction as the items (embedded store + embedded queue).
    Enqueued,
    /// The items are written; these messages still have to be sent to the queue.
    ToSend(Vec<Message>),
}

#[async_trait]
pub trait Store: Send + Sync {
    /// Strongly consistent read of one item.
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>>;

    /// Strongly consistent reads of several items, answered in the order of `keys`: for
    /// batch jobs. By default the reads run concurrently; adapters may read in one call.
    async fn get_many(&self, keys: &[Key]) -> StoreResult<Vec<Option<Item>>> {
        futures::future::try_join_all(keys.iter().map(|k| self.get(k))).await
    }

    /// Writes a whole item, replacing any previous one, if the condition holds.
    async fn put(&self, item: Item, condition: Option<Condition>) -> StoreResult<()>;

    /// Applies `update` (creating the item if absent) if the condition holds; returns the
    /// item as it is after the update.
    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Option<Condition>,
    ) -> StoreResult<Item>;

    /// Deletes an item if the condition holds (deleting an absent item is not an error).
    async fn delete(&self, key: &Key, condition: Option<Condition>) -> StoreResult<()>;

    /// All writes or none. At most [`MAX_TRANSACTION_WRITES`], on distinct items.
    async fn transact(&self, ops: Vec<WriteOp>) -> StoreResult<()>;

    /// One write on its own, outside any transaction (half the units of a transactional
    /// write on DynamoDB). A condition that fails is [`StoreError::ConditionFailed`]; a
    /// `Check` has no single-item form and is refused.
    async fn write(&self, op: WriteOp) -> StoreResult<()> {
        match op {
            WriteOp::Put { item, condition } => self.put(item, condition).await,
            WriteOp::Update {
                key,
                update,
                condition,
            } => self.update(&key, update, condition).await.map(drop),
            WriteOp::Delete { key, condition } => self.delete(&key, condition).await,
            WriteOp::Check { .. } => Err(StoreError::Invalid(
                "a condition check is only meaningful in a transaction".into(),
            )),
        }
    }

    /// Independent writes, each on its own and concurrently: for writes that are
    /// idempotent and need not be atomic together. Stops at the first error (some of the
    /// others may have been written).
    async fn write_each(&self, ops: Vec<WriteOp>) -> StoreResult<()> {
        futures::future::try_join_all(ops.into_iter().map(|op| self.write(op)))
            .await
            .map(drop)
    }

    /// A transaction plus queue messages that must not be lost. Adapters that share a
    /// transaction with their queue write the messages atomically with the items; the
    /// others write the items and hand the messages back for the caller to send (a
    /// failure between the two is repaired by the sweeper, consumers are idempotent).
    async fn commit(&self, mut ops: Vec<WriteOp>, messages: Vec<Message>) -> StoreResult<Outbox> {
        // A single write needs no transaction (half the cost on DynamoDB); its condition
        // failure is reported like a transaction's so callers handle one error shape.
        let first = |e| match e {
            StoreError::ConditionFailed { key, condition } => StoreError::TransactionCanceled {
                index: 0,
                key,
                condition,
            },
            other => other,
        };
        match (ops.len(), ops.pop()) {
            (0, _) | (_, None) => {}
            (1, Some(op)) if !matches!(op, WriteOp::Check { .. }) => {
                self.write(op).await.map_err(first)?
            }
            (_, Some(last)) => {
                ops.push(last);
                self.transact(ops).await?;
            }
        }
        Ok(Outbox::ToSend(messages))
    }

    /// Items of one partition (table or index), in sort-key order, one page at a time.
    async fn query(&self, query: Query) -> StoreResult<Page>;

    /// One segment of a full scan. The segments of one `total_segments` partition the table.
    async fn scan(&self, scan: Scan) -> StoreResult<Page>;
}

/// Every item of the store, in key order: one segment, page after page. For tests and
/// small stores (it holds the whole table in memory).
pub async fn scan_all(store: &dyn Store) -> StoreResult<Vec<Item>> {
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .scan(Scan {
                segment: 0,
                total_segments: 1,
                limit: 1000,
                cursor,
            })
            .await?;
        items.extend(page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    items.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(items)
}

/// Checks the shape every adapter refuses in the same way.
pub(crate) fn check_transaction(ops: &[WriteOp]) -> StoreResult<()> {
    if ops.is_empty() {
        return Err(StoreError::Invalid("empty transaction".into()));
    }
    if ops.len() > MAX_TRANSACTION_WRITES {
        return Err(StoreError::Invalid(format!(
            "{} writes in one transaction (max {MAX_TRANSACTION_WRITES})",
            ops.len()
        )));
    }
    let mut seen = std::collections::BTreeSet::new();
    for op in ops {
        if !seen.insert(op.key()) {
            return Err(StoreError::Invalid(format!(
                "two writes on {:?} in one transaction",
                op.key()
            )));
        }
    }
    Ok(())
}

/// The segment must be one of `total_segments` (all adapters refuse the same way).
pub(crate) fn check_scan(scan: &Scan) -> StoreResult<()> {
    if scan.total_segments == 0 || scan.segment >= scan.total_segments {
        return Err(StoreError::Invalid(format!(
            "segment {} of {}",
            scan.segment, scan.total_segments
        )));
    }
    Ok(())
}

/// Stable shard of a partition key, used by the embedded adapters to split scans.
pub(crate) fn segment_of(pk: &str, total: u32) -> u32 {
    crate::domain::shard::fnv1a(pk) % total.max(1)
}
