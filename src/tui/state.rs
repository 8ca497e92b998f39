//! The TUI's state and the plain functions that change it: council events
//! are folded in, actions update it and may return commands for the loop.
//! Nothing here does I/O.

use std::time::{Duration, Instant};

use ratatui::layout::Rect;
use ratatui_textarea::TextArea;

use crate::engine::estimate::CostEstimate;
use crate::engine::{CouncilEvent, RunReport, RunScope, Status};
use crate::sanitize::sanitize;
use crate::tui::action::{Action, Command};
use crate::tui::history::{HistoryBrowser, HistoryOutcome};
use crate::tui::markdown::MarkdownCache;
use crate::tui::panel_editor::{EditorOutcome, PanelEditor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Prompt,
    Member(usize),
    Judge,
    Synthesis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JudgeTab {
    #[default]
    Consensus,
    Contradictions,
    BlindSpots,
    UniqueInsights,
    PartialCoverage,
    Raw,
}

impl JudgeTab {
    pub const ALL: [JudgeTab; 6] = [
        JudgeTab::Consensus,
        JudgeTab::Contradictions,
        JudgeTab::BlindSpots,
        JudgeTab::UniqueInsights,
        JudgeTab::PartialCoverage,
        JudgeTab::Raw,
    ];

    pub fn index(self) -> usize {
        Self::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    pub fn title(self) -> &'static str {
        match self {
            JudgeTab::Consensus => "Consensus",
            JudgeTab::Contradictions => "Contradictions",
            JudgeTab::BlindSpots => "Blind spots",
            JudgeTab::UniqueInsights => "Unique insights",
            JudgeTab::PartialCoverage => "Partial coverage",
            JudgeTab::Raw => "Raw",
        }
    }
}

/// Where a pane is scrolled: following the tail, or held at an offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scroll {
    pub offset: usize,
    pub follow: bool,
    /// The largest offset at the last draw (content height minus view height).
    pub max: usize,
    /// The view's height at the last draw, for paging.
    pub page: usize,
}

impl Default for Scroll {
    fn default() -> Self {
        Self {
            offset: 0,
            follow: true,
            max: 0,
            page: 1,
        }
    }
}

impl Scroll {
    pub fn by(&mut self, lines: isize) {
        let offset = if self.follow { self.max } else { self.offset };
        let next = offset.saturating_add_signed(lines).min(self.max);
        self.offset = next;
        self.follow = next >= self.max;
    }

    pub fn top(&mut self) {
        self.offset = 0;
        self.follow = self.max == 0;
    }

    pub fn bottom(&mut self) {
        self.offset = self.max;
        self.follow = true;
    }

    /// Fits the scroll to content of `total` lines in a view of `height`;
    /// returns the first line to show.
    pub fn fit(&mut self, total: usize, height: usize) -> usize {
        self.max = total.saturating_sub(height);
        self.page = height.max(1);
        if self.follow {
            self.offset = self.max;
        }
        self.offset = self.offset.min(self.max);
        self.offset
    }
}

/// A streaming text pane: display text (sanitized as it arrives), its
/// rendered lines and where it is scrolled.
#[derive(Debug, Default)]
pub struct PaneView {
    pub text: String,
    pub reasoning: String,
    pub show_reasoning: bool,
    pub cache: MarkdownCache,
    pub reasoning_cache: MarkdownCache,
    pub scroll: Scroll,
    /// Delta events received: an estimate of tokens until usage arrives.
    pub deltas: u64,
    pub started_at: Option<Instant>,
    pub first_token_at: Option<Instant>,
}

impl PaneView {
    fn push_text(&mut self, text: &str, now: Instant) {
        self.text.push_str(&sanitize(text));
        self.deltas += 1;
        self.first_token_at.get_or_insert(now);
    }

    fn push_reasoning(&mut self, text: &str, now: Instant) {
        self.reasoning.push_str(&sanitize(text));
        self.first_token_at.get_or_insert(now);
    }
}

/// Screen areas from the last draw, for mouse hit-testing.
#[derive(Debug, Default, Clone)]
pub struct Areas {
    pub members: Vec<(usize, Rect)>,
    pub judge: Rect,
    pub synthesis: Rect,
    pub prompt: Rect,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Info(String),
    Error(String),
}

