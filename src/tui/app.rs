//! The event loop: terminal input, council events and a frame tick in one
//! `select!`. Events are drained in batches and folded into the state;
//! drawing happens on the tick, only when something changed, so a flood of
//! tokens costs one frame per tick rather than one per token.

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossterm::event::Event;
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use std::collections::{HashMap, HashSet};

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use crate::engine::{PastTurn, RunReport, estimate};
use crate::models::listing::{self, Listing};
use crate::provider::openai::models::{ModelInfo, Pricing};
use crate::session::{self, SessionWriter};

use crate::config::{ConfigError, CouncilPlan, CouncilRequest, paths, presets};
use crate::engine::{CouncilEvent, RunCanceller, RunOptions, RunScope, SeatInfo, SeatSpec};
use crate::tui::action::{Action, Command};
use crate::tui::clipboard::Clipboard;
use crate::tui::history::HistoryBrowser;
use crate::tui::keymap;
use crate::tui::panel_editor::PanelEditor;
use crate::tui::state::{Notice, State};
use crate::tui::theme::{self, Theme};
use crate::tui::ui;

/// At most 60 frames a second.
pub const FRAME: Duration = Duration::from_millis(16);

pub struct App {
    pub state: State,
    pub theme: Theme,
    request: CouncilRequest,
    /// The seats as resolved from the request, then edited live; what the
    /// next run (or re-run) uses.
    plan: Option<CouncilPlan>,
    options: RunOptions,
    events: Option<UnboundedReceiver<CouncilEvent>>,
    canceller: Option<RunCanceller>,
    clipboard: Box<dyn Clipboard + Send>,
    /// The themes `T` cycles through, and where the choice is remembered.
    themes: Vec<Theme>,
    theme_store: Option<PathBuf>,
    /// Model listings by provider (from the disk cache, then the network).
    pub listings: HashMap<String, Listing>,
    listing_tx: UnboundedSender<ListingResult>,
    listing_rx: UnboundedReceiver<ListingResult>,
    /// Providers whose listing is being fetched.
    fetching: HashSet<String>,
    /// Where runs are saved (none: not saved), the session being written,
    /// and the conversation so far: the earlier turns, and the last report
    /// (kept when a run ends, since a new question clears the screen's).
    sessions_dir: Option<PathBuf>,
    session: Option<SessionWriter>,
    past: Vec<PastTurn>,
    last_report: Option<RunReport>,
    /// Frames drawn, for tests and benchmarks.
    pub frames: u64,
}

/// A provider's `/models` listing as a background fetch returns it.
type ListingResult = (String, Result<Vec<ModelInfo>, String>);

impl App {
    pub fn new(request: CouncilRequest, clipboard: Box<dyn Clipboard + Send>) -> Self {
        let (listing_tx, listing_rx) = tokio::sync::mpsc::unbounded_channel();
        Self {
            state: State::new(),
            theme: Theme::default(),
            request,
            plan: None,
            options: RunOptions::default(),
            events: None,
            canceller: None,
            clipboard,
            themes: vec![Theme::default()],
            theme_store: None,
            listings: HashMap::new(),
            listing_tx,
            listing_rx,
            fetching: HashSet::new(),
            sessions_dir: None,
            session: None,
            past: Vec::new(),
            last_report: None,
            frames: 0,
        }
    }

    /// Saves every run in `dir`: the first question starts a session, later
    /// ones continue it as follow-ups.
    pub fn with_sessions(mut self, dir: Option<PathBuf>) -> Self {
        self.sessions_dir = dir;
        self
    }

    /// The file of the session being written, if any.
    pub fn session_path(&self) -> Option<&std::path::Path> {
        self.session.as_ref().map(SessionWriter::path)
    }

