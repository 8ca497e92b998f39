//! The member panes: a grid sized by terminal and panel, one pane each.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

use super::body::{self, Part};
use super::found;
use super::{Drawn, Env, RenderCaches, compact, model_span, pane_block, seconds, status_span};
use crate::engine::Status;
use crate::engine::judge::grounding::words;
use crate::engine::report::MemberReport;
use crate::sanitize::sanitize;
use crate::tui::markdown::{MarkdownCache, wrap_plain};
use crate::tui::state::{Focus, Pane, PaneView, Scroll, State, StreamText};

/// Narrowest and shortest useful member panes.
const MIN_PANE_WIDTH: u16 = 26;
const MIN_PANE_HEIGHT: u16 = 5;

/// Columns and rows for `n` panes in `area`, and how many rows fit. Rows
/// are as even as the width allows: 4 panes where 3 fit across are 2 x 2,
/// not 3 + 1.
pub(super) fn grid(n: usize, area: Rect) -> (usize, usize, usize) {
    let n = n.max(1);
    let most = ((area.width / MIN_PANE_WIDTH).max(1) as usize).min(n);
    let rows = n.div_ceil(most);
    let cols = n.div_ceil(rows);
    let fit = ((area.height / MIN_PANE_HEIGHT).max(1) as usize).min(rows);
    (cols, rows, fit)
}

