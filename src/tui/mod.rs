//! The interactive front: panes for every member, the judge's tabs, the
//! synthesis and a prompt editor, all fed by the engine's event stream.

pub mod action;
pub mod app;
pub mod clipboard;
pub mod keymap;
pub mod markdown;
pub mod state;
pub mod theme;
pub mod ui;

use std::io::{IsTerminal, stdout};

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    EventStream,
};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use crate::config::CouncilRequest;
pub use app::App;

/// Puts the terminal back: raw mode off, main screen, mouse and paste off.
pub fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = crossterm::execute!(
        stdout(),
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// Restores the terminal when dropped: on return, error or unwinding panic.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Runs the TUI until the person quits. `question`, when given, is asked at once.
pub async fn run(request: CouncilRequest, question: Option<String>) -> std::io::Result<()> {
    if !stdout().is_terminal() {
        return Err(std::io::Error::other(
            "the interactive council needs a terminal; use `council ask` in scripts",
        ));
    }
    // Restore before any panic message is printed, whatever hook prints it.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        previous(info);
    }));
    enable_raw_mode()?;
    let _guard = TerminalGuard;
    crossterm::execute!(
        stdout(),
        EnterAlternateScreen,
        EnableMouseCapture,
        EnableBracketedPaste
    )?;
    let mut terminal = Terminal::new(CrosstermBackend::new(stdout()))?;
    terminal.clear()?;

    let mut app = App::new(request, Box::new(clipboard::SystemClipboard::default()));
    if let Some(q) = question.filter(|q| !q.trim().is_empty()) {
        app.ask(q.trim());
    }
    app.run(&mut terminal, EventStream::new(), terminate_signal())
        .await
}

/// Resolves on SIGTERM (and never on platforms without it).
async fn terminate_signal() {
    #[cfg(unix)]
    {
        if let Ok(mut sig) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            sig.recv().await;
            return;
        }
    }
    std::future::pending::<()>().await
}
