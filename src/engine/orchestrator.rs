//! Runs a council: the panel concurrently, then the judge, then the
//! synthesizer, reporting every step as a [`CouncilEvent`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::attachments::{Attachment, with_attachments};
use crate::engine::council::{Council, Seat};
use crate::engine::deliberation;
use crate::engine::events::{CouncilEvent, RunOutcome, RunScope, SeatRole};
use crate::engine::judge::{
    self, Analysis, Contradiction, JudgeFailure, JudgeFailureKind, LabelMap,
};
use crate::engine::provenance::Provenance;
use crate::engine::ranking::{self, Ballot, MalformedBallot, Ranking};
use crate::engine::synthesis::{self, NamedAnswer};
use crate::provider::{ChatRequest, Completion, Delta, ErrorKind, Message, ProviderError, Usage};

/// Per-run choices that are not part of the council itself.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Seed for the judge's label shuffle; random when `None`.
    pub seed: Option<u64>,
    /// Earlier turns of the conversation, oldest first.
    pub history: Vec<PastTurn>,
    /// What members see of the earlier turns.
    pub context: ContextMode,
    /// Files and piped text given with the question: every seat reads them.
    pub attachments: Vec<Attachment>,
    /// Stop once the members have answered: no judge, no synthesis (a
    /// panel of one has nothing to compare).
    pub panel_only: bool,
    /// The form the final answer must take (a client's `response_format`):
    /// asked of the synthesizer.
    pub answer_format: Option<crate::provider::JsonSchema>,
}

/// An earlier question of the conversation and what came of it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PastTurn {
    pub(crate) question: String,
    pub(crate) synthesis: String,
    /// Each member's answer, by panel index (`None`: it gave none).
    pub(crate) answers: Vec<Option<String>>,
}

impl From<&crate::engine::RunReport> for PastTurn {
    fn from(report: &crate::engine::RunReport) -> Self {
        Self {
            question: report.question.clone(),
            synthesis: report.synthesis.text.clone(),
            answers: report.answers(),
        }
    }
}

/// What a member sees of earlier turns: the council's final answers (the
/// default), or its own earlier answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ContextMode {
    #[default]
    Syntheses,
    OwnAnswers,
}

/// Earlier turns as chat messages: each question, then the answer the
/// reader should remember (for `member`, per `mode`; else the synthesis).
pub(crate) fn history_messages(options: &RunOptions, member: Option<usize>) -> Vec<Message> {
    let mut out = Vec::with_capacity(options.history.len() * 2);
    for turn in &options.history {
        let own = match (options.context, member) {
            (ContextMode::OwnAnswers, Some(i)) => turn.answers.get(i).cloned().flatten(),
            _ => None,
        };
        let answer = own.unwrap_or_else(|| turn.synthesis.clone());
        if answer.trim().is_empty() {
            continue;
        }
        out.push(Message::user(turn.question.clone()));
        out.push(Message::assistant(answer));
    }
    out
}

/// What a partial run starts from: the answers members have (by panel
/// index; `None` for members without one), the round they come from, that
/// round's judgement, and for a dispute the contradiction put to the
/// members it involves.
#[derive(Debug, Clone, Default)]
pub struct Basis {
    pub answers: Vec<Option<String>>,
    pub round: u32,
    pub analysis: Option<Analysis>,
    pub dispute: Option<Contradiction>,
    /// For members re-run in a revision round: what that round read.
    pub revising: Option<Revising>,
}

/// What a revision round's members read: the answers of the round before
/// (by panel index) and its judgement, and the dispute the round answered.
/// A member re-run in that round is asked the round's request again.
#[derive(Debug, Clone, Default)]
pub struct Revising {
    pub(crate) answers: Vec<Option<String>>,
    pub(crate) analysis: Option<Analysis>,
    pub(crate) dispute: Option<Contradiction>,
}

impl Basis {
    /// The answers of a finished run, its last round and its judgement.
    pub fn of(report: &crate::engine::RunReport) -> Self {
        Self {
            answers: report.answers(),
            round: report.round,
            analysis: report.judge.analysis.clone(),
            dispute: None,
            revising: None,
        }
    }

    /// As [`Self::of`], for members re-run in the round shown: past the
    /// first round, with what that round read.
    pub(crate) fn rerun(report: &crate::engine::RunReport) -> Self {
        let revising = report
            .round
            .checked_sub(1)
            .filter(|r| *r >= 1)
            .and_then(|before| {
                let earlier = report.rounds.iter().find(|r| r.round == before)?;
                let analysis = earlier.judge.analysis.clone();
                let dispute = report.dispute.as_ref().and_then(|topic| {
                    let found = analysis.as_ref()?.contradictions.iter();
                    found.clone().find(|c| &c.topic == topic).cloned()
                });
                Some(Revising {
                    answers: earlier
                        .members
                        .iter()
                        .map(|m| (m.status == crate::engine::Status::Done).then(|| m.text.clone()))
                        .collect(),
                    analysis,
                    dispute,
                })
            });
        Self {
            revising,
            ..Self::of(report)
        }
    }
}

/// A running council: its events, and the means to cancel it or one member.
pub struct RunHandle {
    pub events: mpsc::UnboundedReceiver<CouncilEvent>,
    cancel: RunCanceller,
}

/// Cancels a run or one of its members; cheap to clone and share.
#[derive(Debug, Clone)]
pub struct RunCanceller {
    run: CancellationToken,
    members: Arc<[CancellationToken]>,
}

