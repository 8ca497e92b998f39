//! The one key table: rows of (layers, key, action, help text, hint), built
//! once from the defaults and the config file's `[keys]` overrides. The key
//! mapper, the hint bar, the help overlay and the README's key table all
//! read it, so a rebound key shows everywhere it is named.

use std::collections::BTreeMap;

use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEventKind,
};

use crate::config::settings::REBINDABLE;
use crate::tui::action::{Action, PanelAction, SessionsAction};
pub(crate) use crate::tui::focus::PaneKind;
use crate::tui::layer::Layer;

/// A key with its modifiers (Shift is part of the character for letters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key {
    pub(crate) code: KeyCode,
    pub(crate) modifiers: KeyModifiers,
}

impl Key {
    const fn plain(code: KeyCode) -> Self {
        Self {
            code,
            modifiers: KeyModifiers::NONE,
        }
    }
    const fn ch(c: char) -> Self {
        Self::plain(KeyCode::Char(c))
    }
    const fn ctrl(c: char) -> Self {
        Self {
            code: KeyCode::Char(c),
            modifiers: KeyModifiers::CONTROL,
        }
    }
    const fn alt(code: KeyCode) -> Self {
        Self {
            code,
            modifiers: KeyModifiers::ALT,
        }
    }

    /// Whether a pressed key is this one. Shift is ignored for characters
    /// (terminals report `G` with or without it) and for Shift+Tab (which
    /// terminals report as BackTab with Shift).
    fn matches(&self, key: &KeyEvent) -> bool {
        let relevant = KeyModifiers::CONTROL | KeyModifiers::ALT;
        let pressed = match key.code {
            KeyCode::Char(_) | KeyCode::BackTab => key.modifiers & relevant,
            _ => key.modifiers & (relevant | KeyModifiers::SHIFT),
        };
        self.code == key.code && self.modifiers == pressed
    }

    /// How the key is written in the help and the hints.
    pub(crate) fn label(&self) -> String {
        let name = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) if self.modifiers.contains(KeyModifiers::CONTROL) => {
                c.to_ascii_uppercase().to_string()
            }
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "Shift+Tab".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::Delete => "Del".into(),
            KeyCode::F(n) => format!("F{n}"),
            other => format!("{other:?}"),
        };
        let mut prefix = String::new();
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            prefix.push_str("Ctrl+");
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            prefix.push_str("Alt+");
        }
        if self.modifiers.contains(KeyModifiers::SHIFT) {
            prefix.push_str("Shift+");
        }
        prefix + &name
    }
}

/// A hint in the bottom line: short text, maybe only for one kind of pane,
/// maybe different while a council runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hint {
    pub(crate) text: &'static str,
    /// The text while a council runs, when it differs.
    pub(crate) running: Option<&'static str>,
    pub(crate) only: Option<PaneKind>,
    /// The text on the judge's pane, when it differs.
    pub(crate) judge: Option<&'static str>,
}

impl Hint {
    /// The same text everywhere and always.
    fn new(text: &'static str) -> Self {
        Self {
            text,
            running: None,
            only: None,
            judge: None,
        }
    }
}

