//! Where council keeps its files (XDG on Linux, the platform's usual
//! places elsewhere).

use std::path::PathBuf;

use directories::ProjectDirs;

fn dirs() -> Option<ProjectDirs> {
    ProjectDirs::from("", "", "council")
}

/// `~/.config/council` on Linux.
pub fn config_dir() -> Option<PathBuf> {
    dirs().map(|d| d.config_dir().to_path_buf())
}

/// User presets: `~/.config/council/presets`.
pub fn presets_dir() -> Option<PathBuf> {
    config_dir().map(|d| d.join("presets"))
}

/// `~/.cache/council` on Linux: downloaded models.
pub fn cache_dir() -> Option<PathBuf> {
    dirs().map(|d| d.cache_dir().to_path_buf())
}

/// `~/.local/share/council` on Linux.
pub fn data_dir() -> Option<PathBuf> {
    dirs().map(|d| d.data_dir().to_path_buf())
}
