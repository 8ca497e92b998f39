//! council: run a panel of models on one question, have a judge map where
//! they agree and disagree, and stream a synthesis.
//!
//! The library is the engine (providers, orchestration, judge, config); the
//! binary's fronts (`council ask`, the TUI) only consume its event stream.

pub mod config;
pub mod engine;
pub mod models;
pub mod paths;
pub mod provider;
pub mod sanitize;
pub mod session;
pub mod tui;

pub use engine::{Council, CouncilEvent, RunHandle, RunOptions, RunReport, run};
