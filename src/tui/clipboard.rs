//! Copying text: the system clipboard, or OSC 52 through the terminal where
//! there is none (over SSH, in a bare console).

use std::io::Write;

pub trait Clipboard {
    /// Copies `text`; returns how it was copied, for the status line.
    fn copy(&mut self, text: &str) -> Result<&'static str, String>;
}

/// The system clipboard with OSC 52 as the fallback.
#[derive(Default)]
pub(crate) struct SystemClipboard {
    system: Option<arboard::Clipboard>,
}

impl Clipboard for SystemClipboard {
    fn copy(&mut self, text: &str) -> Result<&'static str, String> {
        if self.system.is_none() {
            self.system = arboard::Clipboard::new().ok();
        }
        if let Some(system) = &mut self.system
            && system.set_text(text.to_string()).is_ok()
        {
            return Ok("clipboard");
        }
        let mut out = std::io::stdout();
        crossterm::execute!(
            out,
            crossterm::clipboard::CopyToClipboard::to_clipboard_from(text.as_bytes())
        )
        .and_then(|_| out.flush())
        .map(|_| "OSC 52")
        .map_err(|e| format!("cannot copy: {e}"))
    }
}

/// Keeps what was copied; for tests.
#[derive(Default, Debug)]
pub struct MemoryClipboard {
    pub copied: Vec<String>,
}

impl Clipboard for MemoryClipboard {
    fn copy(&mut self, text: &str) -> Result<&'static str, String> {
        self.copied.push(text.to_string());
        Ok("memory")
    }
}
