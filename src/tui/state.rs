//! The TUI's state and the plain functions that change it. The run (what
//! the council produced, folded from its events) is kept apart from the view
//! (focus, the open overlay, scroll positions, render caches, the editor):
//! events change the run, actions change the view and may return commands
//! for the loop. Nothing here does I/O.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ratatui_textarea::TextArea;

use crate::engine::estimate::CostEstimate;
use crate::engine::judge::{Analysis, Finding, Quote};
use crate::engine::report::MemberReport;
use crate::engine::{CouncilEvent, RunReport, RunScope, SeatInfo, SynthesisFeed};
use crate::sanitize::sanitize;
use crate::tui::action::{Action, Command};
use crate::tui::arrangement::Arrangement;
pub use crate::tui::focus::Focus;
use crate::tui::history::HistoryOutcome;
use crate::tui::keymap::KeyNames;
use crate::tui::layer::{Layer, Overlay};
use crate::tui::panel_editor::EditorOutcome;
use crate::tui::search::Search;

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
    pub(crate) const ALL: [JudgeTab; 6] = [
        JudgeTab::Consensus,
        JudgeTab::Contradictions,
        JudgeTab::BlindSpots,
        JudgeTab::UniqueInsights,
        JudgeTab::PartialCoverage,
        JudgeTab::Raw,
    ];

    pub(crate) fn index(self) -> usize {
        Self::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    pub(crate) fn title(self) -> &'static str {
        match self {
            JudgeTab::Consensus => "Consensus",
            JudgeTab::Contradictions => "Contradictions",
            JudgeTab::BlindSpots => "Blind spots",
            JudgeTab::UniqueInsights => "Unique insights",
            JudgeTab::PartialCoverage => "Partial coverage",
            JudgeTab::Raw => "Raw",
        }
    }

    /// The findings this tab lists: none for the contradictions (stances,
    /// not findings) and the raw reply.
    pub(crate) fn findings(self, a: &Analysis) -> Option<&[Finding]> {
        match self {
            JudgeTab::Consensus => Some(&a.consensus),
            JudgeTab::BlindSpots => Some(&a.blind_spots),
            JudgeTab::UniqueInsights => Some(&a.unique_insights),
            JudgeTab::PartialCoverage => Some(&a.partial_coverage),
            JudgeTab::Contradictions | JudgeTab::Raw => None,
        }
    }

    /// How many items the tab lists.
    pub(crate) fn item_count(self, a: &Analysis) -> usize {
        match self {
            JudgeTab::Contradictions => a.contradictions.len(),
            tab => tab.findings(a).map_or(0, <[Finding]>::len),
        }
    }
}

/// Where a pane is scrolled: following the tail, or held at an offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scroll {
    pub(crate) offset: usize,
    pub follow: bool,
    /// The person scrolled this pane; a finished stream leaves it be.
    pub(crate) touched: bool,
    /// The largest offset at the last draw (content height minus view height).
    pub(crate) max: usize,
    /// The view's height at the last draw, for paging.
    pub(crate) page: usize,
}

impl Default for Scroll {
    fn default() -> Self {
        Self {
            offset: 0,
            follow: true,
            touched: false,
            max: 0,
            page: 1,
        }
    }
}

impl Scroll {
    pub(crate) fn by(&mut self, lines: isize) {
        self.touched = true;
        let offset = if self.follow { self.max } else { self.offset };
        let next = offset.saturating_add_signed(lines).min(self.max);
        self.offset = next;
        self.follow = next >= self.max;
    }

    pub(crate) fn top(&mut self) {
        self.touched = true;
        self.offset = 0;
        self.follow = self.max == 0;
    }

    pub(crate) fn bottom(&mut self) {
        self.touched = true;
        self.offset = self.max;
        self.follow = true;
    }

    /// A stream ended: a pane the person never scrolled goes back to its
    /// beginning, where the answer (or the judge's first item) starts.
    pub(crate) fn finished(&mut self) {
        if !self.touched {
            self.offset = 0;
            self.follow = false;
        }
    }

    /// This scroll fitted to content of `total` lines in a view of
    /// `height`: its `offset` is the first line to show.
    pub(crate) fn fitted(&self, total: usize, height: usize) -> Scroll {
        let max = total.saturating_sub(height);
        let offset = if self.follow {
            max
        } else {
            self.offset.min(max)
        };
        Scroll {
            offset,
            max,
            page: height.max(1),
            ..*self
        }
    }
}

/// A stream's text as displayed (sanitized as it arrives) and its timing.
#[derive(Debug, Default, Clone)]
pub struct StreamText {
    pub text: String,
    pub(crate) reasoning: String,
    /// Delta events received: an estimate of tokens until usage arrives.
    pub deltas: u64,
    pub(crate) started_at: Option<Instant>,
    pub(crate) first_token_at: Option<Instant>,
}

impl StreamText {
    fn push_text(&mut self, text: &str, now: Instant) {
        self.text.push_str(&sanitize(text));
        self.deltas += 1;
        self.first_token_at.get_or_insert(now);
    }

    fn push_reasoning(&mut self, text: &str, now: Instant) {
        self.reasoning.push_str(&sanitize(text));
        self.first_token_at.get_or_insert(now);
    }

    fn shown(text: &str, reasoning: &str) -> Self {
        Self {
            text: sanitize(text),
            reasoning: sanitize(reasoning),
            ..Self::default()
        }
    }
}

/// A judge item's quote shown in the member's pane it quotes.
#[derive(Debug, Clone, PartialEq)]
pub struct Jump {
    pub(crate) tab: JudgeTab,
    pub(crate) item: usize,
    /// Which of the item's verified quotes.
    pub(crate) quote: usize,
    pub(crate) member: usize,
    /// Every member the item quotes, with the span shown in its pane (the
    /// quote gone to for `member`): the passages side by side in the grid.
    pub(crate) spans: Vec<(usize, (usize, usize))>,
    /// Per member: the body lines highlighted, once its pane was drawn and
    /// scrolled to them, and the width they were found at (a resize finds
    /// them again).
    pub(crate) lines: HashMap<usize, (usize, usize, usize)>,
    /// The judge was zoomed when the quote was gone to: Esc zooms it again.
    pub(crate) zoomed: bool,
    /// Gone to from this claim of the synthesis (its supporting passages),
    /// not from a judge item: Esc goes back to it.
    pub(crate) claim: Option<usize>,
}

/// A follow-up keeps the turns before it reachable: `{` and `}` show them
/// in every pane, as they were; the latest comes back at the end.
#[derive(Debug, Default)]
pub(crate) struct Turns {
    earlier: Vec<RunReport>,
    /// The earlier turn on screen, and the latest put aside meanwhile.
    viewing: Option<(usize, Box<RunReport>)>,
}

impl Turns {
    /// Turns before the latest.
    pub(crate) fn set_earlier(&mut self, earlier: Vec<RunReport>) {
        self.earlier = earlier;
        self.viewing = None;
    }

    /// A finished turn becomes an earlier one (a follow-up was asked).
    pub(crate) fn push(&mut self, turn: RunReport) {
        self.earlier.push(turn);
    }

    /// (the turn on screen, counted from 1; how many there are), once the
    /// conversation has more than one.
    pub(crate) fn position(&self) -> Option<(usize, usize)> {
        let total = self.earlier.len() + 1;
        (total > 1).then(|| {
            let at = self.viewing.as_ref().map_or(total, |(i, _)| i + 1);
            (at, total)
        })
    }

    pub(crate) fn viewing_earlier(&self) -> bool {
        self.viewing.is_some()
    }
}

/// The run on screen: the report folded from the engine's events, and each
/// stream's display text. Member texts follow the report's members through
/// every change made here, so the two cannot drift apart.
#[derive(Debug, Default)]
pub struct Run {
    report: RunReport,
    members: Vec<StreamText>,
    /// Members' display texts of the rounds before the current one, by
    /// round (round 1 first).
    earlier_rounds: Vec<Vec<StreamText>>,
    judge: StreamText,
    synthesis: StreamText,
    /// What of the report's synthesis text is in `synthesis`.
    synthesis_feed: SynthesisFeed,
    running: bool,
    /// Members are ranking each other's answers.
    ranking: bool,
    /// When the run in progress (or the last one) started.
    started: Option<Instant>,
    /// Time the turn had taken before a partial run (a re-run, a re-judge)
    /// began: the clock goes on from there instead of restarting at zero.
    elapsed_before: Duration,
}

impl Run {
    pub fn report(&self) -> &RunReport {
        &self.report
    }

    pub fn running(&self) -> bool {
        self.running
    }

