//! `council ask` as a person runs it: the real binary against the scripted
//! server, checking stdout, stderr and the exit code.

mod support;

use serde_json::Value;
use support::cli::council;
use support::{Recorded, Reply, Server, judge_json};

fn handler(r: &Recorded, _: usize) -> Reply {
    if r.is_judge() {
        Reply::text(&[&judge_json()])
    } else if r.is_synthesis() {
        Reply::text(&[
            "The sky is blue ",
            "because of \u{1b}]0;pwned\u{7}Rayleigh scattering.",
        ])
    } else if r.model() == "bad/model" {
        Reply::status(404, r#"{"error":{"message":"No endpoints found"}}"#)
    } else {
        Reply::text(&["Answer from ", r.model()])
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn streams_the_synthesis_to_stdout_and_progress_to_stderr() {
    let server = Server::start(handler).await;
    let run = council(
        &[
            "ask",
            "--base-url",
            &server.base_url,
            "--panel",
            "x/alpha,y/beta",
            "Why is the sky blue?",
        ],
        None,
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The escape sequence a model sent is gone; the text around it is kept.
    assert_eq!(
        run.stdout,
        "The sky is blue because of Rayleigh scattering.\n"
    );
    assert!(
        run.stderr
            .contains("council: 2 members (alpha, beta); judge x/alpha; synthesizer x/alpha"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("  alpha  done in"), "{}", run.stderr);
    assert!(run.stderr.contains("judge: 1 consensus, 1 contradiction(s), 1 blind spot(s), 1 unique insight(s), 0 partial coverage"));
    assert!(
        !run.stderr.contains("Answer from"),
        "tokens do not go to stderr"
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 4);
    assert!(requests.iter().all(|r| r.header("authorization").is_none()));
}

#[tokio::test(flavor = "multi_thread")]
async fn json_prints_one_document_with_every_stage() {
    let server = Server::start(handler).await;
    let run = council(
        &[
            "ask",
            "--json",
            "--base-url",
            &server.base_url,
            "--panel",
            "x/alpha,bad/model,x/alpha",
            "--judge",
            "j/judge",
            "--synth",
            "s/synth",
        ],
        Some("What is 2+2?\n"),
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).expect("stdout is one JSON document");
    assert_eq!(doc["question"], "What is 2+2?");
    let members = doc["members"].as_array().unwrap();
    let names: Vec<&str> = members
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alpha", "model", "alpha-2"]);
    assert_eq!(members[0]["status"], "done");
    assert_eq!(members[0]["text"], "Answer from x/alpha");
    assert_eq!(members[0]["finish_reason"], "stop");
    assert_eq!(members[0]["usage"]["prompt_tokens"], 10);
    assert!(members[0]["ttft_ms"].is_u64() && members[0]["elapsed_ms"].is_u64());
    assert_eq!(members[1]["status"], "failed");
    assert_eq!(
        members[1]["error"],
        "HTTP 404: not found: unknown model `bad/model` or wrong base URL (No endpoints found)"
    );
    assert_eq!(doc["judge"]["model"], "j/judge");
    assert_eq!(doc["judge"]["status"], "done");
    for section in [
        "consensus",
        "contradictions",
        "blind_spots",
        "unique_insights",
        "partial_coverage",
    ] {
        assert!(doc["judge"]["analysis"][section].is_array(), "{section}");
    }
    assert_eq!(doc["synthesis"]["model"], "s/synth");
    assert_eq!(doc["synthesis"]["status"], "done");
    // JSON keeps the model's text but escapes its control characters.
    assert_eq!(
        doc["synthesis"]["text"],
        "The sky is blue because of \u{1b}]0;pwned\u{7}Rayleigh scattering."
    );
    assert!(!run.stdout.contains('\u{1b}'));
    assert_eq!(doc["usage"]["prompt_tokens"], 40);
    assert!(doc["elapsed_ms"].is_u64());
}

#[tokio::test(flavor = "multi_thread")]
async fn every_member_failing_is_one_clear_line_and_exit_1() {
    let server = Server::start(handler).await;
    let run = council(
        &[
            "ask",
            "--base-url",
            &server.base_url,
            "--panel",
            "bad/model",
            "Q?",
        ],
        None,
        &[],
    )
    .await;
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr.lines().last().unwrap(),
        "council: every member failed (model: HTTP 404: not found: unknown model `bad/model` or wrong base URL (No endpoints found))"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_key_names_the_variable_and_sends_nothing() {
    let run = council(&["ask", "--preset", "budget", "Q?"], None, &[]).await;
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr.trim(),
        "council: OPENROUTER_API_KEY is not set: export OPENROUTER_API_KEY=<your key> (or save it: council keys set openrouter) to use the `openrouter` provider, or point --base-url at a local server"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_key_is_sent_but_never_printed() {
    let server =
        Server::start(|_, _| Reply::status(401, r#"{"error":{"message":"invalid key"}}"#)).await;
    let secret = "sk-or-v1-very-secret";
    let run = council(
        &[
            "ask",
            "--json",
            "--base-url",
            &server.base_url,
            "--api-key-env",
            "MY_KEY",
            "--panel",
            "a/b",
            "Q?",
        ],
        None,
        &[("MY_KEY", secret)],
    )
    .await;
    assert_eq!(run.code, 1);
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some("Bearer sk-or-v1-very-secret")
    );
    assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
    assert!(
        run.stderr
            .contains("the API key in MY_KEY is missing or invalid"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_preset_and_empty_question_are_usage_errors() {
    let run = council(&["ask", "--preset", "nope", "Q?"], None, &[]).await;
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr.trim(),
        "council: unknown preset `nope` (known: quality, budget, local, self-fusion, debate, research, deliberate)"
    );

    let run = council(&["ask", "--panel", "a/b"], Some("   \n"), &[]).await;
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr.trim(), "council: the question is empty");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_preset_file_names_file_line_and_field() {
    let dir = std::env::temp_dir().join(format!("council-preset-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("broken.toml");
    std::fs::write(&path, "[[members]]\nmodel = \"a\"\nmax_tokens = -5\n[judge]\nmodel = \"j\"\n[synthesizer]\nmodel = \"s\"\n").unwrap();
    let run = council(
        &["ask", "--preset", path.to_str().unwrap(), "Q?"],
        None,
        &[],
    )
    .await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with(&format!("council: {}:3:14: `max_tokens`: ", path.display())),
        "{}",
        run.stderr
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn presets_are_listed_and_shown_and_the_config_file_is_found_and_checked() {
    let run = council(&["presets"], None, &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    for name in [
        "quality",
        "budget",
        "local",
        "self-fusion",
        "debate",
        "research",
        "deliberate",
    ] {
        assert!(
            run.stdout.contains(&format!("{name}  (built in)")),
            "{name} listed:\n{}",
            run.stdout
        );
    }
    assert!(
        run.stdout
            .contains("judge        ~anthropic/claude-opus-latest")
    );

    let run = council(&["presets", "show", "debate"], None, &[]).await;
    assert_eq!(run.code, 0);
    let shipped =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/presets/debate.toml"))
            .unwrap();
    assert_eq!(run.stdout, shipped, "printed as the file says it");

    let home = std::env::temp_dir().join(format!("council-config-test-{}", std::process::id()));
    let home_str = home.to_str().unwrap();
    let run = council(&["config", "path"], None, &[("XDG_CONFIG_HOME", home_str)]).await;
    assert_eq!(run.code, 0);
    assert_eq!(
        run.stdout.trim(),
        home.join("council").join("config.toml").to_str().unwrap()
    );

    std::fs::create_dir_all(home.join("council")).unwrap();
    std::fs::write(
        home.join("council").join("config.toml"),
        "theme = \"dark\"\n[timeouts]\nidle = \"soon\"\n",
    )
    .unwrap();
    let run = council(
        &["ask", "--panel", "a/b", "Q?"],
        None,
        &[("XDG_CONFIG_HOME", home_str)],
    )
    .await;
    std::fs::remove_dir_all(&home).unwrap();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("config.toml:3:8: `idle`: invalid type"),
        "{}",
        run.stderr
    );
}

/// The label the judge's prompt gave the answer containing `answer`.
fn label_in(prompt: &str, answer: &str) -> String {
    let at = prompt.find(answer).expect("the answer is in the prompt");
    let head = prompt[..at].rfind("# Response ").unwrap() + "# Response ".len();
    prompt[head..].chars().next().unwrap().to_string()
}

/// The judge quotes each member once verbatim (re-cased), once fabricated,
/// and once with the other member's words; `--json` says which held up.
fn grounding_handler(r: &Recorded, _: usize) -> Reply {
    const ALPHA: &str = "Blue light **scatters** more. Alpha alone says: dust matters most.";
    const BETA: &str = "Blue light scatters more. Beta alone says: ozone matters most.";
    if r.is_judge() {
        // Which label the judge prompt gave each answer.
        let prompt = r.user_prompt();
        let label_of = |answer: &str| label_in(prompt, answer);
        let (a, b) = (label_of(ALPHA), label_of(BETA));
        let reply = serde_json::json!({
            "consensus": [{"point": "Blue scatters more", "labels": [&a, &b], "quotes": [
                {"label": &a, "quote": "BLUE LIGHT scatters   more"},
                {"label": &b, "quote": "blue light scatters more"}]}],
            "contradictions": [{"topic": "What else matters", "stances": [
                {"labels": [&a], "stance": "dust", "quotes": [{"label": &a, "quote": "Alpha alone says … dust matters most"}]},
                {"labels": [&b], "stance": "ozone", "quotes": [{"label": &b, "quote": "dust matters most"}]}]}],
            "blind_spots": [],
            "unique_insights": [{"point": "Made up", "labels": [&b], "quotes": [
                {"label": &b, "quote": "the sea is a mirror"}]}],
            "partial_coverage": []
        });
        Reply::text(&[&reply.to_string()])
    } else if r.is_synthesis() {
        Reply::text(&["Done."])
    } else if r.model() == "x/alpha" {
        Reply::text(&[ALPHA])
    } else {
        Reply::text(&[BETA])
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_reports_which_quotes_were_found_where() {
    let server = Server::start(grounding_handler).await;
    let run = council(
        &[
            "ask",
            "--json",
            "--base-url",
            &server.base_url,
            "--panel",
            "x/alpha,x/beta",
            "--judge",
            "x/alpha",
            "Why blue?",
        ],
        None,
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let judge = &report["judge"];
    let analysis = &judge["analysis"];
    let answer = |name: &str| -> String {
        report["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap()["text"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let sliced = |q: &Value| -> String {
        let (s, e) = (
            q["span"][0].as_u64().unwrap(),
            q["span"][1].as_u64().unwrap(),
        );
        answer(q["member"].as_str().unwrap())[s as usize..e as usize].to_string()
    };

    let agreed = &analysis["consensus"][0];
    assert_eq!(agreed["grounded"], "all");
    for q in agreed["quotes"].as_array().unwrap() {
        assert_eq!(q["verified"], true, "{q}");
        assert_eq!(
            sliced(q).to_lowercase().replace("**", ""),
            "blue light scatters more"
        );
    }
    let stances = &analysis["contradictions"][0]["stances"];
    let alpha_dust = &stances[0]["quotes"][0];
    assert_eq!(alpha_dust["verified"], true, "an ellipsis, pieces in order");
    assert_eq!(sliced(alpha_dust), "Alpha alone says: dust matters most");
    let beta_dust = &stances[1]["quotes"][0];
    assert_eq!(beta_dust["verified"], false);
    assert_eq!(beta_dust["found_in"], "alpha", "the words are alpha's");
    assert!(beta_dust.get("span").is_none());
    assert_eq!(stances[1]["grounded"], "none");
    let made_up = &analysis["unique_insights"][0];
    assert_eq!(made_up["quotes"][0]["verified"], false);
    assert!(made_up["quotes"][0].get("found_in").is_none());
    assert_eq!(made_up["grounded"], "none");
    assert_eq!(
        judge["grounding"],
        serde_json::json!({"quotes": 5, "verified": 3})
    );
    assert_eq!(
        judge["judge_is_member"],
        serde_json::json!(["alpha"]),
        "the judge runs alpha's model"
    );
}

/// Two judge samples: the second reads the answers in the reverse order of
/// the first; what both found is kept, and the share that recurred is told.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_judge_samples_swap_the_order_and_keep_what_recurs() {
    fn handler(r: &Recorded, _: usize) -> Reply {
        if r.is_judge() {
            let prompt = r.user_prompt();
            let label_of = |answer: &str| label_in(prompt, answer);
            let (a, b) = (label_of("Alpha says"), label_of("Beta says"));
            // The first sample (alpha read first) adds one finding; the
            // second another; both agree on the consensus.
            let alpha_first = prompt.find("Alpha says") < prompt.find("Beta says");
            let extra = if alpha_first { &a } else { &b };
            let reply = serde_json::json!({
                "consensus": [{"point": "Both say blue", "labels": [&a, &b], "quotes": []}],
                "contradictions": [],
                "blind_spots": [],
                "unique_insights": [{"point": "only once", "labels": [extra], "quotes": []}],
                "partial_coverage": []
            });
            return Reply::text(&[&reply.to_string()]);
        }
        if r.is_synthesis() {
            return Reply::text(&["Done."]);
        }
        let who = if r.model() == "x/alpha" {
            "Alpha"
        } else {
            "Beta"
        };
        Reply::text(&[&format!("{who} says blue.")])
    }
    let server = Server::start(handler).await;
    let run = council(
        &[
            "ask",
            "--json",
            "--base-url",
            &server.base_url,
            "--panel",
            "x/alpha,x/beta",
            "--judge",
            "x/judge",
            "--judge-samples",
            "2",
            "Why blue?",
        ],
        None,
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let judges: Vec<Recorded> = server
        .requests()
        .into_iter()
        .filter(|r| r.is_judge())
        .collect();
    assert_eq!(judges.len(), 2, "two samples");
    let order = |r: &Recorded| {
        let p = r.user_prompt();
        p.find("Alpha says") < p.find("Beta says")
    };
    assert_ne!(
        order(&judges[0]),
        order(&judges[1]),
        "the second is reversed"
    );

    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let judge = &report["judge"];
    assert_eq!(
        judge["consistency"]["samples"], 2,
        "{}",
        judge["consistency"]
    );
    assert_eq!(judge["consistency"]["findings"], 3);
    assert_eq!(judge["consistency"]["recurring"], 1);
    let share = judge["consistency"]["share"].as_f64().unwrap();
    assert!((share - 1.0 / 3.0).abs() < 1e-9, "{share}");
    let analysis = &judge["analysis"];
    assert_eq!(analysis["consensus"].as_array().unwrap().len(), 1);
    assert_eq!(analysis["consensus"][0]["samples"], 2);
    assert!(
        analysis["unique_insights"].as_array().unwrap().is_empty(),
        "a finding one sample made is dropped"
    );

    let bad = council(
        &[
            "ask",
            "--base-url",
            &server.base_url,
            "--panel",
            "x/a",
            "--judge-samples",
            "0",
            "Q?",
        ],
        None,
        &[],
    )
    .await;
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("--judge-samples"), "{}", bad.stderr);
}

/// Members answer, then revise ("Revised by ..."); reviewers rank in the
/// order shown.
fn deliberation_handler(r: &Recorded, i: usize) -> Reply {
    if r.is_ranking() {
        let labels: Vec<&str> = r
            .user_prompt()
            .lines()
            .filter_map(|l| l.strip_prefix("# Response "))
            .collect();
        return Reply::text(&[&serde_json::json!({ "ranking": labels }).to_string()]);
    }
    if r.is_revision() {
        return Reply::text(&["Revised by ", r.model()]);
    }
    handler(r, i)
}

#[tokio::test(flavor = "multi_thread")]
async fn rounds_and_ranking_are_in_the_json_and_on_stderr() {
    let server = Server::start(deliberation_handler).await;
    let run = council(
        &[
            "ask",
            "--json",
            "--rounds",
            "2",
            "--rank",
            "--base-url",
            &server.base_url,
            "--panel",
            "x/alpha,y/beta,z/gamma",
            "Why is the sky blue?",
        ],
        None,
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    // 3 members x 2 rounds + 2 judges + 3 ballots + 1 synthesis.
    assert_eq!(server.chats().len(), 12);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let rounds = doc["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 2);
    assert_eq!(rounds[0]["round"], 1);
    assert_eq!(rounds[1]["round"], 2);
    assert_eq!(rounds[0]["members"][0]["text"], "Answer from x/alpha");
    assert_eq!(rounds[1]["members"][0]["text"], "Revised by x/alpha");
    assert_eq!(rounds[0]["judge"]["status"], "done");
    assert_eq!(doc["members"], rounds[1]["members"]);
    assert_eq!(doc["judge"], rounds[1]["judge"]);
    assert_eq!(doc["convergence"], serde_json::json!([1, 1]));
    let aggregate = doc["ranking"]["aggregate"].as_array().unwrap();
    assert_eq!(aggregate.len(), 3);
    let total: u64 = aggregate.iter().map(|s| s["score"].as_u64().unwrap()).sum();
    assert_eq!(total, 3, "three ballots of two answers: 1 + 0 points each");
    assert!(aggregate.iter().all(|s| s["member"].is_string()));
    assert_eq!(doc["ranking"]["ballots"].as_array().unwrap().len(), 3);
    assert!(
        run.stderr
            .contains("round 2: 3 revise (alpha, beta, gamma)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("ranking: "), "{}", run.stderr);
    assert!(
        run.stderr.contains("contradictions per round 1 → 1"),
        "{}",
        run.stderr
    );

    let bad = council(&["ask", "--rounds", "0", "--panel", "x/a", "Q?"], None, &[]).await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr
            .contains("--rounds: rounds must be between 1 and 8"),
        "{}",
        bad.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn huge_timeouts_and_deadlines_are_refused_when_parsed() {
    let run = council(
        &["ask", "--panel", "a/b", "--timeout", "99999999999", "Q?"],
        None,
        &[],
    )
    .await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("99999999999") && run.stderr.contains("1..=86400"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);

    let run = council(
        &["ask", "--panel", "a/b", "--deadline", "1e30", "Q?"],
        None,
        &[],
    )
    .await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("--deadline must be a positive number of seconds up to 86400"),
        "{}",
        run.stderr
    );

    let home = std::env::temp_dir().join(format!("council-timeout-config-{}", std::process::id()));
    std::fs::create_dir_all(home.join("council")).unwrap();
    std::fs::write(
        home.join("council/config.toml"),
        "[timeouts]\nfirst_byte = 18446744073709551615\n",
    )
    .unwrap();
    let run = council(
        &["ask", "--panel", "a/b", "Q?"],
        None,
        &[("XDG_CONFIG_HOME", home.to_str().unwrap())],
    )
    .await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("config.toml:2:")
            && run.stderr.contains("must be at most 86400 seconds"),
        "{}",
        run.stderr
    );
    std::fs::remove_dir_all(&home).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_echoed_by_the_server_is_redacted_everywhere_and_sessions_are_private() {
    use std::os::unix::fs::PermissionsExt;
    // The server puts the request's Authorization header in its error body.
    let server = Server::start(|r: &Recorded, _| {
        let auth = r.header("authorization").unwrap_or_default().to_string();
        let body = serde_json::json!({"error": {"message": format!("bad request; you sent Authorization: {auth}")}});
        Reply::status(400, &body.to_string())
    })
    .await;
    let secret = "plain-secret-value-9";
    let sessions = std::env::temp_dir().join(format!("council-redact-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&sessions);
    let run = council(
        &[
            "ask",
            "--json",
            "--base-url",
            &server.base_url,
            "--api-key-env",
            "MY_KEY",
            "--panel",
            "a/b",
            "Q?",
        ],
        None,
        &[
            ("MY_KEY", secret),
            ("COUNCIL_SESSIONS_DIR", sessions.to_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(run.code, 1);
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    let error = json["members"][0]["error"].as_str().unwrap();
    assert!(
        error.contains("you sent Authorization: Bearer [redacted]"),
        "{error}"
    );
    assert!(
        !run.stdout.contains(secret) && !run.stderr.contains(secret),
        "{}",
        run.stderr
    );
    let id = json["session_id"].as_str().unwrap();
    let file = sessions.join(format!("{id}.jsonl"));
    assert!(!std::fs::read_to_string(&file).unwrap().contains(secret));
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(&sessions), 0o700);
    std::fs::remove_dir_all(&sessions).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn escapes_in_names_and_model_ids_never_reach_the_terminal() {
    let server = Server::start(handler).await;
    // From a flag: the run goes on, its lines are clean.
    let run = council(
        &[
            "ask",
            "--base-url",
            &server.base_url,
            "--panel",
            "x/evil\u{1b}]0;pwned\u{7}",
            "Q?",
        ],
        None,
        &[],
    )
    .await;
    assert!(!run.stderr.contains('\u{1b}'), "{:?}", run.stderr);
    assert!(
        run.stderr.contains("x/evil]0;pwned") || run.stderr.contains("evil"),
        "{}",
        run.stderr
    );

    // From a preset file: refused with its line and field.
    let dir = std::env::temp_dir().join(format!("council-escape-preset-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("evil.toml");
    std::fs::write(
        &path,
        "[[members]]\nname = \"a\\u001b[2J\"\nmodel = \"x/a\"\n[judge]\nmodel = \"j\"\n[synthesizer]\nmodel = \"s\"\n",
    )
    .unwrap();
    let run = council(
        &["ask", "--preset", path.to_str().unwrap(), "Q?"],
        None,
        &[],
    )
    .await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with(&format!(
            "council: {}:2:8: `name`: must not hold control characters",
            path.display()
        )),
        "{:?}",
        run.stderr
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_saves_and_prints_what_there_is_then_exits_143() {
    let server = Server::start(|r: &Recorded, i| {
        if r.model() == "x/slow" {
            return Reply::sse(vec![
                support::Step::Write(support::content("half an answer ")),
                support::Step::Sleep(std::time::Duration::from_secs(30)),
            ]);
        }
        handler(r, i)
    })
    .await;
    let sessions = std::env::temp_dir().join(format!("council-sigterm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&sessions);
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_council"))
        .args([
            "ask",
            "--json",
            "--base-url",
            &server.base_url,
            "--panel",
            "x/fast,x/slow",
            "Q?",
        ])
        .env_remove("OPENROUTER_API_KEY")
        .env(
            "XDG_CONFIG_HOME",
            std::env::temp_dir().join("council-test-no-config"),
        )
        .env("COUNCIL_SESSIONS_DIR", &sessions)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let waited = std::time::Instant::now();
    while server.chats().len() < 2 {
        assert!(waited.elapsed() < std::time::Duration::from_secs(10));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        unsafe { libc::kill(child.id().unwrap() as i32, libc::SIGTERM) },
        0
    );
    let out = tokio::time::timeout(std::time::Duration::from_secs(10), child.wait_with_output())
        .await
        .expect("it stops promptly")
        .unwrap();
    assert_eq!(out.status.code(), Some(143));
    let json: Value = serde_json::from_slice(&out.stdout).expect("the JSON of what there was");
    assert_eq!(json["members"][1]["text"], "half an answer ");
    assert_eq!(json["outcome"], "cancelled");
    let id = json["session_id"].as_str().unwrap();
    let saved = std::fs::read_to_string(sessions.join(format!("{id}.jsonl"))).unwrap();
    assert!(saved.contains("half an answer"));
    std::fs::remove_dir_all(&sessions).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_status_line_comes_after_the_synthesis_line_ends() {
    let server = Server::start(handler).await;
    // stdout and stderr into one pipe, as on a terminal.
    let sessions = std::env::temp_dir().join(format!("council-order-{}", std::process::id()));
    let out = std::process::Command::new("sh")
        .stdin(std::process::Stdio::null())
        .arg("-c")
        .arg(format!(
            "'{}' ask --base-url '{}' --panel x/a 'Q?' 2>&1",
            env!("CARGO_BIN_EXE_council"),
            server.base_url
        ))
        .env_remove("OPENROUTER_API_KEY")
        .env(
            "XDG_CONFIG_HOME",
            std::env::temp_dir().join("council-test-no-config"),
        )
        .env("COUNCIL_SESSIONS_DIR", &sessions)
        .output()
        .unwrap();
    let both = String::from_utf8_lossy(&out.stdout);
    let line = both.lines().find(|l| l.contains("Rayleigh")).unwrap();
    assert!(line.ends_with("Rayleigh scattering."), "{both}");
    let _ = std::fs::remove_dir_all(&sessions);
}

#[tokio::test(flavor = "multi_thread")]
async fn preset_errors_name_the_file_the_line_and_the_field_at_fault() {
    let dir = std::env::temp_dir().join(format!("council-preset-lines-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tail = "[judge]\nmodel = \"j\"\n[synthesizer]\nmodel = \"s\"\n";
    for (name, text, expected) in [
        (
            "provider",
            format!("[[members]]\nmodel = \"a\"\nprovider = \"nope\"\n{tail}"),
            ":3:12: `provider`: unknown provider `nope`",
        ),
        (
            "url",
            format!(
                "[providers.mine]\nbase_url = \"not a url\"\n[[members]]\nmodel = \"a\"\nprovider = \"mine\"\n{tail}"
            ),
            ":2:12: `base_url`: invalid base URL `not a url`",
        ),
        (
            "members",
            format!("description = \"no panel\"\n{tail}"),
            ":1:1: `members`: missing field `members`",
        ),
    ] {
        let path = dir.join(format!("{name}.toml"));
        std::fs::write(&path, text).unwrap();
        let run = council(
            &["ask", "--preset", path.to_str().unwrap(), "Q?"],
            None,
            &[],
        )
        .await;
        assert_eq!(run.code, 2, "{name}");
        assert!(
            run.stderr
                .starts_with(&format!("council: {}{expected}", path.display())),
            "{name}: {}",
            run.stderr
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn completions_parse_in_bash_and_the_man_page_is_roff() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let run = council(&["completions", shell], None, &[]).await;
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        assert!(run.stdout.contains("council"), "{shell}");
    }
    let script =
        std::env::temp_dir().join(format!("council-completion-{}.bash", std::process::id()));
    std::fs::write(
        &script,
        council(&["completions", "bash"], None, &[]).await.stdout,
    )
    .unwrap();
    let checked = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    std::fs::remove_file(&script).unwrap();

    let man = council(&["man"], None, &[]).await;
    assert_eq!(man.code, 0);
    assert!(
        man.stdout.contains(".TH council 1"),
        "{}",
        &man.stdout[..200.min(man.stdout.len())]
    );
    for sub in ["ask", "serve", "eval", "completions"] {
        assert!(man.stdout.contains(sub), "{sub}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn dash_m_asks_one_model_and_streams_it_without_judge_or_synthesis() {
    let server = Server::start(handler).await;
    let run = council(
        &[
            "ask",
            "--base-url",
            &server.base_url,
            "-m",
            "x/solo",
            "Why?",
        ],
        None,
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "Answer from x/solo\n");
    let chats = server.chats();
    assert_eq!(chats.len(), 1, "one request: no judge, no synthesis");
    assert_eq!(chats[0].model(), "x/solo");
    assert_eq!(chats[0].user_prompt(), "Why?");

    let run = council(
        &[
            "ask",
            "--json",
            "--base-url",
            &server.base_url,
            "-m",
            "x/solo",
            "Why?",
        ],
        None,
        &[],
    )
    .await;
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["model"], "x/solo");
    assert_eq!(json["text"], "Answer from x/solo");
    // Saved as every run is: a turn of one member that answered alone.
    let id = json["session_id"].as_str().expect("saved");
    let path = std::env::temp_dir()
        .join("council-test-sessions")
        .join(format!("{id}.jsonl"));
    let saved = council::session::load(&path).unwrap();
    let turn = &saved.turns[0];
    assert_eq!(turn.members.len(), 1);
    assert_eq!(turn.members[0].text, "Answer from x/solo");
    assert_eq!(turn.outcome, Some(council::engine::RunOutcome::Answered));

    let run = council(
        &[
            "ask",
            "--base-url",
            &server.base_url,
            "-m",
            "bad/model",
            "Why?",
        ],
        None,
        &[],
    )
    .await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("bad/model: HTTP 404"), "{}", run.stderr);

    let run = council(&["ask", "-m", "a/b", "--panel", "c/d", "Why?"], None, &[]).await;
    assert_eq!(run.code, 2, "-m and --panel do not mix");
}

#[tokio::test(flavor = "multi_thread")]
async fn piped_text_joins_the_question_argument_as_a_named_attachment() {
    let server = Server::start(handler).await;
    let run = council(
        &[
            "ask",
            "--base-url",
            &server.base_url,
            "-m",
            "x/solo",
            "review this",
        ],
        Some("--- a/x\n+++ b/x\n+fn main() {}\n"),
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        support::unfenced(server.chats()[0].user_prompt()),
        "review this\n\n<attachment name=\"stdin\">\n--- a/x\n+++ b/x\n+fn main() {}\n</attachment>"
    );
}

/// A fresh folder under the temp dir.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "council-{name}-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn files_reach_every_request_delimited_and_named_and_sessions_keep_only_their_hash() {
    let server = Server::start(handler).await;
    let dir = scratch("attach");
    std::fs::write(dir.join("notes.md"), "SECRET-NOTES line\n").unwrap();
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("src/a.rs"), "fn alpha() {}\n").unwrap();
    std::fs::write(dir.join("src/logo.png"), [0x89, b'P', 0, 0]).unwrap();
    let notes = dir.join("notes.md").display().to_string();
    let src = dir.join("src").display().to_string();
    let sessions = scratch("attach-sessions");
    let run = council(
        &[
            "ask",
            "--json",
            "--base-url",
            &server.base_url,
            "--panel",
            "m/one,m/two",
            "--judge",
            "m/judge",
            "--synth",
            "m/synth",
            "-f",
            &notes,
            "--file",
            &src,
            "review this",
        ],
        Some("+piped diff line\n"),
        &[("COUNCIL_SESSIONS_DIR", sessions.to_str().unwrap())],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let chats = server.chats();
    assert_eq!(chats.len(), 4, "two members, the judge, the synthesizer");
    let a_rs = format!("<attachment name=\"{src}/a.rs\">\nfn alpha() {{}}\n</attachment>");
    let expected_member = format!(
        "review this\n\n<attachment name=\"stdin\">\n+piped diff line\n</attachment>\n\n<attachment name=\"{notes}\">\nSECRET-NOTES line\n</attachment>\n\n{a_rs}"
    );
    for chat in &chats {
        let prompt = support::unfenced(chat.user_prompt());
        assert!(
            prompt.contains(&expected_member),
            "{}: {prompt}",
            chat.model()
        );
        assert!(!prompt.contains("logo.png"), "binary files stay out");
    }
    assert!(
        run.stderr.contains("logo.png: a binary file"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("attached: stdin (17 B)"),
        "{}",
        run.stderr
    );

    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["question"], "review this");
    let names: Vec<&str> = json["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["stdin", notes.as_str(), &format!("{src}/a.rs")]);
    assert_eq!(json["attachments"][1]["bytes"], 18);
    let hash = json["attachments"][1]["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(hash.len(), 64);

    let id = json["session_id"].as_str().unwrap();
    let saved = std::fs::read_to_string(sessions.join(format!("{id}.jsonl"))).unwrap();
    assert!(saved.contains(&hash), "the session names the file by hash");
    assert!(
        !saved.contains("SECRET-NOTES"),
        "but holds none of its text"
    );

    let run = council(
        &[
            "ask",
            "--base-url",
            &server.base_url,
            "-m",
            "x/solo",
            "-f",
            &format!("{src}/logo.png"),
            "Why?",
        ],
        None,
        &[],
    )
    .await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .trim_end()
            .ends_with("logo.png: a binary file; only text can be attached"),
        "{}",
        run.stderr
    );
    let run = council(&["ask", "-f", "/no/such/file", "Why?"], None, &[]).await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("/no/such/file: No such file"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn system_and_role_set_every_members_system_prompt_not_the_judges() {
    let server = Server::start(handler).await;
    let council_args = |extra: &[&'static str]| -> Vec<String> {
        let mut args: Vec<String> = [
            "ask",
            "--base-url",
            &server.base_url,
            "--panel",
            "m/one,m/two",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        args.push("Why?".into());
        args
    };
    let args = council_args(&["-s", "Answer like a pirate."]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = council(&args, None, &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let chats = server.chats();
    let members: Vec<_> = chats
        .iter()
        .filter(|c| !c.is_judge() && !c.is_synthesis())
        .collect();
    assert_eq!(members.len(), 2);
    for m in &members {
        assert_eq!(m.contents("system"), ["Answer like a pirate."]);
    }
    assert!(
        chats.iter().any(|c| c.is_judge()),
        "the judge keeps its own prompt"
    );
    assert!(
        chats.iter().any(|c| c.is_synthesis()),
        "and so does the synthesizer"
    );

    let config = scratch("roles");
    std::fs::create_dir_all(config.join("council/roles")).unwrap();
    std::fs::write(
        config.join("council/roles/reviewer.md"),
        "---\nmodel: openai:gpt-4o\ntemperature: 0.3\n---\nYou review code for bugs.\n",
    )
    .unwrap();
    let before = server.chats().len();
    let args = council_args(&["--role", "reviewer"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let xdg = [("XDG_CONFIG_HOME", config.to_str().unwrap())];
    let run = council(&args, None, &xdg).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let chats = server.chats();
    let members: Vec<_> = chats[before..]
        .iter()
        .filter(|c| !c.is_judge() && !c.is_synthesis())
        .collect();
    assert_eq!(members.len(), 2);
    for m in &members {
        assert_eq!(m.contents("system"), ["You review code for bugs."]);
        assert_eq!(
            m.body["temperature"].as_f64().map(|t| (t * 10.0).round()),
            Some(3.0)
        );
    }

    let args = council_args(&["--role", "poet"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = council(&args, None, &xdg).await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unknown role `poet`") && run.stderr.contains("(known: reviewer)"),
        "{}",
        run.stderr
    );
    std::fs::write(
        config.join("council/roles/bad.md"),
        "---\ntemperature: hot\n---\nx",
    )
    .unwrap();
    let args = council_args(&["--role", "bad"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = council(&args, None, &xdg).await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("roles/bad.md:2: `temperature`: expected a number from 0 to 2, found `hot`"),
        "{}",
        run.stderr
    );
    let run = council(
        &["ask", "-s", "x", "--role", "reviewer", "Why?"],
        None,
        &xdg,
    )
    .await;
    assert_eq!(run.code, 2, "--system and --role do not mix");
}

#[tokio::test(flavor = "multi_thread")]
async fn dash_e_asks_what_the_editor_saved() {
    let server = Server::start(handler).await;
    let dir = scratch("editor");
    let script = dir.join("edit.sh");
    // The editor gets the question argument and saves it reworded.
    std::fs::write(
        &script,
        "#!/bin/sh\nprintf 'Edited: %s' \"$(cat \"$1\")\" > \"$1\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let editor = script.to_str().unwrap();
    let run = council(
        &[
            "ask",
            "--base-url",
            &server.base_url,
            "-m",
            "x/solo",
            "-e",
            "first draft",
        ],
        None,
        &[("EDITOR", editor), ("VISUAL", "")],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(server.chats()[0].user_prompt(), "Edited: first draft");

    let run = council(
        &["ask", "--base-url", &server.base_url, "-m", "x/solo", "-e"],
        None,
        &[("EDITOR", "true"), ("VISUAL", "")],
    )
    .await;
    assert_eq!(run.code, 2, "an editor that saves nothing asks nothing");
    assert!(
        run.stderr.contains("the question is empty"),
        "{}",
        run.stderr
    );
    let run = council(
        &["ask", "-m", "x/solo", "-e", "q"],
        None,
        &[("EDITOR", "false"), ("VISUAL", "")],
    )
    .await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("the editor `false` exited with"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_log_file_has_the_stages_and_errors_but_no_key_and_no_model_text() {
    use std::os::unix::fs::PermissionsExt;
    // The first request fails with the key echoed back; the retry answers.
    let server = Server::start(|r: &Recorded, i| {
        if i == 0 {
            let auth = r.header("authorization").unwrap_or_default().to_string();
            let body =
                serde_json::json!({"error": {"message": format!("overloaded; you sent {auth}")}});
            Reply::status(503, &body.to_string())
        } else if r.is_judge() {
            Reply::text(&[&judge_json()])
        } else {
            Reply::text(&["PRIVATE-MODEL-WORDS from ", r.model()])
        }
    })
    .await;
    let state = scratch("log-state");
    let secret = "log-secret-value-77";
    let ask = |level: &'static str| {
        let base_url = server.base_url.clone();
        let state = state.clone();
        async move {
            council(
                &[
                    "ask",
                    "--log-level",
                    level,
                    "--base-url",
                    &base_url,
                    "--api-key-env",
                    "MY_KEY",
                    "--panel",
                    "a/one,b/two",
                    "Why is the sky blue?",
                ],
                None,
                &[
                    ("MY_KEY", secret),
                    ("XDG_STATE_HOME", state.to_str().unwrap()),
                ],
            )
            .await
        }
    };
    let run = ask("info").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let path = state.join("council/council.log");
    let log = std::fs::read_to_string(&path).expect("the log file");
    for line in [
        "council started",
        "command=\"ask\"",
        "run started",
        "retrying",
        "member finished",
        "synthesis finished",
        "run finished",
    ] {
        assert!(log.contains(line), "the log lacks {line}:\n{log}");
    }
    assert!(log.contains("you sent Bearer [redacted]"), "{log}");
    assert!(!log.contains(secret), "{log}");
    assert!(
        !log.contains("PRIVATE-MODEL-WORDS"),
        "no model text at info:\n{log}"
    );
    assert!(
        !log.contains("Why is the sky blue"),
        "no question at info:\n{log}"
    );
    assert!(!log.contains("chat request"), "debug lines only at debug");
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(
        !run.stderr.contains("INFO"),
        "logs never reach the terminal"
    );

    let run = ask("council=debug").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let log = std::fs::read_to_string(&path).unwrap();
    assert!(
        log.contains("DEBUG") && log.contains("chat request"),
        "{log}"
    );

    let run = council(&["ask", "--log-level", "council=loud", "Why?"], None, &[]).await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("council: --log-level `council=loud`"),
        "{}",
        run.stderr
    );
}
