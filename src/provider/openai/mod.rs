//! Client for OpenAI-compatible chat-completions endpoints: OpenRouter,
//! OpenAI, Ollama, llama.cpp server, vLLM, LM Studio.

pub(crate) mod frame;
pub mod models;
pub mod sse;

use std::fmt;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::{Stream, StreamExt};
use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use serde_json::json;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::provider::{
    ChatRequest, Completion, Delta, DeltaSink, ErrorKind, Provider, ProviderError, RetryPolicy,
    Timeouts,
};
use sse::StreamItem;

/// An API key. Never printed: `Debug` shows only whether one is set.
#[derive(Clone, Default)]
pub struct ApiKey(Option<String>);

impl ApiKey {
    pub fn new(key: Option<String>) -> Self {
        Self(key.filter(|k| !k.trim().is_empty()))
    }
    pub fn is_set(&self) -> bool {
        self.0.is_some()
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "ApiKey(set)"
        } else {
            "ApiKey(none)"
        })
    }
}

/// Settings of one OpenAI-compatible endpoint.
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    /// Name used in messages, e.g. `openrouter`.
    pub name: String,
    /// Up to and including the version segment, e.g. `https://openrouter.ai/api/v1`.
    pub base_url: String,
    pub api_key: ApiKey,
    /// The environment variable the key came from, named in 401 messages.
    pub api_key_env: Option<String>,
    /// Whether to send `response_format` with a JSON schema when asked for one.
    pub structured_output: bool,
    /// Whether to send OpenRouter's app attribution headers; on for OpenRouter's host.
    pub attribution: bool,
    pub timeouts: Timeouts,
    pub retry: RetryPolicy,
}

impl OpenAiConfig {
    pub fn new(name: impl Into<String>, base_url: impl Into<String>) -> Self {
        let base_url = base_url.into();
        Self {
            name: name.into(),
            attribution: is_openrouter(&base_url),
            base_url,
            api_key: ApiKey::default(),
            api_key_env: None,
            structured_output: true,
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
        }
    }
}

/// Whether a base URL is OpenRouter's, by host.
pub(crate) fn is_openrouter(base_url: &str) -> bool {
    reqwest::Url::parse(base_url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| h == "openrouter.ai" || h.ends_with(".openrouter.ai"))
        })
        .unwrap_or(false)
}

/// A streaming chat-completions client for one endpoint.
#[derive(Debug, Clone)]
pub struct OpenAiProvider {
    config: OpenAiConfig,
    http: reqwest::Client,
}

