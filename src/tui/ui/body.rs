//! A pane's body: lines from several parts (fixed lines, cached markdown),
//! of which only the visible window is cloned and drawn.

use ratatui::Frame;
use ratatui::layout::{Margin, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Scrollbar, ScrollbarOrientation, ScrollbarState};

use super::found::{self, Mark};
use crate::tui::markdown::MarkdownCache;
use crate::tui::state::Scroll;

pub(super) enum Part<'a> {
    Lines(Vec<Line<'static>>),
    Cached(&'a MarkdownCache),
}

impl Part<'_> {
    pub(super) fn len(&self) -> usize {
        match self {
            Part::Lines(l) => l.len(),
            Part::Cached(c) => c.len(),
        }
    }

    /// Every line of the part, borrowed.
    pub(super) fn lines(&self) -> Box<dyn Iterator<Item = &Line<'static>> + '_> {
        match self {
            Part::Lines(l) => Box::new(l.iter()),
            Part::Cached(c) => Box::new(c.lines()),
        }
    }
}

/// Draws `parts` into `area` (a block's inner area), scrolled by `scroll`;
/// the block's right border carries a scrollbar when the text overflows.
/// Lines `highlight.0..=highlight.1` (of the whole body) are marked, and
/// so are the search's matches (`marks`, the one gone to reversed).
/// Returns the scroll fitted to the body and the area.
pub(super) fn draw(
    frame: &mut Frame<'_>,
    area: Rect,
    parts: &[Part<'_>],
    scroll: &Scroll,
    highlight: Option<(usize, usize)>,
    marks: &[Mark],
) -> Scroll {
    let total: usize = parts.iter().map(Part::len).sum();
    let height = area.height as usize;
    let fitted = scroll.fitted(total, height);
    let start = fitted.offset;
    let mut lines = Vec::with_capacity(height);
    let mut skip = start;
    for part in parts {
        if lines.len() >= height {
            break;
        }
        let len = part.len();
        if skip >= len {
            skip -= len;
            continue;
        }
        let want = (height - lines.len()).min(len - skip);
        match part {
            Part::Lines(l) => lines.extend(l[skip..skip + want].iter().cloned()),
            Part::Cached(c) => lines.extend(c.slice(skip, want)),
        }
        skip = 0;
    }
    if let Some((first, last)) = highlight {
        let marked = Style::default().add_modifier(Modifier::REVERSED);
        for (i, line) in lines.iter_mut().enumerate() {
            if (first..=last).contains(&(start + i)) {
                *line = std::mem::take(line).patch_style(marked);
            }
        }
    }
    for m in marks {
        let (line, s, e) = m.piece;
        let Some(at) = line.checked_sub(start).filter(|at| *at < lines.len()) else {
            continue;
        };
        let style = match m.current {
            true => Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD),
            false => Style::default().add_modifier(Modifier::UNDERLINED | Modifier::BOLD),
        };
        lines[at] = found::mark(std::mem::take(&mut lines[at]), s, e, style);
    }
    frame.render_widget(Paragraph::new(lines), area);
    if total > height && area.height >= 3 {
        let mut bar = ScrollbarState::new(total.saturating_sub(height))
            .viewport_content_length(height)
            .position(start);
        let track = Rect {
            x: area.x + area.width,
            width: 1,
            ..area
        }
        .inner(Margin {
            horizontal: 0,
            vertical: 0,
        });
        if track.x < frame.area().width {
            frame.render_stateful_widget(
                Scrollbar::new(ScrollbarOrientation::VerticalRight)
                    .begin_symbol(None)
                    .end_symbol(None)
                    .track_symbol(Some("│"))
                    .thumb_symbol("┃"),
                track,
                &mut bar,
            );
        }
    }
    fitted
}
