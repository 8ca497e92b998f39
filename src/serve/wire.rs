//! OpenAI's chat-completions shapes, as much of them as a council serves:
//! the request it reads, the completion and chunks it writes, the errors.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::provider::Usage;

/// A chat-completions request. Sampling fields a council decides for
/// itself (temperature, top_p, ...) are accepted and ignored; what it cannot
/// do (tools, several choices, log probabilities) is refused (see
/// [`super::params`]).
#[derive(Debug, Deserialize)]
pub(crate) struct ChatRequest {
    pub(crate) model: String,
    pub(crate) messages: Vec<WireMessage>,
    #[serde(default)]
    pub(crate) stream: bool,
    #[serde(default)]
    pub(crate) n: Option<u32>,
    #[serde(default)]
    pub(crate) tools: Option<Value>,
    #[serde(default)]
    pub(crate) tool_choice: Option<Value>,
    #[serde(default)]
    pub(crate) logprobs: Option<bool>,
    #[serde(default)]
    pub(crate) top_logprobs: Option<u32>,
    #[serde(default)]
    pub(crate) response_format: Option<Value>,
    /// Bounds the synthesis (members write what their preset allows).
    #[serde(default)]
    pub(crate) max_tokens: Option<u32>,
    #[serde(default)]
    pub(crate) max_completion_tokens: Option<u32>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireMessage {
    pub(crate) role: String,
    #[serde(default)]
    pub(crate) content: Content,
}

/// A message's content: a string, or parts of which the text ones count.
#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
pub(crate) enum Content {
    Text(String),
    Parts(Vec<Value>),
    #[default]
    Null,
}

impl Content {
    pub(crate) fn text(&self) -> String {
        match self {
            Self::Text(t) => t.clone(),
            Self::Parts(parts) => parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n"),
            Self::Null => String::new(),
        }
    }
}

/// An error in OpenAI's shape, with its HTTP status.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
    pub(crate) kind: &'static str,
    pub(crate) code: &'static str,
    /// Seconds, for a 429.
    pub(crate) retry_after: Option<u64>,
}

impl ApiError {
    pub(crate) fn new(
        status: StatusCode,
        kind: &'static str,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            message: message.into(),
            kind,
            code,
            retry_after: None,
        }
    }

    pub(crate) fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            code,
            message,
        )
    }

    /// The body, also sent as the last event of a stream that fails.
    pub(crate) fn body(&self) -> Value {
        json!({"error": {"message": self.message, "type": self.kind, "code": self.code}})
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        let headers = response.headers_mut();
        if let Some(seconds) = self.retry_after {
            headers.insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        // A council that ran and failed would fail again and cost again:
        // only a full server invites the SDKs' automatic retries.
        let retry = self.status == StatusCode::TOO_MANY_REQUESTS;
        headers.insert(
            "x-should-retry",
            axum::http::HeaderValue::from_static(if retry { "true" } else { "false" }),
        );
        response
    }
}

/// `usage` as OpenAI clients read it, with OpenRouter's `cost`.
pub(crate) fn usage(u: &Usage) -> Value {
    let mut v = json!({
        "prompt_tokens": u.prompt_tokens,
        "completion_tokens": u.completion_tokens,
        "total_tokens": u.prompt_tokens + u.completion_tokens,
    });
    if let Some(cost) = u.cost {
        v["cost"] = json!(cost);
    }
    v
}

/// One `chat.completion.chunk` with `delta`.
pub(crate) fn chunk(
    id: &str,
    created: u64,
    model: &str,
    delta: Value,
    finish: Option<&str>,
) -> Value {
    json!({
        "id": id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    })
}
