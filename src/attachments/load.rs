//! Reading attachments from paths: a file as it is, a directory as its text
//! files (walked as git would, skipping ignored and hidden files).

use std::path::{Path, PathBuf};

use super::Attachment;
use super::human_size;

/// How much may be attached.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// One file's size at most.
    pub(crate) file_bytes: u64,
    /// All attachments of one question together.
    pub(crate) total_bytes: u64,
    /// Files taken from directories, at most.
    pub(crate) files: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            file_bytes: 512 * 1024,
            total_bytes: 2 * 1024 * 1024,
            files: 200,
        }
    }
}

/// The attachments for `paths`, and a note for each file of a directory that
/// was left out (binary or too large). A path named on its own that cannot
/// be attached is an error, as is going over the limits.
pub fn load_paths(
    paths: &[PathBuf],
    limits: Limits,
) -> Result<(Vec<Attachment>, Vec<String>), String> {
    let mut attachments = Vec::new();
    let mut notes = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| {
            format!(
                "{}: {e}",
                crate::sanitize::sanitize(&path.display().to_string())
            )
        })?;
        if meta.is_dir() {
            let before = attachments.len();
            for file in walk(path) {
                match read_text(&file, limits) {
                    Ok(text) => attachments.push(Attachment::new(file.display().to_string(), text)),
                    Err(why) => notes.push(format!("left out {}: {why}", file.display())),
                }
                if attachments.len() - before > limits.files {
                    return Err(format!(
                        "{} has more than {} text files; attach a narrower directory or the files themselves",
                        path.display(),
                        limits.files
                    ));
                }
            }
            if attachments.len() == before {
                return Err(format!("{} has no text files to attach", path.display()));
            }
        } else {
            let text =
                read_text(path, limits).map_err(|why| format!("{}: {why}", path.display()))?;
            attachments.push(Attachment::new(path.display().to_string(), text));
        }
    }
    check_total(&attachments, limits)?;
    Ok((attachments, notes))
}

/// All attachments of one question together stay under the cap.
pub fn check_total(attachments: &[Attachment], limits: Limits) -> Result<(), String> {
    let total: u64 = attachments.iter().map(|a| a.text.len() as u64).sum();
    if total > limits.total_bytes {
        return Err(format!(
            "the attachments come to {}, over the {} cap; attach fewer files",
            human_size(total),
            human_size(limits.total_bytes)
        ));
    }
    Ok(())
}

/// Text piped in (`git diff | council ask …`), held to the cap of one
/// attached file: an endless pipe (`yes |`) is refused, not read to the end.
pub fn read_piped(reader: impl std::io::Read, limits: Limits) -> Result<String, String> {
    let bytes = crate::files::read_all_capped(reader, limits.file_bytes).map_err(|e| match e {
        crate::files::FileError::TooLarge { cap } => format!(
            "stdin is over the {} cap for one attachment; pipe less, or attach files with -f",
            human_size(cap)
        ),
        other => format!("cannot read stdin: {other}"),
    })?;
    if bytes.contains(&0) {
        return Err("stdin is binary; only text can be attached".into());
    }
    String::from_utf8(bytes).map_err(|_| "stdin is not UTF-8 text".into())
}

/// The paths a question names as `@path` (`@~/x` from the home folder):
/// each word starting with `@` that names a file or directory, with
/// trailing punctuation allowed after it. A word with a `/` that names
/// nothing is an error (a typo would otherwise go unnoticed); other
/// `@words` are text.
pub fn mentioned_paths(question: &str) -> Result<Vec<PathBuf>, String> {
    let mut paths: Vec<PathBuf> = Vec::new();
    for word in question.split_whitespace() {
        let Some(raw) = word.strip_prefix('@').filter(|r| !r.is_empty()) else {
            continue;
        };
        let trimmed = raw.trim_end_matches([',', '.', ';', ':', '!', '?', ')', '"', '\'']);
        let found = [raw, trimmed]
            .into_iter()
            .map(expand_home)
            .find(|p| p.exists());
        match found {
            Some(path) if !paths.contains(&path) => paths.push(path),
            Some(_) => {}
            None if trimmed.contains('/') => {
                return Err(format!("@{trimmed}: no such file or directory"));
            }
            None => {}
        }
    }
    Ok(paths)
}

/// `~/x` from the home folder; other paths as they are.
pub(super) fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// Tab after `@partial`: the paths that complete it, sorted, directories
/// ending in `/`, hidden entries only when `partial` names them.
pub fn complete_path(partial: &str) -> Vec<String> {
    let (dir_part, stem) = match partial.rfind('/') {
        Some(i) => (&partial[..=i], &partial[i + 1..]),
        None => ("", partial),
    };
    let dir = if dir_part.is_empty() {
        PathBuf::from(".")
    } else {
        expand_home(dir_part)
    };
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_str()?.to_string();
            if !name.starts_with(stem) || (name.starts_with('.') && !stem.starts_with('.')) {
                return None;
            }
            let slash = if entry.path().is_dir() { "/" } else { "" };
            Some(format!("{dir_part}{name}{slash}"))
        })
        .collect();
    found.sort();
    found
}

