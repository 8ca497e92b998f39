//! The command line: `council ask`, `council serve`, `council models`, sessions and presets.

mod argv;
mod ask;
pub(crate) mod color;
mod complete;
mod config;
mod eval;
mod keys;
mod man;
mod mcp;
mod models;
mod presets;
mod serve;
mod sessions;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use council::config::settings::Settings;
use council::paths;

/// Exit codes: the run produced no synthesis.
pub(crate) const EXIT_FAILED: u8 = 1;
/// Bad usage or configuration; nothing was sent.
pub(crate) const EXIT_USAGE: u8 = 2;
/// Interrupted with Ctrl-C.
pub(crate) const EXIT_INTERRUPTED: u8 = 130;
/// Stopped by SIGTERM (after saving and printing what there was).
pub(crate) const EXIT_TERMINATED: u8 = 143;

#[derive(Debug, Parser)]
#[command(
    name = "council",
    version,
    about = "Run a council of LLMs: a panel answers, a judge maps agreement and disagreement, a synthesizer writes the answer."
)]
#[command(args_conflicts_with_subcommands = true)]
#[command(
    after_help = "A first question that starts with a subcommand's name (ask, serve, eval, models, ...) needs quotes or `--`: council -- \"ask me anything\".",
    after_long_help = "A first question that starts with a subcommand's name (ask, serve, eval, models, ...) needs quotes or `--`: council -- \"ask me anything\".

Examples:
  council                                  the interactive council
  council ask \"Tabs or spaces?\"            one question, the synthesis on stdout
  git diff | council ask \"review this\"     the diff attached to the question
  council ask -c \"And in Go?\"              a follow-up in the latest session
  council serve --preset budget            the council as an OpenAI-compatible model

Environment:
  OPENROUTER_API_KEY     the default provider's key (or: council keys set openrouter);
                         without one, the offline demo council answers
  COUNCIL_SESSIONS_DIR   where sessions are saved
  COUNCIL_LOG            what goes to the log file (as --log-level)
  NO_COLOR               no colours"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Without a subcommand: the interactive council.
    #[command(flatten)]
    pub council: CouncilArgs,
    /// Environment variable holding the API key.
    #[arg(long, value_name = "VAR")]
    pub api_key_env: Option<String>,
    /// What goes to the log file (~/.local/state/council/council.log):
    /// `error`, `warn`, `info` (default), `debug`, `trace`, or filters as
    /// RUST_LOG takes them (`council=debug,reqwest=info`); also COUNCIL_LOG.
    #[arg(long, global = true, value_name = "FILTER")]
    pub log_level: Option<String>,
    /// Colours and styled text: `auto` (on a terminal, unless NO_COLOR is
    /// set), `always`, `never`.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t)]
    pub color: color::ColorWhen,
    /// A first question to ask when the interactive council opens.
    pub question: Option<String>,
}

impl Cli {
    /// Whether the command is `serve`.
    pub(crate) fn serves(&self) -> bool {
        matches!(self.command, Some(Command::Serve(_)))
    }

