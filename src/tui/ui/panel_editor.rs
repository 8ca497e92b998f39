//! The panel editor popup: the seats on the left, the selected seat's
//! fields on the right, an input where a field is being edited.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::models::listing;
use crate::sanitize::sanitize;
use crate::tui::keymap::Keymap;
use crate::tui::layer::panel_layer;
use crate::tui::panel_editor::{Field, Mode, PanelEditor};
use crate::tui::theme::Theme;
use ratatui_textarea::TextArea;

pub(super) fn draw(
    frame: &mut Frame<'_>,
    area: Rect,
    editor: &PanelEditor,
    theme: &Theme,
    keymap: &Keymap,
) {
    let width = area.width.saturating_sub(4).min(110);
    let height = area.height.saturating_sub(2).min(30);
    let popup = area.centered(Constraint::Length(width), Constraint::Length(height));
    let title = match &editor.plan.preset {
        Some(p) => format!(" Panel · from preset {p} · applies to the next run "),
        None => " Panel · applies to the next run ".to_string(),
    };
    let inner = super::popup(frame, popup, title, theme);
    if inner.height < 3 || inner.width < 20 {
        return;
    }
    let [body, status] = Layout::vertical([Constraint::Min(1), Constraint::Length(2)]).areas(inner);
    let [list, fields] =
        Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(body);
    draw_seats(frame, list, editor, theme);
    match editor.mode {
        Mode::Models(_) => draw_picker(frame, fields, editor, theme),
        Mode::Roles(at) => draw_roles(frame, fields, editor, at, theme),
        _ => draw_fields(frame, fields, editor, theme),
    }

    let mut lines = Vec::new();
    if let Some(e) = &editor.error {
        lines.push(Line::from(Span::styled(
            e.clone(),
            Style::default().fg(theme.error),
        )));
    }
    // The keys come from the table, for the layer the editor is in.
    let keys = keymap.overlay_hints(panel_layer(editor));
    let hint = match editor.mode {
        Mode::Models(_) => format!("type to filter · {keys}"),
        Mode::Naming(_) => format!("a name for the preset: {keys}"),
        _ => keys,
    };
    lines.push(Line::from(Span::styled(
        hint,
        Style::default().fg(theme.dim),
    )));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), status);

    if let Mode::Naming(name) = &editor.mode {
        let box_area = popup.centered(
            Constraint::Length(width.saturating_sub(20).max(20)),
            Constraint::Length(3),
        );
        frame.render_widget(Clear, box_area);
        draw_input(
            frame,
            box_area,
            name,
            Block::default()
                .borders(Borders::ALL)
                .border_style(Style::default().fg(theme.accent))
                .title(" Save as preset "),
        );
    }
}

