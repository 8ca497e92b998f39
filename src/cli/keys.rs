//! `council keys set|list|unset`: provider keys saved in the config folder
//! (0600), for when the environment does not hold them.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::process::ExitCode;

use clap::Subcommand;
use council::config::keys;

use super::{EXIT_FAILED, EXIT_USAGE, fail};

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Save a provider's key: typed without echo, or read from stdin.
    Set { provider: String },
    /// The providers with a saved key (never the keys).
    List,
    /// Forget a provider's saved key.
    Unset { provider: String },
}

pub(super) fn keys(command: KeysCommand) -> ExitCode {
    match command {
        KeysCommand::Set { provider } => {
            let key = match read_key(&provider) {
                Ok(k) => k,
                Err(e) => return fail(EXIT_USAGE, e),
            };
            match keys::set(&provider, &key) {
                Ok(path) => {
                    eprintln!(
                        "council: saved the {provider} key in {} (the environment variable, when set, wins)",
                        path.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(EXIT_USAGE, e),
            }
        }
        KeysCommand::List => {
            let names = keys::names();
            if names.is_empty() {
                eprintln!("council: no saved keys (council keys set openrouter saves one)");
            }
            for name in names {
                println!("{name}");
            }
            ExitCode::SUCCESS
        }
        KeysCommand::Unset { provider } => match keys::unset(&provider) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => fail(EXIT_FAILED, format!("no saved key for {provider}")),
            Err(e) => fail(EXIT_FAILED, e),
        },
    }
}

/// The key: typed at a terminal with echo off, else the first line of stdin.
fn read_key(provider: &str) -> Result<String, String> {
    let stdin = std::io::stdin();
    let mut line = String::new();
    if stdin.is_terminal() {
        eprint!("{provider} key: ");
        let _ = std::io::stderr().flush();
        let _echo_off = EchoOff::new();
        stdin
            .lock()
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        eprintln!();
    } else {
        stdin
            .lock()
            .take(64 * 1024)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
    }
    let key = line.trim().to_string();
    if key.is_empty() {
        return Err("no key given".into());
    }
    Ok(key)
}

/// The terminal's echo turned off until dropped.
struct EchoOff(Option<libc::termios>);

impl EchoOff {
    fn new() -> Self {
        let mut term: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(libc::STDIN_FILENO, &mut term) } != 0 {
            return Self(None);
        }
        let saved = term;
        term.c_lflag &= !libc::ECHO;
        unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &term) };
        Self(Some(saved))
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        if let Some(saved) = self.0 {
            unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &saved) };
        }
    }
}
