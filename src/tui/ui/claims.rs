//! The synthesis as traced claims: each claim ends with the badges of the
//! members it rests on (cited and supported: solid; cited, not supported:
//! `name?`; found but not cited: dim), a sentence nobody wrote is marked
//! `unsourced`, and where each claim's text was drawn, for selecting it.
//!
//! The badges are written into the markdown before it is rendered (so they
//! wrap with the text), between markers no model writes, and styled after.

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::found::Piece;
use crate::engine::provenance::Claim;
use crate::sanitize::sanitize;
use crate::tui::markdown::render;
use crate::tui::theme::Theme;

/// Where a claim's text begins (no width: it does not move the wrapping).
const CLAIM: char = '\u{2060}';
/// Around a claim's badges (dropped when drawn).
const OPEN: char = '\u{E001}';
const CLOSE: char = '\u{E002}';

/// The synthesis drawn with its claims' badges.
#[derive(Debug, Clone, Default)]
pub(super) struct ClaimLines {
    pub(super) lines: Vec<Line<'static>>,
    /// Per claim, in order: the pieces of lines its text was drawn on.
    pub(super) pieces: Vec<Vec<Piece>>,
}

/// One badge's text and style.
fn badges(claim: &Claim, members: &[String], theme: &Theme) -> Vec<(String, Style)> {
    let index = |name: &str| members.iter().position(|m| m == name);
    if claim.unsourced {
        return vec![(
            "unsourced".into(),
            Style::default()
                .fg(theme.warn)
                .add_modifier(Modifier::ITALIC),
        )];
    }
    let mut out = Vec::new();
    for name in &claim.members {
        let supported = claim.found_in.contains(name);
        let style = match (index(name), supported) {
            (Some(i), true) => theme.badge(i),
            _ => Style::default().fg(theme.warn).add_modifier(Modifier::BOLD),
        };
        let mark = if supported { "" } else { "?" };
        out.push((format!("{}{mark}", sanitize(name)), style));
    }
    for name in claim.found_in.iter().filter(|n| !claim.members.contains(n)) {
        let style = match index(name) {
            Some(i) => Style::default()
                .fg(theme.member(i))
                .add_modifier(Modifier::DIM),
            None => Style::default().fg(theme.dim),
        };
        out.push((sanitize(name), style));
    }
    out
}

/// `text` (the synthesis as the claims' spans count it) rendered at
/// `width` with each claim's badges after it.
pub(super) fn lines(
    text: &str,
    claims: &[Claim],
    members: &[String],
    width: usize,
    theme: &Theme,
) -> ClaimLines {
    // The markdown with the markers and the badges' text written in.
    let mut source = String::with_capacity(text.len() + claims.len() * 24);
    let mut styles: Vec<Vec<(String, Style)>> = Vec::new();
    let mut at = 0;
    for claim in claims {
        let (start, end) = claim.span;
        let valid = at <= start
            && start < end
            && end <= text.len()
            && text.is_char_boundary(start)
            && text.is_char_boundary(end);
        if !valid {
            continue;
        }
        let marked = badges(claim, members, theme);
        source.push_str(&text[at..start]);
        source.push(CLAIM);
        source.push_str(&text[start..end]);
        source.push(' ');
        source.push(OPEN);
        let names: Vec<&str> = marked.iter().map(|(n, _)| n.as_str()).collect();
        source.push_str(&names.join(" "));
        source.push(CLOSE);
        styles.push(marked);
        at = end;
    }
    source.push_str(&text[at..]);
    let rendered = render(&sanitize(&source), width, &theme.markdown());
    restyle(rendered, &styles)
}

