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
    /// The panel editor's field being edited as text.
    PanelField,
    /// The panel editor's model picker: typing filters it.
    PanelPicker,
    /// The panel editor's saved roles to put on a member.
    PanelRoles,
    /// The panel editor asking a name to save the seats as a preset.
    PanelNaming,
    /// The saved sessions: keys move and open, typing filters.
    History,
    /// The saved sessions asking whether to delete one: `y` deletes, any
    /// other key keeps it.
    HistoryConfirm,
    /// The search line: typing looks for words across the panes.
    Search,
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
            Overlay::PanelEditor(editor) => panel_layer(editor),
            Overlay::History(browser) if browser.confirm.is_some() => Layer::HistoryConfirm,
            Overlay::History(_) => Layer::History,
        }
    }
}

/// The panel editor's layer for what it is doing.
pub(crate) fn panel_layer(editor: &PanelEditor) -> Layer {
    match editor.mode {
        Mode::Seats => Layer::PanelEditor,
        Mode::Models(_) => Layer::PanelPicker,
        Mode::Roles(_) => Layer::PanelRoles,
        Mode::Field(_) => Layer::PanelField,
        Mode::Naming(_) => Layer::PanelNaming,
    }
}
