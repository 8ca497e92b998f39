//! The stage bar (panel, judge, synthesis; time, tokens, cost) and the key
//! hints line.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Env;
use super::{compact, seconds};
use unicode_width::UnicodeWidthStr;

use crate::attachments::human_size;
use crate::engine::{RunOutcome, Status};
use crate::sanitize::sanitize;
use crate::tui::action::Action;
use crate::tui::layer::Layer;
use crate::tui::search::Search;
use crate::tui::state::{Notice, State};
use crate::tui::theme::Theme;

fn stage_style(status: Status, theme: &Theme) -> Style {
    match status {
        Status::Done => Style::default().fg(theme.ok),
        Status::Streaming => Style::default()
            .fg(theme.accent)
            .add_modifier(Modifier::BOLD),
        Status::Failed => Style::default().fg(theme.error),
        Status::Cancelled | Status::Late => Style::default().fg(theme.warn),
        Status::Queued | Status::Skipped => Style::default().fg(theme.dim),
    }
}

pub(super) fn draw_stage_bar(frame: &mut Frame<'_>, area: Rect, state: &State, env: &Env<'_>) {
    let theme = env.theme;
    let report = state.run.report();
    let (settled, total) = state.run.panel_progress();
    let panel_status = if total == 0 {
        Status::Queued
    } else if settled == total {
        if report.members.iter().any(|m| m.status == Status::Done) {
            Status::Done
        } else {
            Status::Failed
        }
    } else {
        Status::Streaming
    };
    let arrow = || Span::styled(" ▸ ", Style::default().fg(theme.dim));
    let mut left = vec![
        Span::styled(
            " council ",
            Style::default()
                .fg(theme.accent)
                .add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            report
                .preset
                .clone()
                .map(|p| format!("{p} "))
                .unwrap_or_default(),
            Style::default().fg(theme.dim),
        ),
    ];
    if let Some((at, turns)) = state.turns.position() {
        let style = if state.turns.viewing_earlier() {
            Style::default().fg(theme.warn).add_modifier(Modifier::BOLD)
        } else {
            Style::default().fg(theme.dim)
        };
        left.push(Span::styled(format!("turn {at}/{turns} "), style));
    }
    if total == 1 && state.solo() {
        // A panel of one answers alone: there is no other stage.
        left.push(Span::styled("Answer", stage_style(panel_status, theme)));
    } else if total > 0 {
        left.push(Span::styled(
            format!("Panel {settled}/{total}"),
            stage_style(panel_status, theme),
        ));
        let stale = state.run.judgement_stale();
        let settled_style = |status: Status| match status {
            Status::Done if stale => Style::default().fg(theme.warn),
            _ => stage_style(status, theme),
        };
        let planned = env.plan.map_or(1, |c| c.rounds);
        let rounds = planned.max(report.round);
        if rounds > 1 {
            left.push(Span::styled(
                format!(" r{}/{rounds}", report.round),
                Style::default().fg(theme.accent),
            ));
        }
        left.push(arrow());
        left.push(Span::styled("Judge", settled_style(report.judge.status)));
        left.push(arrow());
        let ranking = env.plan.is_some_and(|c| c.ranking);
        if ranking || report.ranking.is_some() {
            let status = if state.run.ranking() {
                Status::Streaming
            } else if report.ranking.is_some() {
                Status::Done
            } else {
                Status::Queued
            };
            // Ballots that could not be read are said here, not only in
            // the saved session.
            let (label, style) = match &report.ranking {
                Some(r) if r.aggregate.is_empty() => (
                    "Ranking: no ballot counted".to_string(),
                    Style::default().fg(theme.warn),
                ),
                Some(r) if !r.malformed.is_empty() => {
                    let n = r.malformed.len();
                    (
                        format!(
                            "Ranking ({n} ballot{} left out)",
                            if n == 1 { "" } else { "s" }
                        ),
                        Style::default().fg(theme.warn),
                    )
                }
                _ => ("Ranking".to_string(), settled_style(status)),
            };
            left.push(Span::styled(label, style));
            left.push(arrow());
        }
        left.push(Span::styled(
            "Synthesis",
            settled_style(report.synthesis.status),
        ));
        let per_round = report.contradictions_per_round();
        if per_round.len() > 1 {
            left.push(Span::styled(
                format!(
                    "  contradictions {}",
                    crate::engine::deliberation::convergence_text(&per_round)
                ),
                Style::default().fg(theme.warn),
            ));
        }
    }

    // Totals: what the turn has spent so far; never less within a turn.
    let usage = report.spent();
    // (text, priority): what does not fit beside the stages goes, least
    // important first.
    let mut right: Vec<(String, u8)> = Vec::new();
    if let Some(elapsed) = state.run.elapsed(env.now) {
        right.push((format!("⏱ {}", seconds(elapsed.as_millis() as u64)), 2));
    }
    let tokens = usage.prompt_tokens + usage.completion_tokens;
    if tokens > 0 {
        right.push((format!("{} tok", compact(tokens)), 3));
    }
    match (usage.cost, state.estimate) {
        (Some(cost), _) => right.push((format!("${cost:.4}"), 0)),
        // Before real costs arrive: the most the run may cost.
        // (Nothing when no seat has a known price.)
        (None, Some(e)) if e.complete || e.usd > 0.0 => {
            let more = if e.complete { "" } else { "+?" };
            right.push((format!("est. ≤${:.4}{more}", e.usd), 0));
        }
        _ => {}
    }
    // The budget cap: the run's own, else the one the next run will have.
    let cap = report
        .limits
        .max_cost
        .filter(|_| total > 0)
        .or_else(|| env.plan.and_then(|c| c.limits.max_cost));
    if let Some(cap) = cap {
        right.push((format!("cap ${cap:.2}"), 1));
    }
    if report.outcome == Some(RunOutcome::BudgetExceeded) {
        left.push(Span::styled(
            "  budget exceeded",
            Style::default()
                .fg(theme.error)
                .add_modifier(Modifier::BOLD),
        ));
    }
    let late = report
        .members
        .iter()
        .filter(|m| m.status == Status::Late)
        .count();
    if late > 0 {
        left.push(Span::styled(
            format!("  {late} late"),
            Style::default().fg(theme.warn),
        ));
    }
    let left_width: usize = left.iter().map(|s| s.content.width()).sum();
    let fits = |items: &[(String, u8)]| {
        let width: usize = items.iter().map(|(t, _)| t.width() + 2).sum();
        left_width + width < usize::from(area.width)
    };
    while !fits(&right) {
        let Some(least) = (0..right.len()).max_by_key(|&i| right[i].1) else {
            break;
        };
        right.remove(least);
    }
    let right: Vec<String> = right.into_iter().map(|(t, _)| t).collect();
    let right = Line::from(Span::styled(
        format!("{} ", right.join("  ")),
        Style::default().fg(theme.text),
    ));
    frame.render_widget(Paragraph::new(Line::from(left)), area);
    frame.render_widget(Paragraph::new(right).alignment(Alignment::Right), area);
}

