//! The search's matches in a pane's drawn text: found by the quotes' word
//! rule over the lines as drawn (so a match wrapped across two lines is
//! one match), counted back to the view, marked in the visible window,
//! and the match gone to scrolled into view.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::Drawn;
use super::body::Part;
use crate::engine::judge::occurrences;
use crate::tui::search::MAX_FOUND;
use crate::tui::state::{Focus, Scroll, State};
use crate::tui::theme::Theme;

/// Part of a match on one line: (line of the body, start, end), the bytes
/// of the line's text.
pub(super) type Piece = (usize, usize, usize);

/// A marked piece: the match gone to, or another.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Mark {
    pub(super) piece: Piece,
    pub(super) current: bool,
}

/// Columns a title leaves free for the count while the search is open.
pub(super) fn title_room(state: &State) -> u16 {
    if state.view.search.is_some() { 12 } else { 0 }
}

/// Every match of `query` in `lines`, each as the pieces of lines it
/// covers (at most [`MAX_FOUND`]).
pub(super) fn find<'a>(
    lines: impl Iterator<Item = &'a Line<'static>>,
    query: &str,
) -> Vec<Vec<Piece>> {
    let mut text = String::new();
    let mut starts = Vec::new();
    for line in lines {
        starts.push(text.len());
        for span in &line.spans {
            text.push_str(&span.content);
        }
        text.push('\n');
    }
    occurrences(query, &text, MAX_FOUND)
        .into_iter()
        .map(|(start, end)| {
            let first = starts.partition_point(|&s| s <= start) - 1;
            let mut pieces = Vec::new();
            for (line, &line_start) in starts.iter().enumerate().skip(first) {
                if line_start >= end {
                    break;
                }
                let line_end = starts.get(line + 1).map_or(text.len(), |n| n - 1);
                let (s, e) = (start.max(line_start), end.min(line_end));
                if s < e {
                    pieces.push((line, s - line_start, e - line_start));
                }
            }
            pieces
        })
        .collect()
}

/// The search in the pane `pane` drawn from `parts`: its count handed back,
/// its match gone to scrolled into view (once), and the marks to draw.
pub(super) fn in_pane(
    state: &State,
    pane: Focus,
    parts: &[Part<'_>],
    scroll: &mut Scroll,
    height: usize,
    drawn: &mut Drawn,
) -> (Vec<Mark>, Option<usize>) {
    let Some(search) = state
        .view
        .search
        .as_ref()
        .filter(|s| !s.query.trim().is_empty())
    else {
        return (Vec::new(), None);
    };
    let matches = find(parts.iter().flat_map(Part::lines), &search.query);
    drawn.placement.search_counts.push((pane, matches.len()));
    let current = search
        .at
        .filter(|(p, _)| *p == pane)
        .map(|(_, k)| k.min(matches.len().saturating_sub(1)));
    if search.moved
        && let Some(&(line, _, _)) = current.and_then(|k| matches.get(k)?.first())
    {
        if line < scroll.offset || line >= scroll.offset + height {
            scroll.offset = line.saturating_sub(height / 3);
        }
        scroll.follow = false;
        scroll.touched = true;
        drawn.placement.search_shown = true;
    }
    let marks = matches
        .iter()
        .enumerate()
        .flat_map(|(k, pieces)| {
            pieces.iter().map(move |&piece| Mark {
                piece,
                current: Some(k) == current,
            })
        })
        .collect();
    (marks, Some(matches.len()))
}

/// `N found` on the right of a pane's top border.
pub(super) fn draw_count(frame: &mut Frame<'_>, area: Rect, count: Option<usize>, theme: &Theme) {
    let Some(n) = count.filter(|n| *n > 0) else {
        return;
    };
    let text = if n >= MAX_FOUND {
        format!(" {MAX_FOUND}+ found ")
    } else {
        format!(" {n} found ")
    };
    let width = text.chars().count() as u16;
    if area.width < width + 4 {
        return;
    }
    let x = area.x + area.width - 2 - width;
    frame.buffer_mut().set_string(
        x,
        area.y,
        text,
        Style::default()
            .fg(theme.accent)
            .add_modifier(Modifier::BOLD),
    );
}

/// `line` with the bytes `start..end` of its text in `style` (patched).
pub(super) fn mark(line: Line<'static>, start: usize, end: usize, style: Style) -> Line<'static> {
    let mut spans = Vec::with_capacity(line.spans.len() + 2);
    let mut at = 0;
    for span in line.spans {
        let len = span.content.len();
        let (s, e) = (start.clamp(at, at + len) - at, end.clamp(at, at + len) - at);
        let content = span.content.as_ref();
        if s == e || !content.is_char_boundary(s) || !content.is_char_boundary(e) {
            spans.push(span);
        } else {
            for (piece, marked) in [
                (&content[..s], false),
                (&content[s..e], true),
                (&content[e..], false),
            ] {
                if !piece.is_empty() {
                    let style = if marked {
                        span.style.patch(style)
                    } else {
                        span.style
                    };
                    spans.push(Span::styled(piece.to_string(), style));
                }
            }
        }
        at += len;
    }
    Line { spans, ..line }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_match_wrapped_across_lines_is_one_match_in_two_pieces() {
        let lines = [
            Line::from(vec![Span::raw("• the "), Span::raw("planet Mars")]),
            Line::from("is red. MARS again"),
        ];
        let found = find(lines.iter(), "mars is red");
        assert_eq!(found, vec![vec![(0, 15, 19), (1, 0, 6)]]);
        assert_eq!(find(lines.iter(), "mars").len(), 2);
        assert!(find(lines.iter(), "venus").is_empty());
    }

    #[test]
    fn marking_splits_spans_at_the_match() {
        let line = Line::from(vec![Span::raw("ab"), Span::raw("cdef")]);
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let marked = mark(line, 1, 4, bold);
        let parts: Vec<(&str, bool)> = marked
            .spans
            .iter()
            .map(|s| (s.content.as_ref(), s.style == bold))
            .collect();
        assert_eq!(
            parts,
            [("a", false), ("b", true), ("cd", true), ("ef", false)]
        );
    }
}
