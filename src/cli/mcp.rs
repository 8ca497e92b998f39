//! `council mcp`: the council as tools for agents, over the Model Context
//! Protocol on stdin and stdout (the official `rmcp` SDK speaks it).
//!
//! `ask_council` reads its input as `ask`'s flags and runs the council
//! `ask` runs; its result is the synthesis as text and the report
//! `ask --json` prints as structured content. Progress goes out as MCP
//! progress notifications when the client asks for them, and a client's
//! cancellation cancels the council. stdout carries nothing but the
//! protocol: the log goes to its file, a model's download to stderr.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use council::config::presets;
use council::config::settings::Settings;
use council::conversation::{Conversation, SAVE_WAIT};
use council::engine::RunOutcome;
use council::paths;
use council::progress;
use rmcp::handler::server::ServerHandler;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    JsonObject, ListToolsResult, PaginatedRequestParams, ProgressNotificationParam,
    ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::{ErrorData as McpError, ServiceExt};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AskArgs, Cli, Command, EXIT_FAILED, ask, fail, models};

/// `council mcp`: serves until the client closes stdin.
pub(super) async fn mcp(settings: Settings) -> ExitCode {
    let tools = Tools {
        settings: Arc::new(settings),
    };
    let running = match tools.serve(rmcp::transport::stdio()).await {
        Ok(running) => running,
        Err(e) => return fail(EXIT_FAILED, format!("mcp: {e}")),
    };
    match running.waiting().await {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => fail(EXIT_FAILED, format!("mcp: {e}")),
    }
}

/// The longest question `ask_council` takes: as much as `serve` takes in
/// one request. (rmcp reads messages of at most 16 MiB.)
const MAX_QUESTION_BYTES: usize = council::serve::DEFAULT_BODY_LIMIT;

#[derive(Clone)]
struct Tools {
    settings: Arc<Settings>,
}

/// `ask_council`'s input: `ask`'s flags by name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AskInput {
    question: String,
    preset: Option<String>,
    panel: Option<Panel>,
    judge: Option<String>,
    synth: Option<String>,
    rounds: Option<u32>,
    rank: Option<bool>,
    max_cost: Option<f64>,
    session: Option<String>,
}

/// A panel as a list of models, or `ask`'s comma-separated string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Panel {
    List(Vec<String>),
    Joined(String),
}

impl AskInput {
    /// The input as `council ask`'s command line, read by its own parser,
    /// so each field means what the flag means.
    fn ask_args(&self) -> Result<AskArgs, String> {
        let mut argv: Vec<String> = vec!["council".into(), "ask".into()];
        let mut flag = |name: &str, value: Option<String>| {
            if let Some(v) = value {
                argv.push(format!("--{name}"));
                argv.push(v);
            }
        };
        flag("preset", self.preset.clone());
        flag(
            "panel",
            self.panel.as_ref().map(|p| match p {
                Panel::List(models) => models.join(","),
                Panel::Joined(s) => s.clone(),
            }),
        );
        flag("judge", self.judge.clone());
        flag("synth", self.synth.clone());
        flag("rounds", self.rounds.map(|n| n.to_string()));
        flag("max-cost", self.max_cost.map(|n| n.to_string()));
        flag("session", self.session.clone());
        if self.rank == Some(true) {
            argv.push("--rank".into());
        }
        argv.push("--".into());
        argv.push(self.question.clone());
        match Cli::try_parse_from(argv) {
            Ok(Cli {
                command: Some(Command::Ask(args)),
                ..
            }) => Ok(args),
            Ok(_) => Err("not a question".into()),
            Err(e) => Err(e.kind().to_string() + ": " + &first_line(&e.to_string())),
        }
    }
}

fn first_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or("").trim();
    line.strip_prefix("error: ").unwrap_or(line).to_string()
}

/// A failed call as the agent reads it: `{outcome, reason}` (and the run's
/// report, when there was a run), marked as a tool error.
fn tool_error(outcome: &str, reason: &str, report: Option<Value>) -> CallToolResult {
    let mut structured = json!({"outcome": outcome, "reason": reason});
    if let (Some(report), Some(object)) = (report, structured.as_object_mut()) {
        object.insert("report".into(), report);
    }
    let mut result =
        CallToolResult::error(vec![ContentBlock::text(format!("{outcome}: {reason}"))]);
    result.structured_content = Some(structured);
    result
}

fn schema(value: Value) -> Arc<JsonObject> {
    match value {
        Value::Object(object) => Arc::new(object),
        _ => Arc::new(JsonObject::new()),
    }
}