/// The question being answered, on one line under the stage bar.
pub(super) fn draw_question(frame: &mut Frame<'_>, area: Rect, state: &State, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    let question = sanitize(&state.run.report().question).replace('\n', " ");
    let line = Line::from(vec![
        Span::styled(
            " Q ",
            Style::default()
                .fg(theme.accent)
                .add_modifier(Modifier::BOLD),
        ),
        Span::styled(question, Style::default().fg(theme.text)),
    ]);
    let mut lines = vec![line];
    let attachments = &state.run.report().attachments;
    if !attachments.is_empty() {
        let files: Vec<String> = attachments
            .iter()
            .map(|a| format!("{} ({})", sanitize(&a.name), human_size(a.bytes)))
            .collect();
        lines.push(Line::from(vec![
            Span::styled(" @ ", Style::default().fg(theme.accent)),
            Span::styled(files.join(" · "), Style::default().fg(theme.dim)),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

pub(super) fn draw_hints(frame: &mut Frame<'_>, area: Rect, state: &State, env: &Env<'_>) {
    let theme = env.theme;
    if let Some(search) = &state.view.search
        && (search.typing || state.view.notice.is_none())
    {
        let line = search_line(search, env, area.width as usize);
        frame.render_widget(
            Paragraph::new(super::ellipsized(line, area.width as usize)),
            area,
        );
        return;
    }
    let line = match &state.view.notice {
        Some(Notice::Error(e)) => Line::from(Span::styled(
            format!(" {e}"),
            Style::default()
                .fg(theme.error)
                .add_modifier(Modifier::BOLD),
        )),
        Some(Notice::Info(i)) => Line::from(Span::styled(
            format!(" {i}"),
            Style::default().fg(theme.accent),
        )),
        None => {
            let hints = env.keymap.hints(
                state.layer(),
                state.view.focus.pane_kind(),
                state.run.running(),
                usize::from(area.width.saturating_sub(1)),
            );
            Line::from(Span::styled(
                format!(" {hints}"),
                Style::default().fg(theme.dim),
            ))
        }
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// The open search: its words, what they found, and its keys.
fn search_line(search: &Search, env: &Env<'_>, width: usize) -> Line<'static> {
    let theme = env.theme;
    let dim = Style::default().fg(theme.dim);
    let mut spans = vec![
        Span::styled(
            " / ",
            Style::default()
                .fg(theme.accent)
                .add_modifier(Modifier::BOLD),
        ),
        Span::raw(sanitize(&search.query)),
    ];
    if search.typing {
        spans.push(Span::styled("▏", Style::default().fg(theme.focus)));
    }
    let total = search.total();
    let found = match (search.query.trim().is_empty(), total, search.at) {
        (true, _, _) => "words to find in every pane".to_string(),
        (false, 0, _) if search.counts.is_empty() => String::new(),
        (false, 0, _) => "not found on screen".to_string(),
        (false, n, Some((pane, k))) => {
            let before: usize = search
                .counts
                .iter()
                .take_while(|(p, _)| *p != pane)
                .map(|(_, n)| n)
                .sum();
            format!(
                "match {} of {n} in {} panes",
                before + k + 1,
                search.panes()
            )
        }
        (false, n, None) => format!("{n} found in {} panes", search.panes()),
    };
    if !found.is_empty() {
        spans.push(Span::styled(
            format!(" · {found}"),
            Style::default().fg(theme.accent),
        ));
    }
    let keys = if search.typing {
        env.keymap.hints(Layer::Search, None, false, width)
    } else {
        let step = env
            .keymap
            .keys_in(Layer::Panes, &Action::NextQuote)
            .join("/");
        let back = env
            .keymap
            .keys_in(Layer::Panes, &Action::PrevQuote)
            .join("/");
        let edit = env
            .keymap
            .keys_in(Layer::Panes, &Action::OpenSearch)
            .join("/");
        format!("{step}/{back} next/previous · {edit} edits · Esc closes")
    };
    spans.push(Span::styled(format!(" · {keys}"), dim));
    Line::from(spans)
}
