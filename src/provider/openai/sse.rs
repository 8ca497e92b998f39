//! Decoding a chat-completions SSE body into stream items.
//!
//! Framing is [`super::frame`]'s (events and UTF-8 sequences split
//! anywhere across reads, any line ending, comments, a size cap); this
//! module interprets each event's `data`.

use futures::{Stream, StreamExt};
use serde::Deserialize;

use super::frame::Framer;
use crate::provider::{ErrorKind, ProviderError, Usage};

/// What one SSE event means for a chat completion.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamItem {
    /// A chunk: any of text, reasoning, finish reason and usage.
    Chunk(Chunk),
    /// `data: [DONE]`.
    Done,
    /// An error object sent inside the stream.
    Error {
        code: Option<String>,
        message: String,
    },
    /// A `data:` payload that is not a chat-completions chunk; skipped.
    Malformed,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chunk {
    pub text: Option<String>,
    pub reasoning: Option<String>,
    pub finish_reason: Option<String>,
    pub usage: Option<Usage>,
}

impl Chunk {
    /// Whether the chunk moves the answer on (text, reasoning, the end, the
    /// usage); an empty delta or a role alone is no more than a keep-alive.
    pub(crate) fn is_progress(&self) -> bool {
        let some = |t: &Option<String>| t.as_ref().is_some_and(|t| !t.is_empty());
        some(&self.text)
            || some(&self.reasoning)
            || self.finish_reason.is_some()
            || self.usage.is_some()
    }
}

