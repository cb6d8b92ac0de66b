//! The item model shared by every store adapter, shaped like DynamoDB: items addressed by
//! partition key + sort key, conditions, updates and the writes of a transaction.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Attribute names with a meaning to every adapter.
pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1_PK: &str = "gsi1pk";
pub const GSI1_SK: &str = "gsi1sk";
/// The second index (`gsi2`): the journeys of an operator by start time (see
/// `records::journey::ListingEntry`). Its sort key is the journey item's own
/// `passenger_start` attribute, so that the entry adds only `gsi2pk` to the item (a
/// journey item stays within one write unit).
pub const GSI2_PK: &str = "gsi2pk";
pub const GSI2_SK: &str = "passenger_start";
/// Epoch seconds after which the item may be deleted (DynamoDB TTL); adapters may purge it.
pub const TTL: &str = "ttl";

/// An attribute value. Numbers are integers (cents, metres, seconds, counters); structured
/// documents are stored as JSON strings.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Attr {
    S(String),
    N(i64),
    B(bool),
}

impl From<&str> for Attr {
    fn from(v: &str) -> Self {
        Attr::S(v.to_owned())
    }
}
impl From<String> for Attr {
    fn from(v: String) -> Self {
        Attr::S(v)
    }
}
impl From<i64> for Attr {
    fn from(v: i64) -> Self {
        Attr::N(v)
    }
}
impl From<bool> for Attr {
    fn from(v: bool) -> Self {
        Attr::B(v)
    }
}

/// The primary key of an item.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Key {
            pk: pk.into(),
            sk: sk.into(),
        }
    }
}

/// An item: its key and its other attributes (never `pk`/`sk` themselves).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub key: Key,
    pub attrs: BTreeMap<String, Attr>,
}

impl Item {
    pub fn new(key: Key) -> Self {
        Item {
            key,
            attrs: BTreeMap::new(),
        }
    }

    pub fn with(mut self, name: &str, value: impl Into<Attr>) -> Self {
        self.attrs.insert(name.to_owned(), value.into());
        self
    }

    pub fn set(&mut self, name: &str, value: impl Into<Attr>) {
        self.attrs.insert(name.to_owned(), value.into());
    }

    pub fn s(&self, name: &str) -> Option<&str> {
        match self.attrs.get(name) {
            Some(Attr::S(s)) => Some(s),
            _ => None,
        }
    }

    pub fn n(&self, name: &str) -> Option<i64> {
        match self.attrs.get(name) {
            Some(Attr::N(n)) => Some(*n),
            _ => None,
        }
    }

    pub fn b(&self, name: &str) -> Option<bool> {
        match self.attrs.get(name) {
            Some(Attr::B(b)) => Some(*b),
            _ => None,
        }
    }

    /// The item's key in the secondary index, when it is projected there (sparse index).
    pub fn gsi1(&self) -> Option<(&str, &str)> {
        Some((self.s(GSI1_PK)?, self.s(GSI1_SK)?))
    }

    /// The item's key in `index` (its table key for [`Index::Table`]); `None` when the
    /// item is not in that (sparse) index.
    pub fn index_key(&self, index: Index) -> Option<(&str, &str)> {
        match index.key_names() {
            None => Some((&self.key.pk, &self.key.sk)),
            Some((pk, sk)) => Some((self.s(pk)?, self.s(sk)?)),
        }
    }
}

/// A condition on the current state of one item, checked atomically with the write.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    /// The item does not exist (create-if-absent).
    NotExists,
    /// The item exists.
    Exists,
    /// The attribute exists and equals the value.
    Equals(String, Attr),
    /// The attribute is absent.
    AttrMissing(String),
    /// Every condition holds.
    All(Vec<Condition>),
}