    /// Whether the command only prints (a listing, a session, a script):
    /// then a reader that closes the pipe (`council sessions | head -1`)
    /// ends it quietly, as it does other Unix tools.
    pub(crate) fn only_prints(&self) -> bool {
        matches!(
            &self.command,
            Some(
                Command::Sessions(_)
                    | Command::Show { .. }
                    | Command::Export(_)
                    | Command::Presets { .. }
                    | Command::Completions { .. }
                    | Command::Complete { .. }
                    | Command::Man { .. }
                    | Command::Config { .. }
            )
        ) || matches!(
            &self.command,
            Some(Command::Models(m)) if !matches!(m.command, Some(models::ModelsCommand::Fetch(_)))
        )
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Ask the council one question; the synthesis streams to stdout.
    #[command(after_long_help = "Examples:
  council ask \"Why is the sky blue?\"
  council ask --preset budget --json \"Tabs or spaces?\" | jq .judge.analysis
  git diff | council ask \"review this change\"
  council ask -f src/ \"where is the SSE decoder?\"
  council ask -c \"and at sunset?\"            continue the latest session
  council ask -m openai/gpt-5.4-mini \"hi\"    one model alone

Environment:
  OPENROUTER_API_KEY     the default provider's key (or: council keys set openrouter)
  COUNCIL_SESSIONS_DIR   where sessions are saved
  VISUAL, EDITOR         the editor of -e")]
    Ask(AskArgs),
    /// Serve the council as an OpenAI-compatible model (`POST /v1/chat/completions`).
    Serve(serve::ServeArgs),
    /// Is the council worth it? Compare it with solo models on your own questions.
    Eval(eval::EvalArgs),
    /// Local models, remote models, and fetching models for the offline engine.
    Models(models::ModelsArgs),
    /// The presets there are (built in and yours); `presets show NAME` prints one.
    Presets {
        #[command(subcommand)]
        command: Option<presets::PresetsCommand>,
    },
    /// Saved sessions, newest first.
    Sessions(sessions::ListArgs),
    /// Print a saved session.
    Show {
        /// The session's id, the start of it, or `last` (the latest).
        id: String,
    },
    /// A saved session as a Markdown report or JSON.
    Export(sessions::ExportArgs),
    /// Print a shell completion script: `council completions bash > ~/.local/share/bash-completion/completions/council`.
    /// The bash, zsh and fish scripts complete preset names, roles and
    /// session ids too.
    Completions { shell: clap_complete::Shell },
    /// What the completion scripts ask for: preset names, roles or session
    /// ids, one per line (a tab before a description).
    #[command(hide = true)]
    Complete { kind: complete::Kind },
    /// Print a man page (roff): `council man | man -l -`, `council man ask`;
    /// `--dir DIR` writes every page (council.1, council-ask.1, …).
    Man {
        /// A subcommand's page (`ask`, `serve`, …) instead of council's.
        page: Option<String>,
        /// Write every page into DIR.
        #[arg(long, value_name = "DIR")]
        dir: Option<std::path::PathBuf>,
    },
    /// Serve the council as tools for agents over the Model Context
    /// Protocol on stdin/stdout: ask_council, list_presets, show_session.
    #[command(after_long_help = "Setup:
  claude mcp add council -- council mcp          Claude Code
  {\"mcpServers\": {\"council\": {\"command\": \"council\", \"args\": [\"mcp\"]}}}
                                                 Claude Desktop, Cursor (their JSON config)")]
    Mcp,
    /// Provider keys saved in the config folder, for when the environment
    /// does not hold them (the environment wins).
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
    /// The config file.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Print where the config file is (it need not exist).
    Path,
    /// The settings in effect, and where each comes from.
    Show,
    /// Write a commented config file with every setting at its default
    /// (never over an existing one).
    Init,
    /// Edit the config file in $VISUAL or $EDITOR, then check it.
    Edit,
}

/// How to compose the council; shared by every front that runs one.
#[derive(Debug, Clone, Args)]
pub(crate) struct CouncilArgs {
    /// Preset name (`quality`, `budget`, or a file in the user presets dir) or path to a preset file.
    #[arg(long, value_name = "NAME|PATH")]
    pub preset: Option<String>,
    /// Panel models, comma-separated; member names default to each slug's last segment.
    #[arg(long, value_name = "MODEL,MODEL,...", value_delimiter = ',')]
    pub panel: Vec<String>,
    /// Judge model.
    #[arg(long, value_name = "MODEL")]
    pub judge: Option<String>,
    /// How many times the judge reads the answers, each in another label
    /// order (the second reversed); keeps the findings that recur (1-8).
    #[arg(long, value_name = "N")]
    pub judge_samples: Option<u32>,
    /// Rounds of deliberation (1-8): after the first, every member revises
    /// its answer having read the others' and the judge's findings.
    #[arg(long, value_name = "N")]
    pub rounds: Option<u32>,
    /// Members rank each other's answers (anonymized, Borda count) before
    /// the synthesis.
    #[arg(long)]
    pub rank: bool,
    /// With --deadline: members that must have answered before the rest are
    /// stopped (default 1).
    #[arg(long, value_name = "N")]
    pub quorum: Option<u32>,
    /// Seconds after which members still streaming are stopped as `late`
    /// (once the quorum has answered) and left out of the judgement.
    #[arg(long, value_name = "SECS")]
    pub deadline: Option<f64>,
    /// Budget cap in USD: refused before any request when the estimate
    /// exceeds it; no further stage starts once the spend reaches it.
    #[arg(long, value_name = "USD")]
    pub max_cost: Option<f64>,
    /// Bytes of one seat's answer (text and reasoning) past which it is
    /// stopped and failed, what came before kept (default 1 MiB).
    #[arg(long, value_name = "BYTES")]
    pub max_answer_bytes: Option<u64>,
    /// Synthesizer model.
    #[arg(long = "synth", value_name = "MODEL")]
    pub synth: Option<String>,
    /// One OpenAI-compatible endpoint for every role (e.g. http://localhost:11434/v1 for Ollama).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Environment variable holding the providers' API key: each front
    /// takes it under its own flag (`serve` uses `--api-key-env` for its
    /// own clients).
    #[arg(skip)]
    pub api_key_env: Option<String>,
    /// Every member's system prompt for this run, over the preset's own
    /// (the judge and synthesizer keep theirs).
    #[arg(short = 's', long, value_name = "TEXT", conflicts_with = "role")]
    pub system: Option<String>,
    /// A saved role as every member's system prompt:
    /// `~/.config/council/roles/NAME.md`.
    #[arg(long, value_name = "NAME")]
    pub role: Option<String>,
    /// Seconds to wait for a response to start, and for each next chunk.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub timeout: Option<u64>,
}

#[derive(Debug, Args)]
pub(crate) struct AskArgs {
    #[command(flatten)]
    pub council: CouncilArgs,
    /// Environment variable holding the API key.
    #[arg(long, value_name = "VAR")]
    pub api_key_env: Option<String>,
    /// Print one JSON document with every stage at the end instead of streaming.
    #[arg(long)]
    pub json: bool,
    /// Continue a saved session (an id, the start of one, or `last`): the
    /// question is a follow-up, asked with the earlier turns as context, by
    /// the session's council unless --preset or --panel is given.
    #[arg(long, value_name = "ID")]
    pub session: Option<String>,
    /// Continue the latest session (as `--session last`).
    #[arg(short = 'c', long = "continue", conflicts_with = "session")]
    pub continue_latest: bool,
    /// Print the synthesis once it is complete instead of as it streams.
    #[arg(long)]
    pub no_stream: bool,
    /// What members see of earlier turns: the council's syntheses, or their own answers
    /// (default: the config file's `context`, else syntheses).
    #[arg(long, value_enum)]
    pub context: Option<Context>,
    /// Ask one model alone (no judge, no synthesis) and stream its answer,
    /// as `llm -m` does; on the same provider rules as a --panel member.
    #[arg(short = 'm', long = "model", value_name = "MODEL", conflicts_with_all = ["panel", "judge", "synth", "session", "continue_latest", "rounds", "rank"])]
    pub model: Option<String>,
    /// Attach a file, or a directory's text files, to the question: every
    /// member, the judge and the synthesizer read it (repeatable).
    #[arg(short = 'f', long = "file", value_name = "PATH")]
    pub files: Vec<std::path::PathBuf>,
    /// Write the question in $VISUAL or $EDITOR (starting from the question
    /// argument, when given).
    #[arg(short = 'e', long = "editor")]
    pub editor: bool,
    /// Seed for the judge's shuffle of answer labels (random by default).
    #[arg(long, hide = true)]
    pub seed: Option<u64>,
    /// The question; read from stdin when absent.
    pub question: Option<String>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum Context {
    Syntheses,
    Own,
}

/// The command line as given, read: a mistyped command is refused (exit
/// 2, before anything is asked), options before a subcommand move after it.
pub(crate) fn parse(args: Vec<std::ffi::OsString>) -> Result<Cli, ExitCode> {
    use clap::{CommandFactory, FromArgMatches};
    if let Some(why) = argv::mistyped(&args) {
        eprintln!("council: {why}");
        return Err(ExitCode::from(EXIT_USAGE));
    }
    // clap's help and errors are coloured as the rest of the output.
    let mut command = Cli::command().color(color::from_argv(&args).for_clap());
    let parsed = command
        .try_get_matches_from_mut(argv::reorder(args))
        .and_then(|matches| Cli::from_arg_matches(&matches));
    parsed.map_err(|e| {
        let code = e.exit_code();
        let _ = e.format(&mut command).print();
        ExitCode::from(u8::try_from(code).unwrap_or(EXIT_USAGE))
    })
}

pub(crate) async fn dispatch(cli: Cli) -> ExitCode {
    use clap::CommandFactory;
    cli.color.apply_to_crossterm();
    match &cli.command {
        Some(Command::Completions { shell }) => {
            print!("{}", complete::script(*shell, Cli::command()));
            return ExitCode::SUCCESS;
        }
        Some(Command::Man { page, dir }) => {
            return man::man(Cli::command(), page.as_deref(), dir.as_deref());
        }
        _ => {}
    }
    if let Err(e) = council::logging::init(cli.log_level.as_deref()) {
        return fail(EXIT_USAGE, e);
    }
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        command = command_name(&cli.command),
        "council started"
    );
    let config_file = paths::config_file();
    if let Some(Command::Config { command }) = &cli.command
        && *command != ConfigCommand::Show
    {
        return config::file_command(command, config_file.as_deref());
    }
    let settings = match config_file.as_deref().map(Settings::load).transpose() {
        Ok(s) => s.unwrap_or_default(),
        Err(e) => return fail(EXIT_USAGE, e),
    };
    match cli.command {
        Some(Command::Ask(mut args)) => {
            args.council.api_key_env = args.api_key_env.take();
            ask::ask(args, &settings, cli.color).await
        }
        Some(Command::Eval(args)) => eval::eval(args, &settings).await,
        Some(Command::Serve(mut args)) => {
            args.council.api_key_env = args.upstream_key_env.take();
            serve::serve(args, &settings).await
        }
        Some(Command::Models(args)) => models::models(args).await,
        Some(Command::Presets { command }) => presets::presets(command),
        Some(Command::Sessions(args)) => sessions::list(args),
        Some(Command::Show { id }) => sessions::show(&id),
        Some(Command::Export(args)) => sessions::export(args),
        Some(Command::Keys { command }) => keys::keys(command),
        Some(Command::Mcp) => mcp::mcp(settings).await,
        Some(Command::Config { .. }) => config::show(&settings, config_file.as_deref()),
        Some(Command::Complete { kind }) => complete::candidates(kind),
        Some(Command::Completions { .. } | Command::Man { .. }) => ExitCode::SUCCESS,
        None => {
            let mut council = cli.council;
            council.api_key_env = cli.api_key_env;
            use std::io::IsTerminal;
            if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
                return interactive(council, cli.question, &settings, cli.color.colours_screen())
                    .await;
            }
            // No terminal (a pipe, a script): the question is answered as
            // `council ask` answers it.
            let args = AskArgs {
                api_key_env: council.api_key_env.take(),
                council,
                json: false,
                session: None,
                continue_latest: false,
                no_stream: false,
                context: None,
                model: None,
                files: Vec::new(),
                editor: false,
                seed: None,
                question: cli.question,
            };
            ask::ask(args, &settings, cli.color).await
        }
    }
}

/// `council` alone: the TUI. Configuration errors are reported before the
/// screen changes; a missing key is reported inside, on the first question.
async fn interactive(
    args: CouncilArgs,
    question: Option<String>,
    settings: &Settings,
    colours: bool,
) -> ExitCode {
    let request = match ask::council_request(&args, settings) {
        Ok(r) => r,
        Err(e) => return fail(EXIT_USAGE, e),
    };
    if let Err(code) = models::fetch_for(&request) {
        return code;
    }
    match council::tui::run(request, question, settings, colours).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(EXIT_FAILED, e),
    }
}

