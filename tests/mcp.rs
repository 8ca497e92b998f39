//! `council mcp` through the official Python `mcp` client (installed into a
//! virtual environment the test makes) and as raw JSON-RPC lines, while
//! the scripted server plays the models.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::cli::{config_on, council};
use support::{Recorded, Reply, Server, Step, content, judge_json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

fn handler(r: &Recorded, _: usize) -> Reply {
    if r.is_judge() {
        return Reply::text(&[&judge_json()]);
    }
    if r.is_synthesis() {
        return Reply::text(&["The sky is blue because of Rayleigh scattering."]);
    }
    match r.model() {
        m if m.starts_with("fail/") => Reply::status(500, r#"{"error":{"message":"boom"}}"#),
        // A member that never finishes: only a cancellation ends it.
        m if m.starts_with("slow/") => Reply::sse(vec![
            Step::Write(content("Thinking")),
            Step::Forever(content("."), Duration::from_millis(50)),
        ]),
        // Answers once the slow member is surely streaming.
        m if m.starts_with("late/") => {
            Reply::text(&["Answer from ", m]).delayed(Duration::from_millis(500))
        }
        m => Reply::text(&["Answer from ", m]),
    }
}

fn python() -> PathBuf {
    support::python::venv("mcp-venv", "mcp>=1.20,<2")
}

/// A home whose default council is on the scripted server, with two more
/// presets: `failing` (every member fails) and `slow` (a member that never
/// ends).
fn home(name: &str, server: &Server) -> PathBuf {
    let home = std::env::temp_dir().join(format!("council-mcp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let config = home.join("config");
    config_on(&config, &server.base_url);
    for (preset, first, second) in [
        ("failing", "fail/a", "fail/b"),
        ("slow", "slow/a", "late/b"),
    ] {
        std::fs::write(
            config.join(format!("council/presets/{preset}.toml")),
            format!(
                "provider = \"scripted\"\n\n[[members]]\nmodel = \"{first}\"\n\n[[members]]\nmodel = \"{second}\"\n\n\
                 [judge]\nmodel = \"x/judge\"\n\n[synthesizer]\nmodel = \"x/synth\"\n\n\
                 [providers.scripted]\nbase_url = \"{}\"\n",
                server.base_url
            ),
        )
        .unwrap();
    }
    home
}

fn env(home: &Path) -> Vec<(String, String)> {
    vec![
        (
            "XDG_CONFIG_HOME".into(),
            home.join("config").display().to_string(),
        ),
        (
            "XDG_STATE_HOME".into(),
            home.join("state").display().to_string(),
        ),
        (
            "XDG_CACHE_HOME".into(),
            home.join("cache").display().to_string(),
        ),
        (
            "COUNCIL_SESSIONS_DIR".into(),
            home.join("sessions").display().to_string(),
        ),
    ]
}

/// Runs the Python client's `scenario` against `council mcp`; what it saw.
async fn client(home: &Path, scenario: &str, arguments: Value) -> Value {
    let python = tokio::task::spawn_blocking(python).await.unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/mcp_client.py");
    // In a file: a long question is over the size of one argument.
    std::fs::create_dir_all(home).unwrap();
    let file = home.join(format!("{scenario}-arguments.json"));
    std::fs::write(&file, arguments.to_string()).unwrap();
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new(python)
            .arg(script)
            .arg(env!("CARGO_BIN_EXE_council"))
            .arg(scenario)
            .arg(format!("@{}", file.display()))
            .env_remove("OPENROUTER_API_KEY")
            .envs(env(home))
            .output(),
    )
    .await
    .expect("the client finishes")
    .unwrap();
    assert!(
        out.status.success(),
        "{scenario}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// What each of the judge's sections says: points and topics.
fn findings(analysis: &Value) -> Value {
    let said = |section: &str, key: &str| {
        analysis[section]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f[key].clone())
            .collect::<Vec<_>>()
    };
    json!([
        said("consensus", "point"),
        said("contradictions", "topic"),
        said("blind_spots", "point"),
        said("unique_insights", "point"),
        said("partial_coverage", "point"),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_asks_the_council_and_reads_its_map() {
    let server = Server::start(handler).await;
    let home = home("ask", &server);
    let seen = client(&home, "ask", json!({"question": "Why is the sky blue?"})).await;
    assert_eq!(seen["server"], "council");

    // Three tools, each with its input and output schema.
    let tools = &seen["tools"];
    for name in ["ask_council", "list_presets", "show_session"] {
        assert_eq!(tools[name]["input"]["type"], "object", "{name}");
        assert_eq!(tools[name]["output"]["type"], "object", "{name}");
    }
    assert_eq!(
        tools["ask_council"]["input"]["required"],
        json!(["question"])
    );
    for field in [
        "preset", "panel", "judge", "synth", "rounds", "rank", "max_cost", "session",
    ] {
        assert!(
            tools["ask_council"]["input"]["properties"][field].is_object(),
            "{field}"
        );
    }

    // The answer, and the run as `ask --json` prints it.
    let ask = &seen["ask"];
    assert_eq!(ask["is_error"], false);
    assert_eq!(
        ask["text"],
        "The sky is blue because of Rayleigh scattering."
    );
    let report = &ask["structured"];
    assert_eq!(report["outcome"], "synthesized");
    assert!(report["session_id"].is_string());
    let progress = ask["progress"].as_array().unwrap();
    assert!(!progress.is_empty(), "progress notifications");
    assert!(
        progress
            .iter()
            .any(|p| p["message"].as_str().unwrap_or("").contains("judge")),
        "{progress:?}"
    );
    let env_pairs = env(&home);
    let env_ref: Vec<(&str, &str)> = env_pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let cli = council(&["ask", "--json", "Why is the sky blue?"], None, &env_ref).await;
    assert_eq!(cli.code, 0, "{}", cli.stderr);
    let cli: Value = serde_json::from_str(&cli.stdout).unwrap();
    let same = |v: &Value| {
        json!({
            "question": v["question"],
            "members": v["members"].as_array().unwrap().iter()
                .map(|m| json!([m["name"], m["model"], m["status"], m["text"]])).collect::<Vec<_>>(),
            // The judge's labels are shuffled per run: its findings are
            // compared by what they say, not by whom they name.
            "analysis": findings(&v["judge"]["analysis"]),
            "synthesis": v["synthesis"]["text"],
            "outcome": v["outcome"],
        })
    };
    assert_eq!(same(report), same(&cli));

    // The run was saved, as the MCP front's.
    let sessions = council(&["sessions", "--origin", "mcp", "--json"], None, &env_ref).await;
    let listed: Value = serde_json::from_str(&sessions.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["id"], report["session_id"]);

    // list_presets names the user's presets with their seats.
    let presets = client(&home, "call", json!({"tool": "list_presets"})).await;
    let listed = presets["call"]["structured"]["presets"]
        .as_array()
        .unwrap()
        .clone();
    let scripted = listed.iter().find(|p| p["name"] == "scripted").unwrap();
    assert_eq!(scripted["panel"], json!(["x/alpha", "y/beta"]));
    assert_eq!(scripted["judge"], "x/judge");
    assert!(listed.iter().any(|p| p["name"] == "quality"));

    // show_session last: the latest run, as ask_council returned one.
    let shown = client(&home, "call", json!({"tool": "show_session", "id": "last"})).await;
    assert_eq!(shown["call"]["is_error"], false);
    assert_eq!(
        shown["call"]["structured"]["synthesis"]["text"],
        "The sky is blue because of Rayleigh scattering."
    );
    assert!(shown["call"]["structured"]["session_id"].is_string());
    std::fs::remove_dir_all(&home).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_council_is_a_tool_error_with_its_outcome() {
    let server = Server::start(handler).await;
    let home = home("fail", &server);
    let seen = client(
        &home,
        "call",
        json!({"tool": "ask_council", "question": "Q?", "preset": "failing"}),
    )
    .await;
    let call = &seen["call"];
    assert_eq!(call["is_error"], true, "{call}");
    assert!(
        call["text"]
            .as_str()
            .unwrap()
            .starts_with("all_members_failed: "),
        "{call}"
    );
    assert_eq!(call["structured"]["outcome"], "all_members_failed");

    // Bad input is a tool error too, never a crash of the server.
    let seen = client(
        &home,
        "call",
        json!({"tool": "ask_council", "question": "Q?", "preset": "no-such-preset"}),
    )
    .await;
    assert_eq!(seen["call"]["is_error"], true);
    assert!(
        seen["call"]["text"]
            .as_str()
            .unwrap()
            .contains("no-such-preset"),
        "{seen}"
    );
    let seen = client(
        &home,
        "call",
        json!({"tool": "ask_council", "question": "Q?", "rounds": 99}),
    )
    .await;
    assert_eq!(seen["call"]["is_error"], true, "{seen}");
    // An empty question, and one over the cap, are refused before any request.
    let before = server.chats().len();
    let seen = client(
        &home,
        "call",
        json!({"tool": "ask_council", "question": "  "}),
    )
    .await;
    assert!(
        seen["call"]["text"]
            .as_str()
            .unwrap()
            .contains("the question is empty"),
        "{seen}"
    );
    let huge = "why ".repeat(1_100_000);
    let seen = client(
        &home,
        "call",
        json!({"tool": "ask_council", "question": huge}),
    )
    .await;
    assert!(
        seen["call"]["text"]
            .as_str()
            .unwrap()
            .contains("over the 4.2 MB a question may be"),
        "{}",
        seen["call"]["text"]
    );
    assert_eq!(server.chats().len(), before, "nothing was asked");
    std::fs::remove_dir_all(&home).unwrap();
}

/// The client cancels once one member is done while the other streams:
/// the member still streaming loses its connection, and the server goes on
/// answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_call_stops_the_council() {
    let server = Server::start(handler).await;
    let home = home("cancel", &server);
    // The late member's line: "b done …" once it has answered.
    let seen = client(
        &home,
        "cancel",
        json!({"question": "Q?", "preset": "slow", "cancel_when": "b "}),
    )
    .await;
    assert_eq!(seen["cancel"]["tools_after"], 3, "{seen}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let slow: Vec<Recorded> = server
            .chats()
            .into_iter()
            .filter(|r| r.model() == "slow/a")
            .collect();
        if slow.len() == 1 && slow[0].client_gone.is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the slow member's connection stays open"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !server.chats().iter().any(|r| r.is_synthesis()),
        "no synthesis after a cancel"
    );
    std::fs::remove_dir_all(&home).unwrap();
}

/// Raw lines, with the log at debug: stdout holds JSON-RPC messages and
/// nothing else; a progress token gets progress notifications.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdout_carries_only_json_rpc() {
    let server = Server::start(handler).await;
    let home = home("raw", &server);
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_council"))
        .args(["--log-level", "debug", "mcp"])
        .env_remove("OPENROUTER_API_KEY")
        .envs(env(&home))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let messages = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "ask_council", "arguments": {"question": "Why?"}, "_meta": {"progressToken": "p1"}}}),
    ];
    for m in &messages {
        stdin.write_all(format!("{m}\n").as_bytes()).await.unwrap();
    }
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut progress = 0;
    let result = loop {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("an answer")
            .unwrap()
            .expect("stdout open");
        let message: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not JSON-RPC on stdout ({e}): {line}"));
        assert_eq!(message["jsonrpc"], "2.0", "{line}");
        if message["method"] == "notifications/progress" {
            assert_eq!(message["params"]["progressToken"], "p1");
            progress += 1;
        }
        if message["id"] == 2 {
            break message;
        }
    };
    assert!(progress >= 3, "{progress} progress notifications");
    assert_eq!(result["result"]["isError"], false, "{result}");
    drop(stdin);
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "stdin closed: the server ends");
    std::fs::remove_dir_all(&home).unwrap();
}

/// The README's setup snippets start this binary's `council mcp`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_setup_runs_council_mcp() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let at = readme.find("## `council mcp`").expect("an mcp section");
    let section = &readme[at..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    let claude = section
        .lines()
        .find(|l| l.starts_with("claude mcp add"))
        .expect("the Claude Code line");
    let (_, command) = claude.split_once(" -- ").expect("a command after --");
    let start = section.find("```json\n").expect("a JSON config") + "```json\n".len();
    let end = start + section[start..].find("```").unwrap();
    let config: Value = serde_json::from_str(&section[start..end]).expect("the JSON parses");
    let server = &config["mcpServers"]["council"];
    let json_command = format!(
        "{} {}",
        server["command"].as_str().unwrap(),
        server["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect::<Vec<_>>()
            .join(" ")
    );
    assert_eq!(command, json_command);
    let words: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(words[0], "council");
    // The same command, on this build, answers an initialize.
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_council"))
        .args(&words[1..])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "readme", "version": "1"}}});
    stdin
        .write_all(format!("{init}\n").as_bytes())
        .await
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let reply: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(reply["result"]["serverInfo"]["name"], "council");
}

/// `max_cost` below the estimate: refused as `budget_exceeded` before any
/// request, as `ask` refuses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_over_its_budget_is_refused_before_any_request() {
    let server = Server::start(|r: &Recorded, i| {
        if r.path.ends_with("/models") {
            // Every model at $1 per thousand tokens.
            let model = |id: &str| json!({"id": id, "pricing": {"prompt": "0.001", "completion": "0.001"}});
            let body = json!({"data": [model("x/alpha"), model("y/beta"), model("x/judge"), model("x/synth")]});
            return Reply::status(200, &body.to_string());
        }
        handler(r, i)
    })
    .await;
    let home = home("budget", &server);
    let seen = client(
        &home,
        "call",
        json!({"tool": "ask_council", "question": "Why?", "max_cost": 0.0001}),
    )
    .await;
    let call = &seen["call"];
    assert_eq!(call["is_error"], true, "{call}");
    assert!(
        call["text"]
            .as_str()
            .unwrap()
            .starts_with("budget_exceeded: "),
        "{call}"
    );
    assert_eq!(call["structured"]["outcome"], "budget_exceeded");
    assert!(server.chats().is_empty(), "nothing was asked");
    std::fs::remove_dir_all(&home).unwrap();
}