pub struct State {
    pub report: RunReport,
    pub running: bool,
    pub members: Vec<PaneView>,
    pub judge: PaneView,
    pub judge_tab: JudgeTab,
    pub judge_scroll: Scroll,
    pub synthesis: PaneView,
    pub focus: Focus,
    pub zoomed: bool,
    pub help: bool,
    pub editor: TextArea<'static>,
    pub history: Vec<String>,
    history_pos: Option<usize>,
    pub notice: Option<Notice>,
    /// Set by a Ctrl-C that cancelled a run: the next one quits.
    interrupt_armed: bool,
    pub started: Option<Instant>,
    pub now: Instant,
    pub tick: u64,
    pub quit: bool,
    pub dirty: bool,
    pub areas: Areas,
    /// First member row shown when the panel has more rows than fit.
    pub member_row: usize,
    /// Pane keys the config file changed.
    pub keys: crate::tui::keymap::KeyOverrides,
    /// The panel editor, while it is open.
    pub panel_editor: Option<PanelEditor>,
    /// The history browser, while it is open.
    pub history_browser: Option<HistoryBrowser>,
    /// The most the next run (or the running one) may cost, from the
    /// models' prices; shown until real costs arrive.
    pub estimate: Option<CostEstimate>,
}

impl Default for State {
    fn default() -> Self {
        Self::new()
    }
}

impl State {
    pub fn new() -> Self {
        let mut editor = TextArea::default();
        editor.set_placeholder_text("Ask the council a question…");
        editor.set_wrap_mode(ratatui_textarea::WrapMode::Word);
        Self {
            report: RunReport::default(),
            running: false,
            members: Vec::new(),
            judge: PaneView::default(),
            judge_tab: JudgeTab::default(),
            judge_scroll: Scroll::default(),
            synthesis: PaneView::default(),
            focus: Focus::Prompt,
            zoomed: false,
            help: false,
            editor,
            history: Vec::new(),
            history_pos: None,
            notice: None,
            interrupt_armed: false,
            started: None,
            now: Instant::now(),
            tick: 0,
            quit: false,
            dirty: true,
            areas: Areas::default(),
            member_row: 0,
            keys: Default::default(),
            panel_editor: None,
            history_browser: None,
            estimate: None,
        }
    }

    /// Elapsed time of the current or last run.
    pub fn elapsed(&self) -> Option<Duration> {
        match (self.running, self.started, self.report.elapsed_ms) {
            (true, Some(started), _) => Some(self.now.saturating_duration_since(started)),
            (_, _, Some(ms)) => Some(Duration::from_millis(ms)),
            _ => None,
        }
    }

    /// Folds one council event into the state.
    pub fn apply(&mut self, event: &CouncilEvent) {
        self.report.apply(event);
        self.dirty = true;
        let now = self.now;
        match event {
            CouncilEvent::RunStarted { members, scope, .. } => {
                match scope {
                    RunScope::Full => {
                        self.members = members.iter().map(|_| PaneView::default()).collect();
                        self.judge = PaneView::default();
                        self.synthesis = PaneView::default();
                        self.judge_scroll = Scroll::default();
                        self.judge_tab = JudgeTab::default();
                        self.member_row = 0;
                    }
                    RunScope::Members(indices) => {
                        self.members.resize_with(members.len(), PaneView::default);
                        for &i in indices {
                            if let Some(p) = self.members.get_mut(i) {
                                *p = PaneView::default();
                            }
                        }
                    }
                    RunScope::Judgement => {
                        self.judge = PaneView::default();
                        self.synthesis = PaneView::default();
                        self.judge_scroll = Scroll::default();
                    }
                }
                self.running = true;
                self.started.get_or_insert(now);
            }
            CouncilEvent::MemberStarted { member } => {
                if let Some(p) = self.members.get_mut(*member) {
                    p.started_at = Some(now);
                }
            }
            CouncilEvent::MemberDelta { member, text } => {
                if let Some(p) = self.members.get_mut(*member) {
                    p.push_text(text, now);
                }
            }
            CouncilEvent::MemberReasoning { member, text } => {
                if let Some(p) = self.members.get_mut(*member) {
                    p.push_reasoning(text, now);
                }
            }
            CouncilEvent::JudgeStarted { .. } => self.judge.started_at = Some(now),
            CouncilEvent::JudgeDelta { text } => self.judge.push_text(text, now),
            CouncilEvent::JudgeFailed { .. } if !self.judge.text.is_empty() => {
                self.judge_tab = JudgeTab::Raw
            }
            CouncilEvent::SynthesisStarted { .. } => self.synthesis.started_at = Some(now),
            CouncilEvent::SynthesisDelta { text } => self.synthesis.push_text(text, now),
            CouncilEvent::RunFinished { .. } => {
                self.running = false;
                self.interrupt_armed = false;
            }
            _ => {}
        }
    }

