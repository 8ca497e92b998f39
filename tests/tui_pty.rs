//! The real binary in a pseudo-terminal: a question typed as keystrokes, the
//! synthesis read off a vt100 screen, Ctrl-C to quit, and the terminal
//! handed back as it was (main screen, cursor shown, mouse and paste off,
//! cooked mode).

mod support;

use std::time::Duration;

use nix::sys::termios::LocalFlags;
use support::pty::{Term, contents, wait_for};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_binary_answers_in_a_terminal_and_gives_it_back() {
    let server = Server::start(handler).await;
    let base_url = server.base_url.clone();

    let result = tokio::task::spawn_blocking(move || {
        let mut term = Term::spawn(
            "answers",
            &["--base-url", &base_url, "--panel", "x/alpha,y/beta"],
            40,
            120,
        );
        let screen = term.screen.clone();
        let type_keys = |bytes: &[u8]| term.type_keys(bytes);
        wait_for(&screen, "the prompt editor", "Ask the council a question");
        let raw_mode = term
            .pty
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
        wait_for(&screen, "the run to finish", "Synthesis ✓ done");
        let during = contents(&screen);
        assert!(
            during.contains("Beta says blue light scatters more."),
            "a member that sent ESC[2J still has its pane:\n{during}"
        );
        assert!(during.contains("short wavelengths scatter."));

        // Nothing runs, so one Ctrl-C quits.
        term.type_keys(b"\x03");
        let status = term.wait_exit();
        // Let the reader drain what the child wrote last.
        std::thread::sleep(Duration::from_millis(200));
        let cooked = term.pty.master.get_termios().map(|t| {
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
        server.chats().len(),
        4,
        "two members, the judge and the synthesis"
    );
}

/// Before anything is asked: `?` on the empty prompt opens the help the
/// welcome screen promises, and a bracketed paste whose lines are split by
/// lone carriage returns (tmux `paste-buffer -p`) keeps every line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_opens_on_the_first_screen_and_pasted_lines_survive() {
    let server = Server::start(handler).await;
    let base_url = server.base_url.clone();

    tokio::task::spawn_blocking(move || {
        let mut term = Term::spawn(
            "first-screen",
            &["--base-url", &base_url, "--panel", "x/alpha,y/beta"],
            24,
            80,
        );
        term.wait_for("the prompt editor", "Ask the council a question");
        let hints = term.contents();
        assert!(hints.contains("?/F1 help"), "the hint bar:\n{hints}");

        term.type_keys(b"?");
        term.wait_for("the help", "Esc closes");
        term.type_keys(b"\x1b");
        term.wait_for("the editor again", "Ask the council a question");
        let after = term.contents();
        assert!(
            !after.contains("Esc closes"),
            "Esc closes the help:\n{after}"
        );
        assert!(
            !after.contains("│ ?"),
            "`?` opened the help and typed nothing:\n{after}"
        );

        term.type_keys(b"\x1b[200~first line\rsecond line\rthird line\x1b[201~");
        term.wait_for("the pasted text", "third line");
        let pasted = term.contents();
        let rows: Vec<&str> = pasted.lines().filter(|l| l.contains(" line")).collect();
        assert_eq!(rows.len(), 3, "one row per pasted line:\n{pasted}");

        // Once something is typed, `?` is just a character.
        term.type_keys(b"?\r");
        term.wait_for("the run to finish", "Synthesis ✓ done");
        term.type_keys(b"\x03");
        assert!(term.wait_exit().success());
    })
    .await
    .unwrap();

    let question = server
        .chats()
        .iter()
        .find(|r| !r.is_judge() && !r.is_synthesis())
        .map(|r| r.body.to_string())
        .expect("a member was asked");
    assert!(
        question.contains(r"first line\nsecond line\nthird line?"),
        "the question keeps its line breaks: {question}"
    );
}

/// A council on `--base-url` saved as a preset from the panel editor runs
/// again from that preset without the flag: the preset keeps the endpoint
/// and the name of the key's variable, never the key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preset_saved_on_a_custom_endpoint_runs_without_the_flag() {
    let server = Server::start(handler).await;
    let base_url = server.base_url.clone();
    const KEY: &str = "sk-pty-test-secret";

    let home = tokio::task::spawn_blocking(move || {
        let mut term = Term::spawn_with(
            "saved-preset",
            &[
                "--base-url",
                &base_url,
                "--api-key-env",
                "COUNCIL_PTY_KEY",
                "--panel",
                "x/alpha,y/beta",
            ],
            &[("COUNCIL_PTY_KEY", KEY)],
            40,
            120,
        );
        term.wait_for("the prompt editor", "Ask the council a question");
        term.type_keys(b"\x10");
        term.wait_for("the panel editor", "x/alpha");
        term.type_keys(b"s");
        std::thread::sleep(Duration::from_millis(100));
        term.type_keys(b"on-my-server\r");
        term.wait_for("the saved notice", "saved preset on-my-server");
        term.type_keys(b"\x1b");
        std::thread::sleep(Duration::from_millis(100));
        term.type_keys(b"\x03");
        assert!(term.wait_exit().success());
        term.home.clone()
    })
    .await
    .unwrap();

    let preset = std::fs::read_to_string(home.join("config/council/presets/on-my-server.toml"))
        .expect("the preset file");
    assert!(preset.contains(&server.base_url), "{preset}");
    assert!(preset.contains("COUNCIL_PTY_KEY"), "{preset}");
    assert!(!preset.contains(KEY), "the key never reaches a file");

    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_council"))
        .args(["ask", "--preset", "on-my-server", "Why is the sky blue?"])
        .env_remove("OPENROUTER_API_KEY")
        .env("COUNCIL_PTY_KEY", KEY)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The TUI may have asked the endpoint for its models; count the chats.
    let requests: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .collect();
    assert_eq!(requests.len(), 4, "the preset's council ran on the server");
    assert!(requests.iter().all(|r| {
        r.headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("authorization") && v == &format!("Bearer {KEY}"))
    }));
}

