//! The `local` provider: GGUF models run in-process by llama.cpp, behind the
//! same [`Provider`] trait as the HTTP client. A seat's model is
//! `local/<file stem>` (a file in the models dir) or a path to a GGUF file.

#[cfg(feature = "local")]
pub mod engine;

use std::path::PathBuf;

use futures::future::BoxFuture;
use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use crate::models;
use crate::provider::{Capabilities, ModelInfo, Pricing};
use crate::provider::{
    ChatRequest, Completion, DeltaSink, ErrorKind, Message, Provider, ProviderError,
};

/// The provider's name in presets and events.
pub const NAME: &str = "local";

/// A request handed to an engine thread.
pub struct Job {
    pub messages: Vec<Message>,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    /// GBNF the output must follow (from the request's JSON schema).
    pub grammar: Option<String>,
    /// Run the grammar over the whole vocabulary before sampling every
    /// token, as the engine once did, instead of checking the sampled token
    /// first: the same tokens, slower; for comparing the two.
    pub grammar_first: bool,
    pub seed: u32,
    pub events: UnboundedSender<JobEvent>,
    pub cancel: CancellationToken,
}

/// What an engine reports about a job.
#[derive(Debug, Clone, PartialEq)]
pub enum JobEvent {
    Started {
        prompt_tokens: u64,
    },
    Text(String),
    Finished {
        prompt_tokens: u64,
        completion_tokens: u64,
        finish_reason: &'static str,
    },
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct LocalProvider {
    models_dir: Option<PathBuf>,
}

impl LocalProvider {
    pub fn new(models_dir: Option<PathBuf>) -> Self {
        Self { models_dir }
    }

    /// Whether this build carries the embedded engine.
    pub fn available() -> bool {
        cfg!(feature = "local")
    }
}

impl Provider for LocalProvider {
    fn name(&self) -> &str {
        NAME
    }

    /// The GGUF files in the models dir, as `local/<name>`, free.
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            grammar: true,
            free: true,
            batching: true,
        }
    }

    fn list_models(&self) -> BoxFuture<'_, Result<Vec<ModelInfo>, ProviderError>> {
        let dir = self.models_dir.clone();
        Box::pin(async move {
            let Some(dir) = dir else {
                return Ok(Vec::new());
            };
            let listed = tokio::task::spawn_blocking(move || models::list(&dir))
                .await
                .unwrap_or_default();
            Ok(listed
                .into_iter()
                .map(|m| ModelInfo {
                    id: format!("local/{}", m.name),
                    name: None,
                    context_length: m.info.ok().and_then(|i| i.context_length),
                    pricing: Some(Pricing {
                        prompt: Some(0.0),
                        completion: Some(0.0),
                    }),
                })
                .collect())
        })
    }

    fn stream_chat<'a>(
        &'a self,
        request: &'a ChatRequest,
        cancel: CancellationToken,
        sink: DeltaSink<'a>,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        Box::pin(async move {
            let path = models::resolve(&request.model, self.models_dir.as_deref());
            if !path.is_file() {
                let hint = match models::known_for(&request.model) {
                    Some(_) => "run `council models fetch`".to_string(),
                    None => format!(
                        "put a GGUF file there, or set COUNCIL_MODELS_DIR (known models: {})",
                        models::KNOWN
                            .iter()
                            .map(|m| m.name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                return Err(ProviderError::new(
                    ErrorKind::Config,
                    format!("no model file at {}: {hint}", path.display()),
                ));
            }
            stream(path, request, cancel, sink).await
        })
    }
}

#[cfg(not(feature = "local"))]
async fn stream(
    _path: PathBuf,
    _request: &ChatRequest,
    _cancel: CancellationToken,
    _sink: DeltaSink<'_>,
) -> Result<Completion, ProviderError> {
    Err(ProviderError::new(
        ErrorKind::Config,
        "this build of council has no local engine (it was built without the `local` feature)",
    ))
}

