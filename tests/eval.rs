//! `council eval` through the binary against the scripted server: graders
//! with a preference, a position bias, a failing baseline, and a resume
//! after a kill that asks no finished question again.

mod support;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use support::cli::council;
use support::{Recorded, Reply, Server, judge_json};

const SYNTHESIS: &str = "The council's considered answer.";

/// The grader's `# Answer A` section.
fn answer_a(prompt: &str) -> &str {
    let a = prompt.split("# Answer A").nth(1).unwrap_or_default();
    a.split("# Answer B").next().unwrap_or_default()
}

/// Graders `grader/council*` prefer the council's answer wherever it
/// stands, `grader/baseline` the baseline's, and `grader/half` the
/// council's on questions marked `council-wins` only; `grader/a` always
/// says A; `404/` baselines fail; a question with `slow` in it takes 30 s
/// while `slow` is set.
fn handler(slow: Arc<AtomicBool>) -> impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static {
    move |r: &Recorded, _| {
        let prompt = r.user_prompt().to_string();
        if r.model().starts_with("404/") {
            return Reply::status(404, r#"{"error":{"message":"No endpoints found"}}"#);
        }
        let prefers_council = match r.model() {
            m if m.starts_with("grader/council") => Some(true),
            "grader/baseline" => Some(false),
            "grader/half" => Some(prompt.contains("council-wins")),
            _ => None,
        };
        if let Some(council) = prefers_council {
            let council_is_a = answer_a(&prompt).contains(SYNTHESIS);
            let winner = if council_is_a == council { "A" } else { "B" };
            return Reply::text(
                &[&json!({"winner": winner, "reason": "more careful"}).to_string()],
            );
        }
        if r.model() == "grader/a" {
            return Reply::text(&[r#"{"winner": "A", "reason": "first is best"}"#]);
        }
        if r.is_judge() {
            return Reply::text(&[&judge_json()]);
        }
        if r.is_synthesis() {
            return Reply::text(&[SYNTHESIS]);
        }
        let reply = Reply::text(&["Answer from ", r.model()]);
        if prompt.contains("slow") && slow.load(Ordering::SeqCst) {
            return reply.delayed(Duration::from_secs(30));
        }
        reply
    }
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("council-eval-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn eval(server: &Server, dir: &std::path::Path, extra: &[&str]) -> (i32, Value, String) {
    let file = dir.join("questions.txt");
    eval_of(server, dir, &[file.to_str().unwrap()], extra).await
}

/// `council eval INPUT... --json` on the scratch council, results in `dir`.
async fn eval_of(
    server: &Server,
    dir: &std::path::Path,
    input: &[&str],
    extra: &[&str],
) -> (i32, Value, String) {
    let extra = [extra, &["--json"]].concat();
    let run = run_eval(server, dir, input, &extra).await;
    let json = serde_json::from_str(&run.stdout).unwrap_or(Value::Null);
    (run.code, json, run.stderr)
}

/// `council eval INPUT...` on the scratch council, results in `dir`.
async fn run_eval(
    server: &Server,
    dir: &std::path::Path,
    input: &[&str],
    extra: &[&str],
) -> support::cli::Run {
    let out = dir.join("results.jsonl");
    let mut args = vec!["eval"];
    args.extend_from_slice(input);
    args.extend_from_slice(&[
        "--base-url",
        &server.base_url,
        "--panel",
        "ok/a,ok/b",
        "--out",
        out.to_str().unwrap(),
    ]);
    args.extend_from_slice(extra);
    council(
        &args,
        None,
        &[("XDG_CACHE_HOME", dir.join("cache").to_str().unwrap())],
    )
    .await
}

fn write_questions(dir: &std::path::Path, text: &str) {
    std::fs::write(dir.join("questions.txt"), text).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_grader_that_prefers_the_council_counts_wins_in_both_positions() {
    let server = Server::start(handler(Arc::default())).await;
    let dir = scratch("prefers");
    write_questions(
        &dir,
        "Why is the sky blue?\n{\"id\": \"boil\", \"question\": \"When does water boil?\", \"reference\": \"100 C at sea level\"}\nIs coffee healthy?\n",
    );
    let (code, json, stderr) = eval(
        &server,
        &dir,
        &["--against", "base/x", "--grader", "grader/council"],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    let s = &json["summary"]["base/x"];
    assert_eq!(
        (s["wins"].as_u64(), s["losses"].as_u64(), s["ties"].as_u64()),
        (Some(3), Some(0), Some(0)),
        "{s}"
    );
    assert_eq!(s["win_rate"], 1.0);
    assert_eq!(s["consistency"], 1.0);
    assert!(
        s["cost_ratio"].as_f64().unwrap() > 1.0,
        "a council costs more than one model: {s}"
    );
    let q = &json["questions"][1];
    assert_eq!(q["id"], "boil");
    let verdicts = q["baselines"]["base/x"]["verdicts"].as_array().unwrap();
    assert_eq!(verdicts[0]["winner"], "A", "council first");
    assert_eq!(verdicts[1]["winner"], "B", "council second");
    assert_eq!(q["council"]["text"], SYNTHESIS);
    assert_eq!(
        q["baselines"]["base/x"]["answer"]["text"],
        "Answer from base/x"
    );
    // Every grader request saw both answers under their headings, the reference too.
    let graded: Vec<Recorded> = server
        .chats()
        .into_iter()
        .filter(|r| r.model() == "grader/council")
        .collect();
    assert_eq!(graded.len(), 6, "two orders per question");
    assert!(
        graded
            .iter()
            .all(|r| r.user_prompt().contains("# Answer A")
                && r.user_prompt().contains("# Answer B"))
    );
    assert!(graded.iter().any(|r| {
        r.user_prompt()
            .contains("# Reference answer\n\n100 C at sea level")
    }));
    assert!(
        graded
            .iter()
            .all(|r| r.body["response_format"]["type"] == "json_schema")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pure_position_bias_is_all_ties_with_no_consistency() {
    let server = Server::start(handler(Arc::default())).await;
    let dir = scratch("bias");
    write_questions(&dir, "One?\nTwo?\n");
    let report = dir.join("report.md");
    let (code, json, stderr) = eval(
        &server,
        &dir,
        &[
            "--against",
            "base/x",
            "--grader",
            "grader/a",
            "--report",
            report.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    let s = &json["summary"]["base/x"];
    assert_eq!(
        (s["wins"].as_u64(), s["losses"].as_u64(), s["ties"].as_u64()),
        (Some(0), Some(0), Some(2))
    );
    assert_eq!(s["consistency"], 0.0);
    assert_eq!(s["position_bias"], 1.0);
    assert_eq!(json["grader"]["position_bias"], 1.0, "{}", json["grader"]);
    assert_eq!(json["grader"]["consistency"], 0.0);
    assert_eq!(json["grader"]["pairs"], 2);
    assert_eq!(json["grader"]["graders"]["grader/a"]["position_bias"], 1.0);
    let md = std::fs::read_to_string(report).unwrap();
    assert!(
        md.contains("| `base/x` | 0 | 0 | 2 | 0 | 0% | 0–66% | 0% | 100% |"),
        "{md}"
    );
    assert!(md.contains("| `grader/a` | 2 | 0% | 100% | – |"), "{md}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_baseline_is_reported_and_the_rest_go_on() {
    let server = Server::start(handler(Arc::default())).await;
    let dir = scratch("failing");
    write_questions(&dir, "One?\nTwo?\n");
    let (code, json, stderr) = eval(
        &server,
        &dir,
        &["--against", "base/x,404/y", "--grader", "grader/council"],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json["summary"]["base/x"]["wins"], 2);
    assert_eq!(json["summary"]["404/y"]["errors"], 2);
    let failed = &json["questions"][0]["baselines"]["404/y"];
    assert_eq!(failed["outcome"], "error");
    assert!(
        failed["answer"]["error"]
            .as_str()
            .unwrap()
            .contains("HTTP 404"),
        "{failed}"
    );
    assert!(
        !server
            .chats()
            .iter()
            .any(|r| r.model() == "grader/council" && r.user_prompt().contains("404/y"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn resume_after_a_kill_asks_no_finished_question_again() {
    let slow = Arc::new(AtomicBool::new(true));
    let server = Server::start(handler(slow.clone())).await;
    let dir = scratch("resume");
    write_questions(&dir, "Question one?\nQuestion two?\nQuestion slow three?\n");
    let file = dir.join("questions.txt");
    let out = dir.join("results.jsonl");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_council"))
        .args([
            "eval",
            file.to_str().unwrap(),
            "--base-url",
            &server.base_url,
            "--panel",
            "ok/a,ok/b",
        ])
        .args([
            "--against",
            "base/x",
            "--grader",
            "grader/council",
            "--concurrency",
            "1",
        ])
        .args(["--out", out.to_str().unwrap()])
        .env_remove("OPENROUTER_API_KEY")
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .env("COUNCIL_SESSIONS_DIR", dir.join("sessions"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let waited = std::time::Instant::now();
    while std::fs::read_to_string(&out)
        .unwrap_or_default()
        .lines()
        .count()
        < 3
    {
        assert!(
            waited.elapsed() < Duration::from_secs(20),
            "two questions finish"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The header and two results: killed while the third question is at work.
    tokio::time::sleep(Duration::from_millis(300)).await;
    child.kill().await.unwrap();
    // A result torn mid-write (a kill, a full disk): the next one must not
    // be glued to it.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&out)
        .unwrap()
        .write_all(b"{\"question\":\"Question slow th")
        .unwrap();
    let asked = |q: &str| {
        server
            .chats()
            .iter()
            .filter(|r| {
                r.model() == "ok/a"
                    && !r.is_judge()
                    && !r.is_synthesis()
                    && r.user_prompt().contains(q)
            })
            .count()
    };
    assert_eq!((asked("one"), asked("two"), asked("three")), (1, 1, 1));

    slow.store(false, Ordering::SeqCst);
    let (code, json, stderr) = eval(
        &server,
        &dir,
        &[
            "--against",
            "base/x",
            "--grader",
            "grader/council",
            "--resume",
        ],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("2 of 3 questions already done"), "{stderr}");
    // The finished questions were not asked again; the third was.
    assert_eq!((asked("one"), asked("two"), asked("three")), (1, 1, 2));
    assert_eq!(json["summary"]["base/x"]["wins"], 3);
    assert_eq!(json["questions"].as_array().unwrap().len(), 3);
    let results = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        results.lines().count(),
        4,
        "the header and 3 results: {results}"
    );
    let header: Value = serde_json::from_str(results.lines().next().unwrap()).unwrap();
    assert_eq!(
        header["evaluation"]["baselines"],
        serde_json::json!(["base/x"])
    );
    assert_eq!(header["evaluation"]["grader"], "grader/council");
    for line in results.lines() {
        serde_json::from_str::<Value>(line).expect("every result reads back");
    }

    // Resuming with another baseline is refused, naming it, unless forced.
    let (code, _, stderr) = eval(
        &server,
        &dir,
        &[
            "--against",
            "base/y",
            "--grader",
            "grader/council",
            "--resume",
        ],
    )
    .await;
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("written for another evaluation (baselines: base/x there, base/y here)"),
        "{stderr}"
    );
    let (code, _, stderr) = eval(
        &server,
        &dir,
        &[
            "--against",
            "base/x",
            "--grader",
            "grader/other",
            "--resume",
        ],
    )
    .await;
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("grader: grader/council there, grader/other here"),
        "{stderr}"
    );
    let (code, _, stderr) = eval(
        &server,
        &dir,
        &[
            "--against",
            "base/x",
            "--grader",
            "grader/other",
            "--resume",
            "--force",
        ],
    )
    .await;
    assert_eq!(code, 0, "forced: {stderr}");

    // Without --resume an existing results file is never overwritten.
    let (code, _, stderr) = eval(&server, &dir, &["--against", "base/x"]).await;
    assert_eq!(code, 2);
    assert!(stderr.contains("exists: pass --resume"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_evaluation_over_its_cap_is_refused_before_it_starts() {
    let server = Server::start(|r: &Recorded, i| {
        if r.path.ends_with("/models") {
            let model =
                |id: &str| json!({"id": id, "pricing": {"prompt": "0.001", "completion": "0.001"}});
            let body = json!({"data": [model("ok/a"), model("ok/b"), model("base/x")]});
            return Reply::status(200, &body.to_string());
        }
        handler(Arc::default())(r, i)
    })
    .await;
    let dir = scratch("cap");
    write_questions(&dir, "One?\nTwo?\n");
    let (code, _, stderr) =
        eval(&server, &dir, &["--against", "base/x", "--max-cost", "0.5"]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("over the $0.5000 cap; raise it with --max-cost"),
        "{stderr}"
    );
    assert!(server.chats().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_mt_bench_suite_runs_part_of_its_bundled_questions_with_their_categories() {
    let server = Server::start(handler(Arc::default())).await;
    let dir = scratch("suite");
    let (code, json, stderr) = eval_of(
        &server,
        &dir,
        &["--suite", "mt-bench", "--limit", "4"],
        &["--against", "base/x", "--grader", "grader/council"],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    let questions = json["questions"].as_array().unwrap();
    let ids: Vec<&str> = questions
        .iter()
        .map(|q| q["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["81", "82", "83", "84"]);
    assert!(questions.iter().all(|q| q["category"] == "writing"));
    // The first turns, as bundled, went to the council and the baseline.
    let asked = |model: &str, words: &str| {
        server.chats().iter().any(|r| {
            r.model() == model
                && !r.is_judge()
                && !r.is_synthesis()
                && r.user_prompt().contains(words)
        })
    };
    let travel = "Compose an engaging travel blog post about a recent trip to Hawaii";
    assert!(asked("ok/a", travel) && asked("base/x", travel));
    assert!(!asked("base/x", "Start every sentence with the letter A"));
    let s = &json["summary"]["base/x"];
    assert_eq!(s["categories"]["writing"]["wins"], 4, "{s}");
    let meta = &json["metadata"];
    assert_eq!(meta["input"], "suite mt-bench");
    assert_eq!(meta["questions"], 4);
    assert_eq!(meta["input_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(meta["version"], env!("CARGO_PKG_VERSION"));

    // A category, with the reference answers MT-Bench has for it.
    let dir = scratch("suite-math");
    let (code, json, stderr) = eval_of(
        &server,
        &dir,
        &["--suite", "mt-bench", "--category", "math", "--limit", "2"],
        &["--against", "base/x", "--grader", "grader/council"],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    let ids: Vec<&str> = json["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["111", "112"]);
    assert!(json["questions"][0]["reference"].as_str().unwrap().len() > 20);
    assert!(server.chats().iter().any(|r| {
        r.model() == "grader/council"
            && r.user_prompt().contains("# Reference answer")
            && r.user_prompt().contains("vertices of a triangle")
    }));

    let dir = scratch("suite-unknown");
    let (code, _, stderr) = eval_of(
        &server,
        &dir,
        &["--suite", "mt-bench", "--category", "poetry"],
        &["--against", "base/x"],
    )
    .await;
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no category `poetry`; there are: coding, extraction, humanities, math"),
        "{stderr}"
    );
    let listed = council(&["eval", "--suites"], None, &[]).await;
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert!(
        listed
            .stdout
            .contains("mt-bench  80 questions, 39 with reference answers"),
        "{}",
        listed.stdout
    );
    assert!(listed.stdout.contains("writing 10"), "{}", listed.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn mt_bench_lines_run_as_conversations_graded_on_the_last_turn() {
    let server = Server::start(handler(Arc::default())).await;
    let dir = scratch("turns");
    write_questions(
        &dir,
        concat!(
            r#"{"question_id": 81, "category": "writing", "turns": ["Write about Hawaii.", "Rewrite it in French."], "source": "mt-bench", "difficulty": 3}"#,
            "\n",
            r#"{"question_id": 101, "category": "math", "turns": ["What is 2+2?"], "reference": ["4"]}"#,
            "\n"
        ),
    );
    let (code, json, stderr) = eval(
        &server,
        &dir,
        &["--against", "base/x", "--grader", "grader/council"],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    let q = &json["questions"][0];
    assert_eq!(q["id"], "81");
    assert_eq!(q["category"], "writing");
    assert_eq!(q["question"], "Rewrite it in French.");
    assert_eq!(q["turns"][0], "Write about Hawaii.");
    // Unknown fields pass through to the results as the file gave them.
    assert_eq!(q["source"], "mt-bench");
    assert_eq!(q["difficulty"], 3);
    assert_eq!(q["council"]["earlier"][0], SYNTHESIS);
    assert_eq!(
        q["baselines"]["base/x"]["answer"]["earlier"][0],
        "Answer from base/x"
    );
    assert_eq!(json["questions"][1]["reference"], "4");

    let chats = server.chats();
    // The baseline's second request carries the first turn and its own answer.
    let second = chats
        .iter()
        .find(|r| r.model() == "base/x" && r.user_prompt() == "Rewrite it in French.")
        .expect("the baseline was asked the second turn");
    let messages = second.body["messages"].as_array().unwrap();
    let said: Vec<(&str, &str)> = messages
        .iter()
        .map(|m| (m["role"].as_str().unwrap(), m["content"].as_str().unwrap()))
        .collect();
    assert_eq!(
        said[said.len() - 3..],
        [
            ("user", "Write about Hawaii."),
            ("assistant", "Answer from base/x"),
            ("user", "Rewrite it in French.")
        ]
    );
    // So does each council member's: the earlier turn, the council's answer.
    let member = chats
        .iter()
        .find(|r| {
            r.model() == "ok/a"
                && !r.is_judge()
                && !r.is_synthesis()
                && r.user_prompt().contains("Rewrite it in French.")
        })
        .expect("the council was asked the second turn");
    let text = member.body["messages"].to_string();
    assert!(
        text.contains("Write about Hawaii.") && text.contains(SYNTHESIS),
        "{text}"
    );
    // The grader read the earlier turn and graded the last.
    let graded: Vec<&Recorded> = chats
        .iter()
        .filter(|r| {
            r.model() == "grader/council" && r.user_prompt().contains("Rewrite it in French.")
        })
        .collect();
    assert_eq!(graded.len(), 2);
    assert!(graded.iter().all(|r| {
        let p = r.user_prompt();
        p.contains("## Turn 1\n\nWrite about Hawaii.")
            && p.contains("# Question (turn 2, the one to grade)\n\nRewrite it in French.")
    }));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_win_rate_carries_its_wilson_interval() {
    let server = Server::start(handler(Arc::default())).await;
    let dir = scratch("interval");
    write_questions(&dir, "One?\nTwo?\nThree?\nFour?\n");
    let (code, json, stderr) = eval(
        &server,
        &dir,
        &["--against", "base/x", "--grader", "grader/council"],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    let i = &json["summary"]["base/x"]["interval"];
    assert_eq!(json["summary"]["base/x"]["wins"], 4);
    assert!((i["low"].as_f64().unwrap() - 0.5101).abs() < 1e-3, "{i}");
    assert_eq!(i["high"], 1.0);

    let dir = scratch("interval-half");
    write_questions(
        &dir,
        "One council-wins?\nTwo?\nThree council-wins?\nFour?\n",
    );
    let (code, json, stderr) = eval(
        &server,
        &dir,
        &["--against", "base/x", "--grader", "grader/half"],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    let s = &json["summary"]["base/x"];
    assert_eq!(
        (s["wins"].as_u64(), s["losses"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(s["win_rate"], 0.5);
    let i = &s["interval"];
    assert!((i["low"].as_f64().unwrap() - 0.1500).abs() < 1e-3, "{i}");
    assert!((i["high"].as_f64().unwrap() - 0.8500).abs() < 1e-3, "{i}");
    assert_eq!(s["position_bias"], 0.0);
    // The printed summary says it too.
    let out = dir.join("results.jsonl");
    std::fs::remove_file(&out).unwrap();
    let file = dir.join("questions.txt");
    let run = run_eval(
        &server,
        &dir,
        &[file.to_str().unwrap()],
        &["--against", "base/x", "--grader", "grader/half"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("win rate 50% (95% CI 15–85%, Wilson) · consistency 100% · position bias 0%"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "council: members ok/a, ok/b · judge ok/a · synthesizer ok/a · graded by grader/half"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("(4 questions, sha256 "),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn three_graders_take_the_majority_and_the_dissenter_s_agreement_shows() {
    let server = Server::start(handler(Arc::default())).await;
    let dir = scratch("panel");
    write_questions(&dir, "One?\nTwo?\n");
    let report = dir.join("report.md");
    let (code, json, stderr) = eval(
        &server,
        &dir,
        &[
            "--against",
            "base/x",
            "--grader",
            "grader/council1,grader/council2,grader/baseline",
            "--report",
            report.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    let s = &json["summary"]["base/x"];
    assert_eq!(s["wins"], 2, "two of three prefer the council: {s}");
    let graders = &json["grader"]["graders"];
    assert_eq!(graders["grader/council1"]["agreement"], 1.0);
    assert_eq!(graders["grader/council2"]["agreement"], 1.0);
    assert_eq!(graders["grader/baseline"]["agreement"], 0.0);
    assert_eq!(graders["grader/baseline"]["consistency"], 1.0);
    // Every grader read every pair in both orders.
    for g in ["grader/council1", "grader/council2", "grader/baseline"] {
        let reads = server.chats().iter().filter(|r| r.model() == g).count();
        assert_eq!(reads, 4, "{g}");
    }
    let verdicts = json["questions"][0]["baselines"]["base/x"]["verdicts"]
        .as_array()
        .unwrap();
    assert_eq!(verdicts.len(), 6);
    assert_eq!(verdicts[4]["grader"], "grader/baseline");
    let md = std::fs::read_to_string(report).unwrap();
    assert!(
        md.contains("| `grader/baseline` | 2 | 100% | 0% | 0% |"),
        "{md}"
    );
    assert!(
        md.contains("| `grader/council1` | 2 | 100% | 0% | 100% |"),
        "{md}"
    );

    // A grader of the synthesizer's family is flagged.
    let dir = scratch("family");
    write_questions(&dir, "One?\n");
    let (code, json, stderr) = eval(
        &server,
        &dir,
        &["--against", "base/x", "--grader", "ok/a-grader"],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        json["grader"]["self_preference_risk"], true,
        "{}",
        json["grader"]
    );
}