/// `↑` in the prompt reaches questions asked before a restart: they come
/// from the saved sessions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_prompt_history_survives_a_restart() {
    let server = Server::start(handler).await;
    let base_url = server.base_url.clone();
    tokio::task::spawn_blocking(move || {
        let args = ["--base-url", base_url.as_str(), "--panel", "x/alpha,y/beta"];
        let mut first = Term::spawn_with("history", &args, &[], 24, 80);
        first.wait_for("the prompt editor", "Ask the council a question");
        first.type_keys(b"Why is the sea salty?\r");
        first.wait_for("the run to finish", "Synthesis ✓ done");
        std::thread::sleep(Duration::from_millis(300));
        first.type_keys(b"\x03");
        assert!(first.wait_exit().success());

        let mut second = Term::spawn_at(first.home.clone(), &args, &[], 24, 80);
        second.wait_for("the prompt editor", "Ask the council a question");
        second.type_keys(b"\x1b[A");
        second.wait_for("the earlier question", "Why is the sea salty?");
        second.type_keys(b"\x03");
        assert!(second.wait_exit().success());
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_to_a_terminal_is_sanitized_and_files_and_pipes_keep_the_text() {
    let server = Server::start(handler).await;
    let home = std::env::temp_dir().join(format!("council-pty-export-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let sessions = home.join("sessions");
    let env = [("COUNCIL_SESSIONS_DIR", sessions.to_str().unwrap())];
    let asked = std::process::Command::new(env!("CARGO_BIN_EXE_council"))
        .args([
            "ask",
            "--base-url",
            &server.base_url,
            "--panel",
            "x/alpha,y/beta",
            "Why?",
        ])
        .env_remove("OPENROUTER_API_KEY")
        .env("XDG_CONFIG_HOME", home.join("config"))
        .envs(env)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(asked.status.success());

    let mut term = Term::spawn_at(home.clone(), &["export", "last"], &env, 40, 120);
    assert!(term.wait_exit().success());
    // Wait for the reader to take everything in.
    term.wait_for("the export", "Rayleigh scattering.");
    let raw = term.screen.lock().unwrap().raw.clone();
    let raw = String::from_utf8_lossy(&raw);
    assert!(
        !raw.contains("\u{1b}]0;pwned") && !raw.contains("\u{1b}[2J"),
        "{raw:?}"
    );

    // A pipe and a file get the text as it is.
    let piped = std::process::Command::new(env!("CARGO_BIN_EXE_council"))
        .args(["export", "last"])
        .env("XDG_CONFIG_HOME", home.join("config"))
        .envs(env)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&piped.stdout).contains("\u{1b}]0;pwned\u{7}Rayleigh"));
    let file = home.join("export.md");
    let written = std::process::Command::new(env!("CARGO_BIN_EXE_council"))
        .args(["export", "last", "-o", file.to_str().unwrap()])
        .env("XDG_CONFIG_HOME", home.join("config"))
        .envs(env)
        .output()
        .unwrap();
    assert!(written.status.success());
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("\u{1b}[2J")
    );
    std::fs::remove_dir_all(&home).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_terminating_signal_gives_the_terminal_back() {
    let server = Server::start(handler).await;
    let base_url = server.base_url.clone();
    tokio::task::spawn_blocking(move || {
        for (name, signal) in [
            ("int", libc::SIGINT),
            ("term", libc::SIGTERM),
            ("hup", libc::SIGHUP),
            ("quit", libc::SIGQUIT),
        ] {
            let mut term = Term::spawn(
                &format!("signal-{name}"),
                &["--base-url", &base_url, "--panel", "x/alpha"],
                30,
                100,
            );
            term.wait_for("the prompt editor", "Ask the council a question");
            let pid = term.child.process_id().unwrap() as i32;
            assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
            term.wait_exit();
            std::thread::sleep(Duration::from_millis(200));
            let cooked = term.pty.master.get_termios().map(|t| {
                t.local_flags
                    .contains(LocalFlags::ICANON | LocalFlags::ECHO | LocalFlags::ISIG)
            });
            assert_eq!(cooked, Some(true), "SIG{name}: cooked mode again");
            let s = term.screen.lock().unwrap();
            assert!(
                !s.parser.screen().alternate_screen(),
                "SIG{name}: main screen"
            );
            assert!(!s.parser.screen().hide_cursor(), "SIG{name}: cursor shown");
        }
    })
    .await
    .unwrap();
}

/// Ctrl+E hands the question to `$EDITOR` on a cooked terminal, takes back
/// what it saved, and the TUI carries on in raw mode to ask it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_e_writes_the_question_in_the_editor() {
    let server = Server::start(handler).await;
    let base_url = server.base_url.clone();
    let dir = std::env::temp_dir().join(format!("council-pty-edit-script-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("edit.sh");
    let seen = dir.join("terminal-was");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nstty -a < /dev/tty | grep -q ' icanon' && echo cooked > '{}'\necho 'editor ready' > /dev/tty\nIFS= read -r typed < /dev/tty\nprintf 'Edited: %s, %s' \"$(cat \"$1\")\" \"$typed\" > \"$1\"\n",
            seen.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let editor = script.display().to_string();

    let raw_after = tokio::task::spawn_blocking(move || {
        let mut term = Term::spawn_with(
            "editor",
            &[
                "--base-url",
                &base_url,
                "--panel",
                "x/alpha,y/beta",
                "--log-level",
                "debug",
            ],
            &[("EDITOR", &editor), ("VISUAL", "")],
            40,
            120,
        );
        term.wait_for("the prompt editor", "Ask the council a question");
        term.type_keys(b"draft");
        term.wait_for("the typed draft", "draft");
        term.type_keys(b"\x05");
        // Keys typed now are the editor's, not the TUI's.
        term.wait_for("the editor", "editor ready");
        term.type_keys(b"why is the sky blue?\r");
        term.wait_for("the edited question", "Edited: draft, why is the sky blue?");
        let raw = term
            .pty
            .master
            .get_termios()
            .map(|t| !t.local_flags.contains(LocalFlags::ICANON));
        term.type_keys(b"\r");
        term.wait_for("the synthesis", "Rayleigh scattering.");
        term.wait_for("the run to finish", "Synthesis ✓ done");
        term.type_keys(b"\x03");
        assert!(term.wait_exit().success());
        std::thread::sleep(Duration::from_millis(200));
        let written = String::from_utf8_lossy(&term.screen.lock().unwrap().raw).into_owned();
        assert!(!written.contains("DEBUG"), "logs never reach the terminal");
        let log = std::fs::read_to_string(term.home.join("state/council/council.log"))
            .expect("the log file");
        assert!(
            log.contains("chat request") && log.contains("run finished"),
            "{log}"
        );
        raw
    })
    .await
    .unwrap();

    assert_eq!(raw_after, Some(true), "raw mode is back after the editor");
    assert_eq!(
        std::fs::read_to_string(&seen).unwrap_or_default().trim(),
        "cooked",
        "the editor ran on a cooked terminal"
    );
    let chats = server.chats();
    assert_eq!(chats.len(), 4);
    assert!(
        chats
            .iter()
            .filter(|c| !c.is_judge() && !c.is_synthesis())
            .all(|c| c.user_prompt() == "Edited: draft, why is the sky blue?"),
        "{:?}",
        chats
            .iter()
            .map(|c| c.user_prompt().to_string())
            .collect::<Vec<_>>()
    );
}

/// `@path` in the question, completed with Tab, attaches the file: the
/// member reads it delimited and named, the screen lists it under the
/// question. A panel of one answers alone: no judge, no synthesis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_path_attaches_a_file_and_a_panel_of_one_answers_alone() {
    let server = Server::start(handler).await;
    let base_url = server.base_url.clone();
    let dir = std::env::temp_dir().join(format!("council-pty-attach-dir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes-on-light.md"), "Blue scatters most.\n").unwrap();
    let typed = format!("Is @{}/notes-on", dir.display());
    let path = dir.join("notes-on-light.md").display().to_string();

    let screen = tokio::task::spawn_blocking(move || {
        let mut term = Term::spawn(
            "at-files",
            &["--base-url", &base_url, "--panel", "x/alpha"],
            40,
            120,
        );
        term.wait_for("the prompt editor", "Ask the council a question");
        term.type_keys(typed.as_bytes());
        term.type_keys(b"\t");
        term.wait_for("the completed path", "notes-on-light.md");
        term.type_keys(b"right?\r");
        term.wait_for("the answer", "✓ done");
        term.wait_for(
            "the attachment under the question",
            "notes-on-light.md (20 B)",
        );
        let screen = term.contents();
        term.type_keys(b"\x03");
        assert!(term.wait_exit().success());
        screen
    })
    .await
    .unwrap();

    let chats = server.chats();
    assert_eq!(chats.len(), 1, "a panel of one: no judge, no synthesis");
    assert_eq!(
        support::unfenced(chats[0].user_prompt()),
        format!(
            "Is @{path} right?\n\n<attachment name=\"{path}\">\nBlue scatters most.\n</attachment>"
        )
    );
    assert!(!screen.contains("Synthesis"), "{screen}");
}

/// Environment variables set for a run.
type Env<'a> = &'a [(&'a str, &'a str)];

/// Cells of the screen drawn in a colour of their own (not the terminal's).
fn coloured_cells(term: &Term) -> usize {
    let screen = term.screen.lock().unwrap();
    let screen = screen.parser.screen();
    let (rows, cols) = screen.size();
    (0..rows.get())
        .flat_map(|r| (0..cols.get()).map(move |c| (r, c)))
        .filter_map(|(r, c)| screen.cell(r, c))
        .filter(|cell| {
            cell.fgcolor() != vt100::Color::Default || cell.bgcolor() != vt100::Color::Default
        })
        .count()
}

/// NO_COLOR and `--color never` keep the TUI to the terminal's own colours
/// (focus shown by weight and borders); `--color always` wins over NO_COLOR.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_color_keeps_the_screen_to_the_terminals_colours() {
    let server = Server::start(handler).await;
    let base_url = server.base_url.clone();
    let counts = tokio::task::spawn_blocking(move || {
        let cases: [(&str, &[&str], Env); 4] = [
            ("colour", &[], &[]),
            ("no-color", &[], &[("NO_COLOR", "1")]),
            ("never", &["--color", "never"], &[]),
            ("always", &["--color", "always"], &[("NO_COLOR", "1")]),
        ];
        cases.map(|(name, flags, env)| {
            let mut args = vec!["--base-url", base_url.as_str(), "--panel", "x/alpha,y/beta"];
            args.extend_from_slice(flags);
            let mut term = Term::spawn_with(&format!("colours-{name}"), &args, env, 30, 100);
            term.wait_for("the prompt editor", "Ask the council a question");
            term.type_keys(b"Why is the sky blue?\r");
            term.wait_for("the run to finish", "Synthesis ✓ done");
            let coloured = coloured_cells(&term);
            term.type_keys(b"\x03");
            assert!(term.wait_exit().success());
            coloured
        })
    })
    .await
    .unwrap();
    let [colour, no_color, never, always] = counts;
    assert!(colour > 0 && always > 0, "{counts:?}");
    assert_eq!((no_color, never), (0, 0), "{counts:?}");
}

/// The title of the pane drawn with the focus's thick border.
fn focused_title(screen: &str) -> String {
    let line = screen.lines().find(|l| l.contains('┏')).unwrap_or("");
    let after = line.split('┏').nth(1).unwrap_or("");
    after
        .trim_start_matches('━')
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string()
}

/// Shift+Tab as a terminal sends it (`ESC [ Z`) steps the focus back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shift_tab_from_the_terminal_moves_the_focus_back() {
    let server = Server::start(handler).await;
    let base_url = server.base_url.clone();
    let (first, second, back) = tokio::task::spawn_blocking(move || {
        let mut term = Term::spawn(
            "backtab",
            &["--base-url", &base_url, "--panel", "x/alpha,y/beta"],
            40,
            120,
        );
        term.wait_for("the prompt editor", "Ask the council a question");
        term.type_keys(b"Why is the sky blue?\r");
        term.wait_for("the run to finish", "Synthesis ✓ done");
        let settle = || std::thread::sleep(Duration::from_millis(300));
        settle();
        let first = focused_title(&term.contents());
        term.type_keys(b"\t");
        settle();
        let second = focused_title(&term.contents());
        term.type_keys(b"\x1b[Z");
        settle();
        let back = focused_title(&term.contents());
        term.type_keys(b"\x03");
        assert!(term.wait_exit().success());
        (first, second, back)
    })
    .await
    .unwrap();
    assert!(!first.is_empty(), "a pane has the focus");
    assert_ne!(first, second, "Tab moves the focus");
    assert_eq!(back, first, "Shift+Tab moves it back");
}

