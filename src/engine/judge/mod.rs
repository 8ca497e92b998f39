//! The judge: reads the panel's answers under anonymous labels and returns
//! their structure as JSON (prompt, schema, tolerant parser, label mapping).

pub(crate) mod analysis;
pub(crate) mod consistency;
pub(crate) mod grounding;
pub(crate) mod labels;
pub(crate) mod parse;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use analysis::{Analysis, Contradiction, Finding, Quote, Stance};
pub use analysis::{Grounded, Grounding};
pub use consistency::{Consistency, merge};
pub use grounding::{ground, locate, occurrences};
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
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::Empty => "empty reply",
            Self::NotJson => "not valid JSON",
            Self::SchemaMismatch => "schema mismatch",
            Self::Upstream => "upstream error",
            Self::Cancelled => "cancelled",
        }
    }
}

/// What every judge is told, before how to write its reply.
macro_rules! instructions {
    () => {
        "\
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
items over many trivial ones. "
    };
}

pub(crate) const DEFAULT_SYSTEM_PROMPT: &str = concat!(
    instructions!(),
    "Reply with one JSON object only, in this shape; here is 
an example, for a question about why the sky is blue (your items come from the responses you are given):
{\"consensus\":[{\"point\":\"Rayleigh scattering makes the sky blue\",\"labels\":[\"A\",\"B\"],\"quotes\":[{\"label\":\"A\",\"quote\":\"air scatters blue light more than red\"}]}],
 \"contradictions\":[{\"topic\":\"Whether ozone matters\",\"stances\":[{\"labels\":[\"A\"],\"stance\":\"Scattering alone explains it\",\"quotes\":[{\"label\":\"A\",\"quote\":\"scattering is the whole story\"}]},{\"labels\":[\"B\"],\"stance\":\"Ozone absorption also shapes the colour\",\"quotes\":[{\"label\":\"B\",\"quote\":\"ozone absorbs orange light at dusk\"}]}]}],
 \"blind_spots\":[{\"point\":\"Why the sky is not violet\",\"labels\":[\"A\",\"B\"],\"quotes\":[]}],
 \"unique_insights\":[], \"partial_coverage\":[]}
Use empty arrays for sections with nothing to report."
);

/// For a judge whose reply a grammar holds to the shape (the embedded
/// engine): no example, which a small model copies into its items (a
/// question about renting got "Why the sky is not violet"); each point is
/// to be written about these responses, each quote is one of their clauses.
pub(crate) const GROUNDED_SYSTEM_PROMPT: &str = concat!(
    instructions!(),
    "Reply with one JSON object only, with the five sections above as arrays \
of items; use empty arrays for sections with nothing to report. Write each point in your own \
words about what these responses say on this question."
);

/// The user message: the question and the labelled answers, in label order.
/// Each answer is fenced (see [`crate::engine::fence`]): its text cannot
/// add a response of its own or end its block.
pub(crate) fn user_prompt(question: &str, labels: &LabelMap, answers: &[String]) -> String {
    let fence = crate::engine::fence::Fence::new();
    let mut out = format!("# Question\n\n{question}\n\n{}\n", fence.note("response"));
    for a in &labels.assignments {
        out.push_str(&format!(
            "\n# Response {}\n\n{}\n",
            a.label,
            fence.wrap("response", "", answers[a.member].trim())
        ));
    }
    out
}

/// The judge's messages for a reply a grammar holds to the shape (see
/// [`GROUNDED_SYSTEM_PROMPT`]), unless the seat has a prompt of its own.
pub fn grounded_messages(
    system_prompt: Option<&str>,
    question: &str,
    labels: &LabelMap,
    answers: &[String],
) -> Vec<Message> {
    messages(
        Some(system_prompt.unwrap_or(GROUNDED_SYSTEM_PROMPT)),
        question,
        labels,
        answers,
    )
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
    let quote = json!({
        "type": "object",
        "properties": { "label": label_schema(labels), "quote": { "type": "string" } },
        "required": ["label", "quote"],
        "additionalProperties": false
    });
    schema_with(labels, quote, false)
}

/// With the run's labels known, a label can only be one of them.
fn label_schema(labels: &[String]) -> Value {
    if labels.is_empty() {
        json!({ "type": "string" })
    } else {
        json!({ "type": "string", "enum": labels })
    }
}

/// Most clauses of one answer offered as quotes, and their longest length:
/// they bound the grammar a local judge decodes under.
const CLAUSES: usize = 8;
const CLAUSE_CHARS: usize = 80;

/// The clauses of an answer a quote may be: its sentences and the parts
/// between semicolons, colons and line breaks, of three words or more, cut
/// to [`CLAUSE_CHARS`] at a word boundary; each is verbatim answer text.
pub(crate) fn clauses(answer: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for piece in answer.split(['.', '!', '?', ';', ':', '\n']) {
        let piece = piece
            .trim()
            .trim_start_matches(['-', '*', '#', '>', ' '])
            .trim();
        if piece.split_whitespace().count() < 3 {
            continue;
        }
        let mut clause = String::new();
        for word in piece.split(' ') {
            if clause.chars().count() + word.chars().count() + 1 > CLAUSE_CHARS {
                break;
            }
            if !clause.is_empty() {
                clause.push(' ');
            }
            clause.push_str(word);
        }
        let clause = clause.trim().to_string();
        if clause.split_whitespace().count() >= 3 && !out.contains(&clause) {
            out.push(clause);
        }
        if out.len() == CLAUSES {
            break;
        }
    }
    out
}

/// The schema for a judge whose output a grammar enforces (the embedded
/// engine): each quote is one of the clauses of the answer its label names,
/// so it can only quote what was said, and every item but a blind spot
/// must quote something.
pub fn grounded_schema(labels: &LabelMap, answers: &[String]) -> JsonSchema {
    let names: Vec<String> = labels.assignments.iter().map(|a| a.label.clone()).collect();
    let choices: Vec<Value> = labels
        .assignments
        .iter()
        .filter_map(|a| {
            let said = clauses(answers.get(a.member)?);
            (!said.is_empty()).then(|| {
                json!({
                    "type": "object",
                    "properties": {
                        "label": { "type": "string", "enum": [a.label] },
                        "quote": { "type": "string", "enum": said }
                    },
                    "required": ["label", "quote"],
                    "additionalProperties": false
                })
            })
        })
        .collect();
    if choices.is_empty() {
        return schema(&names);
    }
    // Under a grammar a claim without evidence cannot be written at all.
    schema_with(&names, json!({ "anyOf": choices }), true)
}

/// The analysis schema around one quote object's schema.
/// With `quote_required`, every item but a blind spot (which names the
/// answers that miss something) carries at least one quote.
fn schema_with(labels: &[String], quote: Value, quote_required: bool) -> JsonSchema {
    let label = label_schema(labels);
    let optional = json!({
        "type": "array",
        "items": quote
    });
    let quotes = if quote_required {
        json!({ "type": "array", "items": quote, "minItems": 1 })
    } else {
        optional.clone()
    };
    let labels = json!({ "type": "array", "items": label });
    let finding_with = |quotes: &Value| {
        json!({
            "type": "array",
            "items": {
                "type": "object",
                "properties": { "point": { "type": "string" }, "labels": labels, "quotes": quotes },
                "required": ["point", "labels", "quotes"],
                "additionalProperties": false
            }
        })
    };
    let finding = finding_with(&quotes);
    let blind_spot = finding_with(&optional);
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
            "blind_spots": blind_spot,
            "unique_insights": finding,
            "partial_coverage": finding,
        },
        "required": ["consensus", "contradictions", "blind_spots", "unique_insights", "partial_coverage"],
        "additionalProperties": false
    });
    JsonSchema {
        name: "council_analysis".into(),
        kind: crate::provider::SchemaKind::Strict,
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
            let head = prompt
                .find(&format!("# Response {}\n\n<response-", a.label))
                .unwrap();
            let at = prompt
                .find(&format!(">\n{}\n</response-", answers[a.member]))
                .unwrap();
            assert!(head > last && at > head);
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

    #[test]
    fn clauses_are_verbatim_pieces_of_the_answer() {
        let answer = "The sky is blue. Air scatters short waves; long ones pass!\n- A bullet point here\nOk.\n\
            This sentence is much longer than eighty characters because it goes on and on about the sky.";
        let said = clauses(answer);
        assert_eq!(
            said[..3],
            [
                "The sky is blue",
                "Air scatters short waves",
                "long ones pass"
            ]
        );
        assert!(said.contains(&"A bullet point here".to_string()));
        assert!(!said.iter().any(|c| c == "Ok"), "too short");
        let long = said.last().unwrap();
        assert!(long.chars().count() <= CLAUSE_CHARS && long.starts_with("This sentence"));
        for c in &said {
            assert!(super::grounding::locate(c, answer).is_some(), "{c}");
        }
    }

    #[test]
    fn the_grounded_schema_ties_each_label_to_its_answers_clauses() {
        let labels = LabelMap::shuffled(&[(0, "a".into()), (1, "b".into())], 1);
        let answers = vec![
            "Alpha says one thing here.".to_string(),
            "Beta says another thing.".to_string(),
        ];
        let schema = grounded_schema(&labels, &answers).schema;
        let choices =
            &schema["properties"]["consensus"]["items"]["properties"]["quotes"]["items"]["anyOf"];
        for choice in choices.as_array().unwrap() {
            let label = choice["properties"]["label"]["enum"][0].as_str().unwrap();
            let member = labels.resolve(label).unwrap().member;
            assert_eq!(
                choice["properties"]["quote"]["enum"],
                json!(clauses(&answers[member]))
            );
        }
        assert_eq!(choices.as_array().unwrap().len(), 2);
    }
}