/// A titled part of the help overlay: (keys, what they do).
#[derive(Debug, Clone, PartialEq)]
pub struct HelpSection {
    /// Empty for the first: the editor and the panes.
    pub title: &'static str,
    pub rows: Vec<(String, &'static str)>,
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Binding {
    pub(crate) layers: &'static [Layer],
    pub(crate) key: Key,
    pub(crate) action: Action,
    /// The config file's name for the action (`cancel`), when rebindable.
    pub(crate) name: Option<&'static str>,
    /// The help overlay's text; rows with the same text share one line.
    pub(crate) help: &'static str,
    /// How the help line writes the keys, instead of listing each one.
    pub(crate) label: Option<&'static str>,
    pub(crate) hint: Option<Hint>,
    /// The hint an overlay draws for this row (the panel editor's line).
    pub(crate) overlay: Option<&'static str>,
}

const EDITOR: &[Layer] = &[Layer::Prompt, Layer::EmptyPrompt];
const EMPTY_EDITOR: &[Layer] = &[Layer::EmptyPrompt];
const PANES: &[Layer] = &[Layer::Panes];
const MAIN: &[Layer] = &[Layer::Prompt, Layer::EmptyPrompt, Layer::Panes];
const HELP: &[Layer] = &[Layer::Help];
const EVERYWHERE: &[Layer] = &[
    Layer::Prompt,
    Layer::EmptyPrompt,
    Layer::Panes,
    Layer::Help,
    Layer::PanelEditor,
    Layer::PanelField,
    Layer::PanelPicker,
    Layer::PanelRoles,
    Layer::PanelNaming,
    Layer::History,
    Layer::HistoryConfirm,
    Layer::Search,
];
const PANEL: &[Layer] = &[Layer::PanelEditor];
const PICKER: &[Layer] = &[Layer::PanelPicker];
const ROLES: &[Layer] = &[Layer::PanelRoles];
const FIELD: &[Layer] = &[Layer::PanelField];
const NAMING: &[Layer] = &[Layer::PanelNaming];
const HISTORY: &[Layer] = &[Layer::History];
const SEARCH: &[Layer] = &[Layer::Search];

fn row(layers: &'static [Layer], key: Key, action: Action, help: &'static str) -> Binding {
    Binding {
        layers,
        key,
        action,
        name: None,
        help,
        label: None,
        hint: None,
        overlay: None,
    }
}

/// Hint parts as written: neighbours with the same text share it
/// (`K/J move`).
fn merged(parts: Vec<(String, &'static str)>) -> Vec<String> {
    let mut out: Vec<(String, &'static str)> = Vec::new();
    for (key, text) in parts {
        match out.last_mut() {
            Some((keys, last)) if *last == text => {
                keys.push('/');
                keys.push_str(&key);
            }
            _ => out.push((key, text)),
        }
    }
    // A key with no words (`Esc` last in a line) stands alone.
    out.into_iter()
        .map(|(k, t)| format!("{k} {t}").trim_end().to_string())
        .collect()
}

impl Binding {
    /// The key as hints write it.
    fn written(&self) -> String {
        self.label.map_or_else(|| self.key.label(), str::to_string)
    }

    fn hint(self, text: &'static str) -> Self {
        self.hint_with(Hint::new(text))
    }
    /// A hint that reads differently on the judge's pane.
    fn hint_or_on_judge(self, text: &'static str, judge: &'static str) -> Self {
        self.hint_with(Hint {
            judge: Some(judge),
            ..Hint::new(text)
        })
    }
    fn hint_while_running(self, idle: &'static str, running: &'static str) -> Self {
        self.hint_with(Hint {
            running: Some(running),
            ..Hint::new(idle)
        })
    }
    fn hint_in(self, text: &'static str, pane: PaneKind) -> Self {
        self.hint_with(Hint {
            only: Some(pane),
            ..Hint::new(text)
        })
    }
    fn hint_with(mut self, hint: Hint) -> Self {
        self.hint = Some(hint);
        self
    }
    fn label(mut self, label: &'static str) -> Self {
        self.label = Some(label);
        self
    }
    fn overlay(mut self, text: &'static str) -> Self {
        self.overlay = Some(text);
        self
    }
}

/// A rebindable pane key: its default comes from the config's list.
fn named(name: &'static str, action: Action, help: &'static str) -> Binding {
    named_in(PANES, name, action, help)
}

/// A rebindable key of `layers`, its default from the config's list.
fn named_in(
    layers: &'static [Layer],
    name: &'static str,
    action: Action,
    help: &'static str,
) -> Binding {
    let default = REBINDABLE
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, k)| *k)
        .unwrap_or_else(|| panic!("`{name}` is in settings::REBINDABLE"));
    Binding {
        name: Some(name),
        ..row(layers, Key::ch(default), action, help)
    }
}

fn panel(action: PanelAction) -> Action {
    Action::Panel(action)
}

fn sessions(action: SessionsAction) -> Action {
    Action::Sessions(action)
}

/// The default table, in the order the help overlay lists it.
fn defaults() -> Vec<Binding> {
    use KeyCode as K;
    use PanelAction as P;
    use SessionsAction as S;
    vec![
        // The editor.
        row(
            EDITOR,
            Key::plain(K::Enter),
            Action::Submit,
            "ask the question (in the editor)",
        )
        .hint("ask"),
        row(
            EDITOR,
            Key::alt(K::Enter),
            Action::InsertNewline,
            "new line in the editor",
        )
        .hint("newline"),
        row(
            EDITOR,
            Key {
                code: K::Enter,
                modifiers: KeyModifiers::SHIFT,
            },
            Action::InsertNewline,
            "new line in the editor",
        )
        .label("Alt/Shift+Enter"),
        row(
            EDITOR,
            Key::plain(K::Up),
            Action::HistoryPrev,
            "earlier questions (in an empty editor)",
        )
        .hint("history")
        .label("↑↓"),
        row(
            EDITOR,
            Key::plain(K::Down),
            Action::HistoryNext,
            "earlier questions (in an empty editor)",
        ),
        row(
            EDITOR,
            Key::ctrl('u'),
            Action::ClearPrompt,
            "clear the question (in the editor)",
        ),
        // Moving around.
        row(
            MAIN,
            Key::plain(K::Tab),
            Action::FocusNext,
            "next / previous pane",
        )
        .hint("panes"),
        row(
            MAIN,
            Key::plain(K::BackTab),
            Action::FocusPrev,
            "next / previous pane",
        ),
        named("editor", Action::FocusEditor, "back to the editor").hint("ask"),
        row(
            PANES,
            Key::ch('/'),
            Action::OpenSearch,
            "find words in every pane: members, judge, synthesis",
        )
        .hint("find"),
        row(
            MAIN,
            Key::plain(K::Esc),
            Action::Back,
            "leave the editor, leave zoom, close an overlay",
        ),
        row(
            PANES,
            Key::plain(K::Enter),
            Action::Open,
            "on a judge item: its quote in the member's pane; on a claim: its passages (Esc back); else zoom",
        )
        .hint_in("quote", PaneKind::Judge),
        row(
            PANES,
            Key::ch('n'),
            Action::NextQuote,
            "next / previous quote or passage gone to, or match found",
        ),
        row(
            PANES,
            Key::ch('N'),
            Action::PrevQuote,
            "next / previous quote or passage gone to, or match found",
        ),
        named(
            "zoom",
            Action::ToggleZoom,
            "zoom the focused pane to full screen and back",
        )
        .hint("zoom"),
        // Scrolling.
        row(
            PANES,
            Key::ch('j'),
            Action::Scroll(1),
            "scroll a line; on the judge's map or a traced synthesis, the next / previous item or claim",
        )
        .hint_or_on_judge("scroll", "items"),
        row(
            PANES,
            Key::ch('k'),
            Action::Scroll(-1),
            "scroll a line; on the judge's map or a traced synthesis, the next / previous item or claim",
        )
        .hint_or_on_judge("scroll", "items"),
        row(
            PANES,
            Key::plain(K::Down),
            Action::Scroll(1),
            "scroll a line; on the judge's map or a traced synthesis, the next / previous item or claim",
        ),
        row(
            PANES,
            Key::plain(K::Up),
            Action::Scroll(-1),
            "scroll a line; on the judge's map or a traced synthesis, the next / previous item or claim",
        ),
        row(
            PANES,
            Key::plain(K::PageUp),
            Action::PageUp,
            "scroll a page",
        )
        .label("PgUp PgDn ^U ^D Space"),
        row(
            PANES,
            Key::plain(K::PageDown),
            Action::PageDown,
            "scroll a page",
        ),
        row(PANES, Key::ctrl('u'), Action::PageUp, "scroll a page"),
        row(PANES, Key::ctrl('d'), Action::PageDown, "scroll a page"),
        row(PANES, Key::ch(' '), Action::PageDown, "scroll a page"),
        row(
            PANES,
            Key::plain(K::Home),
            Action::ScrollTop,
            "top / bottom (End follows the stream)",
        ),
        row(
            PANES,
            Key::ch('g'),
            Action::ScrollTop,
            "top / bottom (End follows the stream)",
        ),
        row(
            PANES,
            Key::plain(K::End),
            Action::ScrollBottom,
            "top / bottom (End follows the stream)",
        ),
        row(
            PANES,
            Key::ch('G'),
            Action::ScrollBottom,
            "top / bottom (End follows the stream)",
        ),
        // The judge's tabs.
        row(
            PANES,
            Key::ch('1'),
            Action::JudgeTab(0),
            "judge tabs: consensus … raw",
        )
        .label("1-6 [ ]")
        .hint_in("tabs", PaneKind::Judge),
        row(
            PANES,
            Key::ch('2'),
            Action::JudgeTab(1),
            "judge tabs: consensus … raw",
        ),
        row(
            PANES,
            Key::ch('3'),
            Action::JudgeTab(2),
            "judge tabs: consensus … raw",
        ),
        row(
            PANES,
            Key::ch('4'),
            Action::JudgeTab(3),
            "judge tabs: consensus … raw",
        ),
        row(
            PANES,
            Key::ch('5'),
            Action::JudgeTab(4),
            "judge tabs: consensus … raw",
        ),
        row(
            PANES,
            Key::ch('6'),
            Action::JudgeTab(5),
            "judge tabs: consensus … raw",
        ),
        row(
            PANES,
            Key::ch(']'),
            Action::NextTab,
            "judge tabs: consensus … raw",
        ),
        row(
            PANES,
            Key::ch('['),
            Action::PrevTab,
            "judge tabs: consensus … raw",
        ),
        row(
            PANES,
            Key::plain(K::Right),
            Action::NextTab,
            "judge tabs: consensus … raw",
        ),
        row(
            PANES,
            Key::plain(K::Left),
            Action::PrevTab,
            "judge tabs: consensus … raw",
        ),
        row(
            PANES,
            Key::ch('{'),
            Action::EarlierTurn,
            "earlier / later turn of the conversation",
        ),
        row(
            PANES,
            Key::ch('}'),
            Action::LaterTurn,
            "earlier / later turn of the conversation",
        ),
        row(
            PANES,
            Key::ch('l'),
            Action::NextTab,
            "judge tabs: consensus … raw",
        ),
        row(
            PANES,
            Key::ch('h'),
            Action::PrevTab,
            "judge tabs: consensus … raw",
        ),
        // Pane commands.
        named(
            "reasoning",
            Action::ToggleReasoning,
            "show or hide reasoning",
        )
        .hint_in("reasoning", PaneKind::Member),
        named("cancel", Action::CancelFocused, "cancel the focused member")
            .hint_in("cancel", PaneKind::Member),
        named("copy", Action::Copy, "copy the focused pane's text").hint("copy"),
        named("rerun", Action::RerunFocused, "re-run the focused member")
            .hint_in("re-run", PaneKind::Member),
        named("rejudge", Action::Rejudge, "judge and synthesize again")
            .hint_in("re-judge", PaneKind::Judge),
        named(
            "deliberate",
            Action::Deliberate,
            "one more round: members revise, having read each other",
        ),
        named(
            "dispute",
            Action::Dispute,
            "put the selected contradiction to its members",
        )
        .hint_in("dispute", PaneKind::Judge),
        row(
            PANES,
            Key::ch('<'),
            Action::EarlierRound,
            "member panes: earlier / later round",
        ),
        row(
            PANES,
            Key::ch('>'),
            Action::LaterRound,
            "member panes: earlier / later round",
        ),
        named(
            "diff",
            Action::ToggleDiff,
            "a member's answer as a diff against its previous round",
        ),
        named("theme", Action::NextTheme, "next colour theme (remembered)"),
        named(
            "layout",
            Action::NextLayout,
            "arrange the screen: follows the work, panel, map or answer first (remembered)",
        ),
        named(
            "panel",
            Action::OpenPanelEditor,
            "edit the panel: members, judge, synthesizer, presets",
        ),
        row(
            MAIN,
            Key::ctrl('p'),
            Action::OpenPanelEditor,
            "edit the panel: members, judge, synthesizer, presets",
        ),
        row(
            MAIN,
            Key::ctrl('e'),
            Action::EditInEditor,
            "write the question in $VISUAL / $EDITOR",
        ),
        row(
            MAIN,
            Key::ctrl('n'),
            Action::NewConversation,
            "new conversation",
        ),
        row(
            MAIN,
            Key::ctrl('o'),
            Action::OpenHistory,
            "saved sessions: open, continue, delete",
        ),
        // Leaving, and this help.
        row(
            EVERYWHERE,
            Key::ctrl('c'),
            Action::Interrupt,
            "cancel the council; quit when idle (twice: always)",
        )
        .hint_while_running("quit", "cancel"),
        named("quit", Action::Quit, "quit (outside the editor)").hint("quit"),
        named("help", Action::ToggleHelp, "this help").hint("help"),
        row(EMPTY_EDITOR, Key::ch('?'), Action::ToggleHelp, "this help").hint("help"),
        row(EDITOR, Key::plain(K::F(1)), Action::ToggleHelp, "this help").hint("help"),
        row(PANES, Key::plain(K::F(1)), Action::ToggleHelp, "this help"),
        // Inside the help.
        row(
            HELP,
            Key::plain(K::Esc),
            Action::ToggleHelp,
            "close the help",
        )
        .hint("close"),
        row(HELP, Key::ch('?'), Action::ToggleHelp, "close the help"),
        row(HELP, Key::ch('q'), Action::ToggleHelp, "close the help"),
        row(
            HELP,
            Key::plain(K::F(1)),
            Action::ToggleHelp,
            "close the help",
        ),
        row(HELP, Key::ch('j'), Action::HelpScroll(1), "scroll the help").hint("scroll"),
        row(
            HELP,
            Key::ch('k'),
            Action::HelpScroll(-1),
            "scroll the help",
        )
        .hint("scroll"),
        row(
            HELP,
            Key::plain(K::Down),
            Action::HelpScroll(1),
            "scroll the help",
        ),
        row(
            HELP,
            Key::plain(K::Up),
            Action::HelpScroll(-1),
            "scroll the help",
        ),
        // The panel editor's seats, in the order its hint line names them.
        row(
            PANEL,
            Key::plain(K::Up),
            panel(P::Up),
            "previous / next seat",
        )
        .label("↑↓")
        .overlay("seat"),
        row(
            PANEL,
            Key::plain(K::Down),
            panel(P::Down),
            "previous / next seat",
        ),
        row(PANEL, Key::ch('k'), panel(P::Up), "previous / next seat"),
        row(PANEL, Key::ch('j'), panel(P::Down), "previous / next seat"),
        row(PANEL, Key::plain(K::Tab), panel(P::NextField), "next field").overlay("field"),
        row(
            PANEL,
            Key::plain(K::Right),
            panel(P::NextField),
            "next field",
        ),
        row(PANEL, Key::ch('l'), panel(P::NextField), "next field"),
        row(
            PANEL,
            Key::plain(K::BackTab),
            panel(P::PrevField),
            "previous field",
        ),
        row(
            PANEL,
            Key::plain(K::Left),
            panel(P::PrevField),
            "previous field",
        ),
        row(PANEL, Key::ch('h'), panel(P::PrevField), "previous field"),
        row(
            PANEL,
            Key::plain(K::Enter),
            panel(P::Enter),
            "edit the field",
        )
        .overlay("edit"),
        named_in(
            PANEL,
            "panel-edit",
            panel(P::EditText),
            "edit the field as text",
        ),
        row(PANEL, Key::ch(' '), panel(P::Toggle), "toggle web search"),
        named_in(
            PANEL,
            "panel-add",
            panel(P::Add),
            "add a fresh member, its model chosen first",
        )
        .overlay("add"),
        named_in(
            PANEL,
            "panel-duplicate",
            panel(P::Duplicate),
            "duplicate the member with its prompt and settings",
        )
        .overlay("duplicate"),
        named_in(PANEL, "panel-remove", panel(P::Remove), "remove the member").overlay("remove"),
        row(
            PANEL,
            Key::plain(K::Delete),
            panel(P::Remove),
            "remove the member",
        ),
        named_in(
            PANEL,
            "panel-move-up",
            panel(P::MoveUp),
            "move the member up",
        )
        .overlay("move"),
        named_in(
            PANEL,
            "panel-move-down",
            panel(P::MoveDown),
            "move the member down",
        )
        .overlay("move"),
        named_in(
            PANEL,
            "panel-roles",
            panel(P::Roles),
            "put a saved role on the member",
        )
        .overlay("role"),
        named_in(
            PANEL,
            "panel-save",
            panel(P::Save),
            "save the seats as a preset",
        )
        .overlay("save as preset"),
        row(
            PANEL,
            Key::plain(K::Esc),
            panel(P::Close),
            "close the panel editor (changes apply to the next run)",
        )
        .hint("close · changes apply to the next run")
        .overlay("done"),
        row(
            PANEL,
            Key::ch('q'),
            panel(P::Close),
            "close the panel editor",
        ),
        row(
            PANEL,
            Key::ch('p'),
            panel(P::Close),
            "close the panel editor",
        ),
        // The model picker: other keys type its filter.
        row(
            PICKER,
            Key::plain(K::Up),
            panel(P::Up),
            "previous / next model",
        )
        .label("↑↓")
        .overlay("choose"),
        row(
            PICKER,
            Key::plain(K::Down),
            panel(P::Down),
            "previous / next model",
        ),
        row(
            PICKER,
            Key::plain(K::Enter),
            panel(P::Keep),
            "take the highlighted model",
        )
        .overlay("takes the highlighted model"),
        row(
            PICKER,
            Key::plain(K::Tab),
            panel(P::TakeTyped),
            "take the model as typed",
        )
        .overlay("takes what you typed"),
        row(
            PICKER,
            Key::plain(K::Esc),
            panel(P::Drop),
            "back to the seats",
        )
        .hint("back to the seats")
        .overlay(""),
        // The saved roles.
        row(
            ROLES,
            Key::plain(K::Up),
            panel(P::Up),
            "previous / next role",
        )
        .label("↑↓")
        .overlay("choose"),
        row(
            ROLES,
            Key::plain(K::Down),
            panel(P::Down),
            "previous / next role",
        ),
        row(ROLES, Key::ch('k'), panel(P::Up), "previous / next role"),
        row(ROLES, Key::ch('j'), panel(P::Down), "previous / next role"),
        row(
            ROLES,
            Key::plain(K::Enter),
            panel(P::Keep),
            "put the role on the member (its system prompt, its temperature)",
        )
        .overlay("sets the member's system prompt (and temperature)"),
        row(
            ROLES,
            Key::plain(K::Esc),
            panel(P::Drop),
            "back to the seats",
        )
        .hint("back to the seats")
        .overlay(""),
        // A field edited as text: other keys type.
        row(FIELD, Key::plain(K::Enter), panel(P::Keep), "keep the edit").overlay("keeps"),
        row(
            FIELD,
            Key::alt(K::Enter),
            panel(P::NewLine),
            "new line (in the system prompt)",
        )
        .overlay("new line (system prompt)"),
        row(FIELD, Key::plain(K::Esc), panel(P::Drop), "drop the edit")
            .hint("drop the edit")
            .overlay("drops the edit"),
        // A name for the preset: other keys type it.
        row(
            NAMING,
            Key::plain(K::Enter),
            panel(P::Keep),
            "save the preset (never over an existing one)",
        )
        .overlay("saves (never over an existing one)"),
        row(
            NAMING,
            Key::plain(K::Esc),
            panel(P::Drop),
            "back to the seats",
        )
        .hint("back to the seats")
        .overlay(""),
        // The saved sessions, in the order their foot line names them;
        // other keys type the filter.
        row(
            HISTORY,
            Key::plain(K::Up),
            sessions(S::Up),
            "previous / next session",
        )
        .label("↑↓")
        .overlay("choose"),
        row(
            HISTORY,
            Key::plain(K::Down),
            sessions(S::Down),
            "previous / next session",
        ),
        row(
            HISTORY,
            Key::plain(K::Enter),
            sessions(S::Open),
            "open and continue it",
        )
        .overlay("opens and continues"),
        row(
            HISTORY,
            Key::plain(K::Delete),
            sessions(S::Delete),
            "delete it (asks first)",
        )
        .overlay("deletes"),
        row(
            HISTORY,
            Key::plain(K::Esc),
            sessions(S::Close),
            "close the sessions",
        )
        .hint("close the sessions")
        .overlay(""),
        // The search line: other keys type the words.
        row(
            SEARCH,
            Key::plain(K::Enter),
            Action::SearchGo,
            "go to the first match; n / N go on from there",
        )
        .hint("go"),
        row(
            SEARCH,
            Key::plain(K::Esc),
            Action::SearchClose,
            "close the search and its highlights",
        )
        .hint("close"),
    ]
}

/// The keys notices name, as the table in force binds them (a rebound key
/// is named as rebound).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct KeyNames {
    pub(crate) rerun: String,
    pub(crate) rejudge: String,
    pub(crate) deliberate: String,
    pub(crate) panel: String,
}

impl KeyNames {
    pub(crate) fn of(keymap: &Keymap) -> Self {
        let key = |action: Action| keymap.key_for(&action).unwrap_or_default();
        Self {
            rerun: key(Action::RerunFocused),
            rejudge: key(Action::Rejudge),
            deliberate: key(Action::Deliberate),
            panel: key(Action::OpenPanelEditor),
        }
    }
}

impl Default for KeyNames {
    fn default() -> Self {
        Self::of(&Keymap::default())
    }
}

/// The table in force.
#[derive(Debug, Clone, PartialEq)]
pub struct Keymap {
    bindings: Vec<Binding>,
}

impl Default for Keymap {
    fn default() -> Self {
        Self {
            bindings: defaults(),
        }
    }
}

impl Keymap {
    /// The defaults with the config file's overrides (`cancel = "x"`): the
    /// named action moves to the new key, its old key is freed, and another
    /// pane action on the new key gives way. Names not in `REBINDABLE` were
    /// refused when the config file was read.
    pub fn new(overrides: &BTreeMap<String, char>) -> Self {
        let mut bindings = defaults();
        for (name, key) in overrides {
            let key = Key::ch(*key);
            let Some(layers) = bindings
                .iter()
                .find(|b| b.name == Some(name.as_str()))
                .map(|b| b.layers)
            else {
                continue;
            };
            // The key leaves whatever it did in the same layers.
            bindings
                .retain(|b| b.name == Some(name.as_str()) || !(b.key == key && b.layers == layers));
            for b in bindings
                .iter_mut()
                .filter(|b| b.name == Some(name.as_str()))
            {
                b.key = key;
            }
        }
        Self { bindings }
    }