impl OpenAiProvider {
    pub fn new(config: OpenAiConfig) -> Result<Self, ProviderError> {
        let shown = crate::sanitize::url_without_userinfo(&config.base_url);
        let url = reqwest::Url::parse(&config.base_url).map_err(|e| {
            ProviderError::new(
                ErrorKind::Config,
                format!("invalid base URL `{shown}`: {e}"),
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ProviderError::new(
                ErrorKind::Config,
                format!(
                    "invalid base URL `{shown}`: the scheme is {}, and only http and https are spoken",
                    url.scheme()
                ),
            ));
        }
        let mut headers = HeaderMap::new();
        if config.attribution {
            // OpenRouter's app attribution.
            headers.insert("X-Title", HeaderValue::from_static("council"));
            headers.insert("HTTP-Referer", HeaderValue::from_static(APP_REFERER));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(config.timeouts.connect)
            .default_headers(headers)
            .user_agent(concat!("council/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                ProviderError::new(ErrorKind::Config, format!("cannot build HTTP client: {e}"))
            })?;
        Ok(Self { config, http })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.config.base_url.trim_end_matches('/'))
    }

    fn authorized(&self, builder: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.config.api_key.0 {
            Some(key) => builder.bearer_auth(key),
            None => builder,
        }
    }

    fn body(&self, request: &ChatRequest) -> serde_json::Value {
        let mut body = json!({
            "model": request.model,
            "messages": request.messages,
            "stream": true,
            "stream_options": { "include_usage": true },
        });
        if let Some(t) = request.temperature {
            body["temperature"] = json!(t);
        }
        if let Some(m) = request.max_tokens {
            body["max_tokens"] = json!(m);
        }
        // Web search is OpenRouter's plugin; the config check keeps it off elsewhere.
        if request.web_search && is_openrouter(&self.config.base_url) {
            body["plugins"] = json!([{ "id": "web" }]);
        }
        if let (Some(schema), true) = (&request.json_schema, self.config.structured_output) {
            let strict = schema.kind == crate::provider::SchemaKind::Strict;
            body["response_format"] = match schema.kind {
                crate::provider::SchemaKind::AnyObject => json!({"type": "json_object"}),
                _ => json!({
                    "type": "json_schema",
                    "json_schema": { "name": schema.name, "strict": strict, "schema": schema.schema },
                }),
            };
        }
        body
    }

    /// Sends the request, retrying failures that happen before any response
    /// byte. Returns the successful response with its first-byte deadline.
    async fn send_with_retries(
        &self,
        request: &ChatRequest,
        cancel: &CancellationToken,
        sink: &mut (dyn FnMut(Delta) + Send),
    ) -> Result<(reqwest::Response, Instant), ProviderError> {
        let body = self.body(request);
        let mut attempt = 0;
        // The first-byte timeout bounds the whole wait, retries included.
        // (Timeouts are bounded when parsed; checked all the same.)
        let deadline = Instant::now()
            .checked_add(self.config.timeouts.first_byte)
            .unwrap_or_else(|| {
                Instant::now() + Duration::from_secs(crate::provider::MAX_TIMEOUT_S)
            });
        loop {
            tracing::debug!(url = %crate::sanitize::url_without_userinfo(&self.url("chat/completions")), model = %request.model, attempt, "chat request");
            let send = self
                .authorized(self.http.post(self.url("chat/completions")))
                .json(&body)
                .send();
            let result = tokio::select! {
                _ = cancel.cancelled() => return Err(ProviderError::cancelled()),
                r = tokio::time::timeout_at(deadline, send) => r,
            };
            let tries = attempt + 1;
            let error = match result {
                Err(_) => first_byte_timeout(self.config.timeouts.first_byte, tries),
                Ok(Err(e)) => transport_error(e),
                Ok(Ok(response)) if response.status().is_success() => {
                    return Ok((response, deadline));
                }
                Ok(Ok(response)) => self.status_error(response, &request.model, cancel).await?,
            };
            if !error.is_retryable() || attempt >= self.config.retry.max_retries {
                return Err(error);
            }
            let delay = self.config.retry.delay(attempt, error.retry_after);
            if Instant::now() + delay >= deadline {
                // No time left for another try before the first-byte deadline.
                return Err(match error.kind {
                    ErrorKind::FirstByteTimeout => error,
                    _ => ProviderError {
                        message: format!(
                            "{} ({tries} tries within the first-byte timeout)",
                            error.message
                        ),
                        ..error
                    },
                });
            }
            tracing::info!(
                model = %request.model,
                tries,
                delay_ms = delay.as_millis() as u64,
                kind = ?error.kind,
                error = %crate::sanitize::sanitize(&crate::sanitize::redact(&error.message, self.config.api_key.0.as_deref())),
                "retrying"
            );
            // The seat says it is retrying, and why, while it waits.
            sink(Delta::Retrying {
                tries,
                of: self.config.retry.max_retries + 1,
                error: crate::sanitize::redact(&error.message, self.config.api_key.0.as_deref()),
            });
            attempt += 1;
            tokio::select! {
                _ = cancel.cancelled() => return Err(ProviderError::cancelled()),
                _ = tokio::time::sleep(delay) => {}
            }
        }
    }

    /// Reads an error response's body (briefly) and turns it into an error.
    async fn status_error(
        &self,
        response: reqwest::Response,
        model: &str,
        cancel: &CancellationToken,
    ) -> Result<ProviderError, ProviderError> {
        let status = response.status().as_u16();
        let retry_after = parse_retry_after(response.headers().get(RETRY_AFTER));
        let body = tokio::select! {
            _ = cancel.cancelled() => return Err(ProviderError::cancelled()),
            b = tokio::time::timeout(Duration::from_secs(5), response.text()) => b.ok().and_then(Result::ok).unwrap_or_default(),
        };
        let mut error =
            ProviderError::from_status(status, &body, self.config.api_key_env.as_deref(), model);
        error.retry_after = retry_after;
        Ok(error)
    }

    async fn chat(
        &self,
        request: &ChatRequest,
        cancel: CancellationToken,
        sink: DeltaSink<'_>,
    ) -> Result<Completion, ProviderError> {
        let (response, first_byte_deadline) =
            self.send_with_retries(request, &cancel, &mut *sink).await?;
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if content_type.starts_with("text/html") {
            // A web page (a proxy's, a login's, a wrong path's): say so
            // instead of reading it as a stream that never starts.
            return Err(ProviderError::new(
                ErrorKind::Protocol,
                format!(
                    "the server answered with a web page (text/html), not a chat stream: is the base URL the API's (often ending in /v1)? ({})",
                    crate::sanitize::url_without_userinfo(&self.config.base_url)
                ),
            ));
        }
        let whole = content_type.starts_with("application/json");
        if whole {
            // A server that ignores `stream: true` answers with one
            // completion: taken as a stream of one chunk.
            return self
                .whole_completion(response, first_byte_deadline, cancel, sink)
                .await;
        }
        let body = timed_body(
            response.bytes_stream(),
            first_byte_deadline,
            self.config.timeouts,
        );
        let mut items = std::pin::pin!(sse::decode(body));
        let mut completion = Completion::default();
        // The idle timeout counts content, not bytes: a server that sends
        // only keep-alive comments is as stalled as a silent one.
        let idle = self.config.timeouts.idle;
        let mut stalled_at = first_byte_deadline.max(Instant::now() + idle);
        loop {
            let item = tokio::select! {
                // Returning drops the response body, which closes the connection.
                _ = cancel.cancelled() => return Err(ProviderError::cancelled()),
                _ = tokio::time::sleep_until(stalled_at) => {
                    return Err(BodyFault::IdleTimeout(idle).into());
                }
                item = items.next() => item,
            };
            if matches!(&item, Some(Ok(StreamItem::Chunk(c))) if c.is_progress()) {
                stalled_at = Instant::now() + idle;
            }
            match item {
                None if completion.finish_reason.is_some() => return Ok(completion),
                None => {
                    return Err(ProviderError::new(
                        ErrorKind::Dropped,
                        "connection closed before the stream finished",
                    ));
                }
                Some(Err(e)) => return Err(e),
                Some(Ok(StreamItem::Done)) => return Ok(completion),
                Some(Ok(StreamItem::Malformed)) => completion.malformed_events += 1,
                Some(Ok(StreamItem::Error { code, message })) => {
                    let message = match &code {
                        Some(code) => format!("upstream error ({code}): {message}"),
                        None => format!("upstream error: {message}"),
                    };
                    return Err(ProviderError::new(ErrorKind::Upstream { code }, message));
                }
                Some(Ok(StreamItem::Chunk(chunk))) => {
                    if let Some(reasoning) = chunk.reasoning {
                        sink(Delta::Reasoning(reasoning));
                    }
                    if let Some(text) = chunk.text {
                        sink(Delta::Text(text));
                    }
                    if let Some(usage) = chunk.usage {
                        completion.usage = usage;
                    }
                    if let Some(reason) = chunk.finish_reason {
                        if reason == "error" {
                            return Err(ProviderError::new(
                                ErrorKind::Upstream { code: None },
                                "upstream error: the stream ended with finish_reason \"error\"",
                            ));
                        }
                        completion.finish_reason = Some(reason);
                    }
                }
            }
        }
    }
}

/// The most a whole (non-streamed) completion may hold.
const MAX_COMPLETION_BYTES: usize = 16 << 20;

impl OpenAiProvider {
    async fn whole_completion(
        &self,
        response: reqwest::Response,
        first_byte_deadline: Instant,
        cancel: CancellationToken,
        sink: DeltaSink<'_>,
    ) -> Result<Completion, ProviderError> {
        let body = timed_body(
            response.bytes_stream(),
            first_byte_deadline,
            self.config.timeouts,
        );
        let mut body = std::pin::pin!(body);
        let mut bytes = Vec::new();
        loop {
            let next = tokio::select! {
                _ = cancel.cancelled() => return Err(ProviderError::cancelled()),
                next = body.next() => next,
            };
            match next {
                None => break,
                Some(Err(fault)) => return Err(fault.into()),
                Some(Ok(chunk)) => {
                    bytes.extend_from_slice(&chunk);
                    if bytes.len() > MAX_COMPLETION_BYTES {
                        return Err(ProviderError::new(
                            ErrorKind::Protocol,
                            format!("the completion is over {} MiB", MAX_COMPLETION_BYTES >> 20),
                        ));
                    }
                }
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        match sse::interpret(&text) {
            StreamItem::Chunk(chunk) => {
                if let Some(reasoning) = chunk.reasoning {
                    sink(Delta::Reasoning(reasoning));
                }
                if let Some(text) = chunk.text {
                    sink(Delta::Text(text));
                }
                Ok(Completion {
                    finish_reason: chunk.finish_reason.or(Some("stop".into())),
                    usage: chunk.usage.unwrap_or_default(),
                    malformed_events: 0,
                })
            }
            StreamItem::Error { code, message } => Err(ProviderError::new(
                ErrorKind::Upstream { code },
                format!("upstream error: {message}"),
            )),
            StreamItem::Done | StreamItem::Malformed => Err(ProviderError::new(
                ErrorKind::Protocol,
                "the server answered with JSON that is not a chat completion",
            )),
        }
    }
}

const APP_REFERER: &str = match option_env!("CARGO_PKG_HOMEPAGE") {
    Some(url) if !url.is_empty() => url,
    _ => "council",
};

impl OpenAiProvider {
    /// An error whose text may echo what was sent, with secrets removed
    /// before it is stored, printed or drawn.
    fn redacted(&self, mut e: ProviderError) -> ProviderError {
        e.message = crate::sanitize::redact(&e.message, self.config.api_key.0.as_deref());
        e
    }
}

impl Provider for OpenAiProvider {
    fn list_models(&self) -> BoxFuture<'_, Result<Vec<crate::provider::ModelInfo>, ProviderError>> {
        Box::pin(async move {
            OpenAiProvider::list_models(self)
                .await
                .map_err(|e| self.redacted(e))
        })
    }

    fn name(&self) -> &str {
        &self.config.name
    }

    fn stream_chat<'a>(
        &'a self,
        request: &'a ChatRequest,
        cancel: CancellationToken,
        sink: DeltaSink<'a>,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        Box::pin(async move {
            self.chat(request, cancel, sink)
                .await
                .map_err(|e| self.redacted(e))
        })
    }
}

