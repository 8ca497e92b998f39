//! The grader: two answers under `# Answer A` and `# Answer B`, a JSON
//! verdict back; and how the two orders of one pair combine.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::{Answer, EvalQuestion, Outcome};
use crate::engine::Seat;
use crate::engine::judge::parse::extract_json;
use crate::engine::orchestrator::ask_seat;
use crate::provider::{ChatRequest, JsonSchema, Message, Usage};

const SYSTEM: &str = "\
You grade two answers to the same question. Judge which answer serves the person who asked better: \
correct, complete where it matters, clear, and honest about uncertainty. Length is not a merit in itself, \
and the order the answers come in means nothing. When a reference answer is given, prefer the answer that \
agrees with it. Reply with a JSON object only, with two keys: \"winner\" (\"A\", \"B\" or \"tie\") and \"reason\" \
(why, in a sentence of your own).";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Winner {
    A,
    B,
    #[serde(rename = "tie")]
    Tie,
}

/// One reading of a pair.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The grader's model.
    #[serde(default)]
    pub(crate) grader: String,
    /// `None` when the grader gave no readable verdict.
    pub(crate) winner: Option<Winner>,
    #[serde(default)]
    pub(crate) reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
    #[serde(default)]
    pub(crate) usage: Usage,
}

fn schema() -> JsonSchema {
    JsonSchema {
        name: "verdict".into(),
        kind: crate::provider::SchemaKind::Strict,
        schema: json!({
            "type": "object",
            "properties": {
                "winner": {"type": "string", "enum": ["A", "B", "tie"]},
                "reason": {"type": "string"}
            },
            "required": ["winner", "reason"],
            "additionalProperties": false
        }),
    }
}

/// The grader's prompt for answers `a` and `b`. For a conversation, the
/// earlier turns come first, and each answer shows its own earlier replies
/// (a later turn may ask to rework them); only the last reply is graded.
pub(crate) fn prompt(q: &EvalQuestion, a: &Answer, b: &Answer) -> String {
    let mut p = String::new();
    let earlier = q.earlier();
    if !earlier.is_empty() {
        p.push_str("# Earlier turns\n\n");
        for (i, turn) in earlier.iter().enumerate() {
            p.push_str(&format!("## Turn {}\n\n{turn}\n\n", i + 1));
        }
        p.push_str(&format!(
            "# Question (turn {}, the one to grade)\n\n{}\n\n",
            q.turns.len(),
            q.question()
        ));
    } else {
        p.push_str(&format!("# Question\n\n{}\n\n", q.question()));
    }
    if let Some(reference) = &q.reference {
        p.push_str(&format!("# Reference answer\n\n{reference}\n\n"));
    }
    for (heading, answer) in [("A", a), ("B", b)] {
        p.push_str(&format!("# Answer {heading}\n\n"));
        if earlier.is_empty() {
            p.push_str(&format!("{}\n\n", answer.text));
            continue;
        }
        for (i, said) in answer.earlier.iter().enumerate() {
            p.push_str(&format!(
                "## {heading}'s reply to turn {}\n\n{said}\n\n",
                i + 1
            ));
        }
        p.push_str(&format!(
            "## {heading}'s reply to turn {} (graded)\n\n{}\n\n",
            q.turns.len(),
            answer.text
        ));
    }
    p.truncate(p.trim_end().len());
    p.push('\n');
    p
}

/// Reads a verdict out of the grader's reply.
pub(crate) fn parse(text: &str) -> Result<(Winner, String), String> {
    let value = extract_json(text).map_err(|e| e.to_string())?;
    let winner = match value.get("winner").and_then(Value::as_str).map(str::trim) {
        Some(w) if w.eq_ignore_ascii_case("a") || w.eq_ignore_ascii_case("answer a") => Winner::A,
        Some(w) if w.eq_ignore_ascii_case("b") || w.eq_ignore_ascii_case("answer b") => Winner::B,
        Some(w) if w.eq_ignore_ascii_case("tie") => Winner::Tie,
        other => {
            return Err(format!(
                "`winner` is {other:?}, not \"A\", \"B\" or \"tie\""
            ));
        }
    };
    let reason = value
        .get("reason")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Ok((winner, reason))
}

/// Asks the grader once, `a` shown first.
pub(crate) async fn grade(
    grader: &Seat,
    q: &EvalQuestion,
    a: &Answer,
    b: &Answer,
    cancel: CancellationToken,
) -> Verdict {
    let model = grader.spec.model.clone();
    let request = ChatRequest {
        model: grader.spec.model.clone(),
        messages: vec![Message::system(SYSTEM), Message::user(prompt(q, a, b))],
        temperature: Some(0.0),
        max_tokens: Some(grader.spec.max_tokens.unwrap_or(400)),
        json_schema: Some(schema()),
        web_search: false,
    };
    let out = ask_seat(grader, &request, cancel, |_| {}).await;
    let usage = out.result.as_ref().map(|c| c.usage).unwrap_or_default();
    match out.result {
        Err(e) => Verdict {
            grader: model,
            error: Some(e.message),
            usage,
            ..Verdict::default()
        },
        Ok(_) => match parse(&out.text) {
            Ok((winner, reason)) => Verdict {
                grader: model,
                winner: Some(winner),
                reason,
                error: None,
                usage,
            },
            Err(e) => Verdict {
                grader: model,
                error: Some(e),
                usage,
                ..Verdict::default()
            },
        },
    }
}

