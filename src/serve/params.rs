//! What of a chat-completions request a council honours, and what it
//! refuses by name rather than ignore: several choices, tools, log
//! probabilities. `response_format` is honoured by the synthesizer, and its
//! answer is checked before it is sent.

use serde_json::Value;

use super::wire::{ApiError, ChatRequest};
use crate::provider::JsonSchema;

/// The form a client asked the answer in, with its check.
pub(crate) struct AnswerFormat {
    pub(crate) schema: JsonSchema,
    validator: Option<jsonschema::Validator>,
}

impl AnswerFormat {
    /// The answer as it goes to the client: JSON (a code fence around it
    /// taken off) that follows the schema; else why not.
    pub(crate) fn check(&self, answer: &str) -> Result<String, String> {
        let text = unfenced(answer.trim());
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("the answer is not JSON: {e}"))?;
        if !value.is_object() && self.validator.is_none() {
            return Err("the answer is not a JSON object".into());
        }
        if let Some(validator) = &self.validator
            && let Err(e) = validator.validate(&value)
        {
            return Err(format!("the answer does not follow the schema: {e}"));
        }
        Ok(text.to_string())
    }
}

/// ```` ```json … ``` ```` around an answer, taken off.
fn unfenced(text: &str) -> &str {
    let Some(rest) = text.strip_prefix("```") else {
        return text;
    };
    let body = rest.split_once('\n').map_or("", |(_, b)| b);
    body.strip_suffix("```").map_or(text, str::trim)
}

/// Refuses what a council cannot do; returns the answer format asked for.
pub(crate) fn check(request: &ChatRequest) -> Result<Option<AnswerFormat>, ApiError> {
    let unsupported = |name: &str, why: &str| {
        Err(ApiError::bad_request(
            "unsupported_parameter",
            format!("`{name}` is not supported by a council: {why}"),
        ))
    };
    if request.n.is_some_and(|n| n > 1) {
        return unsupported("n", "it writes one answer");
    }
    // Tools are fine only when the client says none may be called.
    let choice = request.tool_choice.as_ref().filter(|c| !c.is_null());
    let choice_none = choice.is_some_and(|c| c.as_str() == Some("none"));
    let has_tools = request
        .tools
        .as_ref()
        .is_some_and(|t| !t.is_null() && t.as_array().is_none_or(|a| !a.is_empty()));
    if has_tools && !choice_none {
        return unsupported("tools", "it calls no tools");
    }
    if choice.is_some() && !choice_none {
        return unsupported("tool_choice", "it calls no tools");
    }
    if request.logprobs == Some(true) || request.top_logprobs.is_some_and(|n| n > 0) {
        return unsupported("logprobs", "its answer is written from several models");
    }
    let Some(format) = &request.response_format else {
        return Ok(None);
    };
    let invalid = |why: String| Err(ApiError::bad_request("invalid_response_format", why));
    match format.get("type").and_then(Value::as_str) {
        Some("text") => Ok(None),
        Some("json_object") => Ok(Some(AnswerFormat {
            schema: JsonSchema::any_object(),
            validator: None,
        })),
        Some("json_schema") => {
            let spec = &format["json_schema"];
            let Some(schema) = spec.get("schema").filter(|s| s.is_object()) else {
                return invalid("`response_format.json_schema.schema` must be an object".into());
            };
            let validator = match jsonschema::validator_for(schema) {
                Ok(v) => v,
                Err(e) => return invalid(format!("the JSON schema is not valid: {e}")),
            };
            let name = spec.get("name").and_then(Value::as_str).unwrap_or("answer");
            let strict = spec.get("strict").and_then(Value::as_bool).unwrap_or(false);
            Ok(Some(AnswerFormat {
                schema: JsonSchema::answer_format(name, schema.clone(), strict),
                validator: Some(validator),
            }))
        }
        other => invalid(format!(
            "`response_format.type` {}: use text, json_object or json_schema",
            other.map_or("is missing".to_string(), |t| format!("`{t}` is unknown"))
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(extra: Value) -> ChatRequest {
        let mut body = json!({"model": "council", "messages": [{"role": "user", "content": "q"}]});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn unsupported_parameters_are_named() {
        for (extra, name) in [
            (json!({"n": 2}), "`n`"),
            (json!({"tools": [{"type": "function"}]}), "`tools`"),
            (json!({"tool_choice": "required"}), "`tool_choice`"),
            (json!({"logprobs": true}), "`logprobs`"),
        ] {
            let e = check(&request(extra)).err().expect("refused");
            assert_eq!(e.code, "unsupported_parameter");
            assert!(e.message.contains(name), "{}", e.message);
        }
        assert!(
            check(&request(
                json!({"n": 1, "tools": [], "tool_choice": "none"})
            ))
            .is_ok()
        );
    }

    #[test]
    fn a_schema_is_checked_against_the_answer() {
        let format = check(&request(json!({"response_format": {"type": "json_schema",
            "json_schema": {"name": "city", "schema": {"type": "object",
                "properties": {"name": {"type": "string"}}, "required": ["name"]}}}})))
        .unwrap()
        .unwrap();
        assert_eq!(
            format.check("```json\n{\"name\": \"Oslo\"}\n```").unwrap(),
            "{\"name\": \"Oslo\"}"
        );
        assert!(format.check("{\"town\": \"Oslo\"}").is_err());
        assert!(format.check("Oslo").is_err());
    }
}
