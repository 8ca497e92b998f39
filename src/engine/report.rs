//! A run's state folded from its events: what `council ask --json` prints
//! and what every front reads. Folding the same events always gives the
//! same report, so a report can be rebuilt from a recorded event log.

use serde::{Deserialize, Serialize};

use crate::engine::council::Limits;
use crate::engine::events::{CouncilEvent, RunOutcome, RunScope, SeatInfo, SeatRole};
use crate::engine::judge::{Analysis, Consistency, Grounding, JudgeFailureKind, LabelMap};
use crate::engine::provenance::{Citations, Provenance};
use crate::engine::ranking::Ranking;
use crate::provider::Usage;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not started yet.
    #[default]
    Queued,
    Streaming,
    Done,
    Failed,
    Cancelled,
    /// Stopped at the deadline once the quorum had answered; its partial
    /// text is kept but left out of the judgement and the synthesis.
    Late,
    /// Never ran (nothing to judge, or the run was cancelled first).
    Skipped,
}

impl Status {
    pub(crate) fn is_settled(self) -> bool {
        !matches!(self, Status::Queued | Status::Streaming)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemberReport {
    pub name: String,
    pub model: String,
    pub status: Status,
    pub text: String,
    pub(crate) reasoning: String,
    pub error: Option<String>,
    pub(crate) finish_reason: Option<String>,
    pub usage: Usage,
    pub ttft_ms: Option<u64>,
    pub elapsed_ms: Option<u64>,
    /// The round this answer comes from (a member that sat a round out
    /// keeps the answer of an earlier one).
    #[serde(default = "first_round")]
    pub round: u32,
    /// Models that failed before this one answered, in the order tried.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallback_from: Vec<String>,
    /// What each of them failed with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallback_errors: Vec<FallbackError>,
    /// A try failed before any answer and another was under way (cleared
    /// once text arrives).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retrying: Option<Retrying>,
}

/// A seat's failed try, with another to follow.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Retrying {
    /// Tries made, of at most `of`.
    pub tries: u32,
    pub of: u32,
    /// Why the last one failed.
    pub error: String,
}

impl Retrying {
    /// `retrying after HTTP 500: … (2/4)`.
    pub fn describe(&self) -> String {
        format!(
            "retrying after {} ({}/{})",
            self.error,
            self.tries + 1,
            self.of
        )
    }
}

/// A model a seat fell back from, and why.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FallbackError {
    pub(crate) model: String,
    pub error: String,
}

/// Records a switch to a fallback: `model` is now the one answering.
fn fell_back(
    model: &mut String,
    from: &mut Vec<String>,
    errors: &mut Vec<FallbackError>,
    failed: &str,
    error: &str,
    next: &str,
) {
    // A judge reading several samples may fall back once per sample.
    if !from.iter().any(|m| m == failed) {
        from.push(failed.to_string());
        errors.push(FallbackError {
            model: failed.to_string(),
            error: error.to_string(),
        });
    }
    *model = next.to_string();
}

fn first_round() -> u32 {
    1
}

/// What failed, named as OpenRouter's Fusion names its failure reasons,
/// plus the limits council adds. A closed set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FailureReason {
    /// Every member failed.
    AllPanelsFailed,
    /// Every member failed for want of credits (HTTP 402).
    InsufficientCredits,
    /// Every member was rate limited (HTTP 429) past its retries.
    RateLimited,
    /// The judge's reply held no JSON object.
    JudgeNotValidJson,
    /// The judge's JSON did not have the analysis' shape.
    JudgeSchemaMismatch,
    /// The judge's request failed.
    JudgeUpstreamError,
    /// The judge replied with nothing.
    JudgeEmptyCompletion,
    /// The spend reached `max_cost` before a stage.
    BudgetExceeded,
    /// Fewer members than the quorum answered.
    NoQuorum,
    /// The synthesizer failed.
    SynthesisFailed,
}