/// Why the body stream ended early.
#[derive(Debug)]
enum BodyFault {
    FirstByteTimeout(Duration),
    IdleTimeout(Duration),
    Transport(reqwest::Error),
}

impl From<BodyFault> for ProviderError {
    fn from(fault: BodyFault) -> Self {
        match fault {
            BodyFault::FirstByteTimeout(limit) => first_byte_timeout(limit, 1),
            BodyFault::IdleTimeout(limit) => ProviderError::new(
                ErrorKind::IdleTimeout,
                format!(
                    "the stream stalled: no content for {}s (keep-alive comments do not count)",
                    limit.as_secs_f32()
                ),
            ),
            BodyFault::Transport(e) => ProviderError::new(
                ErrorKind::Dropped,
                format!("connection lost mid-stream: {}", error_chain(&e)),
            ),
        }
    }
}

/// The body's byte chunks, with the first-byte deadline and the idle
/// timeout applied to raw reads (a silent socket); the stream's reader
/// applies the idle timeout to content as well.
fn timed_body(
    body: impl Stream<Item = reqwest::Result<bytes::Bytes>> + Send + 'static,
    first_byte_deadline: Instant,
    timeouts: Timeouts,
) -> impl Stream<Item = Result<bytes::Bytes, BodyFault>> {
    let body = Box::pin(body);
    futures::stream::unfold(Some((body, true)), move |state| async move {
        let (mut body, first) = state?;
        let next = if first {
            tokio::time::timeout_at(first_byte_deadline, body.next()).await
        } else {
            tokio::time::timeout(timeouts.idle, body.next()).await
        };
        match next {
            Err(_) if first => Some((Err(BodyFault::FirstByteTimeout(timeouts.first_byte)), None)),
            Err(_) => Some((Err(BodyFault::IdleTimeout(timeouts.idle)), None)),
            Ok(None) => None,
            Ok(Some(Err(e))) => Some((Err(BodyFault::Transport(e)), None)),
            Ok(Some(Ok(bytes))) => Some((Ok(bytes), Some((body, false)))),
        }
    })
}

