//! Live edits of a finished council, driven through the app loop against the
//! scripted server: one edited member re-run alone (`r`), then judge and
//! synthesis again (`R`); a member added to a finished run runs alone.

mod support;

use council::config::CouncilRequest;
use council::engine::{RunOptions, RunOutcome, SeatSpec, Status};
use council::tui::App;
use council::tui::clipboard::MemoryClipboard;
use crossterm::event::KeyCode;
use support::tui::{Keys, settled, terminal};
use support::{Recorded, Reply, Server, judge_json};

fn handler(r: &Recorded, _: usize) -> Reply {
    if r.method == "GET" && r.path.ends_with("/models") {
        return Reply::status(200, r#"{"data": [{"id": "x/alpha"}, {"id": "x/zeta"}]}"#);
    }
    if r.is_judge() {
        return Reply::text(&[&judge_json()]);
    }
    if r.is_synthesis() {
        return Reply::text(&["Synthesis ", "of the answers."]);
    }
    // The answer says who answered and with which instructions.
    let who = format!("{} answers", r.model());
    let how = if r.system_prompt() == r.user_prompt() {
        " plainly.".to_string()
    } else {
        format!(" as told: {}", r.system_prompt())
    };
    Reply::text(&[&who, &how])
}

/// Runs the app loop on a 120x40 screen while `script` types.
async fn drive<F, Fut>(app: &mut App, script: F)
where
    F: FnOnce(Keys) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    support::tui::drive(app, &mut terminal(120, 40), script).await;
}