impl FailureReason {
    /// The run's failure, else the judge's (a run goes on to a synthesis
    /// from the raw answers when its judge fails).
    pub(crate) fn of(outcome: RunOutcome, judge: Option<JudgeFailureKind>) -> Option<Self> {
        Some(match outcome {
            RunOutcome::AllMembersFailed => Self::AllPanelsFailed,
            RunOutcome::InsufficientCredits => Self::InsufficientCredits,
            RunOutcome::RateLimited => Self::RateLimited,
            RunOutcome::BudgetExceeded => Self::BudgetExceeded,
            RunOutcome::NoQuorum => Self::NoQuorum,
            RunOutcome::SynthesisFailed => Self::SynthesisFailed,
            RunOutcome::Synthesized | RunOutcome::Answered | RunOutcome::Cancelled => {
                match judge? {
                    JudgeFailureKind::NotJson => Self::JudgeNotValidJson,
                    JudgeFailureKind::SchemaMismatch => Self::JudgeSchemaMismatch,
                    JudgeFailureKind::Upstream => Self::JudgeUpstreamError,
                    JudgeFailureKind::Empty => Self::JudgeEmptyCompletion,
                    JudgeFailureKind::Cancelled => return None,
                }
            }
        })
    }
}

/// A member missing from the judgement and synthesis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DegradedMember {
    pub member: String,
    pub(crate) status: Status,
    pub reason: String,
}

/// One round of a deliberation: the members' answers and the judge's map
/// of them, as they stood when the round ended.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RoundReport {
    pub round: u32,
    pub members: Vec<MemberReport>,
    pub judge: JudgeReport,
    /// The contradiction's topic, when the round answered one dispute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) dispute: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JudgeReport {
    pub(crate) model: String,
    pub status: Status,
    pub analysis: Option<Analysis>,
    /// The judge's raw reply.
    pub text: String,
    pub error: Option<String>,
    /// Why it gave no analysis, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) failure: Option<JudgeFailureKind>,
    /// The anonymous labels the judge saw, with the shuffle's seed.
    pub labels: Option<LabelMap>,
    pub(crate) usage: Usage,
    pub(crate) elapsed_ms: Option<u64>,
    /// How many of the analysis's quotes were found where attributed.
    #[serde(default)]
    pub grounding: Option<Grounding>,
    /// Members whose model is the judge's own: it may prefer their text.
    #[serde(default)]
    pub(crate) judge_is_member: Vec<String>,
    /// With several samples: how many findings recurred across them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) consistency: Option<Consistency>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) fallback_from: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) fallback_errors: Vec<FallbackError>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SynthesisReport {
    pub(crate) model: String,
    pub status: Status,
    /// The answer, its citations taken out.
    pub text: String,
    /// The answer as the synthesizer wrote it, citations and all.
    #[serde(default)]
    pub raw: String,
    /// Where each claim of `text` comes from (when it was asked to cite).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
    /// Takes the citations out of the text as it streams.
    #[serde(skip)]
    citations: Citations,
    pub error: Option<String>,
    /// False when it worked from the raw answers because the judge failed.
    pub with_analysis: bool,
    pub(crate) usage: Usage,
    pub(crate) ttft_ms: Option<u64>,
    pub(crate) elapsed_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) fallback_from: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) fallback_errors: Vec<FallbackError>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub question: String,
    /// What was attached to the question: names, sizes, hashes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) attachments: Vec<crate::attachments::AttachmentInfo>,
    pub(crate) preset: Option<String>,
    /// The members as of the last round.
    pub members: Vec<MemberReport>,
    /// The judge's map of the last round.
    pub judge: JudgeReport,
    /// The round in progress, or the last one.
    #[serde(default = "first_round")]
    pub round: u32,
    /// Every round, the last included once the run has finished.
    #[serde(default)]
    pub rounds: Vec<RoundReport>,
    /// Contradictions the judge found per round (`null` where it failed).
    #[serde(default)]
    pub convergence: Vec<Option<usize>>,
    /// The topic of the dispute the current round answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispute: Option<String>,
    /// Members' ranking of each other's answers, when asked for.
    #[serde(default)]
    pub ranking: Option<Ranking>,
    /// Some members gave no answer (failed, late, cancelled): the
    /// judgement and synthesis rest on fewer than the whole panel.
    #[serde(default)]
    pub degraded: bool,
    /// Which members, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub degraded_members: Vec<DegradedMember>,
    /// Why the run ended without a synthesis, in the underlying errors'
    /// words; or, with one, why the judge gave no analysis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What failed, in Fusion's terms, when anything did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) failure_reason: Option<FailureReason>,
    /// The quorum, deadline and budget cap the run was held to.
    #[serde(default, skip_serializing_if = "Limits::is_unset")]
    pub limits: Limits,
    pub synthesis: SynthesisReport,
    pub usage: Usage,
    pub(crate) elapsed_ms: Option<u64>,
    pub outcome: Option<RunOutcome>,
    /// The judgement and synthesis predate answers that changed since (a
    /// member re-run or added); judging again clears it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stale: bool,
    /// What the run in progress covers; a partial run adds to the totals.
    #[serde(skip)]
    pub(crate) scope: RunScope,
    /// The turn's spend so far, the run in progress included: what every
    /// settled stage reported. Only grows within a turn (read it through
    /// [`Self::spent`], which also covers a report read from JSON).
    #[serde(skip)]
    pub(crate) live: Usage,
}