/// The council was A in `first` and B in `second`: a win or a loss only
/// when both orders agree, otherwise a tie.
pub(crate) fn combine(first: &Verdict, second: &Verdict) -> Outcome {
    match (first.winner, second.winner) {
        (Some(Winner::A), Some(Winner::B)) => Outcome::Win,
        (Some(Winner::B), Some(Winner::A)) => Outcome::Loss,
        _ => Outcome::Tie,
    }
}

/// The graders' outcomes for one pair: the one more than half of them
/// reached, else a tie (no majority prefers either answer).
pub(crate) fn majority(outcomes: &[Outcome]) -> Outcome {
    [Outcome::Win, Outcome::Loss, Outcome::Tie]
        .into_iter()
        .find(|o| outcomes.iter().filter(|x| *x == o).count() * 2 > outcomes.len())
        .unwrap_or(Outcome::Tie)
}

/// Whether both orders picked the same position (A/A or B/B): the verdict
/// followed the position, not the answer.
pub(crate) fn positional(first: &Verdict, second: &Verdict) -> bool {
    matches!(
        (first.winner, second.winner),
        (Some(Winner::A), Some(Winner::A)) | (Some(Winner::B), Some(Winner::B))
    )
}

/// Whether the two orders named the same answer (or both a tie).
pub(crate) fn consistent(first: &Verdict, second: &Verdict) -> bool {
    matches!(
        (first.winner, second.winner),
        (Some(Winner::A), Some(Winner::B))
            | (Some(Winner::B), Some(Winner::A))
            | (Some(Winner::Tie), Some(Winner::Tie))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(w: Winner) -> Verdict {
        Verdict {
            winner: Some(w),
            ..Verdict::default()
        }
    }

    #[test]
    fn only_agreeing_orders_decide() {
        use Winner::*;
        assert_eq!(combine(&v(A), &v(B)), Outcome::Win);
        assert_eq!(combine(&v(B), &v(A)), Outcome::Loss);
        // Position bias: "A" both times is no preference at all.
        assert_eq!(combine(&v(A), &v(A)), Outcome::Tie);
        assert!(!consistent(&v(A), &v(A)));
        assert!(consistent(&v(Tie), &v(Tie)));
        assert_eq!(combine(&v(A), &Verdict::default()), Outcome::Tie);
        assert!(positional(&v(A), &v(A)) && positional(&v(B), &v(B)));
        assert!(!positional(&v(A), &v(B)) && !positional(&v(Tie), &v(Tie)));
    }

    #[test]
    fn the_majority_of_graders_decides_and_a_split_is_a_tie() {
        use Outcome::*;
        assert_eq!(majority(&[Win, Win, Loss]), Win);
        assert_eq!(majority(&[Loss, Tie, Loss]), Loss);
        assert_eq!(majority(&[Win, Loss, Tie]), Tie);
        assert_eq!(majority(&[Win, Loss]), Tie);
        assert_eq!(majority(&[Loss]), Loss);
    }

    #[test]
    fn a_conversation_shows_the_grader_each_side_s_earlier_replies() {
        let q = crate::eval::parse_questions(r#"{"turns": ["Write a poem.", "Now in French."]}"#)
            .unwrap()
            .remove(0);
        let answer = |earlier: &str, last: &str| Answer {
            text: last.into(),
            earlier: vec![earlier.into()],
            ..Answer::default()
        };
        let p = prompt(
            &q,
            &answer("Roses", "Les roses"),
            &answer("Violets", "Les violettes"),
        );
        let at = |s: &str| p.find(s).unwrap_or_else(|| panic!("{s} in {p}"));
        assert!(
            at("## Turn 1\n\nWrite a poem.")
                < at("# Question (turn 2, the one to grade)\n\nNow in French.")
        );
        assert!(
            at("## A's reply to turn 1\n\nRoses")
                < at("## A's reply to turn 2 (graded)\n\nLes roses")
        );
        assert!(at("# Answer A") < at("# Answer B"));
        assert!(at("# Answer B") < at("## B's reply to turn 1\n\nViolets"));
    }

    #[test]
    fn verdicts_parse_tolerantly_and_refuse_nonsense() {
        assert_eq!(
            parse("```json\n{\"winner\": \"b\", \"reason\": \"clearer\"}\n```").unwrap(),
            (Winner::B, "clearer".into())
        );
        assert_eq!(parse(r#"{"winner":"tie"}"#).unwrap().0, Winner::Tie);
        assert!(parse(r#"{"winner":"C"}"#).is_err());
        assert!(parse("A is better").is_err());
    }
}
