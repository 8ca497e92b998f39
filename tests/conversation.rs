//! The conversation: one lifecycle for every front. Each operation against
//! the scripted server, with the requests it sends and the totals it
//! keeps; and the sessions that `ask`, `serve`, the TUI and the library
//! write for the same council, read back the same.

mod support;

use std::time::Duration;

use council::config::CouncilRequest;
use council::conversation::{Conversation, on_error};
use council::engine::{CouncilEvent, RunOptions, RunOutcome, RunReport, Status};
use council::models::prices::Prices;
use council::provider::Usage;
use council::tui::App;
use council::tui::clipboard::MemoryClipboard;
use serde_json::json;
use support::tui::{drive, settled, terminal};
use support::{Recorded, Reply, Server, judge_json};

/// Members answer with their model's name and the words the judge quotes;
/// a revision or a dispute answer says which round's request it read.
fn handler(r: &Recorded, _: usize) -> Reply {
    if r.is_judge() {
        return Reply::text(&[&judge_json()]);
    }
    if r.is_synthesis() {
        return Reply::text(&["The council says ", "water boils at 100."]);
    }
    if r.is_revision() {
        return Reply::text(&[&format!("{} revised: boils at 100", r.model())]);
    }
    Reply::text(&[
        &format!("{} says ", r.model()),
        "water boils at 100 degrees, lower up high",
    ])
}

fn request(server: &Server) -> CouncilRequest {
    CouncilRequest {
        panel: vec!["x/alpha".into(), "x/beta".into()],
        base_url: Some(server.base_url.clone()),
        ..CouncilRequest::default()
    }
}

/// Reads the run to its end, checking on every event that the turn's
/// totals never went down since `last` (cost to within float rounding: a
/// run's own total and its stages' sum are added in different orders);
/// returns the run's events.
async fn drain(conversation: &mut Conversation, last: &mut Usage) -> Vec<CouncilEvent> {
    let mut events = Vec::new();
    let read = async {
        while let Some(event) = conversation.next().await {
            let spent = conversation.spent();
            assert!(
                spent.prompt_tokens >= last.prompt_tokens
                    && spent.completion_tokens >= last.completion_tokens
                    && spent.cost.unwrap_or(0.0) >= last.cost.unwrap_or(0.0) - 1e-12,
                "totals went down at {event:?}: {last:?} -> {spent:?}"
            );
            *last = spent;
            events.push(event);
        }
    };
    tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .expect("the run ends");
    events
}

/// A conversation of two members (judge shuffle seeded) that has asked
/// "Q?" and read the run to its end, with the totals it reached.
async fn asked(seed: u64) -> (Server, Conversation, Usage) {
    let server = Server::start(handler).await;
    let mut conversation = Conversation::new(request(&server)).with_options(RunOptions {
        seed: Some(seed),
        ..RunOptions::default()
    });
    let mut last = Usage::default();
    conversation
        .ask("Q?", Vec::new(), &Prices::default())
        .unwrap();
    drain(&mut conversation, &mut last).await;
    (server, conversation, last)
}

