//! Latency and cost under control, against the scripted server: fallback
//! models, quorum and deadline, the budget cap.

mod support;

use std::sync::Arc;
use std::time::Duration;

use council::engine::council::Fallback;
use council::engine::{
    Council, CouncilEvent, RunOptions, RunOutcome, RunReport, Seat, SeatSpec, Status,
};
use council::provider::openai::{OpenAiConfig, OpenAiProvider};
use council::provider::{Provider, RetryPolicy};
use support::{Recorded, Reply, Server, Step, content, judge_json};

fn provider(server: &Server) -> Arc<dyn Provider> {
    let mut config = OpenAiConfig::new("test", server.base_url.clone());
    config.retry = RetryPolicy::none();
    Arc::new(OpenAiProvider::new(config).unwrap())
}

fn seat(p: &Arc<dyn Provider>, name: &str, model: &str, fallbacks: &[&str]) -> Seat {
    Seat {
        spec: SeatSpec {
            fallbacks: fallbacks.iter().map(|f| f.to_string()).collect(),
            ..SeatSpec::new(name, model, "test")
        },
        provider: p.clone(),
        fallbacks: fallbacks
            .iter()
            .map(|f| Fallback {
                model: f.to_string(),
                provider: p.clone(),
            })
            .collect(),
    }
}

fn council(server: &Server, members: &[(&str, &str, &[&str])]) -> Council {
    let p = provider(server);
    Council {
        preset: None,
        members: members.iter().map(|(n, m, f)| seat(&p, n, m, f)).collect(),
        judge: seat(&p, "judge", "judge/model", &[]),
        synthesizer: seat(&p, "synthesizer", "synth/model", &[]),
        endpoints: Default::default(),
        rounds: 1,
        ranking: false,
    }
}

/// `404/`, `500/`, `402/` fail with that status; `drop/` sends a word then
/// drops the connection; `slow/` takes 25 s; others answer at once.
fn handler(r: &Recorded, _: usize) -> Reply {
    if r.is_judge() {
        return Reply::text(&[&judge_json()]);
    }
    if r.is_synthesis() {
        return Reply::text(&["Final answer."]);
    }
    let model = r.model().to_string();
    match model.split('/').next().unwrap_or_default() {
        "404" => Reply::status(404, r#"{"error":{"message":"No endpoints found"}}"#),
        "500" => Reply::status(500, r#"{"error":{"message":"overloaded"}}"#),
        "402" => Reply::status(402, r#"{"error":{"message":"Insufficient credits"}}"#),
        "drop" => Reply::sse(vec![Step::Write(content("half ")), Step::Drop]),
        "slow" => Reply::sse(vec![
            Step::Write(content("slow start ")),
            Step::Sleep(Duration::from_secs(25)),
            Step::Write(content("never seen")),
        ]),
        _ => Reply::text(&["Answer from ", &model]),
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
async fn a_fallback_chain_answers_with_the_first_model_that_works() {
    let server = Server::start(handler).await;
    let c = council(
        &server,
        &[
            ("alpha", "404/first", &["500/second", "ok/third"]),
            ("beta", "ok/beta", &[]),
        ],
    );
    let report =
        RunReport::from_events(&collect(council::run(c, "Q?", RunOptions::default())).await);
    assert_eq!(report.outcome, Some(RunOutcome::Synthesized));
    let alpha = &report.members[0];
    assert_eq!(alpha.status, Status::Done);
    assert_eq!(alpha.model, "ok/third", "the model that answered");
    assert_eq!(alpha.text, "Answer from ok/third");
    assert_eq!(alpha.fallback_from, ["404/first", "500/second"]);
    assert!(
        alpha.fallback_errors[0].error.starts_with("HTTP 404"),
        "{:?}",
        alpha.fallback_errors
    );
    assert!(
        alpha.fallback_errors[1].error.starts_with("HTTP 500"),
        "{:?}",
        alpha.fallback_errors
    );
    let models: Vec<String> = server
        .chats()
        .iter()
        .map(|r| r.model().to_string())
        .collect();
    assert_eq!(
        models
            .iter()
            .filter(|m| m.contains("first") || m.contains("second") || m.contains("third"))
            .count(),
        3
    );
}

#[tokio::test]
async fn no_fallback_once_text_has_arrived() {
    let server = Server::start(handler).await;
    let c = council(
        &server,
        &[
            ("alpha", "drop/first", &["ok/second"]),
            ("beta", "ok/beta", &[]),
        ],
    );
    let report =
        RunReport::from_events(&collect(council::run(c, "Q?", RunOptions::default())).await);
    let alpha = &report.members[0];
    assert_eq!(alpha.status, Status::Failed);
    assert_eq!(alpha.text, "half ", "the text that arrived is kept");
    assert!(alpha.fallback_from.is_empty());
    assert!(!server.chats().iter().any(|r| r.model() == "ok/second"));
}
