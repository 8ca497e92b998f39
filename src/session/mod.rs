//! Sessions: every deliberation kept on disk as it happens, as a versioned,
//! append-only JSON Lines log (one header line, then one line per council
//! event, consecutive token deltas merged). Appending never rewrites what
//! was written, so a crash loses at most what had not been flushed; a torn
//! last line is ignored on load and the run is marked interrupted.

pub mod export;
mod log;
mod recorder;
mod store;

pub use log::{FLUSH_EVERY, LOCK_WAIT, SessionLock, SessionWriter, load};
pub use recorder::{OnError, Recorder};
pub use store::{
    LAST, SessionSummary, find, latest, list, list_in_batches, new_id, past_questions, remove,
    sessions_dir,
};

use serde::{Deserialize, Serialize};

use crate::config::CouncilPlan;
use crate::engine::RunReport;

/// The format's name in every header, and its version. A file of a newer
/// version is refused with a clear error rather than misread.
pub const FORMAT: &str = "council-session";
pub const VERSION: u32 = 1;

/// The first line of a session file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub(crate) format: String,
    pub version: u32,
    pub id: String,
    /// RFC 3339, UTC.
    pub(crate) created: String,
    /// The council's seats: models and settings, never keys.
    pub council: CouncilPlan,
    /// Which front ran it, when not a person at this terminal (`served`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

impl Session {}

/// A session as loaded: its header and each turn folded into a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub header: Header,
    pub turns: Vec<RunReport>,
    /// The last turn never finished (the process died or was killed).
    pub interrupted: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("{path}: {message}")]
    Corrupt { path: String, message: String },
    #[error(
        "{path}: written by a newer council (session format {version}; this one reads up to {VERSION})"
    )]
    Newer { path: String, version: u32 },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}
