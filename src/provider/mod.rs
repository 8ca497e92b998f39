//! Model backends behind one trait. The engine streams every chat through
//! [`Provider::stream_chat`] and never knows which backend it talks to.

pub(crate) mod catalog;
pub(crate) mod error;
pub mod local;
pub mod openai;

use std::time::Duration;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

pub use catalog::{Capabilities, ModelInfo, Pricing};
pub use error::{ErrorKind, ProviderError};

/// One message of a chat request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub(crate) role: Role,
    pub(crate) content: String,
}

impl Message {
    pub(crate) fn system(content: impl Into<String>) -> Self {
        Self {
            role: Role::System,
            content: content.into(),
        }
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
        }
    }
    pub(crate) fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Role {
    System,
    User,
    Assistant,
}

/// What a provider is asked to do: one streamed chat completion.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<Message>,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    /// A JSON schema the answer must follow, sent as `response_format` where
    /// the provider supports structured output.
    pub json_schema: Option<JsonSchema>,
    /// Search the web first (OpenRouter's web plugin).
    pub web_search: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct JsonSchema {
    pub(crate) name: String,
    pub(crate) kind: SchemaKind,
    pub(crate) schema: serde_json::Value,
}

/// How strictly an answer must follow its [`JsonSchema`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaKind {
    /// Every property required, no others: enforced by the provider.
    Strict,
    /// The schema as given, not enforced strictly.
    Loose,
    /// Any JSON object (OpenAI's `json_object` mode); `schema` is
    /// `{"type": "object"}` for backends that need one.
    AnyObject,
}

impl JsonSchema {
    /// A client's `response_format`: `json_object`, or `json_schema` with
    /// its own name, schema and strictness.
    pub fn answer_format(name: &str, schema: serde_json::Value, strict: bool) -> Self {
        Self {
            name: name.to_string(),
            kind: if strict {
                SchemaKind::Strict
            } else {
                SchemaKind::Loose
            },
            schema,
        }
    }

    /// The schema itself.
    pub fn schema(&self) -> &serde_json::Value {
        &self.schema
    }

    pub fn any_object() -> Self {
        Self {
            name: "json_object".into(),
            kind: SchemaKind::AnyObject,
            schema: serde_json::json!({"type": "object"}),
        }
    }
}

/// A piece of streamed output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delta {
    Text(String),
    Reasoning(String),
    /// A try failed before any response byte and another follows:
    /// `tries` made of at most `of`, and why the last one failed.
    Retrying {
        tries: u32,
        of: u32,
        error: String,
    },
}

/// Token counts and cost as reported by the provider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// In the provider's currency (USD for OpenRouter); `None` when unreported.
    pub cost: Option<f64>,
}

impl Usage {
    pub(crate) fn add(&mut self, other: &Usage) {
        self.prompt_tokens = self.prompt_tokens.saturating_add(other.prompt_tokens);
        self.completion_tokens = self
            .completion_tokens
            .saturating_add(other.completion_tokens);
        self.cost = match (self.cost, other.cost) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
        };
    }
}

/// Adds up costs. Starts from +0.0: a float sum of nothing is -0.0, which
/// prints as "$-0.0000". A cost that is not a finite amount of at least
/// zero is not money and is left out.
pub fn sum_costs(costs: impl IntoIterator<Item = f64>) -> f64 {
    costs
        .into_iter()
        .filter(|c| is_money(*c))
        .fold(0.0, |total, cost| total + cost)
}

/// A cost that can be summed: finite and not negative.
pub(crate) fn is_money(cost: f64) -> bool {
    cost.is_finite() && cost >= 0.0
}

/// How a completed stream ended.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Completion {
    pub finish_reason: Option<String>,
    pub usage: Usage,
    /// `data:` lines that were not valid chunks and were skipped.
    pub malformed_events: u32,
}

/// Receives deltas as they arrive. Called on the provider's task; keep it cheap.
pub(crate) type DeltaSink<'a> = &'a mut (dyn FnMut(Delta) + Send);

/// A backend that streams chat completions.
pub trait Provider: Send + Sync + std::fmt::Debug {
    /// A short name for messages (`openrouter`, `ollama`, ...).
    fn name(&self) -> &str;

    /// Streams one completion, handing every delta to `sink`. Returns when the
    /// stream ends; on failure the deltas already handed over are the partial
    /// output. Cancelling `cancel` ends the call promptly with
    /// [`ErrorKind::Cancelled`] and closes the connection.
    fn stream_chat<'a>(
        &'a self,
        request: &'a ChatRequest,
        cancel: CancellationToken,
        sink: DeltaSink<'a>,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>>;

    /// What the backend serves, with context lengths and prices where known
    /// (for the model picker and cost estimates).
    fn list_models(&self) -> BoxFuture<'_, Result<Vec<ModelInfo>, ProviderError>>;

    /// What it can do beyond streaming text; a remote endpoint by default.
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }
}

/// The longest timeout (or deadline) council accepts, in seconds: a day.
/// Longer is a typo, and would overflow clock arithmetic near `u64::MAX`.
pub(crate) const MAX_TIMEOUT_S: u64 = 86_400;

/// Timeouts for one request. `first_byte` runs from sending the request until
/// the first body bytes; `idle` is the longest gap allowed between chunks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timeouts {
    pub connect: Duration,
    pub first_byte: Duration,
    pub idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            // Reasoning models can think for a long time before their first token,
            // but OpenRouter sends keep-alive comments meanwhile, which count as bytes.
            first_byte: Duration::from_secs(120),
            idle: Duration::from_secs(90),
        }
    }
}

/// Retries before the first byte of a response: capped exponential backoff with jitter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Delay before retry number `attempt` (0-based): full jitter over an
    /// exponentially growing, capped window, or the server's `Retry-After`
    /// when it gave one (also capped).
    pub(crate) fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(after) = retry_after {
            return after.min(self.max_delay);
        }
        let window = self
            .base_delay
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max_delay);
        let half = window / 2;
        half + window.mul_f64(rand::random::<f64>() * 0.5)
    }
}
