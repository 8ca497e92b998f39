//! The TUI's CPU cost while members stream: the whole app loop (engine,
//! event folding, drawing on a 200x60 TestBackend at <= 60 fps) runs on one
//! thread, the scripted server on others, so that thread's CPU time is what
//! council spends. Four and eight members, as fast as the loopback server can
//! send and at 100 tokens/s per member (a fast real model); then the same
//! loop idle with the finished run on screen, which should not wake at all.
//!
//! `cargo bench --bench tui_stream` prints one line per case.

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use council::config::CouncilRequest;
use council::engine::RunOutcome;
use council::tui::App;
use council::tui::clipboard::MemoryClipboard;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use support::Server;
use support::flood::flood;

/// CPU time this thread has used.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn case(members: usize, tokens: usize, gap: Option<Duration>, idle: Duration) {
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = Arc::new(server_rt.block_on(Server::start(flood(tokens, gap))));
    let request = CouncilRequest {
        panel: (0..members).map(|i| format!("bench/m{i}")).collect(),
        base_url: Some(server.base_url.clone()),
        ..CouncilRequest::default()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut app = App::new(request, Box::new(MemoryClipboard::default()));
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();

    let cpu = thread_cpu();
    let wall = Instant::now();
    rt.block_on(async {
        app.ask("How fast can you draw?");
        let watch = server.clone();
        // Ends the loop once the synthesis has been sent and had time to land.
        let finished = async move {
            loop {
                let done = watch
                    .requests()
                    .iter()
                    .any(|r| r.is_synthesis() && r.finished.is_some());
                if done {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    return;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        app.run(&mut terminal, futures::stream::pending(), finished)
            .await
            .unwrap();
    });
    let wall = wall.elapsed();
    let cpu = thread_cpu() - cpu;

    assert_eq!(
        app.state.run.report().outcome,
        Some(RunOutcome::Synthesized)
    );
    let streamed: usize = app
        .state
        .run
        .members()
        .map(|(_, t)| t.deltas as usize)
        .sum();
    assert_eq!(streamed, tokens * members, "every token arrived");
    let rate = match gap {
        Some(gap) => format!("{:.0} tok/s each", 1.0 / gap.as_secs_f64()),
        None => "as fast as possible".into(),
    };
    println!(
        "{members} members, {rate}: {streamed} tokens in {:.2}s wall ({:.0} tok/s), council thread CPU {:.2}s = {:.0}% of one core, {:.1} µs CPU per token, {} frames",
        wall.as_secs_f64(),
        streamed as f64 / wall.as_secs_f64(),
        cpu.as_secs_f64(),
        100.0 * cpu.as_secs_f64() / wall.as_secs_f64(),
        cpu.as_secs_f64() * 1e6 / streamed as f64,
        app.frames,
    );

    // Idle: the finished run stays on screen; nothing should wake the loop.
    let frames = app.frames;
    let cpu = thread_cpu();
    rt.block_on(async {
        app.run(
            &mut terminal,
            futures::stream::pending(),
            tokio::time::sleep(idle),
        )
        .await
        .unwrap();
    });
    let cpu = thread_cpu() - cpu;
    // `run` draws once when it starts; every further frame is a wake-up.
    let idle_frames = app.frames - frames - 1;
    println!(
        "  then idle {:.0}s with the run on screen: {idle_frames} frames after the first, council thread CPU {:.2} ms = {:.3}% of one core",
        idle.as_secs_f64(),
        cpu.as_secs_f64() * 1e3,
        100.0 * cpu.as_secs_f64() / idle.as_secs_f64(),
    );
    assert_eq!(idle_frames, 0, "an idle screen is never redrawn");
}

fn main() {
    // `cargo test --benches` runs bench targets once with `--bench` absent; keep it short.
    let quick = !std::env::args().any(|a| a == "--bench");
    if quick {
        case(4, 200, None, Duration::from_millis(300));
        return;
    }
    let idle = Duration::from_secs(10);
    for members in [4, 8] {
        case(members, 20_000, None, idle);
        case(members, 500, Some(Duration::from_millis(10)), idle);
    }
}
