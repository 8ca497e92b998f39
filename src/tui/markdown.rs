//! Markdown to wrapped, styled lines, with a cache that re-renders only the
//! growing tail of a streaming text.
//!
//! A stream of 50k tokens must not be parsed and wrapped again on every
//! frame. The cache keeps the lines of a stable prefix (everything up to the
//! last blank line that starts a new top-level block outside a code fence)
//! and re-renders only what follows it.

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Styles for markdown elements.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MarkdownStyle {
    pub(crate) text: Style,
    pub(crate) heading: Style,
    pub(crate) code: Style,
    pub(crate) code_block: Style,
    pub(crate) quote: Style,
    pub(crate) bullet: Style,
    pub(crate) link: Style,
    pub(crate) rule: Style,
}

/// Renders `src` (already sanitized) into lines at most `width` columns wide.
pub(crate) fn render(src: &str, width: usize, style: &MarkdownStyle) -> Vec<Line<'static>> {
    let mut w = Writer::new(width.max(4), style);
    let parser = Parser::new_ext(
        src,
        Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS,
    );
    for event in parser {
        w.event(event);
    }
    w.flush();
    w.lines
}

/// Wraps plain text (no markdown) into lines of at most `width` columns.
pub(crate) fn wrap_plain(src: &str, width: usize, style: Style) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for line in src.split('\n') {
        lines.extend(wrap(&[], &[], &[(line.to_string(), style)], width.max(4)));
    }
    lines
}

/// Wraps plain text with a prefix on the first line and another on the rest
/// (a bullet and its hanging indent).
pub(crate) fn wrap_prefixed(
    first: Span<'static>,
    rest: Span<'static>,
    text: &str,
    style: Style,
    width: usize,
) -> Vec<Line<'static>> {
    wrap(
        &[first],
        &[rest],
        &[(text.to_string(), style)],
        width.max(4),
    )
}

struct Writer<'s> {
    width: usize,
    style: &'s MarkdownStyle,
    lines: Vec<Line<'static>>,
    spans: Vec<(String, Style)>,
    /// Prefix of the first line of the current block, and of the lines after it.
    first_prefix: Vec<Span<'static>>,
    rest_prefix: Vec<Span<'static>>,
    modifiers: Vec<Modifier>,
    heading: bool,
    link: bool,
    lists: Vec<Option<u64>>,
    quote_depth: usize,
    code_block: Option<String>,
    need_gap: bool,
}

impl<'s> Writer<'s> {
    fn new(width: usize, style: &'s MarkdownStyle) -> Self {
        Self {
            width,
            style,
            lines: Vec::new(),
            spans: Vec::new(),
            first_prefix: Vec::new(),
            rest_prefix: Vec::new(),
            modifiers: Vec::new(),
            heading: false,
            link: false,
            lists: Vec::new(),
            quote_depth: 0,
            code_block: None,
            need_gap: false,
        }
    }

    fn current_style(&self) -> Style {
        let mut s = if self.heading {
            self.style.heading
        } else {
            self.style.text
        };
        if self.link {
            s = s.patch(self.style.link);
        }
        for m in &self.modifiers {
            s = s.add_modifier(*m);
        }
        s
    }

