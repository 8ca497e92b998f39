//! API keys saved with `council keys set`: one file in the config folder,
//! readable by you only, used for a provider whose key variable is unset
//! (the environment always wins). Never logged, never in a session.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// `~/.config/council/keys.toml`: `provider = "key"` lines.
pub fn file() -> Option<PathBuf> {
    crate::paths::config_dir().map(|d| d.join("keys.toml"))
}

/// Every saved key by provider name; nothing when the file is missing or
/// unreadable.
fn load() -> BTreeMap<String, String> {
    let Some(path) = file() else {
        return BTreeMap::new();
    };
    crate::files::read_text_capped(&path, crate::files::CONFIG_BYTES)
        .ok()
        .and_then(|text| toml::from_str(&text).ok())
        .unwrap_or_default()
}

/// The saved key of `provider`.
pub(crate) fn get(provider: &str) -> Option<String> {
    load().remove(provider).filter(|k| !k.trim().is_empty())
}

/// The providers with a saved key.
pub fn names() -> Vec<String> {
    load().into_keys().collect()
}

/// Saves `key` for `provider` (over an earlier one); returns the file.
pub fn set(provider: &str, key: &str) -> Result<PathBuf, String> {
    let key = key.trim();
    if key.is_empty() || key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("a key is one word, without spaces".into());
    }
    let mut keys = load();
    keys.insert(provider.to_string(), key.to_string());
    store(&keys)
}

/// Forgets `provider`'s key; false when there was none.
pub fn unset(provider: &str) -> Result<bool, String> {
    let mut keys = load();
    if keys.remove(provider).is_none() {
        return Ok(false);
    }
    store(&keys).map(|_| true)
}

/// Writes the file whole (a temporary file renamed over it), 0600.
fn store(keys: &BTreeMap<String, String>) -> Result<PathBuf, String> {
    let path = file().ok_or("no config dir: HOME is not set")?;
    let dir = path.parent().expect("a file in a folder");
    crate::paths::create_private_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let text = toml::to_string(keys).map_err(|e| e.to_string())?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    crate::paths::write_private(&tmp, text).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("{}: {e}", path.display())
    })?;
    Ok(path)
}
