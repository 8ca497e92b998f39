//! Terminal input to actions. Which keys mean what depends on the focus:
//! the editor takes text; panes take single-letter commands.

use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEventKind,
};

use crate::config::settings::REBINDABLE;
use crate::tui::action::Action;
use crate::tui::state::{Focus, State};

/// The key map shown in the help overlay and the README: (keys, what they do).
pub const HELP: &[(&str, &str)] = &[
    (
        "Enter",
        "ask the question (in the editor); zoom the focused pane",
    ),
    ("Alt+Enter", "new line in the editor"),
    ("↑ / ↓", "earlier questions (in an empty editor)"),
    ("Tab / Shift+Tab", "next / previous pane"),
    ("i  /", "back to the editor"),
    ("Esc", "leave the editor, leave zoom, close this help"),
    ("z", "zoom the focused pane to full screen and back"),
    ("j k ↑ ↓", "scroll a line"),
    ("PgUp PgDn ^U ^D", "scroll a page"),
    ("Home g / End G", "top / bottom (End follows the stream)"),
    ("1-6  [ ]", "judge tabs: consensus … raw"),
    (
        "t / T",
        "show or hide reasoning / next colour theme (remembered)",
    ),
    (
        "p  Ctrl+P",
        "edit the panel: members, judge, synthesizer, presets",
    ),
    (
        "c / y",
        "cancel the focused member / copy the focused pane's text",
    ),
    (
        "r / R",
        "re-run the focused member / judge and synthesize again",
    ),
    ("mouse", "wheel scrolls, click focuses"),
    (
        "Ctrl+N / Ctrl+O",
        "new conversation / saved sessions: open, continue, delete",
    ),
    (
        "Ctrl+C",
        "cancel the council; quit when idle (twice: always)",
    ),
    ("q", "quit (outside the editor)"),
    ("?", "this help"),
];

/// Pane keys changed by the config file's `[keys]` table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyOverrides {
    /// (default key, the key that replaces it)
    swaps: Vec<(char, char)>,
}

impl KeyOverrides {
    /// From action names to keys; names not in `REBINDABLE` are ignored
    /// (the config loader already rejected them).
    pub fn new(keys: &std::collections::BTreeMap<String, char>) -> Self {
        let swaps = REBINDABLE
            .iter()
            .filter_map(|(action, default)| keys.get(*action).map(|k| (*default, *k)))
            .collect();
        Self { swaps }
    }

    /// The default key a pressed key stands for: an override's key means its
    /// action; an overridden default key means nothing.
    fn resolve(&self, pressed: char) -> Option<char> {
        if let Some((default, _)) = self.swaps.iter().find(|(_, k)| *k == pressed) {
            return Some(*default);
        }
        if self.swaps.iter().any(|(d, _)| *d == pressed) {
            return None;
        }
        Some(pressed)
    }
}