fn draw_seats(frame: &mut Frame<'_>, area: Rect, editor: &PanelEditor, theme: &Theme) {
    let mut lines = Vec::new();
    for row in 0..editor.rows() {
        let seat = editor.seat(row);
        let role = editor.role(row);
        if role != "member" && editor.role(row.saturating_sub(1)) == "member" {
            lines.push(Line::default());
        }
        let selected = row == editor.selected;
        let marker = if selected { "▸ " } else { "  " };
        let name_style = match role {
            "member" => Style::default().fg(theme.member(row)),
            _ => Style::default().fg(theme.accent),
        };
        let name_style = if selected {
            name_style.add_modifier(Modifier::BOLD | Modifier::REVERSED)
        } else {
            name_style
        };
        let label = match role {
            "member" => sanitize(&seat.name),
            other => other.to_string(),
        };
        // Cut with an ellipsis, short of the right border.
        lines.push(super::ellipsized(
            Line::from(vec![
                Span::raw(marker),
                Span::styled(label, name_style),
                Span::styled(
                    format!("  {}", sanitize(&seat.model)),
                    Style::default().fg(theme.dim),
                ),
            ]),
            area.width.saturating_sub(1) as usize,
        ));
    }
    let block = Block::default()
        .borders(Borders::RIGHT)
        .border_style(Style::default().fg(theme.border));
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// The saved roles, each with the start of its prompt.
fn draw_roles(frame: &mut Frame<'_>, area: Rect, editor: &PanelEditor, at: usize, theme: &Theme) {
    let area = Rect {
        x: area.x + 1,
        width: area.width.saturating_sub(1),
        ..area
    };
    let mut lines = vec![Line::from(Span::styled(
        "roles (~/.config/council/roles)",
        Style::default().fg(theme.dim),
    ))];
    let height = usize::from(area.height.saturating_sub(1));
    let first = at.saturating_sub(height.saturating_sub(1));
    for (i, role) in editor.roles.iter().enumerate().skip(first).take(height) {
        let style = if i == at {
            Style::default()
                .fg(theme.accent)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED)
        } else {
            Style::default().fg(theme.text)
        };
        let gist = sanitize(role.prompt.lines().next().unwrap_or_default());
        lines.push(Line::from(vec![
            Span::styled(sanitize(&role.name), style),
            Span::styled(format!("  {gist}"), Style::default().fg(theme.dim)),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn draw_picker(frame: &mut Frame<'_>, area: Rect, editor: &PanelEditor, theme: &Theme) {
    let area = Rect {
        x: area.x + 1,
        width: area.width.saturating_sub(1),
        ..area
    };
    if area.height < 5 {
        return;
    }
    let provider = editor.seat(editor.selected).provider.clone();
    let header = match (editor.listing(), editor.listing_errors.get(&provider)) {
        (Some(l), _) => format!(
            "{provider} · {} models · listed {}",
            l.models.len(),
            listing::describe_age(l.age())
        ),
        (None, Some(e)) => format!("{provider}: no listing ({e}); type the model"),
        (None, None) => format!("{provider}: listing…"),
    };
    let [head, query_area, list] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Min(1),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(Span::styled(
            sanitize(&header),
            Style::default().fg(theme.dim),
        )),
        head,
    );
    let rows: Vec<Line<'static>> = {
        let selected = editor.picker().map_or(0, |p| p.selected);
        let matches = editor.matches();
        let height = list.height as usize;
        // Keep the highlighted row in view.
        let first = selected.saturating_sub(height.saturating_sub(1));
        let id_width = matches
            .iter()
            .skip(first)
            .take(height)
            .map(|m| m.id.chars().count())
            .max()
            .unwrap_or(0)
            .min(list.width as usize / 2);
        matches
            .iter()
            .enumerate()
            .skip(first)
            .take(height)
            .map(|(i, m)| {
                let context = m
                    .context_length
                    .map(|c| format!("{}k", c / 1000))
                    .unwrap_or_default();
                let price = m
                    .pricing
                    .and_then(|p| Some((p.prompt?, p.completion?)))
                    .map(|(a, b)| format!("${:.2}/${:.2} per M", a * 1e6, b * 1e6))
                    .unwrap_or_default();
                let style = if i == selected {
                    Style::default()
                        .fg(theme.focus)
                        .add_modifier(Modifier::REVERSED)
                } else {
                    Style::default().fg(theme.text)
                };
                Line::from(vec![
                    Span::styled(format!("{:<id_width$}", sanitize(&m.id)), style),
                    Span::styled(
                        format!("  {context:>5}  {price}"),
                        Style::default().fg(theme.dim),
                    ),
                ])
            })
            .collect()
    };
    frame.render_widget(Paragraph::new(rows), list);
    if let Mode::Models(picker) = &editor.mode {
        draw_input(
            frame,
            query_area,
            &picker.query,
            Block::default()
                .borders(Borders::ALL)
                .border_style(Style::default().fg(theme.focus))
                .title(" model "),
        );
    }
}

fn draw_fields(frame: &mut Frame<'_>, area: Rect, editor: &PanelEditor, theme: &Theme) {
    let area = Rect {
        x: area.x + 1,
        width: area.width.saturating_sub(1),
        ..area
    };
    let seat = editor.seat(editor.selected).clone();
    // Members get no system message unless one is set; the judge and the
    // synthesizer get council's own prompt.
    let no_prompt = if editor.is_member() {
        "(none)"
    } else {
        "(the built-in prompt)"
    };
    let label_width = 16;
    let mut y = area.y;
    let bottom = area.y + area.height;
    for field in Field::ALL {
        if y >= bottom {
            break;
        }
        let focused = field == editor.field;
        // The selected field is marked from the start, before any Tab.
        let (marker, label_style) = if focused {
            (
                "▸ ",
                Style::default()
                    .fg(theme.focus)
                    .add_modifier(Modifier::BOLD),
            )
        } else {
            ("  ", Style::default().fg(theme.dim))
        };
        let label = Span::styled(
            format!("{marker}{:<w$}", field.label(), w = label_width - 2),
            label_style,
        );
        if focused && let Mode::Field(input) = &editor.mode {
            let rows: u16 = if field == Field::SystemPrompt { 6 } else { 3 };
            let rows = rows.min(bottom - y);
            frame.render_widget(
                Paragraph::new(Line::from(label)),
                Rect {
                    height: 1,
                    ..Rect { y, ..area }
                },
            );
            let input_area = Rect {
                x: area.x + label_width as u16,
                y,
                width: area.width.saturating_sub(label_width as u16),
                height: rows,
            };
            draw_input(
                frame,
                input_area,
                input,
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(Style::default().fg(theme.focus)),
            );
            y += rows;
            continue;
        }
        let value = PanelEditor::value(&seat, field);
        let shown = match (field, value.is_empty()) {
            (Field::SystemPrompt, true) => no_prompt.to_string(),
            (_, true) => "(default)".to_string(),
            (Field::SystemPrompt, false) => {
                let first = value.lines().next().unwrap_or_default();
                let more = value.lines().count() - 1;
                if more > 0 {
                    format!("{first} (+{more} lines)")
                } else {
                    first.to_string()
                }
            }
            _ => value,
        };
        let value_style = if focused {
            Style::default().add_modifier(Modifier::UNDERLINED)
        } else {
            Style::default().fg(theme.text)
        };
        frame.render_widget(
            Paragraph::new(super::ellipsized(
                Line::from(vec![label, Span::styled(sanitize(&shown), value_style)]),
                area.width as usize,
            )),
            Rect {
                y,
                height: 1,
                ..area
            },
        );
        y += 1;
    }
    if y < bottom {
        let provider = format!("provider: {}", seat.provider);
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled(
                provider,
                Style::default().fg(theme.dim),
            ))),
            Rect {
                y: y + 1,
                height: 1,
                ..area
            }
            .intersection(area),
        );
    }
}

/// A text input in its box.
fn draw_input(frame: &mut Frame<'_>, area: Rect, input: &TextArea<'_>, block: Block<'_>) {
    let inner = block.inner(area);
    frame.render_widget(block, area);
    frame.render_widget(input, inner);
}
