//! Where sessions live and what the list of them shows.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

use super::{Session, SessionError, load};
use crate::config::paths;
use crate::engine::RunOutcome;

/// `~/.local/share/council/sessions`, or `$COUNCIL_SESSIONS_DIR`.
pub fn sessions_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("COUNCIL_SESSIONS_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    paths::data_dir().map(|d| d.join("sessions"))
}

/// A new session id and its creation time: sortable by time, unique.
pub fn new_id() -> (String, String) {
    let now = SystemTime::now();
    let stamp = humantime::format_rfc3339_seconds(now).to_string();
    // 2026-11-23T08:07:12Z -> 20261123-080712
    let digits: String = stamp.chars().filter(char::is_ascii_digit).collect();
    let id = format!(
        "{}-{}-{:04x}",
        &digits[..8],
        &digits[8..14],
        rand::random::<u16>()
    );
    (id, stamp)
}

/// One line of `council sessions`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionSummary {
    pub id: String,
    pub created: String,
    /// The first question.
    pub question: String,
    pub preset: Option<String>,
    pub turns: usize,
    pub cost: f64,
    /// done, failed, cancelled or interrupted (of the last turn).
    pub status: String,
    #[serde(skip)]
    pub path: PathBuf,
}

impl SessionSummary {
    pub fn of(session: &Session, path: &Path) -> Self {
        let last = session.turns.last();
        let status = if session.interrupted {
            "interrupted"
        } else {
            match last.and_then(|t| t.outcome) {
                Some(RunOutcome::Synthesized | RunOutcome::Answered) => "done",
                Some(RunOutcome::Cancelled) => "cancelled",
                _ => "failed",
            }
        };
        Self {
            id: session.header.id.clone(),
            created: session.header.created.clone(),
            question: session
                .turns
                .first()
                .map(|t| t.question.clone())
                .unwrap_or_default(),
            preset: session.header.council.preset.clone(),
            turns: session.turns.len(),
            cost: session.turns.iter().filter_map(|t| t.usage.cost).sum(),
            status: status.into(),
            path: path.to_path_buf(),
        }
    }
}

/// The session file whose id is `id`, or starts with it when only one does.
pub fn find(dir: &Path, id: &str) -> Result<PathBuf, String> {
    let exact = dir.join(format!("{id}.jsonl"));
    if exact.is_file() {
        return Ok(exact);
    }
    let matches: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "jsonl")
                && p.file_stem()
                    .is_some_and(|s| s.to_string_lossy().starts_with(id))
        })
        .collect();
    match matches.len() {
        1 => Ok(matches.into_iter().next().expect("one")),
        0 => Err(format!("no session {id} in {}", dir.display())),
        n => Err(format!("{n} sessions start with {id}: give more of the id")),
    }
}

/// Every session in `dir`, newest first; unreadable files come back as
/// errors beside the ones that loaded, never instead of them.
pub fn list(dir: &Path) -> (Vec<SessionSummary>, Vec<SessionError>) {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    paths.sort();
    paths.reverse();
    let mut summaries = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match load(&path) {
            Ok(session) => summaries.push(SessionSummary::of(&session, &path)),
            Err(e) => errors.push(e),
        }
    }
    (summaries, errors)
}
