//! The judge's parser on the kinds of replies judges actually send.

use council::engine::judge::{JudgeFailureKind, LabelMap, parse_analysis};

/// Three members; with seed 0 the test reads the mapping rather than guessing it.
fn labels() -> LabelMap {
    LabelMap::shuffled(
        &[
            (0, "claude".into()),
            (1, "gpt".into()),
            (2, "gemini".into()),
        ],
        0,
    )
}

fn name(map: &LabelMap, label: &str) -> String {
    map.resolve(label).unwrap().name.clone()
}

#[test]
fn fenced_json_with_prose_around_it() {
    let map = labels();
    let reply = r#"Sure! Here is my analysis of the three responses.

```json
{
  "consensus": [
    {"point": "Use a hash map for O(1) lookups", "labels": ["A", "B", "C"],
     "quotes": [{"label": "A", "quote": "a HashMap gives constant-time"}, {"label": "C", "quote": "O(1) average lookups"}]}
  ],
  "contradictions": [],
  "blind_spots": [{"point": "Memory overhead", "labels": ["A", "B", "C"], "quotes": []}],
  "unique_insights": [],
  "partial_coverage": []
}
```

Let me know if you need anything else."#;
    let a = parse_analysis(reply, &map).unwrap();
    assert_eq!(a.consensus.len(), 1);
    // In panel order, whatever order the labels were shuffled into.
    assert_eq!(a.consensus[0].members, ["claude", "gpt", "gemini"]);
    assert_eq!(a.consensus[0].quotes[1].member, name(&map, "C"));
    assert_eq!(a.consensus[0].quotes[1].text, "O(1) average lookups");
    assert_eq!(a.blind_spots[0].point, "Memory overhead");
}

#[test]
fn trailing_commas_and_label_variants() {
    let map = labels();
    let reply = r#"{
  "consensus": [],
  "contradictions": [
    {"topic": "Is Rust faster than Go?",
     "stances": [
        {"labels": ["Response A"], "stance": "Yes, no GC pauses", "quotes": [{"label": "Response A", "quote": "no garbage collector"},],},
        {"labels": "response_b", "stance": "Comparable in practice", "quotes": [{"label": "[B]", "quote": "roughly comparable"}]},
     ]},
  ],
  "blind_spots": [],
  "unique_insights": [{"point": "Compile times", "labels": ["C"], "quotes": [{"label": "C", "quote": "slow builds"}]},],
  "partial_coverage": [],
}"#;
    let a = parse_analysis(reply, &map).unwrap();
    let stances = &a.contradictions[0].stances;
    assert_eq!(stances[0].members, [name(&map, "A")]);
    assert_eq!(stances[1].members, [name(&map, "B")]);
    assert_eq!(stances[1].quotes[0].member, name(&map, "B"));
    assert_eq!(a.unique_insights[0].members, [name(&map, "C")]);
}

#[test]
fn missing_sections_are_empty_and_quotes_add_their_members() {
    let map = labels();
    let reply = r#"{"consensus": [{"point": "p", "labels": ["A"], "quotes": [{"label": "B", "quote": "q"}]}]}"#;
    let a = parse_analysis(reply, &map).unwrap();
    let mut both = [name(&map, "A"), name(&map, "B")];
    let panel = ["claude", "gpt", "gemini"];
    both.sort_by_key(|n| panel.iter().position(|p| p == n));
    assert_eq!(a.consensus[0].members, both, "both, in panel order");
    assert!(a.contradictions.is_empty() && a.partial_coverage.is_empty());
}

#[test]
fn an_envelope_object_is_unwrapped() {
    let map = labels();
    let a = parse_analysis(
        r#"{"analysis": {"consensus": [{"point": "p", "labels": ["A"], "quotes": []}]}}"#,
        &map,
    )
    .unwrap();
    assert_eq!(a.consensus.len(), 1);
}

#[test]
fn made_up_labels_never_become_member_names() {
    let map = labels();
    let a = parse_analysis(
        r#"{"consensus": [{"point": "p", "labels": ["A", "Response Z"], "quotes": []}]}"#,
        &map,
    )
    .unwrap();
    assert_eq!(a.consensus[0].members, [name(&map, "A")]);
    assert_eq!(a.unknown_labels, 1);
}

#[test]
fn failures_say_why() {
    let map = labels();
    let fail = |s: &str| parse_analysis(s, &map).unwrap_err();

    let e = fail("   \n");
    assert_eq!(e.kind, JudgeFailureKind::Empty);

    let e = fail("The responses broadly agree, with minor differences.");
    assert_eq!(e.kind, JudgeFailureKind::NotJson);
    assert_eq!(e.to_string(), "not valid JSON: no JSON object in the reply");

    // Cut off mid-way (max_tokens).
    let e = fail(r#"{"consensus": [{"point": "Use a hash map", "labels": ["A""#);
    assert_eq!(e.kind, JudgeFailureKind::NotJson);

    let e = fail(r#"{"verdict": "A is best"}"#);
    assert_eq!(e.kind, JudgeFailureKind::SchemaMismatch);
    assert!(e.detail.contains("none of the sections"), "{}", e.detail);

    let e = fail(r#"{"consensus": "everyone agrees"}"#);
    assert_eq!(e.kind, JudgeFailureKind::SchemaMismatch);
    assert!(e.detail.starts_with("`consensus`: "), "{}", e.detail);

    let e = fail(r#"{"contradictions": [{"topic": "t"}]}"#);
    assert_eq!(e.kind, JudgeFailureKind::SchemaMismatch);
    assert!(e.detail.contains("stances"), "{}", e.detail);

    let e = fail("[1, 2, 3]");
    assert_eq!(e.kind, JudgeFailureKind::NotJson);
}

#[test]
fn members_come_back_in_panel_order_not_label_order() {
    let map = labels();
    let label_of = |name: &str| {
        map.assignments
            .iter()
            .find(|a| a.name == name)
            .unwrap()
            .label
            .clone()
    };
    // Labels written gemini first, then claude; a quote names gpt only.
    let reply = format!(
        r#"{{"consensus": [{{"point": "p", "labels": ["{}", "{}"],
             "quotes": [{{"label": "{}", "quote": "q"}}]}}],
           "contradictions": [{{"topic": "t", "stances": [
             {{"labels": ["{}", "Response Z", "{}"], "stance": "s", "quotes": []}}]}}],
           "blind_spots": [], "unique_insights": [], "partial_coverage": []}}"#,
        label_of("gemini"),
        label_of("claude"),
        label_of("gpt"),
        label_of("gemini"),
        label_of("gpt"),
    );
    let a = parse_analysis(&reply, &map).unwrap();
    assert_eq!(a.consensus[0].members, ["claude", "gpt", "gemini"]);
    assert_eq!(
        a.contradictions[0].stances[0].members,
        ["gpt", "gemini"],
        "a label that names no answer is dropped"
    );
    assert_eq!(a.unknown_labels, 1, "and counted");
}

#[test]
fn quotes_under_labels_that_name_no_answer_are_dropped_and_counted() {
    let map = labels();
    let reply = r#"{"consensus": [{"point": "p", "labels": ["Response Z", "Q"],
        "quotes": [{"label": "Z", "quote": "made up"}]}],
        "contradictions": [], "blind_spots": [], "unique_insights": [], "partial_coverage": []}"#;
    let a = parse_analysis(reply, &map).unwrap();
    assert!(a.consensus[0].members.is_empty());
    assert!(a.consensus[0].quotes.is_empty());
    // Two labels, the quote, and the quote's label among the item's members.
    assert_eq!(a.unknown_labels, 4);
}
