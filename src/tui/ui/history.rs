//! The history browser popup: saved sessions, filtered as you type.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::sanitize::sanitize;
use crate::tui::history::HistoryBrowser;
use crate::tui::keymap::Keymap;
use crate::tui::layer::Layer;
use crate::tui::theme::Theme;

pub(super) fn draw(
    frame: &mut Frame<'_>,
    area: Rect,
    browser: &HistoryBrowser,
    theme: &Theme,
    keymap: &Keymap,
) {
    let width = area.width.saturating_sub(4).min(120);
    let height = area.height.saturating_sub(2).min(30);
    let popup = area.centered(Constraint::Length(width), Constraint::Length(height));
    let inner = super::popup(
        frame,
        popup,
        if browser.loading {
            format!(
                " Sessions · {} read so far, reading… ",
                browser.sessions.len()
            )
        } else {
            format!(" Sessions · {} saved ", browser.sessions.len())
        },
        theme,
    );
    if inner.height < 4 {
        return;
    }
    let [filter, list, foot] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled("filter: ", Style::default().fg(theme.dim)),
            Span::raw(sanitize(&browser.filter)),
            Span::styled("▏", Style::default().fg(theme.focus)),
        ])),
        filter,
    );
    let visible = browser.visible();
    let height = list.height as usize;
    let first = browser.selected.saturating_sub(height.saturating_sub(1));
    let mut rows: Vec<Line<'static>> = visible
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, s)| {
            let date: String = s.created.replace('T', " ").chars().take(16).collect();
            let question: String = sanitize(&s.question).replace('\n', " ");
            let text = format!(
                "{date}  {:>2} {}  {:>9}  {:<11}  {:<12}  {question}",
                s.turns,
                if s.turns == 1 { "turn " } else { "turns" },
                format!("${:.4}", s.cost),
                s.status,
                s.preset.as_deref().unwrap_or("-"),
            );
            let style = if i == browser.selected {
                Style::default()
                    .fg(theme.focus)
                    .add_modifier(Modifier::REVERSED)
            } else {
                Style::default().fg(theme.text)
            };
            Line::from(Span::styled(text, style))
        })
        .collect();
    if visible.is_empty() {
        rows.push(Line::from(Span::styled(
            if browser.loading {
                "reading the saved sessions…"
            } else if browser.sessions.is_empty() {
                "no sessions yet: every question asked is saved"
            } else {
                "nothing matches the filter"
            },
            Style::default().fg(theme.dim),
        )));
    }
    for p in browser.problems.iter().take(2) {
        rows.push(Line::from(Span::styled(
            format!("skipped {p}"),
            Style::default().fg(theme.warn),
        )));
    }
    frame.render_widget(Paragraph::new(rows), list);
    let foot_line = match &browser.confirm {
        Some(s) => Line::from(Span::styled(
            format!(
                "delete session {} ({})? y deletes, any other key keeps it",
                s.id,
                sanitize(&s.question)
            ),
            Style::default()
                .fg(theme.error)
                .add_modifier(Modifier::BOLD),
        )),
        None => Line::from(Span::styled(
            format!("type to filter · {}", keymap.overlay_hints(Layer::History)),
            Style::default().fg(theme.dim),
        )),
    };
    frame.render_widget(Paragraph::new(foot_line), foot);
}
