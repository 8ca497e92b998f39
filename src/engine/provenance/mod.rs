//! Where each sentence of the synthesis comes from: the members it cites,
//! and the members whose answers hold it, checked the way the judge's
//! quotes are checked.
//!
//! The synthesizer is asked to end a sentence that draws on members with
//! their names in brackets; [`citations`] takes those out of the text,
//! [`claims`] cuts the text into claims and [`support`] looks for each in
//! every answer of the round the synthesis was written from.

pub mod citations;
pub mod claims;
pub mod support;

use serde::{Deserialize, Serialize};

pub use citations::{Citation, Citations};

/// Claims checked per synthesis, at most; a longer synthesis has the rest
/// unchecked.
pub const MAX_CLAIMS: usize = 200;

/// The synthesis's claims and what they rest on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    pub claims: Vec<Claim>,
    /// Claims that cite at least one member.
    pub cited: usize,
    /// Cited claims that every member they cite supports.
    pub supported: usize,
    /// Claims that cite nobody and are found in nobody's answer.
    pub unsourced: usize,
}

/// One sentence of the synthesis (a list item is one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    pub text: String,
    /// Byte offsets into `synthesis.text` that slice back to `text`.
    pub span: (usize, usize),
    /// The members it cites.
    pub members: Vec<String>,
    /// The members whose answers support it, cited or not.
    pub found_in: Vec<String>,
    pub support: Vec<Support>,
    /// How many of the cited members support it.
    pub supported: Supported,
    pub unsourced: bool,
}

/// A member's passage that supports a claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Support {
    pub member: String,
    /// Byte offsets into the member's answer.
    pub span: (usize, usize),
    /// The share of the claim's content words the passage holds (0-1).
    pub score: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Supported {
    /// Every cited member supports it.
    All,
    /// Some do.
    Some,
    /// None does, or it cites nobody.
    None,
}

impl Provenance {
    /// Traces the synthesizer's text as written (`raw`, with its citations)
    /// back to the `answers` it was written from, by member name. Members
    /// are the run's names: only they count as citations. Spans are into
    /// the text with the citations taken out, as [`Citations`] takes them.
    pub fn trace(raw: &str, members: &[String], answers: &[(String, &str)]) -> Self {
        let mut citations = Citations::new(members.to_vec());
        let mut text = citations.push(raw);
        text.push_str(&citations.finish());
        let spans = claims::split(&text, MAX_CLAIMS);
        let cited = cited_by_claim(&spans, citations.found());
        let answers: Vec<(&str, support::Answer)> = answers
            .iter()
            .map(|(name, text)| (name.as_str(), support::Answer::new(text)))
            .collect();
        let claims: Vec<Claim> = spans
            .iter()
            .zip(cited)
            .map(|(&(start, end), members)| {
                let words = support::ClaimWords::new(&text[start..end]);
                let support: Vec<Support> = answers
                    .iter()
                    .filter_map(|(name, answer)| {
                        let (span, score) = answer.support(&words)?;
                        Some(Support {
                            member: name.to_string(),
                            span,
                            score: (score * 100.0).round() / 100.0,
                        })
                    })
                    .collect();
                let found_in: Vec<String> = support.iter().map(|s| s.member.clone()).collect();
                let backed = members.iter().filter(|m| found_in.contains(m)).count();
                let supported = match backed {
                    0 => Supported::None,
                    n if n == members.len() => Supported::All,
                    _ => Supported::Some,
                };
                Claim {
                    text: text[start..end].to_string(),
                    span: (start, end),
                    unsourced: members.is_empty() && found_in.is_empty(),
                    members,
                    found_in,
                    support,
                    supported,
                }
            })
            .collect();
        Self {
            cited: claims.iter().filter(|c| !c.members.is_empty()).count(),
            supported: claims
                .iter()
                .filter(|c| !c.members.is_empty() && c.supported == Supported::All)
                .count(),
            unsourced: claims.iter().filter(|c| c.unsourced).count(),
            claims,
        }
    }

    /// Claims found in or cited from some member, of all claims.
    pub fn sourced(&self) -> (usize, usize) {
        (self.claims.len() - self.unsourced, self.claims.len())
    }
}

/// The members each claim cites: a citation belongs to the claim it stands
/// in (`… sea level [alpha].`), or else to the claim it follows (`… sea
/// level. [alpha]`).
fn cited_by_claim(spans: &[(usize, usize)], citations: &[Citation]) -> Vec<Vec<String>> {
    let mut cited = vec![Vec::new(); spans.len()];
    for citation in citations {
        let owner = spans
            .iter()
            .position(|&(s, e)| s <= citation.at && citation.at <= e)
            .or_else(|| spans.iter().rposition(|&(_, e)| e <= citation.at));
        let Some(owner) = owner else { continue };
        for m in &citation.members {
            if !cited[owner].contains(m) {
                cited[owner].push(m.clone());
            }
        }
    }
    cited
}

#[cfg(test)]
mod tests;