    /// Sets the themes to cycle through, the one to start with, and the file
    /// that remembers a switch (none: not remembered).
    pub fn with_themes(
        mut self,
        themes: Vec<Theme>,
        current: Theme,
        store: Option<PathBuf>,
    ) -> Self {
        self.themes = themes;
        self.theme = current;
        self.theme_store = store;
        self
    }

    fn next_theme(&mut self) {
        if self.theme.name == "no-color" {
            self.state.notice = Some(Notice::Info("NO_COLOR is set: colours stay off".into()));
            return;
        }
        let at = self.themes.iter().position(|t| t.name == self.theme.name);
        let next = at.map_or(0, |i| (i + 1) % self.themes.len().max(1));
        let Some(theme) = self.themes.get(next).cloned() else {
            return;
        };
        let saved = match &self.theme_store {
            Some(path) => theme::remember(path, &theme.name)
                .map(|_| " (remembered)")
                .map_err(|e| format!("theme {}: cannot remember it: {e}", theme.name)),
            None => Ok(""),
        };
        self.state.notice = Some(match saved {
            Ok(how) => Notice::Info(format!("theme {}{how}", theme.name)),
            Err(e) => Notice::Error(e),
        });
        self.theme = theme;
        self.state.dirty = true;
    }

    pub fn with_options(mut self, options: RunOptions) -> Self {
        self.options = options;
        self
    }

    /// Puts a question in the editor and asks it, as if typed.
    pub fn ask(&mut self, question: &str) {
        self.state.editor.insert_str(question);
        let commands = self.state.update(Action::Submit);
        self.execute(commands);
    }

    fn execute(&mut self, commands: Vec<Command>) {
        for command in commands {
            match command {
                Command::StartRun(question) => self.start(question, RunScope::Full),
                Command::RerunMember(i) => {
                    let question = self.state.report.question.clone();
                    self.start(question, RunScope::Members(vec![i]));
                }
                Command::OpenPanelEditor => match self.plan_mut() {
                    Ok(plan) => {
                        let mut editor = PanelEditor::new(plan.clone());
                        let providers: HashSet<String> =
                            editor.plan.seats().map(|s| s.provider.clone()).collect();
                        for provider in providers {
                            self.refresh_listing(&provider);
                            if let Some(l) = self.listings.get(&provider) {
                                editor.listings.insert(provider, l.clone());
                            }
                        }
                        self.state.panel_editor = Some(editor);
                    }
                    Err(e) => self.state.notice = Some(Notice::Error(e.to_string())),
                },
                Command::ApplyPlan(plan) => {
                    let seats: Vec<SeatInfo> = plan.members.iter().map(SeatSpec::info).collect();
                    self.plan = Some(plan);
                    self.update_estimate();
                    // A finished run follows the edit; members it lacks run alone.
                    if !self.state.running && !self.state.report.question.is_empty() {
                        let added = self.state.reseat(&seats);
                        if !added.is_empty() {
                            let question = self.state.report.question.clone();
                            self.start(question, RunScope::Members(added));
                        }
                    }
                }
                Command::SavePreset(name, plan) => {
                    let saved = paths::presets_dir()
                        .ok_or_else(|| "no config dir: HOME is not set".to_string())
                        .and_then(|dir| {
                            presets::save_preset(&dir, &name, &plan).map_err(|e| e.to_string())
                        });
                    self.state.notice = Some(match saved {
                        Ok(path) => {
                            Notice::Info(format!("saved preset {name} in {}", path.display()))
                        }
                        Err(e) => Notice::Error(e),
                    });
                }
                Command::Rejudge => {
                    let question = self.state.report.question.clone();
                    self.start(question, RunScope::Judgement);
                }
                Command::CancelRun => {
                    if let Some(c) = &self.canceller {
                        c.cancel();
                    }
                }
                Command::CancelMember(i) => {
                    if let Some(c) = &self.canceller {
                        c.cancel_member(i);
                    }
                }
                Command::Copy(text) => {
                    self.state.notice = Some(match self.clipboard.copy(&text) {
                        Ok(how) => Notice::Info(format!(
                            "copied {} characters ({how})",
                            text.chars().count()
                        )),
                        Err(e) => Notice::Error(e),
                    });
                }
                Command::NextTheme => self.next_theme(),
                Command::NewConversation => self.new_conversation(),
                Command::OpenHistory => match &self.sessions_dir {
                    Some(dir) => {
                        let (list, errors) = session::list(dir);
                        let problems = errors
                            .iter()
                            .map(|e| crate::sanitize::sanitize(&e.to_string()))
                            .collect();
                        self.state.history_browser = Some(HistoryBrowser::new(list, problems));
                    }
                    None => {
                        self.state.notice = Some(Notice::Info("sessions are not saved here".into()))
                    }
                },
                Command::OpenSession(path) => self.open_session(&path),
                Command::DeleteSession(s) => {
                    let result = std::fs::remove_file(&s.path);
                    if self.session_path() == Some(s.path.as_path()) {
                        self.session = None;
                        self.past.clear();
                        self.last_report = None;
                    }
                    self.state.notice = Some(match result {
                        Ok(()) => Notice::Info(format!("deleted session {}", s.id)),
                        Err(e) => Notice::Error(format!("cannot delete {}: {e}", s.path.display())),
                    });
                    if let Some(browser) = &mut self.state.history_browser {
                        browser.remove(&s.id);
                    }
                }
                Command::Quit => {
                    if let Some(c) = &self.canceller {
                        c.cancel();
                    }
                }
            }
        }
    }