/// The screen row where the judge's pane begins.
fn judge_row(screen: &str) -> usize {
    screen
        .lines()
        .position(|l| l.starts_with("╭ Judge ") || l.starts_with("┏ Judge "))
        .expect("the judge's pane is on screen")
}

/// Space follows the work: once the members are done their panes shrink
/// to what they hold; `L` arranges the screen another way, and the choice
/// is remembered for the next start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn space_follows_the_work_and_l_is_remembered() {
    let server = Server::start(handler).await;
    let base_url = server.base_url.clone();
    tokio::task::spawn_blocking(move || {
        let args = ["--base-url", base_url.as_str(), "--panel", "x/alpha,y/beta"];
        let settle = || std::thread::sleep(Duration::from_millis(300));
        let mut first = Term::spawn_with("layout", &args, &[], 40, 120);
        first.wait_for("the prompt editor", "Ask the council a question");
        first.type_keys(b"Why is the sea salty?\r");
        first.wait_for("the run to finish", "Synthesis ✓ done");
        settle();
        // Two short answers: a pane of one line each (and its borders).
        let follows = judge_row(&first.contents());
        assert!(
            (5..=8).contains(&follows),
            "members shrink to their content: row {follows}"
        );
        // Esc alone (a key right after it would read as Alt+key), then L.
        first.type_keys(b"\x1b");
        settle();
        first.type_keys(b"L");
        first.wait_for(
            "the arrangement remembered",
            "layout: panel first (remembered)",
        );
        let panel_first = judge_row(&first.contents());
        assert!(panel_first > 20, "the panel has 70%: row {panel_first}");
        first.type_keys(b"\x03");
        assert!(first.wait_exit().success());
        let saved = std::fs::read_to_string(first.home.join("state/council/ui.toml")).unwrap();
        assert!(saved.contains("layout = \"panel first\""), "{saved}");

        let mut second = Term::spawn_at(first.home.clone(), &args, &[], 40, 120);
        second.wait_for("the prompt editor", "Ask the council a question");
        second.type_keys(b"Why is the sea salty?\r");
        second.wait_for("the run to finish", "Synthesis ✓ done");
        settle();
        assert_eq!(judge_row(&second.contents()), panel_first, "remembered");
        second.type_keys(b"\x03");
        assert!(second.wait_exit().success());
    })
    .await
    .unwrap();
}
