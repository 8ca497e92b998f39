//! Whether a member's answer supports a claim: lexical and deterministic,
//! on the judge's quote rule for words (case, punctuation and markup do not
//! count; a number keeps its sign and decimal point).
//!
//! A claim's content words are its words without stop words. An answer is
//! read as windows of one passage or two in a row (its sentences, list
//! items whole); the window holding the largest share of the claim's
//! content words supports it when that share is at least [`THRESHOLD`] and
//! the window's passage that holds most of them holds every number of the
//! claim: "boils at 90 degrees" never supports "boils at 100 degrees", nor
//! does a 90 in the next sentence. A claim too slight to prove anything (fewer than three
//! content words, or two with a number) is supported by nobody.

use std::collections::HashMap;

use crate::engine::judge::grounding::words;

use super::claims;

/// The share of a claim's content words a passage must hold to support it.
pub const THRESHOLD: f64 = 0.6;
/// Passages read per answer, at most (the rest of a longer answer is not
/// searched).
pub const MAX_PASSAGES: usize = 1000;
/// Content words of a claim that are checked, at most (the rest of a
/// longer claim is not).
pub const MAX_CLAIM_WORDS: usize = 64;

/// Words that carry no claim of their own.
const STOP_WORDS: &[&str] = &[
    "a",
    "an",
    "the",
    "and",
    "or",
    "but",
    "nor",
    "so",
    "yet",
    "of",
    "in",
    "on",
    "at",
    "to",
    "for",
    "from",
    "by",
    "with",
    "as",
    "into",
    "onto",
    "about",
    "than",
    "then",
    "that",
    "this",
    "these",
    "those",
    "there",
    "here",
    "it",
    "its",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "am",
    "do",
    "does",
    "did",
    "has",
    "have",
    "had",
    "having",
    "will",
    "would",
    "shall",
    "should",
    "can",
    "could",
    "may",
    "might",
    "must",
    "not",
    "no",
    "if",
    "when",
    "while",
    "which",
    "who",
    "whom",
    "whose",
    "what",
    "where",
    "why",
    "how",
    "all",
    "any",
    "each",
    "both",
    "either",
    "neither",
    "some",
    "such",
    "very",
    "also",
    "just",
    "only",
    "more",
    "most",
    "other",
    "same",
    "own",
    "too",
    "i",
    "you",
    "he",
    "she",
    "we",
    "they",
    "me",
    "him",
    "her",
    "us",
    "them",
    "my",
    "your",
    "his",
    "our",
    "their",
    "one",
    "because",
    "since",
    "though",
    "although",
    "however",
    "thus",
    "therefore",
    "which",
    "via",
    "per",
    "up",
    "down",
    "out",
    "over",
    "under",
    "again",
    "further",
    "once",
    "s",
    "t",
];

/// An answer read for support: its passages, and for each word the
/// passages it is in.
pub struct Answer {
    spans: Vec<(usize, usize)>,
    passages_of: HashMap<String, Vec<u32>>,
}

impl Answer {
    /// Reads `text` once, however many claims are checked against it.
    pub fn new(text: &str) -> Self {
        let spans = claims::split(text, MAX_PASSAGES);
        let mut passages_of: HashMap<String, Vec<u32>> = HashMap::new();
        for (i, &(start, end)) in spans.iter().enumerate() {
            for word in words(&text[start..end]) {
                let list = passages_of.entry(word).or_default();
                if list.last() != Some(&(i as u32)) {
                    list.push(i as u32);
                }
            }
        }
        Self { spans, passages_of }
    }

