//! The event loop: terminal input, council events and effect reports in one
//! `select!`. Council events are drained in batches and folded into the
//! state; a frame is drawn only when something changed, at most 60 times a
//! second, and nothing wakes the loop while nothing moves.

use std::collections::HashSet;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crossterm::event::Event;
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use std::collections::HashMap;

use crate::config::{ConfigError, CouncilPlan, CouncilRequest, presets};
use crate::conversation::{Conversation, on_error};
use crate::engine::{CouncilEvent, RunOptions, SeatSpec};
use crate::models::listing::{self, Listing};
use crate::models::prices::Prices;
use crate::sanitize::sanitize;
use crate::session;
use crate::tui::action::{Action, Command};
use crate::tui::clipboard::Clipboard;
use crate::tui::effects::{Done, Effects};
use crate::tui::history::HistoryBrowser;
use crate::tui::keymap::{KeyNames, Keymap};
use crate::tui::layer::Overlay;
use crate::tui::panel_editor::PanelEditor;
use crate::tui::remembered;
use crate::tui::state::{Focus, Notice, State};
use crate::tui::theme::Theme;
use crate::tui::ui::{self, Areas, Drawn, Env, RenderCaches};

/// At most 60 frames a second.
pub(crate) const FRAME: Duration = Duration::from_millis(16);
/// While a council runs, the spinner and the clock move this often.
pub(crate) const ANIMATION: Duration = Duration::from_millis(100);
/// How long quitting waits for effects in flight (a save, a delete).
const SETTLE: Duration = Duration::from_secs(2);
/// How long a passing notice ("copied 120 characters") stays.
const NOTICE_FOR: Duration = Duration::from_secs(4);
/// How many questions of saved sessions `↑` reaches.
const PAST_QUESTIONS: usize = 500;

pub struct App {
    pub state: State,
    pub(crate) keymap: Keymap,
    /// The council, its runs and their session: what the panes show.
    conversation: Conversation,
    clipboard: Box<dyn Clipboard + Send>,
    themes: Themes,
    /// Model listings by provider (from the disk cache, then the network):
    /// the picker's models and the estimate's prices.
    pub prices: Prices,
    /// Providers whose listing is being read, and whether it will be
    /// fetched when the disk has none.
    fetching: HashMap<String, bool>,
    effects: Effects,
    /// Whether the questions of saved sessions were asked for (once).
    past_questions_asked: bool,
    screen: Screen,
    pub quit: bool,
    /// Ctrl+E: the question's text, while the loop hands the terminal to
    /// the editor (see [`App::take_suspension`]).
    suspended_for: Option<String>,
    /// Frames drawn, for tests and benchmarks.
    pub frames: u64,
}

/// The theme drawn with, the ones `T` cycles through, and where the choice
/// is remembered.
struct Themes {
    current: Theme,
    all: Vec<Theme>,
    store: Option<PathBuf>,
}

/// What the loop keeps about the screen between frames.
#[derive(Default)]
struct Screen {
    /// Where the last frame put each pane, for the mouse.
    areas: Areas,
    /// Rendered lines kept between frames.
    caches: RenderCaches,
    /// Spinner frames shown so far.
    tick: u64,
    /// Something changed since the last frame.
    dirty: bool,
    last_frame: Option<Instant>,
    /// Wrap each frame in a synchronized update (a real terminal).
    synchronized: bool,
    /// The notice on screen and since when, so a passing one can clear.
    notice_seen: Option<(Notice, Instant)>,
}

impl App {
    pub fn new(request: CouncilRequest, clipboard: Box<dyn Clipboard + Send>) -> Self {
        Self {
            state: State::new(),
            keymap: Keymap::default(),
            conversation: Conversation::new(request).with_solo_answers(),
            clipboard,
            themes: Themes {
                current: Theme::default(),
                all: vec![Theme::default()],
                store: None,
            },
            prices: Prices::default(),
            fetching: HashMap::new(),
            effects: Effects::default(),
            past_questions_asked: false,
            screen: Screen {
                dirty: true,
                ..Screen::default()
            },
            quit: false,
            suspended_for: None,
            frames: 0,
        }
    }

    /// Saves every run in `dir`: the first question starts a session, later
    /// ones continue it as follow-ups.
    pub fn with_sessions(mut self, dir: Option<PathBuf>) -> Self {
        let tx = self.effects.sender();
        let unsaved = on_error(move |e| {
            let _ = tx.send(Done::SessionUnsaved(e));
        });
        self.conversation = self.conversation.with_sessions(dir, None, unsaved);
        self
    }