    pub(crate) fn ranking(&self) -> bool {
        self.ranking
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Where the member called `name` sits on the panel.
    pub(crate) fn position(&self, name: &str) -> Option<usize> {
        self.report.members.iter().position(|m| m.name == name)
    }

    /// A member's report and display text.
    pub(crate) fn member(&self, i: usize) -> Option<(&MemberReport, &StreamText)> {
        Some((self.report.members.get(i)?, self.members.get(i)?))
    }

    pub fn members(&self) -> impl Iterator<Item = (&MemberReport, &StreamText)> {
        self.report.members.iter().zip(&self.members)
    }

    /// A member's report and display text in `round` (the current one
    /// included).
    pub(crate) fn member_in_round(
        &self,
        i: usize,
        round: u32,
    ) -> Option<(&MemberReport, &StreamText)> {
        if round == self.report.round {
            return self.member(i);
        }
        let texts = self.earlier_rounds.get(round.checked_sub(1)? as usize)?;
        Some((self.report.member_in_round(i, round)?, texts.get(i)?))
    }

    pub fn judge(&self) -> &StreamText {
        &self.judge
    }

    pub fn synthesis(&self) -> &StreamText {
        &self.synthesis
    }

    /// Elapsed time of the current or last run.
    pub(crate) fn elapsed(&self, now: Instant) -> Option<Duration> {
        match (self.running, self.started, self.report.elapsed_ms) {
            (true, Some(started), _) => {
                Some(self.elapsed_before + now.saturating_duration_since(started))
            }
            (_, _, Some(ms)) => Some(Duration::from_millis(ms)),
            _ => None,
        }
    }

    /// The judgement and synthesis on screen predate the answers, and no
    /// run is making new ones.
    pub(crate) fn judgement_stale(&self) -> bool {
        self.report.stale && !self.running
    }

    /// Counts of members by status: (settled, total).
    pub(crate) fn panel_progress(&self) -> (usize, usize) {
        let settled = self
            .report
            .members
            .iter()
            .filter(|m| m.status.is_settled())
            .count();
        (settled, self.report.members.len())
    }

    fn apply(&mut self, event: &CouncilEvent, now: Instant) {
        self.report.apply(event);
        match event {
            CouncilEvent::RunStarted { scope, .. } => {
                match scope {
                    RunScope::Full => {
                        self.members.clear();
                        self.judge = StreamText::default();
                        self.synthesis = StreamText::default();
                    }
                    RunScope::Members(indices) => {
                        for &i in indices {
                            if let Some(m) = self.members.get_mut(i) {
                                *m = StreamText::default();
                            }
                        }
                    }
                    RunScope::Judgement => {
                        self.judge = StreamText::default();
                        self.synthesis = StreamText::default();
                    }
                    RunScope::Round => self.synthesis = StreamText::default(),
                }
                self.elapsed_before = match scope {
                    RunScope::Full => Duration::ZERO,
                    _ => Duration::from_millis(self.report.elapsed_ms.unwrap_or(0)),
                };
                self.running = true;
                self.started = Some(now);
            }
            CouncilEvent::RoundStarted { round, members, .. } => {
                self.earlier_rounds.truncate((*round).max(2) as usize - 2);
                self.earlier_rounds.push(self.members.clone());
                for &i in members {
                    if let Some(m) = self.members.get_mut(i) {
                        *m = StreamText::default();
                    }
                }
                self.judge = StreamText::default();
            }
            CouncilEvent::MemberStarted { member } => {
                if let Some(m) = self.members.get_mut(*member) {
                    m.started_at = Some(now);
                }
            }
            CouncilEvent::MemberDelta { member, text } => {
                if let Some(m) = self.members.get_mut(*member) {
                    m.push_text(text, now);
                }
            }
            CouncilEvent::MemberReasoning { member, text } => {
                if let Some(m) = self.members.get_mut(*member) {
                    m.push_reasoning(text, now);
                }
            }
            CouncilEvent::JudgeStarted { .. } => self.judge.started_at = Some(now),
            CouncilEvent::JudgeDelta { text } => self.judge.push_text(text, now),
            // A synthesis that starts (again) starts its text over, as the
            // feed does.
            CouncilEvent::SynthesisStarted { .. } => {
                self.synthesis = StreamText {
                    started_at: Some(now),
                    ..StreamText::default()
                };
            }
            CouncilEvent::RankingStarted { .. } => self.ranking = true,
            CouncilEvent::RankingFinished { .. } => self.ranking = false,
            CouncilEvent::RunFinished { .. } => {
                self.running = false;
                self.ranking = false;
            }
            _ => {}
        }
        // The report's text, not the delta: the citations are taken out
        // there, a piece held back until it is known to be text.
        if let Some(new) = self.synthesis_feed.take(event, &self.report) {
            self.synthesis.push_text(new, now);
        }
        self.align();
    }

    /// One text per member of the report: the one place they are matched.
    fn align(&mut self) {
        self.members
            .resize_with(self.report.members.len(), StreamText::default);
    }

    /// Nothing on screen: a new question is about to run.
    fn clear(&mut self) {
        *self = Self::default();
    }

    /// After the panel was edited: members follow the new seats, matched by
    /// name (a removed or moved member takes its answer with it); returns
    /// the indices of members that are new and have no answer.
    fn reseat(&mut self, seats: &[SeatInfo]) -> Vec<usize> {
        let moves = self.report.reseat(seats);
        let mut texts: Vec<Option<StreamText>> = std::mem::take(&mut self.members)
            .into_iter()
            .map(Some)
            .collect();
        self.members = moves
            .iter()
            .map(|from| {
                from.and_then(|j| texts.get_mut(j)?.take())
                    .unwrap_or_default()
            })
            .collect();
        moves
            .iter()
            .enumerate()
            .filter(|(_, from)| from.is_none())
            .map(|(i, _)| i)
            .collect()
    }

    /// A saved turn, as it was.
    fn show(&mut self, report: RunReport) {
        self.members = report
            .members
            .iter()
            .map(|m| StreamText::shown(&m.text, &m.reasoning))
            .collect();
        self.earlier_rounds = report
            .rounds
            .iter()
            .filter(|r| r.round < report.round)
            .map(|r| {
                r.members
                    .iter()
                    .map(|m| StreamText::shown(&m.text, &m.reasoning))
                    .collect()
            })
            .collect();
        self.judge = StreamText::shown(&report.judge.text, "");
        self.synthesis = StreamText::shown(&report.synthesis.text, "");
        self.synthesis_feed = SynthesisFeed::default();
        self.running = false;
        self.started = None;
        self.report = report;
    }
}

/// How one pane is shown: where it is scrolled and what it shows. Its
/// rendered lines are the drawing's own cache, kept under `id`: a pane
/// started over gets a new id, so nothing drawn for the old one is shown
/// (ids start at 1; 0 is a pane not placed yet).
#[derive(Debug)]
pub struct PaneView {
    pub(crate) id: u64,
    pub scroll: Scroll,
    pub(crate) show_reasoning: bool,
    /// Show the answer as a diff against the member's previous round.
    pub(crate) show_diff: bool,
}

impl Default for PaneView {
    fn default() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            scroll: Scroll::default(),
            show_reasoning: false,
            show_diff: false,
        }
    }
}

/// A pane as the drawing names it in a [`Placement`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pane {
    Member(String),
    Judge,
    Synthesis,
}

/// What a frame found out by drawing, handed back to the view: each drawn
/// pane's scroll fitted to its content and height (for paging and the
/// scroll keys), the first member row shown, where a judge quote landed.
/// Drawing only reads the state; this is how layout comes back.
#[derive(Debug, Default)]
pub struct Placement {
    pub(crate) scrolls: Vec<(Pane, Scroll)>,
    pub(crate) member_row: Option<usize>,
    /// The highlighted judge item was scrolled into view.
    pub(crate) judge_item_shown: bool,
    /// The selected claim of the synthesis was scrolled into view.
    pub(crate) claim_shown: bool,
    /// Per member: the body lines a judge quote was found on (first, last,
    /// at width).
    pub(crate) jump_lines: Vec<(usize, (usize, usize, usize))>,
    /// The help's offset, kept within its list.
    pub(crate) help_offset: Option<usize>,
    /// Per pane drawn: the search's matches in its drawn text.
    pub(crate) search_counts: Vec<(Focus, usize)>,
    /// The search's match gone to was scrolled into view.
    pub(crate) search_shown: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Info(String),
    Error(String),
}

