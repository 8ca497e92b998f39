//! Provider failures, each with a message a person can act on.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Which way a request failed. Decides whether it may be retried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ErrorKind {
    /// The server answered with a non-success status.
    Http { status: u16 },
    /// Could not connect (refused, DNS, TLS).
    Connect,
    /// No response bytes within the first-byte timeout.
    FirstByteTimeout,
    /// The stream went quiet for longer than the idle timeout.
    IdleTimeout,
    /// The server reported an error inside the stream.
    Upstream { code: Option<String> },
    /// The connection closed before the stream was complete.
    Dropped,
    /// The response was not a chat-completions stream.
    Protocol,
    /// The request was cancelled.
    Cancelled,
    /// Misconfiguration found before any request (missing key, bad URL).
    Config,
    /// The answer passed the run's cap on one seat's text; what came
    /// before the cap is kept.
    TooLong,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
#[error("{message}")]
pub struct ProviderError {
    pub kind: ErrorKind,
    pub message: String,
    /// From a `Retry-After` header, when the server sent one.
    #[serde(skip)]
    pub(crate) retry_after: Option<Duration>,
}

impl ProviderError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            retry_after: None,
        }
    }

    pub(crate) fn cancelled() -> Self {
        Self::new(ErrorKind::Cancelled, "cancelled")
    }

    pub fn is_cancelled(&self) -> bool {
        self.kind == ErrorKind::Cancelled
    }

    /// Failures another model might not have: an unknown or unserved model,
    /// no credits, rate limits and server errors (after the retries), a
    /// server that never answered. Only ever acted on before the first byte.
    pub(crate) fn another_model_may_fix(&self) -> bool {
        match self.kind {
            ErrorKind::Http { status } => matches!(status, 402 | 404 | 408 | 429 | 500..=599),
            ErrorKind::Connect | ErrorKind::FirstByteTimeout => true,
            _ => false,
        }
    }

    /// Failures that may succeed on a second try, before any byte arrived.
    pub(crate) fn is_retryable(&self) -> bool {
        match self.kind {
            ErrorKind::Http { status } => matches!(status, 408 | 429 | 500 | 502 | 503 | 504 | 529),
            ErrorKind::Connect | ErrorKind::FirstByteTimeout => true,
            _ => false,
        }
    }

    /// Builds the error for an HTTP status, with the server's own message
    /// (from an OpenAI-style error body when there is one) and a hint.
    pub(crate) fn from_status(status: u16, body: &str, key_env: Option<&str>, model: &str) -> Self {
        let detail = error_body_message(body);
        let what = match status {
            400 => "bad request".to_string(),
            401 => match key_env {
                Some(var) => {
                    format!("authentication failed: the API key in {var} is missing or invalid")
                }
                None => "authentication failed: this endpoint needs an API key (set --api-key-env)"
                    .to_string(),
            },
            402 => "payment required: the account has no credits left".to_string(),
            403 => {
                "forbidden: the key may not use this model, or the input was flagged".to_string()
            }
            404 => format!("not found: unknown model `{model}` or wrong base URL"),
            408 => "the server timed out waiting for the request".to_string(),
            429 => "rate limited".to_string(),
            500..=599 => "server error".to_string(),
            _ => "unexpected status".to_string(),
        };
        let message = match detail {
            Some(d) if !d.is_empty() => format!("HTTP {status}: {what} ({d})"),
            _ => format!("HTTP {status}: {what}"),
        };
        Self::new(ErrorKind::Http { status }, message)
    }
}

/// `{"error": {"message": ...}}` (OpenAI, OpenRouter), `{"error": "..."}`
/// (Ollama, llama.cpp) or a short plain-text body.
fn error_body_message(body: &str) -> Option<String> {
    let body = body.trim();
    if body.is_empty() {
        return None;
    }
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(body) {
        let err = value.get("error").unwrap_or(&value);
        if let Some(s) = err.as_str() {
            return Some(s.to_string());
        }
        if let Some(s) = err.get("message").and_then(|m| m.as_str()) {
            return Some(s.to_string());
        }
        return None;
    }
    let first_line = body.lines().next().unwrap_or_default();
    Some(first_line.chars().take(200).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_messages_name_the_cause() {
        let e = ProviderError::from_status(
            401,
            r#"{"error":{"message":"No auth credentials found","code":401}}"#,
            Some("OPENROUTER_API_KEY"),
            "m",
        );
        assert_eq!(
            e.message,
            "HTTP 401: authentication failed: the API key in OPENROUTER_API_KEY is missing or invalid (No auth credentials found)"
        );
        let e = ProviderError::from_status(404, r#"{"error":"model 'x' not found"}"#, None, "x");
        assert_eq!(
            e.message,
            "HTTP 404: not found: unknown model `x` or wrong base URL (model 'x' not found)"
        );
        let e = ProviderError::from_status(502, "", None, "m");
        assert_eq!(e.message, "HTTP 502: server error");
        assert!(e.is_retryable());
        assert!(!ProviderError::from_status(402, "", None, "m").is_retryable());
    }

    #[test]
    fn retry_policy_backs_off_with_cap_and_honours_retry_after() {
        let p = RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        for attempt in 0..10 {
            let d = p.delay(attempt, None);
            let window = Duration::from_millis(100)
                .saturating_mul(1 << attempt.min(16))
                .min(Duration::from_secs(1));
            assert!(
                d >= window / 2 && d <= window,
                "attempt {attempt}: {d:?} outside {window:?}"
            );
        }
        assert_eq!(
            p.delay(0, Some(Duration::from_millis(300))),
            Duration::from_millis(300)
        );
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(30))),
            Duration::from_secs(1)
        );
    }

    use crate::provider::RetryPolicy;
}
