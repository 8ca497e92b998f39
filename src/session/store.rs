//! Where sessions live and what the list of them shows.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::{Session, SessionError, load};
use crate::engine::RunOutcome;
use crate::paths;

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
    // 48 random bits: councils started in the same second by processes
    // sharing the folder practically never draw the same; the file is
    // created exclusively all the same.
    let id = format!(
        "{}-{}-{:012x}",
        &digits[..8],
        &digits[8..14],
        rand::random::<u64>() >> 16
    );
    (id, stamp)
}

/// One line of `council sessions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// `served` for a council asked through `council serve`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    #[serde(skip)]
    pub path: PathBuf,
    /// Every turn's question, in order (kept in the index, not printed).
    #[serde(skip)]
    pub(crate) questions: Vec<String>,
}

/// The index beside the sessions: each file's summary, valid while the
/// file keeps the size and modification time it had when summarized.
const INDEX: &str = ".index.json";

#[derive(Debug, Serialize, Deserialize)]
struct IndexEntry {
    file: String,
    len: u64,
    modified_ns: u128,
    summary: SessionSummary,
    /// Absent in indexes written before questions were kept: such entries
    /// are read again.
    #[serde(default)]
    questions: Option<Vec<String>>,
}

/// A session file with what tells whether its summary is still good.
struct Listed {
    path: PathBuf,
    file: String,
    len: u64,
    modified_ns: u128,
}

impl IndexEntry {
    fn of(f: &Listed, summary: &SessionSummary) -> Self {
        Self {
            file: f.file.clone(),
            len: f.len,
            modified_ns: f.modified_ns,
            summary: summary.clone(),
            questions: Some(summary.questions.clone()),
        }
    }
}

impl Listed {
    fn key(&self) -> (&str, u64, u128) {
        (&self.file, self.len, self.modified_ns)
    }
}

impl SessionSummary {
    pub(crate) fn of(session: &Session, path: &Path) -> Self {
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
            questions: session.turns.iter().map(|t| t.question.clone()).collect(),
            turns: session.turns.len(),
            cost: crate::provider::sum_costs(session.turns.iter().filter_map(|t| t.usage.cost)),
            status: status.into(),
            origin: session.header.origin.clone(),
            path: path.to_path_buf(),
        }
    }
}

/// What `last` stands for where a session id is asked for.
pub const LAST: &str = "last";

/// The session file whose id is `id`, or starts with it when only one does;
/// `last` is the session written to most recently.
pub fn find(dir: &Path, id: &str) -> Result<PathBuf, String> {
    if id == LAST {
        return latest(dir).ok_or_else(|| format!("no sessions yet in {}", dir.display()));
    }
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

impl SessionSummary {
    /// Whether `text` (case aside) is in one of the session's questions,
    /// or else in an answer, a synthesis or the judge's text of any turn
    /// (the file is read for those).
    pub fn mentions(&self, text: &str) -> bool {
        let text = text.to_lowercase();
        let has = |s: &str| s.to_lowercase().contains(&text);
        if has(&self.question) || self.questions.iter().any(|q| has(q)) {
            return true;
        }
        let Ok(session) = super::load(&self.path) else {
            return false;
        };
        session.turns.iter().any(|t| {
            has(&t.question)
                || has(&t.synthesis.text)
                || has(&t.judge.text)
                || t.members.iter().any(|m| has(&m.text))
        })
    }
}

/// Deletes the session `id` (an id, the start of one, or `last`);
/// returns the file it was.
pub fn remove(dir: &Path, id: &str) -> Result<PathBuf, String> {
    let path = find(dir, id)?;
    std::fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// The session file written to most recently (a follow-up on an old
/// session makes it the latest).
pub fn latest(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "jsonl"))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .max()
        .map(|(_, path)| path)
}

