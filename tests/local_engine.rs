//! The embedded engine on the real SmolLM2 GGUF: streaming, batched members,
//! a grammar-constrained judge, cancellation, and a whole offline council
//! through the binary.
#![cfg(feature = "local")]

mod support;

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use council::engine::judge::{self, LabelMap};
use council::provider::local::LocalProvider;
use council::provider::{ChatRequest, Delta, Message, Provider};
use serde_json::Value;
use support::model::{model_id, models_dir};
use tokio_util::sync::CancellationToken;

fn provider() -> LocalProvider {
    LocalProvider::new(Some(models_dir()))
}

fn ask(question: &str, max_tokens: u32) -> ChatRequest {
    ChatRequest {
        model: model_id(),
        messages: vec![Message::user(question)],
        temperature: Some(0.0),
        max_tokens: Some(max_tokens),
        json_schema: None,
        web_search: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_member_streams_text_with_usage() {
    let provider = provider();
    let request = ask("What is the capital of France?", 40);
    let mut deltas = Vec::new();
    let mut sink = |d: Delta| deltas.push(d);
    let completion = provider
        .stream_chat(&request, CancellationToken::new(), &mut sink)
        .await
        .expect("the local model answers");
    let text: String = deltas
        .iter()
        .map(|d| match d {
            Delta::Text(t) => t.as_str(),
            Delta::Reasoning(_) => panic!("SmolLM2 sends no reasoning"),
            Delta::Retrying { .. } => panic!("the embedded engine never retries"),
        })
        .collect();
    assert!(!text.trim().is_empty(), "non-empty answer");
    assert!(
        deltas.len() > 3,
        "streamed token by token: {} deltas",
        deltas.len()
    );
    assert!(text.contains("Paris"), "{text}");
    let usage = completion.usage;
    assert!(usage.prompt_tokens > 5, "{usage:?}");
    assert!((1..=40).contains(&usage.completion_tokens), "{usage:?}");
    assert_eq!(usage.cost, Some(0.0));
    assert!(matches!(
        completion.finish_reason.as_deref(),
        Some("stop" | "length")
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_sharing_a_model_are_decoded_together() {
    let provider = Arc::new(provider());
    // When each member got its first and last token, on one clock.
    let marks: Arc<Mutex<Vec<(usize, Instant, Instant)>>> = Arc::default();
    let questions = [
        "Name three colours.",
        "Name three animals.",
        "Name three fruits.",
    ];
    let tasks: Vec<_> = questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let (provider, marks) = (provider.clone(), marks.clone());
            let request = ChatRequest {
                max_tokens: Some(48),
                temperature: Some(0.7),
                ..ask(q, 48)
            };
            tokio::spawn(async move {
                let mut first = None;
                let mut sink = |_d: Delta| {
                    first.get_or_insert_with(Instant::now);
                };
                provider
                    .stream_chat(&request, CancellationToken::new(), &mut sink)
                    .await
                    .unwrap();
                marks
                    .lock()
                    .unwrap()
                    .push((i, first.unwrap(), Instant::now()));
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let marks = marks.lock().unwrap();
    assert_eq!(marks.len(), 3);
    let last_first_token = marks.iter().map(|m| m.1).max().unwrap();
    let first_finish = marks.iter().map(|m| m.2).min().unwrap();
    assert!(
        last_first_token < first_finish,
        "every member streamed before any finished: they ran in one batch, not one after another"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grammar_constrained_judge_returns_analysis_that_parses() {
    let provider = provider();
    let answers = [
        "The sky is blue because air scatters short blue wavelengths of sunlight more than red ones (Rayleigh scattering).",
        "Blue light is scattered by gas molecules in the atmosphere; at sunset the light travels further so the sky looks red.",
        "The sky is blue because it reflects the colour of the oceans.",
    ];
    let named: Vec<(usize, String)> = (0..3).map(|i| (i, format!("m{i}"))).collect();
    let labels = LabelMap::shuffled(&named, 7);
    let by_member: Vec<String> = answers.iter().map(|s| s.to_string()).collect();
    let label_names: Vec<String> = labels.assignments.iter().map(|a| a.label.clone()).collect();
    let request = ChatRequest {
        model: model_id(),
        messages: judge::messages(None, "Why is the sky blue?", &labels, &by_member),
        temperature: Some(0.0),
        max_tokens: Some(1500),
        json_schema: Some(judge::schema(&label_names)),
        web_search: false,
    };
    let mut text = String::new();
    let mut sink = |d: Delta| {
        if let Delta::Text(t) = d {
            text.push_str(&t);
        }
    };
    let completion = provider
        .stream_chat(&request, CancellationToken::new(), &mut sink)
        .await
        .expect("the judge answers");
    assert_eq!(
        completion.finish_reason.as_deref(),
        Some("stop"),
        "the bounded grammar ends the JSON within the budget: {text}"
    );
    let value: Value = serde_json::from_str(&text).expect("strict JSON, no repair needed");
    for key in [
        "consensus",
        "contradictions",
        "blind_spots",
        "unique_insights",
        "partial_coverage",
    ] {
        assert!(value[key].is_array(), "{key} in {text}");
    }
    let analysis = judge::parse_analysis(&text, &labels).expect("parses into the analysis type");
    let members = ["m0", "m1", "m2"];
    for finding in analysis
        .consensus
        .iter()
        .chain(&analysis.blind_spots)
        .chain(&analysis.unique_insights)
        .chain(&analysis.partial_coverage)
    {
        for m in &finding.members {
            assert!(members.contains(&m.as_str()), "labels map to members: {m}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_local_member_stops_it_promptly_and_frees_the_engine() {
    let provider = provider();
    let request = ChatRequest {
        temperature: Some(0.8),
        ..ask("Write a very long story about a dragon.", 4000)
    };
    let cancel = CancellationToken::new();
    let deltas = Arc::new(Mutex::new(0usize));
    let (count, trigger) = (deltas.clone(), cancel.clone());
    let mut cancelled_at = None;
    let mut sink = |_d: Delta| {
        let mut n = count.lock().unwrap();
        *n += 1;
        if *n == 10 {
            cancelled_at = Some(Instant::now());
            trigger.cancel();
        }
    };
    let err = provider
        .stream_chat(&request, cancel, &mut sink)
        .await
        .unwrap_err();
    let took = cancelled_at.expect("cancelled after 10 deltas").elapsed();
    assert!(err.is_cancelled(), "{err:?}");
    assert!(
        took < Duration::from_secs(1),
        "returned {took:?} after the cancel"
    );
    let before = *deltas.lock().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(*deltas.lock().unwrap(), before, "no token after the cancel");

    // The engine is free for the next request, which finishes normally.
    let mut n = 0;
    let mut sink = |_d: Delta| n += 1;
    let done = provider
        .stream_chat(&ask("Say hello.", 16), CancellationToken::new(), &mut sink)
        .await
        .unwrap();
    assert!(done.usage.completion_tokens > 0 && n > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_key_council_ask_runs_the_local_preset_end_to_end() {
    let dir = models_dir();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_council"))
        .args([
            "ask",
            "--json",
            "--seed",
            "3",
            "What is a good name for a cat?",
        ])
        .env_remove("OPENROUTER_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .env("COUNCIL_MODELS_DIR", &dir)
        .env(
            "COUNCIL_SESSIONS_DIR",
            std::env::temp_dir().join("council-local-test-sessions"),
        )
        .env(
            "XDG_CONFIG_HOME",
            std::env::temp_dir().join("council-local-test-config"),
        )
        .stdin(Stdio::null())
        .output();
    let out = tokio::time::timeout(Duration::from_secs(600), out)
        .await
        .expect("an offline council finishes")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {:?}; stderr:\n{stderr}",
        out.status
    );
    let run: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(run["preset"], "local", "no key: the local preset");
    let members = run["members"].as_array().unwrap();
    assert_eq!(members.len(), 3);
    for m in members {
        assert_eq!(m["status"], "done", "{m}");
        assert!(!m["text"].as_str().unwrap().trim().is_empty(), "{m}");
        assert_eq!(m["usage"]["cost"], 0.0);
    }
    assert_eq!(run["judge"]["status"], "done", "{}", run["judge"]);
    assert!(run["judge"]["analysis"]["consensus"].is_array());
    assert_eq!(run["synthesis"]["status"], "done");
    assert!(!run["synthesis"]["text"].as_str().unwrap().trim().is_empty());
    assert_eq!(run["outcome"], "synthesized");
}

/// Under the grounded grammar the tiny judge can only quote clauses of the
/// answer its label names: every quote it gives verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_grounded_grammar_makes_every_local_quote_verify() {
    let provider = provider();
    let answers = [
        "The sky is blue because air scatters short blue wavelengths of sunlight more than red ones.",
        "Blue light is scattered by gas molecules in the atmosphere. At sunset the light travels further, so the sky looks red.",
        "The sky is blue because it reflects the colour of the oceans. Clouds are white because they scatter all colours.",
    ];
    let named: Vec<(usize, String)> = (0..3).map(|i| (i, format!("m{i}"))).collect();
    let labels = LabelMap::shuffled(&named, 7);
    let by_member: Vec<String> = answers.iter().map(|s| s.to_string()).collect();
    let request = ChatRequest {
        model: model_id(),
        messages: judge::messages(None, "Why is the sky blue?", &labels, &by_member),
        temperature: Some(0.0),
        max_tokens: Some(1500),
        json_schema: Some(judge::grounded_schema(&labels, &by_member)),
        web_search: false,
    };
    let text = answer_of(&provider, &request).await;
    let mut analysis = judge::parse_analysis(&text, &labels).expect("parses");
    let named_answers: Vec<(String, &str)> =
        (0..3).map(|i| (format!("m{i}"), answers[i])).collect();
    judge::ground(&mut analysis, &named_answers);
    let g = analysis.grounding();
    assert_eq!(
        g.verified, g.quotes,
        "every quote is the member's own words: {text}"
    );
    // Every claim but a blind spot carries its evidence.
    for f in analysis
        .consensus
        .iter()
        .chain(&analysis.unique_insights)
        .chain(&analysis.partial_coverage)
    {
        assert!(!f.quotes.is_empty(), "{text}");
    }
    for s in analysis.contradictions.iter().flat_map(|c| &c.stances) {
        assert!(!s.quotes.is_empty(), "{text}");
    }
}

/// The whole text the provider streams for `request`.
async fn answer_of(provider: &LocalProvider, request: &ChatRequest) -> String {
    let mut text = String::new();
    let mut sink = |d: Delta| {
        if let Delta::Text(t) = d {
            text.push_str(&t);
        }
    };
    provider
        .stream_chat(request, CancellationToken::new(), &mut sink)
        .await
        .expect("the judge answers");
    text
}

/// The embedded judge's request for `answers` as the engine runs it (its
/// prompt and grounded schema, greedy), its labels, and the schema's grammar.
fn grounded_judge(
    question: &str,
    answers: &[&str],
    max_tokens: u32,
) -> (ChatRequest, LabelMap, String) {
    let named: Vec<(usize, String)> = (0..answers.len()).map(|i| (i, format!("m{i}"))).collect();
    let labels = LabelMap::shuffled(&named, 7);
    let by_member: Vec<String> = answers.iter().map(|s| s.to_string()).collect();
    let schema = judge::grounded_schema(&labels, &by_member);
    let grammar = council::provider::local::engine::grammar_for(
        &council::provider::local::bounded_schema(schema.schema()),
    )
    .unwrap();
    let request = ChatRequest {
        model: model_id(),
        messages: judge::grounded_messages(None, question, &labels, &by_member),
        temperature: Some(0.0),
        max_tokens: Some(max_tokens),
        json_schema: Some(schema),
        web_search: false,
    };
    (request, labels, grammar)
}

/// Decodes `messages` under `grammar` at temperature 0 on `engine`.
fn greedy(
    engine: &council::provider::local::engine::Engine,
    messages: Vec<Message>,
    grammar: String,
    grammar_first: bool,
    max_tokens: u32,
) -> String {
    use council::provider::local::{Job, JobEvent};
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    engine.submit(Job {
        messages,
        temperature: Some(0.0),
        max_tokens: Some(max_tokens),
        grammar: Some(grammar),
        grammar_first,
        seed: 11,
        events: tx,
        cancel: CancellationToken::new(),
    });
    let mut text = String::new();
    loop {
        match rx.blocking_recv() {
            Some(JobEvent::Text(t)) => text.push_str(&t),
            Some(JobEvent::Finished { .. }) => return text,
            Some(JobEvent::Failed(e)) => panic!("{e}"),
            Some(JobEvent::Started { .. }) => {}
            None => panic!("the engine stopped"),
        }
    }
}

const RENT_OR_BUY: [&str; 3] = [
    "Renting keeps you flexible and free of repair bills. Buying builds equity over many years.",
    "Buying is better if you stay put for five years or more; the monthly payment goes to an asset.",
    "Renting is cheaper at first because there is no down payment. Prices can fall, too.",
];

/// Checking the sampled token against the grammar, instead of running the
/// grammar over the whole vocabulary first, decodes the same tokens at
/// temperature 0 (greedy: the model's best allowed token either way).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_grammar_checked_after_sampling_decodes_the_same_greedy_tokens() {
    let path = council::models::resolve(&model_id(), Some(&models_dir()));
    // An engine of its own: the other tests' jobs would share its batches,
    // and a batch's make-up moves the logits enough to change a greedy pick.
    let engine = council::provider::local::engine::start(&path).unwrap();
    let (request, _, grammar) =
        grounded_judge("Is it better to rent or buy a home?", &RENT_OR_BUY, 160);
    let messages = request.messages;
    let (after, first) = tokio::task::spawn_blocking(move || {
        let after = greedy(&engine, messages.clone(), grammar.clone(), false, 160);
        let first = greedy(&engine, messages, grammar, true, 160);
        (after, first)
    })
    .await
    .unwrap();
    assert!(after.starts_with('{'), "{after}");
    assert_eq!(after, first);
}

/// The embedded judge is shown no example (a 135M model copies it): over
/// questions far from the sky, no item speaks of the sky.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offline_judge_does_not_copy_an_example() {
    let path = council::models::resolve(&model_id(), Some(&models_dir()));
    // An engine of its own, so the greedy text is the same on every run: on
    // the shared one, other tests' jobs join its batches and move the logits
    // (once enough to loop a number until the token limit cut the JSON).
    let engine = council::provider::local::engine::start(&path).unwrap();
    let questions: [(&str, [&str; 3]); 2] = [
        ("Is it better to rent or buy a home?", RENT_OR_BUY),
        (
            "How should a beginner learn to cook?",
            [
                "Start with eggs and rice; simple dishes teach heat control.",
                "Follow recipes exactly at first, then change one thing at a time.",
                "Cook with a friend who knows how, and taste as you go.",
            ],
        ),
    ];
    // The local preset's judge budget: the bounded schema's longest document
    // fits in it, so a looping judge still closes its JSON.
    let preset: toml::Value = toml::from_str(include_str!("../presets/local.toml")).unwrap();
    let budget = preset["judge"]["max_tokens"].as_integer().unwrap() as u32;
    for (question, answers) in questions {
        let (request, labels, grammar) = grounded_judge(question, &answers, budget);
        let engine = engine.clone();
        let text = tokio::task::spawn_blocking(move || {
            greedy(&engine, request.messages, grammar, false, budget)
        })
        .await
        .unwrap();
        let analysis =
            judge::parse_analysis(&text, &labels).unwrap_or_else(|e| panic!("{e:?}: {text}"));
        let mut said: Vec<String> = analysis
            .consensus
            .iter()
            .chain(&analysis.blind_spots)
            .chain(&analysis.unique_insights)
            .chain(&analysis.partial_coverage)
            .map(|f| f.point.to_lowercase())
            .collect();
        said.extend(
            analysis
                .contradictions
                .iter()
                .map(|c| c.topic.to_lowercase()),
        );
        for words in said {
            for example in ["sky", "violet", "rayleigh", "ozone", "scatter"] {
                assert!(
                    !words.contains(example),
                    "{question}: `{words}` copies the example"
                );
            }
        }
    }
}

/// The longest reply `schema` allows: every array at its most items, the
/// longest of alternatives, every string at its longest (enum values as they are; free text of `filler`
/// characters, `maxLength` of them), a space wherever the grammar allows one.
fn longest_reply(schema: &Value, filler: char) -> String {
    if let Some(choices) = schema["anyOf"].as_array() {
        return choices
            .iter()
            .map(|c| longest_reply(c, filler))
            .max_by_key(String::len)
            .unwrap();
    }
    match schema["type"].as_str() {
        Some("object") => {
            let fields: Vec<String> = schema["properties"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| format!("\"{k}\" : {}", longest_reply(v, filler)))
                .collect();
            format!("{{ {} }}", fields.join(" , "))
        }
        Some("array") => {
            let n = schema["maxItems"].as_u64().unwrap() as usize;
            let items = vec![longest_reply(&schema["items"], filler); n];
            format!("[ {} ]", items.join(" , "))
        }
        Some("string") => match schema["enum"].as_array() {
            Some(values) => values
                .iter()
                .map(|v| v.to_string())
                .max_by_key(|v| v.len())
                .unwrap(),
            None => {
                let n = schema["maxLength"].as_u64().unwrap() as usize;
                format!("\"{}\"", std::iter::repeat_n(filler, n).collect::<String>())
            }
        },
        other => panic!("a type the judge's schema does not use: {other:?}"),
    }
}

/// The local preset's judge budget holds the longest reply the grounded
/// grammar allows, counted by the model's own tokenizer, so a judge that
/// loops still closes its JSON (a reply cut mid-document is no analysis).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_judge_budget_holds_the_grammars_longest_reply() {
    let preset: toml::Value = toml::from_str(include_str!("../presets/local.toml")).unwrap();
    let budget = preset["judge"]["max_tokens"].as_integer().unwrap() as u64;
    // A clause longer than a quote may be: each quote is at its longest.
    let long = "Renting keeps you flexible and free of repair bills while prices move in ways nobody can predict well.";
    let (request, _, _) = grounded_judge(
        "Is it better to rent or buy a home?",
        &[long, long, long],
        1,
    );
    let schema = council::provider::local::bounded_schema(request.json_schema.unwrap().schema());
    let provider = provider();
    // Digits are a token each in SmolLM2's vocabulary: the costliest text.
    for filler in ['7', 'x'] {
        let reply = longest_reply(&schema, filler);
        let mut sink = |_: Delta| {};
        let counted = provider
            .stream_chat(&ask(&reply, 1), CancellationToken::new(), &mut sink)
            .await
            .expect("the model reads it");
        // The chat template's few tokens are counted too: an overestimate.
        let tokens = counted.usage.prompt_tokens;
        assert!(
            tokens < budget,
            "{tokens} tokens ({} bytes) for the longest reply, over the judge's {budget}",
            reply.len()
        );
    }
}
