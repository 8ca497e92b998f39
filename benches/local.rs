//! The embedded engine on SmolLM2 135M: generation speed of one member, and
//! of a 3-member panel decoded in one batched context versus three engines
//! with a context each (what members that do not share a model cost).
//!
//! Then a whole offline council through the binary: the members', the
//! judge's and the synthesis's tokens per second against the model's solo
//! speed, and the council's wall time; then the model alone on each stage's
//! own work (a prompt as long, as many tokens), to tell what the stage
//! costs from what the model costs. A single job's line also splits its
//! time between reading the prompt and decoding.
//!
//! `cargo bench --bench local` prints one line per case, and the process's
//! peak RSS.
#![cfg_attr(not(feature = "local"), allow(unused))]

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use council::provider::Message;
#[cfg(feature = "local")]
use council::provider::local::{Job, JobEvent, engine};
use tokio_util::sync::CancellationToken;

const TOKENS: u32 = 128;
const QUESTIONS: [&str; 3] = [
    "Write a short story about a lighthouse keeper.",
    "Explain how a bicycle stays upright.",
    "Describe a walk through a forest in autumn.",
];

#[cfg(feature = "local")]
struct Outcome {
    tokens: u64,
    prompt_tokens: u64,
    /// From submitting to the first text: queueing and the prompt's prefill.
    first_text: Option<Duration>,
}

/// Runs one job per question on the given engines (round robin), all at
/// once; returns the tokens generated and the wall time.
#[cfg(feature = "local")]
fn run(engines: &[engine::Engine], questions: &[&str]) -> (Vec<Outcome>, Duration) {
    run_for(engines, questions, TOKENS)
}

/// [`run`], `tokens` long each.
#[cfg(feature = "local")]
fn run_for(
    engines: &[engine::Engine],
    questions: &[&str],
    tokens: u32,
) -> (Vec<Outcome>, Duration) {
    let started = Instant::now();
    let mut receivers = Vec::new();
    for (i, q) in questions.iter().enumerate() {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        engines[i % engines.len()].submit(Job {
            messages: vec![Message::user(*q)],
            temperature: Some(0.8),
            // Fixed length: the model may not stop early.
            max_tokens: Some(tokens),
            grammar: None,
            grammar_first: false,
            seed: i as u32,
            events: tx,
            cancel: CancellationToken::new(),
        });
        receivers.push(rx);
    }
    let outcomes = receivers
        .into_iter()
        .map(|mut rx| {
            let mut first_text = None;
            loop {
                match rx.blocking_recv() {
                    Some(JobEvent::Text(_)) => {
                        first_text.get_or_insert_with(|| started.elapsed());
                    }
                    Some(JobEvent::Finished {
                        completion_tokens,
                        prompt_tokens,
                        ..
                    }) => {
                        break Outcome {
                            tokens: completion_tokens,
                            prompt_tokens,
                            first_text,
                        };
                    }
                    Some(JobEvent::Failed(e)) => panic!("{e}"),
                    Some(_) => {}
                    None => panic!("the engine stopped"),
                }
            }
        })
        .collect();
    (outcomes, started.elapsed())
}

#[cfg(feature = "local")]
fn report(label: &str, (outcomes, wall): (Vec<Outcome>, Duration)) -> f64 {
    let tokens: u64 = outcomes.iter().map(|o| o.tokens).sum();
    let prompt: u64 = outcomes.iter().map(|o| o.prompt_tokens).sum();
    let rate = tokens as f64 / wall.as_secs_f64();
    // One job: where its time went, the prompt or the tokens.
    let split = match outcomes.as_slice() {
        [one] => one
            .first_text
            .map(|first| {
                let decoding = (wall - first).as_secs_f64();
                format!(
                    " (prompt {:.0} tok/s over {:.2}s, then {:.1} tok/s decoding)",
                    one.prompt_tokens as f64 / first.as_secs_f64(),
                    first.as_secs_f64(),
                    one.tokens.saturating_sub(1) as f64 / decoding
                )
            })
            .unwrap_or_default(),
        _ => String::new(),
    };
    println!(
        "{label}: {tokens} tokens generated (+{prompt} prompt) in {:.2}s = {rate:.1} tok/s{split}",
        wall.as_secs_f64()
    );
    rate
}

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

#[cfg(feature = "local")]
fn main() {
    // `cargo test --benches` runs bench targets without `--bench`: skip.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let dir = support::model::models_dir();
    let path = council::models::resolve(&support::model::model_id(), Some(&dir));
    println!(
        "model {}, {} decoding threads",
        path.display(),
        engine::threads()
    );

    let loaded = Instant::now();
    let one = engine::start(&path).unwrap();
    // Warm up (loads the model) and time the load.
    run(std::slice::from_ref(&one), &["Hi"]);
    println!(
        "load and first reply: {:.2}s",
        loaded.elapsed().as_secs_f64()
    );

    let single = report("1 member", run(std::slice::from_ref(&one), &QUESTIONS[..1]));
    // The same, after a prompt as long as the judge's (~1,100 tokens) and
    // as long as its answer (~500 tokens): the model's own speed on the
    // judge's work, prefill included.
    let filler = Filler::measure(&one);
    let long = filler.prompt(1_140);
    let single_long = report(
        "1 member, a judge-sized prompt",
        run_for(std::slice::from_ref(&one), &[long.as_str()], 512),
    );
    let batched = report(
        "3 members, one batched context",
        run(std::slice::from_ref(&one), &QUESTIONS),
    );
    if let Some(mb) = peak_rss_mb() {
        println!("peak RSS with one engine (model + 8-sequence context): {mb:.0} MB");
    }
    let separate: Vec<engine::Engine> = (0..3).map(|_| engine::start(&path).unwrap()).collect();
    run(&separate, &["Hi", "Hi", "Hi"]);
    let apart = report("3 members, a context each", run(&separate, &QUESTIONS));
    println!(
        "batched panel: {:.2}x the throughput of one member, {:.2}x that of a context each",
        batched / single,
        batched / apart
    );
    if let Some(mb) = peak_rss_mb() {
        println!("peak RSS with four engines: {mb:.0} MB");
    }
    drop(separate);
    council(&dir, &one, &filler, single, single_long);
}