    /// The council's seats, resolved from the request on first use. Edits
    /// apply to the next run.
    pub fn plan_mut(&mut self) -> Result<&mut CouncilPlan, ConfigError> {
        if self.plan.is_none() {
            self.plan = Some(self.request.plan()?);
        }
        Ok(self.plan.as_mut().expect("resolved above"))
    }

    /// Adds a member to the council (and to a finished run, as a queued
    /// pane); returns its index, for [`Self::run_member`].
    pub fn add_member(&mut self, seat: SeatSpec) -> Result<usize, ConfigError> {
        let plan = self.plan_mut()?;
        plan.members.push(seat);
        Ok(plan.members.len() - 1)
    }

    /// Runs one member of the current run again, alone (what `r` does).
    pub fn run_member(&mut self, member: usize) {
        self.execute(vec![Command::RerunMember(member)]);
    }

    /// Starts a run of `scope` with the current plan; the answers members
    /// have feed a judgement-only run.
    fn start(&mut self, question: String, scope: RunScope) {
        let council = match self
            .plan_mut()
            .cloned()
            .and_then(|p| self.request.connect(p))
        {
            Ok(c) => c,
            Err(e) => return self.state.start_failed(e.to_string()),
        };
        let answers = self.state.report.answers();
        let mut options = self.options.clone();
        if scope == RunScope::Full {
            // A new question continues the conversation: the last one joins the history.
            if let Some(report) = self.last_report.take() {
                self.past.push(PastTurn::from(&report));
            }
            if self.session.is_none() {
                self.session = self.new_session(&council);
            }
        }
        options.history = self.past.clone();
        let handle = crate::engine::run_scoped(council, question, options, scope, answers);
        self.canceller = Some(handle.canceller());
        self.events = Some(handle.events);
    }

    /// Recomputes the cost estimate of the next run from the plan, the
    /// question in the editor (or the one running) and the known prices.
    fn update_estimate(&mut self) {
        let question = if self.state.running {
            self.state.report.question.clone()
        } else {
            self.state.editor.lines().join("\n")
        };
        // Called on every key while idle: borrow the plan, do not copy it.
        if self.plan_mut().is_err() {
            return;
        }
        let Some(plan) = &self.plan else {
            return;
        };
        let listings = &self.listings;
        let price = |s: &SeatSpec| {
            if s.provider == crate::provider::local::NAME {
                return Some(Pricing {
                    prompt: Some(0.0),
                    completion: Some(0.0),
                });
            }
            listings.get(&s.provider).and_then(|l| l.pricing(&s.model))
        };
        let estimate = estimate::estimate(
            &plan.members,
            &plan.judge,
            &plan.synthesizer,
            &question,
            price,
        );
        if self.state.estimate != Some(estimate) {
            self.state.estimate = Some(estimate);
            self.state.dirty = true;
        }
    }

