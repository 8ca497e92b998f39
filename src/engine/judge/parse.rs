//! Tolerant parsing of the judge's reply into an [`Analysis`].
//!
//! Judges wrap JSON in code fences, add prose before and after, leave
//! trailing commas and write labels in several forms. Each is handled; what
//! cannot be read fails with a reason and the raw text is kept by the caller.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::analysis::{Analysis, Contradiction, Finding, Quote, Stance};
use super::labels::LabelMap;
use super::{JudgeFailure, JudgeFailureKind};

/// Parses the judge's whole reply.
pub fn parse_analysis(raw: &str, labels: &LabelMap) -> Result<Analysis, JudgeFailure> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(JudgeFailure::new(
            JudgeFailureKind::Empty,
            "the judge returned no text",
        ));
    }
    let value = extract_json(text)?;
    let value = unwrap_envelope(value);
    let Value::Object(map) = &value else {
        return Err(JudgeFailure::new(
            JudgeFailureKind::SchemaMismatch,
            "expected a JSON object at the top level",
        ));
    };
    if !SECTIONS.iter().any(|s| map.contains_key(*s)) {
        return Err(JudgeFailure::new(
            JudgeFailureKind::SchemaMismatch,
            format!("none of the sections ({}) is present", SECTIONS.join(", ")),
        ));
    }
    let findings = |key: &str| -> Result<Vec<Finding>, JudgeFailure> {
        section::<RawFinding>(map.get(key), key)
            .map(|items| items.into_iter().map(|f| f.map(labels)).collect())
    };
    let mut analysis = Analysis {
        consensus: findings("consensus")?,
        contradictions: section::<RawContradiction>(map.get("contradictions"), "contradictions")?
            .into_iter()
            .map(|c| c.map(labels))
            .collect(),
        blind_spots: findings("blind_spots")?,
        unique_insights: findings("unique_insights")?,
        partial_coverage: findings("partial_coverage")?,
        unknown_labels: 0,
        checked: false,
    };
    let known: Vec<String> = labels.assignments.iter().map(|a| a.name.clone()).collect();
    analysis.drop_unknown(&known);
    Ok(analysis)
}

const SECTIONS: [&str; 5] = [
    "consensus",
    "contradictions",
    "blind_spots",
    "unique_insights",
    "partial_coverage",
];

fn section<T: for<'de> Deserialize<'de>>(
    value: Option<&Value>,
    key: &str,
) -> Result<Vec<T>, JudgeFailure> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(v) => Vec::<T>::deserialize(v).map_err(|e| {
            JudgeFailure::new(JudgeFailureKind::SchemaMismatch, format!("`{key}`: {e}"))
        }),
    }
}

/// `{"analysis": {...}}` is unwrapped when it is the only key.
fn unwrap_envelope(value: Value) -> Value {
    match value {
        Value::Object(mut map)
            if map.len() == 1 && !SECTIONS.iter().any(|s| map.contains_key(*s)) =>
        {
            let (_, inner) = map.iter_mut().next().expect("one entry");
            if inner.is_object() {
                inner.take()
            } else {
                Value::Object(map)
            }
        }
        other => other,
    }
}

/// Finds the JSON object in the reply and parses it, forgiving fences,
/// surrounding prose and trailing commas.
pub(crate) fn extract_json(text: &str) -> Result<Value, JudgeFailure> {
    let body = strip_fences(text);
    let Some(start) = body.find('{') else {
        return Err(JudgeFailure::new(
            JudgeFailureKind::NotJson,
            "no JSON object in the reply",
        ));
    };
    let candidate = match matching_brace(&body[start..]) {
        Some(end) => &body[start..start + end + 1],
        None => &body[start..],
    };
    match serde_json::from_str::<Value>(candidate) {
        Ok(v) => Ok(v),
        Err(first) => serde_json::from_str::<Value>(&remove_trailing_commas(candidate))
            .map_err(|_| JudgeFailure::new(JudgeFailureKind::NotJson, first.to_string())),
    }
}

/// The inside of the first ``` fence that holds a `{`, or the text itself.
fn strip_fences(text: &str) -> &str {
    let mut rest = text;
    while let Some(open) = rest.find("```") {
        let after = &rest[open + 3..];
        // Skip the info string (`json`) up to the end of the line.
        let content_start = after.find('\n').map(|i| i + 1).unwrap_or(after.len());
        let content = &after[content_start..];
        let Some(close) = content.find("```") else {
            return if content.contains('{') { content } else { text };
        };
        if content[..close].contains('{') {
            return &content[..close];
        }
        rest = &content[close + 3..];
    }
    text
}

