//! One line per state change of a run (never per token): `ask` prints them
//! on stderr, `serve` streams them as reasoning.

use std::fmt::Write as _;
use std::time::Duration;

use crate::CouncilEvent;
use crate::RunReport;
use crate::attachments::human_size;
use crate::engine::RunOutcome;
use crate::provider::Usage;
use crate::sanitize::{one_line, sanitize};

/// Formats the line to print for an event, after it was folded into
/// `report`. Names and errors come from input and servers: the line is
/// made safe for a terminal whole.
pub fn line(event: &CouncilEvent, report: &RunReport) -> Option<String> {
    event_line(event, report).map(|l| sanitize(&l))
}

fn event_line(event: &CouncilEvent, report: &RunReport) -> Option<String> {
    use CouncilEvent as E;
    let width = report
        .members
        .iter()
        .map(|m| m.name.chars().count())
        .max()
        .unwrap_or(0);
    let member = |i: &usize| {
        report
            .members
            .get(*i)
            .map(|m| format!("{:width$}", m.name))
            .unwrap_or_default()
    };
    Some(match event {
        E::RunStarted {
            preset,
            members,
            judge,
            synthesizer,
            attachments,
            ..
        } => {
            let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
            let preset = preset
                .as_deref()
                .map(|p| format!("{}: ", one_line(p)))
                .unwrap_or_default();
            let mut line = format!(
                "council: {preset}{} member{} ({}); judge {}; synthesizer {}",
                members.len(),
                if members.len() == 1 { "" } else { "s" },
                names.join(", "),
                judge.model,
                synthesizer.model
            );
            if !attachments.is_empty() {
                let files: Vec<String> = attachments
                    .iter()
                    .map(|a| format!("{} ({})", one_line(&a.name), human_size(a.bytes)))
                    .collect();
                line.push_str(&format!("\n  attached: {}", files.join(", ")));
            }
            line
        }
        E::MemberFinished {
            member: i,
            usage,
            ttft_ms,
            elapsed_ms,
            malformed_events,
            ..
        } => {
            let mut s = format!("  {}  done in {}", member(i), secs(*elapsed_ms));
            if let Some(t) = ttft_ms {
                let _ = write!(s, " (first token {})", secs(*t));
            }
            let _ = write!(s, "{}", usage_suffix(usage));
            if *malformed_events > 0 {
                let _ = write!(s, ", {malformed_events} unreadable event(s) skipped");
            }
            s
        }
        E::MemberFailed {
            member: i, error, ..
        } => {
            let kept = report.members.get(*i).map(|m| m.text.len()).unwrap_or(0);
            let kept = if kept > 0 {
                format!(" ({kept} bytes of text kept)")
            } else {
                String::new()
            };
            format!(
                "  {}  failed: {}{kept}",
                member(i),
                sanitize(&error.message)
            )
        }
        E::MemberCancelled { member: i, .. } => format!("  {}  cancelled", member(i)),
        E::MemberLate {
            member: i,
            elapsed_ms,
            ..
        } => {
            let kept = report.members.get(*i).map_or(0, |m| m.text.len());
            format!(
                "  {}  late: stopped at {} with {kept} bytes of text (kept, left out of the judgement)",
                member(i),
                secs(*elapsed_ms)
            )
        }
        E::Fallback {
            seat,
            model,
            error,
            next,
        } => {
            let who = match seat {
                crate::engine::SeatRole::Member { member: i } => format!("  {} ", member(i)),
                crate::engine::SeatRole::Judge => "judge:".into(),
                crate::engine::SeatRole::Synthesizer => "synthesis:".into(),
            };
            format!(
                "{who} {model} failed ({}); falling back to {next}",
                sanitize(&error.message)
            )
        }
        E::RoundStarted {
            round,
            members,
            dispute,
        } => {
            let names: Vec<&str> = members
                .iter()
                .filter_map(|i| report.members.get(*i).map(|m| m.name.as_str()))
                .collect();
            let sat_out = report.members.len() - names.len();
            let mut s = match dispute {
                Some(topic) => format!(
                    "round {round}: dispute \"{}\" put to {}",
                    sanitize(topic),
                    names.join(", ")
                ),
                None => format!(
                    "round {round}: {} revise ({})",
                    names.len(),
                    names.join(", ")
                ),
            };
            if dispute.is_none() && sat_out > 0 {
                let _ = write!(s, "; {sat_out} without an answer sit out");
            }
            s
        }
        E::MemberRetrying { member: i, .. } => {
            let retry = report.members.get(*i)?.retrying.as_ref()?;
            format!("  {} {}", member(i), sanitize(&retry.describe()))
        }
        E::RankingStarted { reviewers } => {
            format!("ranking: {} members rank each other", reviewers.len())
        }
        E::RankingFinished { ranking } => {
            let scores: Vec<String> = ranking
                .aggregate
                .iter()
                .map(|s| format!("{} {}", s.member, s.score))
                .collect();
            let mut s = match scores.is_empty() {
                true => "ranking: no ballot could be counted".to_string(),
                false => format!("ranking: {}", scores.join(", ")),
            };
            for m in &ranking.malformed {
                let _ = write!(
                    s,
                    "; {}'s ballot left out: {}",
                    m.reviewer,
                    sanitize(&m.error)
                );
            }
            s
        }
        E::JudgeStarted { model, labels } => {
            format!(
                "judge: {model} compares {} answer(s)",
                labels.assignments.len()
            )
        }
        E::JudgeFinished {
            analysis,
            elapsed_ms,
            ..
        } => format!(
            "judge: {} consensus, {} contradiction(s), {} blind spot(s), {} unique insight(s), {} partial coverage in {}",
            analysis.consensus.len(),
            analysis.contradictions.len(),
            analysis.blind_spots.len(),
            analysis.unique_insights.len(),
            analysis.partial_coverage.len(),
            secs(*elapsed_ms)
        ),
        E::JudgeFailed { failure, .. } => {
            format!(
                "judge failed ({}); the synthesizer works from the raw answers",
                sanitize(&failure.to_string())
            )
        }
        E::SynthesisStarted { model, .. } => format!("synthesis: {model}"),
        E::SynthesisFinished {
            provenance: Some(p),
            ..
        } => {
            let (sourced, claims) = p.sourced();
            format!(
                "synthesis: {sourced} of {claims} claims sourced ({} cited, {} supported, {} unsourced)",
                p.cited, p.supported, p.unsourced
            )
        }
        E::SynthesisFailed { error, .. } => {
            format!("synthesis failed: {}", sanitize(&error.message))
        }
        E::RunFinished {
            outcome,
            usage,
            elapsed_ms,
            ..
        } => {
            let what = match outcome {
                RunOutcome::Synthesized => "done",
                RunOutcome::AllMembersFailed => "no member answered",
                RunOutcome::SynthesisFailed => "no synthesis",
                RunOutcome::Cancelled => "cancelled",
                RunOutcome::Answered => "members answered",
                RunOutcome::BudgetExceeded => "budget exceeded",
                RunOutcome::InsufficientCredits => "no credits",
                RunOutcome::RateLimited => "rate limited",
                RunOutcome::NoQuorum => "no quorum",
            };
            let mut s = format!(
                "council: {what} in {}{}",
                secs(*elapsed_ms),
                usage_suffix(usage)
            );
            if report.convergence.len() > 1 {
                let _ = write!(
                    s,
                    "; contradictions per round {}",
                    crate::engine::deliberation::convergence_text(&report.convergence)
                );
            }
            s
        }
        _ => return None,
    })
}

