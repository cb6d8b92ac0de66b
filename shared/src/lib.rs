//! `registry-core`: everything of the carpool proof registry that is not a `main()`.

pub mod admin;
pub mod api;
pub mod app;
mod aws_error;
pub mod campaigns;
pub mod cee;
#[cfg(feature = "render")]
pub mod certificate;
pub mod clock;
pub mod config;
pub mod domain;
pub mod jobs;
pub mod journeys;
pub mod lambda;
pub mod logging;
pub mod queue;
pub mod records;
pub mod store;