impl Condition {
    pub fn equals(name: &str, value: impl Into<Attr>) -> Self {
        Condition::Equals(name.to_owned(), value.into())
    }
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Condition::NotExists => write!(f, "item does not exist"),
            Condition::Exists => write!(f, "item exists"),
            // Names only: values may be hashes of personal data and errors reach logs.
            Condition::Equals(n, _) => write!(f, "{n} equals the expected value"),
            Condition::AttrMissing(n) => write!(f, "{n} is absent"),
            Condition::All(cs) => {
                let parts: Vec<String> = cs.iter().map(|c| c.to_string()).collect();
                write!(f, "{}", parts.join(" and "))
            }
        }
    }
}

/// Changes to one item. Like DynamoDB's UpdateItem it creates the item when it is absent
/// (unless a condition forbids it); `add` is an atomic counter increment from 0.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Update {
    pub set: Vec<(String, Attr)>,
    pub remove: Vec<String>,
    pub add: Vec<(String, i64)>,
}

impl Update {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn set(mut self, name: &str, value: impl Into<Attr>) -> Self {
        self.set.push((name.to_owned(), value.into()));
        self
    }
    pub fn remove(mut self, name: &str) -> Self {
        self.remove.push(name.to_owned());
        self
    }
    pub fn add(mut self, name: &str, by: i64) -> Self {
        self.add.push((name.to_owned(), by));
        self
    }
}

/// One write of a transaction.
#[derive(Clone, Debug, PartialEq)]
pub enum WriteOp {
    Put {
        item: Item,
        condition: Option<Condition>,
    },
    Update {
        key: Key,
        update: Update,
        condition: Option<Condition>,
    },
    Delete {
        key: Key,
        condition: Option<Condition>,
    },
    /// Only checks a condition on an item that the transaction does not write.
    Check { key: Key, condition: Condition },
}

impl WriteOp {
    pub fn key(&self) -> &Key {
        match self {
            WriteOp::Put { item, .. } => &item.key,
            WriteOp::Update { key, .. }
            | WriteOp::Delete { key, .. }
            | WriteOp::Check { key, .. } => key,
        }
    }
    pub fn condition(&self) -> Option<&Condition> {
        match self {
            WriteOp::Put { condition, .. }
            | WriteOp::Update { condition, .. }
            | WriteOp::Delete { condition, .. } => condition.as_ref(),
            WriteOp::Check { condition, .. } => Some(condition),
        }
    }
}

/// Which key a query addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Index {
    Table,
    Gsi1,
    Gsi2,
}

impl Index {
    /// The secondary indexes, each with its key attributes.
    pub const SECONDARY: [(Index, &'static str, &'static str); 2] = [
        (Index::Gsi1, GSI1_PK, GSI1_SK),
        (Index::Gsi2, GSI2_PK, GSI2_SK),
    ];

    /// The attribute names of a secondary index's key; `None` for the table.
    pub fn key_names(self) -> Option<(&'static str, &'static str)> {
        match self {
            Index::Table => None,
            Index::Gsi1 => Some((GSI1_PK, GSI1_SK)),
            Index::Gsi2 => Some((GSI2_PK, GSI2_SK)),
        }
    }

    /// The index's name in DynamoDB; `None` for the table.
    pub fn name(self) -> Option<&'static str> {
        match self {
            Index::Table => None,
            Index::Gsi1 => Some("gsi1"),
            Index::Gsi2 => Some("gsi2"),
        }
    }
}

/// A sort-key condition of a query (on `sk`, or on `gsi1sk` for the index).
#[derive(Clone, Debug, PartialEq)]
pub enum SkRange {
    All,
    Eq(String),
    BeginsWith(String),
    /// Inclusive on both ends, like DynamoDB's BETWEEN.
    Between(String, String),
    Gte(String),
    Lte(String),
}

impl SkRange {
    pub fn contains(&self, sk: &str) -> bool {
        match self {
            SkRange::All => true,
            SkRange::Eq(v) => sk == v,
            SkRange::BeginsWith(p) => sk.starts_with(p.as_str()),
            SkRange::Between(a, b) => sk >= a.as_str() && sk <= b.as_str(),
            SkRange::Gte(v) => sk >= v.as_str(),
            SkRange::Lte(v) => sk <= v.as_str(),
        }
    }
}