    /// Indentation for lines inside lists and quotes.
    fn base_prefix(&self) -> Vec<Span<'static>> {
        let mut p = Vec::new();
        if self.quote_depth > 0 {
            p.push(Span::styled(
                "│ ".repeat(self.quote_depth),
                self.style.quote,
            ));
        }
        if !self.lists.is_empty() {
            p.push(Span::raw("  ".repeat(self.lists.len())));
        }
        p
    }

    fn gap(&mut self) {
        if self.need_gap && !self.lines.is_empty() {
            let prefix = if self.quote_depth > 0 {
                self.base_prefix()
            } else {
                Vec::new()
            };
            self.lines.push(Line::from(prefix));
        }
        self.need_gap = false;
    }

    /// Wraps and emits the spans collected so far.
    fn flush(&mut self) {
        if self.spans.is_empty() {
            return;
        }
        self.gap();
        let first = if self.first_prefix.is_empty() {
            self.base_prefix()
        } else {
            std::mem::take(&mut self.first_prefix)
        };
        let rest = if self.rest_prefix.is_empty() {
            self.base_prefix()
        } else {
            self.rest_prefix.clone()
        };
        let spans = std::mem::take(&mut self.spans);
        self.lines.extend(wrap(&first, &rest, &spans, self.width));
    }

    fn end_block(&mut self) {
        self.flush();
        self.need_gap = true;
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => match &mut self.code_block {
                Some(code) => code.push_str(&text),
                None => {
                    let style = self.current_style();
                    self.spans.push((text.into_string(), style));
                }
            },
            Event::Code(code) => self.spans.push((code.into_string(), self.style.code)),
            Event::SoftBreak => self.spans.push((" ".into(), self.style.text)),
            Event::HardBreak => self.spans.push(("\n".into(), self.style.text)),
            Event::Rule => {
                self.flush();
                self.gap();
                let width = self.width.saturating_sub(self.quote_depth * 2);
                self.lines
                    .push(Line::from(Span::styled("─".repeat(width), self.style.rule)));
                self.need_gap = true;
            }
            Event::TaskListMarker(done) => {
                self.spans
                    .push((if done { "[x] " } else { "[ ] " }.into(), self.style.bullet));
            }
            Event::Html(html) | Event::InlineHtml(html) => {
                self.spans.push((html.into_string(), self.style.text))
            }
            Event::FootnoteReference(r) => self.spans.push((format!("[{r}]"), self.style.link)),
            Event::InlineMath(m) | Event::DisplayMath(m) => {
                self.spans.push((m.into_string(), self.style.code))
            }
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph => {}
            Tag::Heading { level, .. } => {
                self.flush();
                self.heading = true;
                let marks = match level {
                    HeadingLevel::H1 => "# ",
                    HeadingLevel::H2 => "## ",
                    _ => "### ",
                };
                self.spans
                    .push((marks.into(), self.style.heading.add_modifier(Modifier::DIM)));
            }
            Tag::BlockQuote(_) => {
                self.flush();
                self.gap();
                self.quote_depth += 1;
            }
            Tag::CodeBlock(kind) => {
                self.flush();
                self.code_block = Some(String::new());
                if let CodeBlockKind::Fenced(lang) = kind
                    && !lang.is_empty()
                {
                    self.gap();
                    let mut line = self.base_prefix();
                    line.push(Span::styled(
                        format!(" {lang} "),
                        self.style.code_block.add_modifier(Modifier::DIM),
                    ));
                    self.lines.push(Line::from(line));
                }
            }
            Tag::List(start) => {
                self.flush();
                self.lists.push(start);
            }
            Tag::Item => {
                self.flush();
                let depth = self.lists.len().saturating_sub(1);
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        let m = format!("{n}. ");
                        *n += 1;
                        m
                    }
                    _ => "• ".to_string(),
                };
                let mut first = Vec::new();
                let mut rest = Vec::new();
                if self.quote_depth > 0 {
                    first.push(Span::styled(
                        "│ ".repeat(self.quote_depth),
                        self.style.quote,
                    ));
                    rest.push(Span::styled(
                        "│ ".repeat(self.quote_depth),
                        self.style.quote,
                    ));
                }
                first.push(Span::raw("  ".repeat(depth)));
                rest.push(Span::raw("  ".repeat(depth) + &" ".repeat(marker.width())));
                first.push(Span::styled(marker, self.style.bullet));
                self.first_prefix = first;
                self.rest_prefix = rest;
            }
            Tag::Emphasis => self.modifiers.push(Modifier::ITALIC),
            Tag::Strong => self.modifiers.push(Modifier::BOLD),
            Tag::Strikethrough => self.modifiers.push(Modifier::CROSSED_OUT),
            Tag::Link { .. } => self.link = true,
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => {
                if self.lists.is_empty() {
                    self.end_block();
                } else {
                    self.flush();
                }
            }
            TagEnd::Heading(_) => {
                self.end_block();
                self.heading = false;
            }
            TagEnd::BlockQuote(_) => {
                self.flush();
                self.quote_depth = self.quote_depth.saturating_sub(1);
                self.need_gap = true;
            }
            TagEnd::CodeBlock => {
                let code = self.code_block.take().unwrap_or_default();
                self.gap();
                let prefix = self.base_prefix();
                let width = self
                    .width
                    .saturating_sub(prefix.iter().map(|s| s.width()).sum());
                for line in code.trim_end_matches('\n').split('\n') {
                    for piece in hard_split(&line.replace('\t', "    "), width.max(1)) {
                        let mut spans = prefix.clone();
                        spans.push(Span::styled(piece, self.style.code_block));
                        self.lines.push(Line::from(spans));
                    }
                }
                self.need_gap = true;
            }
            TagEnd::List(_) => {
                self.flush();
                self.lists.pop();
                if self.lists.is_empty() {
                    self.need_gap = true;
                }
            }
            TagEnd::Item => {
                self.flush();
                self.first_prefix.clear();
                self.rest_prefix.clear();
            }
            TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough => {
                self.modifiers.pop();
            }
            TagEnd::Link => self.link = false,
            _ => {}
        }
    }
}

