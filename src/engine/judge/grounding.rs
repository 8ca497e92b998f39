//! Checks the judge's quotes against the answers they are attributed to.
//! A judge's "verbatim" quote is often not verbatim: each one is looked up
//! in its member's answer after normalizing what does not change meaning
//! (case, whitespace, typographic quotes and dashes, markdown markers,
//! punctuation), and carries the span it was found at, so a front can show
//! the passage. What does change meaning stays significant: a number's
//! sign and decimal point, comparison and currency symbols. A quote too
//! slight to prove anything (one common word, `the ... the`) is not
//! verified, nor one too long or past the count checked per analysis.

use super::analysis::{Analysis, Grounded, Grounding, Quote};

/// Quotes checked per analysis, at most; the rest stay unverified.
pub(crate) const MAX_QUOTES: usize = 256;
/// A quote's length checked, at most (bytes); a longer one stays unverified.
pub(crate) const MAX_QUOTE_BYTES: usize = 2000;

/// Symbols that are words of their own: a quote that changes one says
/// something else.
const SYMBOLS: &[char] = &[
    '<', '>', '=', '≤', '≥', '≠', '≈', '$', '€', '£', '¥', '₹', '%',
];

/// What the last character taken was.
#[derive(Clone, Copy, PartialEq)]
enum Last {
    Nothing,
    Word,
    Symbol,
}

/// Text reduced to lowercase words separated by single spaces, with the
/// byte span in the original of every byte kept.
struct Normalized {
    text: String,
    /// For each byte of `text`: (start, end) bytes in the original.
    spans: Vec<(usize, usize)>,
}

impl Normalized {
    /// Letters and digits are kept (lowercased), and so are a number's sign
    /// (`-40`, `+3`) and decimal point (`2.5`); comparison and currency
    /// symbols (`<`, `$`, `€`, `%`, ...) are words of their own. Everything
    /// else (spaces, punctuation, quotes of any kind, dashes, `*`, `_`,
    /// `` ` ``) separates words. An apostrophe inside a word is dropped, so
    /// `don’t` and `don't` and `dont` agree.
    fn new(original: &str) -> Self {
        let mut n = Self {
            text: String::with_capacity(original.len()),
            spans: Vec::with_capacity(original.len()),
        };
        let mut gap: Option<(usize, usize)> = None;
        let mut last = Last::Nothing;
        let mut chars = original.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            let end = at + c.len_utf8();
            let digit_next = chars.peek().is_some_and(|(_, c)| c.is_numeric());
            let word_start = last != Last::Word || gap.is_some();
            let after_digit = n.text.chars().next_back().is_some_and(char::is_numeric);
            if c.is_alphanumeric() {
                n.separate(&mut gap, last, at);
                for lower in c.to_lowercase() {
                    n.push(lower, (at, end));
                }
                last = Last::Word;
            } else if matches!(c, '-' | '−' | '+') && digit_next && word_start {
                n.separate(&mut gap, last, at);
                n.push(if c == '+' { '+' } else { '-' }, (at, end));
                last = Last::Word;
            } else if c == '.' && !word_start && after_digit && digit_next {
                n.push('.', (at, end));
            } else if matches!(c, '\'' | '’' | 'ʼ') && !word_start {
                // Inside a word: ignore.
            } else if SYMBOLS.contains(&c) {
                n.separate(&mut gap, last, at);
                n.push(c, (at, end));
                last = Last::Symbol;
            } else {
                gap = Some(gap.map_or((at, end), |(s, _)| (s, end)));
            }
        }
        n
    }

    /// A space before what comes next, when something came before it.
    fn separate(&mut self, gap: &mut Option<(usize, usize)>, last: Last, at: usize) {
        let gap = gap.take();
        if last == Last::Nothing || (last == Last::Word && gap.is_none()) {
            return;
        }
        self.push(' ', gap.unwrap_or((at, at)));
    }

    fn push(&mut self, c: char, span: (usize, usize)) {
        self.text.push(c);
        for _ in 0..c.len_utf8() {
            self.spans.push(span);
        }
    }
}