    /// The file of the session being written, if any.
    pub(crate) fn session_path(&self) -> Option<&std::path::Path> {
        self.conversation.session_path()
    }

    /// Sets the themes to cycle through, the one to start with, and the file
    /// that remembers a switch (none: not remembered).
    pub(crate) fn with_themes(
        mut self,
        themes: Vec<Theme>,
        current: Theme,
        store: Option<PathBuf>,
    ) -> Self {
        self.themes = Themes {
            current,
            all: themes,
            store,
        };
        self
    }

    pub fn with_options(mut self, options: RunOptions) -> Self {
        self.conversation = self.conversation.with_options(options);
        self
    }

    /// The key table (the defaults with the config file's overrides).
    pub(crate) fn with_keymap(mut self, keymap: Keymap) -> Self {
        self.state.keys = KeyNames::of(&keymap);
        self.keymap = keymap;
        self
    }

    /// Brackets every frame in a synchronized update, so a terminal shows
    /// whole frames only (for a real terminal on stdout).
    pub(crate) fn with_synchronized_output(mut self, on: bool) -> Self {
        self.screen.synchronized = on;
        self
    }

    fn notice(&mut self, notice: Notice) {
        self.state.view.notice = Some(notice);
        self.screen.dirty = true;
    }

    fn next_theme(&mut self) {
        let themes = &self.themes;
        if themes.current.name == "no-color" {
            return self.notice(Notice::Info("NO_COLOR is set: colours stay off".into()));
        }
        let at = themes
            .all
            .iter()
            .position(|t| t.name == themes.current.name);
        let next = at.map_or(0, |i| (i + 1) % themes.all.len().max(1));
        let Some(theme) = themes.all.get(next).cloned() else {
            return;
        };
        self.notice(Notice::Info(format!("theme {}", theme.name)));
        if let Some(path) = self.themes.store.clone() {
            let name = theme.name.clone();
            self.effects.blocking(move |tx| {
                let result = remembered::set(&path, "theme", &name).map_err(|e| e.to_string());
                let _ = tx.send(Done::ThemeRemembered(name, result));
            });
        }
        self.themes.current = theme;
    }

    /// Remembers the arrangement `L` switched to, where the theme is.
    fn remember_layout(&mut self, arrangement: crate::tui::arrangement::Arrangement) {
        let name = arrangement.name().to_string();
        match self.themes.store.clone() {
            Some(path) => self.effects.blocking(move |tx| {
                let result = remembered::set(&path, "layout", &name).map_err(|e| e.to_string());
                let _ = tx.send(Done::LayoutRemembered(name, result));
            }),
            None => self.notice(Notice::Info(format!("layout: {name}"))),
        }
    }

    /// Puts a question in the editor and asks it, as if typed.
    pub fn ask(&mut self, question: &str) {
        self.state.view.editor.insert_str(question);
        let commands = self.state.update(Action::Submit);
        self.execute(commands);
    }