/// Maps one terminal event to an action, given the current state.
pub fn map(event: &Event, state: &State) -> Option<Action> {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => map_key(key, state),
        Event::Paste(text) => Some(Action::Paste(text.clone())),
        Event::Mouse(m) => match m.kind {
            MouseEventKind::ScrollUp => Some(Action::ScrollAt {
                column: m.column,
                row: m.row,
                lines: -3,
            }),
            MouseEventKind::ScrollDown => Some(Action::ScrollAt {
                column: m.column,
                row: m.row,
                lines: 3,
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

fn map_key(key: &KeyEvent, state: &State) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    if ctrl && key.code == KeyCode::Char('c') {
        return Some(Action::Interrupt);
    }
    if state.panel_editor.is_some() {
        return Some(Action::PanelKey(*key));
    }
    if state.history_browser.is_some() {
        return Some(Action::HistoryKey(*key));
    }
    if ctrl && key.code == KeyCode::Char('o') {
        return Some(Action::OpenHistory);
    }
    if ctrl && key.code == KeyCode::Char('p') {
        return Some(Action::OpenPanelEditor);
    }
    if ctrl && key.code == KeyCode::Char('n') {
        return Some(Action::NewConversation);
    }
    if state.help {
        return match key.code {
            KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') => Some(Action::Back),
            _ => None,
        };
    }
    match key.code {
        KeyCode::Tab => return Some(Action::FocusNext),
        KeyCode::BackTab => return Some(Action::FocusPrev),
        KeyCode::Esc => return Some(Action::Back),
        _ => {}
    }
    if state.focus == Focus::Prompt {
        return Some(match key.code {
            KeyCode::Enter if alt || key.modifiers.contains(KeyModifiers::SHIFT) => {
                Action::InsertNewline
            }
            KeyCode::Enter => Action::Submit,
            KeyCode::Up if state.editor.is_empty() || browsing_history(state) => {
                Action::HistoryPrev
            }
            KeyCode::Down if browsing_history(state) => Action::HistoryNext,
            _ => Action::Edit((*key).into()),
        });
    }
    let code = match key.code {
        KeyCode::Char(c) if !ctrl => KeyCode::Char(state.keys.resolve(c)?),
        other => other,
    };
    Some(match code {
        KeyCode::Enter | KeyCode::Char('z') => Action::ToggleZoom,
        KeyCode::Char('j') | KeyCode::Down => Action::Scroll(1),
        KeyCode::Char('k') | KeyCode::Up => Action::Scroll(-1),
        KeyCode::Char('d') if ctrl => Action::PageDown,
        KeyCode::Char('u') if ctrl => Action::PageUp,
        KeyCode::PageDown | KeyCode::Char(' ') => Action::PageDown,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::Home | KeyCode::Char('g') => Action::ScrollTop,
        KeyCode::End | KeyCode::Char('G') => Action::ScrollBottom,
        KeyCode::Char(c @ '1'..='6') => Action::JudgeTab(c as usize - '1' as usize),
        KeyCode::Char(']') | KeyCode::Right | KeyCode::Char('l') => Action::NextTab,
        KeyCode::Char('[') | KeyCode::Left | KeyCode::Char('h') => Action::PrevTab,
        KeyCode::Char('c') => Action::CancelFocused,
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Char('y') => Action::Copy,
        KeyCode::Char('?') => Action::ToggleHelp,
        KeyCode::Char('t') => Action::ToggleReasoning,
        KeyCode::Char('T') => Action::NextTheme,
        KeyCode::Char('r') => Action::RerunFocused,
        KeyCode::Char('R') => Action::Rejudge,
        KeyCode::Char('p') => Action::OpenPanelEditor,
        KeyCode::Char('i') | KeyCode::Char('/') => Action::FocusEditor,
        _ => return None,
    })
}

/// True while the editor shows a recalled question that was not edited.
fn browsing_history(state: &State) -> bool {
    let text = state.editor.lines().join("\n");
    !text.is_empty() && state.history.contains(&text)
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
        let mut state = State::new();
        state.focus = Focus::Judge;
        let keys = [("cancel".to_string(), 'x'), ("quit".to_string(), 'Q')];
        state.keys = KeyOverrides::new(&keys.into_iter().collect());
        let press = |c| map(&key(KeyCode::Char(c), KeyModifiers::NONE), &state);
        assert_eq!(press('x'), Some(Action::CancelFocused));
        assert_eq!(press('c'), None, "the default key is freed");
        assert_eq!(press('Q'), Some(Action::Quit));
        assert_eq!(press('q'), None);
        assert_eq!(press('z'), Some(Action::ToggleZoom), "others are unchanged");
    }

    #[test]
    fn the_editor_takes_text_and_panes_take_commands() {
        let mut state = State::new();
        assert!(matches!(
            map(&key(KeyCode::Char('q'), KeyModifiers::NONE), &state),
            Some(Action::Edit(_))
        ));
        assert_eq!(
            map(&key(KeyCode::Enter, KeyModifiers::NONE), &state),
            Some(Action::Submit)
        );
        assert_eq!(
            map(&key(KeyCode::Enter, KeyModifiers::ALT), &state),
            Some(Action::InsertNewline)
        );
        assert_eq!(
            map(&key(KeyCode::Up, KeyModifiers::NONE), &state),
            Some(Action::HistoryPrev)
        );
        state.focus = Focus::Judge;
        assert_eq!(
            map(&key(KeyCode::Char('q'), KeyModifiers::NONE), &state),
            Some(Action::Quit)
        );
        assert_eq!(
            map(&key(KeyCode::Char('3'), KeyModifiers::NONE), &state),
            Some(Action::JudgeTab(2))
        );
        assert_eq!(
            map(&key(KeyCode::Enter, KeyModifiers::NONE), &state),
            Some(Action::ToggleZoom)
        );
        assert_eq!(
            map(&key(KeyCode::Char('c'), KeyModifiers::CONTROL), &state),
            Some(Action::Interrupt)
        );
    }

    #[test]
    fn mouse_and_paste() {
        let state = State::new();
        let wheel = Event::Mouse(MouseEvent {
            kind: MouseEventKind::ScrollDown,
            column: 3,
            row: 4,
            modifiers: KeyModifiers::NONE,
        });
        assert_eq!(
            map(&wheel, &state),
            Some(Action::ScrollAt {
                column: 3,
                row: 4,
                lines: 3
            })
        );
        assert_eq!(
            map(&Event::Paste("a\nb".into()), &state),
            Some(Action::Paste("a\nb".into()))
        );
    }
}