impl RunCanceller {
    /// Cancels everything still running; stages not yet started are skipped.
    pub(crate) fn cancel(&self) {
        self.run.cancel();
    }

    /// Cancels one member; the rest of the council goes on. Returns false
    /// for an index outside the panel.
    pub(crate) fn cancel_member(&self, member: usize) -> bool {
        self.members
            .get(member)
            .map(CancellationToken::cancel)
            .is_some()
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.run.is_cancelled()
    }
}

impl RunHandle {
    pub(crate) fn canceller(&self) -> RunCanceller {
        self.cancel.clone()
    }

    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    pub fn cancel_member(&self, member: usize) -> bool {
        self.cancel.cancel_member(member)
    }
}

/// Starts a council run on the current tokio runtime.
pub fn run(council: Council, question: impl Into<String>, options: RunOptions) -> RunHandle {
    run_scoped(council, question, options, RunScope::Full, Basis::default())
}

/// Starts part of a run: some members only, the judge and synthesis over
/// the `basis` answers, or one more round from them. Members outside the
/// scope are not asked again.
pub fn run_scoped(
    council: Council,
    question: impl Into<String>,
    options: RunOptions,
    scope: RunScope,
    basis: Basis,
) -> RunHandle {
    let question = question.into();
    let (tx, events) = mpsc::unbounded_channel();
    let run_token = CancellationToken::new();
    let members: Arc<[CancellationToken]> = council
        .members
        .iter()
        .map(|_| run_token.child_token())
        .collect();
    let cancel = RunCanceller {
        run: run_token,
        members,
    };
    let seed = options.seed.unwrap_or_else(rand::random);
    let council_late: Arc<[AtomicBool]> = council
        .members
        .iter()
        .map(|_| AtomicBool::new(false))
        .collect();
    // Members asking one provider at once, at most: more wait their turn, queued.
    let slots = council
        .members
        .iter()
        .map(|seat| {
            let semaphore = Arc::new(tokio::sync::Semaphore::new(PROVIDER_CONCURRENCY));
            (seat.spec.provider.clone(), semaphore)
        })
        .collect();
    let task = Orchestrator {
        council,
        prompt: with_attachments(&question, &options.attachments),
        question,
        options,
        seed,
        scope,
        basis,
        started: Instant::now(),
        late: council_late,
        slots,
        tx,
        cancel: cancel.clone(),
    };
    tokio::spawn(task.run());
    RunHandle { events, cancel }
}

struct Orchestrator {
    council: Council,
    /// The question as asked (events and sessions record it).
    question: String,
    /// The question with its attachments: what every seat reads.
    prompt: String,
    options: RunOptions,
    /// Seeds every shuffle of the run: the judge's labels, each member's
    /// view of its peers, each reviewer's ballot.
    seed: u64,
    scope: RunScope,
    /// What a partial run starts from.
    basis: Basis,
    /// When the run started: the deadline counts from here.
    started: Instant,
    /// Members stopped at the deadline (their cancellation means "late").
    late: Arc<[AtomicBool]>,
    /// Per provider: how many members may be asking it at once.
    slots: std::collections::HashMap<String, Arc<tokio::sync::Semaphore>>,
    tx: mpsc::UnboundedSender<CouncilEvent>,
    cancel: RunCanceller,
}

/// The result of streaming one request.
pub(crate) struct StageOutput {
    pub(crate) text: String,
    pub(crate) result: Result<Completion, ProviderError>,
    pub(crate) ttft_ms: Option<u64>,
    pub(crate) elapsed_ms: u64,
}

/// [`stream_stage`] for a request with a JSON schema: some servers reject
/// `response_format` (a 400 before any text), so it is asked again without.
async fn stream_structured(
    seat: &Seat,
    request: &ChatRequest,
    cap: usize,
    token: CancellationToken,
    mut fell_back: impl FnMut(String, ProviderError, String),
    mut emit: impl FnMut(Delta) + Send,
) -> StageOutput {
    let mut out = stream_stage(seat, request, cap, token.clone(), &mut fell_back, &mut emit).await;
    if request.json_schema.is_some()
        && out.text.is_empty()
        && matches!(&out.result, Err(e) if e.kind == (ErrorKind::Http { status: 400 }))
    {
        let plain = ChatRequest {
            json_schema: None,
            ..request.clone()
        };
        out = stream_stage(seat, &plain, cap, token, &mut fell_back, &mut emit).await;
    }
    out
}

/// One seat asked once, outside a run (`council eval` asks baselines and a
/// grader this way, `ask -m` one model): fallbacks apply as in a run, and an
/// endpoint that rejects the JSON schema is asked again without it.
pub(crate) async fn ask_seat(
    seat: &Seat,
    request: &ChatRequest,
    cancel: CancellationToken,
    emit: impl FnMut(Delta) + Send,
) -> StageOutput {
    let cap = crate::engine::council::ANSWER_BYTES as usize;
    stream_structured(seat, request, cap, cancel, |_, _, _| {}, emit).await
}

