//! `council serve` started as a person would: on a free loopback port, with
//! its config and cache under a folder of the test's own.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Starts `council serve ARGS` with config and cache under `home` and
/// sessions in `sessions`; returns the process (killed when dropped) once
/// it printed its address, and that address (`http://127.0.0.1:PORT/v1`).
pub async fn start(
    args: &[&str],
    home: &Path,
    sessions: &Path,
    env: &[(&str, &str)],
) -> (Child, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_council"));
    cmd.arg("serve")
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env_remove("OPENROUTER_API_KEY")
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("COUNCIL_SESSIONS_DIR", sessions)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run council serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("serve prints its address")
        .unwrap()
        .unwrap_or_default();
    let url = line
        .rsplit(' ')
        .next()
        .filter(|u| u.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    (child, url)
}
