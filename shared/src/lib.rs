//! `registry-core`: everything of the carpool proof registry that is not a `main()`.

pub mod queue;
pub mod store;