/// Streams one request, handing each delta to `emit` and keeping the text.
/// When the seat's model fails before its first byte with an error another
/// model could fix, its fallbacks are tried in turn (`fell_back` hears of
/// each switch); never once text has arrived. An answer (text and
/// reasoning together) that passes `cap` bytes is stopped there and fails,
/// the text up to the cap kept.
async fn stream_stage(
    seat: &Seat,
    request: &ChatRequest,
    cap: usize,
    token: CancellationToken,
    mut fell_back: impl FnMut(String, ProviderError, String),
    mut emit: impl FnMut(Delta) + Send,
) -> StageOutput {
    let started = Instant::now();
    let mut text = String::new();
    let mut ttft_ms = None;
    let mut request = request.clone();
    let mut provider = &seat.provider;
    let mut fallbacks = seat.fallbacks.iter();
    // Bytes of text and reasoning so far; past the cap the stream is
    // stopped and nothing more is taken.
    let mut taken = 0usize;
    let stop = token.child_token();
    let mut over = false;
    let result = loop {
        let result = {
            let mut sink = |mut delta: Delta| {
                if over {
                    return;
                }
                // A retry is news, not output: no first token, no bytes.
                if matches!(delta, Delta::Retrying { .. }) {
                    emit(delta);
                    return;
                }
                ttft_ms.get_or_insert_with(|| millis(started));
                let (Delta::Text(t) | Delta::Reasoning(t)) = &mut delta else {
                    return;
                };
                let room = cap.saturating_sub(taken);
                if t.len() > room {
                    t.truncate(floor_char_boundary(t, room));
                    over = true;
                    stop.cancel();
                }
                taken += t.len();
                if t.is_empty() {
                    return;
                }
                if let Delta::Text(t) = &delta {
                    text.push_str(t);
                }
                emit(delta);
            };
            provider
                .stream_chat(&request, stop.clone(), &mut sink)
                .await
        };
        if over {
            break Err(ProviderError::new(
                ErrorKind::TooLong,
                format!(
                    "the answer passed the {} cap on one answer and was stopped there (max_answer_bytes)",
                    crate::attachments::human_size(cap as u64)
                ),
            ));
        }
        match result {
            Err(e) if ttft_ms.is_none() && e.another_model_may_fix() => match fallbacks.next() {
                Some(next) => {
                    fell_back(request.model.clone(), e, next.model.clone());
                    request.model = next.model.clone();
                    provider = &next.provider;
                }
                None => break Err(e),
            },
            other => break other,
        }
    };
    StageOutput {
        text,
        result,
        ttft_ms,
        elapsed_ms: millis(started),
    }
}

/// Members asking one provider at once, at most, in a run.
pub const PROVIDER_CONCURRENCY: usize = 16;

/// Why no member answered: no credits or rate limits when every failure
/// says so, else every member's error.
fn no_answers(
    failures: &[(usize, ProviderError)],
    council: &Council,
) -> (RunOutcome, Option<String>) {
    let all = |status: u16| {
        !failures.is_empty()
            && failures.len() == council.members.len()
            && failures
                .iter()
                .all(|(_, e)| e.kind == ErrorKind::Http { status })
    };
    let outcome = if all(402) {
        RunOutcome::InsufficientCredits
    } else if all(429) {
        RunOutcome::RateLimited
    } else {
        RunOutcome::AllMembersFailed
    };
    let reasons: Vec<String> = failures
        .iter()
        .map(|(i, e)| format!("{}: {}", council.members[*i].spec.name, e.message))
        .collect();
    let error = if reasons.is_empty() {
        "no member answered".to_string()
    } else {
        format!("every member failed ({})", reasons.join("; "))
    };
    (outcome, Some(error))
}

/// The answers a revision round reads, prepared once for all its members.
struct RoundInput {
    names: Vec<String>,
    /// Each member's answer (empty without one), by panel index.
    texts: Vec<String>,
    /// The members with an answer, with their names.
    answered: Vec<(usize, String)>,
    /// Which members have an answer at all (an empty one too).
    given: Vec<bool>,
}

impl RoundInput {
    fn new(council: &Council, answers: Vec<Option<String>>) -> Self {
        let names: Vec<String> = council
            .members
            .iter()
            .map(|s| s.spec.name.clone())
            .collect();
        let answered = answered(&answers)
            .into_iter()
            .map(|(i, _)| (i, names[i].clone()))
            .collect();
        let given = answers.iter().map(Option::is_some).collect();
        let texts = answers.into_iter().map(Option::unwrap_or_default).collect();
        Self {
            names,
            texts,
            answered,
            given,
        }
    }

    fn has_answer(&self, member: usize) -> bool {
        self.given.get(member).copied().unwrap_or(false)
    }
}

/// The members with an answer, in panel order.
fn answered(answers: &[Option<String>]) -> Vec<(usize, String)> {
    answers
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            a.as_ref()
                .filter(|t| !t.trim().is_empty())
                .map(|t| (i, t.clone()))
        })
        .collect()
}

/// Checks the judge's quotes against the answers, off the async threads.
async fn ground(
    mut analysis: judge::Analysis,
    answers: &std::sync::Arc<Vec<(String, String)>>,
) -> judge::Analysis {
    let answers = answers.clone();
    // Unchecked verdicts, should the check itself fail.
    let unchecked = analysis.clone();
    let checked = tokio::task::spawn_blocking(move || {
        let named: Vec<(String, &str)> = answers
            .iter()
            .map(|(n, t)| (n.clone(), t.as_str()))
            .collect();
        judge::ground(&mut analysis, &named);
        analysis
    });
    checked.await.unwrap_or(unchecked)
}

/// Traces the synthesis back to the answers, off the async threads.
async fn trace(
    raw: String,
    members: Vec<String>,
    answers: Vec<(String, String)>,
) -> Option<Box<Provenance>> {
    let traced = tokio::task::spawn_blocking(move || {
        let named: Vec<(String, &str)> = answers
            .iter()
            .map(|(n, t)| (n.clone(), t.as_str()))
            .collect();
        Box::new(Provenance::trace(&raw, &members, &named))
    });
    traced.await.ok()
}