/// The shape of a run's report, as `ask --json` prints it: what a client
/// may rely on (more fields may come).
fn report_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "question": {"type": "string"},
            "members": {"type": "array", "items": {"type": "object", "properties": {
                "name": {"type": "string"},
                "model": {"type": "string"},
                "status": {"type": "string"},
                "text": {"type": "string"},
            }}},
            "judge": {"type": "object"},
            "synthesis": {"type": "object", "properties": {
                "text": {"type": "string"},
                "status": {"type": "string"},
            }},
            "convergence": {"type": "array"},
            "ranking": {"type": ["object", "null"]},
            "usage": {"type": "object"},
            "outcome": {"type": ["string", "null"]},
            "session_id": {"type": ["string", "null"]},
        },
        "required": ["question", "members", "judge", "synthesis", "outcome", "session_id"],
    })
}

fn tools() -> Vec<Tool> {
    let ask = Tool::new(
        "ask_council",
        "Ask a council of language models one question: a panel answers, a judge maps where \
         the answers agree and disagree (consensus, contradictions, blind spots, unique \
         insights, partial coverage, each finding tied to members and to quotes checked \
         against their answers), a synthesizer writes the answer. Returns the answer and the \
         whole run (members, the judge's map, usage, cost, outcome, session_id). `session` \
         continues a saved session (an id or `last`).",
        schema(json!({
            "type": "object",
            "properties": {
                "question": {"type": "string", "description": "The question."},
                "preset": {"type": "string", "description": "A preset's name (`quality`, `budget`, `local`, or the user's) or a preset file's path."},
                "panel": {"description": "The panel's models (a list, or comma-separated).", "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]},
                "judge": {"type": "string", "description": "The judge's model."},
                "synth": {"type": "string", "description": "The synthesizer's model."},
                "rounds": {"type": "integer", "minimum": 1, "maximum": 8, "description": "Rounds of deliberation."},
                "rank": {"type": "boolean", "description": "Members rank each other's answers."},
                "max_cost": {"type": "number", "exclusiveMinimum": 0, "description": "Budget cap in USD: refused before any request when the estimate exceeds it."},
                "session": {"type": "string", "description": "Continue a saved session: an id, the start of one, or `last`."},
            },
            "required": ["question"],
            "additionalProperties": false,
        })),
    )
    .with_raw_output_schema(schema(report_schema()));
    let list = Tool::new(
        "list_presets",
        "The councils there are: each preset's name, description, panel, judge, synthesizer \
         and the most one question may cost (USD; null when a price is unknown).",
        schema(json!({"type": "object", "properties": {}, "additionalProperties": false})),
    )
    .with_raw_output_schema(schema(json!({
        "type": "object",
        "properties": {"presets": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"},
            "description": {"type": ["string", "null"]},
            "panel": {"type": "array", "items": {"type": "string"}},
            "judge": {"type": "string"},
            "synthesizer": {"type": "string"},
            "estimate_usd": {"type": ["number", "null"]},
        }, "required": ["name", "panel", "judge", "synthesizer", "estimate_usd"]}}},
        "required": ["presets"],
    })));
    let show = Tool::new(
        "show_session",
        "A saved session's last turn, as ask_council returns a run: `id` is an id, the start \
         of one, or `last`.",
        schema(json!({
            "type": "object",
            "properties": {"id": {"type": "string", "description": "A session id, the start of one, or `last`."}},
            "required": ["id"],
            "additionalProperties": false,
        })),
    )
    .with_raw_output_schema(schema(report_schema()));
    vec![ask, list, show]
}

impl ServerHandler for Tools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("council", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "ask_council asks a council of models and returns its answer with the judge's \
                 map of agreement and disagreement; list_presets names the councils; \
                 show_session reads a saved run.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(tools()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let arguments = Value::Object(request.arguments.unwrap_or_default());
        let result = match request.name.as_ref() {
            "ask_council" => match serde_json::from_value::<AskInput>(arguments) {
                Ok(input) => self.ask(input, context).await,
                Err(e) => tool_error("invalid_arguments", &e.to_string(), None),
            },
            "list_presets" => self.list_presets().await,
            "show_session" => match arguments.get("id").and_then(Value::as_str) {
                Some(id) => show_session(id),
                None => tool_error("invalid_arguments", "`id` is required", None),
            },
            other => {
                return Err(McpError::invalid_params(format!("no tool `{other}`"), None));
            }
        };
        Ok(result.into())
    }
}

