//! Markdown printed to a terminal instead of drawn on a screen: `council
//! ask` renders the synthesis as the TUI does (headings, emphasis, lists,
//! code blocks) and writes it as ANSI-styled lines.
//!
//! A streamed text is printed block by block: a block is written once the
//! next one has begun, when nothing that follows can change how it looks.

use ratatui::backend::IntoCrossterm;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;

use crate::tui::markdown::{BlockStarts, MarkdownStyle, render};

/// Columns a printed paragraph is wrapped to at most: longer lines are
/// hard to read, whatever the terminal's width.
pub const MAX_WIDTH: usize = 100;

/// A growing markdown text, printed as ANSI lines block by block.
#[derive(Debug)]
pub struct MarkdownPrinter {
    width: usize,
    style: MarkdownStyle,
    /// The text so far (already made safe for a terminal).
    text: String,
    /// Where the block not printed yet begins.
    printed: usize,
    /// Where the line not read yet begins.
    read: usize,
    blocks: BlockStarts,
}

impl MarkdownPrinter {
    /// A printer wrapping at `width` columns (at most [`MAX_WIDTH`]).
    pub fn new(width: usize) -> Self {
        Self {
            width: width.clamp(20, MAX_WIDTH),
            style: terminal_style(),
            text: String::new(),
            printed: 0,
            read: 0,
            blocks: BlockStarts::default(),
        }
    }

    /// Takes the next piece of the text (made safe for a terminal); returns
    /// the blocks it completed, as ANSI text (empty while none is).
    pub fn push(&mut self, safe_text: &str) -> String {
        self.text.push_str(safe_text);
        let mut boundary = None;
        // Only whole lines are read: whether a block starts at a line
        // depends on how the line begins and, for a fence, on what it is.
        while let Some(end) = self.text[self.read..].find('\n') {
            let line_end = self.read + end + 1;
            if self.blocks.line(&self.text[self.read..line_end]) && self.read > self.printed {
                boundary = Some(self.read);
            }
            self.read = line_end;
        }
        match boundary {
            Some(end) => self.print_until(end),
            None => String::new(),
        }
    }

    /// What is left to print once the text is complete.
    pub fn finish(&mut self) -> String {
        self.print_until(self.text.len())
    }

    fn print_until(&mut self, end: usize) -> String {
        let block = &self.text[self.printed..end];
        let mut out = String::new();
        if block.trim().is_empty() {
            return out;
        }
        if self.printed > 0 {
            // Blocks are rendered apart; the gap between them is ours.
            out.push('\n');
        }
        for line in render(block, self.width, &self.style) {
            write_line(&mut out, &line);
        }
        self.printed = end;
        out
    }
}

/// One styled line and its newline, as ANSI text.
fn write_line(out: &mut String, line: &Line<'_>) {
    use std::fmt::Write;
    for span in &line.spans {
        let style = line.style.patch(span.style);
        if style == Style::default() {
            out.push_str(&span.content);
        } else {
            let _ = write!(out, "{}", style.into_crossterm().apply(&*span.content));
        }
    }
    out.push('\n');
}

/// The terminal's own palette (its sixteen colours), so the text reads on
/// a light background as on a dark one.
fn terminal_style() -> MarkdownStyle {
    MarkdownStyle {
        text: Style::default(),
        heading: Style::default()
            .fg(Color::Cyan)
            .add_modifier(Modifier::BOLD),
        code: Style::default().fg(Color::Yellow),
        code_block: Style::default().fg(Color::Yellow),
        quote: Style::default().fg(Color::DarkGray),
        bullet: Style::default().fg(Color::Cyan),
        link: Style::default().add_modifier(Modifier::UNDERLINED),
        rule: Style::default().fg(Color::DarkGray),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text without its escape sequences.
    fn plain(ansi: &str) -> String {
        crate::sanitize::sanitize(ansi)
    }

    const MD: &str =
        "# Plan\n\nFirst *paragraph*.\n\n```\ncode\n\nmore\n```\n\n- one\n- two\n\nLast words.\n";

    #[test]
    fn streamed_or_whole_prints_the_same() {
        let mut whole = MarkdownPrinter::new(40);
        let whole = whole.push(MD) + &whole.finish();
        for step in [1, 3, 7] {
            let mut printer = MarkdownPrinter::new(40);
            let mut out = String::new();
            let bytes: Vec<char> = MD.chars().collect();
            for chunk in bytes.chunks(step) {
                out += &printer.push(&chunk.iter().collect::<String>());
            }
            out += &printer.finish();
            assert_eq!(out, whole, "in pieces of {step}");
        }
        assert_eq!(
            plain(&whole),
            "# Plan\n\nFirst paragraph.\n\ncode\n\nmore\n\n• one\n• two\n\nLast words.\n"
        );
        // Styled: the heading bold, the emphasis italic.
        assert!(whole.contains("\u{1b}[1m"), "{whole:?}");
        assert!(whole.contains("\u{1b}[3m"), "{whole:?}");
    }

    #[test]
    fn a_block_is_printed_once_the_next_begins() {
        let mut printer = MarkdownPrinter::new(40);
        assert_eq!(printer.push("First para"), "");
        assert_eq!(printer.push("graph.\n\n"), "");
        // The code fence keeps its blank line inside one block.
        let out = printer.push("```\nx\n\n");
        assert_eq!(plain(&out), "First paragraph.\n");
        assert_eq!(printer.push("y\n```\n"), "");
        assert_eq!(plain(&printer.finish()), "\nx\n\ny\n");
    }
}