/// The members sharing the judge's model.
fn same_model(members: &[SeatInfo], judge: &SeatInfo) -> Vec<String> {
    members
        .iter()
        .filter(|m| m.model == judge.model)
        .map(|m| m.name.clone())
        .collect()
}

/// The synthesis as a front shows it while it streams: the report's text,
/// its citations taken out (a piece held back until it is known to be
/// text), given out a piece at a time. `ask`, `serve` and the TUI each
/// show the synthesis through one, so they show the same text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SynthesisFeed {
    /// Bytes of the report's synthesis text given out so far.
    shown: usize,
}

impl SynthesisFeed {
    /// Once `event` is folded into `report`: the synthesis text it added,
    /// if any. A synthesis that starts (again) starts the feed over.
    pub fn take<'r>(&mut self, event: &CouncilEvent, report: &'r RunReport) -> Option<&'r str> {
        use CouncilEvent as E;
        match event {
            E::SynthesisStarted { .. } => {
                self.shown = 0;
                None
            }
            E::SynthesisDelta { .. } | E::SynthesisFinished { .. } | E::SynthesisFailed { .. } => {
                let text = &report.synthesis.text;
                let new = text.get(self.shown..).unwrap_or("");
                self.shown = text.len();
                (!new.is_empty()).then_some(new)
            }
            _ => None,
        }
    }
}

impl RunReport {
    /// Why a stage that did not run was skipped, in words: the run was
    /// cancelled, or what the run's error says.
    pub fn why_skipped(&self) -> String {
        match (self.outcome, &self.error) {
            (Some(RunOutcome::Cancelled), _) => "the run was cancelled".into(),
            (_, Some(error)) => error.clone(),
            (_, None) => "no member answered".into(),
        }
    }