/// Every session in `dir`, newest first; unreadable files come back as
/// errors beside the ones that loaded, never instead of them.
pub fn list(dir: &Path) -> (Vec<SessionSummary>, Vec<SessionError>) {
    let mut summaries = Vec::new();
    let mut errors = Vec::new();
    list_in_batches(dir, 1024, |batch, problems| {
        summaries.extend(batch);
        errors.extend(problems);
    });
    summaries.sort_by(|a, b| b.path.cmp(&a.path));
    (summaries, errors)
}

/// The questions of the newest sessions, oldest first, at most `limit`:
/// the prompt's `↑` history after a restart.
pub fn past_questions(dir: &Path, limit: usize) -> Vec<String> {
    let (summaries, _) = list(dir);
    let mut newest_first: Vec<String> = Vec::new();
    for s in &summaries {
        newest_first.extend(s.questions.iter().rev().cloned());
        if newest_first.len() >= limit {
            break;
        }
    }
    newest_first.truncate(limit);
    newest_first.reverse();
    newest_first
}

/// Lists `dir` in batches of at most `batch` summaries, handing each to
/// `each` as soon as it is known: first every file the index still
/// describes (no file is read for them), then the new and changed files,
/// read in full. The index is brought up to date at the end.
pub fn list_in_batches(
    dir: &Path,
    batch: usize,
    mut each: impl FnMut(Vec<SessionSummary>, Vec<SessionError>),
) {
    let mut files: Vec<Listed> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let e = e.ok()?;
            let path = e.path();
            if path.extension().is_none_or(|x| x != "jsonl") {
                return None;
            }
            let meta = e.metadata().ok()?;
            let modified_ns = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            Some(Listed {
                file: path.file_name()?.to_string_lossy().into_owned(),
                path,
                len: meta.len(),
                modified_ns,
            })
        })
        .collect();
    files.sort_by(|a, b| b.file.cmp(&a.file));

    let index_path = dir.join(INDEX);
    let index: Vec<IndexEntry> =
        crate::files::read_capped(&index_path, crate::files::SESSION_BYTES)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
    let mut known: std::collections::HashMap<(&str, u64, u128), SessionSummary> = index
        .iter()
        .filter_map(|e| {
            let summary = SessionSummary {
                questions: e.questions.clone()?,
                ..e.summary.clone()
            };
            Some(((e.file.as_str(), e.len, e.modified_ns), summary))
        })
        .collect();

    let mut fresh = Vec::new();
    let mut stale = Vec::new();
    let mut entries: Vec<IndexEntry> = Vec::with_capacity(files.len());
    for f in &files {
        match known.remove(&f.key()) {
            Some(summary) => {
                entries.push(IndexEntry::of(f, &summary));
                fresh.push(SessionSummary {
                    path: f.path.clone(),
                    ..summary
                });
            }
            None => stale.push(f),
        }
    }
    for chunk in fresh.chunks(batch.max(1)) {
        each(chunk.to_vec(), Vec::new());
    }
    let changed = !stale.is_empty() || entries.len() != index.len();
    for chunk in stale.chunks(batch.max(1)) {
        let mut summaries = Vec::new();
        let mut errors = Vec::new();
        for f in chunk {
            match load(&f.path) {
                Ok(session) => {
                    let summary = SessionSummary::of(&session, &f.path);
                    // A run still being written is read again next time.
                    if !session.interrupted {
                        entries.push(IndexEntry::of(f, &summary));
                    }
                    summaries.push(summary);
                }
                Err(e) => errors.push(e),
            }
        }
        each(summaries, errors);
    }
    if changed {
        write_index(&index_path, &entries);
    }
}

/// Best effort: a missing or stale index only costs a slower listing.
fn write_index(path: &Path, entries: &[IndexEntry]) {
    let Ok(json) = serde_json::to_vec(entries) else {
        return;
    };
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    if crate::paths::write_private(&tmp, json).is_ok() && std::fs::rename(&tmp, path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}