    fn execute(&mut self, commands: Vec<Command>) {
        for command in commands {
            self.screen.dirty = true;
            match command {
                Command::StartRun(question) => match self.attach_mentions(&question) {
                    Ok(files) => {
                        self.state.begin_run();
                        self.ask_question(&question, files);
                    }
                    // Nothing is lost: the question goes back to the editor.
                    Err(e) => {
                        self.state.view.set_editor_text(&question);
                        self.notice(Notice::Error(sanitize(&e)));
                    }
                },
                Command::RerunMember(i) => {
                    let started = self.conversation.rerun(vec![i]);
                    self.started(started);
                }
                Command::OpenPanelEditor => self.open_panel_editor(),
                Command::ApplyPlan(plan) => self.apply_plan(plan),
                Command::SavePreset(name, plan) => self.effects.blocking(move |tx| {
                    let saved = crate::paths::presets_dir()
                        .ok_or_else(|| "no config dir: HOME is not set".to_string())
                        .and_then(|dir| {
                            presets::save_preset(&dir, &name, &plan).map_err(|e| e.to_string())
                        });
                    let _ = tx.send(Done::PresetSaved(name, saved));
                }),
                Command::Rejudge => {
                    let started = self.conversation.rejudge();
                    self.started(started);
                }
                Command::Deliberate(dispute) => {
                    let started = self.conversation.round(dispute.map(|d| *d));
                    self.started(started);
                }
                Command::CancelRun => self.conversation.cancel(),
                Command::CancelMember(i) => self.conversation.cancel_member(i),
                Command::Copy(text) => {
                    let notice = match self.clipboard.copy(&text) {
                        Ok(how) => Notice::Info(format!(
                            "copied {} characters ({how})",
                            text.chars().count()
                        )),
                        Err(e) => Notice::Error(e),
                    };
                    self.notice(notice);
                }
                Command::NextTheme => self.next_theme(),
                Command::RememberLayout(arrangement) => self.remember_layout(arrangement),
                Command::NewConversation => self.new_conversation(),
                Command::OpenHistory => self.open_history(),
                Command::OpenSession(path) => self.effects.blocking(move |tx| {
                    let loaded = session::load(&path)
                        .map(Box::new)
                        .map_err(|e| e.to_string());
                    let _ = tx.send(Done::SessionOpened(path, loaded));
                }),
                Command::DeleteSession(s) => self.effects.blocking(move |tx| {
                    let result = std::fs::remove_file(&s.path)
                        .map_err(|e| format!("cannot delete {}: {e}", s.path.display()));
                    let _ = tx.send(Done::SessionDeleted(s, result));
                }),
                Command::EditQuestion(text) => self.suspended_for = Some(text),
                Command::CompletePath(partial) => self.effects.blocking(move |tx| {
                    let found = crate::attachments::complete_path(&partial);
                    let _ = tx.send(Done::PathCompleted(partial, found));
                }),
                Command::Quit => {
                    self.quit = true;
                    self.conversation.cancel();
                }
            }
        }
    }

    /// The panel editor over the seats as they are, with the saved roles
    /// and the providers' model lists (refreshed in the background).
    fn open_panel_editor(&mut self) {
        let plan = match self.plan_mut() {
            Ok(plan) => plan.clone(),
            Err(e) => return self.notice(Notice::Error(e.to_string())),
        };
        let mut editor = PanelEditor::new(plan);
        let (roles, broken) = load_roles();
        editor.roles = roles;
        editor.error = broken;
        let providers: HashSet<String> = editor.plan.seats().map(|s| s.provider.clone()).collect();
        for provider in providers {
            if let Some(l) = self.prices.listing(&provider) {
                editor.listings.insert(provider.clone(), l.clone());
            }
            self.refresh_listing(&provider, true);
        }
        self.state.view.overlay = Some(Overlay::PanelEditor(Box::new(editor)));
    }

    /// The panel editor's seats become the council's. A finished run
    /// follows the edit; members it lacks run alone.
    fn apply_plan(&mut self, plan: CouncilPlan) {
        let seats: Vec<_> = plan.members.iter().map(SeatSpec::info).collect();
        let added = self.conversation.set_plan(plan);
        self.plan_changed();
        if !self.state.run.running() && !self.state.run.report().question.is_empty() {
            self.state.reseat(&seats);
            if !added.is_empty() {
                let started = self.conversation.rerun(added);
                self.started(started);
            }
        }
    }

    /// Ctrl+O: the browser opens at once and fills in as sessions are read.
    fn open_history(&mut self) {
        let Some(dir) = self.conversation.sessions_dir().map(Path::to_path_buf) else {
            return self.notice(Notice::Info("sessions are not saved here".into()));
        };
        self.state.view.overlay = Some(Overlay::History(HistoryBrowser::loading()));
        self.effects.blocking(move |tx| {
            session::list_in_batches(&dir, 200, |batch, errors| {
                let problems = errors.iter().map(|e| sanitize(&e.to_string())).collect();
                let _ = tx.send(Done::Sessions {
                    batch,
                    problems,
                    finished: false,
                });
            });
            let _ = tx.send(Done::Sessions {
                batch: Vec::new(),
                problems: Vec::new(),
                finished: true,
            });
        });
    }