/// What is shown and how: focus, the open overlay, panes' scroll and
/// render caches (member panes by name, so they follow a member wherever
/// the panel moves it), the editor and its history.
pub struct View {
    pub focus: Focus,
    pub(crate) zoomed: bool,
    pub overlay: Option<Overlay>,
    pub judge_tab: JudgeTab,
    /// The highlighted item of the judge's tab (`j`/`k` move it).
    pub judge_item: usize,
    /// Set when the highlight moved: the next frame scrolls it into view.
    pub(crate) judge_item_moved: bool,
    /// A judge quote gone to with Enter: shown in its member's pane.
    pub jump: Option<Jump>,
    /// The selected claim of the synthesis (`j`/`k` on its pane).
    pub claim: usize,
    /// Set when the claim moved: the next frame scrolls it into view.
    pub(crate) claim_moved: bool,
    /// The round the member panes show (`None`: the latest).
    pub round: Option<u32>,
    pub(crate) judge: PaneView,
    pub(crate) synthesis: PaneView,
    members: HashMap<String, PaneView>,
    /// First member row shown when the panel has more rows than fit.
    pub(crate) member_row: usize,
    pub(crate) editor: TextArea<'static>,
    pub history: Vec<String>,
    history_pos: Option<usize>,
    pub notice: Option<Notice>,
    /// Words looked for across the panes (`/`), while the search is open.
    pub(crate) search: Option<Search>,
    /// How the panes share the screen (`L`).
    pub arrangement: Arrangement,
    /// How long the last council of the embedded engine took here, in
    /// seconds (the welcome screen quotes it).
    pub offline_seconds: Option<u64>,
    /// Set by a Ctrl-C that cancelled a run: the next one quits.
    interrupt_armed: bool,
}

impl Default for View {
    fn default() -> Self {
        let mut editor = TextArea::default();
        editor.set_wrap_mode(ratatui_textarea::WrapMode::Word);
        editor.set_cursor_line_style(ratatui::style::Style::default());
        Self {
            focus: Focus::Prompt,
            zoomed: false,
            overlay: None,
            judge_tab: JudgeTab::default(),
            judge_item: 0,
            judge_item_moved: false,
            jump: None,
            claim: 0,
            claim_moved: false,
            round: None,
            judge: PaneView::default(),
            synthesis: PaneView::default(),
            members: HashMap::new(),
            member_row: 0,
            editor,
            history: Vec::new(),
            history_pos: None,
            notice: None,
            search: None,
            arrangement: Arrangement::default(),
            offline_seconds: None,
            interrupt_armed: false,
        }
    }
}

impl View {
    /// The pane of the member called `name`.
    pub fn member_pane(&mut self, name: &str) -> &mut PaneView {
        if !self.members.contains_key(name) {
            self.members.insert(name.to_string(), PaneView::default());
        }
        self.members.get_mut(name).expect("inserted above")
    }

    pub(crate) fn member_pane_ref(&self, name: &str) -> Option<&PaneView> {
        self.members.get(name)
    }

    /// Takes in what the last frame found out by drawing.
    pub fn place(&mut self, placement: Placement) {
        for (pane, scroll) in placement.scrolls {
            match pane {
                Pane::Member(name) => self.member_pane(&name).scroll = scroll,
                Pane::Judge => self.judge.scroll = scroll,
                Pane::Synthesis => self.synthesis.scroll = scroll,
            }
        }
        if let Some(row) = placement.member_row {
            self.member_row = row;
        }
        if placement.judge_item_shown {
            self.judge_item_moved = false;
        }
        if placement.claim_shown {
            self.claim_moved = false;
        }
        if let Some(jump) = &mut self.jump {
            jump.lines.extend(placement.jump_lines);
        }
        if let Some(search) = &mut self.search {
            for (pane, n) in placement.search_counts {
                search.counted(pane, n);
            }
            if placement.search_shown {
                search.moved = false;
            }
            if search.go_when_counted && !search.counts.is_empty() {
                search.go_when_counted = false;
                if let Some(pane) = search.step(self.focus, true) {
                    self.focus = pane;
                }
            }
        }
        if let (Some(Overlay::Help { offset }), Some(at)) =
            (&mut self.overlay, placement.help_offset)
        {
            *offset = at;
        }
    }

    /// Panes of a new run start unscrolled, on the first tab.
    fn reset_panes(&mut self) {
        self.members.clear();
        self.judge = PaneView::default();
        self.synthesis = PaneView::default();
        self.judge_tab = JudgeTab::default();
        self.judge_item = 0;
        self.jump = None;
        self.claim = 0;
        self.round = None;
        self.member_row = 0;
        // The search stays open over the new panes; their matches count anew.
        if let Some(search) = &mut self.search {
            search.counts.clear();
            search.at = None;
        }
    }

    pub(crate) fn set_editor_text(&mut self, text: &str) {
        self.editor.select_all();
        self.editor.cut();
        self.editor.insert_str(text);
    }

    /// True while the editor shows a recalled question that was not edited.
    fn browsing_history(&self) -> bool {
        let text = self.editor.lines().join("\n");
        !text.is_empty() && self.history.contains(&text)
    }
}

pub struct State {
    pub run: Run,
    pub view: View,
    /// The conversation's earlier turns, and which one is on screen.
    pub(crate) turns: Turns,
    /// The most the next run (or the running one) may cost, from the
    /// models' prices; shown until real costs arrive.
    pub estimate: Option<CostEstimate>,
    /// The keys notices name, from the key table.
    pub(crate) keys: KeyNames,
}

impl Default for State {
    fn default() -> Self {
        Self::new()
    }
}

impl State {
    pub fn new() -> Self {
        Self {
            run: Run::default(),
            view: View::default(),
            turns: Turns::default(),
            estimate: None,
            keys: KeyNames::default(),
        }
    }

    /// What has the keyboard.
    pub fn layer(&self) -> Layer {
        match &self.view.overlay {
            Some(overlay) => overlay.layer(),
            None if self.view.search.as_ref().is_some_and(|s| s.typing) => Layer::Search,
            None if self.view.focus == Focus::Prompt && self.view.editor.is_empty() => {
                Layer::EmptyPrompt
            }
            None if self.view.focus == Focus::Prompt => Layer::Prompt,
            None => Layer::Panes,
        }
    }

    /// Folds one council event into the state.
    pub fn apply(&mut self, event: &CouncilEvent, now: Instant) {
        self.run.apply(event, now);
        match event {
            CouncilEvent::RunStarted { scope, .. } => match scope {
                RunScope::Full => {
                    self.view.reset_panes();
                    // Every member's pane exists before its first frame, so
                    // what is drawn into it is kept from that frame on.
                    let names: Vec<String> =
                        self.run.members().map(|(m, _)| m.name.clone()).collect();
                    for name in names {
                        self.view.member_pane(&name);
                    }
                }
                RunScope::Members(indices) => {
                    for &i in indices {
                        if let Some((m, _)) = self.run.member(i) {
                            let name = m.name.clone();
                            *self.view.member_pane(&name) = PaneView::default();
                        }
                    }
                }
                RunScope::Judgement => {
                    self.view.judge = PaneView::default();
                    self.view.synthesis = PaneView::default();
                }
                RunScope::Round => self.view.synthesis = PaneView::default(),
            },
            CouncilEvent::RoundStarted { members, .. } => {
                for &i in members {
                    if let Some((m, _)) = self.run.member(i) {
                        let name = m.name.clone();
                        let pane = self.view.member_pane(&name);
                        *pane = PaneView {
                            show_diff: pane.show_diff,
                            show_reasoning: pane.show_reasoning,
                            ..PaneView::default()
                        };
                    }
                }
                self.view.judge = PaneView::default();
                self.view.judge_item = 0;
                self.view.jump = None;
                self.view.round = None;
            }
            CouncilEvent::JudgeFailed { .. } if !self.run.judge.text.is_empty() => {
                self.view.judge_tab = JudgeTab::Raw
            }
            CouncilEvent::MemberFinished { member, .. } => {
                if let Some((m, _)) = self.run.member(*member) {
                    let name = m.name.clone();
                    self.view.member_pane(&name).scroll.finished();
                }
            }
            CouncilEvent::JudgeFinished { .. } => self.view.judge.scroll.finished(),
            CouncilEvent::SynthesisFinished { .. } => self.view.synthesis.scroll.finished(),
            CouncilEvent::RunFinished { .. } => self.view.interrupt_armed = false,
            _ => {}
        }
    }

    /// Completes the `@path` before the editor's cursor; false when the
    /// word there is not one.
    /// The `@path` word the editor's cursor ends, when there is one.
    fn mention_at_cursor(&self) -> Option<String> {
        let ratatui_textarea::DataCursor(row, col) = self.view.editor.cursor();
        let line = self.view.editor.lines().get(row)?;
        let before: String = line.chars().take(col).collect();
        let word = before.rsplit(char::is_whitespace).next()?;
        word.strip_prefix('@').map(str::to_string)
    }

