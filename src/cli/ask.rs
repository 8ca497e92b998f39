//! `council ask`: one question, headless. The synthesis streams to stdout
//! (its markdown rendered on a terminal, as written in a pipe), state
//! changes go to stderr; `--json` prints the whole run at the end.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use council::attachments::Attachment;
use council::config::roles::{self, Role};
use council::config::settings::Settings;
use council::config::{ConfigError, CouncilRequest, presets, providers};
use council::conversation::{Conversation, Refusal, SAVE_WAIT, on_error};
use council::engine::{RunOutcome, RunReport, Status, SynthesisFeed};
use council::paths;
use council::progress;
use council::sanitize::sanitize;
use council::tui::ansi::MarkdownPrinter;
use council::{CouncilEvent, RunOptions};

use super::color::ColorWhen;
use super::{
    AskArgs, CouncilArgs, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_USAGE, fail, models,
};

/// The preset used when neither `--preset` nor `--panel` is given: Fusion's
/// quality preset with an OpenRouter key or an endpoint, the offline engine
/// without either.
pub(super) fn default_preset(args: &CouncilArgs, settings: &Settings) -> String {
    default_preset_for(
        settings,
        args.api_key_env.as_deref(),
        args.base_url.is_some(),
    )
}

/// The preset when none is named: the config's, else `quality` with a key
/// (from `api_key_env`, OpenRouter's variable, or saved) or a base URL,
/// else `local`.
pub(super) fn default_preset_for(
    settings: &Settings,
    api_key_env: Option<&str>,
    base_url: bool,
) -> String {
    if let Some(name) = &settings.default_preset {
        return name.clone();
    }
    let key_var = api_key_env.unwrap_or("OPENROUTER_API_KEY");
    if base_url || providers::read_key(Some(key_var), "openrouter").is_set() {
        "quality".into()
    } else {
        "local".into()
    }
}

/// Turns the council options into a request, loading the preset.
pub(super) fn council_request(
    args: &CouncilArgs,
    settings: &Settings,
) -> Result<CouncilRequest, ConfigError> {
    let preset_name = match (&args.preset, args.panel.is_empty()) {
        (Some(name), _) => Some(name.clone()),
        (None, true) => Some(default_preset(args, settings)),
        (None, false) => None,
    };
    let preset = preset_name
        .map(|name| presets::find_preset(&name, paths::presets_dir().as_deref()))
        .transpose()?;
    if let Some(n) = args.rounds {
        presets::check_rounds(n).map_err(|e| ConfigError::Invalid(format!("--rounds: {e}")))?;
    }
    let limits = council::engine::council::Limits {
        quorum: args.quorum,
        deadline_s: args.deadline,
        max_cost: args.max_cost,
        max_answer_bytes: args.max_answer_bytes,
    };
    limits.check().map_err(|e| {
        ConfigError::Invalid(
            e.replace("quorum", "--quorum")
                .replace("deadline_s", "--deadline")
                .replace("max_cost", "--max-cost")
                .replace("max_answer_bytes", "--max-answer-bytes"),
        )
    })?;
    Ok(CouncilRequest {
        preset,
        panel: args.panel.iter().map(|m| m.trim().to_string()).collect(),
        judge: args.judge.clone(),
        judge_samples: args.judge_samples,
        rounds: args.rounds,
        ranking: args.rank,
        limits,
        default_max_cost: settings.max_cost,
        synthesizer: args.synth.clone(),
        base_url: args.base_url.clone(),
        api_key_env: args.api_key_env.clone(),
        timeout: args.timeout.map(Duration::from_secs),
        timeouts: settings.timeouts(),
        providers: settings.provider_configs(),
        role: match (&args.system, &args.role) {
            (Some(text), _) if text.trim().is_empty() => {
                return Err(ConfigError::Invalid("--system is empty".into()));
            }
            (Some(text), _) => Some(Role::system(text.trim())),
            (None, Some(name)) => Some(roles::load_role(name, paths::roles_dir().as_deref())?),
            (None, None) => None,
        },
    })
}

