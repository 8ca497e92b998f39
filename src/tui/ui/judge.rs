//! The judge pane: tabs for each section of the analysis, items with the
//! members they concern as coloured badges, contradictions side by side.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Tabs;
use unicode_width::UnicodeWidthStr;

use super::body::{self, Part};
use super::found;
use super::{Drawn, Env, compact, model_span, pane_block, stage_status_span, status_span};
use crate::engine::Status;
use crate::engine::judge::{Analysis, Contradiction, Finding, Grounded, Quote};
use crate::sanitize::sanitize;
use crate::tui::markdown::{wrap_plain, wrap_prefixed};
use crate::tui::state::{Focus, JudgeTab, Pane, State};
use crate::tui::theme::Theme;

pub(super) fn draw(
    frame: &mut Frame<'_>,
    area: Rect,
    state: &State,
    env: &Env<'_>,
    drawn: &mut Drawn,
) {
    drawn.areas.judge = area;
    let theme = env.theme;
    let judge = &state.run.report().judge;
    // What tells most first: a narrow border cuts the rest.
    let mut title = vec![
        Span::styled(
            " Judge ",
            Style::default()
                .fg(theme.title)
                .add_modifier(Modifier::BOLD),
        ),
        stage_status_span(judge.status, state, env),
        Span::raw(" "),
    ];
    let report = state.run.report();
    if report.round > 1 {
        let what = match &report.dispute {
            Some(topic) => format!("· round {} (dispute: {}) ", report.round, sanitize(topic)),
            None => format!("· round {} ", report.round),
        };
        title.push(Span::styled(what, Style::default().fg(theme.accent)));
    }
    if let Some(g) = judge.grounding.filter(|g| g.quotes > 0) {
        title.push(Span::styled(
            format!("· quotes {}/{} found ", g.verified, g.quotes),
            Style::default().fg(if g.verified == g.quotes {
                theme.ok
            } else {
                theme.warn
            }),
        ));
    }
    if let Some(c) = judge.consistency {
        title.push(Span::styled(
            format!(
                "· {} samples: {}/{} findings recur ",
                c.samples, c.recurring, c.findings
            ),
            Style::default().fg(if c.share >= 0.5 { theme.ok } else { theme.warn }),
        ));
    }
    if !judge.judge_is_member.is_empty() {
        title.push(Span::styled(
            format!("· self-judging: {} ", judge.judge_is_member.join(", ")),
            Style::default().fg(theme.warn),
        ));
    }
    // The shuffle's seed is in the raw tab, the JSON and the session.
    title.push(model_span(&judge.model, &judge.fallback_from, "· ", theme));
    let title_area = Rect {
        width: area.width.saturating_sub(found::title_room(state)),
        ..area
    };
    let block = pane_block(
        Line::from(title),
        title_area,
        state.view.focus == Focus::Judge,
        theme.border,
        theme,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height < 2 || inner.width < 4 {
        return;
    }
    let [tabs_area, body_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
    let analysis = state.run.report().judge.analysis.as_ref();
    // Items in a tab: the same count at every width (how many have every
    // quote found is the tab's first line, which every width shows).
    let counted = |tab: JudgeTab| -> Option<String> {
        analysis
            .filter(|_| tab != JudgeTab::Raw)
            .map(|a| tab.item_count(a).to_string())
    };
    // The longest titles that fit: full names with their keys, full names
    // alone (the help says which digit is which tab), short names with
    // keys, or short names alone.
    let make = |short: bool, numbered: bool| -> Vec<String> {
        JudgeTab::ALL
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let name = if short { short_title(*t) } else { t.title() };
                let key = if numbered {
                    format!("{}:", i + 1)
                } else {
                    String::new()
                };
                match counted(*t) {
                    Some(n) => format!("{key}{name} {n}"),
                    None => format!("{key}{name}"),
                }
            })
            .collect()
    };
    let fits = |titles: &[String]| {
        titles.iter().map(|t| t.chars().count() + 1).sum::<usize>() <= inner.width as usize
    };
    // The product's words in full when they fit, then short names; the
    // grounding marks (✓n: items whose quotes were all found) show at every
    // width, so a count never means one thing here and another there.
    match [
        make(false, true),
        make(false, false),
        make(true, true),
        make(true, false),
    ]
    .into_iter()
    .find(|t| fits(t))
    {
        Some(titles) => {
            let tabs = Tabs::new(titles.into_iter().map(Line::from))
                .select(state.view.judge_tab.index())
                .style(Style::default().fg(theme.dim))
                .highlight_style(
                    Style::default()
                        .fg(theme.accent)
                        .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
                )
                .divider(Span::styled("│", Style::default().fg(theme.dim)))
                .padding("", "");
            frame.render_widget(tabs, tabs_area);
        }
        None => {
            // Too narrow for every tab: the current one, with where it is.
            let tab = state.view.judge_tab;
            let count = counted(tab).map(|n| format!(" {n}")).unwrap_or_default();
            let line = Line::from(vec![
                Span::styled("◂ ", Style::default().fg(theme.dim)),
                Span::styled(
                    format!("{}/6 {}{count}", tab.index() + 1, tab.title()),
                    Style::default()
                        .fg(theme.accent)
                        .add_modifier(Modifier::BOLD),
                ),
                Span::styled(" ▸", Style::default().fg(theme.dim)),
            ]);
            frame.render_widget(ratatui::widgets::Paragraph::new(line), tabs_area);
        }
    }

    let width = body_area.width as usize;
    let (mut lines, starts) = body_lines(state, env, width);
    let view = &state.view;
    let mut scroll = view.judge.scroll;
    // The highlighted item, while the pane has the keyboard: marked, and
    // scrolled into view when it moved.
    if view.focus == Focus::Judge
        && let Some(&start) = starts.get(view.judge_item)
    {
        if let Some(first) = lines[start].spans.first_mut() {
            *first = Span::styled(
                "▶ ",
                Style::default()
                    .fg(theme.focus)
                    .add_modifier(Modifier::BOLD),
            );
        }
        if view.judge_item_moved {
            let height = body_area.height as usize;
            if start < scroll.offset || start + 1 >= scroll.offset + height {
                scroll.offset = start;
            }
            scroll.follow = false;
            scroll.touched = true;
            drawn.placement.judge_item_shown = true;
        }
    }
    let total = lines.len();
    let parts = [Part::Lines(lines)];
    let height = body_area.height as usize;
    let (marks, count) = found::in_pane(state, Focus::Judge, &parts, &mut scroll, height, drawn);
    let fitted = body::draw(frame, body_area, &parts, &scroll, None, &marks);
    found::draw_count(frame, area, count, theme);
    drawn.placement.scrolls.push((Pane::Judge, fitted));
    // Where each item landed, for clicks.
    let top = fitted.offset;
    let rows = body_area.height as usize;
    for (item, &start) in starts.iter().enumerate() {
        let end = starts.get(item + 1).map_or(total, |next| next - 1);
        let (first, last) = (start.max(top), end.min(top + rows));
        if first < last {
            drawn.areas.judge_items.push((
                item,
                body_area.y + (first - top) as u16,
                body_area.y + (last - top - 1) as u16,
            ));
        }
    }
}