    /// The paths that complete `@partial` arrived: the common part is
    /// typed, several are listed. Dropped when the word is no longer the
    /// one at the cursor (the person typed on meanwhile).
    pub fn complete_path(&mut self, partial: &str, found: Vec<String>) {
        if self.mention_at_cursor().as_deref() != Some(partial) {
            return;
        }
        let completion = match found.as_slice() {
            [] => {
                self.view.notice = Some(Notice::Info(format!(
                    "no file or directory starts with {}",
                    sanitize(partial)
                )));
                return;
            }
            // A file is complete: a space ends the word; a directory goes on.
            [one] if !one.ends_with('/') => format!("{one} "),
            [one] => one.clone(),
            many => {
                let shown: Vec<String> = many
                    .iter()
                    .take(8)
                    .map(|p| sanitize(p.rsplit_terminator('/').next().unwrap_or(p)))
                    .collect();
                let more = if many.len() > 8 { " …" } else { "" };
                self.view.notice = Some(Notice::Info(format!("{}{more}", shown.join("  "))));
                crate::attachments::common_prefix(many)
            }
        };
        if let Some(rest) = completion.strip_prefix(partial) {
            self.view.editor.insert_str(sanitize(rest));
        }
    }

    /// A panel of one: its member answers alone, without judge or
    /// synthesis, and their panes are not shown.
    pub(crate) fn solo(&self) -> bool {
        self.run.len() == 1
    }

    /// Panes in Tab order after the editor.
    fn focus_order(&self) -> Vec<Focus> {
        let mut order = vec![Focus::Prompt];
        order.extend((0..self.run.len()).map(Focus::Member));
        if !self.run.is_empty() && !self.solo() {
            order.push(Focus::Judge);
            order.push(Focus::Synthesis);
        }
        order
    }

    fn move_focus(&mut self, step: isize) {
        let order = self.focus_order();
        let at = order
            .iter()
            .position(|f| *f == self.view.focus)
            .unwrap_or(0) as isize;
        let next = (at + step).rem_euclid(order.len() as isize) as usize;
        self.view.focus = order[next];
        if self.view.focus == Focus::Prompt {
            self.view.zoomed = false;
        }
    }

    fn scroll_of(&mut self, focus: Focus) -> Option<&mut Scroll> {
        match focus {
            Focus::Prompt => None,
            Focus::Member(i) => {
                let name = self.run.member(i)?.0.name.clone();
                Some(&mut self.view.member_pane(&name).scroll)
            }
            Focus::Judge => Some(&mut self.view.judge.scroll),
            Focus::Synthesis => Some(&mut self.view.synthesis.scroll),
        }
    }

    /// The text `y` copies: the focused pane's, as shown (sanitized).
    fn focused_text(&self) -> Option<String> {
        let text = match self.view.focus {
            Focus::Prompt => self.view.editor.lines().join("\n"),
            Focus::Member(i) => self.run.member(i)?.1.text.clone(),
            Focus::Judge => self.run.judge.text.clone(),
            Focus::Synthesis => self.run.synthesis.text.clone(),
        };
        (!text.is_empty()).then_some(text)
    }

    /// Whether a member's reasoning is shown.
    pub(crate) fn shows_reasoning(&self, name: &str) -> bool {
        self.view
            .member_pane_ref(name)
            .is_some_and(|p| p.show_reasoning)
    }

    /// Applies an action; returns the commands the loop must carry out.
    /// Each concern (the editor, focus, scrolling, the judge's map, runs,
    /// overlays) has a handler of its own.
    pub fn update(&mut self, action: Action) -> Vec<Command> {
        if !matches!(action, Action::Interrupt) {
            self.view.interrupt_armed = false;
        }
        use Action as A;
        match action {
            // A paste while the search line has the keyboard is for it.
            A::Paste(text) if self.layer() == Layer::Search => {
                if let Some(search) = &mut self.view.search {
                    search.paste(&text);
                }
            }
            A::Submit
            | A::InsertNewline
            | A::Edit(_)
            | A::Paste(_)
            | A::HistoryPrev
            | A::HistoryNext
            | A::ClearPrompt
            | A::EditInEditor => return self.edit(action),
            // Tab after `@path` in the editor completes the path.
            A::FocusNext
                if self.view.focus == Focus::Prompt && self.mention_at_cursor().is_some() =>
            {
                return self
                    .mention_at_cursor()
                    .map(Command::CompletePath)
                    .into_iter()
                    .collect();
            }
            A::FocusNext
            | A::FocusPrev
            | A::FocusEditor
            | A::FocusPane(_)
            | A::Back
            | A::ToggleZoom => self.focus(action),
            A::Scroll(_)
            | A::ScrollPane(..)
            | A::PageUp
            | A::PageDown
            | A::ScrollTop
            | A::ScrollBottom => self.scroll(action),
            A::JudgeTab(_)
            | A::NextTab
            | A::PrevTab
            | A::SelectJudgeItem(_)
            | A::Open
            | A::NextQuote
            | A::PrevQuote => self.judge_map(action),
            A::EarlierTurn => self.step_turn(-1),
            A::LaterTurn => self.step_turn(1),
            A::EarlierRound => self.step_round(-1),
            A::LaterRound => self.step_round(1),
            A::ToggleDiff | A::ToggleReasoning => self.toggle_panes(action),
            A::CancelFocused
            | A::Interrupt
            | A::RerunFocused
            | A::Rejudge
            | A::Deliberate
            | A::Dispute
            | A::NewConversation => return self.run_control(action),
            A::ToggleHelp
            | A::HelpScroll(_)
            | A::OpenHistory
            | A::HistoryKey(_)
            | A::Sessions(_)
            | A::OpenPanelEditor
            | A::PanelKey(_)
            | A::Panel(_) => return self.overlay(action),
            A::OpenSearch | A::SearchKey(_) | A::SearchGo | A::SearchClose => self.search(action),
            A::Quit => return vec![Command::Quit],
            A::NextTheme => return vec![Command::NextTheme],
            A::NextLayout => {
                let next = self.view.arrangement.next();
                self.view.arrangement = next;
                self.view.notice = Some(Notice::Info(format!("layout: {}", next.name())));
                return vec![Command::RememberLayout(next)];
            }
            A::Copy => {
                if let Some(text) = self.focused_text() {
                    self.view.notice = Some(Notice::Info(format!(
                        "copied {} characters",
                        text.chars().count()
                    )));
                    return vec![Command::Copy(text)];
                }
            }
            // Pointer positions are resolved by the loop, which knows the layout.
            A::ScrollAt { .. } | A::ClickAt { .. } => {}
        }
        Vec::new()
    }

    /// The question editor: typing, pasting, the question history, asking.
    fn edit(&mut self, action: Action) -> Vec<Command> {
        match action {
            Action::Submit => return self.submit(),
            Action::InsertNewline => self.view.editor.insert_newline(),
            Action::Edit(input) => {
                self.view.history_pos = None;
                self.view.editor.input(input);
            }
            Action::Paste(text) => {
                self.view.focus = Focus::Prompt;
                // Pasted text is the person's own, but strip escapes all the
                // same. Terminals send line breaks as `\r\n` or a lone `\r`
                // (tmux `paste-buffer -p`); both are newlines here.
                let text = sanitize(&text.replace("\r\n", "\n").replace('\r', "\n"));
                self.view.editor.insert_str(text);
            }
            Action::HistoryPrev
                if !self.view.editor.is_empty() && !self.view.browsing_history() =>
            {
                self.view.editor.input(ratatui_textarea::Input {
                    key: ratatui_textarea::Key::Up,
                    ..Default::default()
                });
            }
            Action::HistoryPrev => {
                if self.view.history.is_empty() {
                    return Vec::new();
                }
                let pos = match self.view.history_pos {
                    None => self.view.history.len() - 1,
                    Some(p) => p.saturating_sub(1),
                };
                self.view.history_pos = Some(pos);
                let text = self.view.history[pos].clone();
                self.view.set_editor_text(&text);
            }
            Action::HistoryNext if !self.view.browsing_history() => {
                self.view.editor.input(ratatui_textarea::Input {
                    key: ratatui_textarea::Key::Down,
                    ..Default::default()
                });
            }
            Action::HistoryNext => match self.view.history_pos {
                Some(p) if p + 1 < self.view.history.len() => {
                    self.view.history_pos = Some(p + 1);
                    let text = self.view.history[p + 1].clone();
                    self.view.set_editor_text(&text);
                }
                Some(_) => {
                    self.view.history_pos = None;
                    self.view.set_editor_text("");
                }
                None => {}
            },
            Action::ClearPrompt => {
                self.view.history_pos = None;
                self.view.set_editor_text("");
            }
            Action::EditInEditor => {
                self.view.focus = Focus::Prompt;
                self.view.zoomed = false;
                return vec![Command::EditQuestion(self.view.editor.lines().join("\n"))];
            }
            _ => {}
        }
        Vec::new()
    }