/// The words of `text` as quotes are matched: lowercase letters and digits,
/// signed numbers and symbols, split wherever something else stands (see
/// [`Normalized::new`]).
pub(crate) fn words(text: &str) -> Vec<String> {
    Normalized::new(text)
        .text
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect()
}

/// Whether a piece of a quote says enough to be proved by being found:
/// three words, or two when one is a number (a number with its unit,
/// `-40 degrees`). Symbols are not words.
fn has_content(piece: &str) -> bool {
    let tokens = piece
        .split(' ')
        .filter(|w| w.chars().any(char::is_alphanumeric));
    let (mut words, mut numbers) = (0, 0);
    for t in tokens {
        words += 1;
        numbers += usize::from(t.chars().any(char::is_numeric));
    }
    words >= 3 || (words >= 2 && numbers >= 1)
}

/// Where `needle` (a whole run of words) occurs in `hay` at or after byte
/// `from`, on word boundaries: (first byte, one past the last).
fn find_words(hay: &str, needle: &str, from: usize) -> Option<(usize, usize)> {
    if needle.is_empty() {
        return None;
    }
    let bytes = hay.as_bytes();
    let mut at = from;
    while let Some(i) = hay.get(at..)?.find(needle) {
        let start = at + i;
        let end = start + needle.len();
        let starts = start == 0 || bytes[start - 1] == b' ';
        let ends = end == hay.len() || bytes[end] == b' ';
        if starts && ends {
            return Some((start, end));
        }
        at = start + hay[start..].chars().next().map_or(1, char::len_utf8);
    }
    None
}

/// The byte span of `quote` in `answer`, when it is there: verbatim after
/// normalizing, or, for a quote with an ellipsis (`...`, `…`), each piece
/// in order. The span runs from the first piece's start to the last's end.
/// Each piece must say enough to count (see [`has_content`]).
pub fn locate(quote: &str, answer: &str) -> Option<(usize, usize)> {
    locate_in(&pieces(quote)?, &Normalized::new(answer))
}

/// A quote's normalized pieces (split at ellipses), when it can be
/// checked at all: not too long, and every piece with content.
fn pieces(quote: &str) -> Option<Vec<String>> {
    if quote.len() > MAX_QUOTE_BYTES {
        return None;
    }
    let pieces: Vec<String> = quote
        .replace('…', "...")
        .split("...")
        .map(|p| Normalized::new(p).text)
        .filter(|p| !p.is_empty())
        .collect();
    (!pieces.is_empty() && pieces.iter().all(|p| has_content(p))).then_some(pieces)
}

/// Every place the words of `needle` stand in `text`, by the quotes' word
/// rule (case, spacing and punctuation aside; signs, decimals and symbols
/// significant), as byte spans of `text` in order, at most `max` of them.
/// One word is enough: this is search, not proof.
pub fn occurrences(needle: &str, text: &str, max: usize) -> Vec<(usize, usize)> {
    if needle.len() > MAX_QUOTE_BYTES {
        return Vec::new();
    }
    let needle = Normalized::new(needle).text;
    let hay = Normalized::new(text);
    let mut found = Vec::new();
    let mut from = 0;
    while found.len() < max
        && let Some((start, end)) = find_words(&hay.text, &needle, from)
    {
        found.push((hay.spans[start].0, hay.spans[end - 1].1));
        from = end;
    }
    found
}

/// [`locate`] in an answer normalized once for all its quotes.
fn locate_in(pieces: &[String], hay: &Normalized) -> Option<(usize, usize)> {
    let mut from = 0;
    let mut span: Option<(usize, usize)> = None;
    for piece in pieces {
        let (start, end) = find_words(&hay.text, piece, from)?;
        let bytes = (hay.spans[start].0, hay.spans[end - 1].1);
        span = Some(span.map_or(bytes, |(s, _)| (s, bytes.1)));
        from = end;
    }
    span
}

