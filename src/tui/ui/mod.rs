//! Drawing: a function of the state, which it only reads, generic over
//! the backend so tests draw to a buffer. It keeps rendered lines in its
//! own [`RenderCaches`]; the layout it chose comes back as a value
//! ([`Drawn`]): where each pane went, for the mouse, and the [`Placement`]
//! the view takes in (scroll extents, the member row shown).

mod body;
mod cache;
mod claims;
mod diff;
mod found;
mod help;
mod history;
mod judge;
mod panel_editor;
mod panels;
mod prompt;
mod status;
mod synthesis;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph, Wrap};

use crate::sanitize::sanitize;

use std::time::Instant;

use crate::config::CouncilPlan;
use crate::engine::Status;
use crate::tui::keymap::Keymap;
use crate::tui::layer::Overlay;
use crate::tui::state::{Focus, Placement, State};
use crate::tui::theme::Theme;

pub use cache::RenderCaches;

/// How long an offline council takes on a 2-core machine, as measured by
/// `cargo bench --bench local` (the welcome screen says it until a council
/// has run here).
const OFFLINE_ESTIMATE: &str = "a minute";

/// Below this size only a notice is drawn.
pub(crate) const MIN_WIDTH: u16 = 40;
pub(crate) const MIN_HEIGHT: u16 = 12;

/// What a frame is drawn with besides the state.
pub struct Env<'a> {
    pub theme: &'a Theme,
    pub keymap: &'a Keymap,
    /// The frame's time, for clocks and rates.
    pub now: Instant,
    /// Spinner frames so far.
    pub tick: u64,
    /// The council that answers the next question, as far as it is known.
    pub plan: Option<&'a CouncilPlan>,
}

/// Where a frame put each pane, for the mouse.
#[derive(Debug, Default, Clone)]
pub struct Areas {
    pub(crate) members: Vec<(usize, Rect)>,
    pub judge: Rect,
    /// Screen rows of the judge items on screen: (item, first row, last row).
    pub(crate) judge_items: Vec<(usize, u16, u16)>,
    pub synthesis: Rect,
    pub(crate) prompt: Rect,
}

impl Areas {
    /// The pane under a point.
    pub(crate) fn pane_at(&self, column: u16, row: u16) -> Option<Focus> {
        let hit = |r: &Rect| r.contains(ratatui::layout::Position { x: column, y: row });
        if let Some((i, _)) = self.members.iter().find(|(_, r)| hit(r)) {
            return Some(Focus::Member(*i));
        }
        [
            (self.judge, Focus::Judge),
            (self.synthesis, Focus::Synthesis),
            (self.prompt, Focus::Prompt),
        ]
        .into_iter()
        .find(|(r, _)| hit(r))
        .map(|(_, f)| f)
    }

    /// The judge item drawn at a point, if any.
    pub fn judge_item_at(&self, column: u16, row: u16) -> Option<usize> {
        let inside = self
            .judge
            .contains(ratatui::layout::Position { x: column, y: row });
        self.judge_items
            .iter()
            .find(|(_, first, last)| inside && (*first..=*last).contains(&row))
            .map(|(item, _, _)| *item)
    }
}

/// What a frame drew: where each pane went, and what the view takes in.
#[derive(Debug, Default)]
pub struct Drawn {
    pub areas: Areas,
    pub placement: Placement,
}

/// Draws the whole screen from `state`; returns what it laid out.
pub fn draw(
    frame: &mut Frame<'_>,
    state: &State,
    caches: &mut RenderCaches,
    env: &Env<'_>,
) -> Drawn {
    let theme = env.theme;
    let area = frame.area();
    let mut drawn = Drawn::default();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "terminal too small: {}x{}, council needs {MIN_WIDTH}x{MIN_HEIGHT}",
            area.width, area.height
        );
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return drawn;
    }
    caches.keep_members(state.run.members().map(|(m, _)| m.name.as_str()));
    let question = !state.run.report().question.is_empty();
    let attached = question && !state.run.report().attachments.is_empty();
    let [stage, question_area, main, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(u16::from(question) + u16::from(attached)),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    status::draw_stage_bar(frame, stage, state, env);
    status::draw_question(frame, question_area, state, theme);
    status::draw_hints(frame, hints, state, env);

    let focus = state.view.focus;
    if state.view.zoomed && focus != Focus::Prompt {
        match focus {
            Focus::Member(i) => panels::draw_member(frame, main, state, caches, env, i, &mut drawn),
            Focus::Judge => judge::draw(frame, main, state, env, &mut drawn),
            Focus::Synthesis => synthesis::draw(frame, main, state, caches, env, &mut drawn),
            Focus::Prompt => {}
        }
    } else {
        let prompt_height = prompt::height(state, main.height);
        let [panes, prompt_area] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(prompt_height)]).areas(main);
        if state.run.is_empty() {
            draw_welcome(frame, panes, env, state.view.offline_seconds);
        } else if state.solo() {
            panels::draw(frame, panes, state, caches, env, &mut drawn);
        } else {
            // Space follows the work (or the arrangement `L` chose): the
            // members' share while they stream, what they hold after.
            let streaming = state.run.members().any(|(m, _)| !m.status.is_settled());
            let shares = state.view.arrangement.shares(streaming);
            let rows = if shares.fit {
                let cap = panes.height * shares.members / 100;
                let fitted = panels::fitted_height(state, caches, env, panes, cap);
                [Constraint::Length(fitted), Constraint::Min(1)]
            } else {
                [
                    Constraint::Percentage(shares.members),
                    Constraint::Percentage(100 - shares.members),
                ]
            };
            let [top, bottom] = Layout::vertical(rows).areas(panes);
            panels::draw(frame, top, state, caches, env, &mut drawn);
            let [left, right] = Layout::horizontal([
                Constraint::Percentage(shares.judge),
                Constraint::Percentage(100 - shares.judge),
            ])
            .areas(bottom);
            judge::draw(frame, left, state, env, &mut drawn);
            synthesis::draw(frame, right, state, caches, env, &mut drawn);
        }
        drawn.areas.prompt = prompt_area;
        prompt::draw(frame, prompt_area, state, theme);
    }
    match &state.view.overlay {
        Some(Overlay::PanelEditor(editor)) => {
            panel_editor::draw(frame, area, editor, theme, env.keymap)
        }
        Some(Overlay::History(browser)) => history::draw(frame, area, browser, theme, env.keymap),
        Some(Overlay::Help { offset }) => {
            drawn.placement.help_offset = Some(help::draw(frame, area, *offset, env))
        }
        None => {}
    }
    drawn
}

