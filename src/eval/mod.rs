//! `council eval`: the council against solo models on a person's own
//! questions. Each question goes to the council and to every baseline; a
//! grader compares the synthesis with each baseline answer twice, the
//! positions swapped, and only a verdict both orders agree on counts.

pub(crate) mod grade;
pub mod header;
pub mod questions;
pub mod stats;
pub mod suites;
pub mod summary;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::conversation::Conversation;
use crate::engine::orchestrator::ask_seat;
use crate::engine::{Council, RunOutcome, Seat};
use crate::models::prices::Prices;
use crate::provider::{Message, Usage};
pub use grade::{Verdict, Winner};
pub use header::ResultsHeader;
pub use questions::{EvalQuestion, parse_questions};
pub use summary::{BaselineSummary, GraderSummary, summarize};

/// The most graders one evaluation may have.
pub const MAX_GRADERS: usize = 9;

/// What is compared: the council, the solo models, and who grades (one
/// grader, or a panel whose majority decides each pair).
pub struct Evaluation {
    pub council: Council,
    pub baselines: Vec<Seat>,
    pub graders: Vec<Seat>,
}

/// One answer: the council's synthesis or a baseline's reply.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Answer {
    /// The answer to the graded (last) turn.
    pub(crate) text: String,
    /// The answers to the earlier turns of a conversation, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) earlier: Vec<String>,
    pub(crate) usage: Usage,
    pub(crate) elapsed_ms: u64,
    /// Why there is no answer to grade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

/// How a question went against one baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Both orders preferred the council.
    Win,
    /// Both orders preferred the baseline.
    Loss,
    /// The orders disagreed, or both said tie.
    Tie,
    /// Nothing to grade: the council or the baseline gave no answer.
    Error,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub(crate) answer: Answer,
    /// Each grader's two readings in turn: the council as A, then as B.
    pub(crate) verdicts: Vec<Verdict>,
    /// With one grader, its verdict; with several, their majority.
    pub outcome: Outcome,
    /// What the grading cost.
    pub(crate) grading: Usage,
}

impl Comparison {
    /// Each grader's pair of readings: (grader, council as A, council as B).
    pub(crate) fn readings(&self) -> impl Iterator<Item = (&str, &Verdict, &Verdict)> {
        self.verdicts
            .chunks_exact(2)
            .map(|pair| (pair[0].grader.as_str(), &pair[0], &pair[1]))
    }
}

/// One line of the results file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionResult {
    pub id: String,
    /// The graded turn.
    pub(crate) question: String,
    /// All the turns, when the question is a conversation of several.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) turns: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reference: Option<String>,
    pub(crate) council: Answer,
    /// By baseline model.
    pub baselines: BTreeMap<String, Comparison>,
    /// The question's own fields eval does not read, as the file gave them.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl QuestionResult {
    /// Everything this question cost: council, baselines and grading.
    pub fn cost(&self) -> f64 {
        self.council.usage.cost.unwrap_or(0.0)
            + crate::provider::sum_costs(
                self.baselines
                    .values()
                    .map(|c| c.answer.usage.cost.unwrap_or(0.0) + c.grading.cost.unwrap_or(0.0)),
            )
    }
}