    /// How the first key for `action` is written (the editor's own first).
    pub(crate) fn key_for(&self, action: &Action) -> Option<String> {
        self.bindings
            .iter()
            .find(|b| &b.action == action && b.layers.contains(&Layer::Prompt))
            .or_else(|| self.bindings.iter().find(|b| &b.action == action))
            .map(|b| b.key.label())
    }

    /// Every key for `action` in `layer`, as written.
    pub(crate) fn keys_in(&self, layer: Layer, action: &Action) -> Vec<String> {
        self.bindings
            .iter()
            .filter(|b| &b.action == action && b.layers.contains(&layer))
            .map(|b| b.key.label())
            .collect()
    }

    /// One terminal event in `layer` as an action.
    pub fn map(&self, layer: Layer, event: &Event) -> Option<Action> {
        match event {
            Event::Key(key) if key.kind != KeyEventKind::Release => self.map_key(layer, key),
            Event::Paste(text) => Some(Action::Paste(text.clone())),
            Event::Mouse(m) => match m.kind {
                MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => Some(Action::ScrollAt {
                    column: m.column,
                    row: m.row,
                    lines: if m.kind == MouseEventKind::ScrollUp {
                        -3
                    } else {
                        3
                    },
                }),
                MouseEventKind::Down(MouseButton::Left) => Some(Action::ClickAt {
                    column: m.column,
                    row: m.row,
                }),
                _ => None,
            },
            _ => None,
        }
    }

