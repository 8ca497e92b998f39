//! Writing a session as it happens, and reading it back.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{FORMAT, Header, Session, SessionError, VERSION};
use crate::config::CouncilPlan;
use crate::engine::{CouncilEvent, RunReport, RunScope};

/// Streamed text reaches the file at least this often.
pub const FLUSH_EVERY: Duration = Duration::from_millis(200);

/// One line after the header.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    turn: u32,
    event: CouncilEvent,
}

/// Appends a run's events to its session file.
pub struct SessionWriter {
    path: PathBuf,
    out: BufWriter<File>,
    /// Turns begun so far; the current one is `turns - 1`.
    turns: u32,
    /// Text held back, one entry per stream (a member, its reasoning, the
    /// judge, the synthesis), merging the deltas that follow. Written before
    /// any stage event, so every stream's text precedes its end.
    pending: Vec<CouncilEvent>,
    last_flush: Instant,
}

impl SessionWriter {
    /// Starts a new session file `<dir>/<id>.jsonl` (never over an existing
    /// one), recording which front ran it when not a person at this
    /// terminal (`served`).
    pub fn create(
        dir: &Path,
        id: &str,
        created: &str,
        council: CouncilPlan,
        origin: Option<&str>,
    ) -> std::io::Result<Self> {
        crate::paths::create_private_dir(dir)?;
        let path = dir.join(format!("{id}.jsonl"));
        let file = crate::paths::private_file()
            .create_new(true)
            .append(true)
            .open(&path)?;
        Self::begin(file, path, id, created, council, origin)
    }

    /// Writes the header of a session into `file`, reserved empty at `path`
    /// (see [`reserve`]).
    pub(crate) fn begin(
        file: File,
        path: PathBuf,
        id: &str,
        created: &str,
        mut council: CouncilPlan,
        origin: Option<&str>,
    ) -> std::io::Result<Self> {
        // A URL's user and password are credentials: never saved.
        for endpoint in council.endpoints.values_mut() {
            endpoint.base_url = crate::sanitize::url_without_userinfo(&endpoint.base_url);
        }
        let mut out = BufWriter::new(file);
        let header = Header {
            format: FORMAT.into(),
            version: VERSION,
            id: id.into(),
            created: created.into(),
            council,
            origin: origin.map(str::to_string),
        };
        serde_json::to_writer(&mut out, &header)?;
        out.write_all(b"\n")?;
        out.flush()?;
        Ok(Self {
            path,
            out,
            turns: 0,
            pending: Vec::new(),
            last_flush: Instant::now(),
        })
    }

