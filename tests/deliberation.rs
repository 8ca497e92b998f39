//! Deliberation against the scripted server: revision rounds (what each
//! member is shown, how many requests a run makes, who sits out, what a
//! cancel keeps) and peer ranking (what each reviewer sees, ballots, the
//! Borda count).

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use council::engine::{
    Basis, Council, CouncilEvent, RunOptions, RunOutcome, RunReport, RunScope, Seat, SeatSpec,
    Status,
};
use council::provider::openai::{OpenAiConfig, OpenAiProvider};
use council::provider::{Provider, RetryPolicy};
use support::{Recorded, Reply, Server, Step, content, judge_json};

fn council(server: &Server, members: &[(&str, &str)], rounds: u32, ranking: bool) -> Council {
    let mut config = OpenAiConfig::new("test", server.base_url.clone());
    config.retry = RetryPolicy::none();
    let provider: Arc<dyn Provider> = Arc::new(OpenAiProvider::new(config).unwrap());
    let seat = |name: &str, model: &str| Seat {
        spec: SeatSpec::new(name, model, "test"),
        provider: provider.clone(),
        fallbacks: Vec::new(),
    };
    Council {
        preset: None,
        members: members.iter().map(|(n, m)| seat(n, m)).collect(),
        judge: seat("judge", "judge/model"),
        synthesizer: seat("synthesizer", "synth/model"),
        endpoints: Default::default(),
        rounds,
        ranking,
        limits: Default::default(),
    }
}