/// Byte offset of the `}` closing the object that `s` starts with.
fn matching_brace(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' | '[' => depth += 1,
            '}' | ']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Drops commas that stand right before `}` or `]` (outside strings).
fn remove_trailing_commas(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_string = false;
    let mut escaped = false;
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            out.push(c);
            continue;
        }
        if c == '"' {
            in_string = true;
        }
        if c == ',' {
            let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            if matches!(next, Some('}') | Some(']')) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

#[derive(Deserialize)]
struct RawQuote {
    #[serde(alias = "response")]
    label: String,
    #[serde(alias = "text")]
    quote: String,
}

#[derive(Deserialize)]
struct RawFinding {
    #[serde(
        alias = "summary",
        alias = "description",
        alias = "insight",
        alias = "topic"
    )]
    point: String,
    #[serde(default, alias = "responses", deserialize_with = "one_or_many")]
    labels: Vec<String>,
    #[serde(default)]
    quotes: Vec<RawQuote>,
}

#[derive(Deserialize)]
struct RawStance {
    #[serde(
        default,
        alias = "responses",
        alias = "label",
        deserialize_with = "one_or_many"
    )]
    labels: Vec<String>,
    #[serde(alias = "position")]
    stance: String,
    #[serde(default)]
    quotes: Vec<RawQuote>,
}

#[derive(Deserialize)]
struct RawContradiction {
    #[serde(alias = "point", alias = "summary")]
    topic: String,
    #[serde(alias = "sides", alias = "positions")]
    stances: Vec<RawStance>,
}

/// Accepts `"A"` where `["A"]` was asked for.
fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

fn map_quotes(quotes: Vec<RawQuote>, labels: &LabelMap) -> Vec<Quote> {
    quotes
        .into_iter()
        .filter(|q| !q.quote.trim().is_empty())
        .map(|q| Quote::new(labels.name_for(&q.label), q.quote))
        .collect()
}

fn map_labels(written: &[String], labels: &LabelMap) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(written.len());
    for name in written.iter().map(|l| labels.name_for(l)) {
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// The members an item concerns, in panel order (not the shuffled order
/// the judge read them in): those it labels, and any it quotes without
/// labelling. Names the judge made up come last, as written.
fn concerned(written: &[String], quotes: &[Quote], labels: &LabelMap) -> Vec<String> {
    let mut members = map_labels(written, labels);
    for q in quotes {
        if !members.contains(&q.member) {
            members.push(q.member.clone());
        }
    }
    let panel_index = |name: &String| {
        labels
            .assignments
            .iter()
            .find(|a| &a.name == name)
            .map_or(usize::MAX, |a| a.member)
    };
    // Stable: made-up names keep the order they were written in.
    members.sort_by_key(panel_index);
    members
}

impl RawFinding {
    fn map(self, labels: &LabelMap) -> Finding {
        let quotes = map_quotes(self.quotes, labels);
        let members = concerned(&self.labels, &quotes, labels);
        Finding {
            point: self.point,
            members,
            quotes,
            grounded: Default::default(),
            samples: None,
        }
    }
}

impl RawContradiction {
    fn map(self, labels: &LabelMap) -> Contradiction {
        let stances = self
            .stances
            .into_iter()
            .map(|s| {
                let quotes = map_quotes(s.quotes, labels);
                let members = concerned(&s.labels, &quotes, labels);
                Stance {
                    members,
                    stance: s.stance,
                    quotes,
                    grounded: Default::default(),
                }
            })
            .collect();
        Contradiction {
            topic: self.topic,
            stances,
            samples: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_commas_only_outside_strings() {
        assert_eq!(
            remove_trailing_commas(r#"{"a": [1, 2,], "b": "x,]",}"#),
            r#"{"a": [1, 2], "b": "x,]"}"#
        );
    }

    #[test]
    fn matching_brace_ignores_braces_in_strings() {
        let s = r#"{"a": "}{", "b": {"c": "\"}"}} trailing"#;
        assert_eq!(
            &s[..=matching_brace(s).unwrap()],
            r#"{"a": "}{", "b": {"c": "\"}"}}"#
        );
    }

    #[test]
    fn fences_with_info_strings() {
        assert_eq!(
            strip_fences("x\n```json\n{\"a\":1}\n```\ny").trim(),
            "{\"a\":1}"
        );
        assert_eq!(
            strip_fences("```\nnot it\n```\n```JSON\n{}\n```").trim(),
            "{}"
        );
        assert_eq!(strip_fences("plain {\"a\":1}"), "plain {\"a\":1}");
    }
}
