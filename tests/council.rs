//! The orchestrator end to end: panel, judge and synthesis against the
//! scripted server, asserting on events, the folded report and what the
//! server received.

mod support;

use std::sync::Arc;
use std::time::Duration;

use council::engine::judge::JudgeFailureKind;
use council::engine::{
    Council, CouncilEvent, RunOptions, RunOutcome, RunReport, Seat, SeatSpec, Status,
};
use council::provider::openai::{OpenAiConfig, OpenAiProvider};
use council::provider::{Provider, RetryPolicy};
use support::{Recorded, Reply, Server, Step, content, judge_json};

fn seat(provider: &Arc<dyn Provider>, name: &str, model: &str) -> Seat {
    Seat {
        spec: SeatSpec::new(name, model, "test"),
        provider: provider.clone(),
        fallbacks: Vec::new(),
    }
}

fn council(server: &Server, members: &[(&str, &str)]) -> Council {
    let mut config = OpenAiConfig::new("test", server.base_url.clone());
    config.retry = RetryPolicy::none();
    let provider: Arc<dyn Provider> = Arc::new(OpenAiProvider::new(config).unwrap());
    Council {
        preset: Some("test".into()),
        members: members.iter().map(|(n, m)| seat(&provider, n, m)).collect(),
        judge: seat(&provider, "judge", "judge/model"),
        synthesizer: seat(&provider, "synthesizer", "synth/model"),
        endpoints: Default::default(),
        rounds: 1,
        ranking: false,
        limits: Default::default(),
    }
}

