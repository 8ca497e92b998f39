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
                    self.lines
                        .extend(code_lines(line, &prefix, width, self.style.code_block));
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
/// One line of a code block: cut at `width` columns (after `prefix`), tabs
/// as four spaces.
fn code_lines(
    line: &str,
    prefix: &[Span<'static>],
    width: usize,
    style: Style,
) -> impl Iterator<Item = Line<'static>> {
    hard_split(&line.replace('\t', "    "), width.max(1))
        .into_iter()
        .map(move |piece| {
            let mut spans = prefix.to_vec();
            spans.push(Span::styled(piece, style));
            Line::from(spans)
        })
}

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
///
/// Three parts: the stable prefix (blocks closed by a later block's start),
/// the open block's lines that nothing appended can change (complete lines
/// of a fenced code block; wrapped lines of a plain paragraph), and the
/// rest of the open block, the only part rendered again on each update. So
/// one endless code block or paragraph costs the same per word as many
/// short ones.
#[derive(Debug, Default, Clone)]
pub(crate) struct MarkdownCache {
    width: usize,
    /// Bytes of the source whose lines are final.
    stable_len: usize,
    stable: Vec<Line<'static>>,
    /// A blank line between the stable lines and the open block.
    gap: bool,
    open: OpenBlock,
    tail_len: usize,
    tail: Vec<Line<'static>>,
}

/// The open block's final lines, and the bytes (after the stable prefix)
/// they were rendered from.
#[derive(Debug, Default, Clone)]
struct OpenBlock {
    kind: OpenKind,
    lines: Vec<Line<'static>>,
    covered: usize,
    /// Of a code block: how many of `lines` its opener draws (its label).
    header: usize,
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
enum OpenKind {
    /// Not known yet: the block's first line is still arriving.
    #[default]
    Unknown,
    /// Rendered whole each time (lists, quotes, headings, tables, a closed
    /// fence, a paragraph with markup).
    Whole,
    /// A fenced code block opened in column 0: `fence` is its opener's
    /// length in bytes, `opener` the bytes of its first line.
    Code { fence: usize, opener: usize },
    /// A paragraph that begins with a letter.
    Paragraph,
}

/// Characters that may change how earlier text of a paragraph renders
/// (emphasis, code, links, escapes, entities, html).
const INLINE_MARKUP: &[char] = &['\\', '`', '*', '_', '[', ']', '!', '<', '>', '&', '~', '|'];

impl OpenBlock {
    /// Freezes what `src` (the open block, as far as it has arrived) can no
    /// longer change; returns the bytes still to render.
    fn advance(&mut self, src: &str, width: usize, style: &MarkdownStyle) -> usize {
        if self.kind == OpenKind::Unknown {
            self.kind = Self::kind_of(src);
        }
        match self.kind {
            OpenKind::Unknown | OpenKind::Whole => 0,
            OpenKind::Code { fence, opener } => self.advance_code(src, fence, opener, width, style),
            OpenKind::Paragraph => self.advance_paragraph(src, width, style),
        }
    }

    fn kind_of(src: &str) -> OpenKind {
        let Some(first_line) = src
            .split_inclusive('\n')
            .next()
            .filter(|l| l.ends_with('\n'))
        else {
            // A paragraph is known by its first letter; a fence by its line.
            return match src.chars().next() {
                Some(c) if c.is_alphabetic() => OpenKind::Paragraph,
                _ => OpenKind::Unknown,
            };
        };
        let fence_char = first_line.chars().next().filter(|c| *c == '`' || *c == '~');
        if let Some(f) = fence_char {
            let fence = first_line.len() - first_line.trim_start_matches(f).len();
            let info = &first_line[fence..];
            if fence >= 3 && !(f == '`' && info.contains('`')) {
                return OpenKind::Code {
                    fence,
                    opener: first_line.len(),
                };
            }
        }
        match src.chars().next() {
            Some(c) if c.is_alphabetic() => OpenKind::Paragraph,
            _ => OpenKind::Whole,
        }
    }

