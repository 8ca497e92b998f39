//! `council serve`: the council as one model behind OpenAI's
//! chat-completions protocol, so any client of that protocol can ask it.
//!
//! `GET /v1/models` lists `council` (the council given on the command line)
//! and `council/<preset>` for every preset; `POST /v1/chat/completions`
//! runs one council per request, streamed or not.

mod guard;
mod listen;
mod params;
mod run;
pub(crate) mod wire;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::config::presets::NamedPreset;
use crate::config::{ConfigError, CouncilRequest};
use crate::conversation::{Conversation, Refusal, on_error};
use crate::engine::{PastTurn, RunOutcome};
use crate::session::sessions_dir;
use run::{Finished, Out};
use wire::{ApiError, ChatRequest};

/// The model id of the council given on the command line.
pub(crate) const MODEL: &str = "council";

/// How a server runs: where it listens is the caller's (it binds first).
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The bearer token clients must send, when one is required.
    pub bearer: Option<String>,
    /// Councils running at once.
    pub max_concurrent: usize,
    /// Requests waiting for a free slot before more are refused with 429.
    pub queue: usize,
    /// Request bodies larger than this are refused with 413.
    pub body_limit: usize,
    /// After a shutdown signal: how long running councils may finish.
    pub grace: Duration,
    /// Progress goes to clients as reasoning unless a request says
    /// otherwise (`x-council-progress`).
    pub progress: bool,
    /// Where user presets are read again while serving (none: not at all).
    pub presets_dir: Option<std::path::PathBuf>,
    /// `Host` names accepted besides loopback ones when listening on a
    /// loopback address (every name when listening elsewhere, unless set).
    pub allow_hosts: Vec<String>,
    /// The one origin browsers may call from (`*`: any); none by default.
    pub cors: Option<String>,
    /// How long a request's headers, or its body, may take to arrive.
    pub read_timeout: Duration,
}

/// How often the presets folder is read again while serving.
const PRESETS_REFRESH: Duration = Duration::from_secs(2);

/// Request bodies over this are refused (a long conversation is far less).
pub const DEFAULT_BODY_LIMIT: usize = 4 * 1024 * 1024;

/// The councils a server offers: the command line's, and every preset on
/// the same endpoint settings.
#[derive(Debug, Clone)]
pub struct Councils {
    pub default: CouncilRequest,
    pub presets: Vec<NamedPreset>,
}

impl Shared {
    fn councils(&self) -> Councils {
        self.councils
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Councils {
    /// Model ids, `council` first.
    pub fn ids(&self) -> Vec<String> {
        std::iter::once(MODEL.to_string())
            .chain(self.presets.iter().map(|p| format!("{MODEL}/{}", p.name)))
            .collect()
    }

    /// The request a model id names: a preset keeps the command line's
    /// endpoint, key, timeouts and limits, but not its panel.
    fn request(&self, model: &str) -> Option<CouncilRequest> {
        if model == MODEL {
            return Some(self.default.clone());
        }
        let name = model.strip_prefix(MODEL)?.strip_prefix('/')?;
        let preset = self.presets.iter().find(|p| p.name == name)?;
        Some(CouncilRequest {
            preset: Some(preset.clone()),
            panel: Vec::new(),
            judge: None,
            judge_samples: None,
            rounds: None,
            ranking: false,
            synthesizer: None,
            ..self.default.clone()
        })
    }
}

struct Shared {
    /// Read again every [`PRESETS_REFRESH`], so new presets are served.
    councils: std::sync::RwLock<Councils>,
    /// Whether the listener is on a loopback address.
    loopback: bool,
    config: ServeConfig,
    slots: Arc<Semaphore>,
    /// Councils running or waiting for a slot.
    admitted: AtomicUsize,
    /// Cancelled when the grace period after a shutdown signal ends.
    hard_stop: CancellationToken,
}

/// Serves on `listener` until `shutdown` resolves; then stops accepting,
/// lets running councils finish for the grace period, and cancels the rest.
pub async fn serve(
    listener: tokio::net::TcpListener,
    councils: Councils,
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let hard_stop = CancellationToken::new();
    let loopback = listener.local_addr()?.ip().is_loopback();
    let shared = Arc::new(Shared {
        slots: Arc::new(Semaphore::new(config.max_concurrent.max(1))),
        admitted: AtomicUsize::new(0),
        hard_stop: hard_stop.clone(),
        councils: std::sync::RwLock::new(councils),
        loopback,
        config,
    });
    refresh_presets(&shared, hard_stop.clone());
    let grace = shared.config.grace;
    let read_timeout = shared.config.read_timeout;
    let app = Router::new()
        .route("/v1/models", get(list_models))
        .route("/v1/models/{*id}", get(one_model))
        .route("/v1/chat/completions", post(chat_completions))
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                "not_found",
                "no such route",
            )
        })
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            guard::guard,
        ))
        .with_state(shared);
    let stopping = CancellationToken::new();
    tokio::spawn({
        let stopping = stopping.clone();
        let hard_stop = hard_stop.clone();
        async move {
            shutdown.await;
            stopping.cancel();
            // The grace period starts now; after it, running councils are
            // cancelled and connections still open are closed.
            tokio::time::sleep(grace).await;
            hard_stop.cancel();
        }
    });
    listen::run(listener, app, read_timeout, stopping, hard_stop).await
}

