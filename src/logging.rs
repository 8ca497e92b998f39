//! The log file (`~/.local/state/council/council.log`): what a user can send
//! when something fails. Never the terminal (the TUI owns it), never keys,
//! never model text at `info`. Filtered as `RUST_LOG` is (`--log-level`,
//! else `COUNCIL_LOG`, else `info`); rotated when it grows past
//! [`ROTATE_AT`], keeping [`KEEP`] older files.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;

/// The file's size at which a new one is started.
pub(crate) const ROTATE_AT: u64 = 5 * 1024 * 1024;
/// Older files kept: `council.log.1` (newest) to `council.log.3`.
pub(crate) const KEEP: usize = 3;

/// The log file's path.
pub(crate) fn log_file() -> Option<PathBuf> {
    crate::paths::state_dir().map(|d| d.join("council.log"))
}

/// Starts logging to the file. `level` is a filter such as `debug` or
/// `council=debug,reqwest=info`. A log that cannot be opened leaves the
/// program running without one; a bad filter is an error.
pub fn init(level: Option<&str>) -> Result<(), String> {
    let directives = level
        .map(str::to_string)
        .or_else(|| std::env::var("COUNCIL_LOG").ok())
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| "info".into());
    let filter = EnvFilter::builder()
        .parse(&directives)
        .map_err(|e| format!("--log-level `{directives}`: {e}"))?;
    let Some(path) = log_file() else {
        return Ok(());
    };
    let Ok(file) = open(&path) else {
        return Ok(());
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Mutex::new(file))
        .with_ansi(false)
        .with_target(true)
        .try_init();
    Ok(())
}

/// Opens the log for appending (owner-only), rotating it first when full.
fn open(path: &Path) -> std::io::Result<File> {
    if let Some(dir) = path.parent() {
        crate::paths::create_private_dir(dir)?;
    }
    rotate(path, ROTATE_AT, KEEP)?;
    crate::paths::private_file()
        .create(true)
        .append(true)
        .open(path)
}

/// When `path` is at least `limit` bytes: `path.N-1` becomes `path.N` (the
/// oldest is dropped), ..., and `path` becomes `path.1`.
pub(crate) fn rotate(path: &Path, limit: u64, keep: usize) -> std::io::Result<()> {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if size < limit || keep == 0 {
        return Ok(());
    }
    let numbered = |n: usize| PathBuf::from(format!("{}.{n}", path.display()));
    let _ = std::fs::remove_file(numbered(keep));
    for n in (1..keep).rev() {
        let from = numbered(n);
        if from.exists() {
            std::fs::rename(&from, numbered(n + 1))?;
        }
    }
    std::fs::rename(path, numbered(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_log_moves_to_dot_one_and_the_oldest_goes() {
        let dir = std::env::temp_dir().join(format!("council-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("council.log");
        for (name, text) in [
            ("council.log", "now"),
            ("council.log.1", "one"),
            ("council.log.2", "two"),
        ] {
            std::fs::write(dir.join(name), text).unwrap();
        }
        rotate(&log, 100, 2).unwrap();
        assert!(log.exists(), "a small log stays");
        rotate(&log, 3, 2).unwrap();
        assert!(!log.exists());
        assert_eq!(
            std::fs::read_to_string(dir.join("council.log.1")).unwrap(),
            "now"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("council.log.2")).unwrap(),
            "one"
        );
        assert!(
            !dir.join("council.log.3").exists(),
            "two kept, the oldest dropped"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