fn short_title(tab: JudgeTab) -> &'static str {
    match tab {
        JudgeTab::Consensus => "Agree",
        JudgeTab::Contradictions => "Conflict",
        JudgeTab::BlindSpots => "Blind",
        JudgeTab::UniqueInsights => "Unique",
        JudgeTab::PartialCoverage => "Partial",
        JudgeTab::Raw => "Raw",
    }
}

/// The pane's lines, and where each judge item starts among them (none
/// outside a tab of items).
fn body_lines(state: &State, env: &Env<'_>, width: usize) -> (Vec<Line<'static>>, Vec<usize>) {
    let judge = &state.run.report().judge;
    match (judge.status, judge.analysis.as_ref(), state.view.judge_tab) {
        (Status::Done, Some(analysis), tab) if tab != JudgeTab::Raw => {
            section_lines(analysis, state, env.theme, width)
        }
        _ => (other_lines(state, env, width), Vec::new()),
    }
}

fn other_lines(state: &State, env: &Env<'_>, width: usize) -> Vec<Line<'static>> {
    let theme = env.theme;
    let judge = &state.run.report().judge;
    let dim = Style::default().fg(theme.dim);
    if state.view.judge_tab == JudgeTab::Raw {
        let raw = &state.run.judge().text;
        if raw.is_empty() {
            return vec![Line::from(Span::styled(
                "the judge's raw reply appears here",
                dim,
            ))];
        }
        // Why the reply could not be read, wrapped (it can be long).
        let mut lines: Vec<Line<'static>> = match (&judge.status, &judge.error) {
            (Status::Failed, Some(error)) => wrap_plain(
                &format!("✗ {}", sanitize(error)),
                width,
                Style::default().fg(theme.error),
            ),
            _ => Vec::new(),
        };
        lines.extend(judge.labels.iter().flat_map(|l| {
            wrap_plain(&format!("labels shuffled with seed {}", l.seed), width, dim)
        }));
        lines.extend(wrap_plain(raw, width, Style::default().fg(theme.text)));
        return lines;
    }
    match (judge.status, judge.analysis.as_ref()) {
        (Status::Done, Some(analysis)) => section_lines(analysis, state, theme, width).0,
        (Status::Queued, _) => {
            let (done, total) = state.run.panel_progress();
            if total == 0 {
                vec![Line::from(Span::styled(
                    "the judge reads the panel's answers once they are in",
                    dim,
                ))]
            } else {
                vec![Line::from(Span::styled(
                    format!("waits for the panel: {done}/{total} settled"),
                    dim,
                ))]
            }
        }
        (Status::Streaming, _) => {
            let answers = judge
                .labels
                .as_ref()
                .map(|l| l.assignments.len())
                .unwrap_or(0);
            // Tokens and their rate while the reply streams (the JSON
            // itself waits for the end, or tab 6).
            let stream = state.run.judge();
            let rate = stream
                .started_at
                .map(|s| env.now.saturating_duration_since(s).as_secs_f64())
                .filter(|s| *s >= 0.5)
                .map(|s| format!(" · {:.1} tok/s", stream.deltas as f64 / s))
                .unwrap_or_default();
            vec![
                Line::from(vec![
                    status_span(Status::Streaming, env.tick, theme),
                    Span::raw(format!(
                        " comparing {answers} answers · {} tok{rate} · {} received",
                        stream.deltas,
                        bytes(stream.text.len())
                    )),
                ]),
                Line::from(Span::styled("6 shows the raw reply as it arrives", dim)),
            ]
        }
        (Status::Failed | Status::Cancelled, _) => {
            let mut lines = wrap_plain(
                &format!(
                    "✗ {}",
                    sanitize(judge.error.as_deref().unwrap_or("the judge failed"))
                ),
                width,
                Style::default().fg(theme.error),
            );
            lines.extend(wrap_plain(
                "the synthesizer worked from the raw answers; 6 shows the judge's reply",
                width,
                dim,
            ));
            lines
        }
        (Status::Skipped, _) => {
            let why = sanitize(&state.run.report().why_skipped());
            wrap_plain(&format!("not run: {why}"), width, dim)
        }
        (Status::Done, None) | (Status::Late, _) => Vec::new(),
    }
}

