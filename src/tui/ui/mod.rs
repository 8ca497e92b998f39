//! Drawing: a function of the state (plus the caches and scroll positions
//! it keeps), generic over the backend so tests draw to a buffer.

mod body;
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

use crate::engine::Status;
use crate::tui::state::{Areas, Focus, State};
use crate::tui::theme::Theme;

/// Below this size only a notice is drawn.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 12;

/// Draws the whole screen.
pub fn draw(frame: &mut Frame<'_>, state: &mut State, theme: &Theme) {
    let area = frame.area();
    state.areas = Areas::default();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "terminal too small: {}x{}, council needs {MIN_WIDTH}x{MIN_HEIGHT}",
            area.width, area.height
        );
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return;
    }
    let [stage, main, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    status::draw_stage_bar(frame, stage, state, theme);
    status::draw_hints(frame, hints, state, theme);

    if state.zoomed && state.focus != Focus::Prompt {
        match state.focus {
            Focus::Member(i) => panels::draw_member(frame, main, state, theme, i),
            Focus::Judge => judge::draw(frame, main, state, theme),
            Focus::Synthesis => synthesis::draw(frame, main, state, theme),
            Focus::Prompt => {}
        }
    } else {
        let prompt_height = prompt::height(state, main.height);
        let [panes, prompt_area] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(prompt_height)]).areas(main);
        if state.members.is_empty() {
            draw_welcome(frame, panes, theme);
        } else {
            let [top, bottom] =
                Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)])
                    .areas(panes);
            panels::draw(frame, top, state, theme);
            let [left, right] =
                Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                    .areas(bottom);
            judge::draw(frame, left, state, theme);
            synthesis::draw(frame, right, state, theme);
        }
        prompt::draw(frame, prompt_area, state, theme);
    }
    if let Some(editor) = &mut state.panel_editor {
        panel_editor::draw(frame, area, editor, theme);
    }
    if let Some(browser) = &state.history_browser {
        history::draw(frame, area, browser, theme);
    }
    if state.help {
        help::draw(frame, area, theme);
    }
}

fn draw_welcome(frame: &mut Frame<'_>, area: Rect, theme: &Theme) {
    let lines = vec![
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
        Line::from(Span::styled(
            "? lists every key.",
            Style::default().fg(theme.dim),
        )),
    ];
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
pub(crate) fn pane_block<'a>(
    title: Line<'a>,
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
        .title(title)
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
        Status::Skipped => Span::styled("skipped", Style::default().fg(theme.dim)),
    }
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