    /// Folds a whole event sequence.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a CouncilEvent>) -> Self {
        let mut report = Self::default();
        for e in events {
            report.apply(e);
        }
        report
    }

    /// Folds one event into the report.
    pub fn apply(&mut self, event: &CouncilEvent) {
        use CouncilEvent as E;
        match event {
            E::RunStarted {
                scope: RunScope::Members(indices),
                members,
                ..
            } => {
                // New members join; the re-run ones start over; the rest keep their answers.
                for (i, seat) in members.iter().enumerate() {
                    if i >= self.members.len() {
                        self.members.push(MemberReport::queued(seat));
                    } else if indices.contains(&i) {
                        self.members[i] = MemberReport::queued(seat);
                    }
                }
                self.outcome = None;
                self.live = self.usage;
                self.stale |= [self.judge.status, self.synthesis.status]
                    .iter()
                    .any(|s| *s != Status::Queued && *s != Status::Skipped);
                self.scope = RunScope::Members(indices.clone());
            }
            E::RunStarted {
                scope: RunScope::Judgement,
                members,
                judge,
                synthesizer,
                ..
            } => {
                self.judge = JudgeReport {
                    model: judge.model.clone(),
                    judge_is_member: same_model(members, judge),
                    ..JudgeReport::default()
                };
                self.synthesis = SynthesisReport {
                    model: synthesizer.model.clone(),
                    ..SynthesisReport::default()
                };
                self.ranking = None;
                self.outcome = None;
                self.live = self.usage;
                self.stale = false;
                self.scope = RunScope::Judgement;
            }
            E::RunStarted {
                scope: RunScope::Round,
                synthesizer,
                ..
            } => {
                // The judge is reset when the round starts: its map belongs to the round before.
                self.synthesis = SynthesisReport {
                    model: synthesizer.model.clone(),
                    ..SynthesisReport::default()
                };
                self.ranking = None;
                self.outcome = None;
                self.live = self.usage;
                self.stale = false;
                self.scope = RunScope::Round;
            }
            E::RoundStarted {
                round,
                members,
                dispute,
            } => {
                let round = (*round).max(2);
                self.rounds.truncate(round as usize - 2);
                self.rounds.push(self.current_round());
                self.round = round;
                self.dispute = dispute.clone();
                for &i in members {
                    if let Some(m) = self.members.get_mut(i) {
                        *m = MemberReport {
                            name: m.name.clone(),
                            model: m.model.clone(),
                            round,
                            ..MemberReport::default()
                        };
                    }
                }
                self.judge = JudgeReport {
                    model: self.judge.model.clone(),
                    judge_is_member: std::mem::take(&mut self.judge.judge_is_member),
                    ..JudgeReport::default()
                };
            }
            E::RankingStarted { .. } => self.ranking = None,
            E::RankingFinished { ranking } => {
                self.live.add(&ranking.usage);
                self.ranking = Some(ranking.clone());
            }
            E::RunStarted {
                question,
                preset,
                members,
                judge,
                synthesizer,
                scope: RunScope::Full,
                limits,
                attachments,
            } => {
                *self = RunReport {
                    question: question.clone(),
                    attachments: attachments.clone(),
                    preset: preset.clone(),
                    limits: *limits,
                    round: 1,
                    members: members.iter().map(MemberReport::queued).collect(),
                    judge: JudgeReport {
                        model: judge.model.clone(),
                        judge_is_member: same_model(members, judge),
                        ..JudgeReport::default()
                    },
                    synthesis: SynthesisReport {
                        model: synthesizer.model.clone(),
                        ..SynthesisReport::default()
                    },
                    ..RunReport::default()
                };
            }
            E::Fallback {
                seat,
                model,
                error,
                next,
            } => {
                let (answering, from, errors) = match seat {
                    SeatRole::Member { member } => match self.members.get_mut(*member) {
                        Some(m) => (&mut m.model, &mut m.fallback_from, &mut m.fallback_errors),
                        None => return,
                    },
                    SeatRole::Judge => (
                        &mut self.judge.model,
                        &mut self.judge.fallback_from,
                        &mut self.judge.fallback_errors,
                    ),
                    SeatRole::Synthesizer => (
                        &mut self.synthesis.model,
                        &mut self.synthesis.fallback_from,
                        &mut self.synthesis.fallback_errors,
                    ),
                };
                fell_back(answering, from, errors, model, &error.message, next);
            }
            E::MemberStarted { member } => {
                if let Some(m) = self.members.get_mut(*member) {
                    m.status = Status::Streaming;
                    m.round = self.round;
                }
            }
            E::MemberDelta { member, text } => {
                if let Some(m) = self.members.get_mut(*member) {
                    m.text.push_str(text);
                    m.retrying = None;
                }
            }
            E::MemberRetrying {
                member,
                tries,
                of,
                error,
            } => {
                if let Some(m) = self.members.get_mut(*member) {
                    m.retrying = Some(Retrying {
                        tries: *tries,
                        of: *of,
                        error: error.clone(),
                    });
                }
            }
            E::MemberReasoning { member, text } => {
                if let Some(m) = self.members.get_mut(*member) {
                    m.reasoning.push_str(text);
                }
            }
            E::MemberFinished {
                member,
                finish_reason,
                usage,
                ttft_ms,
                elapsed_ms,
                ..
            } => {
                self.live.add(usage);
                if let Some(m) = self.members.get_mut(*member) {
                    m.retrying = None;
                    m.status = Status::Done;
                    m.finish_reason = finish_reason.clone();
                    m.usage = *usage;
                    m.ttft_ms = *ttft_ms;
                    m.elapsed_ms = Some(*elapsed_ms);
                }
            }
            E::MemberFailed {
                member,
                error,
                ttft_ms,
                elapsed_ms,
            } => {
                if let Some(m) = self.members.get_mut(*member) {
                    m.retrying = None;
                    m.status = Status::Failed;
                    m.error = Some(error.message.clone());
                    m.ttft_ms = *ttft_ms;
                    m.elapsed_ms = Some(*elapsed_ms);
                }
            }
            E::MemberLate {
                member,
                ttft_ms,
                elapsed_ms,
            } => {
                if let Some(m) = self.members.get_mut(*member) {
                    m.status = Status::Late;
                    m.ttft_ms = *ttft_ms;
                    m.elapsed_ms = Some(*elapsed_ms);
                    // Stopped while retrying: why its tries failed is kept.
                    if let Some(retry) = m.retrying.take() {
                        let tries = match retry.tries {
                            1 => "1 failed try".to_string(),
                            n => format!("{n} failed tries"),
                        };
                        m.error = Some(format!(
                            "stopped at the deadline after {tries}; the last: {}",
                            retry.error
                        ));
                    }
                }
            }
            E::MemberCancelled { member, elapsed_ms } => {
                if let Some(m) = self.members.get_mut(*member) {
                    m.retrying = None;
                    m.status = Status::Cancelled;
                    m.elapsed_ms = Some(*elapsed_ms);
                }
            }
            E::JudgeStarted { model, labels } => {
                self.judge.model = model.clone();
                self.judge.status = Status::Streaming;
                self.judge.labels = Some(labels.clone());
            }
            E::JudgeDelta { text } => self.judge.text.push_str(text),
            E::JudgeFinished {
                analysis,
                usage,
                elapsed_ms,
                consistency,
            } => {
                self.live.add(usage);
                self.judge.consistency = *consistency;
                self.judge.status = Status::Done;
                // The run checked the quotes: their verdicts are kept as
                // they came. A session written before quotes were checked
                // is checked here, against the answers as folded.
                let mut analysis = analysis.clone();
                if !analysis.checked {
                    let answers: Vec<(String, &str)> = self
                        .members
                        .iter()
                        .filter(|m| m.status == Status::Done)
                        .map(|m| (m.name.clone(), m.text.as_str()))
                        .collect();
                    crate::engine::judge::ground(&mut analysis, &answers);
                }
                self.judge.grounding = Some(analysis.grounding());
                self.judge.analysis = Some(analysis);
                self.judge.usage = *usage;
                self.judge.elapsed_ms = Some(*elapsed_ms);
            }
            E::JudgeFailed {
                failure,
                usage,
                elapsed_ms,
            } => {
                self.live.add(usage);
                self.judge.status = match failure.kind {
                    JudgeFailureKind::Cancelled => Status::Cancelled,
                    _ => Status::Failed,
                };
                self.judge.error = Some(failure.to_string());
                self.judge.failure = Some(failure.kind);
                self.judge.usage = *usage;
                self.judge.elapsed_ms = Some(*elapsed_ms);
            }
            E::SynthesisStarted {
                model,
                with_analysis,
                citable,
            } => {
                self.synthesis.model = model.clone();
                self.synthesis.status = Status::Streaming;
                self.synthesis.with_analysis = *with_analysis;
                self.synthesis.citations = Citations::new(citable.clone());
            }
            E::SynthesisDelta { text } => {
                self.synthesis.raw.push_str(text);
                let shown = self.synthesis.citations.push(text);
                self.synthesis.text.push_str(&shown);
            }
            E::SynthesisFinished {
                finish_reason: _,
                usage,
                ttft_ms,
                elapsed_ms,
                provenance,
            } => {
                self.live.add(usage);
                let rest = self.synthesis.citations.finish();
                self.synthesis.text.push_str(&rest);
                self.synthesis.provenance = provenance.as_deref().cloned();
                self.synthesis.status = Status::Done;
                self.synthesis.usage = *usage;
                self.synthesis.ttft_ms = *ttft_ms;
                self.synthesis.elapsed_ms = Some(*elapsed_ms);
            }
            E::SynthesisFailed { error, elapsed_ms } => {
                let rest = self.synthesis.citations.finish();
                self.synthesis.text.push_str(&rest);
                self.synthesis.status = if error.is_cancelled() {
                    Status::Cancelled
                } else {
                    Status::Failed
                };
                self.synthesis.error = Some(error.message.clone());
                self.synthesis.elapsed_ms = Some(*elapsed_ms);
            }
            E::RunFinished {
                outcome,
                usage,
                elapsed_ms,
                error,
            } => {
                self.outcome = Some(*outcome);
                self.error = error.clone();
                self.failure_reason = FailureReason::of(*outcome, self.judge.failure);
                if self.error.is_none()
                    && self.failure_reason.is_some()
                    && let Some(failure) = &self.judge.error
                {
                    self.error = Some(format!("the judge failed: {failure}"));
                }
                if self.scope == RunScope::Full {
                    self.usage = *usage;
                    self.elapsed_ms = Some(*elapsed_ms);
                } else {
                    self.usage.add(usage);
                    self.elapsed_ms = Some(self.elapsed_ms.unwrap_or(0) + elapsed_ms);
                }
                if !matches!(self.scope, RunScope::Members(_)) {
                    for status in [&mut self.judge.status, &mut self.synthesis.status] {
                        if !status.is_settled() {
                            *status = Status::Skipped;
                        }
                    }
                }
                self.scope = RunScope::Full;
                self.rounds.truncate(self.round.max(1) as usize - 1);
                self.rounds.push(self.current_round());
                self.convergence = self.contradictions_per_round();
                self.degraded_members = self
                    .members
                    .iter()
                    .filter_map(|m| {
                        let reason = match m.status {
                            Status::Failed => m.error.clone().unwrap_or_else(|| "failed".into()),
                            Status::Late => "stopped at the deadline".into(),
                            Status::Cancelled => "cancelled".into(),
                            Status::Done if m.text.trim().is_empty() => "no text".into(),
                            _ => return None,
                        };
                        Some(DegradedMember {
                            member: m.name.clone(),
                            status: m.status,
                            reason,
                        })
                    })
                    .collect();
                self.degraded = !self.degraded_members.is_empty();
            }
        }
    }

    /// What the turn has cost so far: the run's own total once it ended,
    /// else every settled stage of it (and of the runs before it in the
    /// turn). A round, a re-run or a re-judgement only adds to it.
    pub(crate) fn spent(&self) -> Usage {
        if self.outcome.is_some() {
            self.usage
        } else {
            self.live
        }
    }

    /// The round in progress as a [`RoundReport`].
    pub(crate) fn current_round(&self) -> RoundReport {
        RoundReport {
            round: self.round,
            members: self.members.clone(),
            judge: self.judge.clone(),
            dispute: self.dispute.clone(),
        }
    }

    /// Contradictions per round so far, the round in progress included once
    /// its judge has answered (`None` where the judge failed).
    pub(crate) fn contradictions_per_round(&self) -> Vec<Option<usize>> {
        let count = |j: &JudgeReport| j.analysis.as_ref().map(|a| a.contradictions.len());
        let earlier = self.rounds.iter().filter(|r| r.round < self.round);
        let mut out: Vec<Option<usize>> = earlier.map(|r| count(&r.judge)).collect();
        if self.judge.status.is_settled() {
            out.push(count(&self.judge));
        }
        out
    }

    /// A member's report in `round` (the current one included).
    pub(crate) fn member_in_round(&self, member: usize, round: u32) -> Option<&MemberReport> {
        if round == self.round {
            return self.members.get(member);
        }
        self.rounds
            .iter()
            .find(|r| r.round == round)?
            .members
            .get(member)
    }

    /// After the panel was edited: members follow the new seats, matched by
    /// name (a removed or moved member takes its answer with it). Returns,
    /// for each new seat, the index it had before (`None`: a new member).
    pub(crate) fn reseat(&mut self, seats: &[SeatInfo]) -> Vec<Option<usize>> {
        let mut old: Vec<Option<MemberReport>> = std::mem::take(&mut self.members)
            .into_iter()
            .map(Some)
            .collect();
        let mut moves = Vec::with_capacity(seats.len());
        for seat in seats {
            let from = old
                .iter()
                .position(|m| m.as_ref().is_some_and(|m| m.name == seat.name));
            let member = from
                .and_then(|j| old[j].take())
                .unwrap_or_else(|| MemberReport::queued(seat));
            self.members.push(member);
            moves.push(from);
        }
        moves
    }

    /// Each member's answer by panel index: its text when it finished,
    /// `None` otherwise.
    pub(crate) fn answers(&self) -> Vec<Option<String>> {
        self.members
            .iter()
            .map(|m| (m.status == Status::Done).then(|| m.text.clone()))
            .collect()
    }

    /// Members that finished with an answer, in panel order.
    pub(crate) fn answered(&self) -> impl Iterator<Item = (usize, &MemberReport)> {
        self.members
            .iter()
            .enumerate()
            .filter(|(_, m)| m.status == Status::Done && !m.text.trim().is_empty())
    }
}

