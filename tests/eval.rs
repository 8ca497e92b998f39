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

/// `grader/council` prefers the council's answer wherever it stands;
/// `grader/a` always says A; `404/` baselines fail; a question with
/// `slow` in it takes 30 s while `slow` is set.
fn handler(slow: Arc<AtomicBool>) -> impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static {
    move |r: &Recorded, _| {
        let prompt = r.user_prompt().to_string();
        if r.model().starts_with("404/") {
            return Reply::status(404, r#"{"error":{"message":"No endpoints found"}}"#);
        }
        if r.model() == "grader/council" {
            let winner = if answer_a(&prompt).contains(SYNTHESIS) {
                "A"
            } else {
                "B"
            };
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
    let out = dir.join("results.jsonl");
    let mut args = vec![
        "eval",
        file.to_str().unwrap(),
        "--base-url",
        &server.base_url,
        "--panel",
        "ok/a,ok/b",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ];
    args.extend_from_slice(extra);
    let run = council(
        &args,
        None,
        &[("XDG_CACHE_HOME", dir.join("cache").to_str().unwrap())],
    )
    .await;
    let json = serde_json::from_str(&run.stdout).unwrap_or(Value::Null);
    (run.code, json, run.stderr)
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
    let md = std::fs::read_to_string(report).unwrap();
    assert!(
        md.contains("| `base/x` | 0 | 0 | 2 | 0 | 0% | 0% |"),
        "{md}"
    );
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