#[derive(Deserialize)]
struct RawChunk {
    #[serde(default)]
    choices: Vec<RawChoice>,
    #[serde(default)]
    usage: Option<RawUsage>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawChoice {
    /// `message` in a whole (non-streamed) completion.
    #[serde(default, alias = "message")]
    delta: Option<RawDelta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct RawDelta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    reasoning: Option<String>,
    #[serde(default)]
    reasoning_content: Option<String>,
}

#[derive(Deserialize)]
struct RawUsage {
    // Read loosely: one unreadable field (a negative count, a NaN cost)
    // loses that field, not the chunk or the others.
    #[serde(default)]
    prompt_tokens: Option<serde_json::Value>,
    #[serde(default)]
    completion_tokens: Option<serde_json::Value>,
    #[serde(default)]
    cost: Option<serde_json::Value>,
}

impl RawUsage {
    fn usage(self) -> Usage {
        let count = |v: Option<serde_json::Value>, what: &str| match v {
            None | Some(serde_json::Value::Null) => 0,
            Some(v) => v.as_u64().unwrap_or_else(|| {
                tracing::warn!("unreadable {what} in the usage ({v}): not counted");
                0
            }),
        };
        let cost = match self.cost {
            None | Some(serde_json::Value::Null) => None,
            Some(v) => match v.as_f64().filter(|c| crate::provider::is_money(*c)) {
                Some(c) => Some(c),
                None => {
                    tracing::warn!("unreadable cost in the usage ({v}): not counted");
                    None
                }
            },
        };
        Usage {
            prompt_tokens: count(self.prompt_tokens, "prompt_tokens"),
            completion_tokens: count(self.completion_tokens, "completion_tokens"),
            cost,
        }
    }
}

/// Interprets one event's `data` field.
pub(crate) fn interpret(data: &str) -> StreamItem {
    let data = data.trim();
    if data == "[DONE]" {
        return StreamItem::Done;
    }
    let raw: RawChunk = match serde_json::from_str(data) {
        Ok(raw) => raw,
        Err(_) => return StreamItem::Malformed,
    };
    if let Some(err) = raw.error {
        return stream_error(&err);
    }
    let mut chunk = Chunk {
        usage: raw.usage.map(RawUsage::usage),
        ..Chunk::default()
    };
    // Chat completions with n = 1: the first choice is the answer.
    if let Some(choice) = raw.choices.into_iter().next() {
        chunk.finish_reason = choice.finish_reason;
        if let Some(delta) = choice.delta {
            chunk.text = delta.content.filter(|s| !s.is_empty());
            chunk.reasoning = delta
                .reasoning
                .or(delta.reasoning_content)
                .filter(|s| !s.is_empty());
        }
    }
    StreamItem::Chunk(chunk)
}

fn stream_error(err: &serde_json::Value) -> StreamItem {
    let message = err
        .get("message")
        .and_then(|m| m.as_str())
        .or_else(|| err.as_str())
        .unwrap_or("the server reported an error mid-stream")
        .to_string();
    let code = err.get("code").and_then(|c| match c {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    });
    StreamItem::Error { code, message }
}

/// Decodes a body (a stream of byte chunks as read from the network) into
/// stream items. Transport errors, and an event over
/// [`MAX_EVENT_BYTES`](super::frame::MAX_EVENT_BYTES), end the stream as `Err`.
pub fn decode<S, B, E>(body: S) -> impl Stream<Item = Result<StreamItem, ProviderError>>
where
    S: Stream<Item = Result<B, E>>,
    B: AsRef<[u8]>,
    E: Into<ProviderError>,
{
    struct State<S> {
        body: std::pin::Pin<Box<S>>,
        framer: Framer,
        ready: std::collections::VecDeque<String>,
        ended: bool,
    }
    let state = State {
        body: Box::pin(body),
        framer: Framer::default(),
        ready: Default::default(),
        ended: false,
    };
    futures::stream::unfold(state, |mut st| async move {
        loop {
            if let Some(data) = st.ready.pop_front() {
                return Some((Ok(interpret(&data)), st));
            }
            if st.ended {
                return None;
            }
            let mut out = Vec::new();
            match st.body.next().await {
                Some(Ok(bytes)) => {
                    if st.framer.push(bytes.as_ref(), &mut out).is_err() {
                        st.ended = true;
                        let error = ProviderError::new(
                            ErrorKind::Protocol,
                            format!(
                                "an event over {} MiB: the stream is not read further",
                                super::frame::MAX_EVENT_BYTES >> 20
                            ),
                        );
                        return Some((Err(error), st));
                    }
                }
                Some(Err(e)) => {
                    st.ended = true;
                    return Some((Err(e.into()), st));
                }
                None => {
                    st.ended = true;
                    st.framer.finish(&mut out);
                }
            }
            st.ready.extend(out);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interprets_openrouter_chunks() {
        let c = interpret(
            r#"{"id":"gen-1","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}"#,
        );
        assert_eq!(
            c,
            StreamItem::Chunk(Chunk {
                text: Some("Hi".into()),
                ..Chunk::default()
            })
        );

        let c = interpret(r#"{"choices":[{"delta":{"content":"","reasoning":"hmm"}}]}"#);
        assert_eq!(
            c,
            StreamItem::Chunk(Chunk {
                reasoning: Some("hmm".into()),
                ..Chunk::default()
            })
        );

        let c = interpret(r#"{"choices":[{"delta":{"reasoning_content":"think"}}]}"#);
        assert_eq!(
            c,
            StreamItem::Chunk(Chunk {
                reasoning: Some("think".into()),
                ..Chunk::default()
            })
        );

        let c = interpret(
            r#"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46,"cost":0.0012}}"#,
        );
        assert_eq!(
            c,
            StreamItem::Chunk(Chunk {
                usage: Some(Usage {
                    prompt_tokens: 12,
                    completion_tokens: 34,
                    cost: Some(0.0012)
                }),
                ..Chunk::default()
            })
        );
        assert_eq!(interpret(" [DONE]"), StreamItem::Done);
        assert_eq!(interpret("{not json"), StreamItem::Malformed);
        assert_eq!(interpret(r#"{"choices":"nope"}"#), StreamItem::Malformed);
    }

    #[test]
    fn interprets_mid_stream_errors() {
        let c = interpret(
            r#"{"id":"x","error":{"code":"server_error","message":"Provider disconnected"},"choices":[{"delta":{"content":""},"finish_reason":"error"}]}"#,
        );
        assert_eq!(
            c,
            StreamItem::Error {
                code: Some("server_error".into()),
                message: "Provider disconnected".into()
            }
        );
        let c = interpret(r#"{"error":{"code":502,"message":"bad gateway"}}"#);
        assert_eq!(
            c,
            StreamItem::Error {
                code: Some("502".into()),
                message: "bad gateway".into()
            }
        );
    }
}
