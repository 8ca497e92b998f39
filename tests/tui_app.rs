//! The TUI's loop, headless: keys typed through the real input path, the
//! engine against the scripted server, the screen on a TestBackend.

mod support;

use std::time::Duration;

use council::config::CouncilRequest;
use council::engine::{RunOptions, RunOutcome, Status};
use council::tui::App;
use council::tui::clipboard::MemoryClipboard;
use council::tui::state::JudgeTab;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use futures::channel::mpsc::{UnboundedSender, unbounded};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;
use support::{Recorded, Reply, Server};

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

fn key(tx: &UnboundedSender<std::io::Result<Event>>, code: KeyCode, modifiers: KeyModifiers) {
    tx.unbounded_send(Ok(Event::Key(KeyEvent::new(code, modifiers))))
        .unwrap();
}

fn screen(terminal: &Terminal<TestBackend>) -> String {
    format!("{}", terminal.backend())
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
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let (tx, rx) = unbounded();

    let driver = {
        let tx = tx.clone();
        tokio::spawn(async move {
            for c in "Why is the sky blue?".chars() {
                key(&tx, KeyCode::Char(c), KeyModifiers::NONE);
            }
            key(&tx, KeyCode::Enter, KeyModifiers::NONE);
            // Wait for the synthesis to be fully sent, then for its events to land.
            let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
            loop {
                let done = server
                    .requests()
                    .iter()
                    .any(|r| r.is_synthesis() && r.finished.is_some());
                if done {
                    break;
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the council did not finish"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            // Focus a member and copy its text, then quit: Ctrl-C with nothing running.
            key(&tx, KeyCode::Tab, KeyModifiers::NONE);
            key(&tx, KeyCode::Char('y'), KeyModifiers::NONE);
            key(&tx, KeyCode::Char('c'), KeyModifiers::CONTROL);
            server
        })
    };
    tokio::time::timeout(
        Duration::from_secs(30),
        app.run(&mut terminal, rx, std::future::pending()),
    )
    .await
    .expect("the loop ends")
    .unwrap();
    let server = driver.await.unwrap();

    let state = &mut app.state;
    assert!(state.quit);
    assert_eq!(state.report.question, "Why is the sky blue?");
    assert_eq!(state.report.outcome, Some(RunOutcome::Synthesized));
    for (i, m) in state.report.members.iter().enumerate() {
        assert_eq!(m.status, Status::Done, "member {i}");
        assert!(
            m.text.ends_with("word299 "),
            "member {i} has its whole text"
        );
    }
    assert_eq!(
        state.synthesis.text,
        "The sky is blue because of scattering."
    );
    assert_eq!(state.history, ["Why is the sky blue?"]);
    assert_eq!(server.requests().len(), 5, "3 members, judge, synthesis");

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
        app.state.judge_tab = tab;
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
        assert!(
            screen.contains("x/alpha-word299"),
            "member panes follow their tails"
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
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    let (tx, rx) = unbounded();
    for c in "hello".chars() {
        key(&tx, KeyCode::Char(c), KeyModifiers::NONE);
    }
    key(&tx, KeyCode::Enter, KeyModifiers::NONE);
    drop(tx);
    app.run(&mut terminal, rx, std::future::pending())
        .await
        .unwrap();
    app.draw(&mut terminal).unwrap();
    assert!(
        screen(&terminal).contains("COUNCIL_TEST_UNSET_KEY is not set"),
        "{}",
        screen(&terminal)
    );
    assert!(!app.state.running);
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
    let request = CouncilRequest {
        panel: vec!["x/endless".into(), "x/beta".into()],
        base_url: Some(server.base_url.clone()),
        ..CouncilRequest::default()
    };
    let mut app = App::new(request, Box::new(MemoryClipboard::default()));
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let (tx, rx) = unbounded();
    app.ask("Q?");
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        key(&tx, KeyCode::Tab, KeyModifiers::NONE);
        key(&tx, KeyCode::Char('c'), KeyModifiers::NONE);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        key(&tx, KeyCode::Char('q'), KeyModifiers::NONE);
    });
    app.run(&mut terminal, rx, std::future::pending())
        .await
        .unwrap();
    assert_eq!(app.state.report.members[0].status, Status::Cancelled);
    assert!(app.state.report.members[0].text.starts_with("more more"));
    assert_eq!(app.state.report.outcome, Some(RunOutcome::Synthesized));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_estimate_shows_before_a_run_and_real_cost_replaces_it() {
    use council::models::listing::Listing;
    use council::provider::openai::models::{ModelInfo, Pricing};
    let server = Server::start(handler).await;
    let request = CouncilRequest {
        panel: vec!["x/alpha".into(), "x/beta".into()],
        base_url: Some(server.base_url.clone()),
        ..CouncilRequest::default()
    };
    let mut app = App::new(request, Box::new(MemoryClipboard::default()));
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
    app.listings.insert(
        "custom".into(),
        Listing::new(vec![priced("x/alpha"), priced("x/beta")]),
    );
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let (tx, rx) = unbounded();
    for c in "Why?".chars() {
        key(&tx, KeyCode::Char(c), KeyModifiers::NONE);
    }
    drop(tx);
    app.run(&mut terminal, rx, std::future::pending())
        .await
        .unwrap();
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
    app.state.quit = false;
    app.ask("Why?");
    let (tx, rx) = unbounded();
    let driver = tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !server
            .requests()
            .iter()
            .any(|r| r.is_synthesis() && r.finished.is_some())
        {
            assert!(tokio::time::Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        key(&tx, KeyCode::Char('c'), KeyModifiers::CONTROL);
    });
    app.run(&mut terminal, rx, std::future::pending())
        .await
        .unwrap();
    driver.await.unwrap();
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
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let (tx, rx) = unbounded();
    let s = server.clone();
    let driver = tokio::spawn(async move {
        let finished = |n: usize| {
            let s = s.clone();
            async move {
                let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
                while s
                    .requests()
                    .iter()
                    .filter(|r| r.is_synthesis() && r.finished.is_some())
                    .count()
                    < n
                {
                    assert!(tokio::time::Instant::now() < deadline);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        };
        for (i, q) in ["First?", "Second?"].iter().enumerate() {
            for c in q.chars() {
                key(&tx, KeyCode::Char(c), KeyModifiers::NONE);
            }
            key(&tx, KeyCode::Enter, KeyModifiers::NONE);
            finished(i + 1).await;
        }
        // A new conversation, then a third question: a second session.
        key(&tx, KeyCode::Char('n'), KeyModifiers::CONTROL);
        for c in "Third?".chars() {
            key(&tx, KeyCode::Char(c), KeyModifiers::NONE);
        }
        key(&tx, KeyCode::Enter, KeyModifiers::NONE);
        finished(3).await;
        key(&tx, KeyCode::Char('c'), KeyModifiers::CONTROL);
    });
    app.run(&mut terminal, rx, std::future::pending())
        .await
        .unwrap();
    driver.await.unwrap();
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
                panel: vec!["x/alpha".into()],
                base_url: Some(server.base_url.clone()),
                ..CouncilRequest::default()
            },
            Box::new(MemoryClipboard::default()),
        )
        .with_sessions(Some(dir.clone()))
    };
    let syntheses = |s: &Server| {
        s.requests()
            .iter()
            .filter(|r| r.is_synthesis() && r.finished.is_some())
            .count()
    };
    let wait_for = |n: usize| {
        let s = server.clone();
        async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
            while syntheses(&s) < n {
                assert!(tokio::time::Instant::now() < deadline);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let type_line = |tx: &UnboundedSender<std::io::Result<Event>>, text: &str| {
        for c in text.chars() {
            key(tx, KeyCode::Char(c), KeyModifiers::NONE);
        }
        key(tx, KeyCode::Enter, KeyModifiers::NONE);
    };

    // Two earlier sessions.
    for q in ["Saved one?", "Saved two?"] {
        let mut app = new_app();
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        let (tx, rx) = unbounded();
        let done = syntheses(&server) + 1;
        type_line(&tx, q);
        let wait = wait_for(done);
        let driver = tokio::spawn(async move {
            wait.await;
            key(&tx, KeyCode::Char('c'), KeyModifiers::CONTROL);
        });
        app.run(&mut terminal, rx, std::future::pending())
            .await
            .unwrap();
        driver.await.unwrap();
    }
    assert_eq!(council::session::list(&dir).0.len(), 2);

    // A new app: browse, filter, open, continue.
    let mut app = new_app();
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let (tx, rx) = unbounded();
    let wait = wait_for(3);
    let driver = tokio::spawn(async move {
        key(&tx, KeyCode::Char('o'), KeyModifiers::CONTROL);
        for c in "one".chars() {
            key(&tx, KeyCode::Char(c), KeyModifiers::NONE);
        }
        key(&tx, KeyCode::Enter, KeyModifiers::NONE);
        tokio::time::sleep(Duration::from_millis(200)).await;
        type_line(&tx, "A follow-up?");
        wait.await;
        key(&tx, KeyCode::Char('c'), KeyModifiers::CONTROL);
    });
    app.run(&mut terminal, rx, std::future::pending())
        .await
        .unwrap();
    driver.await.unwrap();
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
    let (tx, rx) = unbounded();
    app.state.quit = false;
    key(&tx, KeyCode::Char('o'), KeyModifiers::CONTROL);
    for c in "one".chars() {
        key(&tx, KeyCode::Char(c), KeyModifiers::NONE);
    }
    key(&tx, KeyCode::Delete, KeyModifiers::NONE);
    key(&tx, KeyCode::Char('n'), KeyModifiers::NONE);
    drop(tx);
    app.run(&mut terminal, rx, std::future::pending())
        .await
        .unwrap();
    assert!(path.exists(), "n keeps it");
    let (tx, rx) = unbounded();
    key(&tx, KeyCode::Delete, KeyModifiers::NONE);
    drop(tx);
    app.run(&mut terminal, rx, std::future::pending())
        .await
        .unwrap();
    app.draw(&mut terminal).unwrap();
    let asking = screen(&terminal);
    assert!(
        asking.contains("y deletes, any other key keeps it"),
        "{asking}"
    );
    let (tx, rx) = unbounded();
    key(&tx, KeyCode::Char('y'), KeyModifiers::NONE);
    drop(tx);
    app.run(&mut terminal, rx, std::future::pending())
        .await
        .unwrap();
    assert!(!path.exists(), "y deletes it");
    assert_eq!(council::session::list(&dir).0.len(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}