/// Before the first question: what council does, who sits on it, and how
/// to ask.
fn draw_welcome(frame: &mut Frame<'_>, area: Rect, env: &Env<'_>, offline_seconds: Option<u64>) {
    let theme = env.theme;
    let dim = Style::default().fg(theme.dim);
    let mut lines = vec![
        Line::from(Span::styled(
            "council",
            Style::default()
                .fg(theme.accent)
                .add_modifier(Modifier::BOLD),
        )),
        Line::default(),
        Line::from("Type a question below and press Enter. Every member of the panel answers"),
        Line::from("in its own pane; the judge maps where they agree and disagree; the"),
        Line::from("synthesizer writes the final answer."),
        Line::default(),
    ];
    if let Some(plan) = env.plan {
        let title = match &plan.preset {
            Some(p) => format!("The council ({}):", sanitize(p)),
            None => "The council:".into(),
        };
        lines.push(Line::from(Span::styled(
            title,
            Style::default().add_modifier(Modifier::BOLD),
        )));
        let width = plan
            .seats()
            .map(|s| sanitize(&s.name).chars().count())
            .max()
            .unwrap_or(0);
        let seat = |role: String, style: Style, s: &crate::engine::SeatSpec| {
            Line::from(vec![
                Span::styled(format!("  {role:<12} "), style),
                Span::raw(format!("{:<width$}", sanitize(&s.name))),
                Span::styled(format!("  {}", sanitize(&s.model)), dim),
            ])
        };
        for (i, m) in plan.members.iter().enumerate() {
            let style = Style::default().fg(theme.member(i));
            lines.push(seat(format!("member {}", i + 1), style, m));
        }
        if plan.members.len() == 1 {
            lines.push(Line::from(Span::styled(
                "  a panel of one answers alone: no judge, no synthesis",
                dim,
            )));
        } else {
            lines.push(seat(
                "judge".into(),
                Style::default().fg(theme.title),
                &plan.judge,
            ));
            lines.push(seat(
                "synthesizer".into(),
                Style::default().fg(theme.title),
                &plan.synthesizer,
            ));
        }
        lines.push(Line::default());
        // The embedded engine's council: what it is, and how long it takes.
        if plan.seats().all(|s| s.model.starts_with("local/")) {
            let time = match offline_seconds {
                Some(s) => format!("the last one took {s} s on this machine"),
                None => format!("one takes about {OFFLINE_ESTIMATE} on two cores"),
            };
            for text in [
                "This council runs a small demo model (135M parameters) here, offline: it"
                    .to_string(),
                format!("shows how a council works, not what large models answer; {time}."),
                "With an API key (OPENROUTER_API_KEY) the default is a council of large models."
                    .to_string(),
            ] {
                lines.push(Line::from(Span::styled(text, dim)));
            }
            lines.push(Line::default());
        }
    }
    use crate::tui::action::Action;
    let key = |action: Action| env.keymap.key_for(&action).unwrap_or_default();
    let help = env
        .keymap
        .keys_in(crate::tui::layer::Layer::EmptyPrompt, &Action::ToggleHelp)
        .join(" or ");
    lines.push(Line::from(Span::styled(
        format!(
            "{help} lists every key; {} edits the panel; {} opens saved sessions.",
            key(Action::OpenPanelEditor),
            key(Action::OpenHistory)
        ),
        dim,
    )));
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(Style::default().fg(theme.border));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

/// An overlay: clears `area` and draws its frame (rounded, in the focus
/// colour, titled); returns the area inside.
pub(crate) fn popup(frame: &mut Frame<'_>, area: Rect, title: String, theme: &Theme) -> Rect {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(Style::default().fg(theme.focus))
        .title(Span::styled(
            title,
            Style::default().add_modifier(Modifier::BOLD),
        ));
    let inner = block.inner(area);
    frame.render_widget(ratatui::widgets::Clear, area);
    frame.render_widget(block, area);
    inner
}

/// A pane's frame: rounded, highlighted when focused, titled.
/// A pane's border with its title, cut with an ellipsis where the border
/// (less its two corners) is too short for it.
pub(crate) fn pane_block<'a>(
    title: Line<'a>,
    area: Rect,
    focused: bool,
    colour: ratatui::style::Color,
    theme: &Theme,
) -> Block<'a> {
    let border = if focused {
        Style::default()
            .fg(theme.focus)
            .add_modifier(Modifier::BOLD)
    } else {
        Style::default().fg(colour)
    };
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Rounded
        })
        .border_style(border)
        .title(ellipsized(title, area.width.saturating_sub(2) as usize))
}

