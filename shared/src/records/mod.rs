//! The stored records: the item model every store adapter speaks, the single-table key
//! layout, and each kind of stored item with its conversion to and from an item.

pub mod campaign;
pub mod cee;
pub mod certificate;
pub mod draft;
pub mod evidence;
pub mod item;
pub mod journey;
mod journey_facts;
pub mod keys;
pub mod monthly;
pub mod operator;
pub mod processing;
pub mod rate;
pub mod run;
pub mod starting;
pub mod task;
pub mod token;