/// Checks every quote of `analysis` against the answers, by member name:
/// sets `verified` and `span` (in its member's answer), or `found_in` when
/// the text is another member's, and grades each finding and stance. At
/// most [`MAX_QUOTES`] are checked. Marks the analysis checked, so a
/// session read back keeps these verdicts instead of checking again.
pub fn ground(analysis: &mut Analysis, answers: &[(String, &str)]) {
    // Each answer is normalized once, however many quotes it is searched for.
    let normalized: Vec<(&str, Normalized)> = answers
        .iter()
        .map(|(name, text)| (name.as_str(), Normalized::new(text)))
        .collect();
    let answer_of = |name: &str| normalized.iter().find(|(n, _)| *n == name).map(|(_, a)| a);
    let mut budget = MAX_QUOTES;
    let mut check = |q: &mut Quote| {
        let pieces = budget.checked_sub(1).and_then(|left| {
            budget = left;
            pieces(&q.text)
        });
        let Some(pieces) = pieces else {
            (q.span, q.verified, q.found_in) = (None, false, None);
            return;
        };
        q.span = answer_of(&q.member).and_then(|a| locate_in(&pieces, a));
        q.verified = q.span.is_some();
        q.found_in = if q.verified {
            None
        } else {
            normalized
                .iter()
                .filter(|(n, _)| *n != q.member)
                .find(|(_, a)| locate_in(&pieces, a).is_some())
                .map(|(n, _)| n.to_string())
        };
    };
    for f in analysis.findings_mut() {
        f.quotes.iter_mut().for_each(&mut check);
        f.grounded = Grounded::of(&f.quotes);
    }
    for c in &mut analysis.contradictions {
        for s in &mut c.stances {
            s.quotes.iter_mut().for_each(&mut check);
            s.grounded = Grounded::of(&s.quotes);
        }
    }
    analysis.checked = true;
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
            (
                "verbatim",
                "because of Rayleigh",
                Some("because of **Rayleigh"),
            ),
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
                "molecules don't scatter",
                Some("molecules don’t scatter"),
            ),
            ("dash", "much - they scatter", Some("much — they scatter")),
            (
                "curly quotes",
                "“air molecules don’t”",
                Some("air molecules don’t"),
            ),
            (
                "ellipsis in order",
                "The sky looks … scatter short wavelengths",
                Some(
                    "The sky looks *blue* because of **Rayleigh scattering**: air molecules don’t scatter red light much — they scatter short wavelengths",
                ),
            ),
            ("three dots", "sky looks blue...crosses more air", Some("*")),
            (
                "ellipsis out of order",
                "scatter short wavelengths ... The sky looks",
                None,
            ),
            ("fabricated", "the ocean reflects the sky", None),
            ("paraphrase", "molecules of air scatter blue", None),
            ("part of a word", "cattering red light", None),
            ("empty", "", None),
            ("only punctuation", "…", None),
            ("unicode", "été ÇA dépend", Some("Été: ça dépend")),
            // Too slight to prove anything.
            ("one word", "the", None),
            ("two plain words", "air molecules", None),
            ("a word each side", "the ... the", None),
            ("one piece too slight", "The sky looks ... air", None),
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
    fn occurrences_follow_the_word_rule() {
        let text = "Mars is red. MARS, they say, is *cold*; Marshall is not mars-like. -40 or 40?";
        let at = |needle: &str| -> Vec<&str> {
            occurrences(needle, text, 10)
                .into_iter()
                .map(|(s, e)| &text[s..e])
                .collect()
        };
        assert_eq!(
            at("mars"),
            ["Mars", "MARS", "mars"],
            "whole words, any case"
        );
        assert_eq!(
            at("is cold"),
            ["is *cold"],
            "markup between words is no matter"
        );
        assert_eq!(at("mars they"), ["MARS, they"]);
        assert_eq!(at("-40"), ["-40"]);
        assert_eq!(at("40"), ["40"], "a sign is significant");
        assert!(at("venus").is_empty());
        assert!(at("  ").is_empty(), "nothing to find");
        assert_eq!(occurrences("mars", text, 2).len(), 2, "capped");
    }

    #[test]
    fn signs_symbols_and_decimals_stay_significant() {
        let answer = "It drops to -40 degrees at night. Keep x < 5 always. It costs $5 a month, \
            about 2.5 times more, and up +3% a year.";
        let cases: &[(&str, bool)] = &[
            ("drops to -40 degrees", true),
            ("drops to −40 degrees", true),
            ("drops to 40 degrees", false),
            ("-40 degrees", true),
            ("40 degrees", false),
            ("keep x < 5", true),
            ("keep x > 5", false),
            ("keep x 5", false),
            ("costs $5 a month", true),
            ("costs €5 a month", false),
            ("costs 5 a month", false),
            ("about 2.5 times", true),
            ("about 25 times", false),
            ("about 2 5 times", false),
            ("up +3% a year", true),
            ("up 3% a year", false),
            ("up +3 a year", false),
        ];
        for (quote, found) in cases {
            assert_eq!(locate(quote, answer).is_some(), *found, "{quote:?}");
        }
    }

    #[test]
    fn quotes_past_the_bounds_are_not_checked() {
        let answer = "word ".repeat(1000);
        let long = "word ".repeat(MAX_QUOTE_BYTES / 5 + 1);
        assert!(locate(&long, &answer).is_none(), "too long to check");
        assert!(locate("word word word", &answer).is_some());
    }

    #[test]
    fn quotes_are_checked_against_their_own_member() {
        use super::super::analysis::Finding;
        let mut analysis = Analysis {
            consensus: vec![Finding {
                point: "p".into(),
                members: vec!["a".into(), "b".into()],
                quotes: vec![
                    Quote::new("a", "a blue sky"),
                    Quote::new("b", "a blue sky"),
                    Quote::new("b", "made up stuff"),
                ],
                ..Finding::default()
            }],
            ..Analysis::default()
        };
        ground(
            &mut analysis,
            &[("a".into(), "A blue sky today."), ("b".into(), "Grey.")],
        );
        let q = &analysis.consensus[0].quotes;
        assert!(q[0].verified && q[0].span == Some((0, 10)));
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
                let to = (from + len.max(3)).min(words.len());
                let from = to.saturating_sub(len.max(3));
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
            fn one_sign_digit_or_symbol_changed_never_verifies(
                words in proptest::collection::vec("[a-z]{2,8}", 6..20),
                number in 1u32..100_000,
                at in 0usize..20,
                change in 0usize..6,
            ) {
                let at = at % (words.len() - 2);
                let shown = format!("-{number}.5 $");
                let mut answer_words = words.clone();
                answer_words.insert(at + 1, shown.clone());
                let answer = answer_words.join(" ");
                let quote_words = |middle: String| {
                    let mut q = words[at..at + 3].to_vec();
                    q.insert(1, middle);
                    q.join(" ")
                };
                // The exact quote verifies...
                prop_assert!(locate(&quote_words(shown.clone()), &answer).is_some());
                // ...and none with the sign, a digit, the point or the symbol changed.
                let changed = match change {
                    0 => format!("{number}.5 $"),
                    1 => format!("+{number}.5 $"),
                    2 => format!("-{}.5 $", number + 1),
                    3 => format!("-{number}5 $"),
                    4 => format!("-{number}.5 €"),
                    _ => format!("-{number}.6 $"),
                };
                prop_assert!(locate(&quote_words(changed.clone()), &answer).is_none(), "{changed}");
            }

            #[test]
            fn a_word_not_in_the_answer_never_verifies(
                words in proptest::collection::vec("[a-m]{1,8}", 1..30),
                other in "[n-z]{1,8}",
            ) {
                let answer = words.join(" ");
                let quote = format!("{} {other} {}", words[0], words[words.len() - 1]);
                prop_assert!(locate(&quote, &answer).is_none());
            }
        }
    }
}
