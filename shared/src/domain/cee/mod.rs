//! The CEE rules (../shared/cee.md): the request fields, who is eligible, and the signed
//! tokens that answer a registration.

pub mod fields;
pub mod rules;
pub mod signature;
