//! `/`: words looked for across the panes on screen ("who mentioned X?").
//! The words are matched as the judge's quotes are (case, spacing and
//! punctuation aside); drawing finds them in each pane's drawn text and
//! reports the counts back, and `n`/`N` step from match to match across
//! the panes in Tab order.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::tui::focus::Focus;

/// The longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Matches counted per pane, at most (shown as `999+`).
pub const MAX_FOUND: usize = 999;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Search {
    pub(crate) query: String,
    /// The search line has the keyboard; else it only shows the counts.
    pub(crate) typing: bool,
    /// Matches per pane, as the frames that drew them counted.
    pub(crate) counts: Vec<(Focus, usize)>,
    /// The match gone to: its pane and its place among the pane's matches.
    pub(crate) at: Option<(Focus, usize)>,
    /// Set when `at` moved: the next frame scrolls its pane to it.
    pub(crate) moved: bool,
    /// Enter came before any frame counted the query: go once counted.
    pub(crate) go_when_counted: bool,
}

/// Where a pane stands in Tab order (members first, then the judge and
/// the synthesis).
fn rank(focus: Focus) -> (u8, usize) {
    match focus {
        Focus::Prompt => (0, 0),
        Focus::Member(i) => (1, i),
        Focus::Judge => (2, 0),
        Focus::Synthesis => (3, 0),
    }
}

impl Search {
    pub(crate) fn open(query: String) -> Self {
        Self {
            query,
            typing: true,
            ..Self::default()
        }
    }