/// Runs one question through the council and every baseline at once (a
/// conversation turn by turn), then has every grader read each pair in
/// both orders.
pub async fn evaluate(
    eval: &Evaluation,
    q: &EvalQuestion,
    cancel: CancellationToken,
) -> QuestionResult {
    let council = ask_council(eval.council.clone(), &q.turns, cancel.clone());
    let baselines = futures::future::join_all(
        eval.baselines
            .iter()
            .map(|seat| ask_baseline(seat, &q.turns, cancel.clone())),
    );
    let (council, answers) = tokio::join!(council, baselines);
    let graded =
        futures::future::join_all(eval.baselines.iter().zip(answers).map(|(seat, answer)| {
            let council = &council;
            let cancel = cancel.clone();
            async move {
                let comparison = if council.error.is_some() || answer.error.is_some() {
                    Comparison {
                        answer,
                        verdicts: Vec::new(),
                        outcome: Outcome::Error,
                        grading: Usage::default(),
                    }
                } else {
                    let readings = futures::future::join_all(eval.graders.iter().map(|grader| {
                        let cancel = cancel.clone();
                        let answer = &answer;
                        async move {
                            tokio::join!(
                                grade::grade(grader, q, council, answer, cancel.clone()),
                                grade::grade(grader, q, answer, council, cancel),
                            )
                        }
                    }))
                    .await;
                    let mut grading = Usage::default();
                    let mut outcomes = Vec::with_capacity(readings.len());
                    let mut verdicts = Vec::with_capacity(readings.len() * 2);
                    for (first, second) in readings {
                        grading.add(&first.usage);
                        grading.add(&second.usage);
                        outcomes.push(grade::combine(&first, &second));
                        verdicts.extend([first, second]);
                    }
                    Comparison {
                        answer,
                        verdicts,
                        outcome: grade::majority(&outcomes),
                        grading,
                    }
                };
                (seat.spec.model.clone(), comparison)
            }
        }))
        .await;
    QuestionResult {
        id: q.id.clone(),
        question: q.question().to_string(),
        turns: if q.turns.len() > 1 {
            q.turns.clone()
        } else {
            Vec::new()
        },
        category: q.category.clone(),
        reference: q.reference.clone(),
        council,
        baselines: graded.into_iter().collect(),
        extra: q.extra.clone(),
    }
}

/// The council's answer to each turn in turn, as one conversation: each
/// later turn is a follow-up that sees the earlier ones.
async fn ask_council(council: Council, turns: &[String], cancel: CancellationToken) -> Answer {
    let mut conversation = Conversation::with_council(council);
    let mut out = Answer::default();
    for (i, turn) in turns.iter().enumerate() {
        if i > 0 {
            out.earlier.push(std::mem::take(&mut out.text));
        }
        if let Err(e) = conversation.ask(turn, Vec::new(), &Prices::default()) {
            out.error = Some(e.to_string());
            return out;
        }
        conversation.run_to_end(cancel.cancelled(), |_, _| {}).await;
        let report = conversation.report();
        out.text = report.synthesis.text.clone();
        out.usage.add(&report.usage);
        out.elapsed_ms += report.elapsed_ms.unwrap_or_default();
        if report.outcome != Some(RunOutcome::Synthesized) {
            let why = report
                .error
                .clone()
                .unwrap_or_else(|| "the council produced no synthesis".into());
            out.error = Some(at_turn(turns, i, why));
            return out;
        }
    }
    out
}

/// Why an answer failed, naming the turn (0-based `i`) when there are several.
fn at_turn(turns: &[String], i: usize, why: String) -> String {
    if turns.len() > 1 {
        format!("turn {}: {why}", i + 1)
    } else {
        why
    }
}

/// A baseline's answer to each turn in turn: every request carries the
/// earlier turns and its own earlier answers.
async fn ask_baseline(seat: &Seat, turns: &[String], cancel: CancellationToken) -> Answer {
    let mut out = Answer::default();
    let mut messages: Vec<Message> = seat
        .spec
        .system_prompt
        .iter()
        .map(Message::system)
        .collect();
    for (i, turn) in turns.iter().enumerate() {
        if i > 0 {
            let said = std::mem::take(&mut out.text);
            messages.push(Message::assistant(said.clone()));
            out.earlier.push(said);
        }
        messages.push(Message::user(turn.clone()));
        let request = seat.spec.request(messages.clone());
        let reply = ask_seat(seat, &request, cancel.clone(), |_| {}).await;
        out.text = reply.text;
        out.elapsed_ms += reply.elapsed_ms;
        let failed = match reply.result {
            Ok(completion) => {
                out.usage.add(&completion.usage);
                out.text
                    .trim()
                    .is_empty()
                    .then(|| "an empty answer".to_string())
            }
            Err(e) => Some(e.message),
        };
        if let Some(why) = failed {
            out.error = Some(at_turn(turns, i, why));
            return out;
        }
    }
    out
}