/// The question and its attachments: the argument (or the editor's text,
/// or stdin), then piped text when there is a question too (`git diff |
/// council ask "review this"`), then each `--file`.
fn read_question(args: &AskArgs) -> Result<(String, Vec<Attachment>), String> {
    let piped = if std::io::stdin().is_terminal() {
        String::new()
    } else {
        council::attachments::read_piped(std::io::stdin().lock(), Default::default())?
    };
    let mut attachments = Vec::new();
    let written = match (&args.question, args.editor) {
        (arg, true) => Some(council::editor::edit(arg.as_deref().unwrap_or_default())?),
        (arg, false) => arg.clone(),
    };
    let question = match (written, piped.trim().is_empty()) {
        (Some(q), true) => q,
        (Some(q), false) => {
            attachments.push(Attachment::new("stdin", piped));
            q
        }
        (None, false) => piped,
        (None, true) if std::io::stdin().is_terminal() => {
            return Err("no question: pass it as an argument or pipe it on stdin".into());
        }
        (None, true) => String::new(),
    };
    let question = question.trim().to_string();
    if question.is_empty() {
        return Err("the question is empty".into());
    }
    let (files, notes) = council::attachments::load_paths(&args.files, Default::default())?;
    for note in notes {
        eprintln!("council: {}", sanitize(&note));
    }
    attachments.extend(files);
    council::attachments::check_total(&attachments, Default::default())?;
    Ok((question, attachments))
}

/// `ask -m MODEL`: one model, streamed to stdout (or one JSON document): a
/// panel of one answering alone, saved as any run is.
async fn ask_one(
    model: &str,
    question: &str,
    attachments: Vec<Attachment>,
    request: &CouncilRequest,
    args: &AskArgs,
    colour: ColorWhen,
) -> ExitCode {
    let one = request.alone(model);
    if let Err(code) = models::fetch_for(&one) {
        return code;
    }
    let mut conversation = Conversation::new(one)
        .with_solo_answers()
        .with_options(RunOptions {
            seed: args.seed,
            ..RunOptions::default()
        })
        .with_sessions(
            council::session::sessions_dir(),
            Some("cli"),
            on_error(|_| {}),
        );
    let prices = conversation.prices().await;
    if let Err(e) = conversation.ask(question, attachments, &prices) {
        return fail(EXIT_USAGE, e);
    }
    let mut answer_out = AnswerOut::new(colour);
    loop {
        tokio::select! {
            event = conversation.next() => match event {
                Some(CouncilEvent::MemberDelta { text, .. }) if !args.json => {
                    answer_out.write(&text);
                }
                Some(_) => {}
                None => break,
            },
            _ = tokio::signal::ctrl_c() => conversation.cancel(),
        }
    }
    answer_out.finish();
    let session_id = conversation.close(SAVE_WAIT).await.and_then(Result::ok);
    let answer = conversation
        .report()
        .members
        .first()
        .cloned()
        .unwrap_or_default();
    if args.json {
        let doc = serde_json::json!({
            "model": answer.model,
            "text": answer.text,
            "usage": answer.usage,
            "ttft_ms": answer.ttft_ms,
            "elapsed_ms": answer.elapsed_ms,
            "error": answer.error,
            "session_id": session_id,
        });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    }
    match answer.status {
        Status::Done => ExitCode::SUCCESS,
        Status::Cancelled => fail(EXIT_INTERRUPTED, "cancelled"),
        _ => fail(
            EXIT_FAILED,
            format!(
                "{model}: {}",
                sanitize(answer.error.as_deref().unwrap_or("no answer"))
            ),
        ),
    }
}

