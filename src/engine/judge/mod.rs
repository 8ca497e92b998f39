//! The judge: reads the panel's answers under anonymous labels and returns
//! their structure as JSON (prompt, schema, tolerant parser, label mapping).

pub mod analysis;
pub mod consistency;
pub mod grounding;
pub mod labels;
pub mod parse;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use analysis::{Analysis, Contradiction, Finding, Quote, Stance};
pub use consistency::{Consistency, merge};
pub use grounding::{Grounded, Grounding, ground, locate};
pub use labels::{LabelAssignment, LabelMap};
pub use parse::parse_analysis;

use crate::provider::{JsonSchema, Message};

/// Why the judge produced no analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JudgeFailureKind {
    Empty,
    NotJson,
    SchemaMismatch,
    Upstream,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{}: {detail}", self.kind.describe())]
pub struct JudgeFailure {
    pub kind: JudgeFailureKind,
    pub detail: String,
}

impl JudgeFailure {
    pub fn new(kind: JudgeFailureKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
        }
    }
}

impl JudgeFailureKind {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Empty => "empty reply",
            Self::NotJson => "not valid JSON",
            Self::SchemaMismatch => "schema mismatch",
            Self::Upstream => "upstream error",
            Self::Cancelled => "cancelled",
        }
    }
}

pub const DEFAULT_SYSTEM_PROMPT: &str = "\
You are the judge of a council of AI models. Several models answered the same question; \
their answers follow, each under an anonymous label (Response A, Response B, ...). \
Do not answer the question yourself and do not merge the answers. Compare them and map their structure:

- consensus: points all or most responses agree on.
- contradictions: topics where responses take incompatible positions; give each side's stance and which responses hold it.
- blind_spots: important aspects of the question that the responses miss; `labels` are the responses that miss it (quotes may be empty).
- unique_insights: valuable points raised by only one response (or very few).
- partial_coverage: points some responses cover and others leave out; `labels` are the responses that cover it.

Every item names the labels it concerns (\"A\", \"B\", ...) and, for each, a short verbatim quote \
(under 25 words) copied exactly from that response. Be specific and concise; prefer a few substantive \
items over many trivial ones. Reply with one JSON object only, matching this shape:
{\"consensus\":[{\"point\":\"...\",\"labels\":[\"A\",\"B\"],\"quotes\":[{\"label\":\"A\",\"quote\":\"...\"}]}],
 \"contradictions\":[{\"topic\":\"...\",\"stances\":[{\"labels\":[\"A\"],\"stance\":\"...\",\"quotes\":[{\"label\":\"A\",\"quote\":\"...\"}]}]}],
 \"blind_spots\":[...], \"unique_insights\":[...], \"partial_coverage\":[...]}
Use empty arrays for sections with nothing to report.";

/// The user message: the question and the labelled answers, in label order.
pub fn user_prompt(question: &str, labels: &LabelMap, answers: &[String]) -> String {
    let mut out = format!("# Question\n\n{question}\n");
    for a in &labels.assignments {
        out.push_str(&format!(
            "\n# Response {}\n\n{}\n",
            a.label,
            answers[a.member].trim()
        ));
    }
    out
}

pub fn messages(
    system_prompt: Option<&str>,
    question: &str,
    labels: &LabelMap,
    answers: &[String],
) -> Vec<Message> {
    vec![
        Message::system(system_prompt.unwrap_or(DEFAULT_SYSTEM_PROMPT)),
        Message::user(user_prompt(question, labels, answers)),
    ]
}

/// The JSON schema sent as `response_format` (strict mode: every property
/// required, no extra properties).
pub fn schema(labels: &[String]) -> JsonSchema {
    // With the run's labels known, a label can only be one of them.
    let label = if labels.is_empty() {
        json!({ "type": "string" })
    } else {
        json!({ "type": "string", "enum": labels })
    };
    let quotes = json!({
        "type": "array",
        "items": {
            "type": "object",
            "properties": { "label": label, "quote": { "type": "string" } },
            "required": ["label", "quote"],
            "additionalProperties": false
        }
    });
    let labels = json!({ "type": "array", "items": label });
    let finding = json!({
        "type": "array",
        "items": {
            "type": "object",
            "properties": { "point": { "type": "string" }, "labels": labels, "quotes": quotes },
            "required": ["point", "labels", "quotes"],
            "additionalProperties": false
        }
    });
    let contradictions = json!({
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "topic": { "type": "string" },
                "stances": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": { "labels": labels, "stance": { "type": "string" }, "quotes": quotes },
                        "required": ["labels", "stance", "quotes"],
                        "additionalProperties": false
                    }
                }
            },
            "required": ["topic", "stances"],
            "additionalProperties": false
        }
    });
    let schema: Value = json!({
        "type": "object",
        "properties": {
            "consensus": finding,
            "contradictions": contradictions,
            "blind_spots": finding,
            "unique_insights": finding,
            "partial_coverage": finding,
        },
        "required": ["consensus", "contradictions", "blind_spots", "unique_insights", "partial_coverage"],
        "additionalProperties": false
    });
    JsonSchema {
        name: "council_analysis".into(),
        schema,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_lists_answers_in_label_order_without_names() {
        let members = vec![
            (0, "gpt".to_string()),
            (1, "claude".to_string()),
            (2, "gemini".to_string()),
        ];
        let labels = LabelMap::shuffled(&members, 3);
        let answers = vec![
            "answer zero".to_string(),
            "answer one".to_string(),
            "answer two".to_string(),
        ];
        let prompt = user_prompt("Why?", &labels, &answers);
        assert!(prompt.starts_with("# Question\n\nWhy?\n"));
        let mut last = 0;
        for a in &labels.assignments {
            let at = prompt
                .find(&format!("# Response {}\n\n{}", a.label, answers[a.member]))
                .unwrap();
            assert!(at > last);
            last = at;
        }
        for name in ["gpt", "claude", "gemini"] {
            assert!(!prompt.contains(name));
        }
    }

    #[test]
    fn schema_is_strict() {
        let s = schema(&[]).schema;
        assert_eq!(s["additionalProperties"], json!(false));
        assert_eq!(s["required"].as_array().unwrap().len(), 5);
        assert_eq!(
            s["properties"]["contradictions"]["items"]["properties"]["stances"]["items"]["required"],
            json!(["labels", "stance", "quotes"])
        );
    }
}