    fn advance_code(
        &mut self,
        src: &str,
        fence: usize,
        opener: usize,
        width: usize,
        style: &MarkdownStyle,
    ) -> usize {
        if self.covered == 0 {
            // The opener's own lines (the language's label), as the full
            // render draws them before a first line of code.
            let mut probe = render(&format!("{}x\n", &src[..opener]), width, style);
            probe.pop();
            self.header = probe.len();
            self.lines = probe;
            self.covered = opener;
        }
        // Lines before the last one with code on it are final (blank lines
        // are not drawn until code follows them).
        let mut last = None;
        let mut at = self.covered;
        for line in src[self.covered..].split_inclusive('\n') {
            if at > self.covered && !line.trim().is_empty() {
                last = Some(at);
            }
            at += line.len();
        }
        let Some(last) = last else {
            return self.covered;
        };
        let chunk = &src[self.covered..last];
        if chunk
            .split_terminator('\n')
            .any(|line| closes_fence(src, fence, line))
        {
            // The fence closed: render the block whole from now on.
            *self = Self {
                kind: OpenKind::Whole,
                ..Self::default()
            };
            return 0;
        }
        for line in chunk.split_terminator('\n') {
            self.lines
                .extend(code_lines(line, &[], width.max(4), style.code_block));
        }
        self.covered = last;
        self.covered
    }

    /// A code block's lines after its final ones, as the full render draws
    /// them (trailing blank lines left out); None when the block is not
    /// open code (or a line closes it: it is rendered whole from now on).
    fn code_tail(
        &mut self,
        src: &str,
        from: usize,
        width: usize,
        style: &MarkdownStyle,
    ) -> Option<Vec<Line<'static>>> {
        let OpenKind::Code { fence, opener } = self.kind else {
            return None;
        };
        let rest = &src[from..];
        if rest.split('\n').any(|line| closes_fence(src, fence, line)) {
            *self = Self {
                kind: OpenKind::Whole,
                ..Self::default()
            };
            return None;
        }
        // After code, trailing blank lines wait for more code.
        if from > opener && rest.trim_end_matches('\n').is_empty() {
            return Some(Vec::new());
        }
        // The rest of the code as the parser reads it after the opener (so
        // a last line still arriving is drawn as the full render draws it),
        // the opener's own lines left out.
        let lines = render(&format!("{}{rest}", &src[..opener]), width, style);
        Some(lines.into_iter().skip(self.header).collect())
    }

    fn advance_paragraph(&mut self, src: &str, width: usize, style: &MarkdownStyle) -> usize {
        let rest = &src[self.covered..];
        // A line of `=` or `-` under a paragraph makes it a heading (or
        // starts a list that may): rendered whole from now on.
        let underline = |l: &str| {
            let t = l.trim();
            !t.is_empty() && (t.chars().all(|c| c == '=') || t.chars().all(|c| c == '-'))
        };
        if rest.split('\n').skip(1).any(underline) {
            *self = Self {
                kind: OpenKind::Whole,
                ..Self::default()
            };
            return 0;
        }
        // Words up to the last space before any line break or markup: what
        // follows them cannot change how they wrap.
        let clean = rest
            .find(|c| c == '\n' || INLINE_MARKUP.contains(&c))
            .unwrap_or(rest.len());
        let Some(space) = rest[..clean].rfind(' ') else {
            return self.covered;
        };
        let chunk = &rest[..space];
        let lines = render(chunk, width, style);
        // Every line but the last is final; the rest renders again from the
        // start of the last line that begins with a letter (so it cannot
        // read as a list, a heading or a quote on its own).
        let mut starts = Vec::with_capacity(lines.len());
        let mut at = 0;
        for line in &lines {
            let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
            if !chunk[at..].starts_with(&text) {
                // Not as expected: render the block whole from now on.
                *self = Self {
                    kind: OpenKind::Whole,
                    ..Self::default()
                };
                return 0;
            }
            starts.push(at);
            at += text.len();
            at += chunk[at..].len() - chunk[at..].trim_start_matches(' ').len();
        }
        let keep = (1..lines.len())
            .rev()
            .find(|&i| chunk[starts[i]..].starts_with(char::is_alphabetic));
        if let Some(keep) = keep {
            self.lines.extend(lines.into_iter().take(keep));
            self.covered += starts[keep];
        }
        self.covered
    }
}

/// Whether a block that draws nothing yet (an empty quote, `> `) still
/// puts a blank line after the one before it, as the full render does:
/// found by rendering its first bytes after a paragraph.
fn opens_with_a_gap(open: &str, width: usize, style: &MarkdownStyle) -> bool {
    let mut end = open.len().min(16);
    while !open.is_char_boundary(end) {
        end -= 1;
    }
    render(&format!("x\n\n{}", &open[..end]), width, style).len() > 1
}