    fn map_key(&self, layer: Layer, key: &KeyEvent) -> Option<Action> {
        if let Some(b) = self
            .bindings
            .iter()
            .find(|b| b.layers.contains(&layer) && b.key.matches(key))
        {
            return Some(b.action.clone());
        }
        // Keys the table does not name go to whoever takes text.
        match layer {
            Layer::Prompt | Layer::EmptyPrompt => Some(Action::Edit((*key).into())),
            Layer::PanelEditor
            | Layer::PanelField
            | Layer::PanelPicker
            | Layer::PanelRoles
            | Layer::PanelNaming => Some(Action::PanelKey(*key)),
            Layer::History | Layer::HistoryConfirm => Some(Action::HistoryKey(*key)),
            Layer::Search => Some(Action::SearchKey(*key)),
            Layer::Panes | Layer::Help => None,
        }
    }

    /// The help overlay's sections: the editor and the panes first (then
    /// the mouse), then each overlay's keys under its title.
    pub fn help(&self) -> Vec<HelpSection> {
        let mut main = self.help_rows(MAIN, true);
        main.push(("mouse".into(), "wheel scrolls, click focuses"));
        let mut sections = vec![HelpSection {
            title: "",
            rows: main,
        }];
        for (title, layer) in [
            ("Panel editor", Layer::PanelEditor),
            ("Panel editor: model picker", Layer::PanelPicker),
            ("Panel editor: roles", Layer::PanelRoles),
            ("Panel editor: a field", Layer::PanelField),
            ("Panel editor: preset name", Layer::PanelNaming),
            ("Saved sessions", Layer::History),
            ("Search", Layer::Search),
        ] {
            sections.push(HelpSection {
                title,
                rows: self.help_rows(&[layer], false),
            });
        }
        sections
    }

