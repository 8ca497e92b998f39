//! What drawing keeps between frames: each pane's rendered lines, so a
//! streaming answer re-renders only its tail. Kept apart from the state,
//! which drawing only reads; each entry belongs to one pane by its id.

use std::collections::HashMap;

use ratatui::text::Line;

use crate::tui::markdown::MarkdownCache;

/// Rendered lines of every pane on screen.
#[derive(Debug, Default)]
pub struct RenderCaches {
    members: HashMap<String, PaneCache>,
    synthesis: PaneCache,
}

impl RenderCaches {
    /// The cache of the member pane called `name`, made to belong to the
    /// pane `id`.
    pub(super) fn member(&mut self, name: &str, id: u64) -> &mut PaneCache {
        if !self.members.contains_key(name) {
            self.members.insert(name.to_string(), PaneCache::default());
        }
        let cache = self.members.get_mut(name).expect("inserted above");
        cache.belong_to(id);
        cache
    }

    pub(super) fn synthesis(&mut self, id: u64) -> &mut PaneCache {
        self.synthesis.belong_to(id);
        &mut self.synthesis
    }

    /// Drops the caches of members no longer on the panel.
    pub(super) fn keep_members<'a>(&mut self, names: impl Iterator<Item = &'a str>) {
        let names: Vec<&str> = names.collect();
        self.members
            .retain(|name, _| names.contains(&name.as_str()));
    }
}

#[derive(Debug, Default)]
pub(super) struct PaneCache {
    pane: u64,
    /// What the caches hold: (round, diff view).
    shown: Option<(u32, bool)>,
    pub(super) text: MarkdownCache,
    pub(super) reasoning: MarkdownCache,
    /// The diff view's lines: (width, text length) they were made for.
    pub(super) diff: Option<((usize, usize), Vec<Line<'static>>)>,
    /// The synthesis with its claims' badges: (width, text length, claims)
    /// they were drawn for.
    pub(super) claims: Option<((usize, usize, usize), super::claims::ClaimLines)>,
}

impl PaneCache {
    fn belong_to(&mut self, pane: u64) {
        if self.pane != pane {
            *self = Self {
                pane,
                ..Self::default()
            };
        }
    }

    /// Whether the cache holds `round`, in the diff view or not.
    pub(super) fn shows(&self, round: u32, diff: bool) -> bool {
        self.shown == Some((round, diff))
    }

    /// Makes the cache hold `round`, in the diff view or not. True when it
    /// held another before: the pane starts over from the top.
    pub(super) fn show(&mut self, round: u32, diff: bool) -> bool {
        let changed = self.shown.is_some_and(|s| s != (round, diff));
        if changed {
            *self = Self {
                pane: self.pane,
                ..Self::default()
            };
        }
        self.shown = Some((round, diff));
        changed
    }
}
