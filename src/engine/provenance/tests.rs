use proptest::prelude::*;

use super::*;

fn names() -> Vec<String> {
    vec!["alpha".into(), "beta".into(), "Gemini-Flash".into()]
}

/// The text with citations taken out, and where they stood.
fn strip(raw: &str) -> (String, Vec<Citation>) {
    let mut c = Citations::new(names());
    let mut text = c.push(raw);
    text.push_str(&c.finish());
    (text, c.found().to_vec())
}

#[test]
fn only_members_names_are_citations() {
    let cases: &[(&str, &str)] = &[
        ("Boils at sea level [alpha, beta].", "Boils at sea level."),
        ("Boils. [ALPHA] Next.", "Boils. Next."),
        ("Two [alpha][beta] here.", "Two here."),
        ("A [gemini-flash; beta] case.", "A case."),
        // Not members, a link, a footnote, code: text.
        ("See [gamma] and [1].", "See [gamma] and [1]."),
        (
            "A [alpha](https://x.org) link.",
            "A [alpha](https://x.org) link.",
        ),
        ("Code `x = [alpha]` stays.", "Code `x = [alpha]` stays."),
        (
            "```\nlet v = [alpha];\n```\nAfter [beta].",
            "```\nlet v = [alpha];\n```\nAfter.",
        ),
        ("A [alpha, gamma] mix.", "A [alpha, gamma] mix."),
        ("Open [alpha never closed", "Open [alpha never closed"),
        ("Ends with [beta]", "Ends with"),
        ("[alpha] first.", " first."),
    ];
    for (raw, text) in cases {
        assert_eq!(strip(raw).0, *text, "{raw}");
    }
    let (text, found) = strip("Boils at sea level [alpha, Beta]. Freezes [gemini-flash].");
    assert_eq!(text, "Boils at sea level. Freezes.");
    assert_eq!(
        found,
        [
            Citation {
                at: 18,
                members: vec!["alpha".into(), "beta".into()]
            },
            Citation {
                at: 27,
                members: vec!["Gemini-Flash".into()]
            },
        ]
    );
}

#[test]
fn a_stream_is_stripped_as_the_whole_text_is() {
    let raw = "Water boils at 100 °C [alpha, beta]. A [link](x) and [gamma].\n\n- Item [beta]\n\n```\n[alpha]\n```\nEnd [alpha]";
    let whole = strip(raw);
    for size in 1..8 {
        let mut c = Citations::new(names());
        let mut text = String::new();
        let chars: Vec<char> = raw.chars().collect();
        for piece in chars.chunks(size) {
            text.push_str(&c.push(&piece.iter().collect::<String>()));
        }
        text.push_str(&c.finish());
        assert_eq!((text, c.found().to_vec()), whole, "pieces of {size}");
    }
}

#[test]
fn without_names_nothing_is_stripped() {
    let mut c = Citations::new(Vec::new());
    assert_eq!(c.push("A [alpha]."), "A [alpha].");
    assert_eq!(c.finish(), "");
}

const ALPHA: &str =
    "Water boils at 100 °C at sea level. At altitude it boils lower, near 90 °C at 3,000 m.";
const BETA: &str = "- Salt raises the boiling point only slightly.\n- Pressure cookers cook faster because water boils hotter.";

fn trace(raw: &str) -> Provenance {
    let answers = [("alpha".to_string(), ALPHA), ("beta".to_string(), BETA)];
    Provenance::trace(raw, &["alpha".into(), "beta".into()], &answers)
}

