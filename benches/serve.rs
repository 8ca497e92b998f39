//! `council serve` against a backend that answers at once (a 3-member
//! council, 50 words per answer): what a served request costs over
//! `council ask` on the same council, and how many councils a second the
//! server sustains. Prints its figures; run with `cargo bench --bench serve`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::json;
use support::{Recorded, Reply, Server, judge_json};
use tokio::io::{AsyncBufReadExt, BufReader};

const ROUNDS: u32 = 30;

fn handler(r: &Recorded, _: usize) -> Reply {
    if r.is_judge() {
        return Reply::text(&[&judge_json()]);
    }
    let words: Vec<String> = (0..50).map(|i| format!("word{i} ")).collect();
    let parts: Vec<&str> = words.iter().map(String::as_str).collect();
    Reply::text(&parts)
}

fn council_cmd(scratch: &std::path::Path) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_council"));
    cmd.env_remove("OPENROUTER_API_KEY")
        .env("XDG_CONFIG_HOME", scratch.join("config"))
        .env("XDG_CACHE_HOME", scratch.join("cache"))
        .env("COUNCIL_SESSIONS_DIR", scratch.join("sessions"))
        .stdin(Stdio::null());
    cmd
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let backend = Server::start(handler).await;
    let scratch = std::env::temp_dir().join(format!("council-bench-serve-{}", std::process::id()));
    let panel = ["--base-url", &backend.base_url, "--panel", "x/a,x/b,x/c"];

    // `council ask`: a process per council, as a script would run it.
    let mut ask = Vec::new();
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let out = council_cmd(&scratch)
            .arg("ask")
            .args(panel)
            .args(["--json", "Why?"])
            .output()
            .await
            .unwrap();
        assert!(out.status.success());
        ask.push(started.elapsed());
    }

    let mut server = council_cmd(&scratch)
        .arg("serve")
        .args(panel)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--max-concurrent",
            "16",
            "--queue",
            "64",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let line = BufReader::new(server.stdout.take().unwrap())
        .lines()
        .next_line()
        .await
        .unwrap()
        .unwrap();
    let url = format!("{}/chat/completions", line.rsplit(' ').next().unwrap());
    let client = reqwest::Client::new();
    let body = json!({"model": "council", "messages": [{"role": "user", "content": "Why?"}]});
    let one = |client: reqwest::Client, url: String, body: serde_json::Value| async move {
        let r = client.post(&url).json(&body).send().await.unwrap();
        assert!(r.status().is_success());
        r.bytes().await.unwrap();
    };

    // Served, one at a time on a kept-alive connection.
    let mut served = Vec::new();
    for _ in 0..ROUNDS {
        let started = Instant::now();
        one(client.clone(), url.clone(), body.clone()).await;
        served.push(started.elapsed());
    }

    // Throughput: 16 clients asking back to back for 5 s, each request's
    // time kept for the percentiles.
    let until = Instant::now() + Duration::from_secs(5);
    let started = Instant::now();
    let clients: Vec<_> = (0..16)
        .map(|_| {
            let (client, url, body) = (client.clone(), url.clone(), body.clone());
            tokio::spawn(async move {
                let mut times = Vec::new();
                while Instant::now() < until {
                    let asked = Instant::now();
                    one(client.clone(), url.clone(), body.clone()).await;
                    times.push(asked.elapsed());
                }
                times
            })
        })
        .collect();
    let mut times = Vec::new();
    for c in clients {
        times.extend(c.await.unwrap());
    }
    let councils = times.len();
    let rate = councils as f64 / started.elapsed().as_secs_f64();
    times.sort();
    let percentile = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    let (p50, p99) = (percentile(0.5), percentile(0.99));

    let (ask, served) = (median(ask), median(served));
    println!(
        "council ask (process per council), median of {ROUNDS}: {:.1} ms",
        ask.as_secs_f64() * 1e3
    );
    println!(
        "council serve (one request at a time), median of {ROUNDS}: {:.1} ms",
        served.as_secs_f64() * 1e3
    );
    println!(
        "serve minus ask: {:+.1} ms per council",
        (served.as_secs_f64() - ask.as_secs_f64()) * 1e3
    );
    println!(
        "serve, 16 clients for 5 s: {councils} councils, {rate:.0} councils/s, p50 {:.1} ms, p99 {:.1} ms",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
    let _ = std::fs::remove_dir_all(&scratch);
}
