//! Work that touches the disk or the network, run off the loop: each effect
//! is a task that reports back with a [`Done`] over a channel, which the
//! loop folds in like any other event. The loop never waits on I/O.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinSet;

use crate::models::listing::Listing;
use crate::session::{Session, SessionSummary};

/// What an effect reports.
#[derive(Debug)]
pub(crate) enum Done {
    /// A provider's listing: whether a fetch was allowed, then the listing
    /// and whether to cache it (fetched from a remote provider, not read
    /// from the disk cache); an empty error: nothing cached and no fetch
    /// asked for.
    Listing(String, bool, Result<(Listing, bool), String>),
    /// More saved sessions were read; `finished` on the last batch.
    Sessions {
        batch: Vec<SessionSummary>,
        problems: Vec<String>,
        finished: bool,
    },
    /// Questions asked in earlier sessions, oldest first, for `↑`.
    PastQuestions(Vec<String>),
    SessionOpened(PathBuf, Result<Box<Session>, String>),
    SessionDeleted(SessionSummary, Result<(), String>),
    PresetSaved(String, Result<PathBuf, String>),
    ThemeRemembered(String, Result<(), String>),
    LayoutRemembered(String, Result<(), String>),
    /// The session being written can no longer be saved.
    SessionUnsaved(String),
    /// The paths that complete `@partial` in the editor.
    PathCompleted(String, Vec<String>),
}

/// Effects in flight and the channel they report on.
pub(crate) struct Effects {
    tx: UnboundedSender<Done>,
    rx: UnboundedReceiver<Done>,
    tasks: JoinSet<()>,
}

impl Default for Effects {
    fn default() -> Self {
        let (tx, rx) = unbounded_channel();
        Self {
            tx,
            rx,
            tasks: JoinSet::new(),
        }
    }
}

impl Effects {
    /// A sender for work that reports from elsewhere (a writer thread).
    pub(crate) fn sender(&self) -> UnboundedSender<Done> {
        self.tx.clone()
    }

    /// Runs blocking work (files) on the blocking pool.
    pub(crate) fn blocking(&mut self, work: impl FnOnce(&UnboundedSender<Done>) + Send + 'static) {
        self.reap();
        let tx = self.tx.clone();
        self.tasks.spawn_blocking(move || work(&tx));
    }

    /// Runs async work (the network).
    pub(crate) fn spawn(&mut self, work: impl Future<Output = Done> + Send + 'static) {
        self.reap();
        let tx = self.tx.clone();
        self.tasks.spawn(async move {
            let _ = tx.send(work.await);
        });
    }

    /// Forgets tasks that have ended.
    fn reap(&mut self) {
        while self.tasks.try_join_next().is_some() {}
    }

    /// The next report.
    pub(crate) async fn next(&mut self) -> Option<Done> {
        self.rx.recv().await
    }

    /// Waits (at most `limit`) for the effects in flight, then hands back
    /// every report not yet taken, so nothing asked for is lost on quit.
    pub(crate) async fn settle(&mut self, limit: Duration) -> Vec<Done> {
        let _ = tokio::time::timeout(limit, async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await;
        let mut done = Vec::new();
        while let Ok(d) = self.rx.try_recv() {
            done.push(d);
        }
        done
    }
}