    /// Panes in Tab order after the editor.
    fn focus_order(&self) -> Vec<Focus> {
        let mut order = vec![Focus::Prompt];
        order.extend((0..self.members.len()).map(Focus::Member));
        if !self.members.is_empty() {
            order.push(Focus::Judge);
            order.push(Focus::Synthesis);
        }
        order
    }

    fn move_focus(&mut self, step: isize) {
        let order = self.focus_order();
        let at = order.iter().position(|f| *f == self.focus).unwrap_or(0) as isize;
        let next = (at + step).rem_euclid(order.len() as isize) as usize;
        self.focus = order[next];
        if self.focus == Focus::Prompt {
            self.zoomed = false;
        }
    }

    fn focused_scroll(&mut self) -> Option<&mut Scroll> {
        match self.focus {
            Focus::Prompt => None,
            Focus::Member(i) => self.members.get_mut(i).map(|p| &mut p.scroll),
            Focus::Judge => Some(&mut self.judge_scroll),
            Focus::Synthesis => Some(&mut self.synthesis.scroll),
        }
    }

    /// The text `y` copies: the focused pane's, as shown (sanitized).
    fn focused_text(&self) -> Option<String> {
        let text = match self.focus {
            Focus::Prompt => self.editor.lines().join("\n"),
            Focus::Member(i) => self.members.get(i)?.text.clone(),
            Focus::Judge => self.judge.text.clone(),
            Focus::Synthesis => self.synthesis.text.clone(),
        };
        (!text.is_empty()).then_some(text)
    }

    fn pane_at(&self, column: u16, row: u16) -> Option<Focus> {
        let hit = |r: &Rect| r.contains(ratatui::layout::Position { x: column, y: row });
        if let Some((i, _)) = self.areas.members.iter().find(|(_, r)| hit(r)) {
            return Some(Focus::Member(*i));
        }
        if hit(&self.areas.judge) {
            return Some(Focus::Judge);
        }
        if hit(&self.areas.synthesis) {
            return Some(Focus::Synthesis);
        }
        if hit(&self.areas.prompt) {
            return Some(Focus::Prompt);
        }
        None
    }

    fn set_editor_text(&mut self, text: &str) {
        self.editor.select_all();
        self.editor.cut();
        self.editor.insert_str(text);
    }

