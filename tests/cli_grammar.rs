//! The command line a daily user types: options before a subcommand, a
//! mistyped command, a question piped in with no terminal. Through the
//! binary, against the scripted server.

mod support;

use support::cli::{config_on, council};
use support::pty::Term;
use support::{Recorded, Reply, Server, judge_json};

fn handler(r: &Recorded, _: usize) -> Reply {
    if r.is_judge() {
        return Reply::text(&[&judge_json()]);
    }
    if r.is_synthesis() {
        return Reply::text(&["The synthesis."]);
    }
    Reply::text(&["Answer from ", r.model()])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_before_the_subcommand_work() {
    let server = Server::start(handler).await;
    let run = council(
        &[
            "--log-level",
            "debug",
            "--base-url",
            &server.base_url,
            "ask",
            "-m",
            "x/solo",
            "hi",
        ],
        None,
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "Answer from x/solo");
}

/// A folder of the test's own, empty.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("council-grammar-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The default council is on the scripted server, so a word taken as a
/// question would reach it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mistyped_command_is_refused_before_any_request() {
    let server = Server::start(handler).await;
    let config = scratch("typo");
    config_on(&config, &server.base_url);
    let config_env = [("XDG_CONFIG_HOME", config.to_str().unwrap())];
    for (word, hint) in [
        ("sesions", "did you mean `sessions`"),
        ("version", "council --version"),
        ("logs", "not a command"),
    ] {
        let run = council(&[word], None, &config_env).await;
        assert_eq!(run.code, 2, "{word}: {}", run.stderr);
        assert!(run.stderr.contains(hint), "{word}: {}", run.stderr);
        assert!(
            run.stderr.contains(&format!("council -- {word}")),
            "how to ask it anyway: {}",
            run.stderr
        );
    }
    assert_eq!(server.count(), 0, "nothing was asked");
    // With `--` it is a question, and the default council is asked it.
    let run = council(&["--", "sesions"], None, &config_env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "The synthesis.");
    assert_eq!(
        server.chats().len(),
        4,
        "two members, the judge, the synthesis"
    );
}

/// On a terminal, where the word would open the TUI and be asked there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mistyped_command_in_a_terminal_asks_nothing() {
    let server = Server::start(handler).await;
    let home = scratch("typo-pty");
    config_on(&home.join("config"), &server.base_url);
    let (code, screen) = tokio::task::spawn_blocking(move || {
        let mut term = Term::spawn_at(home, &["sesions"], &[], 24, 100);
        let status = term.wait_exit();
        term.wait_for("the refusal", "council -- sesions");
        (status.exit_code(), term.contents())
    })
    .await
    .unwrap();
    assert_eq!(code, 2, "{screen}");
    assert!(screen.contains("did you mean `sessions`"), "{screen}");
    assert_eq!(server.count(), 0, "nothing was asked");
}

/// Without a terminal, `council` answers a piped question as `ask` does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_piped_question_without_a_terminal_is_answered() {
    let server = Server::start(handler).await;
    let run = council(
        &["--base-url", &server.base_url, "--panel", "x/a,x/b"],
        Some("Why is the sky blue?\n"),
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "The synthesis.");
    let members = server
        .chats()
        .into_iter()
        .filter(|r| !r.is_judge() && !r.is_synthesis())
        .count();
    assert_eq!(members, 2);
}