fn authorized(shared: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = &shared.config.bearer else {
        return Ok(());
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    // Compared in full whatever the input (its length included), so timing
    // says nothing of the key.
    let matches = given.is_some_and(|g| {
        let (g, e) = (g.as_bytes(), expected.as_bytes());
        let differ = (0..g.len().max(e.len())).fold(u8::from(g.len() != e.len()), |acc, i| {
            acc | (g.get(i).copied().unwrap_or(0) ^ e.get(i).copied().unwrap_or(0))
        });
        differ == 0
    });
    if matches {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "invalid_api_key",
            "missing or wrong bearer token",
        ))
    }
}

fn model_object(id: &str) -> Value {
    json!({"id": id, "object": "model", "created": 0, "owned_by": "council"})
}

async fn list_models(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Err(e) = authorized(&shared, &headers) {
        return e.into_response();
    }
    let data: Vec<Value> = shared
        .councils()
        .ids()
        .iter()
        .map(|id| model_object(id))
        .collect();
    axum::Json(json!({"object": "list", "data": data})).into_response()
}

/// `GET /v1/models/{id}`: one listed model (`council/NAME` as sent, or
/// with its slash encoded).
async fn one_model(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    if let Err(e) = authorized(&shared, &headers) {
        return e.into_response();
    }
    let id = id.trim_start_matches('/');
    if shared.councils().ids().iter().any(|known| known == id) {
        return axum::Json(model_object(id)).into_response();
    }
    ApiError::new(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        "model_not_found",
        format!("unknown model `{id}`"),
    )
    .into_response()
}

/// Reads the presets folder again every [`PRESETS_REFRESH`] while serving,
/// off the async threads; a preset that fails to load keeps the others.
fn refresh_presets(shared: &Arc<Shared>, stop: CancellationToken) {
    let Some(dir) = shared.config.presets_dir.clone() else {
        return;
    };
    let shared = Arc::downgrade(shared);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(PRESETS_REFRESH) => {}
            }
            let dir = dir.clone();
            let Ok((presets, _)) = tokio::task::spawn_blocking(move || {
                crate::config::presets::all_presets(Some(&dir))
            })
            .await
            else {
                continue;
            };
            let Some(shared) = shared.upgrade() else {
                return;
            };
            shared
                .councils
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .presets = presets;
        }
    });
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The conversation: earlier user/assistant pairs as history, the last
/// user message as the question (system messages lead it).
fn conversation(request: &ChatRequest) -> Result<(String, Vec<PastTurn>), ApiError> {
    let last_user = request
        .messages
        .iter()
        .rposition(|m| m.role == "user")
        .ok_or_else(|| {
            ApiError::bad_request("no_user_message", "the messages hold no user message")
        })?;
    let question = request.messages[last_user].content.text();
    if question.trim().is_empty() {
        return Err(ApiError::bad_request(
            "no_user_message",
            "the last user message is empty",
        ));
    }
    let mut system = Vec::new();
    let mut history: Vec<PastTurn> = Vec::new();
    let mut asked: Option<String> = None;
    for m in &request.messages[..last_user] {
        match m.role.as_str() {
            "system" | "developer" => system.push(m.content.text()),
            "user" => asked = Some(m.content.text()),
            "assistant" => history.push(PastTurn {
                question: asked.take().unwrap_or_default(),
                synthesis: m.content.text(),
                answers: Vec::new(),
            }),
            _ => {}
        }
    }
    let question = if system.is_empty() {
        question
    } else {
        format!("{}\n\n{question}", system.join("\n\n"))
    };
    Ok((question, history))
}

