//! The questions file: one question per line, or JSON lines. A JSON line is
//! ours (`question`, optional `id`, `reference`) or MT-Bench's own
//! (`question_id`, `category`, `turns`, optional `reference` per turn);
//! other fields are kept and passed through to the results.

use serde::Deserialize;
use serde_json::{Map, Value};

/// The most turns one question may have (each is a council run).
pub const MAX_TURNS: usize = 8;

/// Names a results line uses itself beside the question's own: an input
/// field of one of these would be overwritten, so it is refused rather
/// than lost.
const RESULT_FIELDS: [&str; 2] = ["council", "baselines"];

#[derive(Debug, Clone, PartialEq)]
pub struct EvalQuestion {
    /// Given in the file (`id` or `question_id`), else `q<line>`.
    pub id: String,
    /// The person's turns in order; a question of one turn has one. The last
    /// is the one graded; the council and the baselines see the earlier ones
    /// as their conversation so far.
    pub turns: Vec<String>,
    pub category: Option<String>,
    /// The reference answer to the last turn.
    pub(crate) reference: Option<String>,
    /// Fields of the line eval does not read, for the results.
    pub extra: Map<String, Value>,
}

impl EvalQuestion {
    /// The turn graded: the last.
    pub fn question(&self) -> &str {
        self.turns.last().map_or("", String::as_str)
    }

    /// Whether the graded turn has a reference answer.
    pub fn has_reference(&self) -> bool {
        self.reference.is_some()
    }

    /// The turns before the graded one.
    pub fn earlier(&self) -> &[String] {
        &self.turns[..self.turns.len().saturating_sub(1)]
    }

    /// The question cut to its first `n` turns, with the reference to the
    /// last of them from `references` (one per turn), if any.
    pub(crate) fn first_turns(mut self, n: usize, references: &[String]) -> Self {
        self.turns.truncate(n.max(1));
        self.reference = references
            .get(self.turns.len() - 1)
            .filter(|r| !r.trim().is_empty())
            .cloned();
        self
    }
}

/// `reference`: one answer, or one per turn (MT-Bench).
#[derive(Deserialize)]
#[serde(untagged)]
enum Reference {
    One(String),
    PerTurn(Vec<String>),
}

#[derive(Deserialize)]
struct Line {
    #[serde(default)]
    question: Option<String>,
    #[serde(default)]
    turns: Option<Vec<String>>,
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    question_id: Option<Value>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    reference: Option<Reference>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

/// One JSON line as a question; errors say what is wrong, the caller adds
/// where. Per-turn references are returned too, for cutting turns.
fn from_json(line: &str, number: usize) -> Result<(EvalQuestion, Vec<String>), String> {
    let parsed: Line = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let turns = match (parsed.question, parsed.turns) {
        (Some(q), None) => vec![q],
        (None, Some(turns)) if turns.is_empty() => return Err("`turns` is empty".into()),
        (None, Some(turns)) if turns.len() > MAX_TURNS => {
            return Err(format!(
                "{} turns, over the limit of {MAX_TURNS}",
                turns.len()
            ));
        }
        (None, Some(turns)) => turns,
        (Some(_), Some(_)) => return Err("give `question` or `turns`, not both".into()),
        (None, None) => {
            let mut fields: Vec<&str> = parsed.extra.keys().map(String::as_str).collect();
            fields.truncate(8);
            return Err(format!(
                "no `question` or `turns` (the line has: {})",
                if fields.is_empty() {
                    "no fields".into()
                } else {
                    fields.join(", ")
                }
            ));
        }
    };
    if let Some(name) = RESULT_FIELDS
        .iter()
        .find(|f| parsed.extra.contains_key(**f))
    {
        return Err(format!(
            "the field `{name}` is one the results use; rename it"
        ));
    }
    let id = match (parsed.id, parsed.question_id) {
        (Some(_), Some(_)) => return Err("give `id` or `question_id`, not both".into()),
        (Some(v), None) | (None, Some(v)) => match v {
            Value::String(s) if !s.trim().is_empty() => s,
            Value::Number(n) => n.to_string(),
            other => return Err(format!("the id must be a string or a number, not {other}")),
        },
        (None, None) => format!("q{number}"),
    };
    let references = match parsed.reference {
        Some(Reference::One(r)) => {
            let mut per_turn = vec![String::new(); turns.len()];
            if let Some(last) = per_turn.last_mut() {
                *last = r;
            }
            per_turn
        }
        Some(Reference::PerTurn(r)) => r,
        None => Vec::new(),
    };
    let reference = references
        .get(turns.len() - 1)
        .filter(|r| !r.trim().is_empty())
        .cloned();
    let q = EvalQuestion {
        id,
        turns,
        category: parsed.category.filter(|c| !c.trim().is_empty()),
        reference,
        extra: parsed.extra,
    };
    Ok((q, references))
}

/// Parses the file; blank lines and `#` comments are skipped. A line that
/// starts with `{` is JSON. Errors name the line.
pub fn parse_questions(text: &str) -> Result<Vec<EvalQuestion>, String> {
    Ok(parse_with_references(text)?
        .into_iter()
        .map(|(q, _)| q)
        .collect())
}

/// [`parse_questions`], with each question's references per turn.
pub(crate) fn parse_with_references(
    text: &str,
) -> Result<Vec<(EvalQuestion, Vec<String>)>, String> {
    let mut questions: Vec<(EvalQuestion, Vec<String>)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let number = n + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (q, references) = if line.starts_with('{') {
            from_json(line, number).map_err(|e| format!("line {number}: {e}"))?
        } else {
            let q = EvalQuestion {
                id: format!("q{number}"),
                turns: vec![line.to_string()],
                category: None,
                reference: None,
                extra: Map::new(),
            };
            (q, Vec::new())
        };
        if q.turns.iter().any(|t| t.trim().is_empty()) {
            return Err(format!("line {number}: the question is empty"));
        }
        if questions.iter().any(|(other, _)| other.id == q.id) {
            return Err(format!("line {number}: the id `{}` is used twice", q.id));
        }
        questions.push((q, references));
    }
    if questions.is_empty() {
        return Err("no questions in the file".into());
    }
    Ok(questions)
}

