//! `council serve` through a real socket: the binary listens, reqwest asks
//! it as an OpenAI client would, and the scripted server plays the models.

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Recorded, Reply, Server, Step, content, done, finish, judge_json, usage};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Members answer at once, except `slow/` (a word every 100 ms for 10 s)
/// and `wait2/` (after 2 s); `404/` is unknown. The synthesis is fixed.
fn handler(r: &Recorded, _: usize) -> Reply {
    if r.is_judge() {
        return Reply::text(&[&judge_json()]);
    }
    if r.is_synthesis() {
        return Reply::text(&["The sky is blue ", "because of Rayleigh scattering."]);
    }
    let model = r.model().to_string();
    match model.split('/').next().unwrap_or_default() {
        "404" => Reply::status(404, r#"{"error":{"message":"No endpoints found"}}"#),
        "slow" => {
            let mut steps = Vec::new();
            for i in 0..100 {
                steps.push(Step::Write(content(&format!("w{i} "))));
                steps.push(Step::Sleep(Duration::from_millis(100)));
            }
            steps.push(Step::Write(finish("stop")));
            steps.push(Step::Write(done()));
            Reply::sse(steps)
        }
        "wait2" => Reply::text(&["Answer from ", &model]).delayed(Duration::from_secs(2)),
        _ => Reply::sse(vec![
            Step::Write(content("Answer from ")),
            Step::Write(content(&model)),
            Step::Write(finish("stop")),
            Step::Write(usage(100, 20, Some(0.01))),
            Step::Write(done()),
        ]),
    }
}

struct Served {
    child: Child,
    url: String,
    sessions: std::path::PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Starts `council serve` on a free port with `args`, with its own
/// sessions folder; returns once it printed where it listens.
async fn serve(name: &str, args: &[&str], env: &[(&str, &str)]) -> Served {
    let sessions =
        std::env::temp_dir().join(format!("council-serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&sessions);
    let (child, url) = support::serve::start(args, &sessions, &sessions, env).await;
    Served {
        child,
        url,
        sessions,
    }
}

fn chat(model: &str, stream: bool) -> Value {
    json!({
        "model": model,
        "stream": stream,
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What colour is grass?"},
            {"role": "assistant", "content": "Green."},
            {"role": "user", "content": [{"type": "text", "text": "Why is the sky blue?"}]}
        ]
    })
}

async fn post(s: &Served, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/chat/completions", s.url))
        .json(body)
        .send()
        .await
        .unwrap()
}

/// The `data:` payloads of an SSE body, in order.
fn sse_data(body: &str) -> Vec<String> {
    body.split("\n\n")
        .filter_map(|event| {
            let data: Vec<&str> = event
                .lines()
                .filter_map(|l| l.strip_prefix("data:").map(str::trim_start))
                .collect();
            (!data.is_empty()).then(|| data.join("\n"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn answers_streamed_or_not_are_the_synthesis_with_usage_and_the_council() {
    let backend = Server::start(handler).await;
    let s = serve(
        "answers",
        &["--base-url", &backend.base_url, "--panel", "ok/a,ok/b"],
        &[],
    )
    .await;
    let synthesis = "The sky is blue because of Rayleigh scattering.";

    let response = post(&s, &chat("council", false)).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "council");
    assert_eq!(body["choices"][0]["message"]["role"], "assistant");
    assert_eq!(body["choices"][0]["message"]["content"], synthesis);
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    // Two members at 100 + 20 tokens, $0.01; judge and synthesis 10 + 1 or 2, $0.001.
    assert_eq!(body["usage"]["prompt_tokens"], 220);
    assert_eq!(body["usage"]["completion_tokens"], 43);
    assert_eq!(body["usage"]["total_tokens"], 263);
    assert!((body["usage"]["cost"].as_f64().unwrap() - 0.022).abs() < 1e-9);
    let council = &body["council"];
    assert_eq!(council["outcome"], "synthesized");
    assert_eq!(council["members"][0]["text"], "Answer from ok/a");
    assert_eq!(council["members"][1]["status"], "done");
    assert!(council["judge"]["grounding"]["quotes"].is_number());
    // Earlier turns are history; the system message leads the question.
    let member = backend
        .chats()
        .into_iter()
        .find(|r| r.model() == "ok/a")
        .unwrap();
    let users = member.contents("user");
    assert!(
        users.iter().any(|u| u.contains("What colour is grass?")),
        "{users:?}"
    );
    assert!(
        users
            .last()
            .unwrap()
            .contains("Be brief.\n\nWhy is the sky blue?"),
        "{users:?}"
    );

    let response = post(&s, &chat("council", true)).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let body = response.text().await.unwrap();
    let data = sse_data(&body);
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> = data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).expect("every chunk is JSON"))
        .collect();
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk")
    );
    let text = |field: &str| -> String {
        chunks
            .iter()
            .filter_map(|c| c["choices"][0]["delta"][field].as_str())
            .collect()
    };
    assert_eq!(text("content"), synthesis);
    let reasoning = text("reasoning_content");
    assert!(reasoning.contains("a started"), "{reasoning}");
    assert!(
        reasoning.contains("judge: 1 consensus, 1 contradiction(s)"),
        "{reasoning}"
    );
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert_eq!(last["usage"]["total_tokens"], 263);
    assert_eq!(last["council"]["outcome"], "synthesized");

    // Both were saved as sessions, tagged as served.
    let id = last["council"]["session_id"].as_str().unwrap();
    let header = std::fs::read_to_string(s.sessions.join(format!("{id}.jsonl"))).unwrap();
    let header: Value = serde_json::from_str(header.lines().next().unwrap()).unwrap();
    assert_eq!(header["origin"], "served");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_council"))
        .args(["sessions", "--json"])
        .env("COUNCIL_SESSIONS_DIR", &s.sessions)
        .env("XDG_CONFIG_HOME", s.sessions.join("config"))
        .output()
        .unwrap();
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|s| s["origin"] == "served")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_models_are_the_council_and_every_preset() {
    let backend = Server::start(handler).await;
    let s = serve(
        "models",
        &["--base-url", &backend.base_url, "--panel", "ok/a"],
        &[],
    )
    .await;
    let list: Value = reqwest::get(format!("{}/models", s.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["object"], "list");
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids[0], "council");
    for preset in [
        "council/quality",
        "council/budget",
        "council/local",
        "council/debate",
    ] {
        assert!(ids.contains(&preset), "{ids:?}");
    }
    assert!(
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["object"] == "model")
    );

    // A preset by name runs that preset's panel on the same endpoint.
    let response = post(&s, &chat("council/budget", false)).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["council"]["preset"], "budget");
    assert_eq!(body["council"]["members"].as_array().unwrap().len(), 3);
}

async fn error_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("errors are JSON");
    for field in ["message", "type", "code"] {
        assert!(body["error"][field].is_string(), "{body}");
    }
    (status, body)
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_come_in_openais_shape_with_their_status() {
    let backend = Server::start(handler).await;
    let s = serve(
        "errors",
        &[
            "--base-url",
            &backend.base_url,
            "--panel",
            "404/a,404/b",
            "--api-key-env",
            "SERVE_TEST_KEY",
        ],
        &[("SERVE_TEST_KEY", "s3cret")],
    )
    .await;
    let client = reqwest::Client::new();
    let url = format!("{}/chat/completions", s.url);
    let send = |body: reqwest::Body, key: &'static str| {
        client
            .post(&url)
            .header("content-type", "application/json")
            .bearer_auth(key)
            .body(body)
            .send()
    };

    let (status, body) = error_of(
        send(chat("council", false).to_string().into(), "wrong")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("invalid_api_key"))
    );
    let (status, _) = error_of(
        client
            .get(format!("{}/models", s.url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);

    let (status, body) = error_of(send("{not json".into(), "s3cret").await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_json"))
    );

    let no_user = json!({"model": "council", "messages": [{"role": "system", "content": "hi"}]});
    let (status, body) = error_of(send(no_user.to_string().into(), "s3cret").await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("no_user_message"))
    );

    let (status, body) = error_of(
        send(chat("gpt-4o", false).to_string().into(), "s3cret")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("model_not_found"))
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("council/quality")
    );

    let huge =
        json!({"model": "council", "messages": [{"role": "user", "content": "x".repeat(5 << 20)}]});
    let (status, body) = error_of(send(huge.to_string().into(), "s3cret").await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (413, Some("request_too_large"))
    );

    // Every member fails: no synthesis, and why.
    let (status, body) = error_of(
        send(chat("council", false).to_string().into(), "s3cret")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (502, Some("no_synthesis"))
    );
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("all_members_failed") && message.contains("HTTP 404"),
        "{message}"
    );

    // Streaming, the failure is an error event, as OpenAI sends one, before
    // [DONE]; and clients are told not to retry a council that ran.
    let response = send(chat("council", true).to_string().into(), "s3cret")
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let data = sse_data(&response.text().await.unwrap());
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    let last: Value = serde_json::from_str(&data[data.len() - 2]).unwrap();
    assert!(last.get("choices").is_none(), "{last}");
    assert_eq!(last["error"]["code"], "no_synthesis");
    let response = send(chat("council", false).to_string().into(), "s3cret")
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    assert_eq!(
        response
            .headers()
            .get("x-should-retry")
            .map(|v| v.to_str().unwrap()),
        Some("false")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_disconnects_cancels_its_council() {
    let backend = Server::start(handler).await;
    let s = serve(
        "disconnect",
        &["--base-url", &backend.base_url, "--panel", "slow/a,slow/b"],
        &[],
    )
    .await;
    for stream in [true, false] {
        let before = backend.chats().len();
        let response = tokio::time::timeout(
            Duration::from_millis(800),
            post(&s, &chat("council", stream)),
        )
        .await;
        if let Ok(response) = response {
            // Streaming: read a little, then hang up.
            let mut response = response;
            let _ = response.chunk().await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            drop(response);
        }
        // The non-streaming request timed out on our side: the connection is closed.
        let gone_at = Instant::now();
        let members: Vec<Recorded> = loop {
            let members: Vec<Recorded> = backend.chats()[before..].to_vec();
            if members.len() == 2 && members.iter().all(|r| r.client_gone.is_some()) {
                break members;
            }
            assert!(
                gone_at.elapsed() < Duration::from_secs(5),
                "stream={stream}: the members' connections stay open: {:?}",
                members.iter().map(|r| r.client_gone).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        // Well before their 10 s of words.
        for r in members {
            assert!(r.client_gone.unwrap() - r.received < Duration::from_secs(5));
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn councils_past_the_limit_wait_in_the_queue_then_get_429() {
    let backend = Server::start(handler).await;
    let s = serve(
        "queue",
        &[
            "--base-url",
            &backend.base_url,
            "--panel",
            "wait2/a",
            "--max-concurrent",
            "1",
            "--queue",
            "1",
        ],
        &[],
    )
    .await;
    let first = tokio::spawn(post_owned(s.url.clone(), chat("council", false)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = tokio::spawn(post_owned(s.url.clone(), chat("council", false)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let third = post(&s, &chat("council", false)).await;
    assert_eq!(
        third
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap()),
        Some("1")
    );
    let (status, body) = error_of(third).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (429, Some("too_many_councils"))
    );
    assert_eq!(first.await.unwrap(), 200);
    assert_eq!(second.await.unwrap(), 200);
    // The queued council started its member only after the first had finished.
    let members: Vec<Recorded> = backend
        .chats()
        .into_iter()
        .filter(|r| !r.is_judge() && !r.is_synthesis())
        .collect();
    assert_eq!(members.len(), 2);
    assert!(members[1].received >= members[0].finished.unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_a_running_council_finish_then_stops() {
    let backend = Server::start(handler).await;
    let mut s = serve(
        "shutdown",
        &["--base-url", &backend.base_url, "--panel", "wait2/a"],
        &[],
    )
    .await;
    let running = tokio::spawn({
        let body = chat("council", false);
        let url = s.url.clone();
        async move {
            let r = reqwest::Client::new()
                .post(format!("{url}/chat/completions"))
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pid = s.child.id().unwrap() as i32;
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let (status, body) = running.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["council"]["outcome"], "synthesized");
    let exit = tokio::time::timeout(Duration::from_secs(10), s.child.wait())
        .await
        .expect("it stops once the council is done")
        .unwrap();
    assert!(exit.success());
    assert!(
        reqwest::get(format!("{}/models", s.url)).await.is_err(),
        "no longer listening"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn past_the_grace_period_running_councils_are_cancelled() {
    let backend = Server::start(handler).await;
    let mut s = serve(
        "grace",
        &[
            "--base-url",
            &backend.base_url,
            "--panel",
            "slow/a",
            "--grace",
            "1",
        ],
        &[],
    )
    .await;
    let running = tokio::spawn({
        let body = chat("council", false);
        let url = s.url.clone();
        async move {
            let r = reqwest::Client::new()
                .post(format!("{url}/chat/completions"))
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stopped = Instant::now();
    let pid = s.child.id().unwrap() as i32;
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let (status, body) = running.await.unwrap();
    assert_eq!(status, 502, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cancelled"),
        "{body}"
    );
    let exit = tokio::time::timeout(Duration::from_secs(10), s.child.wait())
        .await
        .expect("it stops after the grace period")
        .unwrap();
    assert!(exit.success());
    // One second of grace, not the member's ten.
    assert!(
        stopped.elapsed() < Duration::from_secs(5),
        "{:?}",
        stopped.elapsed()
    );
}

/// A full server refuses before reading a body (a client that never sends
/// it gets its 429 at once), and a conversation of too many messages is
/// refused by name.
#[tokio::test(flavor = "multi_thread")]
async fn a_full_server_refuses_before_reading_and_messages_are_capped() {
    let backend = Server::start(handler).await;
    let s = serve(
        "admit",
        &[
            "--base-url",
            &backend.base_url,
            "--panel",
            "wait2/a",
            "--max-concurrent",
            "1",
            "--queue",
            "0",
        ],
        &[],
    )
    .await;
    let first = tokio::spawn(post_owned(s.url.clone(), chat("council", false)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Headers promising a megabyte, and ten bytes of it.
    let addr = s.url.trim_start_matches("http://").trim_end_matches("/v1");
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    socket
        .write_all(
            format!(
                "POST /v1/chat/completions HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{{\"model\":"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut reply = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(2), socket.read(&mut reply))
        .await
        .expect("answered without waiting for the body")
        .unwrap();
    let head = String::from_utf8_lossy(&reply[..n]);
    assert!(head.starts_with("HTTP/1.1 429"), "{head}");
    assert_eq!(first.await.unwrap(), 200);

    let mut messages: Vec<Value> = (0..1001)
        .map(|i| json!({"role": if i % 2 == 0 { "user" } else { "assistant" }, "content": "hi"}))
        .collect();
    messages.push(json!({"role": "user", "content": "and?"}));
    let (status, body) =
        error_of(post(&s, &json!({"model": "council", "messages": messages})).await).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("too_many_messages")),
        "{body}"
    );
}

/// Listening beyond loopback with no key for clients is allowed, with a
/// warning on stderr; an empty key variable is named as empty.
#[tokio::test(flavor = "multi_thread")]
async fn an_open_listener_without_a_key_is_warned_about() {
    let backend = Server::start(handler).await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_council"))
        .args([
            "serve",
            "--listen",
            "0.0.0.0:0",
            "--base-url",
            &backend.base_url,
        ])
        .args(["--panel", "x/a"])
        .env_remove("OPENROUTER_API_KEY")
        .env(
            "XDG_CONFIG_HOME",
            std::env::temp_dir().join("council-serve-open"),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("a warning")
        .unwrap()
        .unwrap_or_default();
    assert!(
        line.contains("without --api-key-env") && line.contains("warning"),
        "{line}"
    );
    let _ = child.start_kill();

    let out = Command::new(env!("CARGO_BIN_EXE_council"))
        .args([
            "serve",
            "--api-key-env",
            "COUNCIL_TEST_EMPTY_KEY",
            "--panel",
            "x/a",
        ])
        .args(["--base-url", &backend.base_url])
        .env("COUNCIL_TEST_EMPTY_KEY", "")
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("COUNCIL_TEST_EMPTY_KEY: the variable is empty"),
        "{stderr}"
    );
}

/// A raw request on a new connection; the status line of the reply.
async fn raw(addr: &str, request: String) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut reply = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), socket.read(&mut reply))
        .await
        .expect("a reply")
        .unwrap();
    String::from_utf8_lossy(&reply[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// What a hostile page or peer tries: a cross-site `text/plain` post, a
/// rebound DNS name, half-sent headers, and connections left open across a
/// shutdown.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_requests_are_refused_and_slow_ones_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let backend = Server::start(handler).await;
    let mut s = serve(
        "hostile",
        &[
            "--base-url",
            &backend.base_url,
            "--panel",
            "ok/a",
            "--read-timeout",
            "2",
            "--grace",
            "1",
        ],
        &[],
    )
    .await;
    let addr = s
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/v1")
        .to_string();
    let body = chat("council", false).to_string();
    let post = |content_type: &str, host: &str| {
        format!(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\n{content_type}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    // A form a page can post cross-site without asking first.
    assert!(
        raw(&addr, post("Content-Type: text/plain\r\n", &addr))
            .await
            .contains("415"),
    );
    assert!(raw(&addr, post("", &addr)).await.contains("415"));
    // A name that resolves here only by rebinding.
    let status = raw(
        &addr,
        post("Content-Type: application/json\r\n", "evil.example:80"),
    )
    .await;
    assert!(status.contains("421"), "{status}");
    let status = raw(
        &addr,
        post("Content-Type: application/json\r\n", "localhost"),
    )
    .await;
    assert!(status.contains("200"), "{status}");
    assert_eq!(
        backend.chats().len(),
        3,
        "only the allowed request ran a council"
    );

    // Half the headers, then nothing: closed after the read timeout.
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /v1/models HTTP/1.1\r\nHost: local")
        .await
        .unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(10), slow.read(&mut buf))
        .await
        .expect("closed")
        .unwrap_or(0);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1500) && waited < Duration::from_secs(4),
        "closed after {waited:?} ({n} bytes)"
    );

    // A keep-alive connection left idle is closed after the read timeout.
    let mut kept = tokio::net::TcpStream::connect(&addr).await.unwrap();
    kept.write_all(format!("GET /v1/models HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let n = kept.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).contains("200"));
    // The rest of the reply, then nothing until the server closes it.
    let idle_since = Instant::now();
    tokio::time::timeout(Duration::from_secs(10), async {
        while kept.read(&mut buf).await.unwrap_or(0) > 0 {}
    })
    .await
    .expect("closed");
    let idled = idle_since.elapsed();
    assert!(
        idled >= Duration::from_millis(1500) && idled < Duration::from_secs(4),
        "idle for {idled:?}"
    );

    // An idle keep-alive connection and a half-sent request do not hold
    // the shutdown past the grace period.
    let mut idle = tokio::net::TcpStream::connect(&addr).await.unwrap();
    idle.write_all(format!("GET /v1/models HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let n = idle.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).contains("200"));
    let mut half = tokio::net::TcpStream::connect(&addr).await.unwrap();
    half.write_all(b"POST /v1/chat/completions HTTP/1.1\r\n")
        .await
        .unwrap();
    let stopped = Instant::now();
    let pid = s.child.id().unwrap() as i32;
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let exit = tokio::time::timeout(Duration::from_secs(10), s.child.wait())
        .await
        .expect("it stops")
        .unwrap();
    assert!(exit.success());
    assert!(
        stopped.elapsed() < Duration::from_secs(2),
        "grace 1 s: stopped after {:?}",
        stopped.elapsed()
    );
    drop((idle, half));
}

/// CORS is off unless asked for: a preflight from a page is refused; with
/// `--cors`, that origin (only) is allowed.
#[tokio::test(flavor = "multi_thread")]
async fn cors_is_off_unless_an_origin_is_given() {
    let backend = Server::start(handler).await;
    let preflight = |url: String, origin: &'static str| async move {
        reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, format!("{url}/chat/completions"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .send()
            .await
            .unwrap()
    };
    let closed = serve(
        "cors-off",
        &["--base-url", &backend.base_url, "--panel", "ok/a"],
        &[],
    )
    .await;
    let r = preflight(closed.url.clone(), "https://page.example").await;
    assert!(r.headers().get("access-control-allow-origin").is_none());
    assert_ne!(r.status(), 204);
    let open = serve(
        "cors-on",
        &[
            "--base-url",
            &backend.base_url,
            "--panel",
            "ok/a",
            "--cors",
            "https://app.example",
        ],
        &[],
    )
    .await;
    let r = preflight(open.url.clone(), "https://app.example").await;
    assert_eq!(r.status(), 204);
    assert_eq!(
        r.headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap()),
        Some("https://app.example")
    );
    let r = preflight(open.url.clone(), "https://other.example").await;
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

fn heavy_handler(r: &Recorded, i: usize) -> Reply {
    let long =
        |tag: &str| -> String { (0..120_000).map(|i| format!("{tag}{} ", i % 997)).collect() };
    if r.is_judge() {
        // Many long quotes of words the answers hold, each checked in full.
        let label = r
            .user_prompt()
            .split("# Response ")
            .nth(1)
            .and_then(|s| s.chars().next())
            .unwrap_or('A')
            .to_string();
        let quote: String = (0..200).map(|i| format!("w{} ", i % 997)).collect();
        let quotes: Vec<Value> = (0..200)
            .map(|_| json!({"label": &label, "quote": quote.trim()}))
            .collect();
        let reply = json!({"consensus": [{"point": "p", "labels": [&label], "quotes": quotes}],
            "contradictions": [], "blind_spots": [], "unique_insights": [], "partial_coverage": []});
        return Reply::text(&[&reply.to_string()]);
    }
    if r.is_synthesis() {
        return handler(r, i);
    }
    Reply::text(&[&long("w")])
}

/// Checking a judge's quotes against long answers is heavy work; it runs
/// off the threads that answer requests, so the model list stays quick.
#[tokio::test(flavor = "multi_thread")]
async fn the_model_list_answers_while_a_heavy_council_is_judged() {
    let backend = Server::start(heavy_handler).await;
    let s = serve(
        "heavy",
        &["--base-url", &backend.base_url, "--panel", "ok/a,ok/b,ok/c"],
        &[],
    )
    .await;
    let council = tokio::spawn(post_owned(s.url.clone(), chat("council", false)));
    let client = reqwest::Client::new();
    let mut slowest = Duration::ZERO;
    while !council.is_finished() {
        let asked = Instant::now();
        let r = client
            .get(format!("{}/models", s.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        slowest = slowest.max(asked.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(council.await.unwrap(), 200);
    assert!(backend.chats().iter().any(|r| r.is_judge()));
    assert!(
        slowest < Duration::from_secs(1),
        "slowest /v1/models: {slowest:?}"
    );
}

async fn post_owned(url: String, body: Value) -> u16 {
    reqwest::Client::new()
        .post(format!("{url}/chat/completions"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A preset saved while the server runs is served within seconds, and
/// `GET /v1/models/{id}` answers for it, its slash sent as is or encoded.
#[tokio::test(flavor = "multi_thread")]
async fn a_preset_saved_while_serving_is_served() {
    let backend = Server::start(handler).await;
    let s = serve(
        "reload",
        &["--base-url", &backend.base_url, "--panel", "ok/a"],
        &[],
    )
    .await;
    let presets = s.sessions.join("config/council/presets");
    std::fs::create_dir_all(&presets).unwrap();
    std::fs::write(
        presets.join("fresh.toml"),
        "[[members]]\nmodel = \"ok/a\"\n[judge]\nmodel = \"ok/a\"\n[synthesizer]\nmodel = \"ok/a\"\n",
    )
    .unwrap();
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let list: Value = client
            .get(format!("{}/models", s.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if list["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == "council/fresh")
        {
            break;
        }
        assert!(Instant::now() < deadline, "not served: {list}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for path in ["council/fresh", "council%2Ffresh"] {
        let r = client
            .get(format!("{}/models/{path}", s.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let model: Value = r.json().await.unwrap();
        assert_eq!(model["id"], "council/fresh");
    }
    let r = client
        .get(format!("{}/models/council%2Fnone", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
