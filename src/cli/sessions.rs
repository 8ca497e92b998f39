//! `council sessions`, `council show ID`, `council export ID --format md|json`.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use council::sanitize::sanitize;
use council::session::{self, Session};

use super::{EXIT_FAILED, EXIT_USAGE, fail};

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Print `[{id, created, question, preset, turns, cost, status}]`.
    #[arg(long)]
    pub json: bool,
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
    let (sessions, errors) = session::list(&dir);
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
        let question: String = sanitize(&s.question)
            .replace('\n', " ")
            .chars()
            .take(60)
            .collect();
        println!(
            "{:<22} {:<20} {:>2} turn(s) {:>9} {:<11} {:<12} {question}",
            s.id,
            s.created,
            s.turns,
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