fn bytes(n: usize) -> String {
    format!("{}B", compact(n as u64))
}

fn section_lines(
    analysis: &Analysis,
    state: &State,
    theme: &Theme,
    width: usize,
) -> (Vec<Line<'static>>, Vec<usize>) {
    let empty = |what: &str| {
        vec![Line::from(Span::styled(
            format!("no {what} found"),
            Style::default().fg(theme.dim),
        ))]
    };
    let mut lines = Vec::new();
    let mut starts = Vec::new();
    let mut item = |lines: &mut Vec<Line<'static>>, item_lines: Vec<Line<'static>>| {
        if !lines.is_empty() {
            lines.push(Line::default());
        }
        starts.push(lines.len());
        lines.extend(item_lines);
    };
    let tab = state.view.judge_tab;
    if let Some((grounded, items)) = grounded_items(tab, analysis) {
        let style = Style::default().fg(if grounded == items {
            theme.ok
        } else {
            theme.warn
        });
        lines.push(Line::from(Span::styled(
            format!("✓ {grounded} of {items} with every quote found"),
            style,
        )));
    }
    match tab {
        JudgeTab::Consensus
        | JudgeTab::BlindSpots
        | JudgeTab::UniqueInsights
        | JudgeTab::PartialCoverage => {
            let items = tab.findings(analysis).unwrap_or_default();
            if items.is_empty() {
                lines = empty(&tab.title().to_lowercase());
            }
            for f in items {
                item(&mut lines, finding_lines(f, state, theme, width));
            }
        }
        JudgeTab::Contradictions => {
            if analysis.contradictions.is_empty() {
                lines = empty("contradictions");
            }
            for c in &analysis.contradictions {
                item(&mut lines, contradiction_lines(c, state, theme, width));
            }
        }
        JudgeTab::Raw => {}
    }
    (lines, starts)
}

/// For a tab that quotes anything: how many of its items have every quote
/// found in the answers, of how many.
fn grounded_items(tab: JudgeTab, a: &Analysis) -> Option<(usize, usize)> {
    match tab {
        JudgeTab::Raw => None,
        JudgeTab::Contradictions => {
            let stances = a.contradictions.iter().flat_map(|c| &c.stances);
            let quoted = stances.clone().any(|s| !s.quotes.is_empty());
            let all = a
                .contradictions
                .iter()
                .filter(|c| c.stances.iter().all(|s| s.grounded == Grounded::All))
                .count();
            quoted.then_some((all, a.contradictions.len()))
        }
        findings => {
            let items: &[Finding] = findings.findings(a)?;
            let quoted = items.iter().any(|f| !f.quotes.is_empty());
            let all = items.iter().filter(|f| f.grounded == Grounded::All).count();
            quoted.then_some((all, items.len()))
        }
    }
}

