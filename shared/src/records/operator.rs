//! The operator item and the counter operator ids come from.

use super::item::{Item, Update, GSI1_PK, GSI1_SK};
use super::keys;
use crate::domain::operator::{Operator, OperatorId};

impl Operator {
    /// `None` when the id is above what the store holds (i64).
    pub fn to_item(&self) -> Option<Item> {
        let mut item = Item::new(keys::operator(self.id))
            .with("id", i64::try_from(self.id.0).ok()?)
            .with("name", self.name.clone())
            .with("created_at", self.created_at.clone())
            .with(GSI1_PK, keys::OPERATORS_INDEX)
            .with(GSI1_SK, keys::operator_index_sk(self.id));
        if let Some(siret) = &self.siret {
            item.set("siret", siret.clone());
        }
        Some(item)
    }

    pub fn from_item(item: &Item) -> Option<Operator> {
        Some(Operator {
            id: OperatorId(u64::try_from(item.n("id")?).ok()?),
            name: item.s("name")?.to_owned(),
            siret: Operator::siret_of(item),
            created_at: item.s("created_at")?.to_owned(),
        })
    }

    /// Only the SIRET of an operator item (what campaign rules match on).
    pub fn siret_of(item: &Item) -> Option<String> {
        item.s("siret").map(str::to_owned)
    }
}

/// The counter operator ids come from (see [`keys::operator_counter`]).
pub struct OperatorCounter;

impl OperatorCounter {
    /// Takes the next id.
    pub fn next() -> Update {
        Update::new().add("value", 1)
    }

    /// The id taken, from the counter item after [`OperatorCounter::next`].
    pub fn id(item: &Item) -> Option<OperatorId> {
        item.n("value")
            .and_then(|n| u64::try_from(n).ok())
            .map(OperatorId)
    }
}

/// An operator's counters (see [`keys::operator_stats`]).
pub struct OperatorStats;

impl OperatorStats {
    /// Counts one journey canceled.
    pub fn canceled() -> Update {
        Update::new().add("canceled", 1)
    }
}
