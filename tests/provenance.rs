//! Where the synthesis's sentences come from, through the binary: a
//! synthesizer that cites right, wrong and not at all, read back from
//! `ask --json`, stdout, `show`, `export` and `serve`.

mod support;

use serde_json::{Value, json};
use support::cli::council;
use support::{Recorded, Reply, Server, judge_json};

const ALPHA: &str = "Water boils at 100 °C at sea level. Salt raises the boiling point slightly.";
const BETA: &str =
    "Pressure cookers cook faster because water boils hotter. At altitude water boils near 90 °C.";

/// The synthesis as written, in pieces that cut through the brackets.
const WRITTEN: &[&str] = &[
    "Water boils at 100 °C at sea level [al",
    "pha]. Salt raises the boiling point slightly [beta]",
    ". Pressure cookers cook faster because water boils hotter. ",
    "Water boils at 80 °C at sea level [alpha, beta]. ",
    "Tea is best with milk first [ALPHA]. Nobody said this sentence at all. See [1].",
];

const SHOWN: &str = "Water boils at 100 °C at sea level. Salt raises the boiling point slightly. \
                     Pressure cookers cook faster because water boils hotter. Water boils at 80 °C \
                     at sea level. Tea is best with milk first. Nobody said this sentence at all. \
                     See [1].";

