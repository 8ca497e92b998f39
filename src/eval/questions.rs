//! The questions file: one question per line, or JSON lines with
//! `question` (and optional `id`, `reference`).

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq)]
pub struct EvalQuestion {
    /// Given in the file, else `q<line>`.
    pub id: String,
    pub question: String,
    pub(crate) reference: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    question: String,
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(default)]
    reference: Option<String>,
}

/// Parses the file; blank lines and `#` comments are skipped. A line that
/// starts with `{` is JSON. Errors name the line.
pub fn parse_questions(text: &str) -> Result<Vec<EvalQuestion>, String> {
    let mut questions: Vec<EvalQuestion> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let number = n + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let q = if line.starts_with('{') {
            let parsed: Line =
                serde_json::from_str(line).map_err(|e| format!("line {number}: {e}"))?;
            let id = match parsed.id {
                Some(serde_json::Value::String(s)) => s,
                Some(serde_json::Value::Number(n)) => n.to_string(),
                Some(other) => {
                    return Err(format!(
                        "line {number}: `id` must be a string or a number, not {other}"
                    ));
                }
                None => format!("q{number}"),
            };
            EvalQuestion {
                id,
                question: parsed.question,
                reference: parsed.reference.filter(|r| !r.trim().is_empty()),
            }
        } else {
            EvalQuestion {
                id: format!("q{number}"),
                question: line.to_string(),
                reference: None,
            }
        };
        if q.question.trim().is_empty() {
            return Err(format!("line {number}: the question is empty"));
        }
        if questions.iter().any(|other| other.id == q.id) {
            return Err(format!("line {number}: the id `{}` is used twice", q.id));
        }
        questions.push(q);
    }
    if questions.is_empty() {
        return Err("no questions in the file".into());
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
        assert_eq!(qs[1].reference.as_deref(), Some("4"));
        let e = parse_questions("ok\n{\"questoin\": \"x\"}\n").unwrap_err();
        assert!(e.starts_with("line 2: unknown field `questoin`"), "{e}");
        assert!(
            parse_questions(
                "{\"question\": \"a\", \"id\": \"x\"}\n{\"question\": \"b\", \"id\": \"x\"}"
            )
            .is_err()
        );
        assert!(parse_questions("\n# only comments\n").is_err());
    }
}
