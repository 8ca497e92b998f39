//! Checks the judge's quotes against the answers they are attributed to.
//! A judge's "verbatim" quote is often not verbatim: each one is looked up
//! in its member's answer after normalizing what does not change meaning
//! (case, whitespace, typographic quotes and dashes, markdown markers,
//! punctuation), and carries the span it was found at, so a front can show
//! the passage.

use super::analysis::{Analysis, Grounded, Grounding, Quote};

/// Text reduced to lowercase words separated by single spaces, with the
/// byte offset in the original of every character kept.
struct Normalized {
    text: Vec<char>,
    /// For each char of `text`: (start, end) bytes in the original.
    spans: Vec<(usize, usize)>,
}

impl Normalized {
    /// Letters and digits are kept (lowercased); everything else (spaces,
    /// punctuation, quotes of any kind, dashes, `*`, `_`, `` ` ``) separates
    /// words. An apostrophe inside a word is dropped, so `don’t` and
    /// `don't` and `dont` agree.
    fn new(original: &str) -> Self {
        let mut text = Vec::with_capacity(original.len());
        let mut spans = Vec::with_capacity(original.len());
        let mut gap: Option<(usize, usize)> = None;
        for (at, c) in original.char_indices() {
            let end = at + c.len_utf8();
            if c.is_alphanumeric() {
                if let Some(g) = gap.take()
                    && !text.is_empty()
                {
                    text.push(' ');
                    spans.push(g);
                }
                for lower in c.to_lowercase() {
                    text.push(lower);
                    spans.push((at, end));
                }
            } else if matches!(c, '\'' | '’' | 'ʼ') && gap.is_none() && !text.is_empty() {
                // Inside a word: ignore.
            } else {
                gap = Some(gap.map_or((at, end), |(s, _)| (s, end)));
            }
        }
        Self { text, spans }
    }
}

/// The words of `text` as quotes are matched: lowercase letters and digits,
/// split wherever something else stands (see [`Normalized::new`]).
pub(crate) fn words(text: &str) -> Vec<String> {
    let normalized: String = Normalized::new(text).text.into_iter().collect();
    normalized
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect()
}

/// Where `needle` (a whole run of words) occurs in `hay` at or after char
/// `from`, on word boundaries: (first char, one past the last).
fn find_words(hay: &[char], needle: &[char], from: usize) -> Option<(usize, usize)> {
    if needle.is_empty() || needle.len() > hay.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find_map(|i| {
        let end = i + needle.len();
        let starts = i == 0 || hay[i - 1] == ' ';
        let ends = end == hay.len() || hay[end] == ' ';
        (starts && ends && hay[i..end] == *needle).then_some((i, end))
    })
}

/// The byte span of `quote` in `answer`, when it is there: verbatim after
/// normalizing, or, for a quote with an ellipsis (`...`, `…`), each piece
/// in order. The span runs from the first piece's start to the last's end.
pub fn locate(quote: &str, answer: &str) -> Option<(usize, usize)> {
    locate_in(quote, &Normalized::new(answer))
}

/// [`locate`] in an answer normalized once for all its quotes.
fn locate_in(quote: &str, hay: &Normalized) -> Option<(usize, usize)> {
    let pieces: Vec<Vec<char>> = quote
        .replace('…', "...")
        .split("...")
        .map(|p| Normalized::new(p).text)
        .filter(|p| !p.is_empty())
        .collect();
    let mut from = 0;
    let mut span: Option<(usize, usize)> = None;
    for piece in &pieces {
        let (start, end) = find_words(&hay.text, piece, from)?;
        let bytes = (hay.spans[start].0, hay.spans[end - 1].1);
        span = Some(span.map_or(bytes, |(s, _)| (s, bytes.1)));
        from = end;
    }
    span
}

/// Checks every quote of `analysis` against the answers, by member name:
/// sets `verified` and `span` (in its member's answer), or `found_in` when
/// the text is another member's, and grades each finding and stance.
pub fn ground(analysis: &mut Analysis, answers: &[(String, &str)]) {
    // Each answer is normalized once, however many quotes it is searched for.
    let normalized: Vec<(&str, Normalized)> = answers
        .iter()
        .map(|(name, text)| (name.as_str(), Normalized::new(text)))
        .collect();
    let answer_of = |name: &str| normalized.iter().find(|(n, _)| *n == name).map(|(_, a)| a);
    let check = |q: &mut Quote| {
        q.span = answer_of(&q.member).and_then(|a| locate_in(&q.text, a));
        q.verified = q.span.is_some();
        q.found_in = if q.verified {
            None
        } else {
            normalized
                .iter()
                .filter(|(n, _)| *n != q.member)
                .find(|(_, a)| locate_in(&q.text, a).is_some())
                .map(|(n, _)| n.to_string())
        };
    };
    for f in analysis.findings_mut() {
        f.quotes.iter_mut().for_each(check);
        f.grounded = Grounded::of(&f.quotes);
    }
    for c in &mut analysis.contradictions {
        for s in &mut c.stances {
            s.quotes.iter_mut().for_each(check);
            s.grounded = Grounded::of(&s.quotes);
        }
    }
}

impl Analysis {
    /// How many quotes there are, and how many were found where attributed.
    pub fn grounding(&self) -> Grounding {
        let quotes = self.quotes().count();
        let verified = self.quotes().filter(|q| q.verified).count();
        Grounding { quotes, verified }
    }