    /// Applies an action; returns the commands the loop must carry out.
    pub fn update(&mut self, action: Action) -> Vec<Command> {
        self.dirty = true;
        if !matches!(action, Action::Interrupt) {
            self.interrupt_armed = false;
        }
        if self.help && !matches!(action, Action::Interrupt | Action::Quit) {
            if matches!(action, Action::Back | Action::ToggleHelp) {
                self.help = false;
            }
            return Vec::new();
        }
        match action {
            Action::Submit => return self.submit(),
            Action::InsertNewline => self.editor.insert_newline(),
            Action::Edit(input) => {
                self.history_pos = None;
                self.editor.input(input);
            }
            Action::Paste(text) => {
                self.focus = Focus::Prompt;
                // Pasted text is the person's own, but strip escapes all the same.
                let text = sanitize(&text.replace("\r\n", "\n"));
                self.editor.insert_str(text);
            }
            Action::HistoryPrev => {
                if self.history.is_empty() {
                    return Vec::new();
                }
                let pos = match self.history_pos {
                    None => self.history.len() - 1,
                    Some(p) => p.saturating_sub(1),
                };
                self.history_pos = Some(pos);
                let text = self.history[pos].clone();
                self.set_editor_text(&text);
            }
            Action::HistoryNext => match self.history_pos {
                Some(p) if p + 1 < self.history.len() => {
                    self.history_pos = Some(p + 1);
                    let text = self.history[p + 1].clone();
                    self.set_editor_text(&text);
                }
                Some(_) => {
                    self.history_pos = None;
                    self.set_editor_text("");
                }
                None => {}
            },
            Action::FocusNext => self.move_focus(1),
            Action::FocusPrev => self.move_focus(-1),
            Action::FocusEditor => {
                self.focus = Focus::Prompt;
                self.zoomed = false;
            }
            Action::Back => {
                if self.zoomed {
                    self.zoomed = false;
                } else if self.focus == Focus::Prompt {
                    if !self.members.is_empty() {
                        self.focus = Focus::Member(0);
                    }
                } else {
                    self.notice = None;
                }
            }
            Action::ToggleZoom => {
                if self.focus != Focus::Prompt {
                    self.zoomed = !self.zoomed;
                }
            }
            Action::Scroll(n) => {
                if let Some(s) = self.focused_scroll() {
                    s.by(n);
                }
            }
            Action::PageUp | Action::PageDown => {
                let down = action == Action::PageDown;
                if let Some(s) = self.focused_scroll() {
                    let page = s.page.saturating_sub(1).max(1) as isize;
                    s.by(if down { page } else { -page });
                }
            }
            Action::ScrollTop => {
                if let Some(s) = self.focused_scroll() {
                    s.top();
                }
            }
            Action::ScrollBottom => {
                if let Some(s) = self.focused_scroll() {
                    s.bottom();
                }
            }
            Action::JudgeTab(i) => {
                if let Some(tab) = JudgeTab::ALL.get(i) {
                    self.judge_tab = *tab;
                    self.judge_scroll = Scroll {
                        follow: false,
                        ..Scroll::default()
                    };
                }
            }
            Action::NextTab | Action::PrevTab => {
                let step = if action == Action::NextTab {
                    1
                } else {
                    JudgeTab::ALL.len() - 1
                };
                self.judge_tab =
                    JudgeTab::ALL[(self.judge_tab.index() + step) % JudgeTab::ALL.len()];
                self.judge_scroll = Scroll {
                    follow: false,
                    ..Scroll::default()
                };
            }
            Action::CancelFocused => {
                if let Focus::Member(i) = self.focus
                    && self
                        .report
                        .members
                        .get(i)
                        .is_some_and(|m| !m.status.is_settled())
                {
                    return vec![Command::CancelMember(i)];
                }
            }
            Action::Interrupt => {
                if self.running && !self.interrupt_armed {
                    self.interrupt_armed = true;
                    self.notice = Some(Notice::Info("cancelling… Ctrl-C again quits".into()));
                    return vec![Command::CancelRun];
                }
                self.quit = true;
                return vec![Command::Quit];
            }
            Action::Quit => {
                self.quit = true;
                return vec![Command::Quit];
            }
            Action::Copy => {
                if let Some(text) = self.focused_text() {
                    self.notice = Some(Notice::Info(format!(
                        "copied {} characters",
                        text.chars().count()
                    )));
                    return vec![Command::Copy(text)];
                }
            }
            Action::ToggleHelp => self.help = !self.help,
            Action::NextTheme => return vec![Command::NextTheme],
            Action::RerunFocused => return self.rerun_focused(),
            Action::OpenPanelEditor => return vec![Command::OpenPanelEditor],
            Action::NewConversation if self.running => {
                self.notice = Some(Notice::Info(
                    "a council is running: Ctrl-C cancels it".into(),
                ));
            }
            Action::NewConversation => return vec![Command::NewConversation],
            Action::OpenHistory if self.running => {
                self.notice = Some(Notice::Info(
                    "a council is running: Ctrl-C cancels it".into(),
                ));
            }
            Action::OpenHistory => return vec![Command::OpenHistory],
            Action::HistoryKey(key) => {
                let Some(browser) = &mut self.history_browser else {
                    return Vec::new();
                };
                match browser.handle(key) {
                    HistoryOutcome::Stay => {}
                    HistoryOutcome::Close => self.history_browser = None,
                    HistoryOutcome::Open(s) => {
                        self.history_browser = None;
                        return vec![Command::OpenSession(s.path)];
                    }
                    HistoryOutcome::Delete(s) => return vec![Command::DeleteSession(s)],
                }
            }
            Action::PanelKey(key) => return self.panel_key(key),
            Action::Rejudge => return self.rejudge(),
            Action::ToggleReasoning => match self.focus {
                Focus::Member(i) => {
                    if let Some(p) = self.members.get_mut(i) {
                        p.show_reasoning = !p.show_reasoning;
                    }
                }
                _ => {
                    let show = !self.members.iter().any(|p| p.show_reasoning);
                    self.members
                        .iter_mut()
                        .for_each(|p| p.show_reasoning = show);
                }
            },
            Action::ScrollAt { column, row, lines } => {
                if let Some(focus) = self.pane_at(column, row) {
                    let previous = self.focus;
                    self.focus = focus;
                    if let Some(s) = self.focused_scroll() {
                        s.by(lines);
                    }
                    self.focus = previous;
                }
            }
            Action::ClickAt { column, row } => {
                if let Some(focus) = self.pane_at(column, row) {
                    self.focus = focus;
                }
            }
        }
        Vec::new()
    }