#[cfg(feature = "local")]
async fn stream(
    path: PathBuf,
    request: &ChatRequest,
    cancel: CancellationToken,
    sink: DeltaSink<'_>,
) -> Result<Completion, ProviderError> {
    use crate::provider::{Delta, Usage};

    let grammar = request
        .json_schema
        .as_ref()
        .map(|s| engine::grammar_for(&bounded_schema(&s.schema)))
        .transpose()
        .map_err(|e| ProviderError::new(ErrorKind::Config, e))?;
    let engine = engine::shared(&path).map_err(|e| ProviderError::new(ErrorKind::Config, e))?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    // The engine watches a child token: a job abandoned for any reason
    // (cancel, or this future dropped) stops being decoded.
    let job_cancel = cancel.child_token();
    let _stop_on_drop = job_cancel.clone().drop_guard();
    engine.submit(Job {
        messages: request.messages.clone(),
        temperature: request.temperature,
        max_tokens: request.max_tokens,
        grammar,
        grammar_first: false,
        seed: rand::random(),
        events: tx,
        cancel: job_cancel,
    });
    loop {
        let event = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(ProviderError::cancelled()),
            event = rx.recv() => event,
        };
        match event {
            Some(JobEvent::Started { .. }) => {}
            Some(JobEvent::Text(text)) => sink(Delta::Text(text)),
            Some(JobEvent::Finished {
                prompt_tokens,
                completion_tokens,
                finish_reason,
            }) => {
                return Ok(Completion {
                    finish_reason: Some(finish_reason.into()),
                    usage: Usage {
                        prompt_tokens,
                        completion_tokens,
                        cost: Some(0.0),
                    },
                    malformed_events: 0,
                });
            }
            Some(JobEvent::Failed(message)) => {
                return Err(ProviderError::new(
                    ErrorKind::Upstream { code: None },
                    message,
                ));
            }
            None => {
                return Err(ProviderError::new(
                    ErrorKind::Dropped,
                    "the local engine stopped",
                ));
            }
        }
    }
}

/// Most items a grammar-constrained array may hold (a list of labels may
/// hold each label once).
const MAX_ITEMS: u64 = 2;
/// Quotes backing an item: one is evidence enough.
const MAX_QUOTES: u64 = 1;
/// Longest string a grammar-constrained value may be.
const MAX_LENGTH: u64 = 80;

/// The schema with every array and string bounded, so a small model under
/// the grammar finishes its JSON within its token budget instead of being
/// cut off mid-document (worst case for the judge's schema: ~3 KB).
pub fn bounded_schema(schema: &Value) -> Value {
    let mut out = schema.clone();
    bound(&mut out, "");
    out
}

fn bound(v: &mut Value, key: &str) {
    match v {
        Value::Object(map) => {
            match map.get("type").and_then(Value::as_str) {
                Some("array") if !map.contains_key("maxItems") => {
                    let choices = map
                        .get("items")
                        .and_then(|i| i.get("enum"))
                        .and_then(Value::as_array)
                        .map(|e| e.len() as u64);
                    let max = match (key, choices) {
                        ("quotes", _) => MAX_QUOTES,
                        (_, Some(n)) => n.max(1),
                        _ => MAX_ITEMS,
                    };
                    map.insert("maxItems".into(), max.into());
                }
                Some("string") if !map.contains_key("maxLength") && !map.contains_key("enum") => {
                    map.insert("maxLength".into(), MAX_LENGTH.into());
                }
                _ => {}
            }
            for (k, child) in map.iter_mut() {
                // Inside `properties`, the keys are the property names.
                let name = if k == "properties" || k == "items" {
                    key
                } else {
                    k
                };
                bound(child, name);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| bound(i, key)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts bounded arrays and strings by kind, checking each bound.
    /// `seen`: arrays of quotes, arrays of labels, other arrays, free strings.
    fn check(v: &Value, key: &str, seen: &mut [usize; 4]) {
        match v {
            Value::Object(map) => {
                match map.get("type").and_then(Value::as_str) {
                    Some("array") if key == "quotes" => {
                        assert_eq!(map["maxItems"], MAX_QUOTES);
                        seen[0] += 1;
                    }
                    Some("array") if key == "labels" => {
                        assert_eq!(map["maxItems"], 3, "each label once");
                        seen[1] += 1;
                    }
                    Some("array") => {
                        assert_eq!(map["maxItems"], MAX_ITEMS, "{key}");
                        seen[2] += 1;
                    }
                    Some("string") if map.contains_key("enum") => {
                        assert!(!map.contains_key("maxLength"));
                    }
                    Some("string") => {
                        assert_eq!(map["maxLength"], MAX_LENGTH, "{key}");
                        seen[3] += 1;
                    }
                    _ => {}
                }
                for (k, child) in map {
                    let name = if k == "properties" || k == "items" {
                        key
                    } else {
                        k
                    };
                    check(child, name, seen);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| check(i, key, seen)),
            _ => {}
        }
    }

    #[test]
    fn every_array_and_string_of_the_judge_schema_is_bounded() {
        let labels: Vec<String> = ["A", "B", "C"].map(String::from).to_vec();
        let schema = bounded_schema(&crate::engine::judge::schema(&labels).schema);
        let mut seen = [0; 4];
        check(&schema, "", &mut seen);
        // Four kinds of finding and the stances each have quotes and labels;
        // five sections plus the stances are other arrays; point (x4),
        // topic, stance and every quote are free strings.
        assert_eq!(seen[0], 5, "{seen:?}");
        assert_eq!(seen[1], 5, "{seen:?}");
        assert_eq!(seen[2], 6, "{seen:?}");
        assert_eq!(seen[3], 11, "{seen:?}");
    }
}