#[test]
fn claims_cite_and_are_found() {
    let raw = "# Answer\n\nWater boils at 100 °C at sea level [alpha]. \
               Salt raises the boiling point only slightly [alpha]. \
               Pressure cookers cook faster because water boils hotter [alpha, beta]. \
               Water boils at 80 °C at sea level [alpha]. \
               Tea tastes better with milk poured first.\n\n\
               - At altitude water boils lower, near 90 °C.\n";
    let p = trace(raw);
    let text = "# Answer\n\nWater boils at 100 °C at sea level. \
                Salt raises the boiling point only slightly. \
                Pressure cookers cook faster because water boils hotter. \
                Water boils at 80 °C at sea level. \
                Tea tastes better with milk poured first.\n\n\
                - At altitude water boils lower, near 90 °C.\n";
    let row = |c: &Claim| {
        (
            c.text.clone(),
            c.members.clone(),
            c.found_in.clone(),
            c.supported,
            c.unsourced,
        )
    };
    let v = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    assert_eq!(
        p.claims.iter().map(row).collect::<Vec<_>>(),
        [
            // right citation
            (
                "Water boils at 100 °C at sea level.".to_string(),
                v(&["alpha"]),
                v(&["alpha"]),
                Supported::All,
                false
            ),
            // wrong member cited: found in beta
            (
                "Salt raises the boiling point only slightly.".to_string(),
                v(&["alpha"]),
                v(&["beta"]),
                Supported::None,
                false
            ),
            // one of two right
            (
                "Pressure cookers cook faster because water boils hotter.".to_string(),
                v(&["alpha", "beta"]),
                v(&["beta"]),
                Supported::Some,
                false
            ),
            // a number changed
            (
                "Water boils at 80 °C at sea level.".to_string(),
                v(&["alpha"]),
                v(&[]),
                Supported::None,
                false
            ),
            // nobody wrote it, nobody cited
            (
                "Tea tastes better with milk poured first.".to_string(),
                v(&[]),
                v(&[]),
                Supported::None,
                true
            ),
            // uncited, found
            (
                "At altitude water boils lower, near 90 °C.".to_string(),
                v(&[]),
                v(&["alpha"]),
                Supported::None,
                false
            ),
        ]
    );
    for c in &p.claims {
        assert_eq!(&text[c.span.0..c.span.1], c.text);
        for s in &c.support {
            let answer = if s.member == "alpha" { ALPHA } else { BETA };
            assert!(s.score >= support::THRESHOLD && s.score <= 1.0);
            assert!(!answer[s.span.0..s.span.1].is_empty());
        }
    }
    assert_eq!((p.cited, p.supported, p.unsourced), (4, 1, 1));
    assert_eq!(p.sourced(), (5, 6));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A sentence copied from an answer is supported by its author; with
    /// one of its numbers changed, it is not.
    #[test]
    fn a_copied_sentence_is_supported_until_a_number_changes(
        before in proptest::collection::vec("[a-z]{3,9}", 0..12),
        words in proptest::collection::vec("q[a-z]{3,8}", 3..10),
        number in 1u32..100_000,
        changed in 1u32..100_000,
        after in proptest::collection::vec("[a-z]{3,9}", 0..12),
    ) {
        prop_assume!(number != changed);
        let sentence = format!("{} {number} {}.", words[0], words[1..].join(" "));
        let answer = format!("{}. {sentence} {}.", before.join(" "), after.join(" "));
        let answers = [("alpha".to_string(), answer.as_str())];
        let members = ["alpha".to_string()];
        let p = Provenance::trace(&sentence, &members, &answers);
        prop_assert_eq!(p.claims.len(), 1);
        prop_assert_eq!(&p.claims[0].found_in, &vec!["alpha".to_string()]);
        let other = sentence.replace(&number.to_string(), &changed.to_string());
        prop_assume!(!answer.split(|c: char| !c.is_ascii_digit()).any(|n| n == changed.to_string()));
        let p = Provenance::trace(&other, &members, &answers);
        prop_assert!(p.claims[0].found_in.is_empty(), "{} in {}", other, answer);
    }

    /// Any text: spans slice back, claims stay within the cap, and a
    /// stream in pieces strips as the whole does.
    #[test]
    fn spans_slice_back_on_any_text(raw in "(\\PC|\\n|\\[alpha\\]| \\[beta, alpha\\]\\.|```\\n|<a>|</answer-1>|  |\\. ){0,200}") {
        let p = Provenance::trace(&raw, &names(), &[("alpha".to_string(), "some text here")]);
        let (text, _) = strip(&raw);
        prop_assert!(p.claims.len() <= MAX_CLAIMS);
        for c in &p.claims {
            prop_assert_eq!(text.get(c.span.0..c.span.1), Some(c.text.as_str()));
        }
    }
}
