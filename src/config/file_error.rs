//! Errors in TOML files (presets, themes, config) that name the file, the
//! line and column, and the field.

use crate::config::ConfigError;

/// The 1-based line and column of a byte offset.
pub(crate) fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}

/// An error about the value at `offset`: `file:line:column: `field`: message`.
pub(crate) fn value_error(
    origin: &str,
    text: &str,
    offset: usize,
    field: &str,
    message: &str,
) -> ConfigError {
    let (line, column) = position(text, offset);
    ConfigError::File {
        origin: format!("{origin}:{line}:{column}"),
        message: format!("`{field}`: {message}"),
    }
}

/// Formats a TOML error as `file:line:column: field: message`.
pub(crate) fn toml_error(origin: &str, text: &str, e: &toml::de::Error) -> ConfigError {
    let message = e.message().trim().to_string();
    let Some(span) = e.span() else {
        return ConfigError::File {
            origin: origin.into(),
            message,
        };
    };
    let (line, column) = position(text, span.start);
    // A missing field has no line of its own: the error points at the table
    // that lacks it, whose first key is not at fault.
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        return ConfigError::File {
            origin: format!("{origin}:{line}:{column}"),
            message: format!("`{field}`: missing field `{field}` (this table needs it)"),
        };
    }
    // Type and range errors do not name the key; the line they point at does.
    let key = text
        .lines()
        .nth(line - 1)
        .and_then(|l| l.split_once('='))
        .map(|(k, _)| k.trim().trim_matches('"').to_string())
        .filter(|k| !k.is_empty() && !message.contains(&format!("`{k}`")));
    let message = match key {
        Some(k) => format!("`{k}`: {message}"),
        None => message,
    };
    ConfigError::File {
        origin: format!("{origin}:{line}:{column}"),
        message,
    }
}
