//! Shell completion: clap's scripts, taught the names only council knows.
//!
//! clap writes the scripts from the command line's shape. Preset names,
//! roles and session ids change as people save them, so the bash, zsh and
//! fish scripts ask `council complete KIND` for them each time (a hidden
//! command printing one `name<TAB>description` per line).

use std::io::Write;
use std::process::ExitCode;

use clap_complete::Shell;
use council::config::{presets, roles};
use council::paths;
use council::sanitize::sanitize;

/// How many sessions are offered, newest first.
const MAX_SESSIONS: usize = 200;

/// What `council complete` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Kind {
    Presets,
    Roles,
    Sessions,
}

/// `council complete KIND`: the candidates, one per line, a tab before
/// each description. Errors are silent: a completion prints nothing.
pub(super) fn candidates(kind: Kind) -> ExitCode {
    let lines: Vec<String> = match kind {
        Kind::Presets => {
            let (all, _) = presets::all_presets(paths::presets_dir().as_deref());
            all.iter()
                .map(|p| describe(&p.name, p.preset.description.as_deref().unwrap_or("")))
                .collect()
        }
        Kind::Roles => roles::role_names(paths::roles_dir().as_deref())
            .iter()
            .map(|name| describe(name, ""))
            .collect(),
        Kind::Sessions => {
            let Some(dir) = council::session::sessions_dir() else {
                return ExitCode::SUCCESS;
            };
            let (sessions, _) = council::session::list(&dir);
            let mut lines = vec![describe("last", "the latest session")];
            lines.extend(
                sessions
                    .iter()
                    .take(MAX_SESSIONS)
                    .map(|s| describe(&s.id, &s.question)),
            );
            lines
        }
    };
    let mut out = std::io::stdout().lock();
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    ExitCode::SUCCESS
}

/// `name<TAB>description`: one line, safe for a terminal, the description
/// cut short.
fn describe(name: &str, description: &str) -> String {
    let one_line = |s: &str| {
        sanitize(s)
            .chars()
            .map(|c| if c.is_whitespace() { ' ' } else { c })
            .collect::<String>()
    };
    let description: String = one_line(description).trim().chars().take(60).collect();
    match description.is_empty() {
        true => one_line(name),
        false => format!("{}\t{description}", one_line(name)),
    }
}

/// The completion script for `shell`: clap's, with the dynamic names added
/// for bash, zsh and fish.
pub(super) fn script(shell: Shell, mut command: clap::Command) -> String {
    let mut generated = Vec::new();
    clap_complete::generate(shell, &mut command, "council", &mut generated);
    let generated = String::from_utf8_lossy(&generated).into_owned();
    match shell {
        Shell::Bash => generated + BASH,
        Shell::Zsh => zsh(&generated),
        Shell::Fish => generated + FISH,
        _ => generated,
    }
}

/// Wraps clap's `_council`: the value of `--preset`, `--role` and
/// `--session`, and the ids of `show`, `export` and `sessions rm`, come from
/// `council complete`.
const BASH: &str = r#"
# Preset names, roles and session ids come from council itself.
_council_names() {
    local IFS=$'\n' line names=()
    while IFS= read -r line; do
        names+=("${line%%$'\t'*}")
    done < <("${COMP_WORDS[0]}" complete "$1" 2>/dev/null)
    COMPREPLY=($(compgen -W "${names[*]}" -- "$2"))
}

_council_dynamic() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"
    local i word command="" sub=""
    case "$prev" in
        --preset) _council_names presets "$cur"; COMPREPLY+=($(compgen -f -- "$cur")); return 0 ;;
        --role) _council_names roles "$cur"; return 0 ;;
        --session) _council_names sessions "$cur"; return 0 ;;
    esac
    if [[ "$cur" != -* ]]; then
        for ((i = 1; i < COMP_CWORD; i++)); do
            word="${COMP_WORDS[i]}"
            [[ "$word" == -* ]] && continue
            if [[ -z "$command" ]]; then command="$word"; elif [[ -z "$sub" ]]; then sub="$word"; fi
        done
        case "$command:$sub" in
            show:|export:|sessions:rm) _council_names sessions "$cur"; return 0 ;;
        esac
    fi
    _council "$@"
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _council_dynamic -o nosort -o bashdefault -o default council
else
    complete -F _council_dynamic -o bashdefault -o default council
fi
"#;

/// Fish merges these with clap's own lines for the same options (a preset
/// may also be a file's path; a role or a session is only a name).
const FISH: &str = r#"
# Preset names, roles and session ids come from council itself.
complete -c council -l preset -r -a "(council complete presets 2>/dev/null)"
complete -c council -l role -x -a "(council complete roles 2>/dev/null)"
complete -c council -l session -x -a "(council complete sessions 2>/dev/null)"
complete -c council -n "__fish_seen_subcommand_from show export rm" -f -a "(council complete sessions 2>/dev/null)"
"#;

/// zsh helpers, put before the script's last lines (which run `_council`
/// at once when the file is autoloaded).
const ZSH_HELPERS: &str = r#"
# Preset names, roles and session ids come from council itself.
_council_names() {
    local -a names
    names=(${(f)"$(council complete $1 2>/dev/null)"})
    names=(${names//:/\\:})
    names=(${names//$'\t'/:})
    _describe -t "$1" "$2" names
}
_council_complete_presets() { _council_names presets preset; _files }
_council_complete_roles() { _council_names roles role }
_council_complete_sessions() { _council_names sessions session }

"#;

/// clap's zsh script with the actions of the dynamic values replaced.
fn zsh(generated: &str) -> String {
    let mut out = String::with_capacity(generated.len() + ZSH_HELPERS.len());
    for line in generated.split_inclusive('\n') {
        let action = if line.starts_with("'--preset=[") {
            Some("_council_complete_presets")
        } else if line.starts_with("'--role=[") {
            Some("_council_complete_roles")
        } else if line.starts_with("'--session=[")
            || line.starts_with("':id -- The session")
            || line.starts_with("'*::ids:")
        {
            Some("_council_complete_sessions")
        } else {
            None
        };
        if line.starts_with("if [ \"$funcstack[1]\" = \"_council\" ]") {
            out.push_str(ZSH_HELPERS);
        }
        match action {
            Some(action) if line.contains(":_default'") => {
                out.push_str(&line.replacen(":_default'", &format!(":{action}'"), 1))
            }
            _ => out.push_str(line),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dynamic_value_is_wired_into_the_zsh_script() {
        let script = script(
            Shell::Zsh,
            <super::super::Cli as clap::CommandFactory>::command(),
        );
        let lines = |needle: &str| script.lines().filter(|l| l.contains(needle)).count();
        // --preset on the council, ask, serve and eval; --role likewise.
        assert!(
            lines(":NAME|PATH:_council_complete_presets'") >= 4,
            "{script}"
        );
        assert!(lines(":NAME:_council_complete_roles'") >= 4);
        // --session on ask, the ids of show and export, and sessions rm.
        assert_eq!(lines("_council_complete_sessions'"), 4, "{script}");
        assert!(script.contains("_council_complete_presets() {"));
        let helpers = script.find(ZSH_HELPERS).unwrap();
        assert!(helpers < script.find("compdef _council council").unwrap());
    }

    #[test]
    fn descriptions_are_one_safe_line() {
        assert_eq!(describe("last", ""), "last");
        assert_eq!(
            describe("abc", "Why\nis the\tsky \u{1b}[31mblue?"),
            "abc\tWhy is the sky blue?"
        );
    }
}