/// The largest char boundary of `s` at or below `at`.
fn floor_char_boundary(s: &str, at: usize) -> usize {
    let mut at = at.min(s.len());
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn millis(since: Instant) -> u64 {
    since.elapsed().as_millis().try_into().unwrap_or(u64::MAX)
}

impl Orchestrator {
    fn send(&self, event: CouncilEvent) {
        crate::engine::trace::log_event(&event);
        // A front that stopped listening is not an error: the run finishes quietly.
        let _ = self.tx.send(event);
    }

    /// Reports a seat's switch to its next fallback model.
    fn fell_back(&self, seat: SeatRole) -> impl FnMut(String, ProviderError, String) + '_ {
        move |model, error, next| {
            self.send(CouncilEvent::Fallback {
                seat,
                model,
                error,
                next,
            })
        }
    }

    async fn run(self) {
        let started = self.started;
        self.send(CouncilEvent::RunStarted {
            question: self.question.clone(),
            scope: self.scope.clone(),
            preset: self.council.preset.clone(),
            members: self.council.members.iter().map(|s| s.spec.info()).collect(),
            judge: self.council.judge.spec.info(),
            synthesizer: self.council.synthesizer.spec.info(),
            limits: self.council.limits,
            attachments: self
                .options
                .attachments
                .iter()
                .map(Attachment::info)
                .collect(),
        });
        let mut usage = Usage::default();
        let (outcome, error) = self.stages(&mut usage).await;
        self.send(CouncilEvent::RunFinished {
            outcome,
            usage,
            elapsed_ms: millis(started),
            error,
        });
    }

    /// Every stage the scope asks for, adding to `usage`; how the run ends
    /// and, unless with a synthesis, why in the underlying errors' words.
    async fn stages(&self, usage: &mut Usage) -> (RunOutcome, Option<String>) {
        let n = self.council.members.len();
        let mut answers: Vec<Option<String>> = self.basis.answers.clone();
        answers.resize(n, None);
        let mut round = self.basis.round.max(1);
        let mut analysis = self.basis.analysis.clone();
        let last_round = match self.scope {
            RunScope::Full => self.council.rounds.max(1),
            RunScope::Round => round + 1,
            _ => round,
        };
        // Member failures of the first stage, for the outcome's reason.
        let mut failures: Vec<(usize, ProviderError)> = Vec::new();

        match &self.scope {
            RunScope::Full | RunScope::Members(_) => {
                let to_run: Vec<usize> = match &self.scope {
                    RunScope::Members(indices) => {
                        indices.iter().copied().filter(|i| *i < n).collect()
                    }
                    _ => (0..n).collect(),
                };
                if self.scope == RunScope::Full {
                    answers = vec![None; n];
                }
                // Past the first round, a member re-run is asked its round's
                // request again (when it took part in that round).
                let revising = self.basis.revising.as_ref().map(|r| {
                    let mut before = r.answers.clone();
                    before.resize(n, None);
                    (RoundInput::new(&self.council, before), r)
                });
                let asked = to_run
                    .iter()
                    .map(|&i| match &revising {
                        Some((input, r)) if input.has_answer(i) => {
                            let (analysis, dispute) = (r.analysis.as_ref(), r.dispute.as_ref());
                            (
                                i,
                                self.revision_messages(i, round, input, analysis, dispute),
                            )
                        }
                        _ => (i, self.first_messages(i)),
                    })
                    .collect();
                let deadline = self.council.limits.deadline_s.and_then(|s| {
                    self.started
                        .checked_add(Duration::try_from_secs_f64(s).ok()?)
                });
                let (spent, failed) = self.ask_members(asked, &mut answers, deadline).await;
                usage.add(&spent);
                failures = failed;
            }
            RunScope::Judgement => {}
            RunScope::Round => {
                round += 1;
                let dispute = self.basis.dispute.clone();
                let (spent, _) = self
                    .revise(round, &mut answers, analysis.as_ref(), dispute.as_ref())
                    .await;
                usage.add(&spent);
            }
        }

        loop {
            if self.cancel.is_cancelled() {
                return (RunOutcome::Cancelled, None);
            }
            if matches!(self.scope, RunScope::Members(_)) {
                return (RunOutcome::Answered, None);
            }
            let answered = answered(&answers);
            if answered.is_empty() {
                return no_answers(&failures, &self.council);
            }
            if self.options.panel_only {
                return (RunOutcome::Answered, None);
            }
            if let Some(quorum) = self.quorum()
                && answered.len() < quorum
            {
                return (
                    RunOutcome::NoQuorum,
                    Some(format!(
                        "{} of {n} members answered; the quorum is {quorum}",
                        answered.len()
                    )),
                );
            }
            if let Some(over) = self.over_budget(usage, "the judge") {
                return over;
            }
            let (judged, judge_usage) = self.run_judge(&answered).await;
            usage.add(&judge_usage);
            analysis = judged;
            if self.cancel.is_cancelled() {
                return (RunOutcome::Cancelled, None);
            }
            if round >= last_round {
                let ranking = if self.council.ranking {
                    if let Some(over) = self.over_budget(usage, "the ranking") {
                        return over;
                    }
                    let ranking = self.run_ranking(&answered).await;
                    usage.add(&ranking.as_ref().map(|r| r.usage).unwrap_or_default());
                    ranking
                } else {
                    None
                };
                if self.cancel.is_cancelled() {
                    return (RunOutcome::Cancelled, None);
                }
                if let Some(over) = self.over_budget(usage, "the synthesis") {
                    return over;
                }
                let notes = self.synthesis_notes(round, ranking.as_ref(), answered.len());
                let (ok, synth_usage) = self
                    .run_synthesis(&answered, analysis.as_ref(), &notes)
                    .await;
                usage.add(&synth_usage);
                return match ok {
                    Ok(()) => (RunOutcome::Synthesized, None),
                    Err(e) if e.is_cancelled() => (RunOutcome::Cancelled, None),
                    Err(e) => (
                        RunOutcome::SynthesisFailed,
                        Some(format!("the synthesizer failed: {}", e.message)),
                    ),
                };
            }
            if let Some(over) = self.over_budget(usage, &format!("round {}", round + 1)) {
                return over;
            }
            round += 1;
            usage.add(
                &self
                    .revise(round, &mut answers, analysis.as_ref(), None)
                    .await
                    .0,
            );
        }
    }

    /// The quorum in force: set, or 1 when only a deadline is.
    fn quorum(&self) -> Option<usize> {
        let limits = &self.council.limits;
        match (limits.quorum, limits.deadline_s) {
            (Some(q), _) => Some(q as usize),
            (None, Some(_)) => Some(1),
            (None, None) => None,
        }
    }

    /// The end of the run when its spend has reached the cap before `stage`.
    fn over_budget(&self, usage: &Usage, stage: &str) -> Option<(RunOutcome, Option<String>)> {
        let cap = self.council.limits.max_cost?;
        let spent = usage.cost.unwrap_or(0.0);
        (spent >= cap).then(|| {
            (
                RunOutcome::BudgetExceeded,
                Some(format!(
                    "spent ${spent:.4} of the ${cap:.4} cap before {stage}; raise it with --max-cost"
                )),
            )
        })
    }

    /// A member's first-round request: its persona, the conversation so
    /// far, the question.
    fn first_messages(&self, member: usize) -> Vec<Message> {
        let mut messages = self.preamble(member);
        messages.push(Message::user(self.prompt.clone()));
        messages
    }

    /// What every request of a member starts with: its persona and the
    /// earlier turns of the conversation.
    fn preamble(&self, member: usize) -> Vec<Message> {
        let mut messages = Vec::with_capacity(3 + 2 * self.options.history.len());
        if let Some(system) = self.council.members[member]
            .spec
            .system_prompt
            .as_deref()
            .filter(|s| !s.trim().is_empty())
        {
            messages.push(Message::system(system));
        }
        messages.extend(history_messages(&self.options, Some(member)));
        messages
    }

    /// Asks members concurrently; each one's answer replaces its entry in
    /// `answers` (`None` when it gave none). At `deadline`, once the quorum
    /// has answered, members still streaming are stopped as late. Returns
    /// the usage and the members' failures.
    async fn ask_members(
        &self,
        asked: Vec<(usize, Vec<Message>)>,
        answers: &mut [Option<String>],
        deadline: Option<Instant>,
    ) -> (Usage, Vec<(usize, ProviderError)>) {
        let indices: Vec<usize> = asked.iter().map(|(i, _)| *i).collect();
        let answered = AtomicUsize::new(0);
        let failed = AtomicUsize::new(0);
        let settled: Vec<AtomicBool> = self
            .council
            .members
            .iter()
            .map(|_| AtomicBool::new(false))
            .collect();
        let work = futures::future::join_all(asked.into_iter().map(|(i, messages)| {
            let (answered, failed, settled) = (&answered, &failed, &settled);
            async move {
                let out = self.run_member(i, messages).await;
                if out.1.is_some() {
                    answered.fetch_add(1, Ordering::SeqCst);
                } else {
                    failed.fetch_add(1, Ordering::SeqCst);
                }
                settled[i].store(true, Ordering::SeqCst);
                (i, out)
            }
        }));
        let stop_late = async {
            let Some(at) = deadline else {
                return std::future::pending().await;
            };
            let quorum = self.quorum().unwrap_or(1);
            // Too many failed for the quorum: the deadline is not waited for.
            let lost = async {
                while indices.len() - failed.load(Ordering::SeqCst) >= quorum {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            };
            let quorum_lost = tokio::select! {
                () = tokio::time::sleep_until(at.into()) => false,
                () = lost => true,
            };
            // Past the deadline the run waits for the quorum, then no longer.
            while !quorum_lost && answered.load(Ordering::SeqCst) < quorum {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            for &i in &indices {
                if !settled[i].load(Ordering::SeqCst) {
                    self.late[i].store(true, Ordering::SeqCst);
                    self.cancel.members[i].cancel();
                }
            }
            std::future::pending().await
        };
        let results = tokio::select! {
            results = work => results,
            never = stop_late => never,
        };
        let mut usage = Usage::default();
        let mut failures = Vec::new();
        for (i, (member_usage, answer, failure)) in results {
            usage.add(&member_usage);
            answers[i] = answer;
            if let Some(e) = failure {
                failures.push((i, e));
            }
        }
        (usage, failures)
    }

    /// Round `round`: every member with an answer revises it in the light
    /// of the others and the judge's findings, or, for a dispute, the
    /// members it involves answer it. A member without an answer (it
    /// failed or was stopped) sits the round out.
    async fn revise(
        &self,
        round: u32,
        answers: &mut [Option<String>],
        analysis: Option<&Analysis>,
        dispute: Option<&Contradiction>,
    ) -> (Usage, Vec<(usize, ProviderError)>) {
        let input = RoundInput::new(&self.council, answers.to_vec());
        let with_answer =
            |i: &usize| input.has_answer(*i) && !self.cancel.members[*i].is_cancelled();
        let members: Vec<usize> = match dispute {
            Some(d) => deliberation::involved(d, &input.names),
            None => (0..input.names.len()).collect(),
        }
        .into_iter()
        .filter(with_answer)
        .collect();
        self.send(CouncilEvent::RoundStarted {
            round,
            members: members.clone(),
            dispute: dispute.map(|d| d.topic.clone()),
        });
        let asked = members
            .iter()
            .map(|&i| {
                (
                    i,
                    self.revision_messages(i, round, &input, analysis, dispute),
                )
            })
            .collect();
        self.ask_members(asked, answers, None).await
    }

    /// A member's request in revision round `round`: its persona and the
    /// earlier turns, then its answer of the round before beside its peers'
    /// and the judge's findings (or the dispute put to it).
    fn revision_messages(
        &self,
        member: usize,
        round: u32,
        before: &RoundInput,
        analysis: Option<&Analysis>,
        dispute: Option<&Contradiction>,
    ) -> Vec<Message> {
        let peers = deliberation::peers(
            member,
            &before.answered,
            self.seed.wrapping_add(round.into()),
        );
        let (name, own) = (&before.names[member], &before.texts[member]);
        let turns = match dispute {
            Some(d) => deliberation::dispute(&self.prompt, name, own, &peers, d),
            None => deliberation::revision(
                &self.prompt,
                round,
                name,
                own,
                &peers,
                &before.texts,
                analysis,
            ),
        };
        let mut messages = self.preamble(member);
        messages.extend(turns);
        messages
    }

    /// What the synthesizer is told beside the answers: how many rounds
    /// they went through and how the contradictions moved, and the peers'
    /// ranking.
    fn synthesis_notes(&self, round: u32, ranking: Option<&Ranking>, answered: usize) -> String {
        let mut notes = String::new();
        let total = self.council.members.len();
        if answered < total {
            notes.push_str(&format!(
                "\n# A degraded panel\n\nOnly {answered} of the {total} members answered (the others \
                 failed or were stopped at the deadline). Say so when it limits the answer.\n"
            ));
        }
        if round > 1 {
            notes.push_str(&format!(
                "\n# Deliberation\n\nThese are the members' answers after {round} rounds: in each round \
                 after the first, every member read the others' answers and the judge's findings and \
                 revised its own. The judge's analysis is of the last round.\n"
            ));
        }
        if let Some(ranking) = ranking.filter(|r| !r.aggregate.is_empty()) {
            notes.push_str(&format!(
                "\n# Peer ranking\n\nEach member ranked the others' answers, anonymized (Borda \
                 count over {} ballots; higher is better):\n",
                ranking.ballots.len()
            ));
            for s in &ranking.aggregate {
                notes.push_str(&format!("- {}: {}\n", s.member, s.score));
            }
        }
        notes
    }

    /// Every member with an answer ranks the others' answers. Skipped (with
    /// `None`) when fewer than three members answered: a ballot of one
    /// ranks nothing.
    async fn run_ranking(&self, answered: &[(usize, String)]) -> Option<Ranking> {
        if answered.len() < 3 {
            return None;
        }
        let reviewers: Vec<usize> = answered.iter().map(|(i, _)| *i).collect();
        self.send(CouncilEvent::RankingStarted {
            reviewers: reviewers.clone(),
        });
        let names: Vec<(usize, String)> = answered
            .iter()
            .map(|(i, _)| (*i, self.council.members[*i].spec.name.clone()))
            .collect();
        let mut by_member = vec![String::new(); self.council.members.len()];
        for (i, text) in answered {
            by_member[*i] = text.clone();
        }
        let by_member = &by_member;
        let names = &names;
        let ballots = futures::future::join_all(reviewers.iter().map(|&reviewer| async move {
            let seat = &self.council.members[reviewer];
            let labels = ranking::candidates(reviewer, names, self.seed);
            let request = ChatRequest {
                model: seat.spec.model.clone(),
                messages: ranking::messages(&self.prompt, &labels, by_member),
                temperature: Some(0.0),
                max_tokens: seat.spec.max_tokens,
                json_schema: Some(ranking::schema(&labels)),
                web_search: false,
            };
            let token = self.cancel.members[reviewer].clone();
            let out = ask_seat(seat, &request, token, |_| {}).await;
            (reviewer, labels, out)
        }))
        .await;
        let mut ranking = Ranking::default();
        for (reviewer, labels, out) in ballots {
            let reviewer = self.council.members[reviewer].spec.name.clone();
            let parsed = match out.result {
                Ok(completion) => {
                    ranking.usage.add(&completion.usage);
                    ranking::parse_ballot(&out.text, &labels)
                }
                Err(e) => Err(e.message),
            };
            match parsed {
                Ok(order) => ranking.ballots.push(Ballot {
                    reviewer,
                    order,
                    labels,
                }),
                Err(error) => ranking.malformed.push(MalformedBallot {
                    reviewer,
                    error,
                    text: out.text,
                }),
            }
        }
        let members: Vec<String> = names.iter().map(|(_, n)| n.clone()).collect();
        ranking.aggregate = ranking::aggregate(&members, &ranking.ballots);
        self.send(CouncilEvent::RankingFinished {
            ranking: ranking.clone(),
        });
        Some(ranking)
    }

    /// Runs one member; returns its usage, its answer when it finished, and
    /// its error when it failed.
    async fn run_member(
        &self,
        member: usize,
        messages: Vec<Message>,
    ) -> (Usage, Option<String>, Option<ProviderError>) {
        let seat = &self.council.members[member];
        let token = self.cancel.members[member].clone();
        // Queued (its pane says so) until its provider has a free slot.
        let _slot = match self.slots.get(&seat.spec.provider) {
            Some(slots) => tokio::select! {
                permit = slots.clone().acquire_owned() => permit.ok(),
                _ = token.cancelled() => {
                    // Stopped before it started.
                    self.send(if self.late[member].load(Ordering::SeqCst) {
                        CouncilEvent::MemberLate { member, ttft_ms: None, elapsed_ms: 0 }
                    } else {
                        CouncilEvent::MemberCancelled { member, elapsed_ms: 0 }
                    });
                    return (Usage::default(), None, None);
                }
            },
            None => None,
        };
        self.send(CouncilEvent::MemberStarted { member });
        let request = seat.spec.request(messages);
        let fell_back = self.fell_back(SeatRole::Member { member });
        let cap = self.council.limits.answer_cap();
        let out = stream_stage(seat, &request, cap, token, fell_back, |delta| {
            self.send(match delta {
                Delta::Text(text) => CouncilEvent::MemberDelta { member, text },
                Delta::Reasoning(text) => CouncilEvent::MemberReasoning { member, text },
                Delta::Retrying { tries, of, error } => CouncilEvent::MemberRetrying {
                    member,
                    tries,
                    of,
                    error,
                },
            })
        })
        .await;
        match out.result {
            Ok(completion) => {
                self.send(CouncilEvent::MemberFinished {
                    member,
                    finish_reason: completion.finish_reason,
                    usage: completion.usage,
                    ttft_ms: out.ttft_ms,
                    elapsed_ms: out.elapsed_ms,
                    malformed_events: completion.malformed_events,
                });
                (
                    completion.usage,
                    (!out.text.trim().is_empty()).then_some(out.text),
                    None,
                )
            }
            Err(e) if e.is_cancelled() && self.late[member].load(Ordering::SeqCst) => {
                self.send(CouncilEvent::MemberLate {
                    member,
                    ttft_ms: out.ttft_ms,
                    elapsed_ms: out.elapsed_ms,
                });
                (Usage::default(), None, None)
            }
            Err(e) if e.is_cancelled() => {
                self.send(CouncilEvent::MemberCancelled {
                    member,
                    elapsed_ms: out.elapsed_ms,
                });
                (Usage::default(), None, None)
            }
            Err(error) => {
                self.send(CouncilEvent::MemberFailed {
                    member,
                    error: error.clone(),
                    ttft_ms: out.ttft_ms,
                    elapsed_ms: out.elapsed_ms,
                });
                (Usage::default(), None, Some(error))
            }
        }
    }

    /// Runs the judge over the answers; returns the analysis when it parsed.
    /// With `samples` above 1 it reads them that many times, the second in
    /// the reverse order of the first, and keeps the findings that recur.
    async fn run_judge(&self, answers: &[(usize, String)]) -> (Option<judge::Analysis>, Usage) {
        let seat = &self.council.judge;
        let samples = seat.spec.samples.max(1) as usize;
        let seed = self.seed;
        let named: Vec<(usize, String)> = answers
            .iter()
            .map(|(i, _)| (*i, self.council.members[*i].spec.name.clone()))
            .collect();
        let first = LabelMap::shuffled(&named, seed);
        // The prompt indexes answers by member; members without one are never labelled.
        let mut by_member = vec![String::new(); self.council.members.len()];
        for (i, text) in answers {
            by_member[*i] = text.clone();
        }
        // Quotes are checked on a blocking thread: long answers and many
        // quotes must not hold the runtime that serves other councils.
        let named_answers: std::sync::Arc<Vec<(String, String)>> = std::sync::Arc::new(
            answers
                .iter()
                .map(|(i, text)| (self.council.members[*i].spec.name.clone(), text.clone()))
                .collect(),
        );
        self.send(CouncilEvent::JudgeStarted {
            model: seat.spec.model.clone(),
            labels: first.clone(),
        });

        let mut usage = Usage::default();
        let mut elapsed_ms = 0;
        let mut analyses = Vec::with_capacity(samples);
        let mut failure = None;
        for sample in 0..samples {
            let labels = match sample {
                0 => first.clone(),
                1 => first.reversed(),
                k => LabelMap::shuffled(&named, seed.wrapping_add(k as u64)),
            };
            if sample > 0 {
                let order = if sample == 1 {
                    "reversed"
                } else {
                    "reshuffled"
                };
                self.send(CouncilEvent::JudgeDelta {
                    text: format!(
                        "\n\n--- sample {} of {samples}, labels {order}: {} ---\n\n",
                        sample + 1,
                        labels
                            .assignments
                            .iter()
                            .map(|a| format!("{}={}", a.label, a.name))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                });
            }
            let out = self.judge_once(&labels, &by_member).await;
            elapsed_ms += out.elapsed_ms;
            match out.result {
                Ok(completion) => {
                    usage.add(&completion.usage);
                    match judge::parse_analysis(&out.text, &labels) {
                        Ok(analysis) => analyses.push(ground(analysis, &named_answers).await),
                        Err(f) => failure = Some(f),
                    }
                }
                Err(e) => {
                    let cancelled = e.is_cancelled();
                    let kind = if cancelled {
                        JudgeFailureKind::Cancelled
                    } else {
                        JudgeFailureKind::Upstream
                    };
                    failure = Some(JudgeFailure::new(kind, e.message));
                    if cancelled {
                        analyses.clear();
                        break;
                    }
                }
            }
        }
        if analyses.is_empty() {
            self.send(CouncilEvent::JudgeFailed {
                failure: failure.unwrap_or_else(|| {
                    JudgeFailure::new(JudgeFailureKind::Empty, "no sample came back")
                }),
                usage,
                elapsed_ms,
            });
            return (None, usage);
        }
        let (analysis, consistency) = judge::merge(analyses);
        self.send(CouncilEvent::JudgeFinished {
            analysis: analysis.clone(),
            usage,
            elapsed_ms,
            consistency: (samples > 1).then_some(consistency),
        });
        (Some(analysis), usage)
    }

    /// One reading of the answers under `labels`, streamed as judge deltas.
    async fn judge_once(&self, labels: &LabelMap, by_member: &[String]) -> StageOutput {
        let seat = &self.council.judge;
        // The embedded engine decodes under a grammar: there each quote can
        // be made one of the clauses its label's answer has, and the prompt
        // needs no example of the shape.
        let grammar = seat.provider.capabilities().grammar;
        let request = ChatRequest {
            model: seat.spec.model.clone(),
            messages: {
                let messages = if grammar {
                    judge::grounded_messages
                } else {
                    judge::messages
                };
                let mut m = messages(
                    seat.spec.system_prompt.as_deref(),
                    &self.prompt,
                    labels,
                    by_member,
                );
                let (shown, total) = (labels.assignments.len(), self.council.members.len());
                if shown < total
                    && let Some(last) = m.last_mut()
                {
                    last.content.push_str(&format!(
                        "\n(Only {shown} of the {total} members answered; the others failed or \
                         were stopped at the deadline and are not shown.)\n"
                    ));
                }
                m
            },
            temperature: Some(seat.spec.temperature.unwrap_or(0.0)),
            max_tokens: seat.spec.max_tokens,
            json_schema: Some(if grammar {
                judge::grounded_schema(labels, by_member)
            } else {
                judge::schema(
                    &labels
                        .assignments
                        .iter()
                        .map(|a| a.label.clone())
                        .collect::<Vec<_>>(),
                )
            }),
            web_search: false,
        };
        let emit = |delta: Delta| {
            if let Delta::Text(text) = delta {
                self.send(CouncilEvent::JudgeDelta { text });
            }
        };
        stream_structured(
            seat,
            &request,
            self.council.limits.answer_cap(),
            self.cancel.run.child_token(),
            self.fell_back(SeatRole::Judge),
            emit,
        )
        .await
    }

    async fn run_synthesis(
        &self,
        answers: &[(usize, String)],
        analysis: Option<&judge::Analysis>,
        notes: &str,
    ) -> (Result<(), ProviderError>, Usage) {
        let seat = &self.council.synthesizer;
        // A JSON answer has no room for citations; any other is asked for
        // them, by the run's member names.
        let citable: Vec<String> = if self.options.answer_format.is_none() {
            self.council
                .members
                .iter()
                .map(|m| m.spec.name.clone())
                .collect()
        } else {
            Vec::new()
        };
        self.send(CouncilEvent::SynthesisStarted {
            model: seat.spec.model.clone(),
            with_analysis: analysis.is_some(),
            citable: citable.clone(),
        });
        let named: Vec<NamedAnswer<'_>> = answers
            .iter()
            .map(|(i, text)| {
                let spec = &self.council.members[*i].spec;
                NamedAnswer {
                    name: &spec.name,
                    model: &spec.model,
                    text,
                }
            })
            .collect();
        let request = seat.spec.request({
            // The synthesizer answers within the conversation so far.
            let mut m = synthesis::messages(
                seat.spec.system_prompt.as_deref(),
                &self.prompt,
                &named,
                analysis,
            );
            if let Some(last) = m.last_mut() {
                last.content.push_str(notes);
                if !citable.is_empty() {
                    last.content.push_str(synthesis::CITATIONS);
                }
            }
            let history = history_messages(&self.options, None);
            m.splice(1..1, history);
            m
        });
        let request = ChatRequest {
            json_schema: self.options.answer_format.clone(),
            ..request
        };

        let fell_back = self.fell_back(SeatRole::Synthesizer);
        let out = stream_stage(
            seat,
            &request,
            self.council.limits.answer_cap(),
            self.cancel.run.child_token(),
            fell_back,
            |delta| {
                if let Delta::Text(text) = delta {
                    self.send(CouncilEvent::SynthesisDelta { text });
                }
            },
        )
        .await;
        let result = match out.result {
            Ok(_) if out.text.trim().is_empty() => Err(ProviderError::new(
                ErrorKind::Protocol,
                "the synthesizer returned no text",
            )),
            other => other,
        };
        match result {
            Ok(completion) => {
                let provenance = if citable.is_empty() {
                    None
                } else {
                    let answers = answers
                        .iter()
                        .map(|(i, text)| (self.council.members[*i].spec.name.clone(), text.clone()))
                        .collect();
                    trace(out.text, citable, answers).await
                };
                self.send(CouncilEvent::SynthesisFinished {
                    finish_reason: completion.finish_reason,
                    usage: completion.usage,
                    ttft_ms: out.ttft_ms,
                    elapsed_ms: out.elapsed_ms,
                    provenance,
                });
                (Ok(()), completion.usage)
            }
            Err(error) => {
                self.send(CouncilEvent::SynthesisFailed {
                    error: error.clone(),
                    elapsed_ms: out.elapsed_ms,
                });
                (Err(error), Usage::default())
            }
        }
    }
}