/// Prompts of a given length in tokens, made of one sentence repeated
/// after the question, for the model alone on a stage's work.
#[cfg(feature = "local")]
struct Filler {
    /// Prompt tokens with no sentence (the template and the question).
    base: u64,
    /// Tokens each sentence adds.
    per_sentence: f64,
}

#[cfg(feature = "local")]
impl Filler {
    const SENTENCE: &str =
        "Three answers were given on renting and buying, weighing cost, risk and freedom. ";
    const SAMPLE: usize = 70;

    fn measure(engine: &engine::Engine) -> Self {
        let tokens =
            |text: &str| run_for(std::slice::from_ref(engine), &[text], 1).0[0].prompt_tokens;
        let base = tokens(&Self::text(0));
        let many = tokens(&Self::text(Self::SAMPLE));
        Self {
            base,
            per_sentence: (many - base) as f64 / Self::SAMPLE as f64,
        }
    }

    fn text(sentences: usize) -> String {
        format!("{}\n\n{}", Self::SENTENCE.repeat(sentences), QUESTIONS[0])
    }

    /// A prompt of about `tokens` tokens (within a sentence's).
    fn prompt(&self, tokens: u64) -> String {
        let sentences = (tokens.saturating_sub(self.base) as f64 / self.per_sentence).round();
        Self::text(sentences as usize)
    }
}

/// A whole offline council through the binary (`ask --preset local`):
/// each stage's tokens per second over its time (prefill included), as a
/// ratio to the model's solo speed (`solo`, measured above; `solo_long`
/// after a judge-sized prompt), and the wall time end to end.
#[cfg(feature = "local")]
fn council(
    models: &std::path::Path,
    engine: &engine::Engine,
    filler: &Filler,
    solo: f64,
    solo_long: f64,
) {
    let home = std::env::temp_dir().join(format!("council-bench-local-{}", std::process::id()));
    let started = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_council"))
        .args(["ask", "--preset", "local", "--json", "--seed", "5"])
        .arg("Is it better to rent or buy a home?")
        .env_remove("OPENROUTER_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .env("COUNCIL_MODELS_DIR", models)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run council");
    let wall = started.elapsed();
    let _ = std::fs::remove_dir_all(&home);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let stage = |v: &serde_json::Value| {
        let tokens = v["usage"]["completion_tokens"].as_f64().unwrap_or(0.0);
        let seconds = v["elapsed_ms"].as_f64().unwrap_or(0.0) / 1000.0;
        (tokens, seconds)
    };
    let members: Vec<(f64, f64)> = run["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(stage)
        .collect();
    let panel_tokens: f64 = members.iter().map(|(t, _)| t).sum();
    let panel_seconds = members.iter().map(|(_, s)| *s).fold(0.0, f64::max);
    let rate = |(t, s): (f64, f64)| if s > 0.0 { t / s } else { 0.0 };
    let per_member = rate((panel_tokens, panel_seconds)) / members.len().max(1) as f64;
    println!(
        "council (local preset): members {panel_tokens:.0} tokens in {panel_seconds:.1}s = {per_member:.1} tok/s each ({:.2}x solo)",
        per_member / solo
    );
    let mut stages = Vec::new();
    for name in ["judge", "synthesis"] {
        let (tokens, seconds) = stage(&run[name]);
        let r = rate((tokens, seconds));
        let prompt = run[name]["usage"]["prompt_tokens"].as_u64().unwrap_or(0);
        println!(
            "council (local preset): {name} {tokens:.0} tokens (+{prompt} prompt) in {seconds:.1}s = {r:.1} tok/s ({:.2}x solo, {:.2}x solo after a judge-sized prompt)",
            r / solo,
            r / solo_long
        );
        stages.push((name, tokens as u32, prompt, r));
    }
    println!(
        "council (local preset): {:.1}s end to end (the process, model load included)",
        wall.as_secs_f64()
    );
    // The model alone on each stage's own work: a prompt as long, as many
    // tokens, no grammar. What is left between the two is the stage's own
    // cost (grammar, scheduling), not the model's.
    for (name, tokens, prompt, r) in stages {
        if tokens == 0 {
            continue;
        }
        let text = filler.prompt(prompt);
        let alone = report(
            &format!("1 member, the {name}'s work"),
            run_for(std::slice::from_ref(engine), &[text.as_str()], tokens),
        );
        println!(
            "council (local preset): {name} at {:.2}x the model alone on the same work",
            r / alone
        );
    }
}

#[cfg(not(feature = "local"))]
fn main() {}
