//! Session files: a run saved as it happens loads back equal; a process
//! killed mid-stream keeps every token flushed before the kill; corrupt
//! files, torn tails and newer formats are reported, never fatal to others.

mod support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use council::config::CouncilPlan;
use council::engine::{Council, CouncilEvent, RunOptions, RunReport, Seat, SeatSpec};
use council::provider::Provider;
use council::provider::openai::{OpenAiConfig, OpenAiProvider};
use council::session::{self, SessionError, SessionWriter};
use std::sync::Arc;
use support::{Recorded, Reply, Server, Step, content, judge_json};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("council-sessions-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn handler(r: &Recorded, _: usize) -> Reply {
    if r.is_judge() {
        return Reply::text(&[&judge_json()]);
    }
    if r.is_synthesis() {
        return Reply::text(&["The ", "synthesis."]);
    }
    let words: Vec<String> = (0..50).map(|i| format!("{}-{i} ", r.model())).collect();
    let parts: Vec<&str> = words.iter().map(String::as_str).collect();
    Reply::text(&parts)
}

fn seats(names: &[&str]) -> CouncilPlan {
    let seat = |n: &str| SeatSpec::new(n, format!("x/{n}"), "custom");
    CouncilPlan {
        preset: None,
        members: names.iter().map(|n| seat(n)).collect(),
        judge: seat("judge"),
        synthesizer: seat("synthesizer"),
        endpoints: Default::default(),
        rounds: 1,
        ranking: false,
        limits: Default::default(),
    }
}