/// `line` cut to `width` columns, its last column an ellipsis when cut.
pub(crate) fn ellipsized(line: Line<'_>, width: usize) -> Line<'_> {
    use unicode_width::UnicodeWidthChar;
    if line.width() <= width {
        return line;
    }
    let (style, alignment) = (line.style, line.alignment);
    let mut left = width.saturating_sub(1);
    let mut spans = Vec::new();
    let mut last_style = Style::default();
    for span in line.spans {
        last_style = span.style;
        let mut kept = String::new();
        for c in span.content.chars() {
            let w = c.width().unwrap_or(0);
            if w > left {
                left = 0;
                break;
            }
            left -= w;
            kept.push(c);
        }
        let full = kept.len() == span.content.len();
        spans.push(Span::styled(kept, span.style));
        if !full {
            break;
        }
    }
    if width > 0 {
        spans.push(Span::styled("…", last_style));
    }
    Line {
        spans,
        style,
        alignment,
    }
}

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// A status as a short styled label, with a spinner while streaming.
pub(crate) fn status_span(status: Status, tick: u64, theme: &Theme) -> Span<'static> {
    match status {
        Status::Queued => Span::styled("queued", Style::default().fg(theme.dim)),
        Status::Streaming => Span::styled(
            format!("{} streaming", SPINNER[(tick % 10) as usize]),
            Style::default().fg(theme.accent),
        ),
        Status::Done => Span::styled("✓ done", Style::default().fg(theme.ok)),
        Status::Failed => Span::styled(
            "✗ failed",
            Style::default()
                .fg(theme.error)
                .add_modifier(Modifier::BOLD),
        ),
        Status::Cancelled => Span::styled("⊘ cancelled", Style::default().fg(theme.warn)),
        Status::Late => Span::styled("⏱ late", Style::default().fg(theme.warn)),
        Status::Skipped => Span::styled("skipped", Style::default().fg(theme.dim)),
    }
}

/// The model a seat ran on: `↪ model` when it fell back to it from the
/// ones in `fallback_from`.
pub(crate) fn model_span(
    model: &str,
    fallback_from: &[String],
    prefix: &str,
    theme: &Theme,
) -> Span<'static> {
    if fallback_from.is_empty() {
        Span::styled(
            format!("{prefix}{} ", sanitize(model)),
            Style::default().fg(theme.dim),
        )
    } else {
        Span::styled(
            format!("{prefix}↪ {} ", sanitize(model)),
            Style::default().fg(theme.warn),
        )
    }
}

/// The judge's or synthesis's status; a finished one over answers that
/// changed since says so, with the key that judges again.
pub(crate) fn stage_status_span(
    status: Status,
    state: &crate::tui::state::State,
    env: &Env<'_>,
) -> Span<'static> {
    if state.run.judgement_stale() && status != Status::Queued {
        let key = env
            .keymap
            .key_for(&crate::tui::action::Action::Rejudge)
            .unwrap_or_default();
        return Span::styled(
            format!("⚠ stale · {key} re-judges"),
            Style::default().fg(env.theme.warn),
        );
    }
    status_span(status, env.tick, env.theme)
}

/// Compact numbers: 950, 12.3k, 1.2M.
pub(crate) fn compact(n: u64) -> String {
    match n {
        0..=999 => n.to_string(),
        1_000..=999_999 => format!("{:.1}k", n as f64 / 1e3),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

pub(crate) fn seconds(ms: u64) -> String {
    if ms < 10_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else {
        format!("{}s", ms / 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_too_long_ends_in_an_ellipsis_at_its_width() {
        let line = Line::from(vec![Span::raw(" Judge "), Span::raw("· 漢字 wide ")]);
        assert_eq!(ellipsized(line.clone(), 40).to_string(), line.to_string());
        let cut = ellipsized(line.clone(), 10);
        assert_eq!(cut.to_string(), " Judge · …");
        assert_eq!(cut.width(), 10);
        // A wide character that would cross the edge is left out whole.
        let cut = ellipsized(line, 11);
        assert_eq!(cut.to_string(), " Judge · …");
        assert!(cut.width() <= 11);
    }
}
