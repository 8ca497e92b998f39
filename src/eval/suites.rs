//! Question suites built into the binary: `council eval --suite NAME`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::EvalQuestion;
use super::questions::parse_with_references;

/// A built-in suite.
pub struct Suite {
    pub name: &'static str,
    pub about: &'static str,
    /// Where it comes from and under what licence.
    pub source: &'static str,
    /// The suite's files as bundled (what the input hash is taken of).
    pub text: &'static str,
    load: fn() -> Result<Vec<EvalQuestion>, String>,
}

impl Suite {
    pub fn questions(&self) -> Result<Vec<EvalQuestion>, String> {
        (self.load)()
    }
}

const MT_BENCH_QUESTIONS: &str = include_str!("../../assets/mt-bench/question.jsonl");
const MT_BENCH_REFERENCES: &str =
    include_str!("../../assets/mt-bench/reference_answer-gpt-4.jsonl");

pub const SUITES: [Suite; 1] = [Suite {
    name: "mt-bench",
    about: "MT-Bench's 80 questions (first turns), 8 categories of 10; the GPT-4 reference answers to math, reasoning and coding",
    source: "LMSYS FastChat, Apache-2.0 (assets/mt-bench/NOTICE, LICENSE)",
    text: MT_BENCH_QUESTIONS,
    load: mt_bench,
}];

/// The suite called `name`.
pub fn find(name: &str) -> Option<&'static Suite> {
    SUITES.iter().find(|s| s.name.eq_ignore_ascii_case(name))
}

/// One line of `reference_answer/gpt-4.jsonl`.
#[derive(Deserialize)]
struct ReferenceLine {
    question_id: u64,
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    turns: Vec<String>,
}

/// MT-Bench's first turns, each with its category and, where MT-Bench has
/// one, the reference answer to that turn: GPT-4's for the 30 questions it
/// answered (as MT-Bench's own grading uses), else the question's own.
fn mt_bench() -> Result<Vec<EvalQuestion>, String> {
    let mut references: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (n, line) in MT_BENCH_REFERENCES.lines().enumerate() {
        let r: ReferenceLine = serde_json::from_str(line)
            .map_err(|e| format!("mt-bench reference answers, line {}: {e}", n + 1))?;
        if let Some(choice) = r.choices.into_iter().next() {
            references.insert(r.question_id.to_string(), choice.turns);
        }
    }
    Ok(parse_with_references(MT_BENCH_QUESTIONS)
        .map_err(|e| format!("mt-bench questions: {e}"))?
        .into_iter()
        .map(|(q, own)| {
            let turns = references.get(&q.id).cloned().unwrap_or(own);
            q.first_turns(1, &turns)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mt_bench_is_eighty_first_turns_in_eight_categories_with_thirty_gpt4_references() {
        let qs = find("MT-Bench").unwrap().questions().unwrap();
        assert_eq!(qs.len(), 80);
        assert!(qs.iter().all(|q| q.turns.len() == 1));
        let mut by_category: BTreeMap<&str, usize> = BTreeMap::new();
        for q in &qs {
            *by_category
                .entry(q.category.as_deref().unwrap())
                .or_default() += 1;
        }
        assert_eq!(by_category.len(), 8);
        assert!(by_category.values().all(|n| *n == 10), "{by_category:?}");
        let math = qs.iter().find(|q| q.id == "111").unwrap();
        assert_eq!(math.category.as_deref(), Some("math"));
        let reference = math.reference.as_deref().unwrap();
        let gpt4: ReferenceLine = MT_BENCH_REFERENCES
            .lines()
            .map(|l| serde_json::from_str::<ReferenceLine>(l).unwrap())
            .find(|r| r.question_id == 111)
            .unwrap();
        assert_eq!(
            reference, gpt4.choices[0].turns[0],
            "GPT-4's reference, not the question's own"
        );
        let with = qs.iter().filter(|q| q.reference.is_some()).count();
        assert!(with >= 30, "{with}");
    }
}
