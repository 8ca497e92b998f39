//! What has the keyboard: the editor, the panes, or one overlay. Drawing,
//! key mapping and the hint bar all read [`Layer`]; only one overlay can be
//! open at a time because [`Overlay`] is one value, not three flags.

use crate::tui::history::HistoryBrowser;
use crate::tui::panel_editor::{Mode, PanelEditor};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layer {
    /// The question editor.
    Prompt,
    /// The question editor with nothing typed: `?` opens the help there,
    /// as the welcome screen says, instead of typing itself.
    EmptyPrompt,
    /// A member, the judge or the synthesis pane.
    Panes,
    Help,
    /// The panel editor's seats.
    PanelEditor,
    /// The panel editor while it takes text (a field, a name, a picker).
    PanelTyping,
    /// The saved sessions: keys move and open, typing filters.
    History,
    /// The saved sessions asking whether to delete one: `y` deletes, any
    /// other key keeps it.
    HistoryConfirm,
}

/// An open overlay with its own state (the history browser is held
/// inline: only one overlay exists at a time).
#[allow(clippy::large_enum_variant)]
pub enum Overlay {
    /// The key list, scrolled by `offset` lines.
    Help {
        offset: usize,
    },
    PanelEditor(Box<PanelEditor>),
    History(HistoryBrowser),
}

impl Overlay {
    pub fn layer(&self) -> Layer {
        match self {
            Overlay::Help { .. } => Layer::Help,
            Overlay::PanelEditor(editor) => match editor.mode {
                Mode::Seats => Layer::PanelEditor,
                _ => Layer::PanelTyping,
            },
            Overlay::History(browser) if browser.confirm.is_some() => Layer::HistoryConfirm,
            Overlay::History(_) => Layer::History,
        }
    }
}