    /// (keys, what they do) for the rows of `layers`, rows with the same
    /// text merged, in table order. An overlay's section lists its keys as
    /// they are (no written-out labels) and leaves out the keys that work
    /// everywhere, which the first section lists.
    fn help_rows(&self, layers: &[Layer], main: bool) -> Vec<(String, &'static str)> {
        let mut lines: Vec<(Vec<String>, Option<&'static str>, bool, &'static str)> = Vec::new();
        for b in self.bindings.iter().filter(|b| {
            b.layers.iter().any(|l| layers.contains(l)) && (main || b.layers != EVERYWHERE)
        }) {
            let label = b.label.filter(|_| main);
            let rebound = b.name.is_some_and(|n| {
                REBINDABLE
                    .iter()
                    .any(|(name, default)| *name == n && Key::ch(*default) != b.key)
            });
            match lines.iter_mut().find(|(_, _, _, help)| *help == b.help) {
                Some((keys, label, any_rebound, _)) => {
                    if !keys.contains(&b.key.label()) {
                        keys.push(b.key.label());
                    }
                    *label = label.or(b.label.filter(|_| main));
                    *any_rebound |= rebound;
                }
                None => lines.push((vec![b.key.label()], label, rebound, b.help)),
            }
        }
        lines
            .into_iter()
            .map(|(keys, label, rebound, help)| match label {
                // A written-out label only while its keys are the defaults.
                Some(label) if !rebound => (label.to_string(), help),
                _ => (keys.join(" "), help),
            })
            .collect()
    }