/// Whether progress goes to the client as reasoning: the server's
/// `--progress`, or the request's `x-council-progress` header.
fn progress_wanted(shared: &Shared, headers: &HeaderMap) -> Result<bool, ApiError> {
    match headers.get("x-council-progress").map(|v| v.to_str()) {
        None => Ok(shared.config.progress),
        Some(Ok(v)) if v.eq_ignore_ascii_case("none") => Ok(false),
        Some(Ok(v)) if v.eq_ignore_ascii_case("reasoning") => Ok(true),
        Some(_) => Err(ApiError::bad_request(
            "invalid_header",
            "`x-council-progress` is `reasoning` or `none`",
        )),
    }
}

/// Whether the answer keeps the synthesizer's citations (`[alpha, beta]`):
/// the request's `x-council-citations: keep`; they are taken out by default.
fn citations_kept(headers: &HeaderMap) -> Result<bool, ApiError> {
    match headers.get("x-council-citations").map(|v| v.to_str()) {
        None => Ok(false),
        Some(Ok(v)) if v.eq_ignore_ascii_case("strip") => Ok(false),
        Some(Ok(v)) if v.eq_ignore_ascii_case("keep") => Ok(true),
        Some(_) => Err(ApiError::bad_request(
            "invalid_header",
            "`x-council-citations` is `keep` or `strip`",
        )),
    }
}

/// Holds a place among the admitted councils until dropped.
struct Admission(Arc<Shared>);

impl Drop for Admission {
    fn drop(&mut self) {
        let before = self.0.admitted.fetch_sub(1, Ordering::SeqCst);
        // The last council gone: hand the memory large requests took back
        // to the system (glibc keeps freed memory in its arenas otherwise).
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        if before == 1 {
            unsafe {
                libc::malloc_trim(0);
            }
        }
    }
}

/// Messages one request's conversation may hold.
pub const MAX_MESSAGES: usize = 1000;