/// Whether `line` may close the fence `src` opens with (`fence` bytes of
/// its first character); a line that merely might is taken as closing,
/// which only costs a whole render.
fn closes_fence(src: &str, fence: usize, line: &str) -> bool {
    let fence_char = src.chars().next().unwrap_or('`');
    let t = line.trim();
    t.len() >= fence && t.chars().all(|c| c == fence_char)
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
            // The open block closed: its lines are rendered once more, whole.
            let mut lines = render(&src[self.stable_len..boundary], width, style);
            if !self.stable.is_empty() && !lines.is_empty() {
                self.stable.push(Line::default());
            }
            self.stable.append(&mut lines);
            self.stable_len = boundary;
            self.open = OpenBlock::default();
        }
        let open = &src[self.stable_len..];
        let rendered_from = self.open.advance(open, width, style);
        self.tail = match self.open.code_tail(open, rendered_from, width, style) {
            Some(lines) => lines,
            // From where the final lines end (the start, when a closed
            // fence made the block whole again).
            None => render(&open[self.open.covered..], width, style),
        };
        self.gap = !self.stable.is_empty()
            && (!self.open.lines.is_empty()
                || !self.tail.is_empty()
                || opens_with_a_gap(open, width, style));
        self.tail_len = src.len();
    }

    pub(crate) fn len(&self) -> usize {
        self.stable.len() + usize::from(self.gap) + self.open.lines.len() + self.tail.len()
    }

    /// Every line, borrowed.
    pub(crate) fn lines(&self) -> impl Iterator<Item = &Line<'static>> {
        static BLANK: Line<'static> = Line {
            style: Style::new(),
            alignment: None,
            spans: Vec::new(),
        };
        self.stable
            .iter()
            .chain(self.gap.then_some(&BLANK))
            .chain(&self.open.lines)
            .chain(&self.tail)
    }

    /// Lines `start..start + count`, cloned for drawing.
    pub(crate) fn slice(&self, start: usize, count: usize) -> Vec<Line<'static>> {
        self.lines().skip(start).take(count).cloned().collect()
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

/// Whether `line` begins a list item (`- `, `* `, `+ `, `1. `, `1) `), or,
/// still arriving, may yet (`1`, `12.`, `-`).
fn list_item(line: &str) -> bool {
    let digits = line.len() - line.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let arriving = !line.ends_with('\n');
    if arriving && (1..=9).contains(&digits) && digits == line.len() {
        return true;
    }
    let rest = match digits {
        0 => line.strip_prefix(['-', '*', '+']),
        1..=9 => line[digits..].strip_prefix(['.', ')']),
        _ => None,
    };
    rest.is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t', '\n']))
}

/// Where new top-level blocks start, read line by line: after a blank
/// line, at a line that begins in column 0, outside code fences. Text
/// before such a line renders the same whatever follows it.
#[derive(Debug, Clone, Default)]
pub(crate) struct BlockStarts {
    /// The open fence: its character and length.
    fence: Option<(char, usize)>,
    previous_blank: bool,
}

