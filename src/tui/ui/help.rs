//! The help overlay: every key.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::keymap::HELP;
use crate::tui::markdown::wrap_plain;
use crate::tui::theme::Theme;

pub fn draw(frame: &mut Frame<'_>, area: Rect, theme: &Theme) {
    let key_width = HELP
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let width = (area.width.saturating_sub(4)).min(84);
    // Descriptions wrap under themselves, not under the keys.
    let text_width = (width as usize).saturating_sub(key_width + 4).max(8);
    let key_style = Style::default()
        .fg(theme.accent)
        .add_modifier(Modifier::BOLD);
    let mut lines: Vec<Line<'static>> = Vec::new();
    for (k, what) in HELP {
        for (i, part) in wrap_plain(what, text_width, Style::default())
            .into_iter()
            .enumerate()
        {
            let key = if i == 0 { *k } else { "" };
            let mut spans = vec![Span::styled(format!("{key:>key_width$}  "), key_style)];
            spans.extend(part.spans);
            lines.push(Line::from(spans));
        }
    }
    let room = area.height.saturating_sub(4) as usize;
    if lines.len() > room {
        // Say what is cut rather than cut silently.
        let hidden = lines.len() + 1 - room;
        lines.truncate(room.saturating_sub(1));
        lines.push(Line::from(Span::styled(
            format!("… {hidden} more lines: enlarge the terminal to see every key"),
            Style::default().fg(theme.dim),
        )));
    }
    let height = lines.len() as u16 + 2;
    let popup = area.centered(Constraint::Length(width), Constraint::Length(height));
    let inner = super::popup(frame, popup, " Keys · Esc closes ".into(), theme);
    frame.render_widget(Paragraph::new(lines), inner);
}
