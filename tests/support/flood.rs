//! A council whose members stream as fast as asked: the benches' server.

use std::time::Duration;

use super::{Recorded, Reply, Step, content, done, finish, judge_json, usage};

/// What the members' words make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(dead_code)]
pub enum Shape {
    /// Paragraphs of 40 words, as models write.
    Paragraphs,
    /// One fenced code block, five words a line.
    CodeBlock,
    /// One paragraph without a line break.
    OneParagraph,
}

impl Shape {
    #[allow(dead_code)]
    pub fn name(self) -> &'static str {
        match self {
            Shape::Paragraphs => "paragraphs of 40 words",
            Shape::CodeBlock => "one code block, 5 words a line",
            Shape::OneParagraph => "one paragraph",
        }
    }

    /// Word `i` as streamed, with what follows it.
    fn word(self, i: usize) -> String {
        match self {
            Shape::Paragraphs if i % 40 == 39 => format!("word{i}.\n\n"),
            Shape::CodeBlock if i == 0 => "```rust\nlet word0 ".to_string(),
            Shape::CodeBlock if i % 5 == 4 => format!("word{i};\n"),
            _ => format!("word{i} "),
        }
    }
}

/// Members stream `words` words in paragraphs of 40 (as models write),
/// `gap` apart if given; the judge and synthesizer answer at once, and the
/// model listing asked for at start is empty.
pub fn flood(words: usize, gap: Option<Duration>) -> impl Fn(&Recorded, usize) -> Reply {
    flood_shaped(words, gap, Shape::Paragraphs)
}

/// [`flood`] with the words in `shape`.
pub fn flood_shaped(
    words: usize,
    gap: Option<Duration>,
    shape: Shape,
) -> impl Fn(&Recorded, usize) -> Reply {
    move |r: &Recorded, _| {
        if r.method == "GET" && r.path.ends_with("/models") {
            return Reply::status(200, r#"{"data": []}"#);
        }
        if r.is_judge() {
            return Reply::text(&[&judge_json()]);
        }
        if r.is_synthesis() {
            return Reply::text(&["The answer."]);
        }
        let mut steps = Vec::with_capacity(words * 2 + 3);
        for i in 0..words {
            steps.push(Step::Write(content(&shape.word(i))));
            if let Some(gap) = gap {
                steps.push(Step::Sleep(gap));
            }
        }
        steps.push(Step::Write(finish("stop")));
        steps.push(Step::Write(usage(10, words as u64, Some(0.0))));
        steps.push(Step::Write(done()));
        Reply::sse(steps)
    }
}