pub(super) async fn ask(mut args: AskArgs, settings: &Settings, colour: ColorWhen) -> ExitCode {
    if args.continue_latest {
        args.session = Some("last".into());
    }
    let (question, attachments) = match read_question(&args) {
        Ok(q) => q,
        Err(e) => return fail(EXIT_USAGE, e),
    };
    let request = match council_request(&args.council, settings) {
        Ok(r) => r,
        Err(e) => return fail(EXIT_USAGE, e),
    };
    if let Some(model) = &args.model {
        return ask_one(model, &question, attachments, &request, &args, colour).await;
    }
    if args.council.preset.is_none()
        && args.council.panel.is_empty()
        && default_preset(&args.council, settings) == "local"
        && settings.default_preset.is_none()
    {
        // Once, before anything is fetched or asked: what this is, and how
        // to ask a real council.
        eprintln!(
            "council: no OPENROUTER_API_KEY: this is the offline demo council (SmolLM2 135M on \
             this machine, three personas; a few seconds to a minute per question). For a real \
             council: export OPENROUTER_API_KEY=..., or --base-url for your own server"
        );
    }
    if let Err(code) = models::fetch_for(&request) {
        return code;
    }
    let mut conversation =
        match start(&args, &question, attachments, request, settings, "cli").await {
            Ok((conversation, note)) => {
                if let Some(note) = note {
                    eprintln!("council: {}", sanitize(&note));
                }
                conversation
            }
            Err(refused) => return fail(EXIT_USAGE, refused.reason),
        };
    let mut interrupted = false;
    let mut terminated = false;
    let mut sigterm =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let mut answer_out = AnswerOut::new(colour);
    let mut synthesis = SynthesisFeed::default();
    let mut judging = progress::JudgeRate::default();
    loop {
        tokio::select! {
            event = conversation.next() => {
                let Some(event) = event else { break };
                // The report's text, not the delta's: the citations are
                // taken out there, as every front takes them out.
                if let Some(new) = synthesis.take(&event, conversation.report())
                    && !args.json
                    && !args.no_stream
                {
                    answer_out.write(new);
                }
                let line = progress::line(&event, conversation.report())
                    .or_else(|| judging.line(&event, std::time::Instant::now()));
                if let Some(line) = line {
                    // The synthesis so far is written out first, so a status
                    // line never lands inside it on a shared terminal.
                    answer_out.finish();
                    // Names and models come from files and flags: never raw to a terminal.
                    eprintln!("{}", sanitize(&line));
                }
            }
            _ = tokio::signal::ctrl_c() => {
                if interrupted {
                    return fail(EXIT_INTERRUPTED, "interrupted");
                }
                interrupted = true;
                eprintln!("council: cancelling (Ctrl-C again to quit at once)");
                conversation.cancel();
            }
            // SIGTERM: stop the run, then save and print what there is.
            Some(()) = async { sigterm.as_mut()?.recv().await }, if !terminated => {
                terminated = true;
                eprintln!("council: terminated: stopping the run");
                conversation.cancel();
            }
        }
    }
    let session_id = match conversation.close(SAVE_WAIT).await {
        Some(Ok(id)) => {
            eprintln!("council: saved as session {id}");
            Some(id)
        }
        Some(Err(e)) => {
            eprintln!("council: {}", sanitize(&e));
            None
        }
        None => None,
    };
    let report = conversation.report();
    answer_out.finish();
    if args.no_stream && !args.json && report.outcome == Some(RunOutcome::Synthesized) {
        // The whole synthesis at once, as it was streamed to no one.
        answer_out.write(report.synthesis.text.trim_end());
        answer_out.finish();
    }
    if args.json {
        match serde_json::to_string_pretty(&report_json(report, session_id.as_deref())) {
            Ok(json) => {
                let _ = writeln!(std::io::stdout(), "{json}");
            }
            Err(e) => return fail(EXIT_FAILED, format!("cannot encode the report: {e}")),
        }
    }
    if report.degraded && report.outcome == Some(RunOutcome::Synthesized) {
        let missing: Vec<String> = report
            .degraded_members
            .iter()
            .map(|m| format!("{} ({})", m.member, sanitize(&m.reason)))
            .collect();
        eprintln!(
            "council: degraded panel: {} of {} members answered; left out: {}",
            report.members.len() - missing.len(),
            report.members.len(),
            missing.join(", ")
        );
    }
    if terminated {
        return ExitCode::from(EXIT_TERMINATED);
    }
    let why = || report.error.as_deref().map(sanitize).unwrap_or_default();
    match report.outcome {
        Some(RunOutcome::Synthesized) => ExitCode::SUCCESS,
        Some(RunOutcome::Cancelled) => fail(EXIT_INTERRUPTED, "cancelled"),
        Some(RunOutcome::BudgetExceeded) => {
            fail(EXIT_FAILED, format!("budget exceeded: {}", why()))
        }
        Some(RunOutcome::NoQuorum) => fail(EXIT_FAILED, format!("no quorum: {}", why())),
        Some(
            RunOutcome::AllMembersFailed
            | RunOutcome::InsufficientCredits
            | RunOutcome::RateLimited,
        ) => fail(EXIT_FAILED, why()),
        Some(RunOutcome::SynthesisFailed) => fail(EXIT_FAILED, why()),
        Some(RunOutcome::Answered) | None => fail(EXIT_FAILED, "the run ended without a synthesis"),
    }
}

