//! How the screen is shared between the panel, the judge's map and the
//! answer. By default space follows the work: the members have it while
//! they stream, and once they are done their panes shrink to what they
//! hold and the judge and the synthesis take the rest. `L` cycles through
//! the fixed arrangements too, and the choice is remembered like the theme.

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Arrangement {
    /// Members while they stream, then the judge and the synthesis.
    #[default]
    FollowsTheWork,
    /// The member panes first, at most of the height.
    PanelFirst,
    /// The judge's map first: short member panes, the judge wide.
    MapFirst,
    /// The final answer first: short member panes, the synthesis wide.
    AnswerFirst,
}

/// How a frame splits the panes' area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shares {
    /// The member panes' most of the height, in percent.
    pub(crate) members: u16,
    /// Whether they shrink to their content (they keep the share else).
    pub(crate) fit: bool,
    /// The judge's part of the bottom row's width, in percent.
    pub(crate) judge: u16,
}

impl Arrangement {
    pub const ALL: [Arrangement; 4] = [
        Arrangement::FollowsTheWork,
        Arrangement::PanelFirst,
        Arrangement::MapFirst,
        Arrangement::AnswerFirst,
    ];

    /// The name it is remembered and announced by.
    pub fn name(self) -> &'static str {
        match self {
            Arrangement::FollowsTheWork => "follows the work",
            Arrangement::PanelFirst => "panel first",
            Arrangement::MapFirst => "map first",
            Arrangement::AnswerFirst => "answer first",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    pub(crate) fn next(self) -> Self {
        let at = Self::ALL.iter().position(|a| *a == self).unwrap_or(0);
        Self::ALL[(at + 1) % Self::ALL.len()]
    }

    /// The split while the members stream (`streaming`) or after.
    pub(crate) fn shares(self, streaming: bool) -> Shares {
        let shares = |members, fit, judge| Shares {
            members,
            fit,
            judge,
        };
        match self {
            Arrangement::FollowsTheWork if streaming => shares(55, false, 50),
            Arrangement::FollowsTheWork => shares(40, true, 50),
            Arrangement::PanelFirst => shares(70, false, 50),
            Arrangement::MapFirst => shares(30, true, 65),
            Arrangement::AnswerFirst => shares(30, true, 35),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_cycles_every_arrangement_and_names_read_back() {
        let mut seen = vec![Arrangement::default()];
        for _ in 0..4 {
            seen.push(seen.last().unwrap().next());
        }
        assert_eq!(&seen[..4], Arrangement::ALL);
        assert_eq!(seen[4], Arrangement::FollowsTheWork, "round again");
        for a in Arrangement::ALL {
            assert_eq!(Arrangement::from_name(a.name()), Some(a));
        }
        assert_eq!(Arrangement::from_name("sideways"), None);
    }

    #[test]
    fn space_follows_the_work_by_default() {
        let a = Arrangement::FollowsTheWork;
        assert!(!a.shares(true).fit, "streaming members keep their share");
        assert!(a.shares(false).fit, "done, they shrink to their content");
        assert!(a.shares(false).members < a.shares(true).members);
    }
}
