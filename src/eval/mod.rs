//! `council eval`: the council against solo models on a person's own
//! questions. Each question goes to the council and to every baseline; a
//! grader compares the synthesis with each baseline answer twice, the
//! positions swapped, and only a verdict both orders agree on counts.

pub(crate) mod grade;
pub mod header;
pub mod questions;
pub mod summary;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::conversation::Conversation;
use crate::engine::orchestrator::ask_seat;
use crate::engine::{Council, RunOutcome, Seat};
use crate::models::prices::Prices;
use crate::provider::Usage;
pub use grade::{Verdict, Winner};
pub use header::ResultsHeader;
pub use questions::{EvalQuestion, parse_questions};
pub use summary::{BaselineSummary, summarize};

/// What is compared: the council, the solo models, and who grades.
pub struct Evaluation {
    pub council: Council,
    pub baselines: Vec<Seat>,
    pub grader: Seat,
}

/// One answer: the council's synthesis or a baseline's reply.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Answer {
    pub(crate) text: String,
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
    /// The council as A, then as B.
    pub(crate) verdicts: Vec<Verdict>,
    pub outcome: Outcome,
    /// What the grader cost.
    pub(crate) grading: Usage,
}

/// One line of the results file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionResult {
    pub id: String,
    pub(crate) question: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reference: Option<String>,
    pub(crate) council: Answer,
    /// By baseline model.
    pub baselines: BTreeMap<String, Comparison>,
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

/// Runs one question through the council and every baseline at once, then
/// grades each pair in both orders.
pub async fn evaluate(
    eval: &Evaluation,
    q: &EvalQuestion,
    cancel: CancellationToken,
) -> QuestionResult {
    let council = ask_council(eval.council.clone(), &q.question, cancel.clone());
    let baselines = futures::future::join_all(
        eval.baselines
            .iter()
            .map(|seat| ask_baseline(seat, &q.question, cancel.clone())),
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
                    let (first, second) = tokio::join!(
                        grade::grade(&eval.grader, q, &council.text, &answer.text, cancel.clone()),
                        grade::grade(&eval.grader, q, &answer.text, &council.text, cancel),
                    );
                    let mut grading = first.usage;
                    grading.add(&second.usage);
                    let outcome = grade::combine(&first, &second);
                    Comparison {
                        answer,
                        verdicts: vec![first, second],
                        outcome,
                        grading,
                    }
                };
                (seat.spec.model.clone(), comparison)
            }
        }))
        .await;
    QuestionResult {
        id: q.id.clone(),
        question: q.question.clone(),
        reference: q.reference.clone(),
        council,
        baselines: graded.into_iter().collect(),
    }
}

async fn ask_council(council: Council, question: &str, cancel: CancellationToken) -> Answer {
    let mut conversation = Conversation::with_council(council);
    if let Err(e) = conversation.ask(question, Vec::new(), &Prices::default()) {
        return Answer {
            error: Some(e.to_string()),
            ..Answer::default()
        };
    }
    conversation.run_to_end(cancel.cancelled(), |_, _| {}).await;
    let report = conversation.report();
    let error = (report.outcome != Some(RunOutcome::Synthesized)).then(|| {
        report
            .error
            .clone()
            .unwrap_or_else(|| "the council produced no synthesis".into())
    });
    Answer {
        text: report.synthesis.text.clone(),
        usage: report.usage,
        elapsed_ms: report.elapsed_ms.unwrap_or_default(),
        error,
    }
}

async fn ask_baseline(seat: &Seat, question: &str, cancel: CancellationToken) -> Answer {
    let out = ask_seat(seat, &seat.spec.ask(question), cancel, |_| {}).await;
    match out.result {
        Ok(completion) if !out.text.trim().is_empty() => Answer {
            text: out.text,
            usage: completion.usage,
            elapsed_ms: out.elapsed_ms,
            error: None,
        },
        Ok(completion) => Answer {
            text: out.text,
            usage: completion.usage,
            elapsed_ms: out.elapsed_ms,
            error: Some("an empty answer".into()),
        },
        Err(e) => Answer {
            text: out.text,
            usage: Usage::default(),
            elapsed_ms: out.elapsed_ms,
            error: Some(e.message),
        },
    }
}