impl MemberReport {
    /// A member that has not run yet.
    pub(crate) fn queued(seat: &SeatInfo) -> Self {
        Self {
            name: seat.name.clone(),
            model: seat.model.clone(),
            round: 1,
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn started(scope: RunScope) -> CouncilEvent {
        let seat = |name: &str| SeatInfo {
            name: name.into(),
            model: format!("x/{name}"),
            provider: "custom".into(),
        };
        CouncilEvent::RunStarted {
            question: "Q?".into(),
            scope,
            preset: None,
            members: vec![seat("a"), seat("b")],
            judge: seat("judge"),
            synthesizer: seat("synthesizer"),
            limits: Default::default(),
            attachments: Vec::new(),
        }
    }

    /// The feed gives out what the synthesis gained, its citations taken
    /// out and a held-back piece at the end; a synthesis that starts again
    /// starts the feed over.
    #[test]
    fn the_synthesis_feed_gives_out_the_shown_text_piece_by_piece() {
        let synthesis_started = CouncilEvent::SynthesisStarted {
            model: "x/synthesizer".into(),
            with_analysis: true,
            citable: vec!["a".into(), "b".into()],
        };
        let delta = |text: &str| CouncilEvent::SynthesisDelta { text: text.into() };
        let mut report = RunReport::from_events(&[started(RunScope::Full)]);
        let mut feed = SynthesisFeed::default();
        let mut shown = String::new();
        let finished = CouncilEvent::SynthesisFinished {
            finish_reason: None,
            usage: Usage::default(),
            ttft_ms: None,
            elapsed_ms: 1,
            provenance: None,
        };
        for event in [
            synthesis_started.clone(),
            delta("Blue [a"),
            delta("]. Red ["),
            finished.clone(),
        ] {
            report.apply(&event);
            shown.push_str(feed.take(&event, &report).unwrap_or(""));
        }
        assert_eq!(shown, "Blue. Red [");
        assert_eq!(feed.take(&started(RunScope::Full), &report), None);
        // Again, from the start.
        report.apply(&started(RunScope::Judgement));
        report.apply(&synthesis_started);
        assert_eq!(feed.take(&synthesis_started, &report), None);
        report.apply(&delta("Again."));
        assert_eq!(feed.take(&delta("Again."), &report), Some("Again."));
    }

    #[test]
    fn answers_changed_after_a_judgement_make_it_stale_until_judged_again() {
        let mut report = RunReport::from_events(&[started(RunScope::Full)]);
        report.apply(&started(RunScope::Members(vec![1])));
        assert!(!report.stale, "nothing was judged yet");

        report.judge.status = Status::Done;
        report.synthesis.status = Status::Done;
        report.apply(&started(RunScope::Members(vec![1])));
        assert!(report.stale, "a member re-ran after the judgement");
        report.apply(&started(RunScope::Judgement));
        assert!(!report.stale, "judged again");

        report.judge.status = Status::Failed;
        report.apply(&started(RunScope::Members(vec![0])));
        assert!(report.stale, "a synthesis was written, so it is stale too");
        report.apply(&started(RunScope::Full));
        assert!(!report.stale, "a new question starts afresh");
    }
}
