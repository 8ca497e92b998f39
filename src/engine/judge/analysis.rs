//! The judge's structured analysis, with members named (labels mapped back).

use serde::{Deserialize, Serialize};

/// What the judge found across the panel's answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Points all or most members agree on.
    pub consensus: Vec<Finding>,
    /// Topics where members take incompatible positions.
    pub contradictions: Vec<Contradiction>,
    /// Important aspects the answers miss; `members` are those that miss it.
    pub blind_spots: Vec<Finding>,
    /// Points only one member (or very few) raised.
    pub unique_insights: Vec<Finding>,
    /// Points some members covered and others left out; `members` covered it.
    pub partial_coverage: Vec<Finding>,
    /// Labels the judge wrote that name no answer (`Response Z`): dropped
    /// from the items, counted here as a parse warning.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unknown_labels: u32,
    /// The quotes were checked against the answers (see
    /// [`super::grounding::ground`]): their verdicts are read back as saved.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub checked: bool,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Analysis {
    /// Drops members and quotes that are not among `known` (names a judge
    /// made up from labels that do not exist); counts them.
    pub(crate) fn drop_unknown(&mut self, known: &[String]) {
        let mut dropped = 0u32;
        let mut keep_members = |members: &mut Vec<String>| {
            let before = members.len();
            members.retain(|m| known.contains(m));
            dropped += (before - members.len()) as u32;
        };
        let mut quotes_dropped = 0u32;
        let mut keep_quotes = |quotes: &mut Vec<Quote>| {
            let before = quotes.len();
            quotes.retain(|q| known.contains(&q.member));
            quotes_dropped += (before - quotes.len()) as u32;
        };
        for f in self
            .consensus
            .iter_mut()
            .chain(&mut self.blind_spots)
            .chain(&mut self.unique_insights)
            .chain(&mut self.partial_coverage)
        {
            keep_members(&mut f.members);
            keep_quotes(&mut f.quotes);
        }
        for c in &mut self.contradictions {
            for s in &mut c.stances {
                keep_members(&mut s.members);
                keep_quotes(&mut s.quotes);
            }
        }
        self.unknown_labels += dropped + quotes_dropped;
    }

    pub(crate) fn item_count(&self) -> usize {
        self.consensus.len()
            + self.contradictions.len()
            + self.blind_spots.len()
            + self.unique_insights.len()
            + self.partial_coverage.len()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub point: String,
    /// Member names this item concerns.
    pub members: Vec<String>,
    pub quotes: Vec<Quote>,
    /// Whether its quotes were found in the answers they are attributed to.
    #[serde(default)]
    pub grounded: Grounded,
    /// With several judge samples: how many of them made this finding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<usize>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    pub member: String,
    pub text: String,
    /// Found in `member`'s answer (see [`super::grounding::locate`]).
    #[serde(default)]
    pub(crate) verified: bool,
    /// Where, as byte offsets into `member`'s answer, when verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) span: Option<(usize, usize)>,
    /// Not in `member`'s answer but in this member's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) found_in: Option<String>,
}

impl Quote {
    /// A quote not checked yet.
    pub fn new(member: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            member: member.into(),
            text: text.into(),
            ..Self::default()
        }
    }

    /// How a checked quote reads, in the TUI and the reports alike:
    /// `“text” — alpha`, or `“text” — not found in alpha (it is beta's)`.
    /// `part` readies each piece taken from the run (made safe for a
    /// terminal, or trimmed).
    pub(crate) fn label(&self, part: impl Fn(&str) -> String) -> String {
        let (text, member) = (part(&self.text), part(&self.member));
        if self.verified {
            return format!("“{text}” — {member}");
        }
        let whose = self
            .found_in
            .as_deref()
            .map(|other| format!(" (it is {}'s)", part(other)))
            .unwrap_or_default();
        format!("“{text}” — not found in {member}{whose}")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Contradiction {
    pub topic: String,
    /// One entry per side.
    pub stances: Vec<Stance>,
    /// With several judge samples: how many of them made this finding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<usize>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stance {
    pub members: Vec<String>,
    pub stance: String,
    pub quotes: Vec<Quote>,
    #[serde(default)]
    pub grounded: Grounded,
}

/// How much of a finding's evidence was found where the judge said.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Grounded {
    /// Every quote was found in its member's answer.
    All,
    /// Some were.
    Some,
    /// None were, or the finding quotes nothing.
    #[default]
    None,
}

impl Grounded {
    pub(super) fn of(quotes: &[Quote]) -> Self {
        let verified = quotes.iter().filter(|q| q.verified).count();
        match verified {
            0 => Grounded::None,
            n if n == quotes.len() => Grounded::All,
            _ => Grounded::Some,
        }
    }
}

/// The run's totals: how many quotes the judge gave, how many were found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grounding {
    pub quotes: usize,
    pub verified: usize,
}
