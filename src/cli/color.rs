//! When output is coloured: `--color auto|always|never` for every command,
//! and `NO_COLOR` (set and not empty) when the flag is `auto`.

use std::ffi::OsString;

/// The `--color` flag's values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ColorWhen {
    /// On a terminal, unless NO_COLOR is set.
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorWhen {
    /// Whether output to a stream (a terminal or not) is coloured.
    pub(crate) fn colours(self, terminal: bool) -> bool {
        match self {
            Self::Always => true,
            Self::Never => false,
            Self::Auto => terminal && !no_color_env(),
        }
    }

    /// Whether a screen that is always a terminal (the TUI) uses colours.
    pub(crate) fn colours_screen(self) -> bool {
        self.colours(true)
    }

    /// Tells crossterm, which draws the TUI and styles printed markdown:
    /// it drops colours under NO_COLOR by itself, which `always` overrides.
    pub(crate) fn apply_to_crossterm(self) {
        if self == Self::Always {
            crossterm::style::force_color_output(true);
        }
    }

    /// For clap's own help and errors.
    pub(crate) fn for_clap(self) -> clap::ColorChoice {
        match self {
            // clap's `auto` already honours NO_COLOR.
            Self::Auto => clap::ColorChoice::Auto,
            Self::Always => clap::ColorChoice::Always,
            Self::Never => clap::ColorChoice::Never,
        }
    }
}

/// `NO_COLOR` set and not empty (no-color.org).
fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// The `--color` flag read from the raw command line, before clap does:
/// clap's own messages and the crash report are set up before parsing.
/// The last one given wins; `auto` when absent or not understood.
pub(crate) fn from_argv(args: &[OsString]) -> ColorWhen {
    let mut when = ColorWhen::Auto;
    let mut words = args.iter().skip(1).filter_map(|a| a.to_str());
    while let Some(word) = words.next() {
        if word == "--" {
            break;
        }
        let value = match word.strip_prefix("--color") {
            Some("") => words.next(),
            Some(rest) if rest.starts_with('=') => Some(&rest[1..]),
            _ => continue,
        };
        when = match value {
            Some("always") => ColorWhen::Always,
            Some("never") => ColorWhen::Never,
            _ => ColorWhen::Auto,
        };
    }
    when
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(line: &[&str]) -> ColorWhen {
        let args: Vec<OsString> = line.iter().map(OsString::from).collect();
        from_argv(&args)
    }

    #[test]
    fn the_flag_is_found_before_and_after_the_subcommand() {
        assert_eq!(read(&["council", "ask", "hi"]), ColorWhen::Auto);
        assert_eq!(
            read(&["council", "--color", "never", "ask"]),
            ColorWhen::Never
        );
        assert_eq!(
            read(&["council", "ask", "--color=always", "hi"]),
            ColorWhen::Always
        );
        assert_eq!(
            read(&["council", "--color=never", "ask", "--color", "always"]),
            ColorWhen::Always
        );
        // After `--` it is the question's text.
        assert_eq!(read(&["council", "--", "--color=never"]), ColorWhen::Auto);
        assert!(!ColorWhen::Never.colours(true));
        assert!(ColorWhen::Always.colours(false));
    }
}
