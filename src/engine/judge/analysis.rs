//! The judge's structured analysis, with members named (labels mapped back).

use serde::{Deserialize, Serialize};

use super::grounding::Grounded;

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
}

impl Analysis {
    pub fn is_empty(&self) -> bool {
        self.item_count() == 0
    }

    pub fn item_count(&self) -> usize {
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
    pub verified: bool,
    /// Where, as byte offsets into `member`'s answer, when verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span: Option<(usize, usize)>,
    /// Not in `member`'s answer but in this member's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_in: Option<String>,
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
