//! A council whose members stream as fast as asked: the benches' server.

use std::time::Duration;

use super::{Recorded, Reply, Step, content, done, finish, judge_json, usage};

/// Members stream `words` words in paragraphs of 40 (as models write; one
/// endless paragraph would measure re-wrapping the open block instead),
/// `gap` apart if given; the judge and synthesizer answer at once, and the
/// model listing asked for at start is empty.
pub fn flood(words: usize, gap: Option<Duration>) -> impl Fn(&Recorded, usize) -> Reply {
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
            let end = if i % 40 == 39 { ".\n\n" } else { " " };
            steps.push(Step::Write(content(&format!("word{i}{end}"))));
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