    fn submit(&mut self) -> Vec<Command> {
        let question = self.editor.lines().join("\n").trim().to_string();
        if question.is_empty() {
            return Vec::new();
        }
        if self.running {
            self.notice = Some(Notice::Info(
                "a council is running: Ctrl-C cancels it".into(),
            ));
            return Vec::new();
        }
        if self.history.last() != Some(&question) {
            self.history.push(question.clone());
        }
        self.history_pos = None;
        self.set_editor_text("");
        self.notice = None;
        self.started = Some(self.now);
        // Panes and report go together: a pane without its report entry
        // cannot be drawn.
        self.report = RunReport::default();
        self.members.clear();
        self.judge = PaneView::default();
        self.synthesis = PaneView::default();
        if matches!(self.focus, Focus::Member(_)) {
            self.focus = Focus::Prompt;
        }
        self.zoomed = false;
        vec![Command::StartRun(question)]
    }

    /// `r`: runs the focused member again (with its current settings); the
    /// others keep their answers.
    fn rerun_focused(&mut self) -> Vec<Command> {
        let Focus::Member(i) = self.focus else {
            self.notice = Some(Notice::Info(
                "focus a member to re-run it; R re-judges and re-synthesizes".into(),
            ));
            return Vec::new();
        };
        if !self.can_continue() {
            return Vec::new();
        }
        self.started = Some(self.now);
        self.notice = None;
        vec![Command::RerunMember(i)]
    }

    /// `R`: the judge and the synthesis again, over the answers there are.
    fn rejudge(&mut self) -> Vec<Command> {
        if !self.can_continue() {
            return Vec::new();
        }
        if self.report.answered().next().is_none() {
            self.notice = Some(Notice::Info("no member has an answer to judge".into()));
            return Vec::new();
        }
        self.started = Some(self.now);
        self.notice = None;
        vec![Command::Rejudge]
    }

    fn panel_key(&mut self, key: crossterm::event::KeyEvent) -> Vec<Command> {
        let Some(editor) = &mut self.panel_editor else {
            return Vec::new();
        };
        match editor.handle(key) {
            EditorOutcome::Stay => Vec::new(),
            EditorOutcome::Save(name) => vec![Command::SavePreset(name, editor.plan.clone())],
            EditorOutcome::Close => {
                let plan = self.panel_editor.take().expect("open").plan;
                if !self.report.question.is_empty() {
                    self.notice = Some(Notice::Info(
                        "the panel applies to the next run; r re-runs a member with it".into(),
                    ));
                }
                vec![Command::ApplyPlan(plan)]
            }
        }
    }

    /// After the panel was edited: members and panes follow the new seats,
    /// matched by name (so a removed or moved member takes its answer with
    /// it); returns the indices of members that are new and have no answer.
    pub fn reseat(&mut self, seats: &[crate::engine::SeatInfo]) -> Vec<usize> {
        let mut old: Vec<(crate::engine::report::MemberReport, PaneView)> =
            std::mem::take(&mut self.report.members)
                .into_iter()
                .zip(std::mem::take(&mut self.members))
                .collect();
        let mut added = Vec::new();
        for (i, seat) in seats.iter().enumerate() {
            let (report, pane) = match old.iter().position(|(m, _)| m.name == seat.name) {
                Some(j) => old.remove(j),
                None => {
                    added.push(i);
                    (
                        crate::engine::report::MemberReport::queued(seat),
                        PaneView::default(),
                    )
                }
            };
            self.report.members.push(report);
            self.members.push(pane);
        }
        if let Focus::Member(i) = self.focus
            && i >= self.members.len()
        {
            self.focus = Focus::Prompt;
        }
        self.dirty = true;
        added
    }