/// Keeps the questions of `category` (when given), then the first `limit`.
/// An unknown category is an error naming the ones there are.
pub fn select(
    mut questions: Vec<EvalQuestion>,
    category: Option<&str>,
    limit: Option<usize>,
) -> Result<Vec<EvalQuestion>, String> {
    if let Some(wanted) = category {
        let of = |q: &EvalQuestion| {
            q.category
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case(wanted))
        };
        if !questions.iter().any(of) {
            let mut known: Vec<&str> = questions
                .iter()
                .filter_map(|q| q.category.as_deref())
                .collect();
            known.sort_unstable();
            known.dedup();
            return Err(if known.is_empty() {
                format!("no category `{wanted}`: these questions have no categories")
            } else {
                format!("no category `{wanted}`; there are: {}", known.join(", "))
            });
        }
        questions.retain(of);
    }
    if let Some(n) = limit {
        questions.truncate(n);
    }
    Ok(questions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_json_lines_mix_and_errors_name_the_line() {
        let qs = parse_questions(
            "Why is the sky blue?\n\n# skipped\n{\"question\": \"2+2?\", \"id\": 7, \"reference\": \"4\"}\n",
        )
        .unwrap();
        assert_eq!(qs[0].id, "q1");
        assert_eq!(qs[1].id, "7");
        assert_eq!(qs[1].question(), "2+2?");
        assert_eq!(qs[1].reference.as_deref(), Some("4"));
        let e = parse_questions("ok\n{\"questoin\": \"x\"}\n").unwrap_err();
        assert_eq!(
            e,
            "line 2: no `question` or `turns` (the line has: questoin)"
        );
        assert!(
            parse_questions(
                "{\"question\": \"a\", \"id\": \"x\"}\n{\"question\": \"b\", \"id\": \"x\"}"
            )
            .is_err()
        );
        assert!(parse_questions("\n# only comments\n").is_err());
        let e = parse_questions("{\"question\": \"a\", \"council\": 1}").unwrap_err();
        assert!(e.contains("`council` is one the results use"), "{e}");
        let e = parse_questions(&format!(
            "{{\"turns\": {}}}",
            serde_json::to_string(&vec!["t"; MAX_TURNS + 1]).unwrap()
        ))
        .unwrap_err();
        assert!(e.contains("over the limit of 8"), "{e}");
    }

    #[test]
    fn mt_bench_lines_are_read_as_they_are_and_unknown_fields_kept() {
        let line = r#"{"question_id": 95, "category": "roleplay", "turns": ["Translate this.", "And this?"], "reference": ["It means one.", "It means two."], "source": "mt"}"#;
        let qs = parse_questions(line).unwrap();
        let q = &qs[0];
        assert_eq!(q.id, "95");
        assert_eq!(q.category.as_deref(), Some("roleplay"));
        assert_eq!(q.question(), "And this?");
        assert_eq!(q.earlier(), ["Translate this.".to_string()]);
        assert_eq!(q.reference.as_deref(), Some("It means two."));
        assert_eq!(q.extra["source"], "mt");
        let (q, refs) = parse_with_references(line).unwrap().remove(0);
        let first = q.first_turns(1, &refs);
        assert_eq!(first.turns, ["Translate this."]);
        assert_eq!(first.reference.as_deref(), Some("It means one."));
    }

    #[test]
    fn a_category_and_a_limit_pick_part_of_the_questions() {
        let qs = parse_questions(
            "{\"question\": \"a\", \"category\": \"math\"}\n{\"question\": \"b\", \"category\": \"writing\"}\n{\"question\": \"c\", \"category\": \"math\"}",
        )
        .unwrap();
        let math = select(qs.clone(), Some("Math"), Some(1)).unwrap();
        assert_eq!(math.len(), 1);
        assert_eq!(math[0].question(), "a");
        assert_eq!(select(qs.clone(), None, Some(2)).unwrap().len(), 2);
        assert_eq!(
            select(qs, Some("poetry"), None).unwrap_err(),
            "no category `poetry`; there are: math, writing"
        );
    }
}