async fn run_and_save(server: &Server, dir: &Path) -> (Vec<CouncilEvent>, PathBuf) {
    let provider: Arc<dyn Provider> =
        Arc::new(OpenAiProvider::new(OpenAiConfig::new("custom", &server.base_url)).unwrap());
    let plan = seats(&["alpha", "beta"]);
    let seat = |spec: &SeatSpec| Seat {
        spec: spec.clone(),
        provider: provider.clone(),
        fallbacks: Vec::new(),
    };
    let council = Council {
        preset: None,
        members: plan.members.iter().map(seat).collect(),
        judge: seat(&plan.judge),
        synthesizer: seat(&plan.synthesizer),
        endpoints: Default::default(),
        rounds: 1,
        ranking: false,
        limits: Default::default(),
    };
    let (id, created) = session::new_id();
    let mut writer = SessionWriter::create(dir, &id, &created, plan, None).unwrap();
    let mut handle = council::run(
        council,
        "Why?",
        RunOptions {
            seed: Some(2),
            ..RunOptions::default()
        },
    );
    let mut events = Vec::new();
    while let Some(e) = handle.events.recv().await {
        writer.record(&e).unwrap();
        events.push(e);
    }
    let path = writer.path().to_path_buf();
    drop(writer);
    (events, path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_run_loads_back_equal_with_deltas_merged() {
    let server = Server::start(handler).await;
    let dir = scratch("roundtrip");
    let (events, path) = run_and_save(&server, &dir).await;

    let loaded = session::load(&path).unwrap();
    assert_eq!(loaded.header.version, session::VERSION);
    assert_eq!(loaded.header.council.members[1].name, "beta");
    assert!(!loaded.interrupted);
    assert_eq!(loaded.turns, [RunReport::from_events(&events)]);
    let lines = std::fs::read_to_string(&path).unwrap().lines().count();
    assert!(
        lines < events.len() / 2,
        "{lines} lines for {} events: deltas are merged",
        events.len()
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("api_key") && !text.contains("Bearer"));

    let (list, errors) = session::list(&dir);
    assert!(errors.is_empty());
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].question, "Why?");
    assert_eq!(list[0].status, "done");
    assert_eq!(list[0].turns, 1);
    assert!((list[0].cost - 0.004).abs() < 1e-9, "{}", list[0].cost);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_torn_and_newer_files_are_reported_and_the_rest_load() {
    let server = Server::start(handler).await;
    let dir = scratch("broken");
    let (_, good) = run_and_save(&server, &dir).await;
    let text = std::fs::read_to_string(&good).unwrap();
    let lines: Vec<&str> = text.lines().collect();

    // A line in the middle that is not a record.
    let corrupt = dir.join("corrupt.jsonl");
    let mut broken = lines.clone();
    broken[2] = "{\"turn\": 0, \"event\": {\"type\": \"no_such_event\"}}";
    std::fs::write(&corrupt, broken.join("\n") + "\n").unwrap();
    match session::load(&corrupt) {
        Err(SessionError::Corrupt { message, .. }) => {
            assert!(message.starts_with("line 3:"), "{message}")
        }
        other => panic!("expected a corrupt file, got {other:?}"),
    }

    // Killed mid-write: the last line is cut short.
    let torn = dir.join("torn.jsonl");
    let cut = text.len() - text.lines().last().unwrap().len() / 2 - 1;
    std::fs::write(&torn, &text[..cut]).unwrap();
    let loaded = session::load(&torn).unwrap();
    assert!(loaded.interrupted);
    assert_eq!(loaded.turns.len(), 1);

    // From a newer council.
    let newer = dir.join("newer.jsonl");
    let header = lines[0].replace("\"version\":1", "\"version\":99");
    std::fs::write(&newer, header + "\n").unwrap();
    let e = session::load(&newer).unwrap_err().to_string();
    assert!(
        e.contains("written by a newer council (session format 99"),
        "{e}"
    );

    let (list, errors) = session::list(&dir);
    assert_eq!(errors.len(), 2, "the corrupt and the newer file");
    assert_eq!(list.len(), 2, "the good and the torn file still list");
    assert!(list.iter().any(|s| s.status == "interrupted"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_council_keeps_every_flushed_token() {
    // One member streams 40 tokens, then hangs; the other answers at once.
    let server = Server::start(|r: &Recorded, i| {
        if r.model() == "x/slow" {
            let mut steps: Vec<Step> = (0..40)
                .map(|i| Step::Write(content(&format!("tok{i} "))))
                .collect();
            steps.push(Step::Sleep(Duration::from_secs(30)));
            Reply::sse(steps)
        } else {
            handler(r, i)
        }
    })
    .await;
    let dir = scratch("killed");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_council"))
        .args([
            "ask",
            "--base-url",
            &server.base_url,
            "--panel",
            "x/slow,x/fast",
            "Q?",
        ])
        .env_remove("OPENROUTER_API_KEY")
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("COUNCIL_SESSIONS_DIR", &dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the slow member's tokens are all written, then for a flush.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while server.requests().len() < 2 {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(session::FLUSH_EVERY * 3).await;
    let pid = child.id().unwrap() as i32;
    // SIGKILL: no chance to flush or clean up.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    let status = child.wait().await.unwrap();
    assert!(!status.success());

    let (list, errors) = session::list(&dir);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].status, "interrupted");
    // No turn reported a cost: zero, not the -0.0 an empty sum gives.
    assert_eq!(format!("${:.4}", list[0].cost), "$0.0000");
    // As a person reads it: `show` and `sessions` print zero, never "$-0.0000".
    let sessions = dir.to_string_lossy().into_owned();
    for args in [&["show", "last"][..], &["sessions"][..]] {
        let out = support::cli::council(args, None, &[("COUNCIL_SESSIONS_DIR", &sessions)]).await;
        assert_eq!(out.code, 0, "{args:?}");
        assert!(out.stdout.contains("$0.0000"), "{args:?}: {}", out.stdout);
        assert!(!out.stdout.contains("-0.0"), "{args:?}: {}", out.stdout);
    }
    let loaded = session::load(&list[0].path).unwrap();
    let slow = &loaded.turns[0].members[0];
    let expected: String = (0..40).map(|i| format!("tok{i} ")).collect();
    assert_eq!(slow.text, expected, "every token streamed before the kill");
    assert_eq!(
        loaded.turns[0].members[1].text.split_whitespace().count(),
        50
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A run with fixed figures: one member answers, one fails after some text.
fn scripted_events() -> Vec<CouncilEvent> {
    use council::engine::judge::{Analysis, Contradiction, Finding, LabelMap, Quote, Stance};
    use council::engine::{RunOutcome, SeatInfo};
    use council::provider::{ErrorKind, ProviderError, Usage};
    let info = |n: &str| SeatInfo {
        name: n.into(),
        model: format!("x/{n}"),
        provider: "custom".into(),
    };
    let usage = |i, o, c| Usage {
        prompt_tokens: i,
        completion_tokens: o,
        cost: Some(c),
    };
    let quote = |m: &str, t: &str| Quote::new(m, t);
    vec![
        CouncilEvent::RunStarted {
            question: "Is a | pipe safe in tables?".into(),
            scope: Default::default(),
            preset: Some("budget".into()),
            members: vec![info("alpha"), info("beta")],
            judge: info("judge"),
            synthesizer: info("synthesizer"),
            limits: Default::default(),
            attachments: Vec::new(),
        },
        CouncilEvent::MemberStarted { member: 0 },
        CouncilEvent::MemberStarted { member: 1 },
        CouncilEvent::MemberDelta {
            member: 0,
            text: "Yes, when ".into(),
        },
        CouncilEvent::MemberDelta {
            member: 1,
            text: "It depends".into(),
        },
        CouncilEvent::MemberDelta {
            member: 0,
            text: "escaped as `\\|`.".into(),
        },
        CouncilEvent::MemberFinished {
            member: 0,
            finish_reason: Some("stop".into()),
            usage: usage(20, 8, 0.0012),
            ttft_ms: Some(420),
            elapsed_ms: 1900,
            malformed_events: 0,
        },
        CouncilEvent::MemberFailed {
            member: 1,
            error: ProviderError::new(ErrorKind::Dropped, "connection lost mid-stream"),
            ttft_ms: Some(800),
            elapsed_ms: 2500,
        },
        CouncilEvent::JudgeStarted {
            model: "x/judge".into(),
            labels: LabelMap::shuffled(&[(0, "alpha".into())], 1),
        },
        CouncilEvent::JudgeDelta {
            text: "{...}".into(),
        },
        CouncilEvent::JudgeFinished {
            analysis: Analysis {
                consensus: vec![Finding {
                    point: "Escaping works".into(),
                    members: vec!["alpha".into()],
                    quotes: vec![quote("alpha", "escaped as `\\|`")],
                    ..Finding::default()
                }],
                contradictions: vec![Contradiction {
                    topic: "Whether to bother".into(),
                    stances: vec![Stance {
                        members: vec!["alpha".into()],
                        stance: "Yes".into(),
                        quotes: vec![],
                        ..Stance::default()
                    }],
                    ..Contradiction::default()
                }],
                blind_spots: vec![],
                unique_insights: vec![],
                partial_coverage: vec![],
                ..Default::default()
            },
            usage: usage(300, 60, 0.004),
            elapsed_ms: 3000,
            consistency: None,
        },
        CouncilEvent::SynthesisStarted {
            model: "x/synthesizer".into(),
            citable: Vec::new(),
            with_analysis: true,
        },
        CouncilEvent::SynthesisDelta {
            text: "Escape it: `\\|`.".into(),
        },
        CouncilEvent::SynthesisFinished {
            finish_reason: Some("stop".into()),
            usage: usage(400, 10, 0.002),
            ttft_ms: Some(500),
            provenance: None,
            elapsed_ms: 1200,
        },
        CouncilEvent::RunFinished {
            outcome: RunOutcome::Synthesized,
            usage: usage(720, 78, 0.0072),
            elapsed_ms: 6400,
            error: None,
        },
    ]
}

fn save_scripted(dir: &Path) -> PathBuf {
    let mut plan = seats(&["alpha", "beta"]);
    plan.preset = Some("budget".into());
    let mut writer = SessionWriter::create(
        dir,
        "20261123-080000-abcd",
        "2026-11-23T08:00:00Z",
        plan,
        None,
    )
    .unwrap();
    for e in scripted_events() {
        writer.record(&e).unwrap();
    }
    writer.path().to_path_buf()
}

#[test]
fn the_markdown_export_is_stable() {
    let dir = scratch("golden");
    let path = save_scripted(&dir);
    let loaded = session::load(&path).unwrap();
    insta::assert_snapshot!("export_markdown", session::export::markdown(&loaded));
    insta::assert_snapshot!("show_text", session::export::text(&loaded));
    let json = session::export::json(&loaded);
    assert_eq!(json["id"], "20261123-080000-abcd");
    assert_eq!(json["version"], session::VERSION);
    assert_eq!(json["turns"][0]["members"][1]["status"], "failed");
    assert_eq!(json["turns"][0]["members"][1]["text"], "It depends");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_show_and_export_from_the_command_line() {
    let dir = scratch("cli");
    let path = save_scripted(&dir);
    let run = |args: &'static [&'static str]| {
        let dir = dir.clone();
        async move {
            tokio::process::Command::new(env!("CARGO_BIN_EXE_council"))
                .args(args)
                .env("COUNCIL_SESSIONS_DIR", &dir)
                .env("XDG_CONFIG_HOME", dir.join("config"))
                .stdin(Stdio::null())
                .output()
                .await
                .unwrap()
        }
    };
    let out = run(&["sessions", "--json"]).await;
    assert!(out.status.success());
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        list,
        serde_json::json!([{
            "id": "20261123-080000-abcd", "created": "2026-11-23T08:00:00Z",
            "question": "Is a | pipe safe in tables?", "preset": "budget",
            "turns": 1, "cost": 0.0072, "status": "done"
        }])
    );
    let out = run(&["export", "20261123", "--format", "md"]).await;
    assert!(out.status.success(), "an id prefix finds it");
    let loaded = session::load(&path).unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        session::export::markdown(&loaded)
    );
    // `last` is the latest session, wherever an id is asked for.
    let out = run(&["show", "last"]).await;
    assert!(out.status.success());
    let shown = String::from_utf8(out.stdout).unwrap();
    assert_eq!(shown, session::export::text(&loaded));
    assert!(
        shown.starts_with("Session 20261123-080000-abcd · budget"),
        "{shown}"
    );
    assert!(
        !shown.contains("###") && !shown.contains("| ---"),
        "not Markdown: {shown}"
    );
    let out = run(&["export", "last", "--format", "json"]).await;
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["id"], "20261123-080000-abcd");
    let out = run(&["show", "nope"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no session nope"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_up_carries_the_earlier_turns_as_context() {
    let server = Server::start(handler).await;
    let dir = scratch("follow-up");
    let ask = |extra: &[&str]| {
        let mut args = vec![
            "ask",
            "--base-url",
            &server.base_url,
            "--panel",
            "x/alpha,x/beta",
        ];
        args.extend_from_slice(extra);
        let args: Vec<String> = args.into_iter().map(String::from).collect();
        let dir = dir.clone();
        async move {
            tokio::process::Command::new(env!("CARGO_BIN_EXE_council"))
                .args(&args)
                .env_remove("OPENROUTER_API_KEY")
                .env("COUNCIL_SESSIONS_DIR", &dir)
                .env("XDG_CONFIG_HOME", dir.join("config"))
                .stdin(Stdio::null())
                .output()
                .await
                .unwrap()
        }
    };
    let first = ask(&["Why is the sky blue?"]).await;
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let (list, _) = session::list(&dir);
    let id = list[0].id.clone();
    assert!(String::from_utf8_lossy(&first.stderr).contains(&format!("saved as session {id}")));

    let second = ask(&["--session", &id, "And at sunset?"]).await;
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let third = ask(&["--session", &id, "--context", "own", "Why not violet?"]).await;
    assert!(third.status.success());

    let requests = server.requests();
    assert_eq!(
        requests.len(),
        12,
        "three turns of two members, judge, synthesis"
    );
    let messages = |r: &Recorded| -> Vec<(String, String)> {
        r.body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["role"].as_str().unwrap().to_string(),
                    m["content"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    // Turn 2, a member: the first question and the council's answer, then the follow-up.
    let beta2 = requests[4..8]
        .iter()
        .find(|r| r.model() == "x/beta" && !r.is_judge() && !r.is_synthesis())
        .unwrap();
    assert_eq!(
        messages(beta2),
        [
            ("user".into(), "Why is the sky blue?".into()),
            ("assistant".into(), "The synthesis.".into()),
            ("user".into(), "And at sunset?".into()),
        ]
    );
    // The synthesizer answers within the conversation too.
    let synth2 = requests[4..8].iter().find(|r| r.is_synthesis()).unwrap();
    let m = messages(synth2);
    assert_eq!(m[1], ("user".into(), "Why is the sky blue?".into()));
    assert_eq!(m[2], ("assistant".into(), "The synthesis.".into()));
    // Turn 3 with --context own: each member sees its own earlier answers.
    let beta3 = requests[8..]
        .iter()
        .find(|r| r.model() == "x/beta" && !r.is_judge() && !r.is_synthesis())
        .unwrap();
    let own: String = (0..50).map(|i| format!("x/beta-{i} ")).collect();
    let m = messages(beta3);
    assert_eq!(m.len(), 5);
    assert_eq!(m[1], ("assistant".into(), own.clone()));
    assert_eq!(m[3], ("assistant".into(), own));
    assert_eq!(m[4], ("user".into(), "Why not violet?".into()));

    let loaded = session::load(&list[0].path).unwrap();
    assert_eq!(loaded.turns.len(), 3);
    assert_eq!(loaded.turns[1].question, "And at sunset?");
    assert!(!loaded.interrupted);
    assert_eq!(session::list(&dir).0[0].turns, 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A session started on `--base-url` continues without the flag: the
/// session records the endpoint and the key's variable, never the key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_on_a_custom_endpoint_continues_without_the_flag() {
    let server = Server::start(handler).await;
    let dir = scratch("custom-endpoint");
    const KEY: &str = "sk-session-test-secret";
    let ask = |args: Vec<String>| {
        let dir = dir.clone();
        async move {
            tokio::process::Command::new(env!("CARGO_BIN_EXE_council"))
                .args(&args)
                .env_remove("OPENROUTER_API_KEY")
                .env("COUNCIL_SESSION_KEY", KEY)
                .env("COUNCIL_SESSIONS_DIR", &dir)
                .env("XDG_CONFIG_HOME", dir.join("config"))
                .stdin(Stdio::null())
                .output()
                .await
                .unwrap()
        }
    };
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let first = ask(args(&[
        "ask",
        "--base-url",
        &server.base_url,
        "--api-key-env",
        "COUNCIL_SESSION_KEY",
        "--panel",
        "x/alpha,x/beta",
        "Why is the sky blue?",
    ]))
    .await;
    assert!(first.status.success());
    let (list, _) = session::list(&dir);
    let id = list[0].id.clone();
    let file = std::fs::read_to_string(&list[0].path).unwrap();
    assert!(file.contains(&server.base_url), "the endpoint is recorded");
    assert!(file.contains("COUNCIL_SESSION_KEY"));
    assert!(!file.contains(KEY), "the key never reaches the session");

    // `last` finds it; the JSON names the session the turn was saved in.
    let second = ask(args(&[
        "ask",
        "--session",
        "last",
        "--json",
        "And at sunset?",
    ]))
    .await;
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(report["session_id"], id.as_str());
    assert_eq!(report["question"], "And at sunset?");
    let requests = server.requests();
    assert_eq!(requests.len(), 8, "both turns ran on the recorded endpoint");
    assert!(requests[4..].iter().all(|r| {
        r.headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("authorization") && v == &format!("Bearer {KEY}"))
    }));
}

/// Round 1 answers; a revision changes one word of alpha's and keeps
/// beta's; reviewers rank in the order shown.
fn deliberation_handler(r: &Recorded, i: usize) -> Reply {
    if r.is_ranking() {
        let labels: Vec<&str> = r
            .user_prompt()
            .lines()
            .filter_map(|l| l.strip_prefix("# Response "))
            .collect();
        return Reply::text(&[&serde_json::json!({ "ranking": labels }).to_string()]);
    }
    if r.is_judge() || r.is_synthesis() {
        return handler(r, i);
    }
    let model = r.model();
    let text = match (r.is_revision(), model) {
        (false, _) => format!("{model} says the sky is blue because of scattering"),
        (true, "x/alpha") => format!("{model} says the sky is blue because of Rayleigh scattering"),
        (true, _) => format!("{model} says the sky is blue because of scattering"),
    };
    Reply::text(&[&text])
}

#[tokio::test(flavor = "multi_thread")]
async fn show_and_export_print_what_changed_per_round() {
    let dir = scratch("rounds");
    let server = Server::start(deliberation_handler).await;
    let council = |args: &[&str]| {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_council"));
        cmd.args(args)
            .env("COUNCIL_SESSIONS_DIR", &dir)
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .env_remove("OPENROUTER_API_KEY")
            .stdin(Stdio::null());
        cmd.output()
    };
    let out = council(&[
        "ask",
        "--rounds",
        "2",
        "--rank",
        "--base-url",
        &server.base_url,
        "--panel",
        "x/alpha,y/beta,z/gamma",
        "Why is the sky blue?",
    ])
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let shown = String::from_utf8(council(&["show", "last"]).await.unwrap().stdout).unwrap();
    assert!(shown.contains("── Deliberation\n"), "{shown}");
    assert!(
        shown.contains("   Round 1: 1 contradiction(s)\n"),
        "{shown}"
    );
    assert!(
        shown.contains("   Round 2: 1 contradiction(s)\n"),
        "{shown}"
    );
    assert!(
        shown.contains("     alpha: +1 −0 words, 90% kept\n"),
        "{shown}"
    );
    assert!(shown.contains("     beta: unchanged\n"), "{shown}");
    assert!(
        shown.contains("   Peer ranking (Borda count, 3 ballot(s)): "),
        "{shown}"
    );
    // The answers shown are the last round's.
    assert!(shown.contains("x/alpha says the sky is blue because of Rayleigh scattering"));

    let md = String::from_utf8(
        council(&["export", "last", "--format", "md"])
            .await
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(
        md.contains("### Deliberation\n\n- Round 1: 1 contradiction(s)\n"),
        "{md}"
    );
    assert!(md.contains("  - alpha: +1 −0 words, 90% kept\n"), "{md}");
    assert!(
        md.contains("- Peer ranking (Borda count, 3 ballot(s)): "),
        "{md}"
    );

    let json: serde_json::Value = serde_json::from_slice(
        &council(&["export", "last", "--format", "json"])
            .await
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(json["turns"][0]["rounds"].as_array().unwrap().len(), 2);
    assert_eq!(json["turns"][0]["convergence"], serde_json::json!([1, 1]));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_turn_number_is_a_bad_line_not_a_huge_allocation() {
    let server = Server::start(handler).await;
    let dir = scratch("huge-turn");
    let (_, good) = run_and_save(&server, &dir).await;
    let text = std::fs::read_to_string(&good).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    for (name, turn) in [("max", "4294967295"), ("ten-million", "10000000")] {
        let mut broken = lines.clone();
        let record = lines[2].replacen("\"turn\":0", &format!("\"turn\":{turn}"), 1);
        assert_ne!(record, lines[2]);
        broken[2] = &record;
        std::fs::write(dir.join(format!("{name}.jsonl")), broken.join("\n") + "\n").unwrap();
    }
    let started = std::time::Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_council"))
        .arg("sessions")
        .env("COUNCIL_SESSIONS_DIR", &dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stdout.lines().count(),
        1,
        "the good session still lists: {stdout}"
    );
    for name in ["max", "ten-million"] {
        assert!(stderr.contains(&format!("{name}.jsonl")), "{stderr}");
    }
    assert!(
        stderr.contains("line 3: turn 4294967295 comes after 1 turn(s)"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_follow_ups_on_one_session_never_write_the_same_turn() {
    // Members take 5 s, longer than a follow-up waits for the session.
    let server = Server::start(|r: &Recorded, i| {
        if !r.is_judge() && !r.is_synthesis() {
            return Reply::text(&["slow answer"]).delayed(Duration::from_secs(5));
        }
        handler(r, i)
    })
    .await;
    let dir = scratch("two-writers");
    let fast = Server::start(handler).await;
    let (_, path) = run_and_save(&fast, &dir).await;
    let id = path.file_stem().unwrap().to_string_lossy().to_string();
    let follow_up = |question: &'static str| {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_council"))
            .args([
                "ask",
                "--base-url",
                &server.base_url,
                "--session",
                &id,
                question,
            ])
            .env_remove("OPENROUTER_API_KEY")
            .env("COUNCIL_SESSIONS_DIR", &dir)
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .stdin(Stdio::null())
            .output()
    };
    let first = follow_up("First follow-up?");
    let second = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        follow_up("Second follow-up?").await
    };
    let (first, second) = tokio::join!(first, second);
    let (first, second) = (first.unwrap(), second.unwrap());
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(second.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&second.stderr).trim(),
        format!(
            "council: session {id} is in use by another council run; ask again once it has finished"
        )
    );
    let loaded = session::load(&path).unwrap();
    assert_eq!(loaded.turns.len(), 2);
    assert_eq!(loaded.turns[1].question, "First follow-up?");
    assert!(
        loaded.turns[1]
            .members
            .iter()
            .all(|m| m.text == "slow answer")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A judge that quotes one real passage and one nobody wrote: the reports
/// people share mark the made-up one, as the TUI does, and count them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_mark_a_made_up_quote() {
    const ANSWER: &str = "Water boils at 100 degrees at sea level.";
    fn handler(r: &Recorded, _: usize) -> Reply {
        if r.is_judge() {
            let judge = serde_json::json!({
                "consensus": [{"point": "Boiling point", "labels": ["A", "B"], "quotes": [
                    {"label": "A", "quote": "boils at 100 degrees at sea level"},
                    {"label": "B", "quote": "water boils at 50 degrees on Mars"}]}],
                "contradictions": [], "blind_spots": [], "unique_insights": [], "partial_coverage": []
            });
            return Reply::text(&[&judge.to_string()]);
        }
        if r.is_synthesis() {
            return Reply::text(&["At sea level, 100 degrees."]);
        }
        Reply::text(&[ANSWER])
    }
    let server = Server::start(handler).await;
    let dir = scratch("made-up");
    let env = [("COUNCIL_SESSIONS_DIR", dir.to_str().unwrap())];
    let asked = support::cli::council(
        &[
            "ask",
            "--base-url",
            &server.base_url,
            "--panel",
            "x/alpha,y/beta",
            "Boiling?",
        ],
        None,
        &env,
    )
    .await;
    assert_eq!(asked.code, 0, "{}", asked.stderr);
    let md = support::cli::council(&["export", "last", "--format", "md"], None, &env).await;
    let shown = support::cli::council(&["show", "last"], None, &env).await;
    for (what, out) in [("export", &md.stdout), ("show", &shown.stdout)] {
        assert!(out.contains("quotes 1/2 found"), "{what}: {out}");
        assert!(
            out.contains("? “water boils at 50 degrees on Mars” — not found in "),
            "{what}: {out}"
        );
        assert!(
            out.contains("“boils at 100 degrees at sea level” — ")
                && !out.contains("? “boils at 100"),
            "{what}: {out}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