/// The subcommand's name, for the log (never its arguments: questions are private).
fn command_name(command: &Option<Command>) -> &'static str {
    match command {
        None => "interactive",
        Some(Command::Ask(_)) => "ask",
        Some(Command::Serve(_)) => "serve",
        Some(Command::Eval(_)) => "eval",
        Some(Command::Models(_)) => "models",
        Some(Command::Presets { .. }) => "presets",
        Some(Command::Sessions(_)) => "sessions",
        Some(Command::Show { .. }) => "show",
        Some(Command::Export(_)) => "export",
        Some(Command::Completions { .. }) => "completions",
        Some(Command::Complete { .. }) => "complete",
        Some(Command::Man { .. }) => "man",
        Some(Command::Config { .. }) => "config",
        Some(Command::Keys { .. }) => "keys",
        Some(Command::Mcp) => "mcp",
    }
}

/// Prints one error line and returns the exit code.
/// Says why the command failed, made safe for a terminal (an error may
/// echo a path, a name or a server's text), and returns its exit code.
pub(crate) fn fail(code: u8, message: impl std::fmt::Display) -> ExitCode {
    let message = council::sanitize::sanitize(&message.to_string());
    tracing::error!(code, "{message}");
    eprintln!("council: {message}");
    ExitCode::from(code)
}