fn first_byte_timeout(limit: Duration, tries: u32) -> ProviderError {
    let tries = if tries > 1 {
        format!(", {tries} tries")
    } else {
        String::new()
    };
    ProviderError::new(
        ErrorKind::FirstByteTimeout,
        format!(
            "no response within {}s (first-byte timeout{tries})",
            limit.as_secs_f32()
        ),
    )
}

fn transport_error(e: reqwest::Error) -> ProviderError {
    let kind = if e.is_connect() {
        ErrorKind::Connect
    } else {
        ErrorKind::Dropped
    };
    let what = if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    ProviderError::new(kind, format!("{what}: {}", error_chain(&e)))
}

/// reqwest's top-level message hides the cause ("error sending request");
/// the person needs the innermost one ("Connection refused").
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    // Strip the URL reqwest appends, which may carry query secrets.
    let text_of = |e: &dyn std::error::Error| {
        e.to_string()
            .split(" for url (")
            .next()
            .unwrap_or_default()
            .to_string()
    };
    let mut parts = vec![text_of(e)];
    let mut source = e.source();
    while let Some(s) = source {
        let text = text_of(s);
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// `Retry-After` as delay-seconds (HTTP dates are rare from these APIs and
/// fall back to backoff).
/// `Retry-After` as seconds or as an HTTP date (RFC 9110 allows both);
/// a date in the past means now. At most a day: a longer wait is a bad header.
fn parse_retry_after(value: Option<&HeaderValue>) -> Option<Duration> {
    const MOST: f64 = 86_400.0;
    let text = value?.to_str().ok()?.trim();
    if let Ok(secs) = text.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(MOST)));
    }
    let at = httpdate::parse_http_date(text).ok()?;
    let wait = at
        .duration_since(std::time::SystemTime::now())
        .unwrap_or(Duration::ZERO);
    Some(wait.min(Duration::from_secs_f64(MOST)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_read_as_seconds_or_as_a_date() {
        let header = |s: &str| HeaderValue::from_str(s).unwrap();
        assert_eq!(
            parse_retry_after(Some(&header("4"))),
            Some(Duration::from_secs(4))
        );
        let in_four = std::time::SystemTime::now() + Duration::from_secs(4);
        let wait = parse_retry_after(Some(&header(&httpdate::fmt_http_date(in_four)))).unwrap();
        assert!(
            wait > Duration::from_secs(2) && wait <= Duration::from_secs(4),
            "{wait:?}"
        );
        let past = httpdate::fmt_http_date(std::time::UNIX_EPOCH);
        assert_eq!(
            parse_retry_after(Some(&header(&past))),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after(Some(&header("1e30"))),
            Some(Duration::from_secs(86_400))
        );
        assert_eq!(parse_retry_after(Some(&header("soon"))), None);
    }

    #[test]
    fn api_key_is_never_printed() {
        let config = OpenAiConfig {
            api_key: ApiKey::new(Some("sk-or-secret-123".into())),
            ..OpenAiConfig::new("openrouter", "https://openrouter.ai/api/v1")
        };
        let provider = OpenAiProvider::new(config).unwrap();
        let printed = format!("{provider:?}");
        assert!(!printed.contains("sk-or-secret-123"), "{printed}");
        assert!(printed.contains("ApiKey(set)"));
    }

    #[test]
    fn openrouter_is_recognised_by_host() {
        assert!(OpenAiConfig::new("x", "https://openrouter.ai/api/v1").attribution);
        assert!(!OpenAiConfig::new("x", "http://localhost:11434/v1").attribution);
        assert!(!OpenAiConfig::new("x", "https://openrouter.ai.evil.example/v1").attribution);
    }

    #[test]
    fn request_body_carries_schema_only_when_supported() {
        let request = ChatRequest {
            model: "m".into(),
            messages: vec![crate::provider::Message::user("q")],
            temperature: Some(0.0),
            max_tokens: Some(10),
            json_schema: Some(crate::provider::JsonSchema {
                name: "s".into(),
                kind: crate::provider::SchemaKind::Strict,
                schema: json!({"type":"object"}),
            }),
            web_search: false,
        };
        let mut config = OpenAiConfig::new("x", "http://localhost/v1");
        let body = OpenAiProvider::new(config.clone()).unwrap().body(&request);
        assert_eq!(
            body["response_format"]["json_schema"]["schema"],
            json!({"type":"object"})
        );
        assert_eq!(body["stream"], json!(true));
        assert_eq!(body["max_tokens"], json!(10));
        config.structured_output = false;
        let body = OpenAiProvider::new(config).unwrap().body(&request);
        assert!(body.get("response_format").is_none());
    }

    #[test]
    fn web_search_is_the_openrouter_web_plugin() {
        let request = ChatRequest {
            model: "m".into(),
            web_search: true,
            ..ChatRequest::default()
        };
        let openrouter = OpenAiConfig::new("openrouter", "https://openrouter.ai/api/v1");
        let body = OpenAiProvider::new(openrouter).unwrap().body(&request);
        assert_eq!(body["plugins"], json!([{ "id": "web" }]));
        let plain = ChatRequest {
            web_search: false,
            ..request.clone()
        };
        let body = OpenAiProvider::new(OpenAiConfig::new(
            "openrouter",
            "https://openrouter.ai/api/v1",
        ))
        .unwrap()
        .body(&plain);
        assert!(body.get("plugins").is_none());
    }

    #[test]
    fn retry_after_seconds() {
        assert_eq!(
            parse_retry_after(Some(&HeaderValue::from_static("2"))),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            parse_retry_after(Some(&HeaderValue::from_static("0.5"))),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            parse_retry_after(Some(&HeaderValue::from_static(
                "Wed, 21 Oct 2015 07:28:00 GMT"
            ))),
            Some(Duration::ZERO),
            "a date in the past: now"
        );
    }
}