/// Drops the markers, styles each badge, and notes where claims were drawn.
fn restyle(rendered: Vec<Line<'static>>, styles: &[Vec<(String, Style)>]) -> ClaimLines {
    let mut out = ClaimLines {
        lines: Vec::with_capacity(rendered.len()),
        pieces: vec![Vec::new(); styles.len()],
    };
    // The claim being drawn, where its text began on this line, and the
    // badge being drawn: (claim, badge, characters of it drawn).
    let mut claim: Option<(usize, usize)> = None;
    let mut next_claim = 0;
    let mut badge: Option<(usize, usize, usize)> = None;
    for (row, line) in rendered.into_iter().enumerate() {
        let mut spans: Vec<Span<'static>> = Vec::new();
        let mut len = 0;
        if let Some((k, _)) = claim {
            claim = Some((k, 0));
        }
        let push = |spans: &mut Vec<Span<'static>>, len: &mut usize, c: char, style: Style| {
            match spans.last_mut() {
                Some(last) if last.style == style => last.content.to_mut().push(c),
                _ => spans.push(Span::styled(c.to_string(), style)),
            }
            *len += c.len_utf8();
        };
        for span in &line.spans {
            for c in span.content.chars() {
                match (c, badge) {
                    (CLAIM, _) if next_claim < styles.len() => {
                        claim = Some((next_claim, len));
                        next_claim += 1;
                    }
                    (OPEN, _) => {
                        if let Some((k, from)) = claim.take() {
                            // The space written before the badges is not the claim's.
                            let end = len.saturating_sub(1).max(from);
                            if end > from {
                                out.pieces[k].push((row, from, end));
                            }
                            badge = Some((k, 0, 0));
                        }
                    }
                    (CLOSE, _) => badge = None,
                    (' ', Some(_)) => push(&mut spans, &mut len, ' ', Style::default()),
                    (c, Some((k, b, drawn))) => {
                        let Some((name, style)) = styles[k].get(b) else {
                            push(&mut spans, &mut len, c, span.style);
                            continue;
                        };
                        push(&mut spans, &mut len, c, *style);
                        // The next badge once this one's characters are drawn.
                        badge = Some(if drawn + 1 >= name.chars().count() {
                            (k, b + 1, 0)
                        } else {
                            (k, b, drawn + 1)
                        });
                    }
                    (c, None) => push(&mut spans, &mut len, c, span.style),
                }
            }
        }
        if let Some((k, from)) = claim
            && len > from
        {
            out.pieces[k].push((row, from, len));
        }
        out.lines.push(Line { spans, ..line });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::provenance::{Support, Supported};

    fn claim(text: &str, all: &str, members: &[&str], found: &[&str]) -> Claim {
        let start = all.find(text).unwrap();
        Claim {
            text: text.into(),
            span: (start, start + text.len()),
            members: members.iter().map(|m| m.to_string()).collect(),
            found_in: found.iter().map(|m| m.to_string()).collect(),
            support: found
                .iter()
                .map(|m| Support {
                    member: m.to_string(),
                    span: (0, 1),
                    score: 1.0,
                })
                .collect(),
            supported: Supported::All,
            unsourced: members.is_empty() && found.is_empty(),
        }
    }

    fn text_of(line: &Line<'_>) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn badges_follow_their_claims_and_wrap_with_the_text() {
        let text = "Water boils at 100 C at sea level. It is wet.\n\n- Ice floats on water";
        let claims = [
            claim(
                "Water boils at 100 C at sea level.",
                text,
                &["alpha"],
                &["alpha", "beta"],
            ),
            claim("It is wet.", text, &["gamma"], &[]),
            claim("Ice floats on water", text, &[], &[]),
        ];
        let members = ["alpha".to_string(), "beta".to_string(), "gamma".to_string()];
        let theme = Theme::default();
        let drawn = lines(text, &claims, &members, 30, &theme);
        let shown: Vec<String> = drawn.lines.iter().map(text_of).collect();
        assert_eq!(
            shown,
            [
                "Water boils at 100 C at sea",
                "level. alpha beta It is wet.",
                "gamma?",
                "",
                "• Ice floats on water",
                "  unsourced",
            ]
        );
        // Cited and found: solid; found only: dim; cited, not found: `?`.
        let style_of = |row: usize, word: &str| {
            drawn.lines[row]
                .spans
                .iter()
                .find(|s| s.content.contains(word))
                .map(|s| s.style)
                .unwrap()
        };
        assert_eq!(style_of(1, "alpha"), theme.badge(0));
        assert!(style_of(1, "beta").add_modifier.contains(Modifier::DIM));
        assert_eq!(style_of(2, "gamma?").fg, Some(theme.warn));
        // Where each claim's own text was drawn.
        assert_eq!(drawn.pieces[0], [(0, 0, 27), (1, 0, 6)]);
        assert_eq!(drawn.pieces[1], [(1, 18, 28)]);
        assert_eq!(
            &shown[4][drawn.pieces[2][0].1..drawn.pieces[2][0].2],
            "Ice floats on water"
        );
    }

    #[test]
    fn markers_in_the_text_and_bad_spans_change_nothing() {
        let text = "Plain words.";
        let bad = Claim {
            span: (5, 400),
            ..claim("Plain words.", text, &["a"], &["a"])
        };
        let drawn = lines(text, &[bad], &["a".to_string()], 40, &Theme::default());
        assert_eq!(
            drawn.lines.iter().map(text_of).collect::<Vec<_>>(),
            ["Plain words."]
        );
        assert!(drawn.pieces.is_empty());
    }
}
