//! The TUI's loop, headless: keys typed through the real input path, the
//! engine against the scripted server, the screen on a TestBackend.

mod support;

use std::time::Duration;

use council::config::CouncilRequest;
use council::engine::{RunOptions, RunOutcome, Status};
use council::tui::App;
use council::tui::clipboard::MemoryClipboard;
use council::tui::state::JudgeTab;
use crossterm::event::KeyCode;
use serde_json::json;
use support::tui::{Keys, drive, screen, syntheses, terminal};
use support::{Recorded, Reply, Server, Step, content};

fn judge_reply() -> String {
    let item = |p: &str, l: &[&str]| json!({"point": p, "labels": l, "quotes": [{"label": l[0], "quote": "verbatim words"}]});
    json!({
        "consensus": [item("Everyone agrees on scattering", &["A", "B", "C"])],
        "contradictions": [{"topic": "Violet or blue", "stances": [
            {"labels": ["A"], "stance": "The eye explains it", "quotes": []},
            {"labels": ["B", "C"], "stance": "The sun explains it", "quotes": []}]}],
        "blind_spots": [item("Nobody mentioned Mars", &["A", "B", "C"])],
        "unique_insights": [item("Ozone matters at dusk", &["C"])],
        "partial_coverage": [item("Sunsets are red", &["A"])]
    })
    .to_string()
}

fn handler(r: &Recorded, _: usize) -> Reply {
    if r.is_judge() {
        return Reply::text(&[&judge_reply()]);
    }
    if r.is_synthesis() {
        return Reply::text(&["The sky is blue ", "because of scattering."]);
    }
    let words: Vec<String> = (0..300)
        .map(|i| format!("{}-word{i} ", r.model()))
        .collect();
    let parts: Vec<&str> = words.iter().map(String::as_str).collect();
    Reply::text(&parts)
}

