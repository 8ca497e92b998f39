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
use serde_json::{Value, json};
use support::cli::{Run, council as council_bin};
use support::{Recorded, Reply, Server, Step, content, done, finish, judge_json, usage};

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
        limits: Default::default(),
    }
}

/// `404/`, `500/`, `402/`, `429/` fail with that status; `drop/` sends a
/// word then drops the connection; `slow/` takes 25 s; `late3/` answers
/// after 3 s; `dear/` costs $0.50; others answer at once. The judge model
/// `prose/judge` answers with no JSON. `/models` is not served.
fn handler(r: &Recorded, _: usize) -> Reply {
    if r.path.ends_with("/models") {
        return Reply::status(404, r#"{"error":{"message":"not here"}}"#);
    }
    let failing = r.model().starts_with("404/") || r.model().starts_with("500/");
    if r.is_judge() && !failing {
        if r.model() == "prose/judge" {
            return Reply::text(&["I think they mostly agree."]);
        }
        return Reply::text(&[&judge_json()]);
    }
    if r.is_synthesis() && !failing {
        return Reply::text(&["Final answer."]);
    }
    let model = r.model().to_string();
    match model.split('/').next().unwrap_or_default() {
        "404" => Reply::status(404, r#"{"error":{"message":"No endpoints found"}}"#),
        "500" => Reply::status(500, r#"{"error":{"message":"overloaded"}}"#),
        // Asks to be tried again in 5 s: it is retrying for a while.
        "500wait" => {
            Reply::status(500, r#"{"error":{"message":"overloaded"}}"#).header("retry-after", "5")
        }
        "402" => Reply::status(402, r#"{"error":{"message":"Insufficient credits"}}"#),
        "429" => Reply::status(429, r#"{"error":{"message":"Rate limit exceeded"}}"#),
        "late3" => Reply::text(&["Late but ", "here"]).delayed(Duration::from_secs(3)),
        "dear" => Reply::sse(vec![
            Step::Write(content("Costly answer")),
            Step::Write(finish("stop")),
            Step::Write(usage(1000, 500, Some(0.5))),
            Step::Write(done()),
        ]),
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

/// `council ask --json` against `server` with `args` after the endpoint;
/// listings are cached in a scratch folder of the test's own.
async fn ask(server: &Server, cache: &str, args: &[&str]) -> (Run, Value) {
    let cache =
        std::env::temp_dir().join(format!("council-test-cache-{cache}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let mut all = vec!["ask", "--json", "--base-url", &server.base_url];
    all.extend_from_slice(args);
    let run = council_bin(&all, None, &[("XDG_CACHE_HOME", cache.to_str().unwrap())]).await;
    let json = serde_json::from_str(&run.stdout).unwrap_or(Value::Null);
    (run, json)
}

fn judge_prompt(server: &Server) -> Option<String> {
    server
        .chats()
        .into_iter()
        .find(Recorded::is_judge)
        .map(|r| r.user_prompt().to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_straggler_is_stopped_at_the_deadline_once_the_quorum_has_answered() {
    let server = Server::start(handler).await;
    let started = std::time::Instant::now();
    let (run, json) = ask(
        &server,
        "straggler",
        &[
            "--panel",
            "ok/a,ok/b,slow/c",
            "--quorum",
            "2",
            "--deadline",
            "2",
            "Q?",
        ],
    )
    .await;
    let took = started.elapsed();
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Two seconds, then the judge and synthesis (instant here); not 25.
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(10),
        "took {took:?}"
    );
    let straggler = &json["members"][2];
    assert_eq!(straggler["status"], "late");
    assert_eq!(straggler["text"], "slow start ", "its text is kept");
    assert_eq!(json["outcome"], "synthesized");
    assert_eq!(json["degraded"], true);
    assert_eq!(
        json["degraded_members"],
        json!([{"member": "c", "status": "late", "reason": "stopped at the deadline"}])
    );
    assert_eq!(json["limits"], json!({"quorum": 2, "deadline_s": 2.0}));
    // Left out of the judgement: two labels, and not its words.
    let labels = json["judge"]["labels"]["assignments"].as_array().unwrap();
    assert_eq!(labels.len(), 2, "{labels:?}");
    let prompt = judge_prompt(&server).expect("the judge was asked");
    assert!(!prompt.contains("slow start"), "{prompt}");
    assert!(
        prompt.contains("Only 2 of the 3 members answered"),
        "{prompt}"
    );
    let synthesis = server
        .chats()
        .into_iter()
        .find(Recorded::is_synthesis)
        .unwrap();
    let told = synthesis.contents("user").join("\n");
    assert!(!told.contains("slow start"));
    assert!(told.contains("Only 2 of the 3 members answered"), "{told}");
    assert!(
        run.stderr.contains("c  late: stopped at")
            && run
                .stderr
                .contains("degraded panel: 2 of 3 members answered"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_quorum_at_the_deadline_the_run_waits_for_one() {
    let server = Server::start(handler).await;
    let started = std::time::Instant::now();
    let (run, json) = ask(
        &server,
        "waits",
        &[
            "--panel",
            "ok/a,late3/b,slow/c",
            "--quorum",
            "2",
            "--deadline",
            "1",
            "Q?",
        ],
    )
    .await;
    let took = started.elapsed();
    assert_eq!(run.code, 0, "{}", run.stderr);
    // At 1 s only `a` had answered: the run waited for `b` (3 s), then stopped `c`.
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(10),
        "took {took:?}"
    );
    let status: Vec<&str> = json["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["status"].as_str().unwrap())
        .collect();
    assert_eq!(status, ["done", "done", "late"]);
    assert_eq!(json["members"][1]["text"], "Late but here");
}

/// A member failing with HTTP 500 and retrying when the deadline comes
/// (the server asked for 5 s before the next try): it is stopped as late,
/// and why its tries failed is kept and shown.
#[tokio::test(flavor = "multi_thread")]
async fn a_member_stopped_late_while_retrying_keeps_its_error() {
    let server = Server::start(handler).await;
    let (run, json) = ask(
        &server,
        "late-retry",
        &[
            "--panel",
            "ok/a,500wait/b,ok/c",
            "--quorum",
            "2",
            "--deadline",
            "1",
            "Q?",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let late = &json["members"][1];
    assert_eq!(late["status"], "late", "{late}");
    let error = late["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("stopped at the deadline after") && error.contains("500"),
        "{late}"
    );
    // While it retried, stderr said so.
    assert!(run.stderr.contains("b retrying after"), "{}", run.stderr);
}

/// Too many members failed for the quorum: the run ends at once with
/// `no_quorum`, not at the deadline.
#[tokio::test(flavor = "multi_thread")]
async fn a_quorum_that_can_no_longer_be_reached_ends_the_wait() {
    let server = Server::start(handler).await;
    let started = std::time::Instant::now();
    let (run, json) = ask(
        &server,
        "quorum-lost",
        &[
            "--panel",
            "ok/a,404/b,slow/c",
            "--quorum",
            "3",
            "--deadline",
            "20",
            "Q?",
        ],
    )
    .await;
    let took = started.elapsed();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(json["outcome"], "no_quorum", "{json}");
    assert!(
        took < Duration::from_secs(8),
        "took {took:?}, not the 20 s deadline"
    );
    assert_eq!(json["members"][2]["status"], "late");
}

#[tokio::test(flavor = "multi_thread")]
async fn fewer_answers_than_the_quorum_end_the_run_without_a_judge() {
    let server = Server::start(handler).await;
    let (run, json) = ask(
        &server,
        "no-quorum",
        &["--panel", "ok/a,404/b", "--quorum", "2", "Q?"],
    )
    .await;
    assert_eq!(run.code, 1);
    assert_eq!(json["outcome"], "no_quorum");
    assert_eq!(json["failure_reason"], "no_quorum");
    assert_eq!(json["error"], "1 of 2 members answered; the quorum is 2");
    assert!(
        run.stderr
            .contains("council: no quorum: 1 of 2 members answered"),
        "{}",
        run.stderr
    );
    assert!(judge_prompt(&server).is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cap_below_the_estimate_is_refused_before_any_request() {
    // The listing prices every model at $1 per thousand tokens.
    let server = Server::start(|r: &Recorded, i| {
        if r.path.ends_with("/models") {
            let model =
                |id: &str| json!({"id": id, "pricing": {"prompt": "0.001", "completion": "0.001"}});
            let body = json!({"data": [model("ok/a"), model("ok/b")]});
            return Reply::status(200, &body.to_string());
        }
        handler(r, i)
    })
    .await;
    let (run, _) = ask(
        &server,
        "refused",
        &[
            "--panel",
            "ok/a,ok/b",
            "--judge",
            "ok/a",
            "--synth",
            "ok/b",
            "--max-cost",
            "0.05",
            "Q?",
        ],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    // Four seats writing their 1,024 tokens at most, at $0.001 a token, plus
    // what they read: members 2 x (1 + 1024), the judge 600 + 1 + 2048 + 1024,
    // the synthesis 600 + 1 + 2048 + 1024 + 1024 tokens.
    assert_eq!(
        run.stderr,
        "council: the estimate of $10.4200 is over the $0.0500 cap; raise it with --max-cost 10.42 \
         (or max_cost in the preset or config), or lower max_tokens\n"
    );
    assert!(server.chats().is_empty(), "no model was asked");

    // Under a cap above the estimate the same council runs.
    let (run, json) = ask(
        &server,
        "refused",
        &[
            "--panel",
            "ok/a,ok/b",
            "--judge",
            "ok/a",
            "--synth",
            "ok/b",
            "--max-cost",
            "20",
            "Q?",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(json["outcome"], "synthesized");
    assert!(
        run.stderr
            .contains("council: estimated at most $10.4200 of the $20.0000 cap"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cap_reached_by_the_panel_stops_the_run_before_the_judge() {
    let server = Server::start(handler).await;
    let (run, json) = ask(
        &server,
        "spent",
        &["--panel", "dear/a,dear/b", "--max-cost", "0.6", "Q?"],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    // The listing is not served: the estimate says it cannot price and runs.
    assert!(
        run.stderr
            .contains("the estimate of $0.0000 is incomplete: no listed price for dear/a, dear/b"),
        "{}",
        run.stderr
    );
    assert_eq!(json["outcome"], "budget_exceeded");
    assert_eq!(json["failure_reason"], "budget_exceeded");
    assert_eq!(
        json["error"],
        "spent $1.0000 of the $0.6000 cap before the judge; raise it with --max-cost"
    );
    assert_eq!(
        json["members"][0]["text"], "Costly answer",
        "the answers are kept"
    );
    assert_eq!(json["members"][1]["status"], "done");
    assert!(json["session_id"].is_string(), "and saved");
    assert!(
        run.stderr
            .contains("council: budget exceeded: spent $1.0000"),
        "{}",
        run.stderr
    );
    let chats = server.chats();
    assert_eq!(chats.len(), 2, "only the members were asked");
    assert!(!chats.iter().any(|r| r.is_judge() || r.is_synthesis()));
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_are_named_in_fusions_terms_with_their_errors() {
    let server = Server::start(handler).await;
    let (run, json) = ask(&server, "credits", &["--panel", "402/a,402/b", "Q?"]).await;
    assert_eq!(run.code, 1);
    assert_eq!(json["outcome"], "insufficient_credits");
    assert_eq!(json["failure_reason"], "insufficient_credits");
    let error = json["error"].as_str().unwrap();
    assert!(
        error.contains("a: HTTP 402") && error.contains("Insufficient credits"),
        "{error}"
    );

    let (run, json) = ask(&server, "rate", &["--panel", "429/a,429/b", "Q?"]).await;
    assert_eq!(run.code, 1);
    assert_eq!(json["outcome"], "rate_limited");

    let (run, json) = ask(&server, "mixed", &["--panel", "429/a,500/b", "Q?"]).await;
    assert_eq!(run.code, 1);
    assert_eq!(json["outcome"], "all_members_failed");
    assert_eq!(json["failure_reason"], "all_panels_failed");

    // A judge with no JSON: the synthesis goes on from the raw answers, and
    // the failure is named.
    let (run, json) = ask(
        &server,
        "prose",
        &["--panel", "ok/a,ok/b", "--judge", "prose/judge", "Q?"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(json["outcome"], "synthesized");
    assert_eq!(json["failure_reason"], "judge_not_valid_json");
    assert_eq!(json["judge"]["failure"], "not_json");
    assert!(
        json["error"]
            .as_str()
            .unwrap()
            .starts_with("the judge failed: not valid JSON"),
        "{json}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn fallbacks_from_a_preset_are_in_the_json() {
    let server = Server::start(handler).await;
    let dir = std::env::temp_dir().join(format!("council-fallback-preset-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let preset = dir.join("fallbacks.toml");
    std::fs::write(
        &preset,
        r#"description = "fallbacks"
[[members]]
name = "alpha"
model = "404/first"
fallbacks = ["500/second", "ok/third"]
[[members]]
name = "beta"
model = "ok/beta"
[judge]
model = "500/judge"
fallbacks = ["ok/judge"]
[synthesizer]
model = "ok/synth"
"#,
    )
    .unwrap();
    let (run, json) = ask(
        &server,
        "fallbacks",
        &["--preset", preset.to_str().unwrap(), "Q?"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let alpha = &json["members"][0];
    assert_eq!(alpha["model"], "ok/third");
    assert_eq!(alpha["fallback_from"], json!(["404/first", "500/second"]));
    assert!(
        alpha["fallback_errors"][0]["error"]
            .as_str()
            .unwrap()
            .starts_with("HTTP 404")
    );
    assert_eq!(json["judge"]["model"], "ok/judge");
    assert_eq!(json["judge"]["fallback_from"], json!(["500/judge"]));
    assert!(
        run.stderr.contains("  alpha  404/first failed (HTTP 404")
            && run.stderr.contains("judge: 500/judge failed (HTTP 500"),
        "{}",
        run.stderr
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
