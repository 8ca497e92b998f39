//! The synthesis pane: the final answer, streaming, as markdown.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::body::{self, Part};
use super::claims;
use super::found::{self, Mark};
use super::{Drawn, Env, RenderCaches, model_span, pane_block, stage_status_span};
use crate::engine::Status;
use crate::sanitize::sanitize;
use crate::tui::markdown::wrap_plain;
use crate::tui::state::{Focus, Pane, State};

pub(super) fn draw(
    frame: &mut Frame<'_>,
    area: Rect,
    state: &State,
    caches: &mut RenderCaches,
    env: &Env<'_>,
    drawn: &mut Drawn,
) {
    drawn.areas.synthesis = area;
    let theme = env.theme;
    let synth = &state.run.report().synthesis;
    let mut title = vec![
        Span::styled(
            " Synthesis ",
            Style::default()
                .fg(theme.title)
                .add_modifier(Modifier::BOLD),
        ),
        stage_status_span(synth.status, state, env),
        model_span(&synth.model, &synth.fallback_from, " · ", theme),
    ];
    if synth.status != Status::Queued && !synth.with_analysis {
        title.push(Span::styled(
            "· from raw answers ",
            Style::default().fg(theme.warn),
        ));
    }
    if let Some(cost) = synth.usage.cost {
        title.push(Span::raw(format!("· ${cost:.4} ")));
    }
    if let Some(provenance) = &synth.provenance {
        let (sourced, claims) = provenance.sourced();
        title.push(Span::raw(format!("· claims {sourced}/{claims} sourced ")));
    }
    let title_area = Rect {
        width: area.width.saturating_sub(found::title_room(state)),
        ..area
    };
    let block = pane_block(
        Line::from(title),
        title_area,
        state.view.focus == Focus::Synthesis,
        theme.border,
        theme,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    let width = inner.width as usize;
    let dim = Style::default().fg(theme.dim);
    let mut head = Vec::new();
    match synth.status {
        Status::Queued => head.push(Line::from(Span::styled(
            "the final answer streams here after the judge",
            dim,
        ))),
        Status::Skipped => {
            let why = sanitize(&state.run.report().why_skipped());
            head.extend(wrap_plain(&format!("not run: {why}"), width, dim));
        }
        Status::Failed | Status::Cancelled => head.extend(wrap_plain(
            &format!("✗ {}", sanitize(synth.error.as_deref().unwrap_or("failed"))),
            width,
            Style::default().fg(theme.error),
        )),
        _ => {}
    }
    let text = &state.run.synthesis().text;
    let pane = &state.view.synthesis;
    let cache = caches.synthesis(pane.id);
    let mut scroll = pane.scroll;
    let height = inner.height as usize;
    let head_len = head.len();
    // Once traced, the answer with each claim's badges; the selected claim
    // (while the pane has the keyboard, or its passages are shown) marked.
    let claims = state.claims().filter(|c| !c.is_empty());
    let mut claim_marks = Vec::new();
    let parts = match claims {
        Some(list) => {
            let key = (width, synth.text.len(), list.len());
            if cache.claims.as_ref().is_none_or(|(k, _)| *k != key) {
                let members: Vec<String> = state
                    .run
                    .report()
                    .members
                    .iter()
                    .map(|m| m.name.clone())
                    .collect();
                let drawn_claims = claims::lines(&synth.text, list, &members, width, theme);
                cache.claims = Some((key, drawn_claims));
            }
            let drawn_claims = &cache.claims.as_ref().expect("set above").1;
            let selected = state.view.focus == Focus::Synthesis
                || state.view.jump.as_ref().is_some_and(|j| j.claim.is_some());
            if selected && let Some(pieces) = drawn_claims.pieces.get(state.view.claim) {
                claim_marks = pieces
                    .iter()
                    .map(|&(line, s, e)| Mark {
                        piece: (line + head_len, s, e),
                        current: true,
                    })
                    .collect();
                if state.view.claim_moved
                    && let Some(&(line, _, _)) = pieces.first()
                {
                    let line = line + head_len;
                    if line < scroll.offset || line >= scroll.offset + height {
                        scroll.offset = line.saturating_sub(1);
                    }
                    scroll.follow = false;
                    scroll.touched = true;
                    drawn.placement.claim_shown = true;
                }
            }
            [Part::Lines(head), Part::Lines(drawn_claims.lines.clone())]
        }
        None => {
            cache.text.update(text, width, &theme.markdown());
            [Part::Lines(head), Part::Cached(&cache.text)]
        }
    };
    let (mut marks, count) =
        found::in_pane(state, Focus::Synthesis, &parts, &mut scroll, height, drawn);
    marks.extend(claim_marks);
    let fitted = body::draw(frame, inner, &parts, &scroll, None, &marks);
    found::draw_count(frame, area, count, theme);
    drawn.placement.scrolls.push((Pane::Synthesis, fitted));
}
