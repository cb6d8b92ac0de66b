//! The stored records: the item model every store adapter speaks, the single-table key
//! layout, and each kind of stored item with its conversion to and from an item.

pub mod certificate;
pub mod evidence;
pub mod item;
pub mod journey;
pub mod keys;
pub mod processing;
pub mod task;
pub mod token;