/// The chat requests the server received after the first `from`.
fn chats_since(server: &Server, from: usize) -> Vec<Recorded> {
    server.chats().into_iter().skip(from).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_sends_its_requests_and_the_totals_only_grow() {
    // Asked: both members, the judge, the synthesizer.
    let (server, mut conversation, mut last) = asked(7).await;
    let asked = chats_since(&server, 0);
    assert_eq!(asked.len(), 4);
    assert_eq!(asked.iter().filter(|r| r.is_revision()).count(), 0);
    assert_eq!(conversation.report().outcome, Some(RunOutcome::Synthesized));

    // D: one more round, every member revising, then judge and synthesis.
    conversation.round(None).unwrap();
    drain(&mut conversation, &mut last).await;
    let round_two = chats_since(&server, 4);
    assert_eq!(round_two.len(), 4);
    assert_eq!(round_two.iter().filter(|r| r.is_revision()).count(), 2);
    assert_eq!(conversation.report().round, 2);

    // d: the judge's contradiction put to the members it names.
    let dispute = conversation
        .report()
        .judge
        .analysis
        .as_ref()
        .unwrap()
        .contradictions[0]
        .clone();
    conversation.round(Some(dispute)).unwrap();
    drain(&mut conversation, &mut last).await;
    let round_three = chats_since(&server, 8);
    assert_eq!(round_three.len(), 4);
    let disputed: Vec<&Recorded> = round_three.iter().filter(|r| r.is_revision()).collect();
    assert_eq!(disputed.len(), 2);
    assert!(
        disputed[0].user_prompt().contains("Altitude effect"),
        "{}",
        disputed[0].user_prompt()
    );
    assert_eq!(conversation.report().round, 3);

    // r: alpha alone, asked round 3's request again (the dispute), and its
    // answer stays in round 3.
    conversation.rerun(vec![0]).unwrap();
    drain(&mut conversation, &mut last).await;
    let rerun = chats_since(&server, 12);
    assert_eq!(rerun.len(), 1);
    let original = disputed.iter().find(|r| r.model() == "x/alpha").unwrap();
    assert_eq!(rerun[0].model(), "x/alpha");
    assert_eq!(
        rerun[0].body["messages"], original.body["messages"],
        "the re-run reads what round 3 read"
    );
    let alpha = &conversation.report().members[0];
    assert_eq!((alpha.round, alpha.status), (3, Status::Done));
    assert!(alpha.text.starts_with("x/alpha revised"), "{}", alpha.text);
    assert_eq!(conversation.report().round, 3);
    assert!(conversation.report().stale);

    // R: judge and synthesis again.
    conversation.rejudge().unwrap();
    drain(&mut conversation, &mut last).await;
    let rejudged = chats_since(&server, 13);
    assert_eq!(rejudged.len(), 2);
    assert!(rejudged.iter().any(|r| r.is_judge()));
    assert!(rejudged.iter().any(|r| r.is_synthesis()));
    assert!(!conversation.report().stale);

    // The turn's total is every reply's usage: 15 replies at $0.001.
    let spent = conversation.spent();
    assert_eq!(server.chats().len(), 15);
    assert!((spent.cost.unwrap() - 0.015).abs() < 1e-9, "{spent:?}");
    assert_eq!(spent.prompt_tokens, 150);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_rerun_in_a_revision_round_reads_that_rounds_request() {
    let (server, mut conversation, mut last) = asked(3).await;
    conversation.round(None).unwrap();
    drain(&mut conversation, &mut last).await;
    let revised = chats_since(&server, 4)
        .into_iter()
        .find(|r| r.is_revision() && r.model() == "x/beta")
        .expect("beta revised");
    conversation.rerun(vec![1]).unwrap();
    drain(&mut conversation, &mut last).await;
    let rerun = chats_since(&server, 8);
    assert_eq!(rerun.len(), 1);
    // Its own answer, the other's, the judge's points: the round's messages.
    // (Each prompt fences the answers with its own boundary.)
    let messages = |r: &support::Recorded| support::unfenced(&r.body["messages"].to_string());
    assert_eq!(messages(&rerun[0]), messages(&revised));
    assert!(rerun[0].contents("assistant")[0].contains("x/beta says"));
    assert!(rerun[0].user_prompt().contains("x/alpha says"));
    let beta = &conversation.report().members[1];
    assert_eq!(beta.round, 2);
    assert!(beta.text.starts_with("x/beta revised"));
}

/// What two saved turns have in common however they were run. (Which
/// member the judge's labels name is shuffled per run, so the analysis is
/// compared by its counts.)
fn essence(report: &RunReport) -> serde_json::Value {
    let analysis = report.judge.analysis.as_ref().expect("an analysis");
    json!({
        "question": report.question,
        "members": report.members.iter().map(|m| json!([m.name, m.model, m.status, m.text])).collect::<Vec<_>>(),
        "findings": [analysis.consensus.len(), analysis.contradictions.len(),
            analysis.blind_spots.len(), analysis.unique_insights.len(), analysis.partial_coverage.len()],
        "grounding": report.judge.grounding,
        "synthesis": report.synthesis.text,
        "outcome": report.outcome,
        "usage": report.usage,
        "rounds": report.rounds.len(),
    })
}

fn only_session(dir: &std::path::Path) -> council::session::Session {
    let (list, errors) = council::session::list(dir);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(list.len(), 1, "one session in {}", dir.display());
    council::session::load(&list[0].path).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_from_every_front_read_back_the_same() {
    let server = std::sync::Arc::new(Server::start(handler).await);
    let root = std::env::temp_dir().join(format!("council-conversation-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let dir = |front: &str| root.join(front);

    // The library.
    let mut conversation = Conversation::new(request(&server)).with_sessions(
        Some(dir("library")),
        None,
        on_error(|e| panic!("{e}")),
    );
    conversation
        .ask("Q?", Vec::new(), &Prices::default())
        .unwrap();
    drain(&mut conversation, &mut Usage::default()).await;
    conversation
        .close(Duration::from_secs(5))
        .await
        .unwrap()
        .unwrap();

    // `council ask`.
    let ask_sessions = dir("ask").to_string_lossy().into_owned();
    let panel = ["--base-url", &server.base_url, "--panel", "x/alpha,x/beta"];
    let out = support::cli::council(
        &[&["ask"][..], &panel, &["Q?"]].concat(),
        None,
        &[("COUNCIL_SESSIONS_DIR", &ask_sessions)],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);

    // `council serve`, asked once.
    let (mut served, url) = support::serve::start(&panel, &root, &dir("serve"), &[]).await;
    let reply: serde_json::Value = reqwest::Client::new()
        .post(format!("{url}/chat/completions"))
        .json(&json!({"model": "council", "messages": [{"role": "user", "content": "Q?"}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        reply["choices"][0]["message"]["content"],
        "The council says water boils at 100."
    );
    served.start_kill().unwrap();

    // The TUI.
    let before = server.chats().len();
    let mut app = App::new(request(&server), Box::new(MemoryClipboard::default()))
        .with_sessions(Some(dir("tui")));
    app.ask("Q?");
    let s = server.clone();
    drive(&mut app, &mut terminal(120, 40), |keys| async move {
        settled(&s, before + 4).await;
        keys.ctrl('c');
    })
    .await;

    let library = only_session(&dir("library"));
    let expected = essence(&library.turns[0]);
    assert_eq!(library.turns.len(), 1);
    assert!(!library.interrupted);
    for front in ["ask", "serve", "tui"] {
        let saved = only_session(&dir(front));
        assert_eq!(saved.turns.len(), 1, "{front}");
        assert!(!saved.interrupted, "{front}");
        assert_eq!(saved.header.council, library.header.council, "{front}");
        assert_eq!(essence(&saved.turns[0]), expected, "{front}");
        let origin = match front {
            "serve" => Some("served".to_string()),
            "ask" => Some("cli".to_string()),
            _ => None,
        };
        assert_eq!(saved.header.origin, origin, "{front}");
    }
    std::fs::remove_dir_all(&root).unwrap();
}

/// The kinds of chat requests a run sent, in a stable order.
fn kinds(chats: &[Recorded]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = chats
        .iter()
        .map(|r| {
            if r.is_judge() {
                "judge"
            } else if r.is_synthesis() {
                "synthesis"
            } else if r.is_ranking() {
                "ranking"
            } else if r.user_prompt().starts_with("This is round") {
                "revision"
            } else {
                "answer"
            }
        })
        .collect();
    out.sort_unstable();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_continued_in_the_tui_keeps_the_flags_as_ask_session_does() {
    let server = std::sync::Arc::new(Server::start(handler).await);
    let root = std::env::temp_dir().join(format!("council-continued-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let sessions = root.join("sessions");
    let dir = sessions.to_string_lossy().into_owned();
    // --max-cost reads the scripted server's model list: cache it in here.
    let cache = root.join("cache").to_string_lossy().into_owned();
    let ask = |args: Vec<String>| {
        let (dir, cache) = (dir.clone(), cache.clone());
        async move {
            let args: Vec<&str> = std::iter::once("ask")
                .chain(args.iter().map(String::as_str))
                .collect();
            let env = [
                ("COUNCIL_SESSIONS_DIR", dir.as_str()),
                ("XDG_CACHE_HOME", &cache),
            ];
            let out = support::cli::council(&args, None, &env).await;
            assert_eq!(out.code, 0, "{}", out.stderr);
        }
    };
    let base = server.base_url.clone();
    let with = |more: &[&str]| -> Vec<String> {
        // Three members: each ranks the other two.
        let mut args: Vec<String> = ["--base-url", &base, "--panel", "x/alpha,x/beta,x/gamma"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend(more.iter().map(|s| s.to_string()));
        args
    };
    // One round, no ranking, no cap: then a follow-up with all three.
    ask(with(&["First?"])).await;
    let before = server.chats().len();
    ask(vec![
        "--session".into(),
        "last".into(),
        "--rounds".into(),
        "2".into(),
        "--rank".into(),
        "--max-cost".into(),
        "5".into(),
        "Follow-up one?".into(),
    ])
    .await;
    let by_ask = kinds(&chats_since(&server, before));
    assert_eq!(
        by_ask,
        [
            "answer",
            "answer",
            "answer",
            "judge",
            "judge",
            "ranking",
            "ranking",
            "ranking",
            "revision",
            "revision",
            "revision",
            "synthesis"
        ]
    );

    // The TUI with the same flags continues it from the browser.
    let before = server.chats().len();
    let mut app = App::new(
        CouncilRequest {
            rounds: Some(2),
            ranking: true,
            limits: council::engine::council::Limits {
                max_cost: Some(5.0),
                ..Default::default()
            },
            panel: vec!["x/alpha".into(), "x/beta".into(), "x/gamma".into()],
            ..request(&server)
        },
        Box::new(MemoryClipboard::default()),
    )
    .with_sessions(Some(sessions.clone()));
    let s = server.clone();
    drive(&mut app, &mut terminal(120, 40), |keys| async move {
        keys.ctrl('o');
        tokio::time::sleep(Duration::from_millis(300)).await;
        keys.type_line("First");
        tokio::time::sleep(Duration::from_millis(300)).await;
        keys.type_line("Follow-up two?");
        support::tui::syntheses(&s, 3).await;
        keys.ctrl('c');
    })
    .await;
    assert_eq!(kinds(&chats_since(&server, before)), by_ask);

    let saved = only_session(&sessions);
    let turns: Vec<(&str, u32, bool, Option<f64>)> = saved
        .turns
        .iter()
        .map(|t| {
            (
                t.question.as_str(),
                t.round,
                t.ranking.is_some(),
                t.limits.max_cost,
            )
        })
        .collect();
    assert_eq!(
        turns,
        [
            ("First?", 1, false, None),
            ("Follow-up one?", 2, true, Some(5.0)),
            ("Follow-up two?", 2, true, Some(5.0)),
        ]
    );
    std::fs::remove_dir_all(&root).unwrap();
}
