//! The prompt editor.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::pane_block;
use crate::tui::state::{Focus, State};
use crate::tui::theme::Theme;

/// Rows for the editor: its lines plus borders, between 3 and a third of the screen.
pub(super) fn height(state: &State, available: u16) -> u16 {
    let lines = state.view.editor.lines().len() as u16;
    (lines + 2).clamp(3, (available / 3).max(3))
}

pub(super) fn draw(frame: &mut Frame<'_>, area: Rect, state: &State, theme: &Theme) {
    let focused = state.view.focus == Focus::Prompt;
    let mut title = vec![Span::styled(
        " Ask ",
        Style::default()
            .fg(theme.title)
            .add_modifier(Modifier::BOLD),
    )];
    if state.run.running() {
        title.push(Span::styled(
            "· a council is running · Ctrl-C cancels ",
            Style::default().fg(theme.dim),
        ));
    }
    let block = pane_block(Line::from(title), area, focused, theme.border, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let editor = &state.view.editor;
    if editor.is_empty() {
        // The cursor (shown while the prompt has the keyboard), then the
        // placeholder in the theme's dim colour.
        let dim = Style::default().fg(theme.dim);
        let cursor = if focused {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
        };
        frame.render_widget(
            Line::from(vec![
                Span::styled(" ", cursor),
                Span::styled(PLACEHOLDER, dim),
            ]),
            inner,
        );
        return;
    }
    frame.render_widget(editor, inner);
    if !focused {
        // The editor marks its cursor reversed; a prompt without the
        // keyboard shows none (the text itself is never reversed).
        let buffer = frame.buffer_mut();
        for y in inner.top()..inner.bottom() {
            for x in inner.left()..inner.right() {
                let cell = &mut buffer[(x, y)];
                cell.set_style(cell.style().remove_modifier(Modifier::REVERSED));
            }
        }
    }
}

/// What the empty prompt says.
const PLACEHOLDER: &str = "Ask the council a question…";
