//! A campaign's starting counters as stored: a header naming the generation in force and
//! chunks of counter rows `[holder, rest, trips, amount]` (the counters' storage form, so
//! identity keys, never phones), at most [`ROWS_PER_CHUNK`] a chunk (an item stays far
//! below DynamoDB's 400 KB). A new load writes a new generation, then the header.

use super::item::{Item, Key};
use crate::domain::campaign::counters::{CounterKey, Tally};

pub const ROWS_PER_CHUNK: usize = 2000;

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StartingHeader {
    pub generation: i64,
    pub chunks: i64,
    pub as_of: String,
    pub persons: i64,
    pub counters: i64,
    pub loaded_at: String,
}

impl StartingHeader {
    pub fn to_item(&self, key: Key) -> Item {
        Item::new(key)
            .with("generation", self.generation)
            .with("chunks", self.chunks)
            .with("as_of", self.as_of.as_str())
            .with("persons", self.persons)
            .with("counters", self.counters)
            .with("loaded_at", self.loaded_at.as_str())
    }

    pub fn from_item(item: &Item) -> StartingHeader {
        let s = |n: &str| item.s(n).unwrap_or_default().to_owned();
        let n = |n: &str| item.n(n).unwrap_or(0);
        StartingHeader {
            generation: n("generation"),
            chunks: n("chunks"),
            as_of: s("as_of"),
            persons: n("persons"),
            counters: n("counters"),
            loaded_at: s("loaded_at"),
        }
    }
}

pub fn chunk_item(key: Key, rows: &[(CounterKey, Tally)]) -> Item {
    let rows: Vec<(String, String, u64, u64)> = rows
        .iter()
        .map(|(k, t)| {
            let (holder, rest) = k.storage();
            (holder, rest, t.trips, t.amount)
        })
        .collect();
    Item::new(key).with("data", serde_json::to_string(&rows).unwrap_or_default())
}

/// The rows of a chunk; `None` when one does not read back.
pub fn chunk_rows(item: &Item) -> Option<Vec<(CounterKey, Tally)>> {
    let rows: Vec<(String, String, u64, u64)> = serde_json::from_str(item.s("data")?).ok()?;
    rows.into_iter()
        .map(|(h, r, trips, amount)| {
            Some((CounterKey::from_storage(&h, &r)?, Tally { trips, amount }))
        })
        .collect()
}
