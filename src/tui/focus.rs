//! Which pane has the focus. A leaf: actions, the key table and the state
//! all name it, so it depends on none of them.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Prompt,
    Member(usize),
    Judge,
    Synthesis,
}

/// Which kind of pane has the focus, for hints that only make sense there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PaneKind {
    Member,
    Judge,
    Synthesis,
}

impl Focus {
    pub(crate) fn pane_kind(self) -> Option<PaneKind> {
        match self {
            Focus::Prompt => None,
            Focus::Member(_) => Some(PaneKind::Member),
            Focus::Judge => Some(PaneKind::Judge),
            Focus::Synthesis => Some(PaneKind::Synthesis),
        }
    }
}
