//! A Python virtual environment with one package, made once per build
//! folder (later runs reuse it): the official client libraries the tests
//! drive council with.

use std::path::{Path, PathBuf};

/// The venv `name` with `requirement` installed (`openai>=1.40,<3`); its
/// python.
pub fn venv(name: &str, requirement: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let python = dir.join("bin/python");
    let ready = dir.join(".installed");
    if std::fs::read_to_string(&ready).is_ok_and(|r| r == requirement) {
        return python;
    }
    let run = |cmd: &mut std::process::Command| {
        let out = cmd.output().expect("run python");
        assert!(
            out.status.success(),
            "{:?}: {}",
            cmd,
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(std::process::Command::new("python3")
        .args(["-m", "venv"])
        .arg(&dir));
    run(std::process::Command::new(&python).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        requirement,
    ]));
    std::fs::write(&ready, requirement).unwrap();
    python
}
