//! The real binary in a pseudo-terminal: a question typed as keystrokes, the
//! synthesis read off a vt100 screen, Ctrl-C to quit, and the terminal
//! handed back as it was (main screen, cursor shown, mouse and paste off,
//! cooked mode).

mod support;

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::termios::LocalFlags;
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use support::{Recorded, Reply, Server, judge_json};

fn handler(r: &Recorded, _: usize) -> Reply {
    if r.is_judge() {
        Reply::text(&[&judge_json()])
    } else if r.is_synthesis() {
        // A hostile title change inside the final answer.
        Reply::text(&[
            "The sky is blue because of ",
            "\u{1b}]0;pwned\u{7}Rayleigh scattering.",
        ])
    } else if r.model() == "y/beta" {
        // A member that tries to clear the screen.
        Reply::text(&["Beta says \u{1b}[2J", "blue light scatters more."])
    } else {
        Reply::text(&["Alpha says ", "short wavelengths scatter."])
    }
}

/// The terminal side: everything the child wrote, and a screen parsed from it.
struct Screen {
    raw: Vec<u8>,
    parser: vt100::Parser,
}

fn contents(screen: &Arc<Mutex<Screen>>) -> String {
    screen.lock().unwrap().parser.screen().contents()
}

fn wait_for(screen: &Arc<Mutex<Screen>>, what: &str, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !contents(screen).contains(text) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what} ({text:?}); the screen:\n{}",
            contents(screen)
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_binary_answers_in_a_terminal_and_gives_it_back() {
    let server = Server::start(handler).await;
    let base_url = server.base_url.clone();

    let result = tokio::task::spawn_blocking(move || {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: 40,
                cols: 120,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_council"));
        cmd.args(["--base-url", &base_url, "--panel", "x/alpha,y/beta"]);
        cmd.env_remove("OPENROUTER_API_KEY");
        cmd.env_remove("OPENAI_API_KEY");
        cmd.env("TERM", "xterm-256color");
        let config = std::env::temp_dir().join("council-pty-test");
        cmd.env("XDG_CONFIG_HOME", config.join("config"));
        cmd.env("XDG_DATA_HOME", config.join("data"));
        cmd.env("XDG_CACHE_HOME", config.join("cache"));
        let mut child = pty.slave.spawn_command(cmd).expect("spawn council");
        drop(pty.slave);

        let screen = Arc::new(Mutex::new(Screen {
            raw: Vec::new(),
            parser: vt100::Parser::new(
                NonZeroU16::new(40).unwrap(),
                NonZeroU16::new(120).unwrap(),
                0,
            ),
        }));
        let mut reader = pty.master.try_clone_reader().unwrap();
        let keys = Arc::new(Mutex::new(pty.master.take_writer().unwrap()));
        let (sink, answer) = (screen.clone(), keys.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut s = sink.lock().unwrap();
                s.raw.extend_from_slice(&buf[..n]);
                s.parser.process(&buf[..n]);
                // Answer cursor-position queries as a terminal does.
                if buf[..n].windows(4).any(|w| w == b"\x1b[6n") {
                    let (row, col) = s.parser.screen().cursor_position();
                    let reply = format!("\x1b[{};{}R", row + 1, col + 1);
                    let mut w = answer.lock().unwrap();
                    let _ = w.write_all(reply.as_bytes());
                    let _ = w.flush();
                }
            }
        });
        let type_keys = |bytes: &[u8]| {
            let mut w = keys.lock().unwrap();
            w.write_all(bytes).unwrap();
            w.flush().unwrap();
        };

        wait_for(&screen, "the prompt editor", "Ask the council a question");
        let raw_mode = pty
            .master
            .get_termios()
            .map(|t| !t.local_flags.contains(LocalFlags::ICANON));
        assert_eq!(
            raw_mode,
            Some(true),
            "the TUI puts the terminal in raw mode"
        );

        type_keys(b"Why is the sky blue?\r");
        wait_for(&screen, "the synthesis", "Rayleigh scattering.");
        wait_for(&screen, "the run to finish", "✓ done");
        let during = contents(&screen);
        assert!(
            during.contains("Beta says blue light scatters more."),
            "a member that sent ESC[2J still has its pane:\n{during}"
        );
        assert!(during.contains("short wavelengths scatter."));

        // Nothing runs, so one Ctrl-C quits.
        type_keys(b"\x03");
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "council did not quit on Ctrl-C");
            std::thread::sleep(Duration::from_millis(25));
        };
        // Let the reader drain what the child wrote last.
        std::thread::sleep(Duration::from_millis(200));
        let cooked = pty.master.get_termios().map(|t| {
            t.local_flags
                .contains(LocalFlags::ICANON | LocalFlags::ECHO)
        });
        let s = screen.lock().unwrap();
        (status.success(), cooked, s.raw.clone(), {
            let sc = s.parser.screen();
            (
                sc.alternate_screen(),
                sc.hide_cursor(),
                sc.bracketed_paste(),
                sc.mouse_protocol_mode(),
            )
        })
    })
    .await
    .unwrap();

    let (success, cooked, raw, (alternate, hidden, paste, mouse)) = result;
    assert!(success, "council exits 0 when the person quits");
    assert_eq!(cooked, Some(true), "raw mode is turned off again");
    assert!(!alternate, "back on the main screen");
    assert!(!hidden, "the cursor is shown");
    assert!(!paste, "bracketed paste is off");
    assert_eq!(
        mouse,
        vt100::MouseProtocolMode::None,
        "mouse capture is off"
    );
    let find = |needle: &[u8]| raw.windows(needle.len()).any(|w| w == needle);
    assert!(find(b"\x1b[?1049h"), "the alternate screen was used");
    assert!(!find(b"\x1b]0;pwned"), "model output never sets the title");
    assert_eq!(
        server.count(),
        4,
        "two members, the judge and the synthesis"
    );
}