/// The longest start that all of `words` share.
pub fn common_prefix(words: &[String]) -> String {
    let Some(first) = words.first() else {
        return String::new();
    };
    let mut end = first.len();
    for w in &words[1..] {
        end = first
            .char_indices()
            .zip(w.chars())
            .find(|((_, a), b)| a != b)
            .map_or(end.min(w.len()), |((i, _), _)| i.min(end));
    }
    first[..end].to_string()
}

/// A directory's files, sorted, skipping what `.gitignore` and friends
/// ignore and hidden entries.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = ignore::WalkBuilder::new(dir)
        .require_git(false)
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files
}

/// A file's text; why not when it is too large or not text.
fn read_text(path: &Path, limits: Limits) -> Result<String, String> {
    // Only a regular file, and never more of it than the cap: a device or
    // a FIFO would block or never end.
    let bytes = match crate::files::read_capped(path, limits.file_bytes) {
        Err(crate::files::FileError::TooLarge { .. }) => {
            let size = std::fs::metadata(path).map_or(0, |m| m.len());
            return Err(format!(
                "{} is over the {} cap for one file",
                human_size(size.max(limits.file_bytes + 1)),
                human_size(limits.file_bytes)
            ));
        }
        other => other.map_err(|e| e.to_string())?,
    };
    if bytes.contains(&0) {
        return Err("a binary file; only text can be attached".into());
    }
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text; only text can be attached".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "council-attach-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        dir
    }

    #[test]
    fn a_directory_gives_its_text_files_sorted_and_notes_the_binaries() {
        let d = dir();
        std::fs::write(d.join("b.txt"), "bee").unwrap();
        std::fs::write(d.join("sub/a.rs"), "fn a() {}").unwrap();
        std::fs::write(d.join("logo.png"), [0x89, b'P', 0, 1]).unwrap();
        std::fs::write(d.join(".hidden"), "no").unwrap();
        let (got, notes) = load_paths(std::slice::from_ref(&d), Limits::default()).unwrap();
        let names: Vec<_> = got.iter().map(|a| a.name.clone()).collect();
        assert_eq!(
            names,
            [
                d.join("b.txt").display().to_string(),
                d.join("sub/a.rs").display().to_string()
            ]
        );
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].contains("logo.png") && notes[0].contains("binary"),
            "{notes:?}"
        );
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn mentions_name_existing_paths_and_tab_completes_them() {
        let d = dir();
        std::fs::write(d.join("sub/alpha.rs"), "a").unwrap();
        std::fs::write(d.join("sub/alps.md"), "b").unwrap();
        let sub = d.join("sub").display().to_string();
        let q = format!("compare @{sub}/alpha.rs, and @{sub}/alps.md? cc @someone");
        assert_eq!(
            mentioned_paths(&q).unwrap(),
            [d.join("sub/alpha.rs"), d.join("sub/alps.md")]
        );
        let err = mentioned_paths(&format!("see @{sub}/nope.rs")).unwrap_err();
        assert!(
            err.ends_with("sub/nope.rs: no such file or directory"),
            "{err}"
        );
        let found = complete_path(&format!("{sub}/al"));
        assert_eq!(found, [format!("{sub}/alpha.rs"), format!("{sub}/alps.md")]);
        assert_eq!(common_prefix(&found), format!("{sub}/alp"));
        assert_eq!(
            complete_path(&format!("{}/su", d.display())),
            [format!("{sub}/")]
        );
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn a_binary_or_oversized_file_named_alone_is_an_error() {
        let d = dir();
        std::fs::write(d.join("x.bin"), [1, 0, 2]).unwrap();
        let err = load_paths(&[d.join("x.bin")], Limits::default()).unwrap_err();
        assert!(
            err.ends_with("x.bin: a binary file; only text can be attached"),
            "{err}"
        );
        std::fs::write(d.join("big.txt"), "a".repeat(2000)).unwrap();
        let small = Limits {
            file_bytes: 1000,
            ..Limits::default()
        };
        let err = load_paths(&[d.join("big.txt")], small).unwrap_err();
        assert!(
            err.ends_with("big.txt: 2.0 KB is over the 1.0 KB cap for one file"),
            "{err}"
        );
        let total = Limits {
            total_bytes: 3000,
            ..Limits::default()
        };
        std::fs::write(d.join("c.txt"), "a".repeat(2000)).unwrap();
        let err = load_paths(&[d.join("big.txt"), d.join("c.txt")], total).unwrap_err();
        assert_eq!(
            err,
            "the attachments come to 4.0 KB, over the 3.0 KB cap; attach fewer files"
        );
        let err = load_paths(&[d.join("missing")], Limits::default()).unwrap_err();
        assert!(err.contains("missing: No such file"), "{err}");
        std::fs::remove_dir_all(d).unwrap();
    }
}
