//! A scripted OpenAI-compatible server on a loopback socket. Each request is
//! answered by a handler that returns a [`Reply`]: a status, headers and a
//! list of steps (write bytes, sleep, drop the connection). The server
//! records every request with its timings, so tests can assert on
//! concurrency, retries and what was sent.
#![allow(dead_code)]

pub mod cli;
pub mod flood;
pub mod model;
pub mod pty;
pub mod python;
pub mod serve;
pub mod sessions;
pub mod tui;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
    pub received: Instant,
    /// When the reply was fully written, or the connection dropped.
    pub finished: Option<Instant>,
    /// When a write failed because the client had gone away.
    pub client_gone: Option<Instant>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn model(&self) -> &str {
        self.body["model"].as_str().unwrap_or_default()
    }
    pub fn system_prompt(&self) -> &str {
        self.body["messages"][0]["content"]
            .as_str()
            .unwrap_or_default()
    }
    pub fn user_prompt(&self) -> &str {
        self.body["messages"]
            .as_array()
            .and_then(|m| m.last())
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default()
    }
    pub fn is_judge(&self) -> bool {
        self.system_prompt().starts_with("You are the judge")
    }
    pub fn is_synthesis(&self) -> bool {
        self.system_prompt()
            .starts_with("You write the final answer")
    }
    pub fn is_ranking(&self) -> bool {
        self.system_prompt().starts_with("You review answers")
    }
    /// A member's request in a revision round (or a dispute): it carries
    /// its own earlier answer as an assistant turn.
    pub fn is_revision(&self) -> bool {
        self.body["messages"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["role"] == "assistant"))
    }
    /// The content of every message of `role`.
    pub fn contents(&self, role: &str) -> Vec<String> {
        self.body["messages"]
            .as_array()
            .map(|m| {
                m.iter()
                    .filter(|m| m["role"] == role)
                    .filter_map(|m| m["content"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone)]
pub enum Step {
    Write(Vec<u8>),
    Sleep(Duration),
    /// Close the connection at once, mid-body.
    Drop,
    /// Write these bytes again and again, pausing between writes, until
    /// the client goes: a stream without end.
    Forever(Vec<u8>, Duration),
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub steps: Vec<Step>,
}

impl Reply {
    pub fn sse(steps: Vec<Step>) -> Self {
        Self {
            status: 200,
            headers: vec![("Content-Type".into(), "text/event-stream".into())],
            steps,
        }
    }

    /// A complete stream of `parts` as content deltas, with usage and [DONE].
    pub fn text(parts: &[&str]) -> Self {
        let mut steps: Vec<Step> = parts.iter().map(|p| Step::Write(content(p))).collect();
        steps.push(Step::Write(finish("stop")));
        steps.push(Step::Write(usage(10, parts.len() as u64, Some(0.001))));
        steps.push(Step::Write(done()));
        Self::sse(steps)
    }

    pub fn status(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            steps: vec![Step::Write(body.as_bytes().to_vec())],
        }
    }

    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }

    /// Inserts a sleep before the first step.
    pub fn delayed(mut self, by: Duration) -> Self {
        self.steps.insert(0, Step::Sleep(by));
        self
    }
}

pub fn event(data: &Value) -> Vec<u8> {
    format!("data: {data}\n\n").into_bytes()
}
pub fn content(text: &str) -> Vec<u8> {
    event(
        &json!({"id": "gen-1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]}),
    )
}
pub fn reasoning(text: &str) -> Vec<u8> {
    event(&json!({"choices": [{"index": 0, "delta": {"content": "", "reasoning": text}}]}))
}
pub fn finish(reason: &str) -> Vec<u8> {
    event(&json!({"choices": [{"index": 0, "delta": {}, "finish_reason": reason}]}))
}
pub fn usage(prompt: u64, completion: u64, cost: Option<f64>) -> Vec<u8> {
    let mut u = json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion});
    if let Some(c) = cost {
        u["cost"] = json!(c);
    }
    event(&json!({"choices": [], "usage": u}))
}
pub fn done() -> Vec<u8> {
    b"data: [DONE]\n\n".to_vec()
}

type Handler = dyn Fn(&Recorded, usize) -> Reply + Send + Sync;

pub struct Server {
    pub base_url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl Server {
    /// Starts a server; `handler` gets each request and its index (0-based,
    /// in arrival order).
    pub async fn start(
        handler: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().unwrap();
        let requests: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(handler);
        let log = requests.clone();
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let (log, handler) = (log.clone(), handler.clone());
                tokio::spawn(async move {
                    let _ = serve(socket, log, handler).await;
                });
            }
        });
        Self {
            base_url: format!("http://{addr}/v1"),
            requests,
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    /// The chat requests, in order (not model listings).
    pub fn chats(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.ends_with("/chat/completions"))
            .collect()
    }
}

