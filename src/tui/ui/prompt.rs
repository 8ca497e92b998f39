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
    let block = pane_block(Line::from(title), focused, theme.border, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let editor = &state.view.editor;
    // The editor's own styles suit a focused, non-empty prompt; the others
    // are drawn from a restyled copy (an empty one is cheap to copy, and
    // the prompt rarely loses focus while long).
    if focused && !editor.is_empty() {
        frame.render_widget(editor, inner);
    } else {
        let mut editor = editor.clone();
        editor.set_placeholder_style(Style::default().fg(theme.dim));
        if !focused {
            editor.set_cursor_style(Style::default());
        }
        frame.render_widget(&editor, inner);
    }
}