async fn chat_completions(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match answer(shared, headers, body).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn answer(shared: Arc<Shared>, headers: HeaderMap, body: Body) -> Result<Response, ApiError> {
    authorized(&shared, &headers)?;
    let limit = shared.config.body_limit;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            "request_too_large",
            format!("the request body is over {limit} bytes"),
        )
    };
    // A place among the admitted before the body is read: requests past
    // the queue are refused without buffering anything.
    let admitted = shared.admitted.fetch_add(1, Ordering::SeqCst);
    let admission = Admission(shared.clone());
    if admitted >= shared.config.max_concurrent + shared.config.queue {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_error",
            "too_many_councils",
            format!(
                "{} councils are running and {} waiting; try again shortly",
                shared.config.max_concurrent, shared.config.queue
            ),
        );
        e.retry_after = Some(1);
        return Err(e);
    }
    let read_timeout = shared.config.read_timeout;
    let bytes = match tokio::time::timeout(read_timeout, read_body(body, limit)).await {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Err(too_large()),
        Err(_) => {
            return Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "invalid_request_error",
                "request_timeout",
                format!(
                    "the request body did not arrive within {} s",
                    read_timeout.as_secs()
                ),
            ));
        }
    };
    let request: ChatRequest = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request("invalid_json", format!("invalid request body: {e}")))?;
    drop(bytes);
    if request.messages.len() > MAX_MESSAGES {
        return Err(ApiError::bad_request(
            "too_many_messages",
            format!(
                "{} messages, over the {MAX_MESSAGES} a conversation may hold",
                request.messages.len()
            ),
        ));
    }
    let format = params::check(&request)?;
    let progress = progress_wanted(&shared, &headers)?;
    let keep_citations = citations_kept(&headers)?;
    let (question, history) = conversation(&request)?;
    let Some(council_request) = shared.councils().request(&request.model) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "model_not_found",
            format!(
                "unknown model `{}`; this server has {}",
                request.model,
                shared.councils().ids().join(", ")
            ),
        ));
    };
    let max_tokens = request.max_completion_tokens.or(request.max_tokens);
    let (stream, model) = (request.stream, request.model.clone());
    drop(request);

    // A slot now, or a wait in the queue.
    let permit = shared.slots.clone().acquire_owned().await.map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            "shutting_down",
            "the server is stopping",
        )
    })?;

    let unavailable = |e: ConfigError| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "council_unavailable",
            e.to_string(),
        )
    };
    let mut conversation = Conversation::new(council_request)
        .with_history(history)
        .with_answer_format(format.as_ref().map(|f| f.schema.clone()))
        .with_sessions(sessions_dir(), Some("served"), on_error(|_| {}));
    if let Some(max) = max_tokens {
        let seat = &mut conversation.plan_mut().map_err(unavailable)?.synthesizer;
        seat.max_tokens = Some(seat.max_tokens.map_or(max, |own| own.min(max)));
    }
    let prices = conversation.prices().await;
    conversation
        .ask(&question, Vec::new(), &prices)
        .map_err(|e| match e {
            Refusal::OverBudget(why) => ApiError::bad_request("budget_exceeded", why),
            Refusal::Council(e) => unavailable(e),
            other => unavailable(ConfigError::Invalid(other.to_string())),
        })?;
    let out = run::drive(
        conversation,
        shared.hard_stop.clone(),
        run::Shown {
            progress,
            keep_citations,
        },
    );
    let reply = Reply {
        id: format!("chatcmpl-council-{:x}", rand::random::<u64>()),
        created: unix_now(),
        model,
        format,
    };
    if stream {
        Ok(reply.streamed(out, (permit, admission)))
    } else {
        reply.whole(out, (permit, admission)).await
    }
}

/// What a finished council is answered with, whole or streamed.
struct Reply {
    id: String,
    created: u64,
    model: String,
    /// The form the client asked the answer in: checked before it is sent.
    format: Option<params::AnswerFormat>,
}

/// A slot and a place among the admitted, held until the run is over.
type Held = (tokio::sync::OwnedSemaphorePermit, Admission);

impl Reply {
    fn chunk(&self, delta: Value, finish: Option<&str>) -> Value {
        wire::chunk(&self.id, self.created, &self.model, delta, finish)
    }