/// A council of `panel` on the scripted server that has answered "Q?".
async fn finished_run(panel: &[&str]) -> (std::sync::Arc<Server>, App) {
    let server = std::sync::Arc::new(Server::start(handler).await);
    let request = CouncilRequest {
        panel: panel.iter().map(|m| m.to_string()).collect(),
        base_url: Some(server.base_url.clone()),
        ..CouncilRequest::default()
    };
    let mut app = App::new(request, Box::new(MemoryClipboard::default()));
    app.ask("Q?");
    let (s, chats) = (server.clone(), panel.len() + 2);
    drive(&mut app, |keys| async move {
        settled(&s, chats).await;
        keys.ctrl('c');
    })
    .await;
    assert_eq!(
        app.state.run.report().outcome,
        Some(RunOutcome::Synthesized)
    );
    (server, app)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_member_reruns_alone_then_judge_and_synthesis_run_again() {
    let server = std::sync::Arc::new(Server::start(handler).await);
    let request = CouncilRequest {
        panel: vec!["x/alpha".into(), "x/beta".into(), "x/gamma".into()],
        base_url: Some(server.base_url.clone()),
        ..CouncilRequest::default()
    };
    let mut app =
        App::new(request, Box::new(MemoryClipboard::default())).with_options(RunOptions {
            seed: Some(1),
            ..RunOptions::default()
        });

    // A first, full run.
    app.ask("Why is the sky blue?");
    let s = server.clone();
    drive(&mut app, |keys| async move {
        settled(&s, 5).await;
        keys.ctrl('c');
    })
    .await;
    assert_eq!(
        app.state.run.report().outcome,
        Some(RunOutcome::Synthesized)
    );
    let before: Vec<String> = app
        .state
        .run
        .report()
        .members
        .iter()
        .map(|m| m.text.clone())
        .collect();
    assert_eq!(before[1], "x/beta answers plainly.");

    // Edit the second member, then `r` on its pane and `R`.
    app.plan_mut().unwrap().members[1].system_prompt = Some("Be brief.".into());
    let s = server.clone();
    let mut term = terminal(120, 40);
    support::tui::drive(&mut app, &mut term, |keys| async move {
        keys.press(KeyCode::Tab);
        keys.press(KeyCode::Tab);
        keys.press(KeyCode::Char('r'));
        settled(&s, 6).await;
        keys.ctrl('c');
    })
    .await;
    // The judgement and synthesis were written before the new answer.
    assert!(app.state.run.report().stale);
    let shown = support::tui::screen(&term);
    assert!(
        shown.contains("Judge ⚠ stale · R re-judges") && shown.contains("Synthesis ⚠ stale"),
        "{shown}"
    );
    let s = server.clone();
    support::tui::drive(&mut app, &mut term, |keys| async move {
        keys.press(KeyCode::Char('R'));
        settled(&s, 8).await;
        keys.ctrl('c');
    })
    .await;
    assert!(!app.state.run.report().stale, "judged again");
    let shown = support::tui::screen(&term);
    assert!(!shown.contains("stale"), "{shown}");

    let requests = server.chats();
    assert_eq!(requests.len(), 8, "one member, one judge, one synthesis");
    let rerun = &requests[5];
    assert!(!rerun.is_judge() && !rerun.is_synthesis());
    assert_eq!(rerun.model(), "x/beta");
    assert_eq!(rerun.system_prompt(), "Be brief.");
    assert!(requests[6].is_judge(), "then the judge");
    assert!(
        requests[6]
            .user_prompt()
            .contains("x/beta answers as told: Be brief."),
        "the judge reads the new answer"
    );
    assert!(requests[7].is_synthesis(), "then the synthesis");

    let report = app.state.run.report();
    assert_eq!(report.members[0].text, before[0], "others unchanged");
    assert_eq!(report.members[2].text, before[2], "others unchanged");
    assert_eq!(report.members[1].text, "x/beta answers as told: Be brief.");
    assert!(report.members.iter().all(|m| m.status == Status::Done));
    assert_eq!(report.judge.status, Status::Done);
    assert_eq!(report.synthesis.text, "Synthesis of the answers.");
    assert_eq!(report.outcome, Some(RunOutcome::Synthesized));
    // Usage adds up over the partial runs (2 tokens a member or synthesis, 1 a judge).
    let (first, rerun, rejudge) = (3 * 2 + 1 + 2, 2, 1 + 2);
    assert_eq!(report.usage.completion_tokens, first + rerun + rejudge);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_added_to_a_finished_run_runs_alone() {
    let (server, mut app) = finished_run(&["x/alpha", "x/beta"]).await;
    let before: Vec<String> = app
        .state
        .run
        .report()
        .members
        .iter()
        .map(|m| m.text.clone())
        .collect();
    let judged = app.state.run.report().judge.clone();

    let added = app
        .add_member(SeatSpec::new("delta", "x/delta", "custom"))
        .unwrap();
    assert_eq!(added, 2);
    app.run_member(added);
    let s = server.clone();
    drive(&mut app, |keys| async move {
        settled(&s, 5).await;
        keys.ctrl('c');
    })
    .await;

    let requests = server.chats();
    assert_eq!(requests.len(), 5, "only the new member ran");
    assert_eq!(requests[4].model(), "x/delta");
    let report = app.state.run.report();
    assert_eq!(report.members.len(), 3);
    assert_eq!(app.state.run.len(), 3, "a pane for the new member");
    assert_eq!(report.members[2].name, "delta");
    assert_eq!(report.members[2].text, "x/delta answers plainly.");
    assert_eq!(report.members[0].text, before[0]);
    assert_eq!(report.members[1].text, before[1]);
    assert_eq!(report.judge, judged, "nothing was judged again");
    assert!(report.stale, "the judgement predates the new member");
    assert_eq!(report.outcome, Some(RunOutcome::Answered));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_changed_in_the_panel_editor_is_what_r_runs() {
    let (server, mut app) = finished_run(&["x/alpha", "x/beta"]).await;
    let s = server.clone();
    drive(&mut app, |keys| async move {
        // Ctrl+P opens the editor from anywhere; the second member's model.
        keys.ctrl('p');
        keys.press(KeyCode::Down);
        keys.press(KeyCode::Enter);
        for _ in 0.."x/beta".len() {
            keys.press(KeyCode::Backspace);
        }
        keys.type_text("x/zeta");
        keys.press(KeyCode::Enter);
        keys.press(KeyCode::Esc);
        // Focus the second member's pane and re-run it.
        keys.press(KeyCode::Tab);
        keys.press(KeyCode::Tab);
        keys.press(KeyCode::Char('r'));
        // Four chats, then the re-run.
        settled(&s, 5).await;
        keys.ctrl('c');
    })
    .await;
    let requests = server.requests();
    let listings = requests
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/models"))
        .count();
    assert_eq!(
        listings, 1,
        "the endpoint's models are listed once, at start; the editor uses that"
    );
    let chats: Vec<_> = requests
        .iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .collect();
    assert_eq!(chats.len(), 5);
    assert_eq!(chats[4].model(), "x/zeta", "the edited model ran");
    assert!(app.state.view.overlay.is_none(), "Esc closed the editor");
    let report = app.state.run.report();
    assert_eq!(report.members[1].model, "x/zeta");
    assert_eq!(report.members[1].text, "x/zeta answers plainly.");
    assert_eq!(report.members[0].text, "x/alpha answers plainly.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panes_follow_an_edited_panel_and_an_added_member_runs_alone() {
    let (server, mut app) = finished_run(&["x/alpha", "x/beta"]).await;
    let s = server.clone();
    drive(&mut app, |keys| async move {
        keys.ctrl('p');
        // Remove alpha, then add a member like beta: `beta-2`.
        keys.press(KeyCode::Char('x'));
        keys.press(KeyCode::Char('a'));
        // A fresh member opens at its model's picker: Esc keeps beta's
        // model, a second Esc closes the editor.
        keys.press(KeyCode::Esc);
        keys.press(KeyCode::Esc);
        // Four chats, then the new member.
        settled(&s, 5).await;
        keys.ctrl('c');
    })
    .await;
    let chats: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .collect();
    assert_eq!(chats.len(), 5, "only the added member ran");
    assert_eq!(chats[4].model(), "x/beta");
    let report = app.state.run.report();
    let names: Vec<&str> = report.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["beta", "beta-2"], "alpha's pane left with alpha");
    assert_eq!(report.members[0].text, "x/beta answers plainly.");
    assert_eq!(report.members[1].text, "x/beta answers plainly.");
    assert_eq!(report.members[1].status, Status::Done);
    assert_eq!(app.state.run.len(), 2);
}