    /// Continues `path`, whose session has `turns` turns; the next run is
    /// a new turn. A torn last line is cut off first.
    pub(crate) fn append(path: &Path, turns: usize) -> std::io::Result<Self> {
        // Half a record (a killed write, a full disk) would sit between
        // two turns and make the file unreadable: it goes.
        crate::files::cut_torn_tail(path)?;
        let file = File::options().append(true).open(path)?;
        let out = BufWriter::new(file);
        Ok(Self {
            path: path.to_path_buf(),
            out,
            turns: turns as u32,
            pending: Vec::new(),
            last_flush: Instant::now(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records one event. Stage changes are flushed at once; text is merged
    /// and flushed at least every [`FLUSH_EVERY`].
    pub fn record(&mut self, event: &CouncilEvent) -> std::io::Result<()> {
        if let CouncilEvent::RunStarted {
            scope: RunScope::Full,
            ..
        } = event
        {
            self.flush()?;
            self.turns += 1;
        }
        if is_text(event) {
            if !self.pending.iter_mut().any(|p| merge(p, event)) {
                self.pending.push(event.clone());
            }
            return self.tick();
        }
        self.write_pending()?;
        self.write(event)?;
        self.flush()
    }

    /// Flushes when text has waited long enough; call it on a timer too.
    pub(crate) fn tick(&mut self) -> std::io::Result<()> {
        if self.last_flush.elapsed() >= FLUSH_EVERY {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes everything held back and hands it to the operating system.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.write_pending()?;
        self.out.flush()?;
        self.last_flush = Instant::now();
        Ok(())
    }

    fn write_pending(&mut self) -> std::io::Result<()> {
        for event in std::mem::take(&mut self.pending) {
            self.write(&event)?;
        }
        Ok(())
    }

    fn write(&mut self, event: &CouncilEvent) -> std::io::Result<()> {
        let record = Record {
            turn: self.turns.saturating_sub(1),
            event: event.clone(),
        };
        serde_json::to_writer(&mut self.out, &record)?;
        self.out.write_all(b"\n")
    }
}

impl Drop for SessionWriter {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// A new session's file in `dir`, created empty and exclusively under a
/// fresh id: two councils (two processes sharing the folder) never share
/// a file; an id already taken is drawn again. Returns the file, its path,
/// the id and the creation time.
pub(crate) fn reserve(dir: &Path) -> std::io::Result<(File, PathBuf, String, String)> {
    crate::paths::create_private_dir(dir)?;
    let mut tries = 0;
    loop {
        let (id, created) = super::new_id();
        let path = dir.join(format!("{id}.jsonl"));
        match crate::paths::private_file()
            .create_new(true)
            .append(true)
            .open(&path)
        {
            Ok(file) => return Ok((file, path, id, created)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && tries < 16 => tries += 1,
            Err(e) => return Err(e),
        }
    }
}

/// A session's id: its file's name without `.jsonl`.
pub(super) fn id_of(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn is_text(event: &CouncilEvent) -> bool {
    matches!(
        event,
        CouncilEvent::MemberDelta { .. }
            | CouncilEvent::MemberReasoning { .. }
            | CouncilEvent::JudgeDelta { .. }
            | CouncilEvent::SynthesisDelta { .. }
    )
}

/// Appends `next` to `pending` when both are text of the same stream.
fn merge(pending: &mut CouncilEvent, next: &CouncilEvent) -> bool {
    use CouncilEvent as E;
    match (pending, next) {
        (
            E::MemberDelta { member: a, text },
            E::MemberDelta {
                member: b,
                text: more,
            },
        )
        | (
            E::MemberReasoning { member: a, text },
            E::MemberReasoning {
                member: b,
                text: more,
            },
        ) if a == b => {
            text.push_str(more);
            true
        }
        (E::JudgeDelta { text }, E::JudgeDelta { text: more })
        | (E::SynthesisDelta { text }, E::SynthesisDelta { text: more }) => {
            text.push_str(more);
            true
        }
        _ => false,
    }
}

/// How long a follow-up waits for another run on the same session to let go.
pub const LOCK_WAIT: Duration = Duration::from_secs(3);

/// Holds a session for one run: two runs appending to one session at once
/// would both write the same turn. Released when dropped.
#[derive(Debug)]
pub struct SessionLock(#[allow(dead_code)] File);

impl SessionLock {
    /// Takes the session's exclusive (advisory) lock, waiting up to
    /// [`LOCK_WAIT`] for a run that holds it; then fails naming the session.
    pub(crate) fn take(path: &Path) -> Result<Self, String> {
        let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Self(file)),
                Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < LOCK_WAIT => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    let id = path
                        .file_stem()
                        .map(|s| s.to_string_lossy())
                        .unwrap_or_default();
                    return Err(format!(
                        "session {id} is in use by another council run; ask again once it has finished"
                    ));
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(format!("{}: cannot lock: {e}", path.display()));
                }
            }
        }
    }
}

/// Reads a session file: its header and every turn. A torn last line (the
/// writer was killed mid-write) is dropped and the session is marked
/// interrupted, as is a torn line followed by the start of a new turn (a
/// follow-up appended after it); anything else unreadable is an error
/// naming the line.
pub fn load(path: &Path) -> Result<Session, SessionError> {
    let name = path.display().to_string();
    let text = crate::files::read_text_capped(path, crate::files::SESSION_BYTES).map_err(|e| {
        SessionError::Io {
            path: name.clone(),
            source: e.into(),
        }
    })?;
    let corrupt = |message: String| SessionError::Corrupt {
        path: name.clone(),
        message,
    };
    let mut lines = text.split_inclusive('\n').enumerate();
    let (_, first) = lines.next().ok_or_else(|| corrupt("empty file".into()))?;
    // Read the version before the rest, so a newer format is named as such.
    let probe: serde_json::Value = serde_json::from_str(first)
        .map_err(|e| corrupt(format!("line 1: not a session header: {e}")))?;
    if probe["format"] != FORMAT {
        return Err(corrupt("line 1: not a council session".into()));
    }
    let version = probe["version"].as_u64().unwrap_or(0) as u32;
    if version > VERSION {
        return Err(SessionError::Newer {
            path: name.clone(),
            version,
        });
    }
    let header: Header =
        serde_json::from_value(probe).map_err(|e| corrupt(format!("line 1: bad header: {e}")))?;

    let mut turns: Vec<RunReport> = Vec::new();
    let mut torn = false;
    let total = text.split_inclusive('\n').count();
    let mut lines = lines.peekable();
    while let Some((i, line)) = lines.next() {
        if line.trim().is_empty() {
            continue;
        }
        let record: Record = match serde_json::from_str(line) {
            Ok(r) => r,
            Err(_) if i + 1 == total && !line.ends_with('\n') => {
                torn = true;
                break;
            }
            Err(e) => {
                let next_starts_a_turn = lines.peek().is_some_and(|(_, next)| {
                    serde_json::from_str::<Record>(next).is_ok_and(|r| {
                        r.turn as usize == turns.len()
                            && matches!(
                                r.event,
                                CouncilEvent::RunStarted {
                                    scope: RunScope::Full,
                                    ..
                                }
                            )
                    })
                });
                if next_starts_a_turn {
                    continue;
                }
                return Err(corrupt(format!("line {}: {e}", i + 1)));
            }
        };
        // Turns come in order: a number past the next one is corrupt, and
        // never sizes memory.
        let turn = record.turn as usize;
        if turn > turns.len() {
            return Err(corrupt(format!(
                "line {}: turn {turn} comes after {} turn(s)",
                i + 1,
                turns.len()
            )));
        }
        if turn == turns.len() {
            turns.push(RunReport::default());
        }
        turns[turn].apply(&record.event);
    }
    let interrupted = torn || turns.last().is_some_and(|t| t.outcome.is_none());
    Ok(Session {
        header,
        turns,
        interrupted,
    })
}