impl Tools {
    async fn ask(&self, input: AskInput, context: RequestContext<RoleServer>) -> CallToolResult {
        if input.question.trim().is_empty() {
            return tool_error("invalid_arguments", "the question is empty", None);
        }
        if input.question.len() > MAX_QUESTION_BYTES {
            return tool_error(
                "invalid_arguments",
                &format!(
                    "the question is {}, over the {} a question may be",
                    council::attachments::human_size(input.question.len() as u64),
                    council::attachments::human_size(MAX_QUESTION_BYTES as u64)
                ),
                None,
            );
        }
        let args = match input.ask_args() {
            Ok(args) => args,
            Err(e) => return tool_error("invalid_arguments", &e, None),
        };
        let request = match ask::council_request(&args.council, &self.settings) {
            Ok(r) => r,
            Err(e) => return tool_error("invalid_council", &e.to_string(), None),
        };
        if models::fetch_for(&request).is_err() {
            return tool_error(
                "model_unavailable",
                "the offline model could not be fetched (see the log)",
                None,
            );
        }
        let mut conversation = match ask::start(
            &args,
            &input.question,
            Vec::new(),
            request,
            &self.settings,
            "mcp",
        )
        .await
        {
            Ok((conversation, _note)) => conversation,
            Err(refused) => return tool_error(refused.outcome, &refused.reason, None),
        };
        let token = context.meta.get_progress_token();
        let mut sent = 0u32;
        let mut cancelled = false;
        loop {
            tokio::select! {
                event = conversation.next() => {
                    let Some(event) = event else { break };
                    if let (Some(token), Some(line)) =
                        (&token, progress::line(&event, conversation.report()))
                    {
                        sent += 1;
                        let mut note = ProgressNotificationParam::new(token.clone(), f64::from(sent));
                        note.message = Some(line.trim().to_string());
                        // A client gone is noticed by the cancellation.
                        let _ = context.peer.notify_progress(note).await;
                    }
                }
                // The client cancelled the call: the council stops, its
                // upstream requests are dropped; what arrived is saved.
                () = context.ct.cancelled(), if !cancelled => {
                    cancelled = true;
                    conversation.cancel();
                }
            }
        }
        let session_id = conversation.close(SAVE_WAIT).await.and_then(Result::ok);
        let report = conversation.report();
        let document = ask::report_json(report, session_id.as_deref());
        match report.outcome {
            Some(RunOutcome::Synthesized) => {
                let mut result = CallToolResult::success(vec![ContentBlock::text(
                    report.synthesis.text.clone(),
                )]);
                result.structured_content = Some(document);
                result
            }
            outcome => {
                let name = outcome.map_or_else(
                    || "no_synthesis".to_string(),
                    |o| {
                        serde_json::to_value(o)
                            .ok()
                            .and_then(|v| v.as_str().map(String::from))
                            .unwrap_or_default()
                    },
                );
                let reason = report
                    .error
                    .clone()
                    .unwrap_or_else(|| "the run ended without a synthesis".into());
                tool_error(&name, &reason, Some(document))
            }
        }
    }

    async fn list_presets(&self) -> CallToolResult {
        let (all, _) = presets::all_presets(paths::presets_dir().as_deref());
        let mut listed = Vec::new();
        for p in &all {
            let seat = |s: &presets::SeatConfig| s.model.clone();
            listed.push(json!({
                "name": p.name,
                "description": p.preset.description,
                "panel": p.preset.members.iter().map(seat).collect::<Vec<_>>(),
                "judge": seat(&p.preset.judge),
                "synthesizer": seat(&p.preset.synthesizer),
                "estimate_usd": self.estimate(&p.name).await,
            }));
        }
        let text = listed
            .iter()
            .map(|p| {
                format!(
                    "{}: {}",
                    p["name"].as_str().unwrap_or(""),
                    p["description"].as_str().unwrap_or("")
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        result.structured_content = Some(json!({"presets": listed}));
        result
    }

    /// The most one question may cost on a preset, when its providers can
    /// be reached and price every seat.
    async fn estimate(&self, preset: &str) -> Option<f64> {
        let args = AskInput {
            question: String::new(),
            preset: Some(preset.to_string()),
            panel: None,
            judge: None,
            synth: None,
            rounds: None,
            rank: None,
            max_cost: None,
            session: None,
        }
        .ask_args()
        .ok()?;
        let request = ask::council_request(&args.council, &self.settings).ok()?;
        let estimate = Conversation::new(request).estimate_priced("").await?;
        estimate.complete.then_some(estimate.usd)
    }
}

fn show_session(id: &str) -> CallToolResult {
    let Some(dir) = council::session::sessions_dir() else {
        return tool_error("no_session", "no data dir: HOME is not set", None);
    };
    let loaded = council::session::find(&dir, id)
        .and_then(|path| council::session::load(&path).map_err(|e| e.to_string()));
    match loaded {
        Ok(session) => {
            let Some(last) = session.turns.last() else {
                return tool_error("no_session", "the session has no turn", None);
            };
            let mut result =
                CallToolResult::success(vec![ContentBlock::text(last.synthesis.text.clone())]);
            result.structured_content = Some(ask::report_json(last, Some(&session.header.id)));
            result
        }
        Err(e) => tool_error("no_session", &e, None),
    }
}