pub(super) fn draw(
    frame: &mut Frame<'_>,
    area: Rect,
    state: &State,
    caches: &mut RenderCaches,
    env: &Env<'_>,
    drawn: &mut Drawn,
) {
    let theme = env.theme;
    let n = state.run.len();
    let (cols, rows, fit) = grid(n, area);
    // Keep the focused member's row in view when not every row fits.
    let mut member_row = state.view.member_row;
    if let Focus::Member(i) = state.view.focus {
        let row = i / cols;
        if row < member_row {
            member_row = row;
        } else if row >= member_row + fit {
            member_row = row + 1 - fit;
        }
    }
    let member_row = member_row.min(rows.saturating_sub(fit));
    drawn.placement.member_row = Some(member_row);
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
            draw_member(frame, cells[c], state, caches, env, first + c, drawn);
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

/// The rows the member panes need to show all they hold in `area`, at
/// most `cap` (at least a pane's least). A pane showing its reasoning or a
/// diff is taken to need the most.
pub(super) fn fitted_height(
    state: &State,
    caches: &mut RenderCaches,
    env: &Env<'_>,
    area: Rect,
    cap: u16,
) -> u16 {
    let n = state.run.len();
    let (cols, rows, _) = grid(
        n,
        Rect {
            height: cap,
            ..area
        },
    );
    let cells = Layout::horizontal(vec![Constraint::Ratio(1, cols as u32); cols])
        .split(Rect { height: 1, ..area });
    let shown = state.view.round.unwrap_or(state.run.report().round);
    let md = env.theme.markdown();
    let mut total = 0usize;
    for row in 0..rows {
        let mut tallest = 0;
        for (c, cell) in cells.iter().enumerate() {
            let i = row * cols + c;
            let Some((report, stream)) = state
                .run
                .member_in_round(i, shown)
                .or_else(|| state.run.member(i))
            else {
                continue;
            };
            let Some(pane) = state.view.member_pane_ref(&report.name) else {
                return cap;
            };
            if pane.show_diff || pane.show_reasoning {
                return cap;
            }
            let width = cell.width.saturating_sub(2) as usize;
            let cache = caches.member(&report.name, pane.id);
            // A cache that holds another round (or was just made for a new
            // pane) is left for the pane's own drawing to set: this frame
            // counts the lines on a copy of its own.
            let lines = if cache.shows(shown, false) {
                cache.text.update(&stream.text, width, &md);
                cache.text.len()
            } else {
                let mut fresh = MarkdownCache::default();
                fresh.update(&stream.text, width, &md);
                fresh.len()
            };
            // The lines above the answer: an error, the reasoning's line, a cut.
            let error = report
                .error
                .as_ref()
                .map_or(0, |e| e.chars().count() / width.max(1) + 2);
            let head = error
                + usize::from(!stream.reasoning.is_empty())
                + usize::from(report.finish_reason.as_deref() == Some("length"));
            tallest = tallest.max(lines + head);
        }
        total += tallest + 2;
    }
    (total.min(cap as usize) as u16).max(MIN_PANE_HEIGHT.min(cap))
}

/// One member's pane: title with live figures, then error, reasoning and text.
pub(super) fn draw_member(
    frame: &mut Frame<'_>,
    area: Rect,
    state: &State,
    caches: &mut RenderCaches,
    env: &Env<'_>,
    i: usize,
    drawn: &mut Drawn,
) {
    let theme = env.theme;
    let latest = state.run.report().round;
    let shown = state.view.round.unwrap_or(latest);
    let Some((report, stream)) = state
        .run
        .member_in_round(i, shown)
        .or_else(|| state.run.member(i))
    else {
        return;
    };
    drawn.areas.members.push((i, area));
    let focused = state.view.focus == Focus::Member(i);
    let colour = theme.member(i);
    let mut badges = Vec::new();
    if latest > 1 {
        let style = if shown == latest {
            Style::default().fg(theme.dim)
        } else {
            Style::default().fg(theme.warn).add_modifier(Modifier::BOLD)
        };
        badges.push(Span::styled(format!("r{}/{latest}", report.round), style));
    }
    if let Some((place, score)) = state
        .run
        .report()
        .ranking
        .as_ref()
        .and_then(|r| r.place(&report.name))
    {
        badges.push(Span::styled(
            format!("#{place} {score}pt"),
            Style::default().fg(theme.accent),
        ));
    }
    // The border's corners take two columns.
    let title = member_title(
        report,
        stream,
        &badges,
        env,
        i,
        area.width.saturating_sub(2 + found::title_room(state)) as usize,
    );
    let block = pane_block(title, area, focused, colour, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    let width = inner.width as usize;
    let md = theme.markdown();
    let mut head: Vec<Line<'static>> = Vec::new();
    if let Some(retry) = report
        .retrying
        .as_ref()
        .filter(|_| !report.status.is_settled())
    {
        head.extend(wrap_plain(
            &format!("↻ {}", crate::sanitize::sanitize(&retry.describe())),
            width,
            Style::default().fg(theme.warn),
        ));
    }
    if report.status == Status::Done && report.finish_reason.as_deref() == Some("length") {
        let tokens = report.usage.completion_tokens;
        let text = match tokens {
            0 => "✂ cut at the seat's max_tokens".to_string(),
            n => format!("✂ cut at {n} tokens (the seat's max_tokens)"),
        };
        head.extend(wrap_plain(&text, width, Style::default().fg(theme.warn)));
    }
    if let Some(error) = &report.error {
        let (mark, style) = match report.status {
            Status::Late => ("⏱", Style::default().fg(theme.warn)),
            _ => ("✗", Style::default().fg(theme.error)),
        };
        head.extend(wrap_plain(
            &format!("{mark} {}", crate::sanitize::sanitize(error)),
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
    let jump = state.view.jump.as_ref().filter(|_| shown == latest);
    // A pane the view has not placed yet (its first frame) is drawn under
    // id 0, which no pane of the view has; it is placed after this frame.
    let unplaced = PaneView {
        id: 0,
        scroll: Scroll::default(),
        show_reasoning: false,
        show_diff: false,
    };
    let pane = state
        .view
        .member_pane_ref(&report.name)
        .unwrap_or(&unplaced);
    let diff = pane.show_diff;
    let cache = caches.member(&report.name, pane.id);
    // Another round or view starts the pane over, from the top.
    let mut scroll = match cache.show(shown, diff) {
        true => Scroll {
            follow: false,
            ..Scroll::default()
        },
        false => pane.scroll,
    };
    let placed_pane = Pane::Member(report.name.clone());
    let previous = report
        .round
        .checked_sub(1)
        .filter(|_| diff)
        .and_then(|r| state.run.member_in_round(i, r))
        .map(|(_, s)| s.text.as_str());
    if diff {
        let note = match previous {
            Some(before) => format!(
                "diff against round {}: {}",
                report.round - 1,
                crate::engine::revision::summary(before, &stream.text)
            ),
            None => format!("round {}: no earlier answer to compare", report.round),
        };
        head.extend(wrap_plain(
            &format!("{note} · = hides it"),
            width,
            Style::default()
                .fg(theme.dim)
                .add_modifier(Modifier::ITALIC),
        ));
    }
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
        cache.reasoning.update(&stream.reasoning, width, &dim);
        parts.push(Part::Lines(vec![Line::from(Span::styled(
            "▾ reasoning · t hides it",
            Style::default().fg(theme.dim),
        ))]));
        parts.push(Part::Cached(&cache.reasoning));
        parts.push(Part::Lines(vec![Line::from(Span::styled(
            "─".repeat(width),
            Style::default().fg(theme.dim),
        ))]));
    }
    if let Some(before) = previous {
        let key = (width, stream.text.len());
        if cache.diff.as_ref().is_none_or(|(k, _)| *k != key) {
            let changes = crate::engine::revision::changes(before, &stream.text);
            cache.diff = Some((key, super::diff::lines(&changes, width, theme)));
        }
        let lines = cache
            .diff
            .as_ref()
            .map(|(_, l)| l.clone())
            .unwrap_or_default();
        parts.push(Part::Lines(lines));
        let height = inner.height as usize;
        let (marks, count) =
            found::in_pane(state, Focus::Member(i), &parts, &mut scroll, height, drawn);
        let fitted = body::draw(frame, inner, &parts, &scroll, None, &marks);
        found::draw_count(frame, area, count, theme);
        drawn.placement.scrolls.push((placed_pane, fitted));
        return;
    }
    cache.text.update(&stream.text, width, &md);
    // A judge quote gone to: scrolled into view once, then highlighted.
    let mut highlight = None;
    let target = jump.and_then(|j| j.spans.iter().find(|(m, _)| *m == i).map(|(_, s)| (j, *s)));
    if let Some((jump, span)) = target {
        match jump.lines.get(&i) {
            Some(&(first, last, at)) if at == width => highlight = Some((first, last)),
            found_before => {
                let before: usize = parts.iter().map(Part::len).sum();
                let quoted = report.text.get(span.0..span.1).unwrap_or_default();
                if let Some((first, last)) = find_lines(&cache.text, quoted) {
                    let lines = (before + first, before + last);
                    // Scrolled to once; after a resize found again, and
                    // scrolled to if the pane no longer shows it.
                    let height = inner.height as usize;
                    let hidden = lines.0 < scroll.offset || lines.1 >= scroll.offset + height;
                    if found_before.is_none() || hidden {
                        scroll.offset = lines.0.saturating_sub(1);
                        scroll.follow = false;
                        scroll.touched = true;
                    }
                    highlight = Some(lines);
                    drawn
                        .placement
                        .jump_lines
                        .push((i, (lines.0, lines.1, width)));
                }
            }
        }
    }
    parts.push(Part::Cached(&cache.text));
    let height = inner.height as usize;
    let (marks, count) =
        found::in_pane(state, Focus::Member(i), &parts, &mut scroll, height, drawn);
    let fitted = body::draw(frame, inner, &parts, &scroll, highlight, &marks);
    found::draw_count(frame, area, count, theme);
    drawn.placement.scrolls.push((placed_pane, fitted));
}

/// The drawn lines (first, last) holding the words of `quoted`.
fn find_lines(cache: &MarkdownCache, quoted: &str) -> Option<(usize, usize)> {
    // Matched as the judge's quotes are: markdown may have changed the
    // punctuation and emphasis around the words, never the words.
    let wanted = words(quoted);
    if wanted.is_empty() {
        return None;
    }
    // Every word of the drawn text, with the line it is on.
    let mut drawn: Vec<(String, usize)> = Vec::new();
    for (n, line) in cache.slice(0, cache.len()).iter().enumerate() {
        let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
        drawn.extend(words(&text).into_iter().map(|w| (w, n)));
    }
    let at = drawn
        .windows(wanted.len())
        .position(|w| w.iter().zip(&wanted).all(|((d, _), q)| d == q))?;
    Some((drawn[at].1, drawn[at + wanted.len() - 1].1))
}

/// A member pane's title within `width` columns: the name and status
/// always, then what matters most while comparing members (tokens, cost),
/// then speed and time to first token, then the model, each only when it
/// fits whole. A zoomed pane is wide enough for all of it.
fn member_title(
    report: &MemberReport,
    pane: &StreamText,
    badges: &[Span<'static>],
    env: &Env<'_>,
    i: usize,
    width: usize,
) -> Line<'static> {
    let theme = env.theme;
    let colour = theme.member(i);
    let name = Span::styled(
        format!(" {} ", report.name),
        Style::default().fg(colour).add_modifier(Modifier::BOLD),
    );
    let status = status_span(report.status, env.tick, theme);
    let done = report.status.is_settled();
    let tokens = if report.usage.completion_tokens > 0 {
        report.usage.completion_tokens
    } else {
        pane.deltas
    };
    let ttft = report
        .ttft_ms
        .or_else(|| match (pane.started_at, pane.first_token_at) {
            (Some(s), Some(f)) => Some(f.saturating_duration_since(s).as_millis() as u64),
            _ => None,
        });
    // (display order, priority, text): kept by priority, shown in order.
    let mut extras: Vec<(u8, u8, Span<'static>)> = Vec::new();
    if tokens > 0 {
        let approx = if report.usage.completion_tokens > 0 {
            ""
        } else {
            "~"
        };
        extras.push((0, 0, Span::raw(format!("{approx}{} tok", compact(tokens)))));
        // Settled (done, failed, cancelled, late), the rate is fixed at
        // its end: it no longer counts on with the clock.
        let generating_ms = match (done, report.elapsed_ms, ttft) {
            (true, Some(elapsed), Some(ttft)) => elapsed.saturating_sub(ttft),
            (true, _, _) => 0,
            (false, _, _) => pane.first_token_at.map_or(0, |first| {
                env.now.saturating_duration_since(first).as_millis() as u64
            }),
        };
        if generating_ms >= 200 {
            extras.push((
                2,
                2,
                Span::raw(format!(
                    "{:.0} tok/s",
                    tokens as f64 * 1000.0 / generating_ms as f64
                )),
            ));
        }
    }
    if let Some(cost) = report.usage.cost {
        extras.push((1, 1, Span::raw(format!("${cost:.4}"))));
    }
    if let Some(ttft) = ttft {
        extras.push((3, 3, Span::raw(format!("ttft {}", seconds(ttft)))));
    }
    let model = model_span(&report.model, &report.fallback_from, "", theme);
    let model = Span::styled(model.content.trim_end().to_string(), model.style);
    // A fallback is worth the room before the figures: the model, its last
    // path segment, or the arrow alone, whichever fits.
    let fallback = if report.fallback_from.is_empty() {
        extras.push((4, 4, model));
        Vec::new()
    } else {
        let short = report.model.rsplit('/').next().unwrap_or_default();
        vec![
            model.clone(),
            Span::styled(format!("↪ {}", sanitize(short)), model.style),
            Span::styled("↪", model.style),
        ]
    };

    const SEP: usize = 3;
    extras.sort_by_key(|(_, priority, _)| *priority);
    // A narrow pane gives the status's word up before the token count.
    let first_extra = extras
        .first()
        .map_or(0, |(_, _, s)| SEP + s.content.width());
    let full = name.content.width() + status.content.width() + 1;
    let status = if full + first_extra > width {
        short_status(status)
    } else {
        status
    };
    let mut used = name.content.width() + status.content.width() + 1;
    let mut spans = vec![name, status];
    for badge in badges {
        let w = 1 + badge.content.width();
        if used + w <= width {
            used += w;
            spans.push(Span::raw(" "));
            spans.push(badge.clone());
        }
    }
    let mut kept: Vec<(u8, Span<'static>)> = Vec::new();
    if let Some(span) = fallback
        .into_iter()
        .find(|span| used + SEP + span.content.width() <= width)
    {
        used += SEP + span.content.width();
        kept.push((4, span));
    }
    for (order, _, span) in extras {
        let w = SEP + span.content.width();
        if used + w <= width {
            used += w;
            kept.push((order, span));
        }
    }
    kept.sort_by_key(|(order, _)| *order);
    for (_, span) in kept {
        spans.push(Span::styled(" · ", Style::default().fg(theme.dim)));
        spans.push(span);
    }
    spans.push(Span::raw(" "));
    Line::from(spans)
}

/// A status label cut to its symbol: `✓ done` becomes `✓`.
fn short_status(span: Span<'static>) -> Span<'static> {
    let symbol = span
        .content
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    Span::styled(symbol, span.style)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_fits_columns_to_width_and_pages_rows() {
        assert_eq!(grid(3, Rect::new(0, 0, 120, 20)), (3, 1, 1));
        assert_eq!(grid(3, Rect::new(0, 0, 80, 10)), (3, 1, 1));
        assert_eq!(grid(8, Rect::new(0, 0, 80, 12)), (3, 3, 2));
        assert_eq!(grid(8, Rect::new(0, 0, 200, 40)), (4, 2, 2));
        assert_eq!(
            grid(4, Rect::new(0, 0, 80, 20)),
            (2, 2, 2),
            "2 x 2, not 3 + 1"
        );
        assert_eq!(grid(5, Rect::new(0, 0, 80, 20)), (3, 2, 2));
        assert_eq!(grid(1, Rect::new(0, 0, 20, 3)), (1, 1, 1));
    }
}