impl BlockStarts {
    /// Reads the next line (with its `\n` when complete); true when a new
    /// block starts at it.
    pub(crate) fn line(&mut self, line: &str) -> bool {
        let trimmed = line.trim_start();
        let starts_col0 = line.chars().next().is_some_and(|c| !c.is_whitespace());
        // A list item after a blank line may continue the list above it
        // (its numbering, its spacing): never a start of its own.
        let starts = self.fence.is_none() && self.previous_blank && starts_col0 && !list_item(line);
        let run = |c: char| trimmed.len() - trimmed.trim_start_matches(c).len();
        // Indented four columns or more, a line is code, not a fence.
        let indent = line[..line.len() - trimmed.len()]
            .chars()
            .fold(
                0,
                |col, c| if c == '\t' { col / 4 * 4 + 4 } else { col + 1 },
            );
        match self.fence {
            _ if indent >= 4 => {}
            // Closed by a line of the same character, at least as long, and
            // nothing else.
            Some((c, n)) => {
                let after = trimmed.trim_start_matches(c).trim_end_matches(['\n', '\r']);
                if run(c) >= n && after.chars().all(|c| c == ' ') {
                    self.fence = None;
                }
            }
            None => {
                for c in ['`', '~'] {
                    // A backtick fence's info string has no backtick.
                    let info = trimmed.trim_start_matches(c);
                    if run(c) >= 3 && !(c == '`' && info.contains('`')) {
                        self.fence = Some((c, run(c)));
                    }
                }
            }
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

    /// The cache's lines, styles and all, against a full render of `md`'s
    /// every prefix (as a stream delivers it, a few bytes at a time).
    fn same_as_full_render(md: &str, width: usize, step: usize) {
        let style = MarkdownStyle {
            code_block: Style::default().add_modifier(Modifier::DIM),
            heading: Style::default().add_modifier(Modifier::BOLD),
            ..MarkdownStyle::default()
        };
        let mut cache = MarkdownCache::default();
        let mut end = 0;
        while end < md.len() {
            end = (end + step).min(md.len());
            while !md.is_char_boundary(end) {
                end += 1;
            }
            cache.update(&md[..end], width, &style);
            let (got, want) = (
                cache.slice(0, cache.len()),
                render(&md[..end], width, &style),
            );
            if got != want {
                let at = got.iter().zip(&want).take_while(|(g, w)| g == w).count();
                panic!(
                    "at byte {end} (width {width}) of {md:?}: from line {at}, got {:?}, want {:?}",
                    &got[at..],
                    &want[at..]
                );
            }
        }
    }

    #[test]
    fn an_open_code_block_or_paragraph_grows_as_a_full_render() {
        let code: String = (0..200)
            .map(|i| match i % 7 {
                3 => "\n".to_string(),
                5 => "\tindented line with a tab\n".to_string(),
                _ => format!("let x{i} = {i}; // a line long enough to be cut\n"),
            })
            .collect();
        for md in [
            format!("```rust\n{code}"),
            format!("Before.\n\n~~~~\n{code}~~~~\nAfter the fence.\n\nMore."),
            format!("```\n{code}```\n\n```\nagain\n``\n```"),
            (0..400).map(|i| format!("word{i} ")).collect::<String>(),
            format!(
                "{}and then *emphasis* that closes late **bold {} done** [link](u) end",
                "plain words flow on ".repeat(20),
                "more words ".repeat(30)
            ),
            format!("{}\n=====\n\nAfter.", "A long title that wraps ".repeat(8)),
            format!("{}\n- then a list\n- of two", "Lead words ".repeat(30)),
            format!("{} 1. not a list\n", "Count to ten ".repeat(20)),
            "Ünïcödé wörds and 漢字 that are wide ".repeat(20),
            format!("{}\n```\nunclosed", "x".repeat(300)),
        ] {
            for (width, step) in [(20, 1), (33, 3), (80, 17)] {
                same_as_full_render(&md, width, step);
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn any_text_streams_as_its_full_render(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::prelude::Just("word "),
                    proptest::prelude::Just("wide 漢字 "),
                    proptest::prelude::Just("a-very-long-word-that-will-not-fit-anywhere "),
                    proptest::prelude::Just("\n"),
                    proptest::prelude::Just("\n\n"),
                    proptest::prelude::Just("```"),
                    proptest::prelude::Just("~~~"),
                    proptest::prelude::Just("*"),
                    proptest::prelude::Just("`"),
                    proptest::prelude::Just("- "),
                    proptest::prelude::Just("1. "),
                    proptest::prelude::Just("# "),
                    proptest::prelude::Just("> quoted "),
                    proptest::prelude::Just("==="),
                    proptest::prelude::Just("  "),
                    proptest::prelude::Just("\t"),
                ],
                0..120,
            ),
            width in 8usize..50,
            step in 1usize..9,
        ) {
            same_as_full_render(&parts.concat(), width, step);
        }
    }

    /// The three shapes `tui_terminal` streams, 3,000 words each, updated
    /// every few words: the cache ends as the full render does.
    #[test]
    fn the_benchmarks_shapes_stream_as_their_full_render() {
        let style = MarkdownStyle::default();
        let shapes: [fn(usize) -> String; 3] = [
            |i| match i % 40 {
                39 => format!("word{i}.\n\n"),
                _ => format!("word{i} "),
            },
            |i| match i {
                0 => "```rust\nlet word0 ".to_string(),
                _ if i % 5 == 4 => format!("word{i};\n"),
                _ => format!("word{i} "),
            },
            |i| format!("word{i} "),
        ];
        for shape in shapes {
            let mut cache = MarkdownCache::default();
            let mut src = String::new();
            for i in 0..3000 {
                src.push_str(&shape(i));
                if i % 7 == 0 {
                    cache.update(&src, 37, &style);
                }
            }
            cache.update(&src, 37, &style);
            assert_eq!(cache.slice(0, cache.len()), render(&src, 37, &style));
        }
    }

    #[test]
    fn boundaries_skip_fences_and_indented_continuations() {
        assert_eq!(stable_boundary("a\n\nb", 0), Some(3));
        assert_eq!(stable_boundary("```\na\n\nb\n", 0), None);
        assert_eq!(stable_boundary("- a\n\n    more\n", 0), None);
    }
}