/// Round 1: "Answer from MODEL"; a revision: "Revised by MODEL". Models
/// starting `fail/` fail; `slow/` revisions take a while.
fn handler(r: &Recorded, _: usize) -> Reply {
    if r.is_judge() {
        return Reply::text(&[&judge_json()]);
    }
    if r.is_synthesis() {
        return Reply::text(&["Final answer."]);
    }
    let model = r.model().to_string();
    if model.starts_with("fail/") {
        return Reply::status(500, r#"{"error":{"message":"boom"}}"#);
    }
    if r.is_revision() {
        if model.starts_with("slow/") {
            return Reply::sse(vec![
                Step::Write(content("Revised ")),
                Step::Sleep(Duration::from_secs(5)),
                Step::Write(content("late")),
            ]);
        }
        return Reply::text(&["Revised by ", &model]);
    }
    Reply::text(&["Answer from ", &model])
}

async fn collect(mut handle: council::RunHandle) -> Vec<CouncilEvent> {
    let mut events = Vec::new();
    while let Some(e) = handle.events.recv().await {
        events.push(e);
    }
    events
}

fn seeded() -> RunOptions {
    RunOptions {
        seed: Some(11),
        ..RunOptions::default()
    }
}

const PANEL: [(&str, &str); 3] = [
    ("alpha", "ok/alpha"),
    ("beta", "ok/beta"),
    ("gamma", "ok/gamma"),
];

#[tokio::test]
async fn a_second_round_shows_each_member_the_others_and_the_contradictions() {
    let server = Server::start(handler).await;
    let events = collect(council::run(
        council(&server, &PANEL, 2, false),
        "Q?",
        seeded(),
    ))
    .await;
    let report = RunReport::from_events(&events);
    assert_eq!(report.outcome, Some(RunOutcome::Synthesized));

    // members x rounds + judges x rounds + 1 synthesis.
    let chats = server.chats();
    assert_eq!(chats.len(), 3 * 2 + 2 + 1);
    assert_eq!(chats.iter().filter(|r| r.is_judge()).count(), 2);

    let revisions: Vec<&Recorded> = chats.iter().filter(|r| r.is_revision()).collect();
    assert_eq!(revisions.len(), 3);
    for r in revisions {
        let own = format!("Answer from {}", r.model());
        // Its own answer is its own turn, never one of the labelled others.
        assert_eq!(r.contents("assistant"), std::slice::from_ref(&own));
        let ask = r.user_prompt();
        assert!(!ask.contains(&own), "{ask}");
        let others: Vec<&str> = PANEL
            .iter()
            .map(|(_, m)| *m)
            .filter(|m| *m != r.model())
            .collect();
        for other in others {
            assert!(ask.contains(&format!("Answer from {other}")), "{ask}");
        }
        assert_eq!(ask.matches("\n# Member ").count(), 2);
        // Round 1's contradiction and blind spot.
        assert!(ask.contains("# Where the answers conflict\n\n- Altitude effect\n"));
        assert!(ask.contains("- Dissolved salts"));
        // Stances and quotes name members by label or "you", never by name.
        for (name, _) in PANEL {
            assert!(!ask.contains(&format!("- {name}")), "{ask}");
            assert!(!ask.contains(&format!("({name})")), "{ask}");
        }
        assert!(ask.contains(": lower at altitude") && ask.contains(": no effect"));
    }
    // The second judge reads the revisions; the synthesizer too.
    let judges: Vec<&Recorded> = chats.iter().filter(|r| r.is_judge()).collect();
    assert!(judges[0].user_prompt().contains("Answer from ok/alpha"));
    assert!(judges[1].user_prompt().contains("Revised by ok/alpha"));
    let synth = chats.iter().find(|r| r.is_synthesis()).unwrap();
    assert!(synth.user_prompt().contains("Revised by ok/beta"));
    assert!(synth.user_prompt().contains("after 2 rounds"));

    // The report keeps both rounds; the top level is the last.
    assert_eq!(report.rounds.len(), 2);
    assert_eq!(report.rounds[0].round, 1);
    assert_eq!(report.rounds[0].members[0].text, "Answer from ok/alpha");
    assert_eq!(report.rounds[1].members[0].text, "Revised by ok/alpha");
    assert_eq!(report.members, report.rounds[1].members);
    assert_eq!(report.judge, report.rounds[1].judge);
    assert!(report.members.iter().all(|m| m.round == 2));
    assert_eq!(report.convergence, [Some(1), Some(1)]);
    // Usage adds up over all nine requests (10 prompt tokens each).
    assert_eq!(report.usage.prompt_tokens, 90);
}

#[tokio::test]
async fn a_member_failing_in_round_one_sits_out_round_two() {
    let server = Server::start(handler).await;
    let panel = [
        ("alpha", "ok/alpha"),
        ("broken", "fail/x"),
        ("gamma", "ok/gamma"),
    ];
    let events = collect(council::run(
        council(&server, &panel, 2, false),
        "Q?",
        seeded(),
    ))
    .await;
    let report = RunReport::from_events(&events);
    assert_eq!(report.outcome, Some(RunOutcome::Synthesized));
    let round_two = events
        .iter()
        .find_map(|e| match e {
            CouncilEvent::RoundStarted { round, members, .. } => Some((*round, members.clone())),
            _ => None,
        })
        .unwrap();
    assert_eq!(round_two, (2, vec![0, 2]));
    let chats = server.chats();
    assert_eq!(chats.iter().filter(|r| r.model() == "fail/x").count(), 1);
    assert_eq!(chats.len(), 3 + 2 + 2 + 1);
    // Its failure stays on record in round 2, from round 1.
    assert_eq!(report.members[1].status, Status::Failed);
    assert_eq!(report.members[1].round, 1);
    for r in chats.iter().filter(|r| r.is_revision()) {
        assert_eq!(r.user_prompt().matches("\n# Member ").count(), 1);
    }
}

#[tokio::test]
async fn cancelling_in_round_two_keeps_round_one_whole() {
    let server = Server::start(handler).await;
    let panel = [("alpha", "slow/alpha"), ("beta", "slow/beta")];
    let mut handle = council::run(council(&server, &panel, 2, false), "Q?", seeded());
    let mut events = Vec::new();
    let mut revising = 0;
    while let Some(e) = handle.events.recv().await {
        if matches!(e, CouncilEvent::MemberDelta { .. }) && events.iter().any(is_round_start) {
            revising += 1;
            if revising == 2 {
                handle.cancel();
            }
        }
        events.push(e);
    }
    let report = RunReport::from_events(&events);
    assert_eq!(report.outcome, Some(RunOutcome::Cancelled));
    assert_eq!(report.rounds.len(), 2);
    let first = &report.rounds[0];
    assert!(first.members.iter().all(|m| m.status == Status::Done));
    assert_eq!(first.members[1].text, "Answer from slow/beta");
    assert_eq!(first.judge.status, Status::Done);
    assert!(first.judge.analysis.is_some());
    // Round 2 stopped with what had arrived; nothing was judged or written.
    assert!(
        report
            .members
            .iter()
            .all(|m| m.status == Status::Cancelled && m.text == "Revised ")
    );
    assert_eq!(report.judge.status, Status::Skipped);
    assert_eq!(report.synthesis.status, Status::Skipped);
    assert_eq!(report.convergence, [Some(1), None]);
    assert!(!server.chats().iter().any(|r| r.is_synthesis()));
}

fn is_round_start(e: &CouncilEvent) -> bool {
    matches!(e, CouncilEvent::RoundStarted { .. })
}

#[tokio::test]
async fn a_dispute_asks_only_the_members_it_involves() {
    let server = Server::start(handler).await;
    let c = council(&server, &PANEL, 1, false);
    let first = RunReport::from_events(&collect(council::run(c.clone(), "Q?", seeded())).await);
    let dispute = first.judge.analysis.as_ref().unwrap().contradictions[0].clone();
    let involved: Vec<String> = dispute
        .stances
        .iter()
        .flat_map(|s| s.members.clone())
        .collect();
    assert_eq!(involved.len(), 2);
    let before = server.chats().len();

    let basis = Basis {
        dispute: Some(dispute),
        ..Basis::of(&first)
    };
    let events = collect(council::engine::run_scoped(
        c,
        "Q?",
        seeded(),
        RunScope::Round,
        basis,
    ))
    .await;
    let mut report = first.clone();
    for e in &events {
        report.apply(e);
    }
    let asked: Vec<Recorded> = server.chats()[before..]
        .iter()
        .filter(|r| !r.is_judge() && !r.is_synthesis())
        .cloned()
        .collect();
    let mut asked_models: Vec<&str> = asked.iter().map(|r| r.model()).collect();
    asked_models.sort();
    let mut expected: Vec<String> = involved.iter().map(|n| format!("ok/{n}")).collect();
    expected.sort();
    assert_eq!(asked_models, expected);
    for r in &asked {
        let ask = r.user_prompt();
        assert!(ask.contains("- Altitude effect\n"), "{ask}");
        assert!(ask.contains("lower at altitude") && ask.contains("no effect"));
        assert!(ask.contains("you: "), "the member's own stance is its own");
    }
    // A new round for those two; the third keeps its answer from round 1.
    assert_eq!(report.round, 2);
    assert_eq!(report.rounds.len(), 2);
    assert_eq!(report.dispute.as_deref(), Some("Altitude effect"));
    let uninvolved = report
        .members
        .iter()
        .find(|m| !involved.contains(&m.name))
        .unwrap();
    assert_eq!(uninvolved.round, 1);
    assert!(uninvolved.text.starts_with("Answer from"));
    assert_eq!(report.outcome, Some(RunOutcome::Synthesized));
    assert_eq!(report.judge.status, Status::Done, "the judge re-maps");
    let judge = server.chats()[before..]
        .iter()
        .find(|r| r.is_judge())
        .cloned()
        .unwrap();
    assert!(judge.user_prompt().contains(&uninvolved.text));
}

/// Ballots: each reviewer ranks the answers in the order it was shown them,
/// except `ok/delta`, which ranks them in reverse, and `bad/`, which
/// replies with prose.
fn ranking_handler(r: &Recorded, i: usize) -> Reply {
    if !r.is_ranking() {
        return handler(r, i);
    }
    if r.model().starts_with("bad/") {
        return Reply::text(&["I liked the second one best."]);
    }
    let mut labels: Vec<String> = r
        .user_prompt()
        .lines()
        .filter_map(|l| l.strip_prefix("# Response "))
        .map(String::from)
        .collect();
    if r.model() == "ok/delta" {
        labels.reverse();
    }
    Reply::text(&[&serde_json::json!({ "ranking": labels }).to_string()])
}

/// Who each label stands for in a reviewer's prompt, in the order shown.
fn shown(r: &Recorded) -> Vec<String> {
    r.user_prompt()
        .split("\n# Response ")
        .skip(1)
        .map(|block| {
            block
                .lines()
                .find_map(|l| l.strip_prefix("Answer from ok/"))
                .or_else(|| {
                    block
                        .lines()
                        .find_map(|l| l.strip_prefix("Answer from bad/"))
                })
                .unwrap()
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn members_rank_each_other_blind_and_the_count_is_borda() {
    let server = Server::start(ranking_handler).await;
    let panel = [
        ("alpha", "ok/alpha"),
        ("beta", "ok/beta"),
        ("gamma", "ok/gamma"),
        ("delta", "ok/delta"),
        ("epsilon", "bad/epsilon"),
    ];
    let events = collect(council::run(
        council(&server, &panel, 1, true),
        "Q?",
        seeded(),
    ))
    .await;
    let report = RunReport::from_events(&events);
    assert_eq!(report.outcome, Some(RunOutcome::Synthesized));
    let reviews: Vec<Recorded> = server
        .chats()
        .into_iter()
        .filter(|r| r.is_ranking())
        .collect();
    assert_eq!(reviews.len(), 5);
    let mut orders: HashMap<String, Vec<String>> = HashMap::new();
    for r in &reviews {
        let me = r.model().split('/').nth(1).unwrap().to_string();
        let seen = shown(r);
        assert_eq!(seen.len(), 4);
        assert!(!seen.contains(&me), "{me} never ranks itself");
        assert!(!r.user_prompt().contains(r.model()));
        assert_eq!(r.body["response_format"]["type"], "json_schema");
        orders.insert(me, seen);
    }
    // Shuffled per reviewer: the members two reviewers both ranked do not
    // come in one fixed order for all of them.
    let relative = |order: &Vec<String>, a: &str, b: &str| {
        let at = |n: &str| order.iter().position(|x| x == n);
        at(a).zip(at(b)).map(|(x, y)| x < y)
    };
    let pairs: Vec<Option<bool>> = ["gamma", "delta", "epsilon"]
        .iter()
        .map(|r| relative(&orders[*r], "alpha", "beta"))
        .collect();
    assert!(pairs.iter().all(Option::is_some));
    let distinct: std::collections::HashSet<Vec<String>> = orders.values().cloned().collect();
    assert_eq!(distinct.len(), 5);

    // Borda from what the server saw: on 4 answers, 3, 2, 1, 0 points.
    let ranking = report.ranking.clone().expect("ranked");
    let mut expected: HashMap<String, u32> = HashMap::new();
    for (reviewer, order) in &orders {
        if reviewer == "epsilon" {
            continue;
        }
        let mut order = order.clone();
        if reviewer == "delta" {
            order.reverse();
        }
        for (place, name) in order.iter().enumerate() {
            *expected.entry(name.clone()).or_default() += 3 - place as u32;
        }
    }
    let got: HashMap<String, u32> = ranking
        .aggregate
        .iter()
        .map(|s| (s.member.clone(), s.score))
        .collect();
    assert_eq!(got, expected);
    assert!(
        ranking
            .aggregate
            .windows(2)
            .all(|w| w[0].score >= w[1].score)
    );
    // The prose reply is reported and left out.
    assert_eq!(ranking.ballots.len(), 4);
    assert_eq!(ranking.malformed.len(), 1);
    assert_eq!(ranking.malformed[0].reviewer, "epsilon");
    assert!(ranking.malformed[0].text.contains("second one"));
    // Each ballot kept, in names, best first.
    let delta = ranking
        .ballots
        .iter()
        .find(|b| b.reviewer == "delta")
        .unwrap();
    let mut reversed = orders["delta"].clone();
    reversed.reverse();
    assert_eq!(delta.order, reversed);
    // The synthesizer is told.
    let synth = server
        .chats()
        .into_iter()
        .find(|r| r.is_synthesis())
        .unwrap();
    assert!(synth.user_prompt().contains("# Peer ranking"));
    let top = &ranking.aggregate[0];
    assert!(
        synth
            .user_prompt()
            .contains(&format!("- {}: {}", top.member, top.score))
    );

    // The same seed shows every reviewer the same order again.
    let again = Server::start(ranking_handler).await;
    collect(council::run(
        council(&again, &panel, 1, true),
        "Q?",
        seeded(),
    ))
    .await;
    for r in again.chats().iter().filter(|r| r.is_ranking()) {
        let me = r.model().split('/').nth(1).unwrap();
        assert_eq!(shown(r), orders[me], "seeded");
    }
}
