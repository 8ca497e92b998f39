//! Orchestration overhead: a 4-member council (panel, judge, synthesis)
//! against a loopback server that answers at once, so the time measured is
//! what council itself adds: HTTP client, SSE decoding, events, judge
//! parsing and prompts. Figures include the in-process server's own work,
//! so they are an upper bound on the overhead.

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;

use council::engine::{Council, RunOptions, RunOutcome, RunReport, Seat, SeatSpec};
use council::provider::Provider;
use council::provider::openai::{OpenAiConfig, OpenAiProvider};
use support::{Recorded, Reply, Server, judge_json};

fn main() {
    divan::main();
}

fn handler(r: &Recorded, _: usize) -> Reply {
    if r.is_judge() {
        return Reply::text(&[&judge_json()]);
    }
    // 200 content chunks per member and for the synthesis.
    let words: Vec<String> = (0..200).map(|i| format!("word{i} ")).collect();
    let parts: Vec<&str> = words.iter().map(String::as_str).collect();
    Reply::text(&parts)
}

fn council(base_url: &str) -> Council {
    let provider: Arc<dyn Provider> =
        Arc::new(OpenAiProvider::new(OpenAiConfig::new("bench", base_url)).unwrap());
    let seat = |name: &str| Seat {
        spec: SeatSpec::new(name, format!("bench/{name}"), "bench"),
        provider: provider.clone(),
        fallbacks: Vec::new(),
    };
    Council {
        preset: None,
        members: vec![seat("a"), seat("b"), seat("c"), seat("d")],
        judge: seat("judge"),
        synthesizer: seat("synth"),
        endpoints: Default::default(),
        rounds: 1,
        ranking: false,
        limits: Default::default(),
    }
}

#[divan::bench(sample_count = 50)]
fn four_member_council(bencher: divan::Bencher) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(Server::start(handler));
    let council = council(&server.base_url);
    bencher.bench_local(|| {
        runtime.block_on(async {
            let mut handle = council::run(
                council.clone(),
                "Why is the sky blue?",
                RunOptions {
                    seed: Some(1),
                    ..RunOptions::default()
                },
            );
            let mut report = RunReport::default();
            let mut batch = Vec::with_capacity(256);
            while handle.events.recv_many(&mut batch, 256).await > 0 {
                for e in batch.drain(..) {
                    report.apply(&e);
                }
            }
            assert_eq!(report.outcome, Some(RunOutcome::Synthesized));
        })
    });
}