/// Why a question was not asked: the outcome's name, as `--json` and the
/// MCP tool name it, and the reason in words.
pub(super) struct Refused {
    pub(super) outcome: &'static str,
    pub(super) reason: String,
}

/// A conversation for `args`'s council (continuing its session, when one
/// is named) with `question` asked: its run has started. Saved with
/// `origin`. Returns the budget's note, when a cap is set.
pub(super) async fn start(
    args: &AskArgs,
    question: &str,
    attachments: Vec<Attachment>,
    request: CouncilRequest,
    settings: &Settings,
    origin: &str,
) -> Result<(Conversation, Option<String>), Refused> {
    let context = match args.context {
        Some(super::Context::Syntheses) => council::engine::ContextMode::Syntheses,
        Some(super::Context::Own) => council::engine::ContextMode::OwnAnswers,
        None => settings.context.into(),
    };
    let mut conversation = Conversation::new(request)
        .with_options(RunOptions {
            seed: args.seed,
            context,
            ..RunOptions::default()
        })
        .with_sessions(
            council::session::sessions_dir(),
            Some(origin),
            on_error(|_| {}),
        );
    // A follow-up: the stored session's turns as context, its council
    // unless one is given.
    if let Some(id) = &args.session {
        let own_council = args.council.preset.is_some() || !args.council.panel.is_empty();
        conversation
            .continue_saved(id, own_council)
            .map_err(|reason| Refused {
                outcome: "no_session",
                reason,
            })?;
    }
    let prices = conversation.prices().await;
    match conversation.ask(question, attachments, &prices) {
        Ok(note) => Ok((conversation, note)),
        Err(refusal) => Err(Refused {
            outcome: match refusal {
                Refusal::OverBudget(_) => "budget_exceeded",
                _ => "invalid_council",
            },
            reason: refusal.to_string(),
        }),
    }
}

/// A run's report as `--json` prints it, with the session it was saved
/// in (null when unsaved).
pub(super) fn report_json(report: &RunReport, session_id: Option<&str>) -> serde_json::Value {
    let mut value = serde_json::to_value(report).unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        object.insert("session_id".into(), session_id.into());
    }
    value
}

/// Where an answer's text goes on stdout: as it arrives, as written (a
/// pipe, `--color never`, NO_COLOR), or its markdown rendered block by
/// block (a terminal, `--color always`).
enum AnswerOut {
    Raw {
        /// The last line written is not ended yet.
        open: bool,
    },
    Rendered(MarkdownPrinter),
}

impl AnswerOut {
    fn new(colour: ColorWhen) -> Self {
        if colour.colours(std::io::stdout().is_terminal()) {
            let columns = crossterm::terminal::size().map_or(80, |(w, _)| usize::from(w));
            Self::Rendered(MarkdownPrinter::new(columns))
        } else {
            Self::Raw { open: false }
        }
    }

    /// Writes the next piece of the answer, made safe for a terminal.
    fn write(&mut self, text: &str) {
        let clean = sanitize(text);
        let out = match self {
            Self::Raw { open } => {
                if !clean.is_empty() {
                    *open = !clean.ends_with('\n');
                }
                clean
            }
            Self::Rendered(printer) => printer.push(&clean),
        };
        print_now(&out);
    }

    /// Writes what is pending and ends the last line, so what follows on
    /// the terminal starts on a line of its own.
    fn finish(&mut self) {
        let out = match self {
            Self::Raw { open } => {
                if std::mem::take(open) {
                    "\n".to_string()
                } else {
                    String::new()
                }
            }
            Self::Rendered(printer) => printer.finish(),
        };
        print_now(&out);
    }
}

fn print_now(text: &str) {
    if text.is_empty() {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}
