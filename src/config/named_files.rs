//! Built-in files plus a user folder of `NAME.EXT` files that can add to
//! them or replace them by name: the shape presets and themes (`*.toml`)
//! and roles (`*.md`) have.

use std::path::{Path, PathBuf};

use crate::config::ConfigError;

/// Where one file came from.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Source<'a> {
    /// Shipped with the binary as `{folder}/{name}.{ext}`.
    Builtin,
    /// A user file.
    File(&'a Path),
}

/// One file handed to the parser: its name (the file stem), its text, the
/// origin that errors should name, and where it came from.
pub(crate) struct Entry<'a> {
    pub(crate) name: &'a str,
    pub(crate) text: &'a str,
    pub(crate) origin: &'a str,
    pub(crate) source: Source<'a>,
}

/// The built-in entries, then every `*.{ext}` in `user_dir` in name order; a
/// user file named like an earlier entry replaces it. Files that cannot be
/// read or parsed come back as errors beside the entries that loaded.
///
/// Panics if a built-in file does not parse: those are checked by the tests.
pub(crate) fn load_layered<T>(
    folder: &str,
    ext: &str,
    builtin: &[(&str, &str)],
    user_dir: Option<&Path>,
    parse: impl Fn(Entry<'_>) -> Result<T, ConfigError>,
    name_of: impl Fn(&T) -> &str,
) -> (Vec<T>, Vec<ConfigError>) {
    let mut items: Vec<T> = builtin
        .iter()
        .map(|(name, text)| {
            let origin = format!("{folder}/{name}.{ext}");
            parse(Entry {
                name,
                text,
                origin: &origin,
                source: Source::Builtin,
            })
            .unwrap_or_else(|e| panic!("shipped {origin} does not parse: {e}"))
        })
        .collect();
    let mut errors = Vec::new();
    for path in files_with(user_dir, ext) {
        match load_file(&path, &parse) {
            Ok(item) => {
                items.retain(|i| name_of(i) != name_of(&item));
                items.push(item);
            }
            Err(e) => errors.push(e),
        }
    }
    (items, errors)
}

/// Reads and parses one user file; its name is the file stem.
pub(crate) fn load_file<T>(
    path: &Path,
    parse: impl Fn(Entry<'_>) -> Result<T, ConfigError>,
) -> Result<T, ConfigError> {
    let origin = path.display().to_string();
    let text = crate::files::read_text_capped(path, crate::files::CONFIG_BYTES).map_err(|e| {
        ConfigError::File {
            origin: origin.clone(),
            message: format!("cannot read: {e}"),
        }
    })?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    parse(Entry {
        name: &name,
        text: &text,
        origin: &origin,
        source: Source::File(path),
    })
}

/// The `*.{ext}` files of a folder, sorted; none when it is absent.
fn files_with(dir: Option<&Path>, ext: &str) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = dir
        .and_then(|d| std::fs::read_dir(d).ok())
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    paths.sort();
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(e: Entry<'_>) -> Result<(String, String), ConfigError> {
        if e.text.contains("bad") {
            return Err(ConfigError::File {
                origin: e.origin.into(),
                message: "bad".into(),
            });
        }
        Ok((e.name.to_string(), e.text.to_string()))
    }

    #[test]
    fn user_files_add_replace_and_report_errors() {
        let dir = std::env::temp_dir().join(format!("council-toml-dir-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.toml"), "user a").unwrap();
        std::fs::write(dir.join("c.toml"), "user c").unwrap();
        std::fs::write(dir.join("d.toml"), "bad").unwrap();
        std::fs::write(dir.join("notes.txt"), "ignored").unwrap();
        let builtin = [("a", "shipped a"), ("b", "shipped b")];
        let (items, errors) = load_layered("kind", "toml", &builtin, Some(&dir), parse, |i| &i.0);
        std::fs::remove_dir_all(&dir).ok();
        let texts: Vec<&str> = items.iter().map(|i| i.1.as_str()).collect();
        assert_eq!(texts, ["shipped b", "user a", "user c"]);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].to_string().contains("d.toml"), "{}", errors[0]);
    }

    #[test]
    fn a_missing_folder_gives_the_builtins() {
        let builtin = [("a", "shipped a")];
        let missing = Path::new("/nonexistent/council/themes");
        let (items, errors) =
            load_layered("kind", "toml", &builtin, Some(missing), parse, |i| &i.0);
        assert_eq!(items.len(), 1);
        assert!(errors.is_empty());
    }
}
