//! The synthesis pane: the final answer, streaming, as markdown.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::body::{self, Part};
use super::found;
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
    cache.text.update(text, width, &theme.markdown());
    let parts = [Part::Lines(head), Part::Cached(&cache.text)];
    let mut scroll = pane.scroll;
    let height = inner.height as usize;
    let (marks, count) =
        found::in_pane(state, Focus::Synthesis, &parts, &mut scroll, height, drawn);
    let fitted = body::draw(frame, inner, &parts, &scroll, None, &marks);
    found::draw_count(frame, area, count, theme);
    drawn.placement.scrolls.push((Pane::Synthesis, fitted));
}
