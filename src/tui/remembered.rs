//! What the TUI remembers between runs, in `ui.toml`: the theme and the
//! arrangement, one key each. A write keeps the other keys and replaces
//! the file whole (a temporary file renamed into place), so a crash never
//! leaves half a file.

use std::path::Path;

/// The value of `key` in the file at `path`, if it is there.
pub(crate) fn get(path: &Path, key: &str) -> Option<String> {
    let text = crate::files::read_text_capped(path, crate::files::CONFIG_BYTES).ok()?;
    let table: toml::Table = toml::from_str(&text).ok()?;
    table.get(key)?.as_str().map(str::to_string)
}

/// Sets `key` to `value` in the file at `path`, keeping its other keys (a
/// file that cannot be read as TOML is replaced).
pub(crate) fn set(path: &Path, key: &str, value: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut table: toml::Table = crate::files::read_text_capped(path, crate::files::CONFIG_BYTES)
        .ok()
        .and_then(|text| toml::from_str(&text).ok())
        .unwrap_or_default();
    table.insert(key.to_string(), toml::Value::String(value.into()));
    let text = toml::to_string(&table).map_err(std::io::Error::other)?;
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_is_kept_when_another_is_set() {
        let dir = std::env::temp_dir().join(format!("council-ui-{}", std::process::id()));
        let path = dir.join("state/ui.toml");
        assert_eq!(get(&path, "theme"), None);
        set(&path, "theme", "light").unwrap();
        set(&path, "layout", "map first").unwrap();
        assert_eq!(get(&path, "theme").as_deref(), Some("light"));
        assert_eq!(get(&path, "layout").as_deref(), Some("map first"));
        set(&path, "theme", "high-contrast").unwrap();
        assert_eq!(get(&path, "layout").as_deref(), Some("map first"));
        std::fs::write(&path, "not = [toml").unwrap();
        assert_eq!(get(&path, "theme"), None, "unreadable: nothing remembered");
        set(&path, "theme", "dark").unwrap();
        assert_eq!(get(&path, "theme").as_deref(), Some("dark"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