    /// The hint line for `layer` (with the focused pane's kind and whether a
    /// council runs): `key text` pairs, neighbours with the same text joined.
    /// The hint bar for `layer`, at most `width` columns: when the hints do
    /// not fit, the ones just before the last two (quit, help) give way, so
    /// the way to the help always shows.
    pub(crate) fn hints(
        &self,
        layer: Layer,
        pane: Option<PaneKind>,
        running: bool,
        width: usize,
    ) -> String {
        let mut parts: Vec<(String, &'static str)> = Vec::new();
        for b in &self.bindings {
            let Some(hint) = b.hint else { continue };
            if !b.layers.contains(&layer) || hint.only.is_some_and(|p| Some(p) != pane) {
                continue;
            }
            let text = match (hint.running, hint.judge) {
                (Some(r), _) if running => r,
                (_, Some(j)) if pane == Some(PaneKind::Judge) => j,
                _ => hint.text,
            };
            parts.push((b.written(), text));
        }
        let mut parts = merged(parts);
        let fits = |parts: &[String]| {
            let columns: usize = parts.iter().map(|p| p.chars().count()).sum();
            columns + 3 * parts.len().saturating_sub(1) <= width
        };
        while !fits(&parts) && parts.len() > 2 {
            parts.remove(parts.len().saturating_sub(3));
        }
        parts.join(" · ")
    }

    /// An overlay's own hint line for `layer` (the panel editor's), from the
    /// rows that carry one, in table order.
    pub(crate) fn overlay_hints(&self, layer: Layer) -> String {
        let parts = self
            .bindings
            .iter()
            .filter(|b| b.layers.contains(&layer))
            .filter_map(|b| Some((b.written(), b.overlay?)))
            .collect();
        merged(parts).join(" · ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyEventState, MouseEvent};

    fn key(code: KeyCode, modifiers: KeyModifiers) -> Event {
        Event::Key(KeyEvent {
            code,
            modifiers,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        })
    }

    #[test]
    fn overridden_keys_take_the_action_and_free_the_default() {
        let keys = [("cancel".to_string(), 'x'), ("quit".to_string(), 'Q')];
        let keymap = Keymap::new(&keys.into_iter().collect());
        let press = |c| keymap.map(Layer::Panes, &key(KeyCode::Char(c), KeyModifiers::NONE));
        assert_eq!(press('x'), Some(Action::CancelFocused));
        assert_eq!(press('c'), None, "the default key is freed");
        assert_eq!(press('Q'), Some(Action::Quit));
        assert_eq!(press('q'), None);
        assert_eq!(press('z'), Some(Action::ToggleZoom), "others are unchanged");
        let hints = keymap.hints(Layer::Panes, Some(PaneKind::Member), false, usize::MAX);
        assert!(
            hints.contains("x cancel") && hints.contains("Q quit"),
            "{hints}"
        );
        let help = keymap.help();
        assert!(
            help[0]
                .rows
                .contains(&("x".into(), "cancel the focused member")),
            "{help:?}"
        );
    }

    #[test]
    fn a_key_rebound_onto_another_action_takes_it_over() {
        let keymap = Keymap::new(&[("copy".to_string(), 'j')].into_iter().collect());
        let press = |c| keymap.map(Layer::Panes, &key(KeyCode::Char(c), KeyModifiers::NONE));
        assert_eq!(press('j'), Some(Action::Copy));
        assert_eq!(press('y'), None);
        assert_eq!(
            keymap.map(Layer::Panes, &key(KeyCode::Down, KeyModifiers::NONE)),
            Some(Action::Scroll(1)),
            "scrolling keeps its other keys"
        );
    }

    #[test]
    fn the_panel_editor_keys_and_hint_line_come_from_the_table() {
        let keymap = Keymap::default();
        assert_eq!(
            keymap.overlay_hints(Layer::PanelEditor),
            "↑↓ seat · Tab field · Enter edit · a add · d duplicate · x remove · K/J move · \
             o role · s save as preset · Esc done"
        );
        let press =
            |layer, code| keymap.map(layer, &Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        assert_eq!(
            press(Layer::PanelEditor, KeyCode::Char('K')),
            Some(Action::Panel(PanelAction::MoveUp))
        );
        // While it takes text, letters are typed, not seat keys.
        assert!(matches!(
            press(Layer::PanelField, KeyCode::Char('K')),
            Some(Action::PanelKey(_))
        ));
        assert_eq!(
            press(Layer::PanelField, KeyCode::Enter),
            Some(Action::Panel(PanelAction::Keep))
        );
        assert_eq!(
            keymap.overlay_hints(Layer::PanelPicker),
            "↑↓ choose · Enter takes the highlighted model · Tab takes what you typed · Esc"
        );
    }

    #[test]
    fn a_panel_editor_key_rebinds_like_a_pane_key() {
        let settings = crate::config::settings::Settings::parse(
            "[keys]\npanel-add = \"n\"\npanel-remove = \"j\"\n",
            "test",
        )
        .expect("panel key names are known");
        let keymap = Keymap::new(&settings.keys);
        let press = |c| {
            keymap.map(
                Layer::PanelEditor,
                &Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
            )
        };
        assert_eq!(press('n'), Some(Action::Panel(PanelAction::Add)));
        assert!(
            matches!(press('a'), Some(Action::PanelKey(_))),
            "a is freed"
        );
        assert_eq!(press('j'), Some(Action::Panel(PanelAction::Remove)));
        assert!(
            keymap.overlay_hints(Layer::PanelEditor).contains("n add"),
            "{}",
            keymap.overlay_hints(Layer::PanelEditor)
        );
        let panel = &keymap.help()[1];
        assert_eq!(panel.title, "Panel editor");
        assert!(
            panel
                .rows
                .contains(&("n".into(), "add a fresh member, its model chosen first")),
            "{panel:?}"
        );
        // Pane keys are untouched: `j` still scrolls there.
        assert_eq!(
            keymap.map(
                Layer::Panes,
                &Event::Key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE))
            ),
            Some(Action::Scroll(1))
        );
    }

    #[test]
    fn the_session_browser_keys_and_foot_line_come_from_the_table() {
        let keymap = Keymap::default();
        assert_eq!(
            keymap.overlay_hints(Layer::History),
            "↑↓ choose · Enter opens and continues · Del deletes · Esc"
        );
        let press =
            |layer, code| keymap.map(layer, &Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        assert_eq!(
            press(Layer::History, KeyCode::Enter),
            Some(Action::Sessions(SessionsAction::Open))
        );
        // Asked whether to delete, every key is the answer.
        assert!(matches!(
            press(Layer::HistoryConfirm, KeyCode::Enter),
            Some(Action::HistoryKey(_))
        ));
    }

    #[test]
    fn shift_tab_as_terminals_send_it_is_shift_tab() {
        let keymap = Keymap::default();
        let back_tab = Event::Key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT));
        assert_eq!(keymap.map(Layer::Panes, &back_tab), Some(Action::FocusPrev));
        assert_eq!(
            keymap.map(Layer::PanelEditor, &back_tab),
            Some(Action::Panel(PanelAction::PrevField))
        );
    }

    #[test]
    fn every_rebindable_action_is_in_the_table_on_its_default_key() {
        let keymap = Keymap::default();
        for (name, default) in REBINDABLE {
            let b = keymap
                .bindings
                .iter()
                .find(|b| b.name == Some(*name))
                .unwrap_or_else(|| panic!("{name} is bound"));
            assert_eq!(b.key, Key::ch(*default), "{name}");
        }
    }

    #[test]
    fn the_editor_takes_text_and_panes_take_commands() {
        let keymap = Keymap::default();
        let map = |layer, code, mods| keymap.map(layer, &key(code, mods));
        assert!(matches!(
            map(Layer::Prompt, KeyCode::Char('q'), KeyModifiers::NONE),
            Some(Action::Edit(_))
        ));
        assert_eq!(
            map(Layer::Prompt, KeyCode::Enter, KeyModifiers::NONE),
            Some(Action::Submit)
        );
        assert_eq!(
            map(Layer::Prompt, KeyCode::Enter, KeyModifiers::ALT),
            Some(Action::InsertNewline)
        );
        assert_eq!(
            map(Layer::Prompt, KeyCode::Up, KeyModifiers::NONE),
            Some(Action::HistoryPrev)
        );
        assert_eq!(
            map(Layer::Prompt, KeyCode::F(1), KeyModifiers::NONE),
            Some(Action::ToggleHelp)
        );
        assert_eq!(
            map(Layer::Panes, KeyCode::Char('q'), KeyModifiers::NONE),
            Some(Action::Quit)
        );
        assert_eq!(
            map(Layer::Panes, KeyCode::Char('3'), KeyModifiers::NONE),
            Some(Action::JudgeTab(2))
        );
        assert_eq!(
            map(Layer::Panes, KeyCode::Char('G'), KeyModifiers::SHIFT),
            Some(Action::ScrollBottom)
        );
        assert_eq!(
            map(Layer::Panes, KeyCode::Enter, KeyModifiers::NONE),
            Some(Action::Open)
        );
        assert_eq!(
            map(Layer::Panes, KeyCode::Char('z'), KeyModifiers::NONE),
            Some(Action::ToggleZoom)
        );
        for layer in [Layer::Prompt, Layer::Panes, Layer::Help, Layer::History] {
            assert_eq!(
                map(layer, KeyCode::Char('c'), KeyModifiers::CONTROL),
                Some(Action::Interrupt)
            );
        }
        // Overlays take their keys; the help takes only its own.
        assert!(matches!(
            map(Layer::History, KeyCode::Char('q'), KeyModifiers::NONE),
            Some(Action::HistoryKey(_))
        ));
        assert_eq!(map(Layer::Help, KeyCode::Tab, KeyModifiers::NONE), None);
        assert_eq!(
            map(Layer::Help, KeyCode::Esc, KeyModifiers::NONE),
            Some(Action::ToggleHelp)
        );
    }

    #[test]
    fn hints_follow_the_layer_the_pane_and_the_run() {
        let keymap = Keymap::default();
        assert_eq!(
            keymap.hints(Layer::Prompt, None, false, usize::MAX),
            "Enter ask · Alt+Enter newline · ↑↓ history · Tab panes · Ctrl+C quit · F1 help"
        );
        assert!(
            keymap
                .hints(Layer::Prompt, None, true, usize::MAX)
                .contains("Ctrl+C cancel")
        );
        let judge = keymap.hints(Layer::Panes, Some(PaneKind::Judge), false, usize::MAX);
        assert!(
            judge.contains("1-6 [ ] tabs") && !judge.contains("cancel"),
            "{judge}"
        );
        let member = keymap.hints(Layer::Panes, Some(PaneKind::Member), false, usize::MAX);
        assert!(
            member.contains("j/k scroll") && member.contains("c cancel"),
            "{member}"
        );
        assert_eq!(
            keymap.hints(Layer::EmptyPrompt, None, false, usize::MAX),
            "Enter ask · Alt+Enter newline · ↑↓ history · Tab panes · Ctrl+C quit · ?/F1 help"
        );
    }

    #[test]
    fn narrow_hints_drop_the_middle_and_keep_quit_and_help() {
        let keymap = Keymap::default();
        let narrow = keymap.hints(Layer::EmptyPrompt, None, false, 60);
        assert!(narrow.chars().count() <= 60, "{narrow}");
        assert!(narrow.ends_with("Ctrl+C quit · ?/F1 help"), "{narrow}");
        assert!(narrow.starts_with("Enter ask"), "{narrow}");
        assert!(!narrow.contains("Tab panes"), "{narrow}");
        let tiny = keymap.hints(Layer::EmptyPrompt, None, false, 10);
        assert_eq!(tiny, "Ctrl+C quit · ?/F1 help", "the last two always stay");
    }

    #[test]
    fn mouse_and_paste() {
        let keymap = Keymap::default();
        let wheel = Event::Mouse(MouseEvent {
            kind: MouseEventKind::ScrollDown,
            column: 3,
            row: 4,
            modifiers: KeyModifiers::NONE,
        });
        assert_eq!(
            keymap.map(Layer::Panes, &wheel),
            Some(Action::ScrollAt {
                column: 3,
                row: 4,
                lines: 3
            })
        );
        assert_eq!(
            keymap.map(Layer::Prompt, &Event::Paste("a\nb".into())),
            Some(Action::Paste("a\nb".into()))
        );
    }
}