async fn serve(
    mut socket: TcpStream,
    log: Arc<Mutex<Vec<Recorded>>>,
    handler: Arc<Handler>,
) -> std::io::Result<()> {
    // Read the head, then a Content-Length body. One request per connection.
    let mut buf = Vec::new();
    let head_end = loop {
        let mut chunk = [0u8; 4096];
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        })
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let mut chunk = [0u8; 4096];
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = serde_json::from_slice(&buf[head_end..]).unwrap_or(Value::Null);
    let recorded = Recorded {
        method,
        path,
        headers,
        body,
        received: Instant::now(),
        finished: None,
        client_gone: None,
    };
    let index = {
        let mut log = log.lock().unwrap();
        log.push(recorded.clone());
        log.len() - 1
    };
    let reply = handler(&recorded, index);
    let mark = |f: &dyn Fn(&mut Recorded)| f(&mut log.lock().unwrap()[index]);

    let mut head = format!(
        "HTTP/1.1 {} Scripted\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n",
        reply.status
    );
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    // Headers go out with the first step, so a leading sleep delays the first byte.
    let mut pending_head = Some(head.into_bytes());
    for step in reply.steps {
        match step {
            Step::Sleep(d) => tokio::time::sleep(d).await,
            Step::Drop => {
                if let Some(h) = pending_head.take() {
                    socket.write_all(&h).await?;
                }
                mark(&|r| r.finished = Some(Instant::now()));
                return Ok(());
            }
            Step::Forever(bytes, pause) => loop {
                if !write_chunk(&mut socket, pending_head.take(), &bytes).await {
                    mark(&|r| r.client_gone = Some(Instant::now()));
                    return Ok(());
                }
                if !pause.is_zero() {
                    tokio::time::sleep(pause).await;
                }
            },
            Step::Write(bytes) => {
                if !write_chunk(&mut socket, pending_head.take(), &bytes).await {
                    mark(&|r| r.client_gone = Some(Instant::now()));
                    return Ok(());
                }
            }
        }
    }
    let mut out = pending_head.take().unwrap_or_default();
    out.extend_from_slice(b"0\r\n\r\n");
    socket.write_all(&out).await?;
    socket.flush().await?;
    mark(&|r| r.finished = Some(Instant::now()));
    Ok(())
}

/// A judge reply naming labels; the test maps them through the run's LabelMap.
pub fn judge_json() -> String {
    json!({
        "consensus": [{"point": "Water boils at 100 C at sea level", "labels": ["A", "B"],
                        "quotes": [{"label": "A", "quote": "boils at 100"}, {"label": "B", "quote": "100 degrees"}]}],
        "contradictions": [{"topic": "Altitude effect", "stances": [
            {"labels": ["A"], "stance": "lower at altitude", "quotes": [{"label": "A", "quote": "lower up high"}]},
            {"labels": ["B"], "stance": "no effect", "quotes": [{"label": "B", "quote": "same everywhere"}]}]}],
        "blind_spots": [{"point": "Dissolved salts", "labels": ["A", "B"], "quotes": []}],
        "unique_insights": [{"point": "Pressure cookers", "labels": ["B"], "quotes": [{"label": "B", "quote": "pressure cooker"}]}],
        "partial_coverage": []
    })
    .to_string()
}

/// A prompt with its per-prompt fence boundaries taken out
/// (`<attachment-1f2e3d4c5b6a name=…>` reads `<attachment name=…>`), so a
/// test can compare it with a fixed text.
pub fn unfenced(prompt: &str) -> String {
    let mut boundaries = Vec::new();
    for tag in ["<attachment-", "<response-", "<answer-"] {
        for (i, _) in prompt.match_indices(tag) {
            let hex: String = prompt[i + tag.len()..].chars().take(12).collect();
            if hex.len() == 12 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
                boundaries.push(hex);
            }
        }
    }
    let mut out = prompt.to_string();
    for b in boundaries {
        out = out.replace(&format!("-{b}"), "");
    }
    out
}

/// Writes one chunk of a chunked body (after the headers, when they have
/// not gone yet); false once the client is gone.
async fn write_chunk(
    socket: &mut tokio::net::TcpStream,
    head: Option<Vec<u8>>,
    bytes: &[u8],
) -> bool {
    use tokio::io::AsyncWriteExt;
    let mut out = head.unwrap_or_default();
    out.extend_from_slice(format!("{:x}\r\n", bytes.len()).as_bytes());
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
    socket.write_all(&out).await.is_ok() && socket.flush().await.is_ok()
}