/// Splits `s` into pieces at most `width` columns wide.
fn hard_split(s: &str, width: usize) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width && used > 0 {
            out.push(String::new());
            used = 0;
        }
        out.last_mut().expect("non-empty").push(c);
        used += w;
    }
    out
}

/// Greedy word wrap of styled spans; `\n` in a span forces a break.
fn wrap(
    first_prefix: &[Span<'static>],
    rest_prefix: &[Span<'static>],
    spans: &[(String, Style)],
    width: usize,
) -> Vec<Line<'static>> {
    let prefix_width = |p: &[Span<'static>]| p.iter().map(|s| s.width()).sum::<usize>();
    let mut lines = Vec::new();
    let mut current: Vec<Span<'static>> = first_prefix.to_vec();
    let mut avail = width.saturating_sub(prefix_width(first_prefix)).max(1);
    let mut used = 0usize;
    let mut pending: Option<(&str, Style)> = None;

    let push_piece =
        |current: &mut Vec<Span<'static>>, text: &str, style: Style| match current.last_mut() {
            Some(last) if last.style == style && !text.is_empty() => {
                last.content.to_mut().push_str(text)
            }
            _ => current.push(Span::styled(text.to_string(), style)),
        };

    for (text, style) in spans {
        for (i, segment) in text.split('\n').enumerate() {
            if i > 0 {
                lines.push(Line::from(std::mem::replace(
                    &mut current,
                    rest_prefix.to_vec(),
                )));
                avail = width.saturating_sub(prefix_width(rest_prefix)).max(1);
                used = 0;
                pending = None;
            }
            for (k, token) in tokens(segment).enumerate() {
                let w = token.width();
                if token.starts_with(char::is_whitespace) {
                    if k == 0 && used == 0 && w < avail {
                        // Indentation at the start of a line is kept.
                        push_piece(&mut current, token, *style);
                        used = w;
                    } else if used > 0 {
                        // Spaces wait for the next word: they are dropped at a break.
                        pending = Some((token, *style));
                    }
                    continue;
                }
                let space = pending.take();
                let space_w = space.map(|(s, _)| s.width()).unwrap_or(0);
                if used + space_w + w <= avail {
                    if let Some((s, st)) = space {
                        push_piece(&mut current, s, st);
                    }
                    push_piece(&mut current, token, *style);
                    used += space_w + w;
                    continue;
                }
                if used > 0 && w <= avail {
                    lines.push(Line::from(std::mem::replace(
                        &mut current,
                        rest_prefix.to_vec(),
                    )));
                    avail = width.saturating_sub(prefix_width(rest_prefix)).max(1);
                    push_piece(&mut current, token, *style);
                    used = w;
                    continue;
                }
                if let Some((s, st)) = space
                    && used + space_w < avail
                {
                    push_piece(&mut current, s, st);
                    used += space_w;
                }
                // A word longer than the line: split it by characters.
                for c in token.chars() {
                    let cw = c.width().unwrap_or(0);
                    if used + cw > avail && used > 0 {
                        lines.push(Line::from(std::mem::replace(
                            &mut current,
                            rest_prefix.to_vec(),
                        )));
                        avail = width.saturating_sub(prefix_width(rest_prefix)).max(1);
                        used = 0;
                    }
                    let mut buf = [0u8; 4];
                    push_piece(&mut current, c.encode_utf8(&mut buf), *style);
                    used += cw;
                }
            }
        }
    }
    lines.push(Line::from(current));
    lines
}

/// Alternating runs of whitespace and non-whitespace.
fn tokens(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let space = first.is_whitespace();
        let end = rest
            .find(|c: char| c.is_whitespace() != space)
            .unwrap_or(rest.len());
        let (token, tail) = rest.split_at(end);
        rest = tail;
        Some(token)
    })
}