    /// Prices for the estimate: cached listings of the plan's providers, and
    /// OpenRouter's (which needs no key) fetched when none is cached.
    fn prime_listings(&mut self) {
        let Ok(plan) = self.plan_mut().cloned() else {
            return;
        };
        let providers: HashSet<String> = plan.seats().map(|s| s.provider.clone()).collect();
        for provider in providers {
            if let Some(cached) = listing::load(&provider) {
                self.listings.insert(provider, cached);
            } else if provider == crate::config::providers::DEFAULT_PROVIDER {
                self.refresh_listing(&provider);
            }
        }
        self.update_estimate();
    }

    /// Takes a provider's listing from the disk cache, and fetches it in the
    /// background when there is none or it is old. The loop folds the
    /// result in; nothing here waits on the network.
    fn refresh_listing(&mut self, provider: &str) {
        if !self.listings.contains_key(provider)
            && let Some(cached) = listing::load(provider)
        {
            self.listings.insert(provider.to_string(), cached);
        }
        let fresh = self.listings.get(provider).is_some_and(Listing::is_fresh);
        if fresh || !self.fetching.insert(provider.to_string()) {
            return;
        }
        let (request, tx, provider) = (
            self.request.clone(),
            self.listing_tx.clone(),
            provider.to_string(),
        );
        tokio::spawn(async move {
            let result = request.list_models(&provider).await;
            let _ = tx.send((provider, result));
        });
    }

    /// A background listing arrived: keep it, cache it, show it.
    pub fn on_listing(&mut self, (provider, result): ListingResult) {
        self.fetching.remove(&provider);
        match result {
            Ok(models) => {
                let listing = Listing::new(models);
                if provider != crate::provider::local::NAME {
                    let _ = listing::store(&provider, &listing);
                }
                if let Some(editor) = &mut self.state.panel_editor {
                    editor.listings.insert(provider.clone(), listing.clone());
                    editor.listing_errors.remove(&provider);
                }
                self.listings.insert(provider, listing);
                self.update_estimate();
            }
            Err(e) => {
                if let Some(editor) = &mut self.state.panel_editor {
                    editor
                        .listing_errors
                        .insert(provider, crate::sanitize::sanitize(&e));
                }
            }
        }
        self.state.dirty = true;
    }

    /// Handles one terminal event.
    pub fn on_input(&mut self, event: &Event) {
        if let Event::Resize(..) = event {
            self.state.dirty = true;
        }
        if let Some(action) = keymap::map(event, &self.state) {
            let commands = self.state.update(action);
            self.execute(commands);
            if !self.state.running {
                self.update_estimate();
            }
        }
    }

    /// Folds a batch of council events.
    pub fn on_council_events(&mut self, batch: &mut Vec<CouncilEvent>) {
        for event in batch.drain(..) {
            self.state.apply(&event);
            if let Some(writer) = &mut self.session
                && let Err(e) = writer.record(&event)
            {
                self.state.notice =
                    Some(Notice::Error(format!("the session stops being saved: {e}")));
                self.session = None;
            }
            if let CouncilEvent::RunFinished { .. } = event {
                self.last_report = Some(self.state.report.clone());
            }
        }
    }

    /// A session file for a run of `council`; a failure is shown, not fatal.
    fn new_session(&mut self, council: &crate::engine::Council) -> Option<SessionWriter> {
        let dir = self.sessions_dir.as_ref()?;
        SessionWriter::start(dir, council)
            .map_err(|e| self.state.notice = Some(Notice::Error(e)))
            .ok()
    }

