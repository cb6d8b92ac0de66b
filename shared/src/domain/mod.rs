//! Domain types: what the registry knows, independent of HTTP and storage.

pub mod journey;
pub mod keys;
pub mod operator;
pub mod token;