/// Rendered lines of a growing markdown text, re-rendering only its tail.
#[derive(Debug, Default, Clone)]
pub(crate) struct MarkdownCache {
    width: usize,
    /// Bytes of the source whose lines are final.
    stable_len: usize,
    stable: Vec<Line<'static>>,
    tail_len: usize,
    tail: Vec<Line<'static>>,
}

impl MarkdownCache {
    /// Brings the lines up to date with `src` at `width`. `src` must extend
    /// the text seen before (streams only append); anything else resets.
    pub(crate) fn update(&mut self, src: &str, width: usize, style: &MarkdownStyle) {
        if width != self.width
            || src.len() < self.stable_len.max(self.tail_len)
            || !src.is_char_boundary(self.stable_len)
        {
            *self = Self {
                width,
                ..Self::default()
            };
        }
        if src.len() == self.tail_len
            && (self.tail_len > 0 || !self.tail.is_empty() || src.is_empty())
        {
            return;
        }
        if let Some(boundary) = stable_boundary(src, self.stable_len) {
            let mut lines = render(&src[self.stable_len..boundary], width, style);
            if !self.stable.is_empty() && !lines.is_empty() {
                self.stable.push(Line::default());
            }
            self.stable.append(&mut lines);
            self.stable_len = boundary;
        }
        self.tail = render(&src[self.stable_len..], width, style);
        if !self.stable.is_empty() && !self.tail.is_empty() {
            self.tail.insert(0, Line::default());
        }
        self.tail_len = src.len();
    }

    pub(crate) fn len(&self) -> usize {
        self.stable.len() + self.tail.len()
    }

    /// Every line, borrowed.
    pub(crate) fn lines(&self) -> impl Iterator<Item = &Line<'static>> {
        self.stable.iter().chain(&self.tail)
    }

    /// Lines `start..start + count`, cloned for drawing.
    pub(crate) fn slice(&self, start: usize, count: usize) -> Vec<Line<'static>> {
        (start..(start + count).min(self.len()))
            .map(|i| {
                if i < self.stable.len() {
                    self.stable[i].clone()
                } else {
                    self.tail[i - self.stable.len()].clone()
                }
            })
            .collect()
    }
}

/// The last position after `from` where a new top-level block starts (see
/// [`BlockStarts`]).
fn stable_boundary(src: &str, from: usize) -> Option<usize> {
    let mut blocks = BlockStarts::default();
    let mut best = None;
    let mut pos = from;
    for line in src[from..].split_inclusive('\n') {
        if blocks.line(line) && pos > from {
            best = Some(pos);
        }
        pos += line.len();
    }
    best
}