    /// Shows a saved turn as if it had just run: every pane, judge tab and
    /// the synthesis as they were.
    pub fn show_report(&mut self, report: RunReport) {
        let pane = |text: &str, reasoning: &str| PaneView {
            text: sanitize(text),
            reasoning: sanitize(reasoning),
            ..PaneView::default()
        };
        self.members = report
            .members
            .iter()
            .map(|m| pane(&m.text, &m.reasoning))
            .collect();
        self.judge = pane(&report.judge.text, "");
        self.synthesis = pane(&report.synthesis.text, "");
        self.judge_scroll = Scroll::default();
        self.judge_tab = JudgeTab::default();
        self.member_row = 0;
        self.focus = Focus::Prompt;
        self.zoomed = false;
        self.running = false;
        self.started = None;
        self.report = report;
        self.dirty = true;
    }

    /// A re-run needs a finished run to continue.
    fn can_continue(&mut self) -> bool {
        let why = if self.running {
            "a council is running: wait for it, or Ctrl-C cancels it"
        } else if self.report.question.is_empty() {
            "ask a question first"
        } else {
            return true;
        };
        self.notice = Some(Notice::Info(why.into()));
        false
    }

    /// A run could not start (bad configuration): say why.
    pub fn start_failed(&mut self, message: String) {
        self.running = false;
        self.started = None;
        self.notice = Some(Notice::Error(message));
        self.dirty = true;
    }

    /// Advances the spinner and clock; redraws only while something moves.
    pub fn on_tick(&mut self, now: Instant) {
        self.now = now;
        if self.running {
            self.tick = self.tick.wrapping_add(1);
            self.dirty = true;
        }
    }

    /// Counts of members by status: (settled, total).
    pub fn panel_progress(&self) -> (usize, usize) {
        let settled = self
            .report
            .members
            .iter()
            .filter(|m| m.status.is_settled())
            .count();
        (settled, self.report.members.len())
    }

