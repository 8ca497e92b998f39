//! What input means (actions) and what the loop must do (commands).

use crossterm::event::KeyEvent;
use ratatui_textarea::Input;

use crate::config::CouncilPlan;

/// A person's intent, decoded from a key, a mouse event or a paste.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Ask the council the question in the editor.
    Submit,
    InsertNewline,
    /// A key for the editor.
    Edit(Input),
    Paste(String),
    /// ↑ in the editor: an earlier question when the editor is empty or
    /// shows a recalled one, else the cursor moves.
    HistoryPrev,
    /// ↓ in the editor: a later question while browsing them, else the cursor moves.
    HistoryNext,
    /// Ctrl+U in the editor: clear the question (as shells do).
    ClearPrompt,
    FocusNext,
    FocusPrev,
    FocusEditor,
    /// Esc: close the overlay, leave zoom, or leave the editor.
    Back,
    ToggleZoom,
    Scroll(isize),
    PageUp,
    PageDown,
    ScrollTop,
    ScrollBottom,
    JudgeTab(usize),
    NextTab,
    PrevTab,
    /// Enter on a pane: on a judge item, go to its quoted passage in the
    /// member's pane; elsewhere, zoom.
    Open,
    /// A click on a judge item: focus the judge and highlight it.
    SelectJudgeItem(usize),
    /// `n` / `N`: the next or previous quote of the judge item gone to.
    NextQuote,
    PrevQuote,
    /// `{`: show the conversation's turn before the one on screen.
    EarlierTurn,
    /// `}`: the turn after it (the latest one at the end).
    LaterTurn,
    CancelFocused,
    /// Ctrl-C: cancel a running council; quit when nothing runs or on a second press.
    Interrupt,
    Quit,
    Copy,
    ToggleHelp,
    ToggleReasoning,
    /// Switch to the next theme (and remember it).
    NextTheme,
    /// `L`: the next arrangement of the screen (remembered).
    NextLayout,
    /// `r`: run the focused member again; the others keep their answers.
    RerunFocused,
    /// `R`: judge and synthesize again over the current answers.
    Rejudge,
    /// `D`: one more round: every member revises its answer having read
    /// the others' and the judge's findings.
    Deliberate,
    /// `d` on a contradiction: put it to the members it involves.
    Dispute,
    /// `<` / `>`: the member panes show the round before or after.
    EarlierRound,
    LaterRound,
    /// `=`: a member's answer as a diff against its previous round.
    ToggleDiff,
    /// `p`: open the panel editor.
    OpenPanelEditor,
    /// Ctrl+E: write the question in $VISUAL or $EDITOR.
    EditInEditor,
    /// Ctrl+N: the next question starts a new conversation.
    NewConversation,
    /// Ctrl+O: the saved sessions.
    OpenHistory,
    /// A key for the open history browser.
    HistoryKey(KeyEvent),
    /// A key for the open panel editor.
    PanelKey(KeyEvent),
    /// A key of the panel editor's seats, as the key table maps it.
    Panel(PanelAction),
    /// A key of the saved-session browser, as the key table maps it.
    Sessions(SessionsAction),
    /// Mouse wheel over a point of the screen.
    ScrollAt {
        column: u16,
        row: u16,
        lines: isize,
    },
    ClickAt {
        column: u16,
        row: u16,
    },
    /// A pointer action resolved against the last frame's layout.
    FocusPane(crate::tui::focus::Focus),
    ScrollPane(crate::tui::focus::Focus, isize),
    /// Scroll the help overlay.
    HelpScroll(isize),
    /// `/` on the panes: open the search line (again, with its words).
    OpenSearch,
    /// A key typed into the search line.
    SearchKey(KeyEvent),
    /// Enter in the search line: go to the first match, keep the highlights.
    SearchGo,
    /// Esc in the search line: close it and its highlights.
    SearchClose,
}

/// What the panel editor's seat keys do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PanelAction {
    /// Close, the edits applying to the next run.
    Close,
    Up,
    Down,
    NextField,
    PrevField,
    /// Enter: toggle web search, open the model picker, or edit the field.
    Enter,
    /// Edit the field as text (even the model, without the picker).
    EditText,
    /// Toggle web search.
    Toggle,
    Add,
    Duplicate,
    Remove,
    MoveUp,
    MoveDown,
    Save,
    Roles,
    /// Enter while it takes text: keep the field, take the highlighted
    /// model, put the role on, save under the name.
    Keep,
    /// Esc while it takes text: back to the seats, the edit dropped.
    Drop,
    /// Alt+Enter in the system prompt: a new line.
    NewLine,
    /// Tab in the model picker: the typed text as the model.
    TakeTyped,
}

/// What the saved-session browser's keys do (typing filters the list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionsAction {
    Close,
    Up,
    Down,
    /// Show the highlighted session and continue it.
    Open,
    /// Ask whether to delete the highlighted session.
    Delete,
}

/// Work for the loop: everything that is not a pure change of state.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    StartRun(String),
    CancelRun,
    CancelMember(usize),
    /// Run this member again, alone.
    RerunMember(usize),
    /// Run the judge and the synthesis again.
    Rejudge,
    /// Run one more round; with a contradiction, only its members answer it.
    Deliberate(Option<Box<crate::engine::judge::Contradiction>>),
    OpenPanelEditor,
    /// Hand the terminal to the editor with the question's text; what it
    /// saves comes back to the prompt.
    EditQuestion(String),
    /// Find the paths that complete `@partial` (a directory read, off the
    /// loop); [`crate::tui::state::State::complete_path`] takes them.
    CompletePath(String),
    NewConversation,
    OpenHistory,
    /// Show this saved session and continue it.
    OpenSession(std::path::PathBuf),
    /// Delete this saved session (confirmed).
    DeleteSession(crate::session::SessionSummary),
    /// The panel editor closed: its seats are the next run's.
    ApplyPlan(CouncilPlan),
    /// Write the seats as a user preset of this name (never over a file).
    SavePreset(String, CouncilPlan),
    Copy(String),
    NextTheme,
    /// Remember the arrangement switched to.
    RememberLayout(crate::tui::arrangement::Arrangement),
    Quit,
}
