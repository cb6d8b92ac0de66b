//! Domain types: what the registry knows, independent of HTTP and storage.

pub mod anomaly;
pub mod campaign;
pub mod cee;
pub mod certificate;
pub mod country;
pub mod error;
pub mod facts;
pub mod fraud;
pub mod geo;
pub mod identity;
pub mod journey;
pub mod journey_v2;
pub mod json;
pub mod operator;
pub mod phone;
pub mod rate;
pub mod shard;
pub mod text;
pub mod token;