    pub fn member_status(&self, i: usize) -> Status {
        self.report
            .members
            .get(i)
            .map(|m| m.status)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SeatInfo;
    use crate::provider::{ErrorKind, ProviderError, Usage};

    fn seat(name: &str) -> SeatInfo {
        SeatInfo {
            name: name.into(),
            model: format!("x/{name}"),
            provider: "p".into(),
        }
    }

    fn started(n: usize) -> State {
        let mut s = State::new();
        s.apply(&CouncilEvent::RunStarted {
            question: "Q".into(),
            scope: Default::default(),
            preset: None,
            members: (0..n).map(|i| seat(&format!("m{i}"))).collect(),
            judge: seat("judge"),
            synthesizer: seat("synth"),
        });
        s
    }

    #[test]
    fn deltas_are_sanitized_and_counted() {
        let mut s = started(2);
        s.apply(&CouncilEvent::MemberStarted { member: 1 });
        s.apply(&CouncilEvent::MemberDelta {
            member: 1,
            text: "hi \u{1b}]0;title\u{7}there\u{1b}[2J".into(),
        });
        assert_eq!(s.members[1].text, "hi there");
        assert_eq!(s.members[1].deltas, 1);
        // The report keeps what the model sent, for export.
        assert!(s.report.members[1].text.contains('\u{1b}'));
    }

    #[test]
    fn focus_cycles_through_every_pane() {
        let mut s = started(2);
        let mut seen = vec![s.focus];
        for _ in 0..5 {
            s.update(Action::FocusNext);
            seen.push(s.focus);
        }
        assert_eq!(
            seen,
            [
                Focus::Prompt,
                Focus::Member(0),
                Focus::Member(1),
                Focus::Judge,
                Focus::Synthesis,
                Focus::Prompt
            ]
        );
        s.update(Action::FocusPrev);
        assert_eq!(s.focus, Focus::Synthesis);
    }

    #[test]
    fn submit_starts_a_run_and_remembers_the_question() {
        let mut s = State::new();
        s.editor.insert_str("Why?");
        assert_eq!(s.update(Action::Submit), [Command::StartRun("Why?".into())]);
        assert!(s.editor.is_empty());
        s.update(Action::HistoryPrev);
        assert_eq!(s.editor.lines(), ["Why?"]);
        s.update(Action::HistoryNext);
        assert!(s.editor.is_empty());
        // Empty questions do nothing.
        assert!(s.update(Action::Submit).is_empty());
    }

    #[test]
    fn a_second_question_clears_panes_with_the_report() {
        let mut s = started(2);
        s.apply(&CouncilEvent::RunFinished {
            outcome: crate::engine::RunOutcome::Synthesized,
            usage: Default::default(),
            elapsed_ms: 1,
        });
        s.focus = Focus::Member(1);
        s.editor.insert_str("Again?");
        assert_eq!(
            s.update(Action::Submit),
            [Command::StartRun("Again?".into())]
        );
        assert_eq!(
            s.members.len(),
            s.report.members.len(),
            "drawable until the run starts"
        );
        assert_eq!(s.focus, Focus::Prompt);
    }

    #[test]
    fn reruns_need_a_finished_run_and_a_focused_member() {
        let mut idle = State::new();
        idle.focus = Focus::Member(0);
        assert!(idle.update(Action::RerunFocused).is_empty());
        assert_eq!(
            idle.notice,
            Some(Notice::Info("ask a question first".into()))
        );

        let mut s = started(2);
        s.focus = Focus::Member(1);
        assert!(
            s.update(Action::RerunFocused).is_empty(),
            "not while running"
        );
        assert!(s.update(Action::Rejudge).is_empty());
        s.apply(&CouncilEvent::MemberDelta {
            member: 0,
            text: "an answer".into(),
        });
        for member in 0..2 {
            s.apply(&CouncilEvent::MemberFinished {
                member,
                finish_reason: None,
                usage: Default::default(),
                ttft_ms: None,
                elapsed_ms: 1,
                malformed_events: 0,
            });
        }
        s.apply(&CouncilEvent::RunFinished {
            outcome: crate::engine::RunOutcome::Synthesized,
            usage: Default::default(),
            elapsed_ms: 1,
        });
        assert_eq!(s.update(Action::RerunFocused), [Command::RerunMember(1)]);
        assert_eq!(s.update(Action::Rejudge), [Command::Rejudge]);
        s.focus = Focus::Judge;
        assert!(
            s.update(Action::RerunFocused).is_empty(),
            "only a member re-runs"
        );
    }

    #[test]
    fn ctrl_c_cancels_then_quits() {
        let mut s = started(1);
        assert_eq!(s.update(Action::Interrupt), [Command::CancelRun]);
        assert!(!s.quit);
        assert_eq!(s.update(Action::Interrupt), [Command::Quit]);
        assert!(s.quit);

        let mut idle = State::new();
        assert_eq!(idle.update(Action::Interrupt), [Command::Quit]);
    }

    #[test]
    fn cancel_targets_the_focused_running_member() {
        let mut s = started(2);
        s.apply(&CouncilEvent::MemberStarted { member: 1 });
        s.update(Action::FocusNext);
        s.update(Action::FocusNext);
        assert_eq!(s.update(Action::CancelFocused), [Command::CancelMember(1)]);
        s.apply(&CouncilEvent::MemberFailed {
            member: 1,
            error: ProviderError::new(ErrorKind::Dropped, "x"),
            ttft_ms: None,
            elapsed_ms: 1,
        });
        assert!(s.update(Action::CancelFocused).is_empty());
    }

    #[test]
    fn scrolling_up_stops_following_and_the_bottom_resumes_it() {
        let mut scroll = Scroll::default();
        assert_eq!(scroll.fit(100, 10), 90);
        scroll.by(-5);
        assert_eq!((scroll.offset, scroll.follow), (85, false));
        assert_eq!(scroll.fit(120, 10), 85, "new lines do not move a held view");
        scroll.by(200);
        assert!(scroll.follow);
        assert_eq!(scroll.fit(130, 10), 120);
        scroll.top();
        assert_eq!(scroll.fit(130, 10), 0);
    }

    #[test]
    fn judge_failure_with_text_switches_to_raw() {
        let mut s = started(1);
        s.apply(&CouncilEvent::JudgeDelta {
            text: "not json".into(),
        });
        s.apply(&CouncilEvent::JudgeFailed {
            failure: crate::engine::judge::JudgeFailure::new(
                crate::engine::judge::JudgeFailureKind::NotJson,
                "x",
            ),
            usage: Usage::default(),
            elapsed_ms: 3,
        });
        assert_eq!(s.judge_tab, JudgeTab::Raw);
    }

    #[test]
    fn help_swallows_keys_until_closed() {
        let mut s = started(1);
        s.update(Action::ToggleHelp);
        s.update(Action::FocusNext);
        assert_eq!(s.focus, Focus::Prompt);
        s.update(Action::Back);
        assert!(!s.help);
    }
}