    /// Shows a saved session's last turn and continues the session: the next
    /// question is a follow-up on its council.
    fn open_session(&mut self, path: &std::path::Path) {
        let loaded = match session::load(path) {
            Ok(s) => s,
            Err(e) => {
                self.state.notice = Some(Notice::Error(e.to_string()));
                return;
            }
        };
        let writer = match SessionWriter::append(path, loaded.turns.len()) {
            Ok(w) => w,
            Err(e) => {
                self.state.notice = Some(Notice::Error(format!("{}: {e}", path.display())));
                return;
            }
        };
        let mut history = loaded.history();
        history.pop();
        self.past = history;
        self.plan = Some(loaded.header.council.clone());
        self.session = Some(writer);
        let turns = loaded.turns.len();
        if let Some(last) = loaded.turns.last().cloned() {
            self.last_report = Some(last.clone());
            self.state.show_report(last);
        }
        self.state.notice = Some(Notice::Info(format!(
            "session {} · {turns} turn(s){} · a question continues it",
            loaded.header.id,
            if loaded.interrupted {
                " · interrupted"
            } else {
                ""
            }
        )));
        self.update_estimate();
    }

    /// Ctrl+N: the next question starts a new conversation and session.
    fn new_conversation(&mut self) {
        self.session = None;
        self.past.clear();
        self.last_report = None;
        self.state.notice = Some(Notice::Info(
            "new conversation: the next question starts a new session".into(),
        ));
    }

    pub fn draw<B: Backend>(&mut self, terminal: &mut Terminal<B>) -> std::io::Result<()>
    where
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        terminal
            .draw(|frame| ui::draw(frame, &mut self.state, &self.theme))
            .map_err(std::io::Error::other)?;
        self.state.dirty = false;
        self.frames += 1;
        Ok(())
    }

    /// True while a run's events are still coming.
    pub fn is_listening(&self) -> bool {
        self.events.is_some()
    }

    /// Runs until the person quits, the input ends or `shutdown` resolves.
    pub async fn run<B, S>(
        &mut self,
        terminal: &mut Terminal<B>,
        mut input: S,
        shutdown: impl Future<Output = ()>,
    ) -> std::io::Result<()>
    where
        B: Backend,
        B::Error: std::error::Error + Send + Sync + 'static,
        S: Stream<Item = std::io::Result<Event>> + Unpin,
    {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut tick = tokio::time::interval(FRAME);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut batch = Vec::with_capacity(1024);
        self.prime_listings();
        self.draw(terminal)?;
        while !self.state.quit {
            tokio::select! {
                event = input.next() => match event {
                    Some(Ok(event)) => self.on_input(&event),
                    Some(Err(e)) => return Err(e),
                    None => break,
                },
                n = recv_batch(&mut self.events, &mut batch) => {
                    if n == 0 {
                        self.events = None;
                    } else {
                        self.on_council_events(&mut batch);
                    }
                }
                Some(listing) = self.listing_rx.recv() => self.on_listing(listing),
                _ = tick.tick() => {
                    self.state.on_tick(Instant::now());
                    if let Some(writer) = &mut self.session {
                        let _ = writer.tick();
                    }
                    if self.state.dirty {
                        self.draw(terminal)?;
                    }
                }
                _ = &mut shutdown => break,
            }
        }
        if let Some(c) = &self.canceller {
            c.cancel();
        }
        Ok(())
    }
}

/// Waits for a batch of council events; pends forever without a run.
async fn recv_batch(
    events: &mut Option<UnboundedReceiver<CouncilEvent>>,
    batch: &mut Vec<CouncilEvent>,
) -> usize {
    match events {
        Some(rx) => rx.recv_many(batch, 1024).await,
        None => std::future::pending().await,
    }
}
