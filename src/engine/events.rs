//! The event stream of a council run: everything a front shows, in order.

use serde::{Deserialize, Serialize};

use crate::attachments::AttachmentInfo;

use crate::engine::council::Limits;
use crate::engine::judge::{Analysis, Consistency, JudgeFailure, LabelMap};
use crate::engine::ranking::Ranking;
use crate::provider::{ProviderError, Usage};

/// Who sits in a seat, as shown to people (no provider handles, no keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeatInfo {
    pub name: String,
    pub model: String,
    pub provider: String,
}

/// What a run covers. A live edit re-runs part of a council: the other
/// members keep what they had.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunScope {
    /// Every member, then the judge and the synthesis.
    #[default]
    Full,
    /// Only these members; nothing is judged.
    Members(Vec<usize>),
    /// The judge and the synthesis, over the answers the members have.
    Judgement,
    /// One more round over the answers members have (every member with
    /// one revises it, or only those a dispute involves answer it), then
    /// the judge and the synthesis.
    Round,
}

/// Which seat an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum SeatRole {
    Member { member: usize },
    Judge,
    Synthesizer,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// A synthesis was produced.
    Synthesized,
    /// The members of a [`RunScope::Members`] run finished; nothing was judged.
    Answered,
    /// No member produced an answer, so there was nothing to judge.
    #[serde(alias = "no_answers")]
    AllMembersFailed,
    /// The synthesizer failed.
    SynthesisFailed,
    Cancelled,
    /// The spend reached the budget cap before a stage: what was done is kept.
    BudgetExceeded,
    /// Every member failed with "no credits".
    InsufficientCredits,
    /// Every member failed rate-limited.
    RateLimited,
    /// Every member settled with fewer answers than the quorum.
    NoQuorum,
}

/// Member indices refer to the panel order given in [`CouncilEvent::RunStarted`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CouncilEvent {
    RunStarted {
        question: String,
        #[serde(default)]
        scope: RunScope,
        preset: Option<String>,
        members: Vec<SeatInfo>,
        judge: SeatInfo,
        synthesizer: SeatInfo,
        /// The run's quorum, deadline and budget cap, when any is set.
        #[serde(default, skip_serializing_if = "Limits::is_unset")]
        limits: Limits,
        /// Files and piped text given with the question (what, not their bytes).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<AttachmentInfo>,
    },
    /// A revision round begins: the events up to the next one belong to
    /// it (those before the first belong to round 1). `members` are the
    /// members asked; the others keep the answer they had.
    RoundStarted {
        round: u32,
        members: Vec<usize>,
        /// The contradiction's topic, when the round answers one dispute.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dispute: Option<String>,
    },
    MemberStarted {
        member: usize,
    },
    /// A seat's model failed before its first byte with an error another
    /// model could fix; `next` is tried now.
    Fallback {
        seat: SeatRole,
        model: String,
        error: ProviderError,
        next: String,
    },
    MemberDelta {
        member: usize,
        text: String,
    },
    MemberReasoning {
        member: usize,
        text: String,
    },
    MemberFinished {
        member: usize,
        finish_reason: Option<String>,
        usage: Usage,
        ttft_ms: Option<u64>,
        elapsed_ms: u64,
        /// Stream events that could not be read and were skipped.
        malformed_events: u32,
    },
    /// The member failed; the text it streamed before failing is kept.
    MemberFailed {
        member: usize,
        error: ProviderError,
        ttft_ms: Option<u64>,
        elapsed_ms: u64,
    },
    MemberCancelled {
        member: usize,
        elapsed_ms: u64,
    },
    /// A try failed before any answer and another follows (`tries` made of
    /// at most `of`).
    MemberRetrying {
        member: usize,
        tries: u32,
        of: u32,
        error: String,
    },
    /// Stopped at the deadline: the quorum had answered. Its text so far is
    /// kept; it is left out of the judgement and the synthesis.
    MemberLate {
        member: usize,
        ttft_ms: Option<u64>,
        elapsed_ms: u64,
    },
    JudgeStarted {
        model: String,
        labels: LabelMap,
    },
    JudgeDelta {
        text: String,
    },
    JudgeFinished {
        analysis: Analysis,
        usage: Usage,
        elapsed_ms: u64,
        /// With several judge samples: how steady the judge was.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        consistency: Option<Consistency>,
    },
    /// No analysis: the raw text that arrived is in the deltas.
    JudgeFailed {
        failure: JudgeFailure,
        usage: Usage,
        elapsed_ms: u64,
    },
    /// Members rank each other's answers (`reviewers` by panel index).
    RankingStarted {
        reviewers: Vec<usize>,
    },
    RankingFinished {
        ranking: Ranking,
    },
    SynthesisStarted {
        model: String,
        /// False when the judge failed and the synthesizer works from the raw answers.
        with_analysis: bool,
        /// The members' names that count as citations in the text (none:
        /// it was not asked to cite, e.g. for a JSON answer).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        citable: Vec<String>,
    },
    SynthesisDelta {
        text: String,
    },
    SynthesisFinished {
        finish_reason: Option<String>,
        usage: Usage,
        ttft_ms: Option<u64>,
        elapsed_ms: u64,
        /// Where each claim of the text comes from, when it was asked to cite.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provenance: Option<Box<crate::engine::provenance::Provenance>>,
    },
    SynthesisFailed {
        error: ProviderError,
        elapsed_ms: u64,
    },
    RunFinished {
        outcome: RunOutcome,
        usage: Usage,
        elapsed_ms: u64,
        /// What went wrong, in the underlying errors' words, for an outcome
        /// other than a synthesis.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
}
