//! The real binary, run as a person would, with its output collected.

use std::process::Stdio;

use tokio::io::AsyncWriteExt;

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the binary with `args`, `stdin` piped in when given, and `env`
/// set; with no keys, no user config and a scratch sessions folder.
pub async fn council(args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Run {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_council"));
    cmd.args(args)
        .env_remove("OPENROUTER_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .env(
            "XDG_CONFIG_HOME",
            std::env::temp_dir().join("council-test-no-config"),
        )
        .env(
            "XDG_STATE_HOME",
            std::env::temp_dir().join("council-test-state"),
        )
        .env(
            "COUNCIL_SESSIONS_DIR",
            std::env::temp_dir().join("council-test-sessions"),
        )
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run council");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(input.as_bytes()).await.unwrap();
    }
    let out = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("council ask must not hang")
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// Writes a config under `config_home` (what XDG_CONFIG_HOME names) whose
/// default council, two members, a judge and a synthesizer, is on the
/// scripted server at `base_url`: `council` with no flags asks it.
pub fn config_on(config_home: &std::path::Path, base_url: &str) {
    let dir = config_home.join("council");
    std::fs::create_dir_all(dir.join("presets")).unwrap();
    std::fs::write(dir.join("config.toml"), "default_preset = \"scripted\"\n").unwrap();
    std::fs::write(
        dir.join("presets/scripted.toml"),
        format!(
            "provider = \"scripted\"\n\n[[members]]\nmodel = \"x/alpha\"\n\n[[members]]\nmodel = \"y/beta\"\n\n\
             [judge]\nmodel = \"x/judge\"\n\n[synthesizer]\nmodel = \"x/synth\"\n\n\
             [providers.scripted]\nbase_url = \"{base_url}\"\n"
        ),
    )
    .unwrap();
}
