//! What a run writes to the log: its stages, timings, usage and errors, at
//! `info` and `warn`. Text the models wrote never goes there (the deltas
//! are left out; a judge's unreadable output is named by its kind only).

use crate::engine::events::CouncilEvent;
use crate::sanitize::sanitize;

/// Logs one event of a run.
pub(crate) fn log_event(event: &CouncilEvent) {
    use CouncilEvent as E;
    match event {
        E::RunStarted {
            scope,
            preset,
            members,
            judge,
            synthesizer,
            limits,
            attachments,
            ..
        } => {
            let models: Vec<&str> = members.iter().map(|m| m.model.as_str()).collect();
            tracing::info!(
                ?scope,
                preset = preset.as_deref().unwrap_or("-"),
                members = ?models,
                judge = %judge.model,
                synthesizer = %synthesizer.model,
                ?limits,
                attachments = attachments.len(),
                "run started"
            );
        }
        E::RoundStarted { round, members, .. } => {
            tracing::info!(round, ?members, "round started")
        }
        E::MemberStarted { member } => tracing::debug!(member, "member started"),
        E::Fallback {
            seat,
            model,
            error,
            next,
        } => tracing::warn!(
            ?seat,
            model = %model,
            next = %next,
            kind = ?error.kind,
            error = %sanitize(&error.message),
            "falling back"
        ),
        E::MemberFinished {
            member,
            usage,
            ttft_ms,
            elapsed_ms,
            malformed_events,
            ..
        } => tracing::info!(
            member,
            ?ttft_ms,
            elapsed_ms,
            prompt_tokens = usage.prompt_tokens,
            completion_tokens = usage.completion_tokens,
            cost = ?usage.cost,
            malformed_events,
            "member finished"
        ),
        E::MemberFailed {
            member,
            error,
            elapsed_ms,
            ..
        } => tracing::warn!(
            member,
            elapsed_ms,
            kind = ?error.kind,
            error = %sanitize(&error.message),
            "member failed"
        ),
        E::MemberCancelled { member, elapsed_ms } => {
            tracing::info!(member, elapsed_ms, "member cancelled")
        }
        E::MemberRetrying {
            member, tries, of, ..
        } => tracing::info!(member, tries, of, "member retrying"),
        E::MemberLate {
            member, elapsed_ms, ..
        } => tracing::info!(member, elapsed_ms, "member late"),
        E::JudgeStarted { model, .. } => tracing::info!(model = %model, "judge started"),
        E::JudgeFinished {
            usage, elapsed_ms, ..
        } => tracing::info!(
            elapsed_ms,
            completion_tokens = usage.completion_tokens,
            "judge finished"
        ),
        E::JudgeFailed {
            failure,
            elapsed_ms,
            ..
        } => tracing::warn!(kind = ?failure.kind, elapsed_ms, "judge failed"),
        E::RankingStarted { reviewers } => tracing::info!(?reviewers, "ranking started"),
        E::SynthesisStarted {
            model,
            with_analysis,
            ..
        } => tracing::info!(model = %model, with_analysis, "synthesis started"),
        E::SynthesisFinished {
            usage,
            elapsed_ms,
            provenance,
            ..
        } => tracing::info!(
            elapsed_ms,
            completion_tokens = usage.completion_tokens,
            claims = provenance.as_ref().map(|p| p.claims.len()),
            unsourced = provenance.as_ref().map(|p| p.unsourced),
            "synthesis finished"
        ),
        E::SynthesisFailed { error, elapsed_ms } => tracing::warn!(
            elapsed_ms,
            kind = ?error.kind,
            error = %sanitize(&error.message),
            "synthesis failed"
        ),
        E::RunFinished {
            outcome,
            usage,
            elapsed_ms,
            error,
        } => {
            tracing::info!(
                ?outcome,
                elapsed_ms,
                prompt_tokens = usage.prompt_tokens,
                completion_tokens = usage.completion_tokens,
                cost = ?usage.cost,
                "run finished"
            );
            // The reason can quote what a judge wrote: only at debug.
            if let Some(error) = error {
                tracing::debug!(error = %sanitize(error), "why the run ended so");
            }
        }
        E::MemberDelta { .. }
        | E::MemberReasoning { .. }
        | E::JudgeDelta { .. }
        | E::SynthesisDelta { .. }
        | E::RankingFinished { .. } => {}
    }
}