    /// A key typed into the search line. True when the query changed.
    pub(crate) fn type_key(&mut self, key: KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('u') if ctrl => self.query.clear(),
            KeyCode::Char('w') if ctrl => {
                let kept = self.query.trim_end().rfind(' ').map_or(0, |at| at + 1);
                self.query.truncate(kept);
            }
            KeyCode::Char(c) if !ctrl && !c.is_control() => {
                if self.query.chars().count() >= MAX_QUERY_CHARS {
                    return false;
                }
                self.query.push(c);
            }
            KeyCode::Backspace => {
                if self.query.pop().is_none() {
                    return false;
                }
            }
            _ => return false,
        }
        self.counts.clear();
        self.at = None;
        true
    }

    /// Pasted text joins the query on one line.
    pub(crate) fn paste(&mut self, text: &str) {
        let room = MAX_QUERY_CHARS.saturating_sub(self.query.chars().count());
        let text: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(room)
            .collect();
        self.query.push_str(&text);
        self.counts.clear();
        self.at = None;
    }

    /// Takes in a frame's count for `pane`.
    pub(crate) fn counted(&mut self, pane: Focus, n: usize) {
        match self.counts.iter_mut().find(|(p, _)| *p == pane) {
            Some((_, count)) => *count = n,
            None => self.counts.push((pane, n)),
        }
        self.counts.sort_by_key(|(p, _)| rank(*p));
        // A match gone to that is no longer there (the pane changed).
        if let Some((p, k)) = self.at
            && p == pane
            && k >= n
        {
            self.at = n.checked_sub(1).map(|k| (pane, k));
        }
    }

    pub(crate) fn total(&self) -> usize {
        self.counts.iter().map(|(_, n)| n).sum()
    }

    /// Panes with a match.
    pub(crate) fn panes(&self) -> usize {
        self.counts.iter().filter(|(_, n)| *n > 0).count()
    }

    pub(crate) fn count(&self, pane: Focus) -> usize {
        self.counts
            .iter()
            .find(|(p, _)| *p == pane)
            .map_or(0, |(_, n)| *n)
    }

    /// The next (`forward`) or previous match across the panes, from the
    /// one gone to, or else from the start of the pane `from`: its pane,
    /// which takes the focus. None when nothing is found.
    pub(crate) fn step(&mut self, from: Focus, forward: bool) -> Option<Focus> {
        let found: Vec<(Focus, usize)> = self
            .counts
            .iter()
            .copied()
            .filter(|(_, n)| *n > 0)
            .collect();
        if found.is_empty() {
            return None;
        }
        let next = match self.at {
            Some((pane, k)) => {
                let n = self.count(pane);
                if forward && k + 1 < n {
                    (pane, k + 1)
                } else if !forward && k > 0 && k <= n {
                    (pane, k - 1)
                } else {
                    self.neighbour(&found, pane, forward)
                }
            }
            // First: from the start of the focused pane.
            None if forward => {
                let (pane, _) = found
                    .iter()
                    .find(|(p, _)| rank(*p) >= rank(from))
                    .unwrap_or(&found[0]);
                (*pane, 0)
            }
            None => self.neighbour(&found, from, false),
        };
        self.at = Some(next);
        self.moved = true;
        Some(next.0)
    }

    /// The first match of the next pane with any, or the last of the
    /// previous one, round the ends.
    fn neighbour(&self, found: &[(Focus, usize)], pane: Focus, forward: bool) -> (Focus, usize) {
        if forward {
            let (p, _) = found
                .iter()
                .find(|(p, _)| rank(*p) > rank(pane))
                .unwrap_or(&found[0]);
            (*p, 0)
        } else {
            let (p, n) = found
                .iter()
                .rev()
                .find(|(p, _)| rank(*p) < rank(pane))
                .unwrap_or(&found[found.len() - 1]);
            (*p, n - 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counted(counts: &[(Focus, usize)]) -> Search {
        let mut s = Search::open("mars".into());
        for (p, n) in counts {
            s.counted(*p, *n);
        }
        s
    }

    #[test]
    fn n_and_shift_n_go_from_match_to_match_across_panes() {
        let mut s = counted(&[
            (Focus::Synthesis, 1),
            (Focus::Member(0), 2),
            (Focus::Member(1), 0),
            (Focus::Judge, 1),
        ]);
        let mut seen = Vec::new();
        for _ in 0..5 {
            s.step(Focus::Member(0), true);
            seen.push(s.at.unwrap());
        }
        assert_eq!(
            seen,
            [
                (Focus::Member(0), 0),
                (Focus::Member(0), 1),
                (Focus::Judge, 0),
                (Focus::Synthesis, 0),
                (Focus::Member(0), 0),
            ]
        );
        s.step(Focus::Member(0), false);
        assert_eq!(s.at, Some((Focus::Synthesis, 0)), "N goes round the start");
        s.step(Focus::Member(0), false);
        assert_eq!(s.at, Some((Focus::Judge, 0)));
    }

    #[test]
    fn the_first_step_starts_at_the_focused_pane() {
        let mut s = counted(&[(Focus::Member(0), 2), (Focus::Synthesis, 3)]);
        assert_eq!(s.step(Focus::Judge, true), Some(Focus::Synthesis));
        assert_eq!(s.at, Some((Focus::Synthesis, 0)));
        let mut s = counted(&[(Focus::Member(0), 2), (Focus::Synthesis, 3)]);
        assert_eq!(s.step(Focus::Judge, false), Some(Focus::Member(0)));
        assert_eq!(
            s.at,
            Some((Focus::Member(0), 1)),
            "N: the last match before"
        );
        let mut none = counted(&[(Focus::Member(0), 0)]);
        assert_eq!(none.step(Focus::Member(0), true), None);
    }

    #[test]
    fn typing_edits_the_query_within_its_limit() {
        let key = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        let mut s = counted(&[(Focus::Judge, 4)]);
        s.at = Some((Focus::Judge, 1));
        assert!(s.type_key(key(' ')));
        assert!(s.type_key(key('x')));
        assert_eq!(s.query, "mars x");
        assert!(
            s.counts.is_empty() && s.at.is_none(),
            "a new query counts anew"
        );
        s.type_key(KeyEvent::new(KeyCode::Char('w'), KeyModifiers::CONTROL));
        assert_eq!(s.query, "mars ");
        s.type_key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE));
        assert_eq!(s.query, "mars");
        s.type_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        assert_eq!(s.query, "");
        assert!(!s.type_key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE)));
        s.paste(&"y".repeat(500));
        assert_eq!(s.query.chars().count(), MAX_QUERY_CHARS);
        assert!(!s.type_key(key('z')), "full");
    }
}