/// Where new top-level blocks start, read line by line: after a blank
/// line, at a line that begins in column 0, outside code fences. Text
/// before such a line renders the same whatever follows it.
#[derive(Debug, Clone, Default)]
pub(crate) struct BlockStarts {
    in_fence: bool,
    previous_blank: bool,
}

impl BlockStarts {
    /// Reads the next line (with its `\n` when complete); true when a new
    /// block starts at it.
    pub(crate) fn line(&mut self, line: &str) -> bool {
        let trimmed = line.trim_start();
        let is_fence = trimmed.starts_with("```") || trimmed.starts_with("~~~");
        let starts_col0 = line.chars().next().is_some_and(|c| !c.is_whitespace());
        let starts = !self.in_fence && self.previous_blank && starts_col0;
        if is_fence {
            self.in_fence = !self.in_fence;
        }
        self.previous_blank = line.ends_with('\n') && line.trim().is_empty();
        starts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: &[Line<'_>]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn renders_blocks_lists_and_code() {
        let md = "# Title\n\nSome *emphasis* and `code`.\n\n- one\n- two\n  - nested\n\n1. first\n2. second\n\n```rust\nfn main() {}\n```\n\n> quoted\n";
        let lines = render(md, 40, &MarkdownStyle::default());
        assert_eq!(
            text(&lines),
            [
                "# Title",
                "",
                "Some emphasis and code.",
                "",
                "• one",
                "• two",
                "  • nested",
                "",
                "1. first",
                "2. second",
                "",
                " rust ",
                "fn main() {}",
                "",
                "│ quoted",
            ]
        );
        let emphasis = lines[2]
            .spans
            .iter()
            .find(|s| s.content == "emphasis")
            .unwrap();
        assert!(emphasis.style.add_modifier.contains(Modifier::ITALIC));
    }

    #[test]
    fn wraps_words_and_splits_long_ones() {
        let lines = render("alpha beta gamma delta", 11, &MarkdownStyle::default());
        assert_eq!(text(&lines), ["alpha beta", "gamma delta"]);
        let lines = render("abcdefghijklmnop", 6, &MarkdownStyle::default());
        assert_eq!(text(&lines), ["abcdef", "ghijkl", "mnop"]);
        let lines = wrap_plain("{\n  \"a\": 1\n}", 20, Style::default());
        assert_eq!(text(&lines), ["{", "  \"a\": 1", "}"]);
        let lines = render("- a list item that wraps", 12, &MarkdownStyle::default());
        assert_eq!(text(&lines), ["• a list", "  item that", "  wraps"]);
        // Wide characters count two columns.
        let lines = render("漢字漢字漢字", 6, &MarkdownStyle::default());
        assert_eq!(text(&lines), ["漢字漢", "字漢字"]);
        for line in render(&"word ".repeat(200), 17, &MarkdownStyle::default()) {
            assert!(line.width() <= 17);
        }
    }

    #[test]
    fn cache_matches_a_full_render_at_every_step() {
        let md = "# Plan\n\nFirst paragraph with words.\n\n```\ncode\n\nmore code\n```\n\n- item one\n- item two\n\nClosing words that wrap around the edge.\n";
        let style = MarkdownStyle::default();
        let mut cache = MarkdownCache::default();
        for end in (0..=md.len()).filter(|i| md.is_char_boundary(*i)) {
            cache.update(&md[..end], 20, &style);
            let full = render(&md[..end], 20, &style);
            assert_eq!(
                text(&cache.slice(0, cache.len())),
                text(&full),
                "at byte {end}"
            );
        }
        cache.update(md, 30, &style);
        assert_eq!(
            text(&cache.slice(0, cache.len())),
            text(&render(md, 30, &style))
        );
    }

    #[test]
    fn boundaries_skip_fences_and_indented_continuations() {
        assert_eq!(stable_boundary("a\n\nb", 0), Some(3));
        assert_eq!(stable_boundary("```\na\n\nb\n", 0), None);
        assert_eq!(stable_boundary("- a\n\n    more\n", 0), None);
    }
}
