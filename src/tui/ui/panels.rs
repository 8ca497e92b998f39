//! The member panes: a grid sized by terminal and panel, one pane each.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::body::{self, Part};
use super::{Areas, Env, compact, pane_block, seconds, status_span};
use crate::engine::Status;
use crate::engine::report::MemberReport;
use crate::tui::markdown::wrap_plain;
use crate::tui::state::{Focus, State, StreamText};

/// Narrowest and shortest useful member panes.
const MIN_PANE_WIDTH: u16 = 26;
const MIN_PANE_HEIGHT: u16 = 5;

/// Columns and rows for `n` panes in `area`, and how many rows fit.
pub(super) fn grid(n: usize, area: Rect) -> (usize, usize, usize) {
    let cols = ((area.width / MIN_PANE_WIDTH).max(1) as usize).min(n.max(1));
    let rows = n.div_ceil(cols);
    let fit = ((area.height / MIN_PANE_HEIGHT).max(1) as usize).min(rows);
    (cols, rows, fit)
}

pub(super) fn draw(
    frame: &mut Frame<'_>,
    area: Rect,
    state: &mut State,
    env: &Env<'_>,
    areas: &mut Areas,
) {
    let theme = env.theme;
    let n = state.run.len();
    let (cols, rows, fit) = grid(n, area);
    // Keep the focused member's row in view when not every row fits.
    let view = &mut state.view;
    if let Focus::Member(i) = view.focus {
        let row = i / cols;
        if row < view.member_row {
            view.member_row = row;
        } else if row >= view.member_row + fit {
            view.member_row = row + 1 - fit;
        }
    }
    view.member_row = view.member_row.min(rows.saturating_sub(fit));
    let member_row = view.member_row;
    let row_areas = Layout::vertical(vec![Constraint::Ratio(1, fit as u32); fit]).split(area);
    for (r, row_area) in row_areas.iter().enumerate() {
        let first = (member_row + r) * cols;
        let in_row = (n - first.min(n)).min(cols);
        if in_row == 0 {
            continue;
        }
        let cells =
            Layout::horizontal(vec![Constraint::Ratio(1, cols as u32); cols]).split(*row_area);
        for c in 0..in_row {
            draw_member(frame, cells[c], state, env, first + c, areas);
        }
    }
    if fit < rows {
        let shown_first = member_row * cols + 1;
        let shown_last = ((member_row + fit) * cols).min(n);
        let note = format!(" members {shown_first}-{shown_last} of {n} · Tab moves ");
        let x = area.x + area.width.saturating_sub(note.chars().count() as u16 + 1);
        let y = area.y + area.height.saturating_sub(1);
        frame
            .buffer_mut()
            .set_string(x, y, note, Style::default().fg(theme.accent));
    }
}

