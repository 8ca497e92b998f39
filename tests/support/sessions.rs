//! Saved sessions made without a council: a header and one short turn each.

use std::path::Path;

use council::config::CouncilPlan;
use council::engine::{CouncilEvent, RunOutcome, SeatSpec};
use council::provider::Usage;
use council::session::SessionWriter;

/// Writes `n` one-turn sessions into `dir`, asking "Question {i}?".
pub fn write_many(dir: &Path, n: usize) {
    let seat = |name: &str| SeatSpec::new(name, format!("x/{name}"), "custom");
    let plan = CouncilPlan {
        preset: Some("budget".into()),
        members: vec![seat("alpha")],
        judge: seat("judge"),
        synthesizer: seat("synth"),
        endpoints: Default::default(),
        rounds: 1,
        ranking: false,
        limits: Default::default(),
    };
    for i in 0..n {
        let id = format!("20261123-{i:06}-0000");
        let mut writer =
            SessionWriter::create(dir, &id, "2026-11-23T08:00:00Z", plan.clone(), None).unwrap();
        let events = [
            CouncilEvent::RunStarted {
                question: format!("Question {i}?"),
                scope: Default::default(),
                preset: Some("budget".into()),
                members: vec![plan.members[0].info()],
                judge: plan.judge.info(),
                synthesizer: plan.synthesizer.info(),
                limits: Default::default(),
                attachments: Vec::new(),
            },
            CouncilEvent::MemberStarted { member: 0 },
            CouncilEvent::MemberDelta {
                member: 0,
                text: format!("Answer {i}."),
            },
            CouncilEvent::MemberFinished {
                member: 0,
                finish_reason: Some("stop".into()),
                usage: Usage::default(),
                ttft_ms: Some(1),
                elapsed_ms: 2,
                malformed_events: 0,
            },
            CouncilEvent::RunFinished {
                outcome: RunOutcome::Answered,
                usage: Usage::default(),
                elapsed_ms: 3,
                error: None,
            },
        ];
        for event in &events {
            writer.record(event).unwrap();
        }
        writer.flush().unwrap();
    }
}
