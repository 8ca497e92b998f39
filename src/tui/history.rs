//! The history browser's state: saved sessions, a text filter, the
//! selection, and a pending delete waiting for confirmation. No I/O: the
//! app loads the list and carries out what an outcome asks.

use crate::tui::action::SessionsAction;
use crossterm::event::{KeyCode, KeyEvent};

use crate::session::SessionSummary;

/// What the browser asks of the app after a key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum HistoryOutcome {
    Stay,
    Close,
    /// Open this session: show it and continue it.
    Open(SessionSummary),
    /// Delete this session (confirmed).
    Delete(SessionSummary),
}

pub struct HistoryBrowser {
    pub(crate) sessions: Vec<SessionSummary>,
    /// Files that could not be read, said plainly.
    pub(crate) problems: Vec<String>,
    pub(crate) filter: String,
    pub(crate) selected: usize,
    /// A delete waiting for `y`.
    pub(crate) confirm: Option<SessionSummary>,
    /// Sessions are still being read.
    pub(crate) loading: bool,
}

impl HistoryBrowser {
    pub(crate) fn new(sessions: Vec<SessionSummary>, problems: Vec<String>) -> Self {
        Self {
            sessions,
            problems,
            filter: String::new(),
            selected: 0,
            confirm: None,
            loading: false,
        }
    }

    /// An empty browser that fills in as sessions are read.
    pub(crate) fn loading() -> Self {
        Self {
            loading: true,
            ..Self::new(Vec::new(), Vec::new())
        }
    }

    /// More sessions were read: newest first, the selection kept on the
    /// session it was on.
    pub(crate) fn extend(&mut self, sessions: Vec<SessionSummary>, problems: Vec<String>) {
        let selected = self.visible().get(self.selected).map(|s| s.id.clone());
        self.sessions.extend(sessions);
        self.sessions.sort_by(|a, b| b.path.cmp(&a.path));
        self.problems.extend(problems);
        if let Some(id) = selected {
            self.selected = self.visible().iter().position(|s| s.id == id).unwrap_or(0);
        }
    }

    /// Sessions whose question, preset or id contains every word of the filter.
    pub(crate) fn visible(&self) -> Vec<&SessionSummary> {
        let words: Vec<String> = self
            .filter
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        self.sessions
            .iter()
            .filter(|s| {
                let hay = format!(
                    "{} {} {}",
                    s.question.to_lowercase(),
                    s.preset.as_deref().unwrap_or_default(),
                    s.id
                );
                words.iter().all(|w| hay.contains(w))
            })
            .collect()
    }

    /// A key from the key table: move, open, ask to delete, close.
    pub(crate) fn act(&mut self, action: SessionsAction) -> HistoryOutcome {
        let visible = self.visible().len();
        match action {
            SessionsAction::Close => return HistoryOutcome::Close,
            SessionsAction::Up => self.selected = self.selected.saturating_sub(1),
            SessionsAction::Down => {
                self.selected = (self.selected + 1).min(visible.saturating_sub(1))
            }
            SessionsAction::Open => {
                if let Some(s) = self.visible().get(self.selected) {
                    return HistoryOutcome::Open((*s).clone());
                }
            }
            SessionsAction::Delete => {
                self.confirm = self.visible().get(self.selected).map(|s| (*s).clone());
            }
        }
        HistoryOutcome::Stay
    }

    /// A key the table does not name: the answer to "delete?" (`y` deletes,
    /// any other key keeps it), or typing the filter.
    pub(crate) fn handle(&mut self, key: KeyEvent) -> HistoryOutcome {
        if let Some(target) = self.confirm.take() {
            return match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => HistoryOutcome::Delete(target),
                _ => HistoryOutcome::Stay,
            };
        }
        match key.code {
            KeyCode::Backspace => {
                self.filter.pop();
                self.selected = 0;
            }
            KeyCode::Char(c) if !c.is_control() => {
                self.filter.push(c);
                self.selected = 0;
            }
            _ => {}
        }
        HistoryOutcome::Stay
    }

    /// After a delete: the session is gone from the list.
    pub(crate) fn remove(&mut self, id: &str) {
        self.sessions.retain(|s| s.id != id);
        self.selected = self.selected.min(self.visible().len().saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::action::Action;
    use crate::tui::keymap::Keymap;
    use crate::tui::layer::Layer;
    use crossterm::event::KeyModifiers;

    fn summary(id: &str, question: &str) -> SessionSummary {
        SessionSummary {
            id: id.into(),
            created: "2026-11-23T08:00:00Z".into(),
            question: question.into(),
            preset: Some("budget".into()),
            turns: 1,
            cost: 0.01,
            status: "done".into(),
            origin: None,
            path: format!("/s/{id}.jsonl").into(),
            questions: vec![question.into()],
        }
    }

    /// A key as the app delivers it: through the default key table.
    fn press(b: &mut HistoryBrowser, code: KeyCode) -> HistoryOutcome {
        let key = KeyEvent::new(code, KeyModifiers::NONE);
        let layer = match b.confirm {
            Some(_) => Layer::HistoryConfirm,
            None => Layer::History,
        };
        match Keymap::default().map(layer, &crossterm::event::Event::Key(key)) {
            Some(Action::Sessions(action)) => b.act(action),
            Some(Action::HistoryKey(key)) => b.handle(key),
            _ => HistoryOutcome::Stay,
        }
    }

    #[test]
    fn filter_select_open_and_delete_with_confirmation() {
        let mut b = HistoryBrowser::new(
            vec![
                summary("b", "Why is the sky blue?"),
                summary("a", "Tabs or spaces?"),
            ],
            vec![],
        );
        for c in "sky".chars() {
            press(&mut b, KeyCode::Char(c));
        }
        assert_eq!(b.visible().len(), 1);
        assert_eq!(
            press(&mut b, KeyCode::Enter),
            HistoryOutcome::Open(summary("b", "Why is the sky blue?"))
        );
        for _ in 0..3 {
            press(&mut b, KeyCode::Backspace);
        }
        press(&mut b, KeyCode::Down);
        assert_eq!(press(&mut b, KeyCode::Delete), HistoryOutcome::Stay);
        assert!(b.confirm.is_some());
        assert_eq!(
            press(&mut b, KeyCode::Char('n')),
            HistoryOutcome::Stay,
            "anything but y keeps it"
        );
        press(&mut b, KeyCode::Delete);
        assert_eq!(
            press(&mut b, KeyCode::Char('y')),
            HistoryOutcome::Delete(summary("a", "Tabs or spaces?"))
        );
        b.remove("a");
        assert_eq!(b.visible().len(), 1);
        assert_eq!(press(&mut b, KeyCode::Esc), HistoryOutcome::Close);
    }
}
