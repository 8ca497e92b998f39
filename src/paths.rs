//! Where council keeps its files (XDG on Linux, the platform's usual
//! places elsewhere).

use std::path::{Path, PathBuf};

use directories::ProjectDirs;

fn dirs() -> Option<ProjectDirs> {
    ProjectDirs::from("", "", "council")
}

/// `~/.config/council` on Linux.
pub(crate) fn config_dir() -> Option<PathBuf> {
    dirs().map(|d| d.config_dir().to_path_buf())
}

/// User presets: `~/.config/council/presets`.
pub fn presets_dir() -> Option<PathBuf> {
    config_dir().map(|d| d.join("presets"))
}

/// `~/.config/council/roles`: saved system prompts, one `NAME.md` each.
pub fn roles_dir() -> Option<PathBuf> {
    config_dir().map(|d| d.join("roles"))
}

/// `~/.local/state/council` on Linux: the log file and the screen's choices.
pub(crate) fn state_dir() -> Option<PathBuf> {
    dirs().map(|d| d.state_dir().unwrap_or_else(|| d.data_dir()).to_path_buf())
}

/// `~/.cache/council` on Linux: downloaded models.
pub(crate) fn cache_dir() -> Option<PathBuf> {
    dirs().map(|d| d.cache_dir().to_path_buf())
}

/// `~/.local/share/council` on Linux.
pub fn data_dir() -> Option<PathBuf> {
    dirs().map(|d| d.data_dir().to_path_buf())
}

/// Choices council remembers between runs (the theme):
/// `~/.local/state/council/ui.toml` on Linux.
pub(crate) fn ui_state_file() -> Option<PathBuf> {
    state_dir().map(|d| d.join("ui.toml"))
}

/// User themes: `~/.config/council/themes`.
pub(crate) fn themes_dir() -> Option<PathBuf> {
    config_dir().map(|d| d.join("themes"))
}

/// The config file: `~/.config/council/config.toml`.
pub fn config_file() -> Option<PathBuf> {
    config_dir().map(|d| d.join("config.toml"))
}

/// Creates `dir` and its missing parents readable by the owner only
/// (0700): sessions, caches and presets hold private conversations.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Options that create a file readable by the owner only (0600).
pub fn private_file() -> std::fs::OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.mode(0o600);
    options
}

/// Writes `bytes` to a new or truncated private file.
pub(crate) fn write_private(path: &Path, bytes: impl AsRef<[u8]>) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = private_file()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    file.write_all(bytes.as_ref())
}
