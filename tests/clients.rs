//! `council serve` through a real client library: the official `openai`
//! Python package, installed into a virtual environment the test makes
//! (once; later runs reuse it), talking to the binary over a socket while
//! the scripted server plays the models.

mod support;

use std::path::PathBuf;

use serde_json::Value;
use support::{Recorded, Reply, Server, judge_json};
use tokio::process::{Child, Command};

fn handler(r: &Recorded, _: usize) -> Reply {
    if r.is_judge() {
        return Reply::text(&[&judge_json()]);
    }
    if r.is_synthesis() {
        // Asked for a form, the synthesizer answers in it.
        if r.body.get("response_format").is_some() {
            return Reply::text(&[
                "```json\n{\"city\": \"Oslo\", ",
                "\"population\": 709037}\n```",
            ]);
        }
        return Reply::text(&["The sky is blue ", "because of Rayleigh scattering."]);
    }
    if r.model().starts_with("404/") {
        return Reply::status(404, r#"{"error":{"message":"No endpoints found"}}"#);
    }
    Reply::text(&["Answer from ", r.model()])
}

/// A virtual environment with the `openai` package, made once.
fn venv() -> PathBuf {
    support::python::venv("clients-venv", "openai>=1.40,<3")
}

struct Served {
    child: Child,
    url: String,
}

async fn serve(name: &str, backend: &Server, panel: &str) -> Served {
    let home = std::env::temp_dir().join(format!("council-clients-{name}-{}", std::process::id()));
    let args = ["--base-url", &backend.base_url, "--panel", panel];
    let (child, url) = support::serve::start(&args, &home, &home.join("sessions"), &[]).await;
    Served { child, url }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_openai_client_gets_what_it_expects() {
    let python = tokio::task::spawn_blocking(venv).await.unwrap();
    let backend = Server::start(handler).await;
    let good = serve("good", &backend, "ok/a,ok/b").await;
    let failing_backend = Server::start(handler).await;
    let failing = serve("failing", &failing_backend, "404/a,404/b").await;

    let out = Command::new(&python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/clients/openai_sdk.py"
        ))
        .env("COUNCIL_URL", &good.url)
        .env("COUNCIL_FAILING_URL", &failing.url)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let found: Value = serde_json::from_slice(&out.stdout).unwrap();

    assert_eq!(
        found["retrieve"],
        serde_json::json!(["council", "council/quality"])
    );

    // Progress, then the answer; never progress inside it.
    let kinds: Vec<&str> = found["stream_kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    let first_content = kinds.iter().position(|k| *k == "content").expect("content");
    assert!(first_content > 0, "progress came first: {kinds:?}");
    assert!(
        kinds[first_content..].iter().all(|k| *k == "content"),
        "no reasoning after the answer started: {kinds:?}"
    );
    let quiet = found["quiet_kinds"].as_array().unwrap();
    assert!(
        !quiet.is_empty() && quiet.iter().all(|k| k == "content"),
        "{quiet:?}"
    );

    assert_eq!(
        found["structured"],
        serde_json::json!({"city": "Oslo", "population": 709037})
    );
    let synthesis = backend
        .chats()
        .into_iter()
        .find(|r| r.is_synthesis() && r.body.get("response_format").is_some())
        .expect("the synthesizer was asked for the form");
    assert_eq!(synthesis.body["response_format"]["type"], "json_schema");

    assert_eq!(found["tools"], "unsupported_parameter");

    // One council's requests (two members; no judge or synthesis without
    // answers), despite the client's two retries.
    assert_eq!(found["failing"], 502);
    assert_eq!(failing_backend.chats().len(), 2, "asked once");

    drop((good.child, failing.child));
}
