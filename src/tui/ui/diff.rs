//! A member's revision drawn as a word diff against its previous round:
//! removed words struck through, added ones marked, wrapped to the pane.

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

use crate::engine::revision::Change;
use crate::sanitize::sanitize;
use crate::tui::theme::Theme;

pub(super) fn lines(changes: &[Change], width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let width = width.max(1);
    let mut out: Vec<Line<'static>> = Vec::new();
    let mut line: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    let mut after_removed = false;
    for change in changes {
        let (text, style) = match change {
            Change::Kept(t) => (t, Style::default().fg(theme.text)),
            Change::Added(t) => (
                t,
                Style::default()
                    .fg(theme.ok)
                    .add_modifier(Modifier::UNDERLINED),
            ),
            Change::Removed(t) => (
                t,
                Style::default()
                    .fg(theme.error)
                    .add_modifier(Modifier::CROSSED_OUT),
            ),
        };
        // Model output: escapes never reach the terminal.
        let mut text = sanitize(text);
        // A replacement reads as two words, not one run together.
        if after_removed
            && matches!(change, Change::Added(_))
            && !text.starts_with(char::is_whitespace)
        {
            text.insert(0, ' ');
        }
        after_removed = matches!(change, Change::Removed(_));
        for (n, piece) in text.split('\n').enumerate() {
            if n > 0 {
                out.push(Line::from(std::mem::take(&mut line)));
                used = 0;
            }
            for word in piece.split_inclusive(' ') {
                let w = word.width();
                if used + w > width && used > 0 {
                    out.push(Line::from(std::mem::take(&mut line)));
                    used = 0;
                }
                let word = if used == 0 { word.trim_start() } else { word };
                if word.is_empty() {
                    continue;
                }
                used += word.width();
                line.push(Span::styled(word.to_string(), style));
            }
        }
    }
    if !line.is_empty() {
        out.push(Line::from(line));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_lines_wrap_and_style_changes() {
        let theme = Theme::default();
        let changes = crate::engine::revision::changes("one two three", "one four three\nfive");
        let lines = lines(&changes, 10, &theme);
        let text: Vec<String> = lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        assert_eq!(text, ["one two ", "four three", "five"]);
        let struck = lines[0]
            .spans
            .iter()
            .find(|s| s.content.contains("two"))
            .unwrap();
        assert!(struck.style.add_modifier.contains(Modifier::CROSSED_OUT));
    }
}
