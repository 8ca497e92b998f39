//! The council engine: orchestration, judge and synthesis. Knows nothing of
//! terminals; every front consumes the same [`CouncilEvent`] stream.

pub mod council;
pub(crate) mod deliberation;
pub(crate) mod estimate;
pub mod events;
pub(crate) mod fence;
pub mod judge;
pub mod orchestrator;
pub mod provenance;
pub(crate) mod ranking;
pub(crate) mod report;
pub(crate) mod revision;
pub(crate) mod synthesis;
pub(crate) mod trace;

pub use council::{Council, Seat, SeatSpec};
pub use estimate::CostEstimate;
pub use events::{CouncilEvent, RunOutcome, RunScope, SeatInfo, SeatRole};
pub use orchestrator::{
    Basis, ContextMode, PastTurn, RunCanceller, RunHandle, RunOptions, run, run_scoped,
};
pub use report::{RunReport, Status, SynthesisFeed};
