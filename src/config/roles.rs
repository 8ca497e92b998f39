//! Roles: saved system prompts (`~/.config/council/roles/NAME.md`), in the
//! shape aichat uses: an optional front matter between `---` lines, then the
//! prompt. Of the front matter, `temperature` is used; `model` and other
//! keys are aichat's and ignored (the council decides the models).

use std::path::Path;

use super::ConfigError;
use super::named_files;

/// A system prompt for the panel, from a role file or `--system`.
#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    /// The role's name, or `--system` for a prompt given on the command line.
    pub(crate) name: String,
    pub(crate) prompt: String,
    pub(crate) temperature: Option<f32>,
}

impl Role {
    /// `--system TEXT`.
    pub fn system(prompt: impl Into<String>) -> Self {
        Self {
            name: "--system".into(),
            prompt: prompt.into(),
            temperature: None,
        }
    }

    /// Puts the role on a seat: its system prompt, and its temperature when it has one.
    pub(crate) fn apply(&self, seat: &mut crate::engine::council::SeatSpec) {
        seat.system_prompt = Some(self.prompt.clone());
        if let Some(t) = self.temperature {
            seat.temperature = Some(t);
        }
    }
}

/// Every role in `dir`; broken files come back as errors beside the
/// roles that loaded.
pub(crate) fn all_roles(dir: Option<&Path>) -> (Vec<Role>, Vec<ConfigError>) {
    named_files::load_layered("roles", "md", &[], dir, role_entry, |r| &r.name)
}

/// The names of the roles in `dir` that load.
pub fn role_names(dir: Option<&Path>) -> Vec<String> {
    all_roles(dir).0.into_iter().map(|r| r.name).collect()
}

/// The role `name` from `dir` (`NAME.md`).
pub fn load_role(name: &str, dir: Option<&Path>) -> Result<Role, ConfigError> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.');
    let path = dir.map(|d| d.join(format!("{name}.md")));
    let Some(path) = path.filter(|p| valid && p.is_file()) else {
        let names: Vec<String> = all_roles(dir).0.into_iter().map(|r| r.name).collect();
        let known = if names.is_empty() {
            "none yet".to_string()
        } else {
            names.join(", ")
        };
        let where_ = dir
            .map(|d| d.display().to_string())
            .unwrap_or_else(|| "the roles dir".into());
        return Err(ConfigError::Invalid(format!(
            "unknown role `{name}`: no {name}.md in {where_} (known: {known})"
        )));
    };
    named_files::load_file(&path, role_entry)
}

fn role_entry(entry: named_files::Entry<'_>) -> Result<Role, ConfigError> {
    parse_role(entry.name, entry.text, entry.origin)
}

/// A role file's text: front matter (optional) and prompt.
pub(crate) fn parse_role(name: &str, text: &str, origin: &str) -> Result<Role, ConfigError> {
    let mut temperature = None;
    let mut body = text;
    let mut lines = text.split_inclusive('\n');
    if lines.next().is_some_and(|l| l.trim_end() == "---") {
        let mut offset = text.find('\n').map_or(text.len(), |i| i + 1);
        let mut closed = false;
        for (i, line) in lines.enumerate() {
            offset += line.len();
            let line_no = i + 2;
            let trimmed = line.trim();
            if trimmed == "---" {
                closed = true;
                break;
            }
            let Some((key, value)) = trimmed.split_once(':') else {
                if trimmed.is_empty() || trimmed.starts_with('#') {
                    continue;
                }
                return Err(ConfigError::File {
                    origin: format!("{origin}:{line_no}"),
                    message: format!(
                        "expected `key: value` in the front matter, found `{trimmed}`"
                    ),
                });
            };
            if key.trim() == "temperature" {
                let t: f32 = value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|t| (0.0..=2.0).contains(t))
                    .ok_or_else(|| ConfigError::File {
                        origin: format!("{origin}:{line_no}"),
                        message: format!(
                            "`temperature`: expected a number from 0 to 2, found `{}`",
                            value.trim()
                        ),
                    })?;
                temperature = Some(t);
            }
        }
        if !closed {
            return Err(ConfigError::File {
                origin: format!("{origin}:1"),
                message: "the front matter opened by `---` is never closed".into(),
            });
        }
        body = &text[offset.min(text.len())..];
    }
    let prompt = body.trim().to_string();
    if prompt.is_empty() {
        return Err(ConfigError::File {
            origin: origin.into(),
            message: "the role has no prompt".into(),
        });
    }
    Ok(Role {
        name: name.into(),
        prompt,
        temperature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_gives_the_temperature_and_the_rest_is_the_prompt() {
        let role = parse_role(
            "reviewer",
            "---\nmodel: openai:gpt-4o\ntemperature: 0.2\n---\nYou review code.\n",
            "r.md",
        )
        .unwrap();
        assert_eq!(role.prompt, "You review code.");
        assert_eq!(role.temperature, Some(0.2));
        let plain = parse_role("p", "Be terse.\n", "p.md").unwrap();
        assert_eq!(
            (plain.prompt.as_str(), plain.temperature),
            ("Be terse.", None)
        );
    }

    #[test]
    fn a_bad_front_matter_names_the_file_and_line() {
        let err = parse_role("r", "---\nmodel: x\ntemperature: hot\n---\nHi", "r.md").unwrap_err();
        assert_eq!(
            err.to_string(),
            "r.md:3: `temperature`: expected a number from 0 to 2, found `hot`"
        );
        let err = parse_role("r", "---\ntemperature: 1\nnote: x\n", "r.md").unwrap_err();
        assert_eq!(
            err.to_string(),
            "r.md:1: the front matter opened by `---` is never closed"
        );
        let err = parse_role("r", "---\n---\n  \n", "r.md").unwrap_err();
        assert_eq!(err.to_string(), "r.md: the role has no prompt");
    }
}
