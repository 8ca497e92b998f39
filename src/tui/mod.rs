//! The interactive front: panes for every member, the judge's tabs, the
//! synthesis and a prompt editor, all fed by the engine's event stream.

pub mod action;
pub mod ansi;
pub(crate) mod app;
pub mod arrangement;
pub mod clipboard;
pub(crate) mod effects;
pub(crate) mod focus;
pub(crate) mod history;
pub mod keymap;
pub mod layer;
pub(crate) mod markdown;
pub mod panel_editor;
pub(crate) mod remembered;
pub mod search;
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
use crate::config::settings::Settings;
pub use app::App;

/// Puts the terminal back: raw mode off, main screen, mouse and paste off.
pub(crate) fn restore_terminal() {
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

/// Runs the TUI until the person quits. `question`, when given, is asked at
/// once; without `colours` (`--color never`, NO_COLOR) the screen keeps to
/// the terminal's own colours.
pub async fn run(
    request: CouncilRequest,
    question: Option<String>,
    settings: &Settings,
    colours: bool,
) -> std::io::Result<()> {
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
    let _guard = TerminalGuard;
    take_terminal()?;
    let mut terminal = Terminal::new(CrosstermBackend::new(stdout()))?;
    terminal.clear()?;

    let (themes, current, theme_error) = load_themes(settings.theme.clone(), colours);
    let mut app = App::new(request, Box::new(clipboard::SystemClipboard::default()))
        .with_themes(themes, current, crate::paths::ui_state_file())
        .with_keymap(keymap::Keymap::new(&settings.keys))
        .with_synchronized_output(true)
        .with_sessions(crate::session::sessions_dir())
        .with_options(crate::engine::RunOptions {
            context: settings.context.into(),
            ..Default::default()
        });
    app.state.view.offline_seconds = crate::paths::ui_state_file()
        .and_then(|p| remembered::get(&p, "offline_council_seconds"))
        .and_then(|s| s.parse().ok());
    if let Some(layout) = crate::paths::ui_state_file()
        .and_then(|p| remembered::get(&p, "layout"))
        .and_then(|name| arrangement::Arrangement::from_name(&name))
    {
        app.state.view.arrangement = layout;
    }
    if let Some(e) = theme_error {
        app.state.view.notice = Some(state::Notice::Error(e));
    }
    if let Some(q) = question.filter(|q| !q.trim().is_empty()) {
        app.ask(q.trim());
    }
    let mut shutdown = std::pin::pin!(terminate_signal());
    loop {
        // A new reader each time: none may be reading the terminal while
        // the editor has it.
        app.run(&mut terminal, EventStream::new(), &mut shutdown)
            .await?;
        let Some(text) = app.take_suspension() else {
            return Ok(());
        };
        restore_terminal();
        let edited = tokio::task::spawn_blocking(move || crate::editor::edit(&text))
            .await
            .unwrap_or_else(|e| Err(e.to_string()));
        take_terminal()?;
        // Draw everything again, on a cleared screen (without the cursor
        // query `clear` makes).
        let size = terminal.size()?;
        terminal.resize(ratatui::layout::Rect::new(0, 0, size.width, size.height))?;
        app.edited(edited);
    }
}

/// Raw mode, the alternate screen, mouse and bracketed paste: the TUI's terminal.
fn take_terminal() -> std::io::Result<()> {
    enable_raw_mode()?;
    crossterm::execute!(
        stdout(),
        EnterAlternateScreen,
        EnableMouseCapture,
        EnableBracketedPaste
    )
}

/// The themes to cycle through and the one to start with: no colours when
/// none are wanted, then the remembered choice, then `preferred` (the config
/// file's), then `dark`. A broken user theme file is reported, not fatal.
fn load_themes(
    preferred: Option<String>,
    colours: bool,
) -> (Vec<theme::Theme>, theme::Theme, Option<String>) {
    let (themes, errors) = theme::all_themes(crate::paths::themes_dir().as_deref());
    let mut error = errors.first().map(ToString::to_string);
    if !colours {
        return (themes, theme::no_color(), error);
    }
    let remembered = crate::paths::ui_state_file().and_then(|p| remembered::get(&p, "theme"));
    let wanted = remembered.or(preferred);
    let current = match &wanted {
        Some(name) => match themes.iter().find(|t| &t.name == name) {
            Some(t) => t.clone(),
            None => {
                error.get_or_insert_with(|| format!("unknown theme `{name}`; using dark"));
                theme::Theme::default()
            }
        },
        None => theme::Theme::default(),
    };
    (themes, current, error)
}

/// Resolves on SIGTERM, SIGINT (sent by `kill`: the keyboard's Ctrl-C is a
/// key in raw mode), SIGHUP (the terminal went away) or SIGQUIT, so the app
/// leaves through its normal path and restores the terminal.
async fn terminate_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let kinds = [
        SignalKind::terminate(),
        SignalKind::interrupt(),
        SignalKind::hangup(),
        SignalKind::quit(),
    ];
    let mut listeners: Vec<_> = kinds.into_iter().filter_map(|k| signal(k).ok()).collect();
    if listeners.is_empty() {
        return std::future::pending::<()>().await;
    }
    let any = futures::future::select_all(listeners.iter_mut().map(|s| Box::pin(s.recv())));
    any.await;
}