/// The app with a council of `panel` on the scripted server.
fn app_on(server: &Server, panel: &[&str]) -> App {
    let request = CouncilRequest {
        panel: panel.iter().map(|m| m.to_string()).collect(),
        base_url: Some(server.base_url.clone()),
        ..CouncilRequest::default()
    };
    App::new(request, Box::new(MemoryClipboard::default()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typed_question_fills_every_pane_tab_and_the_synthesis() {
    let server = Server::start(handler).await;
    let request = CouncilRequest {
        panel: vec!["x/alpha".into(), "x/beta".into(), "x/gamma".into()],
        base_url: Some(server.base_url.clone()),
        ..CouncilRequest::default()
    };
    let mut app =
        App::new(request, Box::new(MemoryClipboard::default())).with_options(RunOptions {
            seed: Some(5),
            ..RunOptions::default()
        });
    let mut terminal = terminal(120, 40);
    let watch = std::sync::Arc::new(server);
    let server = watch.clone();
    drive(&mut app, &mut terminal, |keys| async move {
        keys.type_line("Why is the sky blue?");
        // Wait for the synthesis to be fully sent, then for its events to land.
        syntheses(&watch, 1).await;
        // Focus a member and copy its text, then quit: Ctrl-C with nothing running.
        keys.press(KeyCode::Tab);
        keys.press(KeyCode::Char('y'));
        keys.ctrl('c');
    })
    .await;

    assert!(app.quit);
    let state = &mut app.state;
    let report = state.run.report();
    assert_eq!(report.question, "Why is the sky blue?");
    assert_eq!(report.outcome, Some(RunOutcome::Synthesized));
    for (i, m) in report.members.iter().enumerate() {
        assert_eq!(m.status, Status::Done, "member {i}");
        assert!(
            m.text.ends_with("word299 "),
            "member {i} has its whole text"
        );
    }
    assert_eq!(
        state.run.synthesis().text,
        "The sky is blue because of scattering."
    );
    assert_eq!(state.view.history, ["Why is the sky blue?"]);
    assert_eq!(server.chats().len(), 5, "3 members, judge, synthesis");

    // 900 member deltas and more arrived; frames were drawn per tick, not per token.
    assert!(app.frames < 300, "{} frames for ~905 deltas", app.frames);

    // Every judge tab has its content on screen.
    let expected = [
        (JudgeTab::Consensus, "Everyone agrees on scattering"),
        (JudgeTab::Contradictions, "The sun explains it"),
        (JudgeTab::BlindSpots, "Nobody mentioned Mars"),
        (JudgeTab::UniqueInsights, "Ozone matters at dusk"),
        (JudgeTab::PartialCoverage, "Sunsets are red"),
        (JudgeTab::Raw, "\"consensus\""),
    ];
    for (tab, text) in expected {
        app.state.view.judge_tab = tab;
        app.draw(&mut terminal).unwrap();
        let screen = screen(&terminal);
        assert!(
            screen.contains(text),
            "tab {tab:?} shows {text:?}:\n{screen}"
        );
        assert!(
            screen.contains("because of scattering."),
            "the synthesis pane is filled"
        );
        // Streams over and never scrolled: each pane shows its beginning.
        assert!(
            screen.contains("x/alpha-word0 ") && !screen.contains("x/alpha-word299"),
            "finished member panes show where their answers start:\n{screen}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_key_is_shown_on_screen_and_nothing_is_sent() {
    let request = CouncilRequest {
        panel: vec!["x/alpha".into()],
        api_key_env: Some("COUNCIL_TEST_UNSET_KEY".into()),
        ..CouncilRequest::default()
    };
    let mut app = App::new(request, Box::new(MemoryClipboard::default()));
    let mut terminal = terminal(100, 30);
    drive(&mut app, &mut terminal, |keys| async move {
        keys.type_line("hello");
    })
    .await;
    app.draw(&mut terminal).unwrap();
    assert!(
        screen(&terminal).contains("COUNCIL_TEST_UNSET_KEY is not set"),
        "{}",
        screen(&terminal)
    );
    assert!(!app.state.run.running());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_member_from_its_pane() {
    let server = Server::start(|r: &Recorded, i| {
        // The judge and synthesizer use the first panel model too.
        if r.model() == "x/endless" && !r.is_judge() && !r.is_synthesis() {
            let mut steps = Vec::new();
            for _ in 0..500 {
                steps.push(support::Step::Write(support::content("more ")));
                steps.push(support::Step::Sleep(Duration::from_millis(20)));
            }
            Reply::sse(steps)
        } else {
            handler(r, i)
        }
    })
    .await;
    let mut app = app_on(&server, &["x/endless", "x/beta"]);
    let mut terminal = terminal(120, 40);
    app.ask("Q?");
    drive(&mut app, &mut terminal, |keys| async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        keys.press(KeyCode::Tab);
        keys.press(KeyCode::Char('c'));
        tokio::time::sleep(Duration::from_millis(1500)).await;
        keys.press(KeyCode::Char('q'));
    })
    .await;
    let report = app.state.run.report();
    assert_eq!(report.members[0].status, Status::Cancelled);
    assert!(report.members[0].text.starts_with("more more"));
    assert_eq!(report.outcome, Some(RunOutcome::Synthesized));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_estimate_shows_before_a_run_and_real_cost_replaces_it() {
    use council::models::listing::Listing;
    use council::provider::{ModelInfo, Pricing};
    let server = Server::start(handler).await;
    let mut app = app_on(&server, &["x/alpha", "x/beta"]);
    // $1 in, $10 out per million tokens for every model.
    let priced = |id: &str| ModelInfo {
        id: id.into(),
        name: None,
        context_length: None,
        pricing: Some(Pricing {
            prompt: Some(1e-6),
            completion: Some(1e-5),
        }),
    };
    app.prices.insert(
        "custom".into(),
        Listing::new(vec![priced("x/alpha"), priced("x/beta")]),
    );
    let mut terminal = terminal(120, 40);
    drive(&mut app, &mut terminal, |keys| async move {
        keys.type_text("Why?");
    })
    .await;
    app.draw(&mut terminal).unwrap();
    let before = screen(&terminal);
    // 4 seats (2 members, judge and synthesizer on x/alpha) writing at most
    // 1024 tokens each at $10 per million is at least $0.04.
    let estimate = app.state.estimate.expect("an estimate before the run");
    assert!(estimate.complete);
    assert!(estimate.usd > 0.04 && estimate.usd < 0.05, "{estimate:?}");
    assert!(
        before.contains(&format!("est. ≤${:.4}", estimate.usd)),
        "{before}"
    );

    // The run: the server reports $0.001 a reply, 4 replies.
    app.ask("Why?");
    drive(&mut app, &mut terminal, |keys| async move {
        syntheses(&server, 1).await;
        keys.ctrl('c');
    })
    .await;
    app.draw(&mut terminal).unwrap();
    let after = screen(&terminal);
    assert!(after.contains("$0.0040"), "real cost shown: {after}");
    assert!(!after.contains("est. ≤"), "the estimate gives way: {after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questions_in_the_tui_are_saved_as_one_conversation() {
    let server = std::sync::Arc::new(Server::start(handler).await);
    let dir = std::env::temp_dir().join(format!("council-tui-sessions-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let request = CouncilRequest {
        panel: vec!["x/alpha".into(), "x/beta".into()],
        base_url: Some(server.base_url.clone()),
        ..CouncilRequest::default()
    };
    let mut app =
        App::new(request, Box::new(MemoryClipboard::default())).with_sessions(Some(dir.clone()));
    let mut terminal = terminal(120, 40);
    let s = server.clone();
    drive(&mut app, &mut terminal, |keys| async move {
        for (i, q) in ["First?", "Second?"].iter().enumerate() {
            keys.type_line(q);
            syntheses(&s, i + 1).await;
        }
        // A new conversation, then a third question: a second session.
        keys.ctrl('n');
        keys.type_line("Third?");
        syntheses(&s, 3).await;
        keys.ctrl('c');
    })
    .await;
    drop(app);

    let requests = server.requests();
    let second_alpha = requests
        .iter()
        .find(|r| {
            r.model() == "x/alpha"
                && r.user_prompt() == "Second?"
                && !r.is_judge()
                && !r.is_synthesis()
        })
        .expect("the follow-up");
    let roles: Vec<&str> = second_alpha.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        [
            "First?",
            "The sky is blue because of scattering.",
            "Second?"
        ],
        "the follow-up carries the first turn"
    );
    let third_alpha = requests
        .iter()
        .find(|r| {
            r.model() == "x/alpha"
                && r.user_prompt() == "Third?"
                && !r.is_judge()
                && !r.is_synthesis()
        })
        .unwrap();
    assert_eq!(
        third_alpha.body["messages"].as_array().unwrap().len(),
        1,
        "a fresh conversation"
    );

    let (list, errors) = council::session::list(&dir);
    assert!(errors.is_empty());
    let mut turns: Vec<(String, usize)> =
        list.iter().map(|s| (s.question.clone(), s.turns)).collect();
    turns.sort();
    assert_eq!(
        turns,
        [("First?".to_string(), 2), ("Third?".to_string(), 1)]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_session_opens_from_the_browser_continues_and_is_deleted() {
    let server = std::sync::Arc::new(Server::start(handler).await);
    let dir = std::env::temp_dir().join(format!("council-tui-browser-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let new_app = || {
        App::new(
            CouncilRequest {
                panel: vec!["x/alpha".into(), "y/beta".into()],
                base_url: Some(server.base_url.clone()),
                ..CouncilRequest::default()
            },
            Box::new(MemoryClipboard::default()),
        )
        .with_sessions(Some(dir.clone()))
    };
    let done = |s: &Server| {
        s.requests()
            .iter()
            .filter(|r| r.is_synthesis() && r.finished.is_some())
            .count()
    };
    // The browser reads sessions in the background; give it a moment.
    let browse = || tokio::time::sleep(Duration::from_millis(300));

    // Two earlier sessions.
    for q in ["Saved one?", "Saved two?"] {
        let mut app = new_app();
        let mut terminal = terminal(120, 40);
        let (s, n) = (server.clone(), done(&server) + 1);
        drive(&mut app, &mut terminal, |keys| async move {
            keys.type_line(q);
            syntheses(&s, n).await;
            keys.ctrl('c');
        })
        .await;
    }
    assert_eq!(council::session::list(&dir).0.len(), 2);

    // A new app: browse, filter, open, continue.
    let mut app = new_app();
    let mut terminal = terminal(120, 40);
    let s = server.clone();
    drive(&mut app, &mut terminal, |keys| async move {
        keys.ctrl('o');
        browse().await;
        keys.type_line("one");
        tokio::time::sleep(Duration::from_millis(200)).await;
        keys.type_line("A follow-up?");
        syntheses(&s, 3).await;
        keys.ctrl('c');
    })
    .await;
    let follow_up = server
        .requests()
        .into_iter()
        .find(|r| r.user_prompt() == "A follow-up?" && !r.is_judge() && !r.is_synthesis())
        .expect("the follow-up was asked");
    let first = follow_up.body["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(first, "Saved one?", "it continues the opened session");
    let (list, _) = council::session::list(&dir);
    let opened = list.iter().find(|s| s.question == "Saved one?").unwrap();
    assert_eq!(
        opened.turns, 2,
        "the follow-up is a new turn of that session"
    );

    // Delete it: Del asks first; n keeps it, y deletes it.
    let path = opened.path.clone();
    drive(&mut app, &mut terminal, |keys| async move {
        keys.ctrl('o');
        browse().await;
        keys.type_text("one");
        keys.press(KeyCode::Delete);
        keys.press(KeyCode::Char('n'));
    })
    .await;
    assert!(path.exists(), "n keeps it");
    drive(&mut app, &mut terminal, |keys| async move {
        keys.press(KeyCode::Delete);
    })
    .await;
    app.draw(&mut terminal).unwrap();
    let asking = screen(&terminal);
    assert!(
        asking.contains("y deletes, any other key keeps it"),
        "{asking}"
    );
    drive(&mut app, &mut terminal, |keys| async move {
        keys.press(KeyCode::Char('y'));
    })
    .await;
    assert!(!path.exists(), "y deletes it");
    assert_eq!(council::session::list(&dir).0.len(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Ctrl+O with thousands of saved sessions: the browser is on screen in the
/// very next frame, and the loop keeps drawing while they are read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_browser_opens_at_once_and_fills_in() {
    let dir = std::env::temp_dir().join(format!("council-tui-many-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    support::sessions::write_many(&dir, 2000);
    let mut app = App::new(
        CouncilRequest {
            panel: vec!["x/alpha".into()],
            base_url: Some("http://127.0.0.1:9/v1".into()),
            ..CouncilRequest::default()
        },
        Box::new(MemoryClipboard::default()),
    )
    .with_sessions(Some(dir.clone()));
    let mut terminal = terminal(120, 40);
    app.draw(&mut terminal).unwrap();

    // One key, one frame: the browser is drawn before a single session is read.
    let (keys, mut rx) = Keys::new();
    keys.ctrl('o');
    drop(keys);
    let event = futures::StreamExt::next(&mut rx).await.unwrap().unwrap();
    let frames = app.frames;
    app.on_input(&event);
    app.draw(&mut terminal).unwrap();
    assert_eq!(app.frames, frames + 1);
    let first = screen(&terminal);
    assert!(first.contains("Sessions ·"), "{first}");
    assert!(first.contains("reading"), "{first}");

    // The loop goes on: keys typed while sessions are read are taken and
    // drawn, and the list fills in until all 2,000 are there.
    let before = app.frames;
    drive(&mut app, &mut terminal, |keys| async move {
        for c in "Question 1999".chars() {
            keys.press(KeyCode::Char(c));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(app.frames > before, "frames were drawn while loading");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        app.draw(&mut terminal).unwrap();
        let now = screen(&terminal);
        if now.contains("2000 saved") {
            assert!(
                now.contains("Question 1999?"),
                "the filter typed while loading holds:\n{now}"
            );
            assert!(!now.contains("Question 1998?"), "{now}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{now}");
        drive(&mut app, &mut terminal, |_| async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
        })
        .await;
    }
    assert!(dir.join(".index.json").is_file(), "the index was written");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// After a follow-up, `{` and `}` step through the conversation's turns:
/// every pane shows the earlier turn as it was, re-runs wait for the
/// latest, and `}` brings the latest back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn earlier_turns_stay_reachable_with_braces() {
    let server = std::sync::Arc::new(Server::start(handler).await);
    let mut app = app_on(&server, &["x/alpha", "x/beta"]);
    let mut terminal = terminal(120, 40);
    let s = server.clone();
    drive(&mut app, &mut terminal, |keys| async move {
        keys.type_line("First?");
        syntheses(&s, 1).await;
        keys.type_line("Second?");
        syntheses(&s, 2).await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        keys.ctrl('c');
    })
    .await;
    app.draw(&mut terminal).unwrap();
    assert!(screen(&terminal).contains("turn 2/2"));
    assert!(screen(&terminal).contains(" Q Second?"));

    drive(&mut app, &mut terminal, |keys| async move {
        keys.press(KeyCode::Tab);
        keys.press(KeyCode::Char('{'));
        keys.ctrl('c');
    })
    .await;
    app.draw(&mut terminal).unwrap();
    let earlier = screen(&terminal);
    assert!(
        earlier.contains("turn 1/2") && earlier.contains(" Q First?"),
        "{earlier}"
    );
    assert_eq!(app.state.run.report().question, "First?");
    assert!(app.state.run.report().synthesis.text.contains("scattering"));

    let chats = server.chats().len();
    drive(&mut app, &mut terminal, |keys| async move {
        keys.press(KeyCode::Char('r'));
        keys.ctrl('c');
    })
    .await;
    app.draw(&mut terminal).unwrap();
    assert_eq!(
        server.chats().len(),
        chats,
        "nothing re-runs an earlier turn"
    );
    assert!(screen(&terminal).contains("goes back to the latest"));

    drive(&mut app, &mut terminal, |keys| async move {
        keys.press(KeyCode::Char('}'));
        keys.ctrl('c');
    })
    .await;
    app.draw(&mut terminal).unwrap();
    let latest = screen(&terminal);
    assert!(
        latest.contains("turn 2/2") && latest.contains(" Q Second?"),
        "{latest}"
    );
    assert_eq!(app.state.run.report().question, "Second?");
}

/// A custom endpoint's models are listed in the background at start, so
/// the cost estimate is there before the model picker was ever opened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_estimate_for_a_custom_endpoint_needs_no_picker() {
    let server = std::sync::Arc::new(
        Server::start(|r: &Recorded, i: usize| {
            if r.method == "GET" && r.path.ends_with("/models") {
                let priced = |id: &str| {
                    json!({"id": id, "pricing": {"prompt": "0.000001", "completion": "0.00001"}})
                };
                return Reply::status(
                    200,
                    &json!({"data": [priced("x/alpha"), priced("x/beta")]}).to_string(),
                );
            }
            handler(r, i)
        })
        .await,
    );
    let mut app = app_on(&server, &["x/alpha", "x/beta"]);
    let mut terminal = terminal(120, 40);
    let s = server.clone();
    drive(&mut app, &mut terminal, |keys| async move {
        keys.type_text("Why?");
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while s.requests().iter().all(|r| r.finished.is_none()) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no listing was asked for"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        keys.ctrl('c');
    })
    .await;
    app.draw(&mut terminal).unwrap();
    assert!(
        app.state.view.overlay.is_none(),
        "the picker was never opened"
    );
    let estimate = app
        .state
        .estimate
        .expect("an estimate from the start-up listing");
    assert!(estimate.complete, "{estimate:?}");
    assert!(screen(&terminal).contains("est. ≤$"));
}

/// A passing notice ("copied …") goes by itself; the loop wakes for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passing_notice_clears_itself() {
    let server = std::sync::Arc::new(Server::start(handler).await);
    let mut app = app_on(&server, &["x/alpha", "y/beta"]);
    let mut terminal = terminal(120, 40);
    let s = server.clone();
    drive(&mut app, &mut terminal, |keys| async move {
        keys.type_line("Why?");
        syntheses(&s, 1).await;
        keys.press(KeyCode::Tab);
        keys.press(KeyCode::Char('y'));
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        keys.ctrl('c');
    })
    .await;
    assert!(
        screen(&terminal).contains("copied"),
        "{}",
        screen(&terminal)
    );
    drive(&mut app, &mut terminal, |keys| async move {
        tokio::time::sleep(std::time::Duration::from_millis(4500)).await;
        keys.ctrl('c');
    })
    .await;
    let later = screen(&terminal);
    assert!(!later.contains("copied"), "{later}");
    assert!(app.state.view.notice.is_none());
}

/// Through the loop, with keys: on the judge's pane, Enter goes to the
/// quoted member's pane and scrolls the passage into view.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enter_on_a_judge_item_shows_the_quoted_passage() {
    fn quoting(r: &Recorded, i: usize) -> Reply {
        if r.is_judge() {
            // Quote words near the end of whichever answer is under A.
            let prompt = support::unfenced(r.user_prompt());
            let start = "# Response A\n\n<response>\n";
            let head = prompt.find(start).unwrap() + start.len();
            let model = prompt[head..].split("-word").next().unwrap().to_string();
            let quote = format!("{model}-word280 {model}-word281 {model}-word282");
            let reply = json!({
                "consensus": [{"point": "A deep point", "labels": ["A", "B"],
                    "quotes": [{"label": "A", "quote": quote}]}],
                "contradictions": [], "blind_spots": [], "unique_insights": [],
                "partial_coverage": []
            });
            return Reply::text(&[&reply.to_string()]);
        }
        handler(r, i)
    }
    let server = std::sync::Arc::new(Server::start(quoting).await);
    let mut app = app_on(&server, &["x/alpha", "x/beta"]);
    let mut terminal = terminal(120, 40);
    let s = server.clone();
    drive(&mut app, &mut terminal, |keys| async move {
        keys.type_line("Why?");
        syntheses(&s, 1).await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        // Editor, alpha, beta, then the judge.
        for _ in 0..3 {
            keys.press(KeyCode::Tab);
        }
        keys.press(KeyCode::Enter);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        keys.ctrl('c');
    })
    .await;
    let quoted = app
        .state
        .run
        .report()
        .judge
        .analysis
        .as_ref()
        .unwrap()
        .consensus[0]
        .quotes[0]
        .member
        .clone();
    let index = app
        .state
        .run
        .report()
        .members
        .iter()
        .position(|m| m.name == quoted)
        .unwrap();
    assert_eq!(
        app.state.view.focus,
        council::tui::state::Focus::Member(index),
        "the quoted member's pane has the keyboard"
    );
    app.draw(&mut terminal).unwrap();
    let shown = screen(&terminal);
    assert!(
        shown.contains("word281"),
        "the passage near the end of a 300-word answer is in view:\n{shown}"
    );
}

/// Members asked to rank answer with no ballot the count can read: the
/// stage bar says so instead of showing an empty ranking.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_ballots_are_said_in_the_stage_bar() {
    fn handler(r: &Recorded, _: usize) -> Reply {
        if r.is_ranking() {
            return Reply::text(&["I liked them all equally."]);
        }
        if r.is_judge() {
            return Reply::text(&[&judge_reply()]);
        }
        if r.is_synthesis() {
            return Reply::text(&["Scattering."]);
        }
        Reply::text(&["An answer."])
    }
    let server = Server::start(handler).await;
    let request = CouncilRequest {
        // Ranking needs three answers.
        panel: vec!["x/alpha".into(), "x/beta".into(), "x/gamma".into()],
        base_url: Some(server.base_url.clone()),
        ranking: true,
        ..CouncilRequest::default()
    };
    let mut app = App::new(request, Box::new(MemoryClipboard::default()));
    let mut terminal = terminal(120, 40);
    let watch = std::sync::Arc::new(server);
    drive(&mut app, &mut terminal, |keys| async move {
        keys.type_line("Why?");
        syntheses(&watch, 1).await;
        keys.ctrl('c');
    })
    .await;
    app.draw(&mut terminal).unwrap();
    let screen = screen(&terminal);
    let ranking = app.state.run.report().ranking.clone().expect("a ranking");
    assert!(ranking.aggregate.is_empty() && ranking.malformed.len() == 3);
    assert!(screen.contains("Ranking: no ballot counted"), "{screen}");
}

/// Ctrl+C after one of two members answered: the judge and the synthesis
/// say the run was cancelled (not that no member answered), and the
/// cancelled member's tokens per second stay where they stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_run_says_so_and_its_rates_stop() {
    fn handler(r: &Recorded, _: usize) -> Reply {
        if r.model() == "x/slow" {
            let mut steps = vec![Step::Write(content("word "))];
            steps.push(Step::Forever(content("word "), Duration::from_millis(20)));
            return Reply::sse(steps);
        }
        Reply::text(&["A quick answer."])
    }
    let server = Server::start(handler).await;
    let mut app = app_on(&server, &["x/quick", "x/slow"]);
    let mut terminal = terminal(120, 40);
    let watch = std::sync::Arc::new(server);
    drive(&mut app, &mut terminal, |keys| async move {
        keys.type_line("Why?");
        // The quick one done, the slow one streaming for a while.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !watch
            .chats()
            .iter()
            .any(|r| r.model() == "x/quick" && r.finished.is_some())
        {
            assert!(tokio::time::Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(600)).await;
        keys.ctrl('c');
        tokio::time::sleep(Duration::from_millis(300)).await;
        keys.ctrl('c');
    })
    .await;
    let report = app.state.run.report();
    assert_eq!(report.outcome, Some(RunOutcome::Cancelled));
    app.draw(&mut terminal).unwrap();
    let first = screen(&terminal);
    assert!(first.contains("not run: the run was cancelled"), "{first}");
    assert!(!first.contains("no member answered"), "{first}");
    let rate = |screen: &str| {
        screen
            .lines()
            .find(|l| l.contains("slow"))
            .and_then(|l| l.split("tok/s").next())
            .and_then(|l| l.rsplit(' ').find(|w| !w.is_empty()).map(String::from))
    };
    tokio::time::sleep(Duration::from_millis(1200)).await;
    app.draw(&mut terminal).unwrap();
    let later = screen(&terminal);
    assert!(rate(&first).is_some(), "{first}");
    assert_eq!(
        rate(&first),
        rate(&later),
        "the rate is fixed once cancelled"
    );
}

/// A question whose `@file` is refused leaves the last run on screen, says
/// why, and gives the question back to the editor; `{` still reaches the
/// earlier turns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_question_keeps_the_screen() {
    let server = Server::start(handler).await;
    let dir = std::env::temp_dir().join(format!("council-refused-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let binary = dir.join("picture.png");
    std::fs::write(&binary, [0u8, 159, 146, 150, 0, 1, 2, 3]).unwrap();
    let mut app = app_on(&server, &["x/alpha", "x/beta"]);
    let mut terminal = terminal(120, 40);
    let watch = std::sync::Arc::new(server);
    let typed = format!("What is in @{}?", binary.display());
    drive(&mut app, &mut terminal, |keys| async move {
        keys.type_line("Why is the sky blue?");
        syntheses(&watch, 1).await;
        keys.type_line(&typed);
        tokio::time::sleep(Duration::from_millis(200)).await;
        keys.ctrl('c');
    })
    .await;
    app.draw(&mut terminal).unwrap();
    let screen = screen(&terminal);
    assert!(
        screen.contains("because of scattering."),
        "the last run stays:\n{screen}"
    );
    assert!(screen.contains("binary"), "the refusal is shown:\n{screen}");
    assert_eq!(app.state.run.report().question, "Why is the sky blue?");
    assert!(
        screen.contains("What is in @"),
        "the question is back in the editor:\n{screen}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A member failing with HTTP 500 says it is retrying while it does; when
/// the deadline stops it, its pane keeps why its tries failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_member_shows_its_retries_and_its_last_error() {
    fn handler(r: &Recorded, _: usize) -> Reply {
        if r.model() == "x/flaky" {
            // Asks for 5 s before the next try: still retrying at the deadline.
            return Reply::status(500, r#"{"error":{"message":"overloaded"}}"#)
                .header("retry-after", "5");
        }
        if r.is_judge() {
            return Reply::text(&[&judge_reply()]);
        }
        Reply::text(&["An answer."])
    }
    let server = Server::start(handler).await;
    let request = CouncilRequest {
        panel: vec!["x/alpha".into(), "x/flaky".into(), "x/gamma".into()],
        base_url: Some(server.base_url.clone()),
        limits: council::engine::council::Limits {
            quorum: Some(2),
            deadline_s: Some(2.0),
            ..Default::default()
        },
        ..CouncilRequest::default()
    };
    let mut app = App::new(request, Box::new(MemoryClipboard::default()));
    let mut terminal = terminal(120, 40);
    let watch = std::sync::Arc::new(server);
    drive(&mut app, &mut terminal, |keys| async move {
        keys.type_line("Why?");
        syntheses(&watch, 1).await;
        keys.ctrl('c');
    })
    .await;
    let flaky = &app.state.run.report().members[1];
    assert_eq!(flaky.status, Status::Late);
    app.draw(&mut terminal).unwrap();
    let screen = screen(&terminal);
    assert!(
        screen.contains("⏱ stopped at the deadline after") && screen.contains("500"),
        "{screen}"
    );
}

/// An answer cut at the seat's max_tokens says so in its pane.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_cut_at_max_tokens_says_so() {
    fn handler(r: &Recorded, _: usize) -> Reply {
        if r.model() == "x/cut" {
            return Reply::sse(vec![
                Step::Write(content("An answer that stops in the mid")),
                Step::Write(support::finish("length")),
                Step::Write(support::usage(10, 200, None)),
                Step::Write(support::done()),
            ]);
        }
        if r.is_judge() {
            return Reply::text(&[&judge_reply()]);
        }
        Reply::text(&["A whole answer."])
    }
    let server = Server::start(handler).await;
    let mut app = app_on(&server, &["x/cut", "x/whole"]);
    let mut terminal = terminal(120, 40);
    let watch = std::sync::Arc::new(server);
    drive(&mut app, &mut terminal, |keys| async move {
        keys.type_line("Why?");
        syntheses(&watch, 1).await;
        keys.ctrl('c');
    })
    .await;
    app.draw(&mut terminal).unwrap();
    let screen = screen(&terminal);
    assert!(screen.contains("✂ cut at 200 tokens"), "{screen}");
    assert_eq!(screen.matches("✂ cut at").count(), 1, "{screen}");
}

/// Ctrl+N names the council the next question goes to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_conversation_says_which_council_it_uses() {
    let server = Server::start(handler).await;
    let mut app = app_on(&server, &["x/alpha", "x/beta"]);
    let mut terminal = terminal(120, 40);
    drive(&mut app, &mut terminal, |keys| async move {
        keys.ctrl('n');
        tokio::time::sleep(Duration::from_millis(100)).await;
        keys.ctrl('c');
    })
    .await;
    app.draw(&mut terminal).unwrap();
    let screen = screen(&terminal);
    assert!(
        screen.contains("new conversation on alpha, beta: the next question starts a new session"),
        "{screen}"
    );
}

/// Ctrl+U clears the question; Tab steps from the last pane back into the
/// editor; the judge's tabs carry their ✓ counts at every width; a title
/// too long for its border ends in an ellipsis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_editor_tabs_and_titles_read_the_same_at_every_width() {
    let server = Server::start(handler).await;
    let mut app = app_on(&server, &["x/alpha", "x/beta"]);
    let mut terminal = terminal(200, 60);
    let watch = std::sync::Arc::new(server);
    drive(&mut app, &mut terminal, |keys| async move {
        keys.type_text("a draft nobody wants");
        keys.ctrl('u');
        keys.type_line("Why is the sky blue?");
        syntheses(&watch, 1).await;
        // Editor, alpha, beta, judge, synthesis, and round to the editor.
        for _ in 0..5 {
            keys.press(KeyCode::Tab);
        }
        keys.type_text("next");
        tokio::time::sleep(Duration::from_millis(100)).await;
        keys.ctrl('c');
    })
    .await;
    let asked = app.state.run.report().question.clone();
    assert_eq!(
        asked, "Why is the sky blue?",
        "Ctrl+U left nothing of the draft"
    );
    app.draw(&mut terminal).unwrap();
    let wide = screen(&terminal);
    assert!(
        wide.lines().any(|l| l.starts_with("\"┃next ")),
        "Tab came back to the editor, which took the typing: {wide}"
    );
    assert!(
        wide.contains("1:Consensus 1│2:Contradictions 1│3:Blind spots 1│"),
        "{wide}"
    );
    for (w, h) in [(80, 24), (120, 40), (200, 60)] {
        let mut small = support::tui::terminal(w, h);
        app.draw(&mut small).unwrap();
        let text = screen(&small);
        assert!(
            text.contains("✓ 0 of 1 with every quote found"),
            "{w}x{h}: {text}"
        );
        assert!(
            !text.contains(" ✓0"),
            "no mark in the tabs at {w}x{h}: {text}"
        );
    }
    // At 80 columns the judge's title is longer than its border.
    let mut narrow = support::tui::terminal(80, 24);
    app.draw(&mut narrow).unwrap();
    let text = screen(&narrow);
    assert!(
        text.contains("…╮") || text.contains("…┓") || text.contains("…╗"),
        "a cut title ends in an ellipsis: {text}"
    );
}

/// In the panel editor, `a` adds a fresh member at its model (the field
/// marked, the model's editor open) and `d` copies the member whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_and_duplicate_in_the_panel_editor_differ() {
    use council::tui::layer::Layer;
    let server = Server::start(handler).await;
    let mut app = app_on(&server, &["x/alpha"]);
    let mut terminal = terminal(120, 40);
    drive(&mut app, &mut terminal, |keys| async move {
        keys.ctrl('p');
        keys.press(KeyCode::Char('a'));
        tokio::time::sleep(Duration::from_millis(100)).await;
        keys.ctrl('c');
    })
    .await;
    assert!(
        matches!(app.state.layer(), Layer::PanelPicker | Layer::PanelField),
        "a fresh member opens at its model: {:?}",
        app.state.layer()
    );
    app.draw(&mut terminal).unwrap();
    let text = screen(&terminal);
    assert!(
        text.contains("▸ model"),
        "the model field is marked: {text}"
    );
}

/// `/` through the real input path: the words typed, Enter to the first
/// match, `n` to the next member's, Esc closes; `i` still goes to the editor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slash_finds_words_across_the_panel() {
    let server = Server::start(handler).await;
    let mut app = app_on(&server, &["x/alpha", "x/beta"]);
    let mut terminal = terminal(120, 40);
    let watch = std::sync::Arc::new(server);
    drive(&mut app, &mut terminal, |keys| async move {
        keys.type_line("Why is the sky blue?");
        syntheses(&watch, 1).await;
        keys.press(KeyCode::Tab);
        keys.press(KeyCode::Char('/'));
        keys.type_text("WORD250");
        tokio::time::sleep(Duration::from_millis(100)).await;
        keys.press(KeyCode::Enter);
        tokio::time::sleep(Duration::from_millis(100)).await;
        keys.press(KeyCode::Char('n'));
        tokio::time::sleep(Duration::from_millis(100)).await;
        keys.ctrl('c');
    })
    .await;
    app.draw(&mut terminal).unwrap();
    let text = screen(&terminal);
    assert!(
        text.contains("/ WORD250 · match 2 of 2 in 2 panes"),
        "{text}"
    );
    assert_eq!(text.matches(" 1 found ").count(), 2, "{text}");
    // beta's pane has the focus, scrolled down to its word 250.
    assert!(text.contains("x/beta-word250"), "{text}");
    assert!(text.contains("┏ beta"), "{text}");
}

/// Enter on a claim of the traced synthesis scrolls the member's pane to
/// the passage that supports it, deep in its answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enter_on_a_claim_scrolls_to_its_passage() {
    fn handler(r: &Recorded, _: usize) -> Reply {
        if r.is_judge() {
            return Reply::text(&[&judge_reply()]);
        }
        if r.is_synthesis() {
            return Reply::text(&[
                "Sentence 80 of alpha is about the topic numbered 80 [alpha]. ",
                "Nobody wrote about the moon landing in 1969.",
            ]);
        }
        let who = r.model().trim_start_matches("x/").to_string();
        let text: String = (0..120)
            .map(|i| format!("Sentence {i} of {who} is about the topic numbered {i}. "))
            .collect();
        Reply::text(&[&text])
    }
    let server = Server::start(handler).await;
    let mut app = app_on(&server, &["x/alpha", "x/beta"]);
    let mut terminal = terminal(120, 40);
    let watch = std::sync::Arc::new(server);
    drive(&mut app, &mut terminal, |keys| async move {
        keys.type_line("Tell me about the topics");
        syntheses(&watch, 1).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        // alpha, beta, judge, synthesis; the first claim is selected.
        for _ in 0..4 {
            keys.press(KeyCode::Tab);
        }
        keys.press(KeyCode::Enter);
        tokio::time::sleep(Duration::from_millis(100)).await;
        keys.ctrl('c');
    })
    .await;
    app.draw(&mut terminal).unwrap();
    let text = screen(&terminal);
    assert!(
        text.contains("┏ alpha"),
        "alpha's pane has the focus: {text}"
    );
    assert!(
        text.contains("Sentence 80 of alpha"),
        "scrolled to the passage: {text}"
    );
    assert!(!text.contains("Sentence 0 of alpha"), "{text}");
    // beta wrote nearly the same sentence: its passage is the second.
    assert!(text.contains("passage 1 of 2"), "{text}");
    assert!(text.contains("unsourced"), "{text}");
}