    /// Which pane has the focus, and whether it fills the screen.
    fn focus(&mut self, action: Action) {
        match action {
            Action::FocusNext => self.move_focus(1),
            Action::FocusPrev => self.move_focus(-1),
            Action::FocusEditor => {
                self.view.focus = Focus::Prompt;
                self.view.zoomed = false;
            }
            Action::FocusPane(focus) => self.view.focus = focus,
            Action::Back => {
                if let (
                    Some(Jump {
                        claim: Some(claim),
                        zoomed,
                        ..
                    }),
                    Focus::Member(_),
                ) = (&self.view.jump, self.view.focus)
                {
                    // Back to the claim the passages came from, as it was.
                    self.view.claim = *claim;
                    self.view.claim_moved = true;
                    self.view.zoomed = *zoomed;
                    self.view.focus = Focus::Synthesis;
                    self.view.jump = None;
                    self.view.notice = None;
                } else if let (Some(jump), Focus::Member(_)) = (&self.view.jump, self.view.focus) {
                    // Back to the judge item the quote came from, as it was
                    // (zoomed or not), in one step.
                    self.view.judge_tab = jump.tab;
                    self.view.judge_item = jump.item;
                    self.view.judge_item_moved = true;
                    self.view.zoomed = jump.zoomed;
                    self.view.focus = Focus::Judge;
                    self.view.jump = None;
                    self.view.notice = None;
                } else if self.view.search.is_some() && self.view.focus != Focus::Prompt {
                    self.view.search = None;
                } else if self.view.zoomed {
                    self.view.zoomed = false;
                } else if self.view.focus == Focus::Prompt {
                    if !self.run.is_empty() {
                        self.view.focus = Focus::Member(0);
                    }
                } else {
                    self.view.notice = None;
                }
            }
            Action::ToggleZoom if self.view.focus != Focus::Prompt => {
                self.view.zoomed = !self.view.zoomed;
            }
            _ => {}
        }
    }

    /// Scrolling the focused pane (or the one under the pointer); on the
    /// judge's map, j/k move from item to item.
    fn scroll(&mut self, action: Action) {
        let scroll = match action {
            Action::Scroll(n) if self.focused_claims().is_some_and(|c| !c.is_empty()) => {
                let last = self.focused_claims().map_or(0, |c| c.len() - 1);
                self.view.claim = self.view.claim.saturating_add_signed(n.signum()).min(last);
                self.view.claim_moved = true;
                return;
            }
            Action::Scroll(n) if self.judge_item_count() > 0 => {
                let last = self.judge_item_count() - 1;
                let item = self.view.judge_item.saturating_add_signed(n.signum());
                self.view.judge_item = item.min(last);
                self.view.judge_item_moved = true;
                return;
            }
            Action::ScrollPane(focus, lines) => {
                return self.scroll_of(focus).into_iter().for_each(|s| s.by(lines));
            }
            other => other,
        };
        let Some(s) = self.scroll_of(self.view.focus) else {
            return;
        };
        match scroll {
            Action::Scroll(n) => s.by(n),
            Action::PageUp | Action::PageDown => {
                let page = s.page.saturating_sub(1).max(1) as isize;
                s.by(if scroll == Action::PageDown {
                    page
                } else {
                    -page
                });
            }
            Action::ScrollTop => s.top(),
            Action::ScrollBottom => s.bottom(),
            _ => {}
        }
    }

    /// The judge's tabs, its items, and the quotes an item leads to.
    fn judge_map(&mut self, action: Action) {
        match action {
            Action::JudgeTab(i) => {
                if let Some(tab) = JudgeTab::ALL.get(i) {
                    self.show_tab(*tab);
                }
            }
            Action::NextTab | Action::PrevTab => {
                let step = if action == Action::NextTab {
                    1
                } else {
                    JudgeTab::ALL.len() - 1
                };
                let tab = JudgeTab::ALL[(self.view.judge_tab.index() + step) % JudgeTab::ALL.len()];
                self.show_tab(tab);
            }
            Action::SelectJudgeItem(item) => {
                self.view.focus = Focus::Judge;
                self.view.judge_item = item.min(self.judge_item_count().saturating_sub(1));
                self.view.judge_item_moved = true;
            }
            Action::Open if self.focused_claims().is_some_and(|c| !c.is_empty()) => {
                self.go_to_support(self.view.claim, 0);
            }
            Action::Open => {
                if self.judge_item_count() > 0 {
                    self.go_to_quote(self.view.judge_item, 0);
                } else if self.view.focus != Focus::Prompt {
                    self.view.zoomed = !self.view.zoomed;
                }
            }
            Action::NextQuote | Action::PrevQuote => match self.view.jump.clone() {
                Some(Jump {
                    claim: Some(claim),
                    quote,
                    ..
                }) => {
                    let count = self
                        .claims()
                        .and_then(|c| c.get(claim))
                        .map_or(0, |c| c.support.len())
                        .max(1);
                    let step = if action == Action::NextQuote {
                        1
                    } else {
                        count - 1
                    };
                    self.go_to_support(claim, (quote + step) % count);
                }
                Some(jump) => {
                    let count = self.verified_quotes(jump.tab, jump.item).len().max(1);
                    let step = if action == Action::NextQuote {
                        1
                    } else {
                        count - 1
                    };
                    self.go_to_quote(jump.item, (jump.quote + step) % count.max(1));
                }
                None if self.view.search.is_some() => {
                    let forward = action == Action::NextQuote;
                    self.step_search(forward);
                }
                None => {
                    self.view.notice = Some(Notice::Info(
                        "Enter on a judge item goes to its quotes first; / finds words".into(),
                    ));
                }
            },
            _ => {}
        }
    }

    /// The search line: open it, type into it, go, close.
    fn search(&mut self, action: Action) {
        match action {
            Action::OpenSearch => {
                let query = self.view.search.take().map(|s| s.query).unwrap_or_default();
                self.view.search = Some(Search::open(query));
                self.view.notice = None;
            }
            Action::SearchKey(key) => {
                if let Some(search) = &mut self.view.search {
                    search.type_key(key);
                }
            }
            Action::SearchGo => {
                let Some(search) = &mut self.view.search else {
                    return;
                };
                search.typing = false;
                if search.query.trim().is_empty() {
                    self.view.search = None;
                } else if search.counts.is_empty() {
                    // No frame has counted these words yet.
                    search.go_when_counted = true;
                } else {
                    search.at = None;
                    self.step_search(true);
                }
            }
            Action::SearchClose => self.view.search = None,
            _ => {}
        }
    }

    /// `n` / `N` with the search open: the next or previous match, its
    /// pane focused and scrolled to it (zoom follows it).
    fn step_search(&mut self, forward: bool) {
        let from = self.view.focus;
        let Some(search) = &mut self.view.search else {
            return;
        };
        match search.step(from, forward) {
            Some(pane) => {
                self.view.focus = pane;
                self.view.notice = None;
            }
            None => {
                let words = sanitize(&search.query);
                self.view.notice = Some(Notice::Info(format!("“{words}” is not found")));
            }
        }
    }

    /// The diff and reasoning views: the focused member's, or every one.
    fn toggle_panes(&mut self, action: Action) {
        let diff = action == Action::ToggleDiff;
        let shown = |state: &Self, name: &str| match diff {
            true => state
                .view
                .member_pane_ref(name)
                .is_some_and(|p| p.show_diff),
            false => state.shows_reasoning(name),
        };
        let names: Vec<String> = match self.view.focus {
            Focus::Member(i) => self
                .run
                .member(i)
                .map(|(m, _)| m.name.clone())
                .into_iter()
                .collect(),
            _ => self.run.members().map(|(m, _)| m.name.clone()).collect(),
        };
        // One member flips; for all, any shown hides them all.
        let show = !names.iter().any(|n| shown(self, n));
        if !diff && show {
            // Showing reasoning nobody sent would show nothing: say so.
            let has_reasoning = |name: &String| {
                self.run
                    .members()
                    .any(|(m, text)| &m.name == name && !text.reasoning.trim().is_empty())
            };
            if !names.iter().any(has_reasoning) {
                self.view.notice = Some(Notice::Info(match names.as_slice() {
                    [one] => format!("{one} sent no reasoning"),
                    _ => "no member sent reasoning".into(),
                }));
                return;
            }
        }
        for name in names {
            let pane = self.view.member_pane(&name);
            match diff {
                true => pane.show_diff = show,
                false => pane.show_reasoning = show,
            }
        }
    }

    /// Runs: cancel, re-run, re-judge, one more round, a dispute, and a
    /// new conversation.
    fn run_control(&mut self, action: Action) -> Vec<Command> {
        match action {
            Action::CancelFocused => {
                if let Focus::Member(i) = self.view.focus
                    && self
                        .run
                        .member(i)
                        .is_some_and(|(m, _)| !m.status.is_settled())
                {
                    return vec![Command::CancelMember(i)];
                }
            }
            Action::Interrupt => {
                if self.run.running && !self.view.interrupt_armed {
                    self.view.interrupt_armed = true;
                    self.view.notice = Some(Notice::Info("cancelling… Ctrl-C again quits".into()));
                    return vec![Command::CancelRun];
                }
                return vec![Command::Quit];
            }
            Action::RerunFocused => return self.rerun_focused(),
            Action::Rejudge => return self.rejudge(),
            Action::Deliberate => return self.deliberate(),
            Action::Dispute => return self.dispute(),
            Action::NewConversation if self.run.running => self.busy(),
            Action::NewConversation => return vec![Command::NewConversation],
            _ => {}
        }
        Vec::new()
    }

