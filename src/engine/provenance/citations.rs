//! The synthesizer's citations, `… at sea level [alpha, beta].`, taken out
//! of its text as it streams.
//!
//! A bracket counts as a citation only when everything in it is the name
//! of one of the run's members (case-insensitive, separated by commas or
//! semicolons); any other bracket, a markdown link (`[alpha](url)`) and
//! anything inside code is text. The space before a citation goes with it.
//! Text that might still turn out to be a citation is held back, at most
//! [`MAX_CITATION_BYTES`], so every front strips the same way whether it
//! reads the stream or the whole text.

/// The longest bracket that is read as a possible citation; a longer one is
/// text.
pub const MAX_CITATION_BYTES: usize = 256;

/// A citation taken out: where it stood in the stripped text, and the
/// members it names (as the run names them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citation {
    pub at: usize,
    pub members: Vec<String>,
}

/// What the stripper is holding back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Held {
    /// Nothing.
    #[default]
    Nothing,
    /// Spaces that a citation may follow.
    Space,
    /// `[` and what follows it, not closed yet.
    Open,
    /// A closed bracket naming members: a citation unless `(` follows (a link).
    Closed,
}

/// Strips citations from a stream of text, piece by piece.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Citations {
    /// The members' names as the run gives them; empty: nothing is stripped.
    names: Vec<String>,
    held: String,
    state: Held,
    /// Bytes of stripped text given out so far.
    emitted: usize,
    /// The citations taken out so far.
    found: Vec<Citation>,
    at_line_start: bool,
    in_fence: bool,
    in_code: bool,
    /// Backticks at the start of the current line (a fence is three).
    line_ticks: usize,
}

impl Citations {
    /// A stripper for a run whose members are `names` (none: text passes
    /// through unchanged).
    pub fn new(names: Vec<String>) -> Self {
        Self {
            names,
            at_line_start: true,
            ..Self::default()
        }
    }

    /// The citations taken out so far.
    pub fn found(&self) -> &[Citation] {
        &self.found
    }

    /// Takes the next piece of the text; returns what can be shown of it.
    pub fn push(&mut self, text: &str) -> String {
        if self.names.is_empty() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            self.take(c, &mut out);
        }
        self.emitted += out.len();
        out
    }

    /// The text is complete: what is still held back, as text or dropped.
    pub fn finish(&mut self) -> String {
        let mut out = String::new();
        if self.state == Held::Closed {
            self.cite(0);
        } else {
            out = std::mem::take(&mut self.held);
        }
        self.state = Held::Nothing;
        self.emitted += out.len();
        out
    }

    fn take(&mut self, c: char, out: &mut String) {
        match self.state {
            Held::Closed => {
                if c == '(' {
                    // `[alpha](https://…)`: a link whose text is a name.
                    self.release(out);
                } else {
                    self.cite(out.len());
                }
            }
            Held::Open => {
                self.held.push(c);
                if c == ']' {
                    if self.names_members().is_some() {
                        self.state = Held::Closed;
                    } else {
                        self.release(out);
                    }
                } else if c == '\n' || c == '[' || self.held.len() > MAX_CITATION_BYTES {
                    self.held.pop();
                    self.release(out);
                    self.text(c, out);
                }
                return;
            }
            Held::Space | Held::Nothing => {}
        }
        if self.state == Held::Nothing || self.state == Held::Space {
            if matches!(c, ' ' | '\t') && !self.in_code && !self.in_fence {
                self.held.push(c);
                self.state = Held::Space;
                self.track(c);
                return;
            }
            if c == '[' && !self.in_code && !self.in_fence {
                self.held.push(c);
                self.state = Held::Open;
                self.track(c);
                return;
            }
            self.release(out);
        }
        self.text(c, out);
    }

    /// A character that is text: given out, and followed for code.
    fn text(&mut self, c: char, out: &mut String) {
        if c == '[' && !self.in_code && !self.in_fence {
            self.held.push(c);
            self.state = Held::Open;
        } else {
            out.push(c);
        }
        self.track(c);
    }

    /// Follows line starts, code fences and inline code.
    fn track(&mut self, c: char) {
        match c {
            '\n' => {
                if self.line_ticks >= 3 {
                    self.in_fence = !self.in_fence;
                }
                self.at_line_start = true;
                self.line_ticks = 0;
                self.in_code = false;
            }
            '`' if self.at_line_start || self.line_ticks > 0 => {
                self.line_ticks += 1;
                self.at_line_start = false;
                if self.line_ticks == 1 && !self.in_fence {
                    self.in_code = !self.in_code;
                }
            }
            '`' if !self.in_fence => self.in_code = !self.in_code,
            ' ' | '\t' if self.at_line_start => {}
            _ => {
                self.at_line_start = false;
                if self.line_ticks >= 3 {
                    // A fence's info string (```rust): still the fence line.
                } else {
                    self.line_ticks = 0;
                }
            }
        }
        if self.line_ticks == 3 {
            // Three backticks open or close a fence, not inline code.
            self.in_code = false;
        }
    }

    /// What is held back is text after all.
    fn release(&mut self, out: &mut String) {
        out.push_str(&self.held);
        self.held.clear();
        self.state = Held::Nothing;
    }

    /// What is held back is a citation: dropped, with the space before it.
    /// `given` is what this piece has given out so far.
    fn cite(&mut self, given: usize) {
        if let Some(members) = self.names_members() {
            let at = self.emitted + given;
            match self.found.last_mut() {
                // `[alpha][beta]`: one citation.
                Some(last) if last.at == at => {
                    for m in members {
                        if !last.members.contains(&m) {
                            last.members.push(m);
                        }
                    }
                }
                _ => self.found.push(Citation { at, members }),
            }
        }
        self.held.clear();
        self.state = Held::Nothing;
    }

    /// The members a held `[...]` names, when it names only members.
    fn names_members(&self) -> Option<Vec<String>> {
        let open = self.held.find('[')?;
        let inner = self.held[open + 1..].strip_suffix(']')?;
        let mut members = Vec::new();
        for part in inner.split([',', ';']) {
            let part = part.trim();
            let name = self
                .names
                .iter()
                .find(|n| n.to_lowercase() == part.to_lowercase())?;
            if !members.contains(name) {
                members.push(name.clone());
            }
        }
        (!members.is_empty()).then_some(members)
    }
}
