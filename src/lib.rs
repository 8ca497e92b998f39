//! council: run a panel of models on one question, have a judge map where
//! they agree and disagree, and stream a synthesis.
//!
//! The library is the engine (providers, orchestration, judge, config) and
//! the conversation that runs it; the fronts (`council ask`, `serve`,
//! `eval`, the TUI) drive runs through the conversation and show its events.
//! What no front or test outside needs stays `pub(crate)`.
#![warn(unreachable_pub)]

pub mod attachments;
pub mod config;
pub mod conversation;
pub mod editor;
pub mod engine;
pub mod eval;
pub mod files;
pub mod logging;
pub mod models;
pub mod paths;
pub mod progress;
pub mod provider;
pub mod sanitize;
pub mod serve;
pub mod session;
pub mod tui;

pub use engine::{Council, CouncilEvent, RunHandle, RunOptions, RunReport, run};