fn handler(r: &Recorded, _: usize) -> Reply {
    if r.is_judge() {
        return Reply::text(&[&judge_json()]);
    }
    if r.is_synthesis() {
        return Reply::text(WRITTEN);
    }
    match r.model() {
        "x/alpha" => Reply::text(&[ALPHA]),
        _ => Reply::text(&[BETA]),
    }
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("council-provenance-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Each claim as (text, members, found_in, supported, unsourced).
fn rows(provenance: &Value) -> Vec<(String, Value, Value, String, bool)> {
    provenance["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["text"].as_str().unwrap().to_string(),
                c["members"].clone(),
                c["found_in"].clone(),
                c["supported"].as_str().unwrap().to_string(),
                c["unsourced"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn expected() -> Vec<(String, Value, Value, String, bool)> {
    let row = |text: &str, members: Value, found: Value, supported: &str, unsourced| {
        (
            text.to_string(),
            members,
            found,
            supported.to_string(),
            unsourced,
        )
    };
    vec![
        row(
            "Water boils at 100 °C at sea level.",
            json!(["alpha"]),
            json!(["alpha"]),
            "all",
            false,
        ),
        row(
            "Salt raises the boiling point slightly.",
            json!(["beta"]),
            json!(["alpha"]),
            "none",
            false,
        ),
        row(
            "Pressure cookers cook faster because water boils hotter.",
            json!([]),
            json!(["beta"]),
            "none",
            false,
        ),
        row(
            "Water boils at 80 °C at sea level.",
            json!(["alpha", "beta"]),
            json!([]),
            "none",
            false,
        ),
        row(
            "Tea is best with milk first.",
            json!(["alpha"]),
            json!([]),
            "none",
            false,
        ),
        row(
            "Nobody said this sentence at all.",
            json!([]),
            json!([]),
            "none",
            true,
        ),
        row("See [1].", json!([]), json!([]), "none", true),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn citations_are_taken_out_and_every_claim_is_traced() {
    let server = Server::start(handler).await;
    let dir = scratch("ask");
    let env = [("COUNCIL_SESSIONS_DIR", dir.to_str().unwrap())];
    let args = [
        "ask",
        "--base-url",
        &server.base_url,
        "--panel",
        "x/alpha,y/beta",
    ];
    let run = council(&[&args[..], &["--json", "Why?"]].concat(), None, &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let synthesis = &report["synthesis"];
    assert_eq!(synthesis["text"], SHOWN);
    assert_eq!(synthesis["raw"], WRITTEN.concat());
    let provenance = &synthesis["provenance"];
    assert_eq!(rows(provenance), expected());
    assert_eq!(
        (
            &provenance["cited"],
            &provenance["supported"],
            &provenance["unsourced"]
        ),
        (&json!(4), &json!(1), &json!(2))
    );
    for claim in provenance["claims"].as_array().unwrap() {
        let (s, e) = (
            claim["span"][0].as_u64().unwrap() as usize,
            claim["span"][1].as_u64().unwrap() as usize,
        );
        assert_eq!(&SHOWN[s..e], claim["text"].as_str().unwrap());
        for support in claim["support"].as_array().unwrap() {
            let answer = if support["member"] == "alpha" {
                ALPHA
            } else {
                BETA
            };
            let (s, e) = (
                support["span"][0].as_u64().unwrap() as usize,
                support["span"][1].as_u64().unwrap() as usize,
            );
            let score = support["score"].as_f64().unwrap();
            assert!((0.6..=1.0).contains(&score), "{support}");
            let passage = &answer[s..e];
            assert!(
                passage.contains(claim["text"].as_str().unwrap().trim_end_matches('.'))
                    || score < 1.0,
                "{passage}"
            );
        }
    }
    // The synthesizer was asked to cite, by the members' names.
    let synth = server
        .chats()
        .into_iter()
        .find(|r| r.is_synthesis())
        .unwrap();
    assert!(
        synth.user_prompt().contains("# Citations"),
        "{}",
        synth.user_prompt()
    );

    // Streamed to stdout: the same text, no citation in it.
    let run = council(&[&args[..], &["Why?"]].concat(), None, &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim_end(), SHOWN);

    // Read back: footnote-style sources per sentence.
    let shown = council(&["show", "last"], None, &env).await;
    assert!(
        shown.stdout.contains("at sea level. [1] Salt raises"),
        "{}",
        shown.stdout
    );
    assert!(
        shown
            .stdout
            .contains("[1] alpha: “Water boils at 100 °C at sea level.”"),
        "{}",
        shown.stdout
    );
    assert!(
        shown
            .stdout
            .contains("[2] beta: cited, not found in its answer; alpha (not cited): “"),
        "{}",
        shown.stdout
    );
    assert!(shown.stdout.contains("[6] unsourced"), "{}", shown.stdout);
    assert!(
        shown.stdout.contains("5 of 7 claims sourced"),
        "{}",
        shown.stdout
    );
    let md = council(&["export", "last", "--format", "md"], None, &env).await;
    assert!(
        md.stdout.contains("at sea level.[^1] Salt"),
        "{}",
        md.stdout
    );
    assert!(
        md.stdout
            .contains("[^5]: alpha: cited, not found in its answer"),
        "{}",
        md.stdout
    );
    let json_export = council(&["export", "last", "--format", "json"], None, &env).await;
    let exported: Value = serde_json::from_str(&json_export.stdout).unwrap();
    assert_eq!(
        rows(&exported["turns"][0]["synthesis"]["provenance"]),
        expected()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A JSON answer is not asked to cite, and nothing is taken out of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_served_answer_is_stripped_unless_the_client_keeps_citations() {
    let backend = Server::start(handler).await;
    let home = scratch("serve");
    let (_child, url) = support::serve::start(
        &["--base-url", &backend.base_url, "--panel", "x/alpha,y/beta"],
        &home,
        &home.join("sessions"),
        &[],
    )
    .await;
    let body = json!({"model": "council", "messages": [{"role": "user", "content": "Why?"}]});
    let client = reqwest::Client::new();
    let ask = |keep: Option<&'static str>, stream: bool| {
        let mut body = body.clone();
        body["stream"] = stream.into();
        let mut request = client.post(format!("{url}/chat/completions")).json(&body);
        if let Some(v) = keep {
            request = request.header("x-council-citations", v);
        }
        request.send()
    };
    let whole: Value = ask(None, false).await.unwrap().json().await.unwrap();
    assert_eq!(whole["choices"][0]["message"]["content"], SHOWN);
    assert_eq!(
        rows(&whole["council"]["synthesis"]["provenance"]),
        expected()
    );
    let kept: Value = ask(Some("keep"), false)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(kept["choices"][0]["message"]["content"], WRITTEN.concat());
    // Streamed: the content pieces add up to the same text.
    for (keep, text) in [(None, SHOWN.to_string()), (Some("keep"), WRITTEN.concat())] {
        let body = ask(keep, true).await.unwrap().text().await.unwrap();
        let content: String = body
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .filter_map(|d| serde_json::from_str::<Value>(d).ok())
            .filter_map(|v| {
                v["choices"][0]["delta"]["content"]
                    .as_str()
                    .map(String::from)
            })
            .collect();
        assert_eq!(content, text, "{keep:?}");
    }
    let bad = ask(Some("maybe"), false).await.unwrap();
    assert_eq!(bad.status(), 400);

    // With a JSON schema the synthesizer is not asked to cite.
    let before = backend.chats().len();
    let mut schema_body = body.clone();
    schema_body["response_format"] = json!({"type": "json_object"});
    let _ = client
        .post(format!("{url}/chat/completions"))
        .json(&schema_body)
        .send()
        .await
        .unwrap();
    let synth = backend.chats()[before..]
        .iter()
        .find(|r| r.is_synthesis())
        .cloned()
        .unwrap();
    assert!(!synth.user_prompt().contains("# Citations"));
    std::fs::remove_dir_all(&home).unwrap();
}