/// `-c` continues the latest session, as `--session last` does; with
/// `--no-stream` the synthesis is printed once, whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn continue_the_latest_session_and_print_once() {
    let server = Server::start(handler).await;
    let dir = std::env::temp_dir().join(format!("council-grammar-c-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let env = [("COUNCIL_SESSIONS_DIR", dir.to_str().unwrap())];
    let ask = |extra: &[&str]| {
        let mut args = vec!["ask", "--base-url", &server.base_url, "--panel", "x/a,x/b"];
        args.extend_from_slice(extra);
        args.into_iter().map(String::from).collect::<Vec<String>>()
    };
    let first = ask(&["First?"]);
    let first: Vec<&str> = first.iter().map(String::as_str).collect();
    let run = council(&first, None, &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let follow = ask(&["-c", "--no-stream", "And then?"]);
    let follow: Vec<&str> = follow.iter().map(String::as_str).collect();
    let run = council(&follow, None, &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "The synthesis.\n");
    let listed = council(&["sessions", "--json"], None, &env).await;
    let list: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1, "one session");
    assert_eq!(list[0]["turns"], 2, "the follow-up continued it");
    // The follow-up carried the first turn.
    let chats = server.chats();
    let member = chats
        .iter()
        .rev()
        .find(|r| !r.is_judge() && !r.is_synthesis())
        .unwrap();
    assert!(member.contents("user").iter().any(|m| m == "First?"));
}

/// `sessions` narrowed by count, text and front, and `sessions rm`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_listed_narrowed_and_removed() {
    let server = Server::start(handler).await;
    let dir = std::env::temp_dir().join(format!("council-grammar-s-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let env = [("COUNCIL_SESSIONS_DIR", dir.to_str().unwrap())];
    for q in ["About tides?", "About volcanoes?", "About rivers?"] {
        let run = council(
            &["ask", "--base-url", &server.base_url, "--panel", "x/a", q],
            None,
            &env,
        )
        .await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        // Ids carry the second they were made in: keep them apart in time.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    }
    let list = |args: &'static [&'static str]| async move {
        let mut all = vec!["sessions", "--json"];
        all.extend_from_slice(args);
        let run = council(&all, None, &env).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s["question"].as_str().unwrap().to_string())
            .collect::<Vec<String>>()
    };
    assert_eq!(
        list(&["-n", "2"]).await,
        ["About rivers?", "About volcanoes?"]
    );
    assert_eq!(list(&["--search", "VOLCANO"]).await, ["About volcanoes?"]);
    // The answers are searched too.
    assert_eq!(list(&["--search", "answer from x/a"]).await.len(), 3);
    assert_eq!(list(&["--origin", "cli"]).await.len(), 3);
    assert!(list(&["--origin", "served"]).await.is_empty());

    let plain = council(&["sessions"], None, &env).await;
    assert!(
        plain.stdout.contains("1 turn ") && !plain.stdout.contains("turn(s)"),
        "{}",
        plain.stdout
    );

    let run = council(&["sessions", "rm", "last"], None, &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(list(&[]).await, ["About volcanoes?", "About tides?"]);
    let run = council(&["sessions", "rm", "nosuch"], None, &env).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
}

/// Without a key, `ask` says first that this is the offline demo council,
/// and how to ask a real one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_key_ask_says_it_is_the_offline_demo() {
    use tokio::io::AsyncBufReadExt;
    let home = std::env::temp_dir().join(format!("council-grammar-demo-{}", std::process::id()));
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_council"))
        .args(["ask", "Why is the sky blue?"])
        .env_remove("OPENROUTER_API_KEY")
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("COUNCIL_SESSIONS_DIR", home.join("sessions"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let first = tokio::time::timeout(std::time::Duration::from_secs(20), lines.next_line())
        .await
        .expect("a first line")
        .unwrap()
        .unwrap_or_default();
    assert!(
        first.contains("offline demo council") && first.contains("OPENROUTER_API_KEY"),
        "{first}"
    );
    let _ = child.start_kill();
}

/// `keys set` saves a key (0600) that `ask` uses while the variable is
/// unset; `keys list` names it, `keys unset` forgets it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_key_is_used_when_the_variable_is_unset() {
    use std::os::unix::fs::PermissionsExt;
    let server = Server::start(handler).await;
    let home = std::env::temp_dir().join(format!("council-grammar-keys-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let config = home.join("config");
    let env = [
        ("XDG_CONFIG_HOME", config.to_str().unwrap()),
        ("COUNCIL_SESSIONS_DIR", home.to_str().unwrap()),
    ];
    let run = council(&["keys", "set", "custom"], Some("sk-saved-123\n"), &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let file = config.join("council/keys.toml");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let run = council(&["keys", "list"], None, &env).await;
    assert_eq!(run.stdout, "custom\n");
    assert!(!run.stdout.contains("sk-saved"));

    let run = council(
        &[
            "ask",
            "--base-url",
            &server.base_url,
            "--api-key-env",
            "COUNCIL_TEST_SURELY_UNSET_KEY",
            "-m",
            "x/solo",
            "hi",
        ],
        None,
        &env,
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let sent = server.chats()[0]
        .header("authorization")
        .map(str::to_string);
    assert_eq!(sent.as_deref(), Some("Bearer sk-saved-123"));

    let run = council(&["keys", "unset", "custom"], None, &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = council(&["keys", "list"], None, &env).await;
    assert_eq!(run.stdout, "");
}

/// `config init` writes every setting at its default (never over a file),
/// `config show` says what is in effect and from where, `config edit`
/// checks what the editor saved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_init_show_and_edit() {
    let home = std::env::temp_dir().join(format!("council-grammar-config-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let config = home.join("config");
    let env = [("XDG_CONFIG_HOME", config.to_str().unwrap())];
    let run = council(&["config", "show"], None, &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("missing"), "{}", run.stdout);
    assert!(
        run.stdout.contains("timeouts.idle = 90  # default"),
        "{}",
        run.stdout
    );

    let run = council(&["config", "init"], None, &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let file = config.join("council/config.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("# idle = 90") && text.contains("# cancel = \"c\""),
        "{text}"
    );
    let run = council(&["config", "init"], None, &env).await;
    assert_eq!(run.code, 1, "never over a file: {}", run.stderr);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);

    // An "editor" that sets the idle timeout, then one that breaks the file.
    let set_idle = home.join("set-idle.sh");
    std::fs::write(
        &set_idle,
        "#!/bin/sh\nsed -i 's/^# idle = 90.*/idle = 45/' \"$1\"\n",
    )
    .unwrap();
    let broken = home.join("break.sh");
    std::fs::write(&broken, "#!/bin/sh\necho 'max_cost = \"lots\"' >> \"$1\"\n").unwrap();
    for script in [&set_idle, &broken] {
        let out = std::process::Command::new("chmod")
            .arg("+x")
            .arg(script)
            .status()
            .unwrap();
        assert!(out.success());
    }
    let editor = |script: &std::path::Path| script.to_str().unwrap().to_string();
    let set = editor(&set_idle);
    let run = council(
        &["config", "edit"],
        None,
        &[env[0], ("VISUAL", set.as_str())],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = council(&["config", "show"], None, &env).await;
    assert!(
        run.stdout.contains("timeouts.idle = 45  # config.toml"),
        "{}",
        run.stdout
    );
    let brk = editor(&broken);
    let run = council(
        &["config", "edit"],
        None,
        &[env[0], ("VISUAL", brk.as_str())],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("config.toml:"),
        "file:line:column: {}",
        run.stderr
    );
}

/// Every page `council man --dir` writes has the sections a man page
/// needs, names in SEE ALSO only pages that exist, and renders (with
/// groff, where it is installed); `council man ask` is the `ask` page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_man_page_renders_with_its_sections() {
    let dir = std::env::temp_dir().join(format!("council-grammar-man-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let run = council(&["man", "--dir", dir.to_str().unwrap()], None, &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let pages: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let names: Vec<String> = pages
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    for page in [
        "council",
        "council-ask",
        "council-serve",
        "council-sessions",
        "council-man",
    ] {
        assert!(names.iter().any(|n| n == page), "{page} in {names:?}");
    }
    let groff = std::process::Command::new("groff")
        .arg("--version")
        .output()
        .is_ok();
    for path in &pages {
        let text = std::fs::read_to_string(path).unwrap();
        for section in ["ENVIRONMENT", "FILES", "EXIT STATUS", "SEE ALSO"] {
            assert!(
                text.contains(&format!(".SH \"{section}\"")),
                "{}: {section}",
                path.display()
            );
        }
        assert!(text.contains("\\fB130\\fR") && text.contains("\\fB143\\fR"));
        let see_also = text.split(".SH \"SEE ALSO\"").nth(1).unwrap();
        for named in see_also.split("\\fB").skip(1) {
            let page = named.split("\\fR").next().unwrap();
            assert!(
                names.iter().any(|n| n == page),
                "{}: {page} exists",
                path.display()
            );
        }
        if groff {
            let out = std::process::Command::new("groff")
                .args(["-k", "-man", "-Tutf8", "-ww"])
                .arg(path)
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", path.display());
            let warnings = String::from_utf8_lossy(&out.stderr);
            assert!(warnings.trim().is_empty(), "{}: {warnings}", path.display());
        }
    }
    for args in [&["--help"][..], &["ask", "--help"][..]] {
        let help = council(args, None, &[]).await;
        assert_eq!(help.code, 0);
        assert!(
            help.stdout.contains("Examples:") && help.stdout.contains("OPENROUTER_API_KEY"),
            "{args:?}: {}",
            help.stdout
        );
    }
    let ask = council(&["man", "ask"], None, &[]).await;
    assert_eq!(ask.code, 0, "{}", ask.stderr);
    assert!(
        ask.stdout.contains(".TH council-ask"),
        "{}",
        &ask.stdout[..200.min(ask.stdout.len())]
    );
    assert!(ask.stdout.contains("\\-\\-continue"));
}

const VERDICT: &str = "# Verdict\n\nThe sky is **blue**.\n\n- short waves\n- scatter more\n";

fn markdown_handler(r: &Recorded, _: usize) -> Reply {
    if r.is_judge() {
        return Reply::text(&[&judge_json()]);
    }
    if r.is_synthesis() {
        // Streamed in pieces that cut through the markup.
        return Reply::text(&[
            "# Ver",
            "dict\n\nThe sky is **bl",
            "ue**.\n\n- short",
            " waves\n- scatter more\n",
        ]);
    }
    Reply::text(&["Answer from ", r.model()])
}

/// `text` without its SGR sequences (`ESC [ ... m`).
fn unstyled(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|c| *c == 'm');
        } else {
            out.push(c);
        }
    }
    out
}

/// `ask` in a terminal: what it shows and every byte it wrote.
fn ask_in_a_terminal(
    name: &str,
    base_url: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (i32, String, String) {
    let mut args = vec!["ask", "--base-url", base_url, "--panel", "x/a,x/b"];
    args.extend_from_slice(extra);
    args.push("Why is the sky blue?");
    let mut term = Term::spawn_with(name, &args, env, 30, 100);
    let status = term.wait_exit();
    term.wait_for("the session saved", "saved as session");
    let raw = String::from_utf8_lossy(&term.screen.lock().unwrap().raw).into_owned();
    (status.exit_code() as i32, term.contents(), raw)
}

/// On a terminal the synthesis's markdown is rendered; in a pipe, and with
/// NO_COLOR or `--color never`, it is printed as written, without a single
/// escape sequence; `--color always` renders it into a pipe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_synthesis_is_rendered_on_a_terminal_and_plain_in_a_pipe() {
    let server = Server::start(markdown_handler).await;
    let url = server.base_url.clone();
    let (code, screen, raw) =
        tokio::task::spawn_blocking(move || ask_in_a_terminal("md", &url, &[], &[]))
            .await
            .unwrap();
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("# Verdict"), "{screen}");
    assert!(screen.contains("The sky is blue."), "{screen}");
    assert!(screen.contains("• short waves\n• scatter more"), "{screen}");
    assert!(!screen.contains("**"), "{screen}");
    assert!(raw.contains("\u{1b}[1m"), "bold: {raw:?}");

    for (name, extra, env) in [
        ("md-no-color", &[][..], &[("NO_COLOR", "1")][..]),
        ("md-never", &["--color", "never"][..], &[][..]),
    ] {
        let url = server.base_url.clone();
        let (code, screen, raw) =
            tokio::task::spawn_blocking(move || ask_in_a_terminal(name, &url, extra, env))
                .await
                .unwrap();
        assert_eq!(code, 0, "{name}: {screen}");
        assert!(screen.contains("The sky is **blue**."), "{name}: {screen}");
        assert!(!raw.contains('\u{1b}'), "{name}: {raw:?}");
    }

    let base = [
        "ask",
        "--base-url",
        &server.base_url,
        "--panel",
        "x/a,x/b",
        "Why?",
    ];
    let piped = council(&base, None, &[]).await;
    assert_eq!(piped.code, 0, "{}", piped.stderr);
    assert_eq!(piped.stdout, VERDICT);
    let forced = council(&[&base[..], &["--color", "always"]].concat(), None, &[]).await;
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert!(forced.stdout.contains("\u{1b}[1m"), "{:?}", forced.stdout);
    assert!(
        unstyled(&forced.stdout).contains("The sky is blue.\n\n• short waves\n• scatter more"),
        "{:?}",
        forced.stdout
    );
    // Printed whole (`--no-stream`) it is rendered the same.
    let whole = council(
        &[&base[..], &["--color", "always", "--no-stream"]].concat(),
        None,
        &[],
    )
    .await;
    assert_eq!(whole.stdout, forced.stdout);
}

/// NO_COLOR leaves no escape in the output of any command, on a terminal
/// too (where clap would style its help).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_color_leaves_no_escape_in_any_output() {
    let commands: &[&[&str]] = &[
        &["--help"],
        &["ask", "--help"],
        &["ask", "--no-such-flag"],
        &["sessions"],
        &["presets"],
        &["config", "show"],
        &["man", "ask"],
        &["keys", "list"],
    ];
    let written = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        for (i, args) in commands.iter().enumerate() {
            for no_color in [false, true] {
                let env: &[(&str, &str)] = if no_color { &[("NO_COLOR", "1")] } else { &[] };
                let mut term = Term::spawn_with(&format!("nc-{i}-{no_color}"), args, env, 50, 120);
                term.wait_exit();
                // Let the reader take in the last bytes.
                std::thread::sleep(std::time::Duration::from_millis(100));
                let raw = String::from_utf8_lossy(&term.screen.lock().unwrap().raw).into_owned();
                out.push((args.join(" "), no_color, raw));
            }
        }
        out
    })
    .await
    .unwrap();
    for (command, no_color, raw) in &written {
        assert!(!raw.trim().is_empty(), "{command}: printed nothing");
        if *no_color {
            assert!(!raw.contains('\u{1b}'), "{command} with NO_COLOR: {raw:?}");
        }
    }
    // The check can fail: without NO_COLOR, help on a terminal is styled.
    assert!(written[0].2.contains('\u{1b}'), "{:?}", written[0].2);
}

/// A config folder with a preset of the user's, and a sessions folder with
/// two sessions, for the completion scripts to find.
fn completion_home(name: &str) -> (std::path::PathBuf, Vec<(String, String)>) {
    let home = scratch(name);
    let presets = home.join("config/council/presets");
    std::fs::create_dir_all(&presets).unwrap();
    std::fs::write(
        presets.join("mine.toml"),
        "description = \"My own panel.\"\n\n[[members]]\nmodel = \"x/a\"\n\n[judge]\nmodel = \"x/j\"\n\n[synthesizer]\nmodel = \"x/s\"\n",
    )
    .unwrap();
    support::sessions::write_many(&home.join("sessions"), 2);
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_council"))
        .parent()
        .unwrap();
    let env = vec![
        (
            "XDG_CONFIG_HOME".to_string(),
            home.join("config").display().to_string(),
        ),
        (
            "COUNCIL_SESSIONS_DIR".to_string(),
            home.join("sessions").display().to_string(),
        ),
        (
            "PATH".to_string(),
            format!(
                "{}:{}",
                bin_dir.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        ),
    ];
    (home, env)
}

/// Runs `shell -c script` in `home` with `env`; its stdout.
fn shell(shell: &str, script: &str, home: &std::path::Path, env: &[(String, String)]) -> String {
    let out = std::process::Command::new(shell)
        .arg("-c")
        .arg(script)
        .current_dir(home)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env_remove("OPENROUTER_API_KEY")
        .output()
        .unwrap_or_else(|e| panic!("{shell}: {e}"));
    assert!(
        out.status.success(),
        "{shell}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// What bash offers for the words of a command line (the last is the one
/// being completed).
fn bash_offers(words: &[&str], home: &std::path::Path, env: &[(String, String)]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let script = format!(
        "source ./council.bash; COMP_WORDS=({}); COMP_CWORD={}; COMP_LINE=\"${{COMP_WORDS[*]}}\"; \
         COMP_POINT=${{#COMP_LINE}}; _council_dynamic \"${{COMP_WORDS[0]}}\" \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        quoted.join(" "),
        words.len() - 1
    );
    let mut offers: Vec<String> = shell("bash", &script, home, env)
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    offers.sort();
    offers
}

/// `--preset <Tab>` offers the presets (built in and the user's), `show
/// <Tab>` and `--session <Tab>` the sessions, in bash, zsh and fish; the
/// rest is clap's completion as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completion_offers_preset_names_and_session_ids() {
    let (home, env) = completion_home("complete");
    let env_ref: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    for shell_name in ["bash", "zsh", "fish"] {
        let script = council(&["completions", shell_name], None, &env_ref).await;
        assert_eq!(script.code, 0, "{}", script.stderr);
        std::fs::write(home.join(format!("council.{shell_name}")), script.stdout).unwrap();
    }
    let bin = env!("CARGO_BIN_EXE_council");
    let presets = bash_offers(&[bin, "--preset", ""], &home, &env);
    for name in ["budget", "local", "mine", "quality"] {
        assert!(presets.contains(&name.to_string()), "{presets:?}");
    }
    assert_eq!(
        bash_offers(&[bin, "ask", "--preset", "mi"], &home, &env),
        ["mine"]
    );
    let ids = ["20261123-000000-0000", "20261123-000001-0000", "last"];
    assert_eq!(bash_offers(&[bin, "show", ""], &home, &env), ids);
    assert_eq!(bash_offers(&[bin, "sessions", "rm", ""], &home, &env), ids);
    assert_eq!(
        bash_offers(&[bin, "ask", "--session", "2026"], &home, &env),
        &ids[..2]
    );
    // clap's own completion still answers the rest.
    assert!(bash_offers(&[bin, "sess"], &home, &env).contains(&"sessions".to_string()));

    // fish, as it completes a typed line.
    let fish = shell(
        "fish",
        "source council.fish; complete -C 'council --preset '",
        &home,
        &env,
    );
    assert!(fish.lines().any(|l| l == "mine\tMy own panel."), "{fish}");
    let fish = shell(
        "fish",
        "source council.fish; complete -C 'council show '",
        &home,
        &env,
    );
    assert!(
        fish.lines()
            .any(|l| l == "20261123-000001-0000\tQuestion 1?"),
        "{fish}"
    );

    // zsh: the script parses, and its helpers hand _describe the names.
    shell("zsh", "zsh -n council.zsh", &home, &env);
    let zsh = shell(
        "zsh",
        "compdef() { :; }; source ./council.zsh; \
         _describe() { local -a found; found=(\"${(@P)4}\"); print -l -- $found }; _files() { :; }; \
         _council_complete_presets; _council_complete_sessions",
        &home,
        &env,
    );
    assert!(zsh.lines().any(|l| l == "mine:My own panel."), "{zsh}");
    assert!(
        zsh.lines().any(|l| l == "20261123-000000-0000:Question 0?"),
        "{zsh}"
    );
}

/// A question longer than the list's column is cut with an ellipsis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_question_is_cut_with_an_ellipsis_in_the_list() {
    let server = Server::start(handler).await;
    let dir = scratch("ellipsis");
    let env = [("COUNCIL_SESSIONS_DIR", dir.to_str().unwrap())];
    let question = "Why is the sky blue during the day and red at sunset, and what about Mars?";
    let run = council(
        &[
            "ask",
            "--base-url",
            &server.base_url,
            "--panel",
            "x/a,x/b",
            question,
        ],
        None,
        &env,
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let listed = council(&["sessions"], None, &env).await;
    let line = listed.stdout.lines().next().unwrap_or_default().to_string();
    assert!(
        line.ends_with("red at sunset, a…") || line.contains('…'),
        "{line}"
    );
    assert!(!line.contains("Mars"), "{line}");
    std::fs::remove_dir_all(&dir).unwrap();
}
