//! `council sessions`, `council show ID`, `council export ID --format md|json`.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use council::sanitize::sanitize;
use council::session::{self, Session};

use super::{EXIT_FAILED, EXIT_USAGE, fail};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct ListArgs {
    #[command(subcommand)]
    pub command: Option<SessionsCommand>,
    /// Print `[{id, created, question, preset, turns, cost, status}]`.
    #[arg(long)]
    pub json: bool,
    /// The newest N only.
    #[arg(short = 'n', long = "limit", value_name = "N")]
    pub limit: Option<usize>,
    /// Sessions that mention TEXT (case aside) in a question, an answer,
    /// the judge's text or a synthesis.
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// Sessions run by one front: `served` (council serve), `cli` (council
    /// ask), `tui` (the interactive council), `mcp` (council mcp).
    #[arg(long, value_enum)]
    pub origin: Option<Origin>,
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum SessionsCommand {
    /// Delete sessions: ids, starts of ids, or `last`.
    Rm {
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Origin {
    Served,
    Cli,
    Tui,
    Mcp,
}

impl Origin {
    /// Sessions saved before `ask` marked its own count as the TUI's.
    fn matches(self, origin: Option<&str>) -> bool {
        match self {
            Origin::Served => origin == Some("served"),
            Origin::Cli => origin == Some("cli"),
            Origin::Tui => origin.is_none(),
            Origin::Mcp => origin == Some("mcp"),
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    Md,
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The session's id, the start of it, or `last` (the latest).
    pub id: String,
    #[arg(long, value_enum, default_value = "md")]
    pub format: Format,
    /// Write to FILE (the text as it is) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

fn dir() -> Result<std::path::PathBuf, ExitCode> {
    session::sessions_dir().ok_or_else(|| fail(EXIT_FAILED, "no data dir: HOME is not set"))
}

pub(super) fn list(args: ListArgs) -> ExitCode {
    let dir = match dir() {
        Ok(d) => d,
        Err(code) => return code,
    };
    if let Some(SessionsCommand::Rm { ids }) = &args.command {
        return remove(&dir, ids);
    }
    let (mut sessions, errors) = session::list(&dir);
    if let Some(origin) = args.origin {
        sessions.retain(|s| origin.matches(s.origin.as_deref()));
    }
    if let Some(text) = &args.search {
        sessions.retain(|s| s.mentions(text));
    }
    if let Some(n) = args.limit {
        sessions.truncate(n);
    }
    for e in &errors {
        eprintln!(
            "council: skipped {}",
            council::sanitize::sanitize(&e.to_string())
        );
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&sessions).unwrap_or_default()
        );
        return ExitCode::SUCCESS;
    }
    if sessions.is_empty() {
        println!("no sessions yet in {}", dir.display());
    }
    for s in &sessions {
        let question = sanitize(&s.question).replace('\n', " ");
        // Cut at 60 characters, and said to be.
        let question = match question.char_indices().nth(59) {
            Some((at, _)) if question.chars().count() > 60 => format!("{}…", &question[..at]),
            _ => question,
        };
        let turns = match s.turns {
            1 => "1 turn ".to_string(),
            n => format!("{n} turns"),
        };
        println!(
            "{:<22} {:<20} {turns:>8} {:>9} {:<11} {:<12} {question}",
            s.id,
            s.created,
            format!("${:.4}", s.cost),
            s.status,
            match (&s.preset, &s.origin) {
                (Some(p), Some(o)) => format!("{} ({})", sanitize(p), sanitize(o)),
                (Some(p), None) => sanitize(p),
                (None, Some(o)) => format!("- ({})", sanitize(o)),
                (None, None) => "-".into(),
            },
        );
    }
    ExitCode::SUCCESS
}

/// `sessions rm`: each named session deleted, or why not; exit 1 when one
/// could not be.
fn remove(dir: &std::path::Path, ids: &[String]) -> ExitCode {
    let mut code = ExitCode::SUCCESS;
    for id in ids {
        match session::remove(dir, id) {
            Ok(path) => eprintln!("council: deleted {}", path.display()),
            Err(e) => code = fail(EXIT_FAILED, e),
        }
    }
    code
}

fn open(id: &str) -> Result<Session, ExitCode> {
    let dir = dir()?;
    let path = session::find(&dir, id).map_err(|e| fail(EXIT_USAGE, e))?;
    session::load(&path).map_err(|e| fail(EXIT_FAILED, e))
}

/// A readable print for the terminal (`export` gives Markdown or JSON).
pub(super) fn show(id: &str) -> ExitCode {
    match open(id) {
        Ok(s) => {
            print!("{}", sanitize(&session::export::text(&s)));
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

pub(super) fn export(args: ExportArgs) -> ExitCode {
    let s = match open(&args.id) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let text = match args.format {
        Format::Md => session::export::markdown(&s),
        Format::Json => {
            serde_json::to_string_pretty(&session::export::json(&s)).unwrap_or_default() + "\n"
        }
    };
    if let Some(path) = &args.output {
        // A file keeps the text as it is.
        return match std::fs::write(path, text) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(EXIT_FAILED, format!("{}: {e}", path.display())),
        };
    }
    // Model text never reaches a terminal raw; a pipe gets it as it is.
    let text = if std::io::stdout().is_terminal() {
        sanitize(&text)
    } else {
        text
    };
    print!("{text}");
    ExitCode::SUCCESS
}
