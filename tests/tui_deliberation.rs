//! Deliberation from the keyboard, through the app loop against the
//! scripted server: `D` runs one more round; `d` on a contradiction puts it
//! to the members it involves, and only to them.

mod support;

use std::sync::Arc;

use council::config::CouncilRequest;
use council::engine::{RunOptions, RunOutcome, Status};
use council::tui::App;
use council::tui::clipboard::MemoryClipboard;
use crossterm::event::KeyCode;
use support::tui::{screen, settled, terminal};
use support::{Recorded, Reply, Server, judge_json};

/// Members answer, or revise once they have their own answer to revise;
/// the judge finds one contradiction in round 1 and none after.
fn handler(r: &Recorded, _: usize) -> Reply {
    if r.method == "GET" && r.path.ends_with("/models") {
        return Reply::status(200, r#"{"data": []}"#);
    }
    if r.is_judge() {
        if r.user_prompt().contains("revises") {
            let mut settled: serde_json::Value = serde_json::from_str(&judge_json()).unwrap();
            settled["contradictions"] = serde_json::json!([]);
            return Reply::text(&[&settled.to_string()]);
        }
        return Reply::text(&[&judge_json()]);
    }
    if r.is_synthesis() {
        return Reply::text(&["Synthesis."]);
    }
    if r.is_revision() {
        return Reply::text(&[&format!("{} revises its answer.", r.model())]);
    }
    Reply::text(&[&format!("{} answers.", r.model())])
}

async fn finished_run() -> (Arc<Server>, App) {
    let server = Arc::new(Server::start(handler).await);
    let request = CouncilRequest {
        panel: vec!["x/alpha".into(), "x/beta".into(), "x/gamma".into()],
        base_url: Some(server.base_url.clone()),
        ..CouncilRequest::default()
    };
    let mut app =
        App::new(request, Box::new(MemoryClipboard::default())).with_options(RunOptions {
            seed: Some(3),
            ..RunOptions::default()
        });
    app.ask("Q?");
    let s = server.clone();
    support::tui::drive(&mut app, &mut terminal(120, 40), |keys| async move {
        settled(&s, 5).await;
        keys.ctrl('c');
    })
    .await;
    assert_eq!(
        app.state.run.report().outcome,
        Some(RunOutcome::Synthesized)
    );
    (server, app)
}

/// The finished run, then `D` from the first member's pane, settled.
async fn second_round() -> (
    Arc<Server>,
    App,
    ratatui::Terminal<ratatui::backend::TestBackend>,
) {
    let (server, mut app) = finished_run().await;
    let s = server.clone();
    let mut term = terminal(120, 40);
    support::tui::drive(&mut app, &mut term, |keys| async move {
        keys.press(KeyCode::Tab);
        keys.press(KeyCode::Char('D'));
        settled(&s, 10).await;
        keys.ctrl('c');
    })
    .await;
    (server, app, term)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d_runs_one_more_round_and_the_status_line_shows_the_convergence() {
    let (server, app, term) = second_round().await;
    let chats = server.chats();
    assert_eq!(
        chats.len(),
        5 + 3 + 1 + 1,
        "three revisions, a judge, a synthesis"
    );
    assert!(chats[5..8].iter().all(|r| r.is_revision()));
    for r in &chats[5..8] {
        assert!(
            r.user_prompt().contains("- Altitude effect"),
            "the round-1 dispute"
        );
        assert_eq!(r.user_prompt().matches("\n# Member ").count(), 2);
    }
    let report = app.state.run.report();
    assert_eq!(report.round, 2);
    assert_eq!(report.convergence, [Some(1), Some(0)]);
    assert!(
        report
            .members
            .iter()
            .all(|m| m.text.ends_with("revises its answer."))
    );
    assert_eq!(report.rounds[0].members[0].text, "x/alpha answers.");
    let shown = screen(&term);
    assert!(shown.contains("contradictions 1 → 0"), "{shown}");
    assert!(shown.contains("r2/2"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contradiction_goes_back_only_to_the_members_it_involves() {
    let (server, mut app) = finished_run().await;
    let contradiction = app
        .state
        .run
        .report()
        .judge
        .analysis
        .clone()
        .unwrap()
        .contradictions[0]
        .clone();
    let involved: Vec<String> = contradiction
        .stances
        .iter()
        .flat_map(|s| s.members.clone())
        .collect();
    assert_eq!(involved.len(), 2);
    let s = server.clone();
    let mut term = terminal(120, 40);
    support::tui::drive(&mut app, &mut term, |keys| async move {
        for _ in 0..4 {
            keys.press(KeyCode::Tab);
        }
        keys.press(KeyCode::Char('2'));
        keys.press(KeyCode::Char('d'));
        settled(&s, 9).await;
        keys.ctrl('c');
    })
    .await;
    let chats = server.chats();
    assert_eq!(
        chats.len(),
        5 + 2 + 1 + 1,
        "two members, the judge, the synthesis"
    );
    let mut asked: Vec<String> = chats[5..7]
        .iter()
        .map(|r| r.model().trim_start_matches("x/").to_string())
        .collect();
    asked.sort();
    let mut expected = involved.clone();
    expected.sort();
    assert_eq!(asked, expected, "only the members the contradiction names");
    for r in &chats[5..7] {
        let ask = r.user_prompt();
        assert!(ask.contains("disagree on one point"), "{ask}");
        assert!(ask.contains("- Altitude effect"), "{ask}");
        assert!(
            ask.contains("lower at altitude") && ask.contains("no effect"),
            "{ask}"
        );
        assert!(ask.contains("\"lower up high\"") && ask.contains("\"same everywhere\""));
    }
    assert!(chats[7].is_judge(), "then the judge re-maps");
    assert!(chats[8].is_synthesis());

    let report = app.state.run.report();
    assert_eq!(report.round, 2);
    assert_eq!(report.dispute.as_deref(), Some("Altitude effect"));
    for m in &report.members {
        if involved.contains(&m.name) {
            assert_eq!(m.round, 2);
            assert!(m.text.ends_with("revises its answer."), "{}", m.text);
        } else {
            assert_eq!(m.round, 1, "{} keeps its answer", m.name);
            assert!(m.text.ends_with("answers."));
        }
        assert_eq!(m.status, Status::Done);
    }
    let shown = screen(&term);
    assert!(
        shown.contains("round 2 (dispute: Altitude effect)"),
        "{shown}"
    );
}

/// The stage bar's token count ("1.2k tok", "288 tok"), as a number.
fn shown_tokens(screen: &str) -> Option<f64> {
    let at = screen.find(" tok")?;
    let figure = screen[..at].rsplit(' ').next()?;
    match figure.strip_suffix('k') {
        Some(k) => k.parse::<f64>().ok().map(|k| k * 1000.0),
        None => figure.parse().ok(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_after_a_round_reruns_the_member_in_that_round() {
    let (server, mut app, mut term) = second_round().await;
    app.draw(&mut term).unwrap();
    let after_round = shown_tokens(&screen(&term)).expect("tokens shown");
    let revised = server.chats()[5..8]
        .iter()
        .find(|r| r.model() == "x/beta")
        .cloned()
        .expect("beta revised");

    // From alpha's pane, Tab to beta's, then r.
    let s = server.clone();
    support::tui::drive(&mut app, &mut term, |keys| async move {
        keys.press(KeyCode::Tab);
        keys.press(KeyCode::Char('r'));
        settled(&s, 11).await;
        keys.ctrl('c');
    })
    .await;
    app.draw(&mut term).unwrap();
    let shown = screen(&term);
    let after_rerun = shown_tokens(&shown).expect("tokens shown");
    let chats = server.chats();
    assert_eq!(chats.len(), 11, "beta alone");
    assert_eq!(chats[10].model(), "x/beta");
    assert!(chats[10].is_revision(), "round 2's request, not round 1's");
    // (Each prompt fences the answers with its own boundary.)
    let messages = |r: &support::Recorded| support::unfenced(&r.body["messages"].to_string());
    assert_eq!(
        messages(&chats[10]),
        messages(&revised),
        "the same messages as beta's round-2 request"
    );
    let report = app.state.run.report();
    assert_eq!(report.round, 2);
    assert_eq!(report.members[1].round, 2, "beta's pane stays in round 2");
    assert!(report.members[1].text.ends_with("revises its answer."));
    assert!(shown.contains("r2/2"), "{shown}");
    assert_eq!(report.convergence, [Some(1), Some(0)]);
    assert!(
        after_rerun > after_round,
        "the re-run adds to the turn's tokens: {after_round} then {after_rerun}"
    );
}