    /// The council's seats, resolved from the request on first use. Edits
    /// apply to the next run.
    pub fn plan_mut(&mut self) -> Result<&mut CouncilPlan, ConfigError> {
        self.conversation.plan_mut()
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

    /// A new question: the turn on screen joins the earlier ones.
    fn ask_question(&mut self, question: &str, files: Vec<crate::attachments::Attachment>) {
        let finished = self.conversation.report().clone();
        let asked = self.conversation.ask(question, files, &self.prices);
        if asked.is_ok() && !finished.question.is_empty() {
            self.state.turns.push(finished);
        }
        self.started(asked.map(|_| ()));
    }

    /// An operation of the conversation was started, or refused: say why.
    fn started(&mut self, result: Result<(), crate::conversation::Refusal>) {
        if let Err(e) = result {
            self.state.start_failed(sanitize(&e.to_string()));
        }
    }

    /// Recomputes the cost estimate of the next run from the plan, the
    /// question in the editor (or the one running), the conversation so far
    /// and the known prices.
    fn update_estimate(&mut self) {
        let question = if self.state.run.running() {
            self.state.run.report().question.clone()
        } else {
            self.state.view.editor.lines().join("\n")
        };
        let estimate = self.conversation.estimate(&question, &self.prices);
        if estimate.is_some() && self.state.estimate != estimate {
            self.state.estimate = estimate;
            self.screen.dirty = true;
        }
    }

    /// The prompt's `↑` history reaches the questions of saved sessions,
    /// read once, off the loop.
    fn prime_past_questions(&mut self) {
        if self.past_questions_asked {
            return;
        }
        let Some(dir) = self.conversation.sessions_dir().map(Path::to_path_buf) else {
            return;
        };
        self.past_questions_asked = true;
        self.effects.blocking(move |tx| {
            let _ = tx.send(Done::PastQuestions(session::past_questions(
                &dir,
                PAST_QUESTIONS,
            )));
        });
    }

    /// Where a provider's listing is cached on disk.
    fn listing_key(&self, provider: &str) -> String {
        let endpoints = self
            .conversation
            .resolved_plan()
            .map(|plan| &plan.endpoints);
        listing::cache_key(provider, endpoints.unwrap_or(&Default::default()))
    }

    /// Prices for the estimate: cached listings of the plan's providers,
    /// fetched in the background when none is cached or it is old.
    fn prime_listings(&mut self) {
        let Ok(plan) = self.plan_mut() else {
            return;
        };
        let providers: HashSet<String> = plan.seats().map(|s| s.provider.clone()).collect();
        self.plan_changed();
        for provider in providers {
            // Fetched in the background at start (unless fresh on disk), so
            // the cost estimate has prices before the picker is opened.
            if self.prices.listing(&provider).is_none() {
                self.refresh_listing(&provider, true);
            }
        }
    }

    /// The seats changed: show them, and what they may cost.
    fn plan_changed(&mut self) {
        self.screen.dirty = true;
        self.update_estimate();
    }

    /// Reads a provider's listing from the disk cache and, when `fetch` and
    /// there is none or it is old, from the provider, in the background.
    fn refresh_listing(&mut self, provider: &str, fetch: bool) {
        let fresh = self.prices.listing(provider).is_some_and(Listing::is_fresh);
        // One read at a time, unless this one fetches and that one does not.
        let busy = self
            .fetching
            .get(provider)
            .is_some_and(|fetching| *fetching || !fetch);
        if fresh || busy {
            return;
        }
        self.fetching.insert(provider.to_string(), fetch);
        let endpoints = self
            .conversation
            .resolved_plan()
            .map(|plan| plan.endpoints.clone())
            .unwrap_or_default();
        let lister = match self.conversation.request() {
            Some(request) => request
                .lister(provider, &endpoints)
                .map_err(|e| e.to_string()),
            None => Err("no provider to list".to_string()),
        };
        let provider = provider.to_string();
        let key = self.listing_key(&provider);
        self.effects.spawn(async move {
            let cached = {
                tokio::task::spawn_blocking(move || listing::load(&key))
                    .await
                    .ok()
                    .flatten()
            };
            if let Some(cached) = cached
                && (cached.is_fresh() || !fetch)
            {
                return Done::Listing(provider, fetch, Ok((cached, false)));
            }
            if !fetch {
                return Done::Listing(provider, fetch, Err(String::new()));
            }
            // Fetched listings are cached, but not of a backend that runs here.
            let result = match lister {
                Ok(p) => p
                    .list_models()
                    .await
                    .map(|models| (Listing::new(models), !p.capabilities().free))
                    .map_err(|e| e.message),
                Err(e) => Err(e),
            };
            Done::Listing(provider, fetch, result)
        });
    }

    /// An effect reported back: fold it in.
    pub(crate) fn on_done(&mut self, done: Done) {
        match done {
            Done::Listing(provider, fetched, result) => {
                if self.fetching.get(&provider) == Some(&fetched) {
                    self.fetching.remove(&provider);
                }
                self.on_listing(provider, result)
            }
            Done::Sessions {
                batch,
                problems,
                finished,
            } => {
                if let Some(Overlay::History(browser)) = &mut self.state.view.overlay {
                    browser.extend(batch, problems);
                    browser.loading = !finished;
                    self.screen.dirty = true;
                }
            }
            Done::SessionOpened(path, Ok(loaded)) => self.show_session(&path, *loaded),
            Done::SessionOpened(_, Err(e)) => self.notice(Notice::Error(e)),
            Done::SessionDeleted(s, result) => {
                if self.session_path() == Some(s.path.as_path()) {
                    self.forget_conversation();
                }
                if let Some(Overlay::History(browser)) = &mut self.state.view.overlay
                    && result.is_ok()
                {
                    browser.remove(&s.id);
                }
                self.screen.dirty = true;
                self.notice(match result {
                    Ok(()) => Notice::Info(format!("deleted session {}", s.id)),
                    Err(e) => Notice::Error(e),
                });
            }
            Done::PresetSaved(name, result) => self.notice(match result {
                Ok(path) => Notice::Info(format!("saved preset {name} in {}", path.display())),
                Err(e) => Notice::Error(e),
            }),
            Done::LayoutRemembered(name, result) => self.notice(match result {
                Ok(()) => Notice::Info(format!("layout: {name} (remembered)")),
                Err(e) => Notice::Error(format!("layout {name}: cannot remember it: {e}")),
            }),
            Done::ThemeRemembered(name, result) => self.notice(match result {
                Ok(()) => Notice::Info(format!("theme {name} (remembered)")),
                Err(e) => Notice::Error(format!("theme {name}: cannot remember it: {e}")),
            }),
            Done::PastQuestions(mut past) => {
                // Questions asked in this run stay the most recent.
                let history = &mut self.state.view.history;
                past.retain(|q| !history.contains(q));
                past.append(history);
                *history = past;
            }
            Done::PathCompleted(partial, found) => {
                self.state.complete_path(&partial, found);
                self.screen.dirty = true;
            }
            Done::SessionUnsaved(e) => {
                self.conversation.stop_saving();
                self.notice(Notice::Error(e));
            }
        }
    }

    /// A listing arrived (from the cache or the provider): keep it, cache a
    /// fetched one, show it.
    fn on_listing(&mut self, provider: String, result: Result<(Listing, bool), String>) {
        let key = self.listing_key(&provider);
        let editor = match &mut self.state.view.overlay {
            Some(Overlay::PanelEditor(editor)) => Some(editor),
            _ => None,
        };
        match result {
            Ok((listing, to_cache)) => {
                if to_cache {
                    let (p, l) = (key, listing.clone());
                    self.effects.blocking(move |_| {
                        let _ = listing::store(&p, &l);
                    });
                }
                if let Some(editor) = editor {
                    editor.listings.insert(provider.clone(), listing.clone());
                    editor.listing_errors.remove(&provider);
                }
                self.prices.insert(provider, listing);
                self.update_estimate();
                self.screen.dirty = true;
            }
            // Nothing cached and nothing asked for.
            Err(e) if e.is_empty() => {}
            Err(e) => {
                if let Some(editor) = editor {
                    editor.listing_errors.insert(provider, sanitize(&e));
                    self.screen.dirty = true;
                }
            }
        }
    }

    /// The question to edit, when [`App::run`] returned to hand the
    /// terminal to the editor; the caller runs it, then [`App::edited`].
    pub(crate) fn take_suspension(&mut self) -> Option<String> {
        self.suspended_for.take()
    }

    /// What the editor saved becomes the question in the prompt.
    pub(crate) fn edited(&mut self, result: Result<String, String>) {
        self.screen.dirty = true;
        match result {
            Ok(text) => {
                let text = sanitize(text.trim_end());
                self.state.view.set_editor_text(&text);
                self.state.view.focus = Focus::Prompt;
            }
            Err(e) => self.notice(Notice::Error(sanitize(&e))),
        }
    }

    /// Handles one terminal event.
    pub fn on_input(&mut self, event: &Event) {
        self.screen.dirty = true;
        let Some(action) = self.keymap.map(self.state.layer(), event) else {
            return;
        };
        let action = self.resolve_pointer(action);
        let commands = self.state.update(action);
        self.execute(commands);
        if !self.state.run.running() {
            self.update_estimate();
        }
    }

    /// Mouse positions become panes, by the last frame's layout.
    fn resolve_pointer(&self, action: Action) -> Action {
        let areas = &self.screen.areas;
        match action {
            Action::ClickAt { column, row } => {
                match (areas.judge_item_at(column, row), areas.pane_at(column, row)) {
                    (Some(item), _) => Action::SelectJudgeItem(item),
                    (None, Some(focus)) => Action::FocusPane(focus),
                    (None, None) => action,
                }
            }
            Action::ScrollAt { column, row, lines } => match areas.pane_at(column, row) {
                Some(focus) if focus != Focus::Prompt => Action::ScrollPane(focus, lines),
                _ => action,
            },
            other => other,
        }
    }

    /// Folds a batch of council events (already recorded) into what is shown.
    pub(crate) fn on_council_events(&mut self, batch: &mut Vec<CouncilEvent>) {
        let now = Instant::now();
        for event in batch.drain(..) {
            self.state.apply(&event, now);
            if let CouncilEvent::RunFinished { elapsed_ms, .. } = event {
                self.remember_offline_time(elapsed_ms);
            }
        }
        self.screen.dirty = true;
    }

    /// A whole council of the embedded engine's seats: its time is what
    /// the welcome screen quotes for the next one on this machine.
    fn remember_offline_time(&mut self, elapsed_ms: u64) {
        let report = self.state.run.report();
        let local = |model: &str| model.starts_with("local/");
        let offline = report.members.iter().all(|m| local(&m.model))
            && local(&report.judge.model)
            && local(&report.synthesis.model)
            && report.synthesis.status == crate::engine::Status::Done;
        if !offline {
            return;
        }
        let seconds = elapsed_ms.div_ceil(1000);
        self.state.view.offline_seconds = Some(seconds);
        if let Some(path) = self.themes.store.clone() {
            self.effects.blocking(move |_| {
                // Only a hint for the welcome screen: a failed write is no loss.
                let _ = remembered::set(&path, "offline_council_seconds", &seconds.to_string());
            });
        }
    }

    /// Shows a saved session's last turn and continues the session: the next
    /// question is a follow-up on its council, held to the command line's
    /// flags as `ask --session` is.
    fn show_session(&mut self, path: &std::path::Path, loaded: session::Session) {
        let (id, interrupted) = (loaded.header.id.clone(), loaded.interrupted);
        let mut turns = loaded.turns.clone();
        let last = turns.pop();
        let count = turns.len() + usize::from(last.is_some());
        if let Err(e) = self
            .conversation
            .continue_session(path, loaded, false, None)
        {
            return self.notice(Notice::Error(sanitize(&e.to_string())));
        }
        self.plan_changed();
        self.state.turns.set_earlier(turns);
        if let Some(last) = last {
            self.state.show_report(last);
        }
        self.notice(Notice::Info(format!(
            "session {id} · {count} {}{} · a question continues it",
            if count == 1 { "turn" } else { "turns" },
            if interrupted { " · interrupted" } else { "" }
        )));
    }

    /// The files a question names as `@path` go with it, and with every
    /// later run of it (a member re-run, a re-judgement, a round).
    fn attach_mentions(
        &mut self,
        question: &str,
    ) -> Result<Vec<crate::attachments::Attachment>, String> {
        let paths = crate::attachments::mentioned_paths(question)?;
        let (files, notes) = crate::attachments::load_paths(&paths, Default::default())?;
        if let Some(note) = notes.first() {
            let more = match notes.len() {
                1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            };
            self.notice(Notice::Info(sanitize(&format!("{note}{more}"))));
        }
        Ok(files)
    }

    /// The next question starts afresh: no session, no earlier turns.
    fn forget_conversation(&mut self) {
        self.conversation.start_anew();
        self.state.turns.set_earlier(Vec::new());
    }

    /// Ctrl+N: the next question starts a new conversation and session.
    fn new_conversation(&mut self) {
        self.forget_conversation();
        // Which council the next question goes to: after a saved session
        // it may not be the one the app started with.
        let council = match self.conversation.plan_mut() {
            Ok(plan) => {
                let members: Vec<&str> = plan.members.iter().map(|m| m.name.as_str()).collect();
                match &plan.preset {
                    Some(preset) => format!(" on {preset} ({})", members.join(", ")),
                    None => format!(" on {}", members.join(", ")),
                }
            }
            Err(_) => String::new(),
        };
        self.notice(Notice::Info(sanitize(&format!(
            "new conversation{council}: the next question starts a new session"
        ))));
    }

    pub fn draw<B: Backend>(&mut self, terminal: &mut Terminal<B>) -> std::io::Result<()>
    where
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let now = Instant::now();
        if self.screen.notice_seen.as_ref().map(|(n, _)| n) != self.state.view.notice.as_ref() {
            self.screen.notice_seen = self.state.view.notice.clone().map(|n| (n, now));
        }
        let env = Env {
            theme: &self.themes.current,
            keymap: &self.keymap,
            now,
            tick: self.screen.tick,
            plan: self.conversation.resolved_plan(),
        };
        if self.screen.synchronized {
            crossterm::execute!(
                std::io::stdout(),
                crossterm::terminal::BeginSynchronizedUpdate
            )?;
        }
        let mut drawn = Drawn::default();
        let done = terminal
            .draw(|frame| drawn = ui::draw(frame, &self.state, &mut self.screen.caches, &env))
            .map(|_| ())
            .map_err(std::io::Error::other);
        if self.screen.synchronized {
            crossterm::execute!(
                std::io::stdout(),
                crossterm::terminal::EndSynchronizedUpdate
            )?;
        }
        done?;
        self.state.view.place(drawn.placement);
        self.screen.areas = drawn.areas;
        self.screen.dirty = false;
        self.screen.last_frame = Some(env.now);
        self.frames += 1;
        Ok(())
    }