/// Members answer by model name; the judge and synthesizer by their prompts.
fn handler(r: &Recorded, _: usize) -> Reply {
    if r.is_judge() {
        return Reply::text(&[&judge_json()]);
    }
    if r.is_synthesis() {
        return Reply::text(&["Final ", "answer."]);
    }
    match r.model() {
        m if m.starts_with("fail/") => Reply::status(500, r#"{"error":{"message":"boom"}}"#),
        m if m.starts_with("slow/") => Reply::sse(vec![
            Step::Write(content("slow ")),
            Step::Sleep(Duration::from_millis(400)),
            Step::Write(content("answer")),
        ])
        .then_finish(),
        m => Reply::text(&["Answer from ", m]),
    }
}

trait ThenFinish {
    fn then_finish(self) -> Self;
}
impl ThenFinish for Reply {
    fn then_finish(mut self) -> Self {
        self.steps.push(Step::Write(support::finish("stop")));
        self.steps
            .push(Step::Write(support::usage(5, 2, Some(0.01))));
        self.steps.push(Step::Write(support::done()));
        self
    }
}

async fn collect(mut handle: council::RunHandle) -> Vec<CouncilEvent> {
    let mut events = Vec::new();
    while let Some(e) = handle.events.recv().await {
        events.push(e);
    }
    events
}

#[tokio::test]
async fn a_full_run_fills_every_stage() {
    let server = Server::start(handler).await;
    let c = council(&server, &[("alpha", "ok/alpha"), ("beta", "ok/beta")]);
    let events = collect(council::run(
        c,
        "Why is the sky blue?",
        RunOptions {
            seed: Some(7),
            ..RunOptions::default()
        },
    ))
    .await;
    let report = RunReport::from_events(&events);

    assert_eq!(report.outcome, Some(RunOutcome::Synthesized));
    assert_eq!(report.members[0].text, "Answer from ok/alpha");
    assert_eq!(report.members[1].text, "Answer from ok/beta");
    assert!(
        report
            .members
            .iter()
            .all(|m| m.status == Status::Done && m.ttft_ms.is_some())
    );
    assert_eq!(report.synthesis.text, "Final answer.");
    assert_eq!(report.synthesis.status, Status::Done);
    assert!(report.synthesis.with_analysis);

    // Labels map back to the members the shuffle put under them.
    let labels = report.judge.labels.clone().unwrap();
    assert_eq!(labels.seed, 7);
    let name = |l: &str| labels.resolve(l).unwrap().name.clone();
    let analysis = report.judge.analysis.clone().unwrap();
    // Both labels, listed in panel order (not the order they were shuffled in).
    assert_eq!(analysis.consensus[0].members, ["alpha", "beta"]);
    assert_ne!(name("A"), "alpha", "seed 7 shuffles the order");
    assert_eq!(analysis.consensus[0].quotes[1].member, name("B"));
    assert_eq!(analysis.contradictions[0].stances[1].members, [name("B")]);
    assert_eq!(analysis.unique_insights[0].members, [name("B")]);
    assert_eq!(report.judge.status, Status::Done);

    // Usage totals add up over 4 requests (2 members, judge, synthesis).
    assert_eq!(report.usage.prompt_tokens, 40);
    assert!((report.usage.cost.unwrap() - 0.004).abs() < 1e-9);

    // The judge saw anonymous labels at temperature 0 with a JSON schema;
    // the synthesizer saw names and the analysis.
    let requests = server.requests();
    let judge = requests.iter().find(|r| r.is_judge()).unwrap();
    assert_eq!(judge.body["temperature"], 0.0);
    assert_eq!(judge.body["response_format"]["type"], "json_schema");
    assert!(
        judge.user_prompt().contains("# Response A")
            && judge.user_prompt().contains("# Response B")
    );
    let synth = requests.iter().find(|r| r.is_synthesis()).unwrap();
    assert!(
        synth
            .user_prompt()
            .contains("# Answer from alpha (ok/alpha)")
    );
    assert!(synth.user_prompt().contains("## Contradictions"));

    // Event order: run started first, run finished last, judge after every member settled.
    assert!(matches!(
        events.first(),
        Some(CouncilEvent::RunStarted { .. })
    ));
    assert!(matches!(
        events.last(),
        Some(CouncilEvent::RunFinished { .. })
    ));
    let judge_at = events
        .iter()
        .position(|e| matches!(e, CouncilEvent::JudgeStarted { .. }))
        .unwrap();
    let last_member = events
        .iter()
        .rposition(|e| matches!(e, CouncilEvent::MemberFinished { .. }))
        .unwrap();
    assert!(judge_at > last_member);
}

#[tokio::test]
async fn a_failed_member_is_reported_and_the_rest_go_on() {
    let server = Server::start(handler).await;
    let c = council(
        &server,
        &[
            ("alpha", "ok/alpha"),
            ("broken", "fail/x"),
            ("gamma", "ok/gamma"),
        ],
    );
    let report =
        RunReport::from_events(&collect(council::run(c, "Q?", RunOptions::default())).await);
    assert_eq!(report.members[1].status, Status::Failed);
    assert_eq!(
        report.members[1].error.as_deref(),
        Some("HTTP 500: server error (boom)")
    );
    assert_eq!(report.outcome, Some(RunOutcome::Synthesized));
    let requests = server.requests();
    let judge = requests.iter().find(|r| r.is_judge()).unwrap();
    assert!(
        judge.user_prompt().contains("# Response B")
            && !judge.user_prompt().contains("# Response C")
    );
    let synth = requests.iter().find(|r| r.is_synthesis()).unwrap();
    assert!(!synth.user_prompt().contains("broken"));
}

#[tokio::test]
async fn a_member_dropped_mid_stream_keeps_its_text() {
    let server = Server::start(|r: &Recorded, i| {
        if r.model() == "drop/x" {
            Reply::sse(vec![
                Step::Write(content("half an ")),
                Step::Write(content("answer")),
                Step::Drop,
            ])
        } else {
            handler(r, i)
        }
    })
    .await;
    let c = council(&server, &[("alpha", "ok/alpha"), ("dropper", "drop/x")]);
    let report =
        RunReport::from_events(&collect(council::run(c, "Q?", RunOptions::default())).await);
    assert_eq!(report.members[1].status, Status::Failed);
    assert_eq!(report.members[1].text, "half an answer");
    assert!(
        report.members[1]
            .error
            .as_deref()
            .unwrap()
            .starts_with("connection lost mid-stream")
    );
    assert_eq!(report.outcome, Some(RunOutcome::Synthesized));
}

#[tokio::test]
async fn when_every_member_fails_nothing_is_judged() {
    let server = Server::start(handler).await;
    let c = council(&server, &[("a", "fail/a"), ("b", "fail/b")]);
    let report =
        RunReport::from_events(&collect(council::run(c, "Q?", RunOptions::default())).await);
    assert_eq!(report.outcome, Some(RunOutcome::AllMembersFailed));
    assert_eq!(report.judge.status, Status::Skipped);
    assert_eq!(report.synthesis.status, Status::Skipped);
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn a_judge_that_is_not_json_still_gets_a_synthesis() {
    let server = Server::start(|r: &Recorded, i| {
        if r.is_judge() {
            Reply::text(&["I think both answers are fine."])
        } else {
            handler(r, i)
        }
    })
    .await;
    let c = council(&server, &[("alpha", "ok/alpha")]);
    let report =
        RunReport::from_events(&collect(council::run(c, "Q?", RunOptions::default())).await);
    assert_eq!(report.judge.status, Status::Failed);
    assert_eq!(report.judge.text, "I think both answers are fine.");
    assert_eq!(
        report.judge.error.as_deref(),
        Some("not valid JSON: no JSON object in the reply")
    );
    assert_eq!(report.synthesis.status, Status::Done);
    assert!(!report.synthesis.with_analysis);
    let synth = server
        .requests()
        .into_iter()
        .find(|r| r.is_synthesis())
        .unwrap();
    assert!(synth.user_prompt().contains("No judge analysis"));
}

#[tokio::test]
async fn a_judge_upstream_error_is_reported_as_such() {
    let server = Server::start(|r: &Recorded, i| {
        if r.is_judge() {
            Reply::status(402, r#"{"error":{"message":"Insufficient credits"}}"#)
        } else {
            handler(r, i)
        }
    })
    .await;
    let c = council(&server, &[("alpha", "ok/alpha")]);
    let events = collect(council::run(c, "Q?", RunOptions::default())).await;
    let failure = events.iter().find_map(|e| match e {
        CouncilEvent::JudgeFailed { failure, .. } => Some(failure.clone()),
        _ => None,
    });
    assert_eq!(failure.unwrap().kind, JudgeFailureKind::Upstream);
    assert_eq!(
        RunReport::from_events(&events).outcome,
        Some(RunOutcome::Synthesized)
    );
}

#[tokio::test]
async fn a_judge_endpoint_rejecting_response_format_is_asked_again_without_it() {
    let server = Server::start(|r: &Recorded, i| {
        if r.is_judge() && r.body.get("response_format").is_some() {
            Reply::status(
                400,
                r#"{"error":{"message":"response_format is not supported"}}"#,
            )
        } else {
            handler(r, i)
        }
    })
    .await;
    let c = council(&server, &[("alpha", "ok/alpha"), ("beta", "ok/beta")]);
    let report =
        RunReport::from_events(&collect(council::run(c, "Q?", RunOptions::default())).await);
    assert_eq!(report.judge.status, Status::Done);
    let judges: Vec<Recorded> = server
        .requests()
        .into_iter()
        .filter(|r| r.is_judge())
        .collect();
    assert_eq!(judges.len(), 2);
    assert!(judges[1].body.get("response_format").is_none());
}

#[tokio::test]
async fn a_failed_synthesis_is_the_run_outcome() {
    let server = Server::start(|r: &Recorded, i| {
        if r.is_synthesis() {
            Reply::status(503, "")
        } else {
            handler(r, i)
        }
    })
    .await;
    let c = council(&server, &[("alpha", "ok/alpha")]);
    let report =
        RunReport::from_events(&collect(council::run(c, "Q?", RunOptions::default())).await);
    assert_eq!(report.outcome, Some(RunOutcome::SynthesisFailed));
    assert_eq!(
        report.synthesis.error.as_deref(),
        Some("HTTP 503: server error")
    );
}

#[tokio::test]
async fn cancelling_one_member_leaves_the_others_running() {
    let server = Server::start(|r: &Recorded, i| {
        if r.model() == "endless/x" {
            let mut steps = Vec::new();
            for _ in 0..100 {
                steps.push(Step::Write(content("more ")));
                steps.push(Step::Sleep(Duration::from_millis(30)));
            }
            Reply::sse(steps)
        } else {
            handler(r, i)
        }
    })
    .await;
    let c = council(&server, &[("alpha", "ok/alpha"), ("endless", "endless/x")]);
    let mut handle = council::run(c, "Q?", RunOptions::default());
    let mut events = Vec::new();
    while let Some(e) = handle.events.recv().await {
        if matches!(e, CouncilEvent::MemberDelta { member: 1, .. })
            && !events
                .iter()
                .any(|e| matches!(e, CouncilEvent::MemberDelta { member: 1, .. }))
        {
            assert!(handle.cancel_member(1));
        }
        events.push(e);
    }
    let report = RunReport::from_events(&events);
    assert_eq!(report.members[1].status, Status::Cancelled);
    assert!(report.members[1].text.starts_with("more "));
    assert_eq!(report.members[0].status, Status::Done);
    assert_eq!(report.outcome, Some(RunOutcome::Synthesized));
    assert!(!handle.cancel_member(9));
}

#[tokio::test]
async fn cancelling_the_run_skips_judge_and_synthesis() {
    let server = Server::start(handler).await;
    let c = council(&server, &[("slow", "slow/a"), ("slower", "slow/b")]);
    let mut handle = council::run(c, "Q?", RunOptions::default());
    let mut events = Vec::new();
    while let Some(e) = handle.events.recv().await {
        if matches!(e, CouncilEvent::MemberDelta { .. }) {
            handle.cancel();
        }
        events.push(e);
    }
    let report = RunReport::from_events(&events);
    assert_eq!(report.outcome, Some(RunOutcome::Cancelled));
    assert!(report.members.iter().all(|m| m.status == Status::Cancelled));
    assert_eq!(report.judge.status, Status::Skipped);
    assert!(
        !server
            .requests()
            .iter()
            .any(|r| r.is_judge() || r.is_synthesis())
    );
}

#[tokio::test]
async fn four_slow_members_run_concurrently() {
    let hold = Duration::from_millis(500);
    let server = Server::start(move |r: &Recorded, i| {
        if r.model().starts_with("held/") {
            Reply::sse(vec![
                Step::Write(content("thinking")),
                Step::Sleep(hold),
                Step::Write(content(" done")),
            ])
            .then_finish()
        } else {
            handler(r, i)
        }
    })
    .await;
    let c = council(
        &server,
        &[
            ("a", "held/a"),
            ("b", "held/b"),
            ("c", "held/c"),
            ("d", "held/d"),
        ],
    );
    let report =
        RunReport::from_events(&collect(council::run(c, "Q?", RunOptions::default())).await);
    assert_eq!(report.outcome, Some(RunOutcome::Synthesized));
    let members: Vec<Recorded> = server
        .requests()
        .into_iter()
        .filter(|r| r.model().starts_with("held/"))
        .collect();
    assert_eq!(members.len(), 4);
    // Every member's request arrived before any member's reply finished:
    // they were all in flight at once.
    let last_arrival = members.iter().map(|r| r.received).max().unwrap();
    let first_finish = members.iter().map(|r| r.finished.unwrap()).min().unwrap();
    assert!(last_arrival < first_finish, "members were serialised");
    // And the whole panel took about one member's time, not four.
    let first_arrival = members.iter().map(|r| r.received).min().unwrap();
    let last_finish = members.iter().map(|r| r.finished.unwrap()).max().unwrap();
    let span = last_finish - first_arrival;
    assert!(
        span < hold * 2,
        "panel took {span:?} for members holding {hold:?} each"
    );
}

#[tokio::test]
async fn at_most_sixteen_members_ask_one_provider_at_once_the_rest_wait_queued() {
    let hold = Duration::from_millis(300);
    let server = Server::start(move |r: &Recorded, i| {
        if r.model().starts_with("held/") {
            Reply::sse(vec![
                Step::Write(content("x")),
                Step::Sleep(hold),
                Step::Write(content(" y")),
            ])
            .then_finish()
        } else {
            handler(r, i)
        }
    })
    .await;
    let names: Vec<(String, String)> = (0..40)
        .map(|i| (format!("m{i}"), format!("held/{i}")))
        .collect();
    let members: Vec<(&str, &str)> = names
        .iter()
        .map(|(n, m)| (n.as_str(), m.as_str()))
        .collect();
    let c = council(&server, &members);
    let events = collect(council::run(c, "Q?", RunOptions::default())).await;
    let report = RunReport::from_events(&events);
    assert_eq!(report.outcome, Some(RunOutcome::Synthesized));
    assert!(report.members.iter().all(|m| m.status == Status::Done));
    // The most requests in flight at one moment, from the server's side.
    let held: Vec<Recorded> = server
        .requests()
        .into_iter()
        .filter(|r| r.model().starts_with("held/"))
        .collect();
    assert_eq!(held.len(), 40);
    let most = held
        .iter()
        .map(|r| {
            held.iter()
                .filter(|o| o.received <= r.received && o.finished.unwrap() > r.received)
                .count()
        })
        .max()
        .unwrap();
    assert_eq!(most, council::engine::orchestrator::PROVIDER_CONCURRENCY);
    // The 17th member started only after one of the first had finished.
    let started = events
        .iter()
        .filter(|e| matches!(e, CouncilEvent::MemberStarted { .. }))
        .count();
    let position = |f: &dyn Fn(&CouncilEvent) -> bool| events.iter().position(f).unwrap();
    let seventeenth = position(&|e| matches!(e, CouncilEvent::MemberStarted { member: 16 }));
    let first_done = position(&|e| matches!(e, CouncilEvent::MemberFinished { .. }));
    assert_eq!(started, 40);
    assert!(first_done < seventeenth, "queued until a slot was free");
}