    /// The synthesis as the client gets it, or why it gets an error.
    fn answer(&self, finished: &Finished, content: String) -> Result<String, ApiError> {
        if let Some(e) = no_synthesis(finished) {
            return Err(e);
        }
        match &self.format {
            None => Ok(content),
            Some(format) => format.check(&content).map_err(|why| {
                ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "upstream_error",
                    "invalid_structured_output",
                    format!("the council's answer is not in the form asked for: {why}"),
                )
            }),
        }
    }

    async fn whole(
        self,
        mut out: tokio::sync::mpsc::UnboundedReceiver<Out>,
        held: Held,
    ) -> Result<Response, ApiError> {
        let mut reasoning = String::new();
        let mut content = String::new();
        let finished = loop {
            match out.recv().await {
                Some(Out::Reasoning(line)) => reasoning.push_str(&line),
                Some(Out::Content(text)) => content.push_str(&text),
                Some(Out::Done(finished)) => break finished,
                None => {
                    return Err(ApiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "server_error",
                        "run_lost",
                        "the council stopped without an end",
                    ));
                }
            }
        };
        drop(held);
        let content = self.answer(&finished, content)?;
        Ok(axum::Json(json!({
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": content, "reasoning_content": reasoning},
                "finish_reason": "stop",
            }],
            "usage": wire::usage(&finished.report.usage),
            "council": council_object(&finished),
        }))
        .into_response())
    }

    /// The role first, then progress as reasoning (only before the answer
    /// starts), then the synthesis as content (held back and checked when a
    /// form was asked for); the last chunk carries usage and the council. A
    /// council that fails ends with an error event, as OpenAI sends one.
    fn streamed(self, out: tokio::sync::mpsc::UnboundedReceiver<Out>, held: Held) -> Response {
        let first = self.chunk(json!({"role": "assistant", "content": ""}), None);
        let reply = Arc::new(self);
        let events = futures::stream::once(async move { vec![first] })
            .chain(futures::stream::unfold(
                (out, Some(held), String::new()),
                move |(mut out, held, mut buffered)| {
                    let reply = reply.clone();
                    async move {
                        held.as_ref()?;
                        loop {
                            match out.recv().await? {
                                Out::Reasoning(line) => {
                                    let chunk =
                                        reply.chunk(json!({"reasoning_content": line}), None);
                                    return Some((vec![chunk], (out, held, buffered)));
                                }
                                Out::Content(text) if reply.format.is_some() => {
                                    buffered.push_str(&text)
                                }
                                Out::Content(text) => {
                                    let chunk = reply.chunk(json!({"content": text}), None);
                                    return Some((vec![chunk], (out, held, buffered)));
                                }
                                Out::Done(finished) => {
                                    let content = std::mem::take(&mut buffered);
                                    let events = reply.last(&finished, content);
                                    // The slot is free once the run is over.
                                    return Some((events, (out, None, buffered)));
                                }
                            }
                        }
                    }
                },
            ))
            .flat_map(futures::stream::iter)
            .map(|v| Event::default().data(v.to_string()))
            .chain(futures::stream::once(async {
                Event::default().data("[DONE]")
            }))
            .map(Ok::<_, Infallible>);
        Sse::new(events)
            .keep_alive(KeepAlive::default())
            .into_response()
    }

    /// The stream's last events: the held-back answer, then the chunk that
    /// ends it; or the error.
    fn last(&self, finished: &Finished, content: String) -> Vec<Value> {
        match self.answer(finished, content) {
            Ok(content) => {
                let mut events = Vec::new();
                if self.format.is_some() {
                    events.push(self.chunk(json!({"content": content}), None));
                }
                let mut last = self.chunk(json!({}), Some("stop"));
                last["usage"] = wire::usage(&finished.report.usage);
                last["council"] = council_object(finished);
                events.push(last);
                events
            }
            Err(e) => {
                let mut error = e.body();
                error["error"]["council"] = council_object(finished);
                vec![error]
            }
        }
    }
}

/// The body when it is at most `limit` bytes. A larger one is still read
/// (up to a bound) and dropped, so the client gets the 413 rather than a
/// connection reset in the middle of its upload.
async fn read_body(body: Body, limit: usize) -> Option<Bytes> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.ok()?;
        seen += chunk.len();
        if seen <= limit {
            bytes.extend_from_slice(&chunk);
        } else if seen > limit.saturating_mul(8) {
            return None;
        }
    }
    (seen <= limit).then(|| Bytes::from(bytes))
}

/// A 502 when the council produced no synthesis, with the reason.
fn no_synthesis(finished: &Finished) -> Option<ApiError> {
    let report = &finished.report;
    if report.outcome == Some(RunOutcome::Synthesized) {
        return None;
    }
    let outcome = report
        .outcome
        .and_then(|o| serde_json::to_value(o).ok())
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "unfinished".into());
    let why = report.error.clone().unwrap_or_else(|| outcome.clone());
    Some(ApiError::new(
        StatusCode::BAD_GATEWAY,
        "upstream_error",
        "no_synthesis",
        format!("the council produced no synthesis ({outcome}): {why}"),
    ))
}

/// What council-aware clients read beside the answer: the run's report
/// (members with their answers and status, the judge's analysis with its
/// grounding, the outcome) and the session it was saved as.
fn council_object(finished: &Finished) -> Value {
    let mut v = serde_json::to_value(&finished.report).unwrap_or(Value::Null);
    if let Some(object) = v.as_object_mut() {
        object.insert("session_id".into(), finished.session_id.clone().into());
    }
    v
}

/// The address a server bound, as printed on start.
pub fn describe(addr: SocketAddr) -> String {
    format!("http://{addr}/v1")
}
