//! Every example of the README's command-line section, run as written, in
//! order, by bash, in a home folder of its own, with OpenRouter played by
//! the scripted server (the config file points the provider at it).

mod support;

use std::path::Path;
use std::process::Command;

use support::{Recorded, Reply, Server, judge_json};

fn handler(r: &Recorded, _: usize) -> Reply {
    if r.is_judge() {
        return Reply::text(&[&judge_json()]);
    }
    if r.is_synthesis() {
        return Reply::text(&["The sky is **blue**.\n\n- short waves scatter\n"]);
    }
    Reply::text(&["Answer from ", r.model()])
}

/// The commands of the first `sh` block after `## Command line`.
fn examples() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let at = readme
        .find("\n## Command line\n")
        .expect("the README has a command-line section");
    let rest = &readme[at..];
    let start = rest.find("```sh\n").expect("an sh block") + "```sh\n".len();
    let end = start + rest[start..].find("```").expect("closed");
    rest[start..end]
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .status()
        .expect("git");
    assert!(status.success(), "git {args:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_line_example_runs_as_written() {
    let server = Server::start(handler).await;
    let home = std::env::temp_dir().join(format!("council-readme-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let config = home.join(".config/council");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.toml"),
        format!(
            "[providers.openrouter]\nbase_url = \"{}\"\n",
            server.base_url
        ),
    )
    .unwrap();
    // Where the examples run: a repository with a change, a source folder
    // and notes.
    let work = home.join("work");
    std::fs::create_dir_all(work.join("src")).unwrap();
    std::fs::write(work.join("src/parser.rs"), "fn parse() {}\n").unwrap();
    std::fs::write(work.join("notes.md"), "The parser is in src.\n").unwrap();
    git(&work, &["init", "-q"]);
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "start"]);
    std::fs::write(work.join("src/parser.rs"), "fn parse() { todo!() }\n").unwrap();

    let bin_dir = Path::new(env!("CARGO_BIN_EXE_council")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let examples = examples();
    assert!(examples.len() >= 20, "{examples:?}");
    for line in &examples {
        // `config init` never writes over a config file: it runs as on a
        // machine that has none yet.
        let config_home = if line == "council config init" {
            home.join("fresh-config")
        } else {
            home.join(".config")
        };
        let mut command = tokio::process::Command::new("bash");
        command
            .arg("-c")
            .arg(format!("set -o pipefail; {line}"))
            .current_dir(&work)
            .env_clear()
            .env("PATH", &path)
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", config_home)
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_STATE_HOME", home.join(".local/state"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("OPENROUTER_API_KEY", "sk-or-test")
            .env("EDITOR", "true")
            .stdin(std::process::Stdio::null());
        let out = tokio::time::timeout(std::time::Duration::from_secs(60), command.output())
            .await
            .unwrap_or_else(|_| panic!("{line}: did not finish"))
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{line}: {:?}\nstdout: {stdout}\nstderr: {stderr}",
            out.status
        );
        // A question asked answers on stdout.
        if (line.contains(" ask ") && !line.ends_with("--help")) || line.ends_with("| council") {
            assert!(
                stdout.contains("The sky is **blue**.") || stdout.contains("Answer from"),
                "{line}: {stdout}\nstderr: {stderr}"
            );
        }
    }
    // What the examples left behind.
    assert!(work.join("sky.md").is_file());
    assert!(home.join(".local/share/man/man1/council-ask.1").is_file());
    assert!(home.join("fresh-config/council/config.toml").is_file());
    assert!(
        !config.join("keys.toml").exists()
            || !std::fs::read_to_string(config.join("keys.toml"))
                .unwrap()
                .contains("sk-or-test"),
        "keys unset forgot the key"
    );
    assert!(server.chats().len() > 20, "the asks reached the server");
    std::fs::remove_dir_all(&home).unwrap();
}
