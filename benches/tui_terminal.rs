//! The real binary in a real pseudo-terminal (160x48, xterm-256color):
//! members stream as fast as a loopback server can send, crossterm writes
//! every frame to the terminal, and the child's own CPU time (user + system,
//! from /proc) is divided by the words streamed. The terminal side only
//! drains the output, so its cost is not counted.
//!
//! The shapes: paragraphs of 40 words (as models write), one fenced code
//! block and one paragraph without a break, whose open block grows to the
//! whole answer: its cost per word must stay flat, as the paragraphs' does.
//!
//! `cargo bench --bench tui_terminal` prints one line per case;
//! `COUNCIL_BENCH_WORDS` sets the words per member (60,000 by default).

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use support::Server;
use support::flood::{Shape, flood_shaped};

/// Words per member, unless `COUNCIL_BENCH_WORDS` says otherwise.
fn words() -> usize {
    std::env::var("COUNCIL_BENCH_WORDS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(60_000)
}

/// User + system CPU time of a process, from /proc/PID/stat.
fn process_cpu(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc stat");
    // Fields after the command name, which is in parentheses.
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Duration::from_secs_f64(ticks as f64 / per_second)
}

/// Returns the council's CPU time per word, in µs.
fn case(rt: &tokio::runtime::Runtime, members: usize, shape: Shape, words_each: usize) -> f64 {
    let server = Arc::new(rt.block_on(Server::start(flood_shaped(words_each, None, shape))));
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 48,
            cols: 160,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("open a pty");
    let panel: Vec<String> = (0..members).map(|i| format!("bench/m{i}")).collect();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_council"));
    cmd.args([
        "--base-url",
        &server.base_url,
        "--panel",
        &panel.join(","),
        "How fast can you draw?",
    ]);
    cmd.env_remove("OPENROUTER_API_KEY");
    cmd.env("TERM", "xterm-256color");
    let home = std::env::temp_dir().join(format!("council-bench-term-{}", std::process::id()));
    cmd.env("XDG_CONFIG_HOME", home.join("config"));
    cmd.env("XDG_DATA_HOME", home.join("data"));
    cmd.env("XDG_CACHE_HOME", home.join("cache"));
    let mut child = pair.slave.spawn_command(cmd).expect("spawn council");
    let pid = child.process_id().expect("a pid");

    let written = Arc::new(AtomicUsize::new(0));
    let mut reader = pair.master.try_clone_reader().unwrap();
    let keys = Arc::new(std::sync::Mutex::new(pair.master.take_writer().unwrap()));
    let count = written.clone();
    let answer = keys.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            count.fetch_add(n, Ordering::Relaxed);
            // Answer a cursor-position query as a terminal would.
            if buf[..n].windows(4).any(|w| w == b"\x1b[6n") {
                let mut w = answer.lock().unwrap();
                let _ = w.write_all(b"\x1b[1;1R");
                let _ = w.flush();
            }
        }
    });

    let wall = Instant::now();
    let deadline = wall + Duration::from_secs(600);
    while !server
        .requests()
        .iter()
        .any(|r| r.is_synthesis() && r.finished.is_some())
    {
        assert!(Instant::now() < deadline, "the run did not finish");
        std::thread::sleep(Duration::from_millis(5));
    }
    // Let the last frames land before reading the clock.
    std::thread::sleep(Duration::from_millis(300));
    let wall = wall.elapsed();
    let cpu = process_cpu(pid);
    {
        // Twice: a first Ctrl-C that lands while the screen still folds the
        // run's last events cancels rather than quits.
        let mut w = keys.lock().unwrap();
        w.write_all(b"\x03").unwrap();
        w.flush().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        w.write_all(b"\x03").unwrap();
        w.flush().unwrap();
    }
    let _ = child.wait();
    std::fs::remove_dir_all(&home).ok();

    let words = words_each * members;
    let per_word = cpu.as_secs_f64() * 1e6 / words as f64;
    println!(
        "{members} members flooding ({}), 160x48 pty: {words} words in {:.2}s wall, council CPU {:.2}s (user+sys, from start to finish) = {per_word:.2} µs per word, {:.1} MB written to the terminal",
        shape.name(),
        wall.as_secs_f64(),
        cpu.as_secs_f64(),
        written.load(Ordering::Relaxed) as f64 / 1e6,
    );
    per_word
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let paragraphs = case(&rt, 4, Shape::Paragraphs, words());
    for shape in [Shape::CodeBlock, Shape::OneParagraph] {
        let per_word = case(&rt, 4, shape, words());
        println!(
            "  {}: {:.2}x the paragraphs' cost per word",
            shape.name(),
            per_word / paragraphs
        );
    }
    // Eight members of 20,000 words: their answers together stay within
    // what the judge is sent.
    case(&rt, 8, Shape::Paragraphs, 20_000);
}