/// One member's pane: title with live figures, then error, reasoning and text.
pub(super) fn draw_member(
    frame: &mut Frame<'_>,
    area: Rect,
    state: &mut State,
    env: &Env<'_>,
    i: usize,
    areas: &mut Areas,
) {
    let theme = env.theme;
    let Some((report, stream)) = state.run.member(i) else {
        return;
    };
    areas.members.push((i, area));
    let focused = state.view.focus == Focus::Member(i);
    let colour = theme.member(i);
    let title = member_title(report, stream, env, i);
    let block = pane_block(title, focused, colour, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    let width = inner.width as usize;
    let md = theme.markdown();
    let mut head: Vec<Line<'static>> = Vec::new();
    if let Some(error) = &report.error {
        let style = Style::default().fg(theme.error);
        head.extend(wrap_plain(
            &format!("✗ {}", crate::sanitize::sanitize(error)),
            width,
            style,
        ));
        if !stream.text.is_empty() {
            head.push(Line::from(Span::styled(
                "text received before the failure:",
                Style::default().fg(theme.dim),
            )));
        }
    }
    let pane = state.view.member_pane(&report.name);
    let reasoning_len = stream.reasoning.chars().count();
    if reasoning_len > 0 && !pane.show_reasoning {
        head.push(Line::from(Span::styled(
            format!(
                "▸ reasoning ({} chars) · t shows it",
                compact(reasoning_len as u64)
            ),
            Style::default()
                .fg(theme.dim)
                .add_modifier(Modifier::ITALIC),
        )));
    }
    if report.status == Status::Queued {
        head.push(Line::from(Span::styled(
            "waiting to start…",
            Style::default().fg(theme.dim),
        )));
    }
    let mut parts = vec![Part::Lines(head)];
    if pane.show_reasoning && reasoning_len > 0 {
        let mut dim = md;
        dim.text = Style::default()
            .fg(theme.dim)
            .add_modifier(Modifier::ITALIC);
        pane.reasoning_cache.update(&stream.reasoning, width, &dim);
        parts.push(Part::Lines(vec![Line::from(Span::styled(
            "▾ reasoning · t hides it",
            Style::default().fg(theme.dim),
        ))]));
        parts.push(Part::Cached(&pane.reasoning_cache));
        parts.push(Part::Lines(vec![Line::from(Span::styled(
            "─".repeat(width),
            Style::default().fg(theme.dim),
        ))]));
    }
    pane.cache.update(&stream.text, width, &md);
    parts.push(Part::Cached(&pane.cache));
    body::draw(frame, inner, &parts, &mut pane.scroll);
}

fn member_title(
    report: &MemberReport,
    pane: &StreamText,
    env: &Env<'_>,
    i: usize,
) -> Line<'static> {
    let theme = env.theme;
    let colour = theme.member(i);
    let sep = || Span::styled(" · ", Style::default().fg(theme.dim));
    // Most telling first: borders cut long titles from the right.
    let mut spans = vec![
        Span::styled(
            format!(" {} ", report.name),
            Style::default().fg(colour).add_modifier(Modifier::BOLD),
        ),
        status_span(report.status, env.tick, theme),
    ];
    let done = report.status.is_settled();
    let tokens = if report.usage.completion_tokens > 0 {
        report.usage.completion_tokens
    } else {
        pane.deltas
    };
    if tokens > 0 {
        spans.push(sep());
        let approx = if report.usage.completion_tokens > 0 {
            ""
        } else {
            "~"
        };
        spans.push(Span::raw(format!("{approx}{} tok", compact(tokens))));
        let generating_ms = match (pane.first_token_at, report.elapsed_ms, report.ttft_ms) {
            (_, Some(elapsed), Some(ttft)) if done => elapsed.saturating_sub(ttft),
            (Some(first), _, _) => env.now.saturating_duration_since(first).as_millis() as u64,
            _ => 0,
        };
        if generating_ms >= 200 {
            spans.push(sep());
            spans.push(Span::raw(format!(
                "{:.0} tok/s",
                tokens as f64 * 1000.0 / generating_ms as f64
            )));
        }
    }
    let ttft = report
        .ttft_ms
        .or_else(|| match (pane.started_at, pane.first_token_at) {
            (Some(s), Some(f)) => Some(f.saturating_duration_since(s).as_millis() as u64),
            _ => None,
        });
    if let Some(ttft) = ttft {
        spans.push(sep());
        spans.push(Span::raw(format!("ttft {}", seconds(ttft))));
    }
    if let Some(cost) = report.usage.cost {
        spans.push(sep());
        spans.push(Span::raw(format!("${cost:.4}")));
    }
    spans.push(sep());
    spans.push(Span::styled(
        format!("{} ", report.model),
        Style::default().fg(theme.dim),
    ));
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_fits_columns_to_width_and_pages_rows() {
        assert_eq!(grid(3, Rect::new(0, 0, 120, 20)), (3, 1, 1));
        assert_eq!(grid(3, Rect::new(0, 0, 80, 10)), (3, 1, 1));
        assert_eq!(grid(8, Rect::new(0, 0, 80, 12)), (3, 3, 2));
        assert_eq!(grid(8, Rect::new(0, 0, 200, 40)), (7, 2, 2));
        assert_eq!(grid(1, Rect::new(0, 0, 20, 3)), (1, 1, 1));
    }
}
