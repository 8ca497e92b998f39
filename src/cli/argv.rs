//! The raw command line, before clap reads it: options given before a
//! subcommand move after it (`council --log-level debug ask "Why?"`), and a
//! lone word that looks like a mistyped command is refused before it could
//! be sent to a panel as a question.

use std::ffi::OsString;

use clap::CommandFactory;

use super::Cli;

/// Words people try as commands that council does not have.
const NOT_COMMANDS: &[(&str, &str)] = &[
    ("version", "council --version"),
    ("help", "council --help"),
    (
        "logs",
        "council --help (the log file's place is under Logs)",
    ),
    ("log", "council --help (the log file's place is under Logs)"),
    (
        "login",
        "council keys set openrouter (or export OPENROUTER_API_KEY)",
    ),
    ("list", "council sessions, or council models list"),
    ("history", "council sessions"),
];

/// `args` with the options before the subcommand moved after it; as given
/// when there is no subcommand or nothing before it.
pub(crate) fn reorder(args: Vec<OsString>) -> Vec<OsString> {
    let command = Cli::command();
    let takes_value = |name: &str| {
        command.get_arguments().any(|a| {
            let matches = match name.strip_prefix("--") {
                Some(long) => a.get_long() == Some(long),
                None => name
                    .strip_prefix('-')
                    .and_then(|s| s.chars().next())
                    .is_some_and(|c| a.get_short() == Some(c)),
            };
            matches && a.get_action().takes_values()
        })
    };
    let mut before = Vec::new();
    let mut i = 1;
    while i < args.len() {
        let Some(arg) = args[i].to_str() else {
            return args;
        };
        if arg == "--" || arg == "-" {
            return args;
        }
        if arg.starts_with('-') {
            before.push(args[i].clone());
            let inline = arg.contains('=') || (!arg.starts_with("--") && arg.len() > 2);
            if !inline && takes_value(arg) && i + 1 < args.len() {
                i += 1;
                before.push(args[i].clone());
            }
            i += 1;
            continue;
        }
        let is_subcommand = command
            .get_subcommands()
            .any(|s| s.get_name() == arg || s.get_all_aliases().any(|a| a == arg));
        if !is_subcommand || before.is_empty() {
            return args;
        }
        // `serve` names the providers' key `--upstream-key-env`; its own
        // `--api-key-env` is the key clients must send.
        if arg == "serve" {
            for b in &mut before {
                if b == "--api-key-env" {
                    *b = "--upstream-key-env".into();
                }
            }
        }
        let mut out = vec![args[0].clone(), args[i].clone()];
        out.extend(before);
        out.extend(args[i + 1..].iter().cloned());
        return out;
    }
    args
}

/// Why a lone word is not taken as a question, when it looks like a
/// mistyped command: a subcommand's name off by a letter or two, or a
/// command people expect (`version`, `logs`). `--` before it asks it.
pub(crate) fn mistyped(args: &[OsString]) -> Option<String> {
    let words: Vec<&str> = args.get(1..)?.iter().filter_map(|a| a.to_str()).collect();
    if words.len() != args.len() - 1 || words.contains(&"--") {
        return None;
    }
    let positional: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| !w.starts_with('-'))
        .collect();
    // Only a lone word: options with values would count as words here, so
    // anything but `council WORD` is left to clap.
    let [word] = words.as_slice() else {
        return None;
    };
    if positional.len() != 1 || !word.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
        return None;
    }
    let ask = format!("To ask it: council -- {word}");
    if let Some((_, instead)) = NOT_COMMANDS.iter().find(|(w, _)| w == word) {
        return Some(format!("`{word}` is not a command: try {instead}. {ask}"));
    }
    let command = Cli::command();
    let near = command
        .get_subcommands()
        .map(|s| s.get_name())
        .filter(|name| name != word)
        .map(|name| (name, distance(word, name)))
        .filter(|(name, d)| *d <= if name.len() <= 4 { 1 } else { 2 })
        .min_by_key(|(_, d)| *d)?;
    Some(format!(
        "`{word}` is not a command: did you mean `{}`? {ask}",
        near.0
    ))
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut last = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let keep = row[j + 1];
            row[j + 1] = (last + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(keep + 1);
            last = keep;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn options_before_a_subcommand_move_after_it() {
        assert_eq!(
            reorder(os(&["council", "--log-level", "debug", "ask", "Why?"])),
            os(&["council", "ask", "--log-level", "debug", "Why?"])
        );
        assert_eq!(
            reorder(os(&["council", "--preset=budget", "ask", "q"])),
            os(&["council", "ask", "--preset=budget", "q"])
        );
        assert_eq!(
            reorder(os(&["council", "--api-key-env", "K", "serve"])),
            os(&["council", "serve", "--upstream-key-env", "K"])
        );
        // A question is never taken for a subcommand.
        let question = os(&["council", "--preset", "budget", "Why is ask slow?"]);
        assert_eq!(reorder(question.clone()), question);
        let quoted = os(&["council", "--", "ask"]);
        assert_eq!(reorder(quoted.clone()), quoted);
    }

    #[test]
    fn a_lone_word_near_a_command_is_refused() {
        let said = mistyped(&os(&["council", "sesions"])).unwrap();
        assert!(said.contains("did you mean `sessions`") && said.contains("council -- sesions"));
        assert!(
            mistyped(&os(&["council", "version"]))
                .unwrap()
                .contains("--version")
        );
        assert!(mistyped(&os(&["council", "--", "sesions"])).is_none());
        assert!(mistyped(&os(&["council", "photosynthesis"])).is_none());
        assert!(mistyped(&os(&["council", "Why is the sky blue?"])).is_none());
        assert!(
            mistyped(&os(&["council", "sessions"])).is_none(),
            "the command itself"
        );
    }
}
