//! The help overlay: every key, from the key table in force (so a key
//! rebound in the config file shows as rebound), scrolled when it does not
//! fit.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Env;
use crate::tui::markdown::wrap_plain;

/// Draws the help at `offset` lines down, kept within the list; returns
/// the offset drawn at.
pub(super) fn draw(frame: &mut Frame<'_>, area: Rect, mut offset: usize, env: &Env<'_>) -> usize {
    let theme = env.theme;
    let help = env.keymap.help();
    let key_width = help
        .iter()
        .flat_map(|section| &section.rows)
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let width = (area.width.saturating_sub(4)).min(84);
    // Descriptions wrap under themselves, not under the keys.
    let text_width = (width as usize).saturating_sub(key_width + 4).max(8);
    let key_style = Style::default()
        .fg(theme.accent)
        .add_modifier(Modifier::BOLD);
    let title_style = Style::default()
        .fg(theme.title)
        .add_modifier(Modifier::BOLD);
    let mut lines: Vec<Line<'static>> = Vec::new();
    for section in &help {
        if !section.title.is_empty() {
            lines.push(Line::default());
            lines.push(Line::from(Span::styled(section.title, title_style)));
        }
        draw_rows(&mut lines, &section.rows, key_width, text_width, key_style);
    }
    let room = area.height.saturating_sub(4) as usize;
    let title = if lines.len() > room {
        // Say what is cut rather than cut silently, and let it scroll.
        let max = lines.len() - room;
        offset = offset.min(max);
        let shown = format!(
            " Keys · {}-{} of {} · j/k scroll · Esc closes ",
            offset + 1,
            offset + room,
            lines.len()
        );
        lines = lines.into_iter().skip(offset).take(room).collect();
        shown
    } else {
        offset = 0;
        " Keys · Esc closes ".into()
    };
    let height = lines.len() as u16 + 2;
    let popup = area.centered(Constraint::Length(width), Constraint::Length(height));
    let inner = super::popup(frame, popup, title, theme);
    frame.render_widget(Paragraph::new(lines), inner);
    offset
}

/// One section's rows: keys right-aligned in their column, descriptions
/// wrapped under themselves.
fn draw_rows(
    lines: &mut Vec<Line<'static>>,
    rows: &[(String, &'static str)],
    key_width: usize,
    text_width: usize,
    key_style: Style,
) {
    for (k, what) in rows {
        for (i, part) in wrap_plain(what, text_width, Style::default())
            .into_iter()
            .enumerate()
        {
            let key = if i == 0 { k.as_str() } else { "" };
            let mut spans = vec![Span::styled(format!("{key:>key_width$}  "), key_style)];
            spans.extend(part.spans);
            lines.push(Line::from(spans));
        }
    }
}