/// A member's badge style by name; names the judge made up get a plain one.
fn badge(name: &str, state: &State, theme: &Theme) -> Span<'static> {
    let style = match state.run.position(name) {
        Some(i) => theme.badge(i),
        None => Style::default().fg(theme.text).bg(theme.dim),
    };
    Span::styled(format!(" {} ", sanitize(name)), style)
}

/// Badges laid out in rows no wider than `width`, after `indent`.
fn badge_lines(
    names: &[String],
    state: &State,
    theme: &Theme,
    width: usize,
    indent: usize,
) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let mut current = vec![Span::raw(" ".repeat(indent))];
    let mut used = indent;
    for name in names {
        let b = badge(name, state, theme);
        let w = b.content.width() + 1;
        if used + w > width && used > indent {
            lines.push(Line::from(std::mem::replace(
                &mut current,
                vec![Span::raw(" ".repeat(indent))],
            )));
            used = indent;
        }
        current.push(b);
        current.push(Span::raw(" "));
        used += w;
    }
    if used > indent {
        lines.push(Line::from(current));
    }
    lines
}

/// A quote found in its member's answer reads as a quote; one that was not
/// is marked `?` and says so, with whose words it is when it is someone's.
fn quote_lines(quotes: &[Quote], theme: &Theme, width: usize, indent: usize) -> Vec<Line<'static>> {
    let found = Style::default()
        .fg(theme.dim)
        .add_modifier(Modifier::ITALIC);
    let not_found = Style::default().fg(theme.warn).add_modifier(Modifier::DIM);
    let pad = " ".repeat(indent);
    quotes
        .iter()
        .flat_map(|q| {
            let text = q.label(sanitize);
            let (style, first) = if q.verified {
                (found, pad.clone())
            } else {
                (
                    not_found,
                    format!("{}? ", &pad[..pad.len().saturating_sub(2)]),
                )
            };
            wrap_prefixed(
                Span::styled(first, not_found),
                Span::raw(pad.clone()),
                &text,
                style,
                width,
            )
        })
        .collect()
}

fn finding_lines(f: &Finding, state: &State, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let mut lines = wrap_prefixed(
        Span::styled("• ", Style::default().fg(theme.accent)),
        Span::raw("  "),
        &sanitize(&f.point),
        Style::default().fg(theme.text),
        width,
    );
    lines.extend(badge_lines(&f.members, state, theme, width, 2));
    lines.extend(quote_lines(&f.quotes, theme, width, 2));
    lines
}

/// A contradiction: its topic, then each side's stance in its own column
/// (stacked when the pane is too narrow for columns).
fn contradiction_lines(
    c: &Contradiction,
    state: &State,
    theme: &Theme,
    width: usize,
) -> Vec<Line<'static>> {
    let mut lines = wrap_prefixed(
        Span::styled("◆ ", Style::default().fg(theme.warn)),
        Span::raw("  "),
        &sanitize(&c.topic),
        Style::default().fg(theme.text).add_modifier(Modifier::BOLD),
        width,
    );
    let sides = c.stances.len().max(1);
    let usable = width.saturating_sub(2);
    let sep = 3;
    let column = usable.saturating_sub(sep * (sides - 1)) / sides;
    let column_lines = |w: usize, s: &crate::engine::judge::Stance| {
        let mut col = badge_lines(&s.members, state, theme, w, 0);
        col.extend(wrap_prefixed(
            Span::raw(""),
            Span::raw(""),
            &sanitize(&s.stance),
            Style::default().fg(theme.text),
            w,
        ));
        col.extend(quote_lines(&s.quotes, theme, w, 0));
        col
    };
    if sides == 1 || column < 16 {
        for s in &c.stances {
            for l in column_lines(usable, s) {
                let mut spans = vec![Span::raw("  ")];
                spans.extend(l.spans);
                lines.push(Line::from(spans));
            }
        }
        return lines;
    }
    let columns: Vec<Vec<Line<'static>>> =
        c.stances.iter().map(|s| column_lines(column, s)).collect();
    let height = columns.iter().map(Vec::len).max().unwrap_or(0);
    for row in 0..height {
        let mut spans = vec![Span::raw("  ")];
        for (k, col) in columns.iter().enumerate() {
            if k > 0 {
                spans.push(Span::styled(" │ ", Style::default().fg(theme.dim)));
            }
            let line = col.get(row).cloned().unwrap_or_default();
            let w = line.width();
            spans.extend(line.spans);
            if k + 1 < columns.len() {
                spans.push(Span::raw(" ".repeat(column.saturating_sub(w))));
            }
        }
        lines.push(Line::from(spans));
    }
    lines
}