    fn quotes(&self) -> impl Iterator<Item = &Quote> {
        let findings = [
            &self.consensus,
            &self.blind_spots,
            &self.unique_insights,
            &self.partial_coverage,
        ]
        .into_iter()
        .flatten()
        .flat_map(|f| &f.quotes);
        let stances = self
            .contradictions
            .iter()
            .flat_map(|c| &c.stances)
            .flat_map(|s| &s.quotes);
        findings.chain(stances)
    }

    fn findings_mut(&mut self) -> impl Iterator<Item = &mut super::analysis::Finding> {
        [
            &mut self.consensus,
            &mut self.blind_spots,
            &mut self.unique_insights,
            &mut self.partial_coverage,
        ]
        .into_iter()
        .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWER: &str = "The sky looks *blue* because of **Rayleigh scattering**: air \
        molecules don’t scatter red light much — they scatter short wavelengths. At sunset, \
        the light crosses more air.\n\nÉté: ça dépend.";

    fn slice(span: (usize, usize)) -> &'static str {
        &ANSWER[span.0..span.1]
    }

    #[test]
    fn a_table_of_cases() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("verbatim", "because of", Some("because of")),
            ("case", "THE SKY LOOKS", Some("The sky looks")),
            ("whitespace", "the   sky\n looks", Some("The sky looks")),
            (
                "emphasis",
                "looks blue because",
                Some("looks *blue* because"),
            ),
            (
                "bold and punctuation",
                "Rayleigh scattering, air molecules",
                Some("Rayleigh scattering**: air molecules"),
            ),
            (
                "typographic apostrophe",
                "don't scatter",
                Some("don’t scatter"),
            ),
            ("dash", "much - they", Some("much — they")),
            ("curly quotes", "“air molecules”", Some("air molecules")),
            (
                "ellipsis in order",
                "The sky … short wavelengths",
                Some(
                    "The sky looks *blue* because of **Rayleigh scattering**: air molecules don’t scatter red light much — they scatter short wavelengths",
                ),
            ),
            ("three dots", "sky looks...more air", Some("*")),
            (
                "ellipsis out of order",
                "short wavelengths ... The sky",
                None,
            ),
            ("fabricated", "the ocean reflects the sky", None),
            ("paraphrase", "molecules of air scatter blue", None),
            ("part of a word", "cattering", None),
            ("empty", "", None),
            ("only punctuation", "…", None),
            ("unicode", "été ÇA dépend", Some("Été: ça dépend")),
        ];
        // `Some("*")`: found, wherever; `Some(text)`: found, and the span is `text`.
        for (what, quote, expected) in cases {
            let got = locate(quote, ANSWER).map(slice);
            match (got, expected) {
                (Some(_), Some("*")) => {}
                (Some(g), Some(e)) => assert_eq!(g, *e, "{what}"),
                (got, expected) => assert_eq!(got.is_some(), expected.is_some(), "{what}: {got:?}"),
            }
        }
    }

    #[test]
    fn quotes_are_checked_against_their_own_member() {
        use super::super::analysis::Finding;
        let mut analysis = Analysis {
            consensus: vec![Finding {
                point: "p".into(),
                members: vec!["a".into(), "b".into()],
                quotes: vec![
                    Quote::new("a", "blue sky"),
                    Quote::new("b", "blue sky"),
                    Quote::new("b", "made up"),
                ],
                ..Finding::default()
            }],
            ..Analysis::default()
        };
        ground(
            &mut analysis,
            &[("a".into(), "A blue sky."), ("b".into(), "Grey.")],
        );
        let q = &analysis.consensus[0].quotes;
        assert!(q[0].verified && q[0].span == Some((2, 10)));
        assert!(!q[1].verified);
        assert_eq!(
            q[1].found_in.as_deref(),
            Some("a"),
            "found in another answer"
        );
        assert!(!q[2].verified && q[2].found_in.is_none());
        assert_eq!(analysis.consensus[0].grounded, Grounded::Some);
        assert_eq!(
            analysis.grounding(),
            Grounding {
                quotes: 3,
                verified: 1
            }
        );
    }

    mod props {
        use super::super::locate;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn any_run_of_words_recased_and_respaced_verifies(
                words in proptest::collection::vec("[a-zA-Zé]{1,8}", 3..30),
                from in 0usize..30,
                len in 1usize..10,
            ) {
                let answer = words.join(" ");
                let from = from % words.len();
                let to = (from + len).min(words.len());
                let quote = words[from..to].join("  \n ").to_uppercase();
                let span = locate(&quote, &answer);
                prop_assert!(span.is_some(), "{quote:?} in {answer:?}");
                let (s, e) = span.unwrap();
                let found = answer[s..e].to_lowercase();
                let found: Vec<&str> = found.split_whitespace().collect();
                let wanted: Vec<String> = words[from..to].iter().map(|w| w.to_lowercase()).collect();
                prop_assert_eq!(found, wanted);
            }

            #[test]
            fn a_word_not_in_the_answer_never_verifies(
                words in proptest::collection::vec("[a-m]{1,8}", 1..30),
                other in "[n-z]{1,8}",
            ) {
                let answer = words.join(" ");
                prop_assert!(locate(&other, &answer).is_none());
            }
        }
    }
}