    /// The overlays: help, the saved sessions, the panel editor.
    fn overlay(&mut self, action: Action) -> Vec<Command> {
        match action {
            Action::ToggleHelp => {
                self.view.overlay = match self.view.overlay.take() {
                    Some(Overlay::Help { .. }) => None,
                    None => Some(Overlay::Help { offset: 0 }),
                    other => other,
                }
            }
            Action::HelpScroll(n) => {
                if let Some(Overlay::Help { offset }) = &mut self.view.overlay {
                    *offset = offset.saturating_add_signed(n);
                }
            }
            Action::OpenHistory if self.run.running => self.busy(),
            Action::OpenHistory => return vec![Command::OpenHistory],
            Action::HistoryKey(_) | Action::Sessions(_) => {
                let Some(Overlay::History(browser)) = &mut self.view.overlay else {
                    return Vec::new();
                };
                let outcome = match action {
                    Action::Sessions(action) => browser.act(action),
                    Action::HistoryKey(key) => browser.handle(key),
                    _ => return Vec::new(),
                };
                match outcome {
                    HistoryOutcome::Stay => {}
                    HistoryOutcome::Close => self.view.overlay = None,
                    HistoryOutcome::Open(s) => {
                        self.view.overlay = None;
                        return vec![Command::OpenSession(s.path)];
                    }
                    HistoryOutcome::Delete(s) => return vec![Command::DeleteSession(s)],
                }
            }
            Action::OpenPanelEditor => return vec![Command::OpenPanelEditor],
            Action::PanelKey(_) | Action::Panel(_) => return self.panel_editor(action),
            _ => {}
        }
        Vec::new()
    }

    /// What a key that needs an idle council says while one runs.
    fn busy(&mut self) {
        self.view.notice = Some(Notice::Info(
            "a council is running: Ctrl-C cancels it".into(),
        ));
    }

    fn show_tab(&mut self, tab: JudgeTab) {
        self.view.judge_tab = tab;
        self.view.judge_item = 0;
        self.view.judge.scroll = Scroll {
            follow: false,
            ..Scroll::default()
        };
    }

    fn submit(&mut self) -> Vec<Command> {
        let question = self.view.editor.lines().join("\n").trim().to_string();
        if question.is_empty() {
            return Vec::new();
        }
        if self.run.running {
            self.view.notice = Some(Notice::Info(
                "a council is running: Ctrl-C cancels it".into(),
            ));
            return Vec::new();
        }
        if self.view.history.last() != Some(&question) {
            self.view.history.push(question.clone());
        }
        self.view.history_pos = None;
        self.view.set_editor_text("");
        self.view.notice = None;
        // The screen is cleared when the run starts (`begin_run`): a
        // question refused before (an attachment that cannot be read)
        // leaves the last run on screen.
        vec![Command::StartRun(question)]
    }

    /// A question is about to run: the panes are cleared for it.
    pub fn begin_run(&mut self) {
        self.leave_earlier_turn();
        self.run.clear();
        self.view.reset_panes();
        if matches!(self.view.focus, Focus::Member(_)) {
            self.view.focus = Focus::Prompt;
        }
        self.view.zoomed = false;
    }

    /// `r`: runs the focused member again (with its current settings); the
    /// others keep their answers.
    fn rerun_focused(&mut self) -> Vec<Command> {
        let Focus::Member(i) = self.view.focus else {
            self.view.notice = Some(Notice::Info(format!(
                "focus a member to re-run it; {} re-judges and re-synthesizes",
                self.keys.rejudge
            )));
            return Vec::new();
        };
        if !self.can_continue() {
            return Vec::new();
        }
        self.view.notice = None;
        vec![Command::RerunMember(i)]
    }

    /// `R`: the judge and the synthesis again, over the answers there are.
    fn rejudge(&mut self) -> Vec<Command> {
        if !self.can_continue() {
            return Vec::new();
        }
        if self.solo() {
            self.view.notice = Some(Notice::Info(format!(
                "a panel of one has nothing to judge: {} adds members",
                self.keys.panel
            )));
            return Vec::new();
        }
        if self.run.report.answered().next().is_none() {
            self.view.notice = Some(Notice::Info("no member has an answer to judge".into()));
            return Vec::new();
        }
        self.view.notice = None;
        vec![Command::Rejudge]
    }

    /// `D`: one more round over the answers there are.
    fn deliberate(&mut self) -> Vec<Command> {
        if !self.can_continue() {
            return Vec::new();
        }
        if self.solo() {
            self.view.notice = Some(Notice::Info(format!(
                "a panel of one has nothing to judge: {} adds members",
                self.keys.panel
            )));
            return Vec::new();
        }
        if self.run.report.answered().next().is_none() {
            self.view.notice = Some(Notice::Info("no member has an answer to revise".into()));
            return Vec::new();
        }
        self.view.notice = Some(Notice::Info(format!(
            "round {}: every member revises its answer",
            self.run.report.round + 1
        )));
        vec![Command::Deliberate(None)]
    }

    /// `d` on a contradiction: the members it involves answer it.
    fn dispute(&mut self) -> Vec<Command> {
        let picked = (self.view.focus == Focus::Judge
            && self.view.judge_tab == JudgeTab::Contradictions)
            .then_some(self.run.report.judge.analysis.as_ref())
            .flatten()
            .and_then(|a| a.contradictions.get(self.view.judge_item));
        let Some(contradiction) = picked.cloned() else {
            self.view.notice = Some(Notice::Info(
                "select a contradiction (judge pane, tab 2) to put it to its members".into(),
            ));
            return Vec::new();
        };
        if !self.can_continue() {
            return Vec::new();
        }
        let names: Vec<String> = self.run.members().map(|(m, _)| m.name.clone()).collect();
        let answers = self.run.report.answers();
        let involved: Vec<&str> = crate::engine::deliberation::involved(&contradiction, &names)
            .into_iter()
            .filter(|&i| answers[i].is_some())
            .map(|i| names[i].as_str())
            .collect();
        if involved.is_empty() {
            self.view.notice = Some(Notice::Info(
                "no member this contradiction names has an answer".into(),
            ));
            return Vec::new();
        }
        self.view.notice = Some(Notice::Info(format!(
            "dispute \"{}\" put to {}",
            sanitize(&contradiction.topic),
            involved.join(", ")
        )));
        vec![Command::Deliberate(Some(Box::new(contradiction)))]
    }

    /// `<` / `>`: the member panes show the round before or after.
    fn step_round(&mut self, by: i64) {
        let last = self.run.report.round;
        if last <= 1 {
            self.view.notice = Some(Notice::Info(format!(
                "this run has one round: {} asks the members to revise",
                self.keys.deliberate
            )));
            return;
        }
        let at = i64::from(self.view.round.unwrap_or(last));
        let to = (at + by).clamp(1, i64::from(last)) as u32;
        self.view.round = (to != last).then_some(to);
        let dispute = self
            .run
            .report
            .rounds
            .iter()
            .find(|r| r.round == to)
            .and_then(|r| r.dispute.clone())
            .map(|d| format!(" · dispute: {}", sanitize(&d)))
            .unwrap_or_default();
        self.view.notice = Some(Notice::Info(format!("round {to} of {last}{dispute}")));
    }

    /// A key for the panel editor: a seat key from the table, or one it
    /// takes as text.
    fn panel_editor(&mut self, action: Action) -> Vec<Command> {
        let Some(Overlay::PanelEditor(editor)) = &mut self.view.overlay else {
            return Vec::new();
        };
        let outcome = match action {
            Action::Panel(action) => editor.act(action),
            Action::PanelKey(key) => editor.handle(key),
            _ => return Vec::new(),
        };
        match outcome {
            EditorOutcome::Stay => Vec::new(),
            EditorOutcome::Save(name) => vec![Command::SavePreset(name, editor.plan.clone())],
            EditorOutcome::Close => {
                let Some(Overlay::PanelEditor(editor)) = self.view.overlay.take() else {
                    unreachable!("matched above");
                };
                if !self.run.report.question.is_empty() {
                    self.view.notice = Some(Notice::Info(format!(
                        "the panel applies to the next run; {} re-runs a member with it",
                        self.keys.rerun
                    )));
                }
                vec![Command::ApplyPlan(editor.plan)]
            }
        }
    }

    /// After the panel was edited: members follow the new seats by name;
    /// returns the indices of members that are new and have no answer.
    pub(crate) fn reseat(&mut self, seats: &[SeatInfo]) -> Vec<usize> {
        // Edits apply to the latest turn, never to one kept for reading.
        self.leave_earlier_turn();
        let added = self.run.reseat(seats);
        if let Focus::Member(i) = self.view.focus
            && i >= self.run.len()
        {
            self.view.focus = Focus::Prompt;
        }
        added
    }