fn secs(ms: u64) -> String {
    format!("{:.1}s", Duration::from_millis(ms).as_secs_f64())
}

fn usage_suffix(usage: &Usage) -> String {
    let tokens = usage.prompt_tokens + usage.completion_tokens;
    let mut s = String::new();
    if tokens > 0 {
        let _ = write!(
            s,
            ", {} in + {} out tokens",
            usage.prompt_tokens, usage.completion_tokens
        );
    }
    if let Some(cost) = usage.cost {
        let _ = write!(s, ", ${cost:.4}");
    }
    s
}

/// While the judge streams (its JSON is not printed), a line every
/// [`JudgeRate::EVERY`] with the tokens so far and their rate, so a slow
/// judge is seen working.
#[derive(Debug, Default)]
pub struct JudgeRate {
    started: Option<std::time::Instant>,
    tokens: u64,
    last: Option<std::time::Instant>,
}

impl JudgeRate {
    pub const EVERY: Duration = Duration::from_secs(5);

    pub fn line(&mut self, event: &CouncilEvent, now: std::time::Instant) -> Option<String> {
        match event {
            CouncilEvent::JudgeStarted { .. } => {
                *self = Self {
                    started: Some(now),
                    last: Some(now),
                    tokens: 0,
                };
                None
            }
            CouncilEvent::JudgeDelta { .. } => {
                self.tokens += 1;
                let (started, last) = (self.started?, self.last?);
                if now.saturating_duration_since(last) < Self::EVERY {
                    return None;
                }
                self.last = Some(now);
                let seconds = now.saturating_duration_since(started).as_secs_f64();
                Some(format!(
                    "judge: {} tokens so far, {:.1} tok/s",
                    self.tokens,
                    self.tokens as f64 / seconds.max(0.001)
                ))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod judge_rate_tests {
    use super::*;

    #[test]
    fn a_line_every_five_seconds_while_the_judge_streams() {
        let t0 = std::time::Instant::now();
        let mut rate = JudgeRate::default();
        let delta = CouncilEvent::JudgeDelta { text: "{".into() };
        assert_eq!(rate.line(&delta, t0), None, "not started");
        let started = CouncilEvent::JudgeStarted {
            model: "m".into(),
            labels: crate::engine::judge::LabelMap::shuffled(&[(0, "a".into())], 1),
        };
        assert_eq!(rate.line(&started, t0), None);
        for i in 1..50u64 {
            assert_eq!(rate.line(&delta, t0 + Duration::from_millis(i * 100)), None);
        }
        let line = rate.line(&delta, t0 + Duration::from_secs(5)).unwrap();
        assert_eq!(line, "judge: 50 tokens so far, 10.0 tok/s");
        assert_eq!(rate.line(&delta, t0 + Duration::from_secs(6)), None);
    }
}
