//! A session written on a thread of its own: the caller hands events over
//! a channel and never waits on the disk. Text is flushed at least every
//! [`FLUSH_EVERY`] even while no event comes. Every front records through
//! this one path (see [`crate::conversation`]).

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::log::{FLUSH_EVERY, SessionWriter};
use crate::config::CouncilPlan;
use crate::engine::CouncilEvent;

enum Msg {
    Events(Vec<CouncilEvent>),
    /// Answer once everything before this is flushed.
    Sync(Sender<()>),
}

/// The writer thread's handle. Dropping it lets the thread flush and end.
pub struct Recorder {
    tx: Sender<Msg>,
    path: PathBuf,
    /// Why saving stopped, once it has.
    failed: Arc<Mutex<Option<String>>>,
}

/// Where a failure to save is reported (from the writer thread), besides
/// [`Recorder::close`].
pub type OnError = Arc<dyn Fn(String) + Send + Sync>;

impl Recorder {
    /// A new session for `plan` in `dir`, under a fresh id; `origin` names
    /// the front that ran it when not a person at this terminal (`served`).
    pub(crate) fn start(
        dir: &Path,
        plan: CouncilPlan,
        origin: Option<&str>,
        on_error: OnError,
    ) -> Self {
        // The file is reserved here, so its id is known at once; the
        // header and everything after are written by the writer's thread.
        let origin = origin.map(str::to_string);
        match super::log::reserve(dir) {
            Ok((file, path, id, created)) => {
                let target = path.clone();
                Self::spawn(path, on_error, move || {
                    SessionWriter::begin(
                        file,
                        target.clone(),
                        &id,
                        &created,
                        plan,
                        origin.as_deref(),
                    )
                    .map_err(|e| format!("this run is not saved ({}: {e})", target.display()))
                })
            }
            Err(e) => {
                let why = format!("this run is not saved ({}: {e})", dir.display());
                Self::spawn(dir.join("unsaved.jsonl"), on_error, move || Err(why))
            }
        }
    }

    /// Continues the session in `path`, which has `turns` turns.
    pub(crate) fn append(path: &Path, turns: usize, on_error: OnError) -> Self {
        let target = path.to_path_buf();
        Self::spawn(path.to_path_buf(), on_error, move || {
            SessionWriter::append(&target, turns).map_err(|e| format!("{}: {e}", target.display()))
        })
    }

    fn spawn(
        path: PathBuf,
        on_error: OnError,
        open: impl FnOnce() -> Result<SessionWriter, String> + Send + 'static,
    ) -> Self {
        let (tx, rx) = mpsc::channel::<Msg>();
        let failed = Arc::new(Mutex::new(None));
        let slot = failed.clone();
        let on_error = move |e: String| {
            if let Ok(mut slot) = slot.lock() {
                slot.get_or_insert_with(|| e.clone());
            }
            on_error(e);
        };
        let spawned = std::thread::Builder::new()
            .name("session-writer".into())
            .spawn(move || {
                let mut writer = match open() {
                    Ok(w) => w,
                    Err(e) => return on_error(e),
                };
                let fail = |e: std::io::Error| {
                    on_error(format!("the session stops being saved: {e}"));
                };
                loop {
                    let result = match rx.recv_timeout(FLUSH_EVERY) {
                        Ok(Msg::Events(events)) => {
                            events.iter().try_for_each(|event| writer.record(event))
                        }
                        Ok(Msg::Sync(done)) => {
                            let r = writer.flush();
                            let _ = done.send(());
                            r
                        }
                        Err(RecvTimeoutError::Timeout) => writer.tick(),
                        Err(RecvTimeoutError::Disconnected) => break,
                    };
                    if let Err(e) = result {
                        return fail(e);
                    }
                }
                if let Err(e) = writer.flush() {
                    fail(e);
                }
            });
        if let Err(e) = spawned {
            // No thread: events sent to the closed channel are dropped.
            let e = format!("cannot start the session writer: {e}");
            *failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
        }
        Self { tx, path, failed }
    }

    /// The session's id: its file's name without `.jsonl`.
    pub(crate) fn id(&self) -> String {
        super::log::id_of(&self.path)
    }

    /// Waits (at most `timeout`) for everything recorded to reach the disk,
    /// then lets the writer end: the session's id when all of it was
    /// saved, else why not.
    pub(crate) fn close(self, timeout: Duration) -> Result<String, String> {
        let synced = self.sync(timeout);
        if let Some(e) = self
            .failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Err(e);
        }
        if !synced {
            return Err(format!("the session {} was not saved in time", self.id()));
        }
        Ok(self.id())
    }

    /// The session's file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Hands a batch of events to the writer in one message.
    pub(crate) fn record_all(&self, events: Vec<CouncilEvent>) {
        if !events.is_empty() {
            let _ = self.tx.send(Msg::Events(events));
        }
    }

    /// Waits (at most `timeout`) until everything recorded so far is on
    /// disk; false when the writer did not answer in time or has stopped.
    pub(crate) fn sync(&self, timeout: Duration) -> bool {
        let (done_tx, done_rx) = mpsc::channel();
        if self.tx.send(Msg::Sync(done_tx)).is_err() {
            return false;
        }
        done_rx.recv_timeout(timeout).is_ok()
    }
}