    /// The window that supports `claim` best, and its share, when one does.
    /// Windows are each passage, then each two in a row; a tighter one is
    /// kept on a tie.
    pub fn support(&self, claim: &ClaimWords) -> Option<((usize, usize), f64)> {
        if !claim.checkable() || self.spans.is_empty() {
            return None;
        }
        // Which of the claim's words each passage holds, a bit per word.
        let mut held = vec![0u64; self.spans.len()];
        for (bit, word) in claim.content.iter().enumerate() {
            for &p in self.passages_of.get(word).into_iter().flatten() {
                held[p as usize] |= 1 << bit;
            }
        }
        let all = claim.content.len() as f64;
        let singles = (0..held.len()).map(|i| (i, i));
        let pairs = (1..held.len()).map(|i| (i - 1, i));
        let mut best: Option<((usize, usize), f64)> = None;
        for (a, b) in singles.chain(pairs) {
            let (first, second) = (held[a], held[b]);
            // The numbers must stand in the passage that holds most of the
            // claim: a neighbour's number does not make it right.
            let main = if second.count_ones() > first.count_ones() {
                second
            } else {
                first
            };
            if main & claim.numbers != claim.numbers {
                continue;
            }
            let share = f64::from((first | second).count_ones()) / all;
            if share >= THRESHOLD && best.is_none_or(|(_, b)| share > b) {
                best = Some(((self.spans[a].0, self.spans[b].1), share));
            }
        }
        best
    }
}

/// A claim's words as support is checked.
#[derive(Debug)]
pub struct ClaimWords {
    /// Distinct content words, at most [`MAX_CLAIM_WORDS`].
    content: Vec<String>,
    /// The numbers among them (with their sign), a bit each.
    numbers: u64,
}

impl ClaimWords {
    pub fn new(claim: &str) -> Self {
        let mut content: Vec<String> = Vec::new();
        for word in words(claim) {
            if content.len() == MAX_CLAIM_WORDS {
                break;
            }
            if !STOP_WORDS.contains(&word.as_str()) && !content.contains(&word) {
                content.push(word);
            }
        }
        let numbers = content
            .iter()
            .enumerate()
            .filter(|(_, w)| w.chars().any(char::is_numeric))
            .fold(0u64, |mask, (bit, _)| mask | 1 << bit);
        Self { content, numbers }
    }

    /// Enough to prove something by being found: three content words, or
    /// two with a number (symbols are not words).
    fn checkable(&self) -> bool {
        let words = self
            .content
            .iter()
            .filter(|w| w.chars().any(char::is_alphanumeric))
            .count();
        words >= 3 || (words >= 2 && self.numbers != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWER: &str = "Water boils at 100 °C at sea level. Above 3,000 m it boils near 90 °C, \
                          because the air pressure is lower. The freezing point is -40 degrees \
                          on both scales at once.\n\n- Salt raises the boiling point slightly.\n";

    fn supported(claim: &str) -> Option<f64> {
        Answer::new(ANSWER)
            .support(&ClaimWords::new(claim))
            .map(|(_, share)| share)
    }

    #[test]
    fn the_support_table() {
        let cases: &[(&str, bool)] = &[
            // verbatim, and with other case and punctuation
            ("Water boils at 100 °C at sea level.", true),
            ("water BOILS at 100°C, at sea-level", true),
            // reworded: most content words kept
            ("At sea level, water boils at 100 °C.", true),
            ("Salt slightly raises the boiling point [sic].", true),
            // across two sentences of the answer
            (
                "Above 3,000 m water boils near 90 °C because of lower air pressure.",
                true,
            ),
            // a number changed, a sign changed
            ("Water boils at 90 °C at sea level.", false),
            ("The freezing point is 40 degrees on both scales.", false),
            ("The freezing point is -40 degrees on both scales.", true),
            // a sentence nobody wrote
            ("Tea tastes better with milk added first.", false),
            // too slight to prove anything
            ("It boils.", false),
        ];
        for (claim, expected) in cases {
            assert_eq!(
                supported(claim).is_some(),
                *expected,
                "{claim}: {:?}",
                supported(claim)
            );
        }
        assert_eq!(supported("Water boils at 100 °C at sea level."), Some(1.0));
    }

    #[test]
    fn the_span_slices_back_to_the_passage() {
        let ((s, e), _) = Answer::new(ANSWER)
            .support(&ClaimWords::new("Salt raises the boiling point slightly."))
            .unwrap();
        assert_eq!(&ANSWER[s..e], "Salt raises the boiling point slightly.");
    }
}
