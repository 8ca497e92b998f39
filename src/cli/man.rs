//! `council man [PAGE] [--dir DIR]`: the man pages, from clap's own
//! description of the command line, each with the ENVIRONMENT, FILES and
//! EXIT STATUS sections a man page is expected to have.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use super::{EXIT_FAILED, EXIT_USAGE, fail};

const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "OPENROUTER_API_KEY",
        "the key for OpenRouter, the default provider (also council keys set openrouter)",
    ),
    ("OPENAI_API_KEY", "the key for the openai provider"),
    (
        "COUNCIL_SESSIONS_DIR",
        "where sessions are saved (default: the XDG data dir's council/sessions)",
    ),
    (
        "COUNCIL_LOG",
        "what goes to the log file, as --log-level takes it",
    ),
    ("COUNCIL_THREADS", "threads of the offline engine"),
    (
        "VISUAL, EDITOR",
        "the editor of ask -e, Ctrl+E and config edit",
    ),
    ("NO_COLOR", "no colours, anywhere"),
    (
        "XDG_CONFIG_HOME, XDG_DATA_HOME, XDG_STATE_HOME, XDG_CACHE_HOME",
        "where the folders below live",
    ),
];

const FILES: &[(&str, &str)] = &[
    (
        "~/.config/council/config.toml",
        "settings (council config init writes one)",
    ),
    (
        "~/.config/council/keys.toml",
        "keys saved with council keys (0600)",
    ),
    ("~/.config/council/presets/NAME.toml", "your presets"),
    ("~/.config/council/roles/NAME.md", "saved system prompts"),
    ("~/.config/council/themes/NAME.toml", "your themes"),
    (
        "~/.local/share/council/sessions/ID.jsonl",
        "every run, as it happens",
    ),
    (
        "~/.local/share/council/models/",
        "GGUF models for the offline engine",
    ),
    ("~/.local/state/council/council.log", "the log"),
];

const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "done (a synthesis, or what was asked)"),
    (
        "1",
        "the run produced no synthesis, or a file could not be read or written",
    ),
    ("2", "bad usage or configuration; nothing was sent"),
    ("130", "interrupted with Ctrl-C"),
    (
        "143",
        "stopped by SIGTERM, after saving and printing what there was",
    ),
];

/// Every page's name: `council`, then `council-SUB` for each subcommand
/// (not the hidden one the completion scripts call).
fn pages(root: &clap::Command) -> Vec<String> {
    std::iter::once("council".to_string())
        .chain(
            root.get_subcommands()
                .filter(|s| !s.is_hide_set())
                .map(|s| format!("council-{}", s.get_name())),
        )
        .collect()
}

fn render(root: &clap::Command, page: Option<&str>, out: &mut dyn Write) -> std::io::Result<()> {
    let command = match page {
        None => root.clone(),
        Some(name) => {
            let sub = root
                .find_subcommand(name)
                .filter(|s| !s.is_hide_set())
                .cloned()
                .ok_or_else(|| std::io::Error::other(format!("no page for `{name}`")))?;
            // clap names commands with static strings; a page is made once.
            let title: &'static str = Box::leak(format!("council-{name}").into_boxed_str());
            sub.name(title).bin_name(format!("council {name}"))
        }
    };
    clap_mangen::Man::new(command).render(out)?;
    let section =
        |out: &mut dyn Write, title: &str, rows: &[(&str, &str)]| -> std::io::Result<()> {
            writeln!(out, ".SH \"{title}\"")?;
            for (term, text) in rows {
                writeln!(out, ".TP\n\\fB{}\\fR\n{}", roff(term), roff(text))?;
            }
            Ok(())
        };
    section(out, "ENVIRONMENT", ENVIRONMENT)?;
    section(out, "FILES", FILES)?;
    section(out, "EXIT STATUS", EXIT_STATUS)?;
    let others: Vec<String> = pages(root)
        .into_iter()
        .filter(|p| Some(p.as_str()) != page.map(|n| format!("council-{n}")).as_deref())
        .filter(|p| page.is_some() || p != "council")
        .map(|p| format!("\\fB{p}\\fR(1)"))
        .collect();
    writeln!(out, ".SH \"SEE ALSO\"\n{}", others.join(", "))
}

/// Text safe inside roff: backslashes doubled, a leading dot or quote escaped.
fn roff(text: &str) -> String {
    let text = text.replace('\\', "\\\\").replace('-', "\\-");
    match text.chars().next() {
        Some('.' | '\'') => format!("\\&{text}"),
        _ => text,
    }
}

pub(super) fn man(root: clap::Command, page: Option<&str>, dir: Option<&Path>) -> ExitCode {
    let root = root.disable_help_subcommand(true);
    let Some(dir) = dir else {
        return match render(&root, page, &mut std::io::stdout()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) if e.kind() == std::io::ErrorKind::Other => fail(EXIT_USAGE, e),
            Err(e) => fail(EXIT_FAILED, e),
        };
    };
    if let Err(e) = std::fs::create_dir_all(dir) {
        return fail(EXIT_FAILED, format!("{}: {e}", dir.display()));
    }
    for name in pages(&root) {
        let sub = name.strip_prefix("council-");
        let path = dir.join(format!("{name}.1"));
        let mut bytes = Vec::new();
        if let Err(e) = render(&root, sub, &mut bytes).and_then(|()| std::fs::write(&path, bytes)) {
            return fail(EXIT_FAILED, format!("{}: {e}", path.display()));
        }
    }
    ExitCode::SUCCESS
}