    /// Shows a saved turn as if it had just run: every pane, judge tab and
    /// the synthesis as they were.
    pub(crate) fn show_report(&mut self, report: RunReport) {
        self.run.show(report);
        self.view.reset_panes();
        self.view.focus = Focus::Prompt;
        self.view.zoomed = false;
    }

    /// How many items the judge pane shows, when it has the keyboard on a
    /// tab of items (0 otherwise).
    fn judge_item_count(&self) -> usize {
        if self.view.focus != Focus::Judge {
            return 0;
        }
        self.run
            .report()
            .judge
            .analysis
            .as_ref()
            .map_or(0, |a| self.view.judge_tab.item_count(a))
    }

    /// The verified quotes of item `item` of `tab`, in order.
    fn verified_quotes(&self, tab: JudgeTab, item: usize) -> Vec<Quote> {
        let Some(a) = &self.run.report().judge.analysis else {
            return Vec::new();
        };
        let quotes: Vec<Quote> = match (tab, tab.findings(a)) {
            (_, Some(items)) => items
                .get(item)
                .map(|f| f.quotes.clone())
                .unwrap_or_default(),
            (JudgeTab::Contradictions, None) => a
                .contradictions
                .get(item)
                .map(|c| c.stances.iter().flat_map(|s| s.quotes.clone()).collect())
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        quotes.into_iter().filter(|q| q.verified).collect()
    }

    /// Shows quote `quote` of judge item `item` in its member's pane.
    fn go_to_quote(&mut self, item: usize, quote: usize) {
        let tab = self.view.judge_tab;
        let quotes = self.verified_quotes(tab, item);
        let Some(q) = quotes.get(quote) else {
            self.view.notice = Some(Notice::Info(
                "this item quotes nothing found in the answers".into(),
            ));
            return;
        };
        let position = |name: &str| self.run.position(name);
        let (Some(span), Some(member)) = (q.span, position(&q.member)) else {
            return;
        };
        // The quote gone to, then the first quote of every other member.
        let mut spans = vec![(member, span)];
        for other in &quotes {
            if let (Some(s), Some(m)) = (other.span, position(&other.member))
                && !spans.iter().any(|(seen, _)| *seen == m)
            {
                spans.push((m, s));
            }
        }
        self.view.jump = Some(Jump {
            tab,
            item,
            quote,
            member,
            spans,
            lines: HashMap::new(),
            zoomed: self.view.zoomed,
            claim: None,
        });
        self.view.focus = Focus::Member(member);
        self.view.notice = Some(Notice::Info(format!(
            "quote {} of {} · n/N next/previous · Esc back to the judge",
            quote + 1,
            quotes.len()
        )));
    }

    /// The synthesis's claims, once it is done and traced.
    pub(crate) fn claims(&self) -> Option<&[crate::engine::provenance::Claim]> {
        let synthesis = &self.run.report().synthesis;
        synthesis
            .provenance
            .as_ref()
            .filter(|_| synthesis.status == crate::engine::Status::Done)
            .map(|p| p.claims.as_slice())
    }

    /// The claims, while the synthesis pane has the keyboard.
    fn focused_claims(&self) -> Option<&[crate::engine::provenance::Claim]> {
        self.claims()
            .filter(|_| self.view.focus == Focus::Synthesis)
    }

    /// Enter on a claim: the passages of the answers that support it, in
    /// the members' panes, the `support`-th one focused (`n`/`N` step).
    fn go_to_support(&mut self, claim: usize, support: usize) {
        let Some(c) = self.claims().and_then(|c| c.get(claim)) else {
            return;
        };
        let position = |name: &str| self.run.position(name);
        let spans: Vec<(usize, (usize, usize))> = c
            .support
            .iter()
            .filter_map(|s| Some((position(&s.member)?, s.span)))
            .collect();
        let count = spans.len();
        let Some(&(member, _)) = spans.get(support) else {
            self.view.notice = Some(Notice::Info(if c.members.is_empty() {
                "no answer says this: the synthesizer's own sentence".into()
            } else {
                format!(
                    "cited ({}), but no answer says it",
                    sanitize(&c.members.join(", "))
                )
            }));
            return;
        };
        // The passage gone to first, beside the other members' passages.
        let mut ordered = vec![spans[support]];
        ordered.extend(spans.iter().copied().filter(|(m, _)| *m != member));
        self.view.jump = Some(Jump {
            tab: self.view.judge_tab,
            item: self.view.judge_item,
            quote: support,
            member,
            spans: ordered,
            lines: HashMap::new(),
            zoomed: self.view.zoomed,
            claim: Some(claim),
        });
        self.view.claim = claim;
        self.view.focus = Focus::Member(member);
        self.view.notice = Some(Notice::Info(format!(
            "passage {} of {count} · n/N next/previous · Esc back to the claim",
            support + 1
        )));
    }

    /// `{` / `}`: the turn before or after the one on screen.
    fn step_turn(&mut self, by: isize) {
        if self.run.running {
            self.view.notice = Some(Notice::Info(
                "a council is running: its turn stays on screen until it ends".into(),
            ));
            return;
        }
        let Some((at, total)) = self.turns.position() else {
            self.view.notice = Some(Notice::Info("this conversation has one turn".into()));
            return;
        };
        let to = (at as isize + by).clamp(1, total as isize) as usize;
        if to == at {
            return;
        }
        let latest = match self.turns.viewing.take() {
            Some((_, latest)) => *latest,
            None => self.run.report().clone(),
        };
        let (focus, zoomed) = (self.view.focus, self.view.zoomed);
        if to == total {
            self.show_report(latest);
        } else {
            let turn = self.turns.earlier[to - 1].clone();
            self.turns.viewing = Some((to - 1, Box::new(latest)));
            self.show_report(turn);
        }
        // Stepping through turns keeps the pane in focus (when it exists).
        if !matches!(focus, Focus::Member(i) if i >= self.run.len()) {
            self.view.focus = focus;
            self.view.zoomed = zoomed;
        }
        self.view.notice = Some(Notice::Info(format!("turn {to} of {total}")));
    }

    /// Back to the latest turn, if an earlier one is on screen.
    fn leave_earlier_turn(&mut self) {
        if let Some((_, latest)) = self.turns.viewing.take() {
            self.show_report(*latest);
        }
    }

    /// A re-run needs a finished run to continue, and the latest turn.
    fn can_continue(&mut self) -> bool {
        let why = if self.run.running {
            "a council is running: wait for it, or Ctrl-C cancels it"
        } else if self.turns.viewing_earlier() {
            "an earlier turn is on screen: } goes back to the latest"
        } else if self.run.report.question.is_empty() {
            "ask a question first"
        } else {
            return true;
        };
        self.view.notice = Some(Notice::Info(why.into()));
        false
    }

    /// A run could not start (bad configuration): say why.
    pub(crate) fn start_failed(&mut self, message: String) {
        self.run.running = false;
        self.run.started = None;
        self.view.notice = Some(Notice::Error(message));
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

    impl State {
        fn apply_now(&mut self, event: &CouncilEvent) {
            self.apply(event, Instant::now());
        }
    }

    fn started(n: usize) -> State {
        let mut s = State::new();
        s.apply_now(&CouncilEvent::RunStarted {
            question: "Q".into(),
            scope: Default::default(),
            preset: None,
            members: (0..n).map(|i| seat(&format!("m{i}"))).collect(),
            judge: seat("judge"),
            synthesizer: seat("synth"),
            limits: Default::default(),
            attachments: Vec::new(),
        });
        s
    }

    #[test]
    fn deltas_are_sanitized_and_counted() {
        let mut s = started(2);
        s.apply_now(&CouncilEvent::MemberStarted { member: 1 });
        s.apply_now(&CouncilEvent::MemberDelta {
            member: 1,
            text: "hi \u{1b}]0;title\u{7}there\u{1b}[2J".into(),
        });
        assert_eq!(s.run.member(1).unwrap().1.text, "hi there");
        assert_eq!(s.run.member(1).unwrap().1.deltas, 1);
        // The report keeps what the model sent, for export.
        assert!(s.run.report().members[1].text.contains('\u{1b}'));
    }

    #[test]
    fn focus_cycles_through_every_pane() {
        let mut s = started(2);
        let mut seen = vec![s.view.focus];
        for _ in 0..5 {
            s.update(Action::FocusNext);
            seen.push(s.view.focus);
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
        assert_eq!(s.view.focus, Focus::Synthesis);
    }

    #[test]
    fn tab_after_an_at_path_completes_it_and_elsewhere_moves_focus() {
        let dir = std::env::temp_dir().join(format!("council-tab-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("docs")).unwrap();
        std::fs::write(dir.join("docs/light.md"), "x").unwrap();
        let mut s = State::new();
        s.view
            .editor
            .insert_str(format!("Is @{}/do", dir.display()));
        // What the loop does with the command: read the folder, hand back.
        let complete = |s: &mut State| {
            for command in s.update(Action::FocusNext) {
                let Command::CompletePath(partial) = command else {
                    panic!("{command:?}");
                };
                let found = crate::attachments::complete_path(&partial);
                s.complete_path(&partial, found);
            }
        };
        complete(&mut s);
        complete(&mut s);
        assert_eq!(s.view.focus, Focus::Prompt);
        assert_eq!(
            s.view.editor.lines().join("\n"),
            format!("Is @{}/docs/light.md ", dir.display())
        );
        s.view.editor.insert_str("right?");
        complete(&mut s);
        assert!(
            s.view
                .editor
                .lines()
                .join("\n")
                .ends_with("light.md right?"),
            "a plain word is not completed"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn submit_starts_a_run_and_remembers_the_question() {
        let mut s = State::new();
        s.view.editor.insert_str("Why?");
        assert_eq!(s.update(Action::Submit), [Command::StartRun("Why?".into())]);
        assert!(s.view.editor.is_empty());
        s.update(Action::HistoryPrev);
        assert_eq!(s.view.editor.lines(), ["Why?"]);
        s.update(Action::HistoryNext);
        assert!(s.view.editor.is_empty());
        // Empty questions do nothing.
        assert!(s.update(Action::Submit).is_empty());
    }

    #[test]
    fn a_second_question_clears_panes_with_the_report() {
        let mut s = started(2);
        s.apply_now(&CouncilEvent::RunFinished {
            outcome: crate::engine::RunOutcome::Synthesized,
            usage: Default::default(),
            elapsed_ms: 1,
            error: None,
        });
        s.view.focus = Focus::Member(1);
        s.view.editor.insert_str("Again?");
        assert_eq!(
            s.update(Action::Submit),
            [Command::StartRun("Again?".into())]
        );
        assert_eq!(
            s.view.focus,
            Focus::Member(1),
            "the last run stays until it starts"
        );
        s.begin_run();
        assert_eq!(
            s.run.len(),
            s.run.report().members.len(),
            "drawable until the run starts"
        );
        assert_eq!(s.view.focus, Focus::Prompt);
    }

    #[test]
    fn reruns_need_a_finished_run_and_a_focused_member() {
        let mut idle = State::new();
        idle.view.focus = Focus::Member(0);
        assert!(idle.update(Action::RerunFocused).is_empty());
        assert_eq!(
            idle.view.notice,
            Some(Notice::Info("ask a question first".into()))
        );

        let mut s = started(2);
        s.view.focus = Focus::Member(1);
        assert!(
            s.update(Action::RerunFocused).is_empty(),
            "not while running"
        );
        assert!(s.update(Action::Rejudge).is_empty());
        s.apply_now(&CouncilEvent::MemberDelta {
            member: 0,
            text: "an answer".into(),
        });
        for member in 0..2 {
            s.apply_now(&CouncilEvent::MemberFinished {
                member,
                finish_reason: None,
                usage: Default::default(),
                ttft_ms: None,
                elapsed_ms: 1,
                malformed_events: 0,
            });
        }
        s.apply_now(&CouncilEvent::RunFinished {
            outcome: crate::engine::RunOutcome::Synthesized,
            usage: Default::default(),
            elapsed_ms: 1,
            error: None,
        });
        assert_eq!(s.update(Action::RerunFocused), [Command::RerunMember(1)]);
        assert_eq!(s.update(Action::Rejudge), [Command::Rejudge]);
        s.view.focus = Focus::Judge;
        assert!(
            s.update(Action::RerunFocused).is_empty(),
            "only a member re-runs"
        );
    }

    #[test]
    fn notices_name_keys_as_the_table_binds_them() {
        let mut s = State::new();
        s.update(Action::RerunFocused);
        assert_eq!(
            s.view.notice,
            Some(Notice::Info(
                "focus a member to re-run it; R re-judges and re-synthesizes".into()
            ))
        );
        let overrides = [("rejudge".to_string(), 'X')].into_iter().collect();
        s.keys = KeyNames::of(&crate::tui::keymap::Keymap::new(&overrides));
        s.update(Action::RerunFocused);
        assert_eq!(
            s.view.notice,
            Some(Notice::Info(
                "focus a member to re-run it; X re-judges and re-synthesizes".into()
            ))
        );
    }

    #[test]
    fn reasoning_nobody_sent_is_said_not_shown() {
        let mut s = started(2);
        s.view.focus = Focus::Member(0);
        s.update(Action::ToggleReasoning);
        assert_eq!(
            s.view.notice,
            Some(Notice::Info("m0 sent no reasoning".into()))
        );
        assert!(!s.shows_reasoning("m0"));
        s.apply_now(&CouncilEvent::MemberReasoning {
            member: 0,
            text: "thinking".into(),
        });
        s.update(Action::ToggleReasoning);
        assert!(s.shows_reasoning("m0"));
    }

    #[test]
    fn ctrl_c_cancels_then_quits() {
        let mut s = started(1);
        assert_eq!(s.update(Action::Interrupt), [Command::CancelRun]);
        assert_eq!(s.update(Action::Interrupt), [Command::Quit]);

        let mut idle = State::new();
        assert_eq!(idle.update(Action::Interrupt), [Command::Quit]);
    }

    #[test]
    fn cancel_targets_the_focused_running_member() {
        let mut s = started(2);
        s.apply_now(&CouncilEvent::MemberStarted { member: 1 });
        s.update(Action::FocusNext);
        s.update(Action::FocusNext);
        assert_eq!(s.update(Action::CancelFocused), [Command::CancelMember(1)]);
        s.apply_now(&CouncilEvent::MemberFailed {
            member: 1,
            error: ProviderError::new(ErrorKind::Dropped, "x"),
            ttft_ms: None,
            elapsed_ms: 1,
        });
        assert!(s.update(Action::CancelFocused).is_empty());
    }

    #[test]
    fn scrolling_up_stops_following_and_the_bottom_resumes_it() {
        let mut scroll = Scroll::default().fitted(100, 10);
        assert_eq!(scroll.offset, 90);
        scroll.by(-5);
        assert_eq!((scroll.offset, scroll.follow), (85, false));
        scroll = scroll.fitted(120, 10);
        assert_eq!(scroll.offset, 85, "new lines do not move a held view");
        scroll.by(200);
        assert!(scroll.follow);
        assert_eq!(scroll.fitted(130, 10).offset, 120);
        scroll.top();
        assert_eq!(scroll.fitted(130, 10).offset, 0);
    }

    #[test]
    fn judge_failure_with_text_switches_to_raw() {
        let mut s = started(1);
        s.apply_now(&CouncilEvent::JudgeDelta {
            text: "not json".into(),
        });
        s.apply_now(&CouncilEvent::JudgeFailed {
            failure: crate::engine::judge::JudgeFailure::new(
                crate::engine::judge::JudgeFailureKind::NotJson,
                "x",
            ),
            usage: Usage::default(),
            elapsed_ms: 3,
        });
        assert_eq!(s.view.judge_tab, JudgeTab::Raw);
    }

    #[test]
    fn help_is_a_layer_of_its_own_until_closed() {
        let mut s = started(1);
        assert_eq!(s.layer(), Layer::EmptyPrompt);
        s.update(Action::ToggleHelp);
        assert_eq!(s.layer(), Layer::Help);
        // The help layer maps Esc to ToggleHelp; it closes and the editor has the keys again.
        s.update(Action::ToggleHelp);
        assert_eq!(s.layer(), Layer::EmptyPrompt);
        s.update(Action::Paste("why?".into()));
        assert_eq!(s.layer(), Layer::Prompt, "typed text makes `?` a character");
        s.update(Action::FocusNext);
        assert_eq!(s.layer(), Layer::Panes);
    }

    #[test]
    fn a_partial_run_continues_the_turns_clock() {
        let mut s = started(2);
        s.apply_now(&CouncilEvent::RunFinished {
            outcome: crate::engine::RunOutcome::Synthesized,
            usage: Usage::default(),
            elapsed_ms: 5000,
            error: None,
        });
        let t0 = Instant::now();
        s.apply(
            &CouncilEvent::RunStarted {
                question: "Q".into(),
                scope: RunScope::Members(vec![1]),
                preset: None,
                members: (0..2).map(|i| seat(&format!("m{i}"))).collect(),
                judge: seat("judge"),
                synthesizer: seat("synth"),
                limits: Default::default(),
                attachments: Vec::new(),
            },
            t0,
        );
        let shown = s.run.elapsed(t0 + Duration::from_secs(2)).unwrap();
        assert_eq!(
            shown,
            Duration::from_secs(7),
            "5 s before, 2 s of the re-run"
        );
    }
}