    /// When the loop must wake to draw: a pending change (no sooner than a
    /// frame after the last), or the next animation step while a council
    /// runs; never while nothing changes.
    fn next_wake(&self) -> Option<Instant> {
        let after = |d: Duration| self.screen.last_frame.map_or_else(Instant::now, |t| t + d);
        let change = self.screen.dirty.then(|| after(FRAME));
        let animation = self.state.run.running().then(|| after(ANIMATION));
        let expiry = self.notice_expiry();
        [change, animation, expiry].into_iter().flatten().min()
    }

    /// When the passing notice on screen should go (errors stay).
    fn notice_expiry(&self) -> Option<Instant> {
        match &self.screen.notice_seen {
            Some((Notice::Info(_), since)) => Some(*since + NOTICE_FOR),
            _ => None,
        }
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
        let mut batch = Vec::with_capacity(1024);
        self.quit = false;
        self.prime_listings();
        self.prime_past_questions();
        self.draw(terminal)?;
        while !self.quit && self.suspended_for.is_none() {
            let wake = self.next_wake();
            tokio::select! {
                event = input.next() => match event {
                    Some(Ok(event)) => self.on_input(&event),
                    Some(Err(e)) => return Err(e),
                    None => break,
                },
                n = self.conversation.recv_many(&mut batch, 1024) => {
                    if n > 0 {
                        self.on_council_events(&mut batch);
                    }
                }
                Some(done) = self.effects.next() => self.on_done(done),
                _ = sleep_until(wake) => {
                    if self.notice_expiry().is_some_and(|at| at <= Instant::now()) {
                        self.state.view.notice = None;
                    }
                    if self.state.run.running() {
                        self.screen.tick = self.screen.tick.wrapping_add(1);
                    }
                    self.draw(terminal)?;
                }
                _ = &mut shutdown => break,
            }
        }
        // The editor borrows the terminal: the run goes on, and so will this loop.
        if self.suspended_for.is_some() {
            return Ok(());
        }
        // What was asked for before quitting still happens and is shown.
        for done in self.effects.settle(SETTLE).await {
            self.on_done(done);
        }
        self.conversation.save(SETTLE);
        self.conversation.cancel();
        Ok(())
    }
}

/// The saved roles, and what is wrong with the first broken one.
fn load_roles() -> (Vec<crate::config::roles::Role>, Option<String>) {
    let dir = crate::paths::roles_dir();
    let (roles, errors) = crate::config::roles::all_roles(dir.as_deref());
    (roles, errors.first().map(|e| sanitize(&e.to_string())))
}

/// Sleeps until `at`; pends forever without it.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
        None => std::future::pending().await,
    }
}
