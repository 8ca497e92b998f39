//! The config file, `~/.config/council/config.toml`: default preset, theme,
//! timeouts, providers (new endpoints, or other URLs and key variables for
//! the built-in ones) and key overrides. A missing file means defaults; a
//! bad one is an error naming the line and field.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

use crate::config::ConfigError;
use crate::config::file_error::toml_error;
use crate::config::providers::{self, ProviderConfig};
use crate::provider::Timeouts;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The preset used when neither `--preset` nor `--panel` is given.
    #[serde(default)]
    pub default_preset: Option<String>,
    /// The TUI's theme (a switch with `T` is remembered over this).
    #[serde(default)]
    pub(crate) theme: Option<String>,
    #[serde(default)]
    pub(crate) timeouts: TimeoutSettings,
    /// By name: a built-in provider's changes, or a new endpoint.
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderSettings>,
    /// Pane keys by action (`cancel = "x"`); see the README for the names.
    #[serde(default)]
    pub keys: BTreeMap<String, char>,
    /// What members see of earlier turns in a follow-up: the council's
    /// syntheses (the default), or their own earlier answers.
    #[serde(default)]
    pub context: ContextSetting,
    /// USD: the budget cap of a run whose preset sets none.
    #[serde(default, deserialize_with = "max_cost")]
    pub max_cost: Option<f64>,
}

fn max_cost<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let cost = <f64 as serde::Deserialize>::deserialize(d)?;
    crate::engine::council::Limits {
        max_cost: Some(cost),
        ..Default::default()
    }
    .check()
    .map_err(serde::de::Error::custom)?;
    Ok(Some(cost))
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContextSetting {
    #[default]
    Syntheses,
    Own,
}

impl From<ContextSetting> for crate::engine::ContextMode {
    fn from(c: ContextSetting) -> Self {
        match c {
            ContextSetting::Syntheses => Self::Syntheses,
            ContextSetting::Own => Self::OwnAnswers,
        }
    }
}

/// Seconds; unset ones keep their defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TimeoutSettings {
    #[serde(default, deserialize_with = "seconds")]
    pub(crate) connect: Option<u64>,
    #[serde(default, deserialize_with = "seconds")]
    pub(crate) first_byte: Option<u64>,
    #[serde(default, deserialize_with = "seconds")]
    pub(crate) idle: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSettings {
    #[serde(default)]
    pub(crate) base_url: Option<String>,
    /// The environment variable holding the key (never the key itself).
    #[serde(default)]
    pub(crate) api_key_env: Option<String>,
}

fn seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let n = u64::deserialize(d)?;
    if n == 0 {
        return Err(serde::de::Error::custom("must be at least 1 second"));
    }
    if n > crate::provider::MAX_TIMEOUT_S {
        return Err(serde::de::Error::custom(format!(
            "must be at most {} seconds (a day), not {n}",
            crate::provider::MAX_TIMEOUT_S
        )));
    }
    Ok(Some(n))
}

/// The actions whose keys can be changed (the panes', then the panel
/// editor's), with their default keys.
pub(crate) const REBINDABLE: &[(&str, char)] = &[
    ("zoom", 'z'),
    ("cancel", 'c'),
    ("copy", 'y'),
    ("quit", 'q'),
    ("help", '?'),
    ("reasoning", 't'),
    ("theme", 'T'),
    ("layout", 'L'),
    ("editor", 'i'),
    ("rerun", 'r'),
    ("rejudge", 'R'),
    ("deliberate", 'D'),
    ("dispute", 'd'),
    ("diff", '='),
    ("panel", 'p'),
    // The panel editor's seat keys.
    ("panel-add", 'a'),
    ("panel-duplicate", 'd'),
    ("panel-remove", 'x'),
    ("panel-move-up", 'K'),
    ("panel-move-down", 'J'),
    ("panel-edit", 'e'),
    ("panel-roles", 'o'),
    ("panel-save", 's'),
];

/// A config file with every setting, commented out at its default: what
/// `council config init` writes. It parses to the defaults.
pub fn template() -> String {
    let t = Timeouts::default();
    let keys: Vec<String> = REBINDABLE
        .iter()
        .map(|(name, key)| format!("# {name} = \"{key}\""))
        .collect();
    format!(
        "# council's config. Every setting is optional; each is shown commented out\n\
         # at its default. `council config show` prints what is in effect.\n\
         \n\
         # The preset when neither --preset nor --panel is given (default: quality\n\
         # with a key, local without one).\n\
         # default_preset = \"quality\"\n\
         \n\
         # The TUI's theme (a switch with T is remembered over this).\n\
         # theme = \"dark\"\n\
         \n\
         # Follow-ups: members see the council's syntheses, or \"own\" earlier answers.\n\
         # context = \"syntheses\"\n\
         \n\
         # The budget cap (USD) of a run whose preset sets none (default: none).\n\
         # max_cost = 1.00\n\
         \n\
         [timeouts]  # seconds\n\
         # connect = {}\n\
         # first_byte = {}  # until a response starts\n\
         # idle = {}        # the longest gap between chunks of content\n\
         \n\
         # A built-in provider's URL or key variable, or a new endpoint:\n\
         # [providers.gpu-box]\n\
         # base_url = \"http://gpu-box:8000/v1\"\n\
         # api_key_env = \"GPU_BOX_KEY\"  # the variable's name, never the key\n\
         \n\
         [keys]  # rebound keys, by action\n\
         {}\n",
        t.connect.as_secs(),
        t.first_byte.as_secs(),
        t.idle.as_secs(),
        keys.join("\n")
    )
}

impl Settings {
    /// Reads `path`; a missing file is the defaults.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let origin = path.display().to_string();
        match crate::files::read_text_capped(path, crate::files::CONFIG_BYTES) {
            Ok(text) => Self::parse(&text, &origin),
            Err(crate::files::FileError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(Self::default())
            }
            Err(e) => Err(ConfigError::File {
                origin,
                message: format!("cannot read: {e}"),
            }),
        }
    }

    pub fn parse(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let settings: Settings = toml::from_str(text).map_err(|e| toml_error(origin, text, &e))?;
        for (name, p) in &settings.providers {
            let builtin = providers::find_provider(name).is_some();
            if !builtin && p.base_url.is_none() {
                return Err(ConfigError::File {
                    origin: origin.into(),
                    message: format!(
                        "`providers.{name}`: a provider that is not built in needs `base_url`"
                    ),
                });
            }
        }
        for (action, key) in &settings.keys {
            if !REBINDABLE.iter().any(|(a, _)| a == action) {
                let known: Vec<&str> = REBINDABLE.iter().map(|(a, _)| *a).collect();
                return Err(ConfigError::File {
                    origin: origin.into(),
                    message: format!(
                        "`keys.{action}`: unknown action (known: {})",
                        known.join(", ")
                    ),
                });
            }
            if key.is_control() || key.is_whitespace() {
                return Err(ConfigError::File {
                    origin: origin.into(),
                    message: format!("`keys.{action}`: use a visible character"),
                });
            }
        }
        Ok(settings)
    }

    /// The default timeouts with this file's changes.
    pub fn timeouts(&self) -> Timeouts {
        let mut t = Timeouts::default();
        let secs = Duration::from_secs;
        if let Some(s) = self.timeouts.connect {
            t.connect = secs(s);
        }
        if let Some(s) = self.timeouts.first_byte {
            t.first_byte = secs(s);
        }
        if let Some(s) = self.timeouts.idle {
            t.idle = secs(s);
        }
        t
    }

    /// The providers this file defines or changes, complete.
    pub fn provider_configs(&self) -> Vec<ProviderConfig> {
        self.providers
            .iter()
            .map(|(name, p)| {
                let mut config = providers::find_provider(name).unwrap_or(ProviderConfig {
                    name: name.clone(),
                    base_url: String::new(),
                    api_key_env: None,
                    key_required: false,
                });
                if let Some(url) = &p.base_url {
                    config.base_url = url.clone();
                }
                if let Some(var) = &p.api_key_env {
                    config.api_key_env = Some(var.clone());
                    config.key_required = true;
                }
                config
            })
            .collect()
    }
}

#[cfg(test)]
mod template_tests {
    #[test]
    fn the_template_parses_to_the_defaults() {
        let settings = super::Settings::parse(&super::template(), "template").unwrap();
        assert_eq!(settings, super::Settings::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
default_preset = "budget"
theme = "light"
context = "own"

[timeouts]
connect = 5
idle = 30

[providers.openrouter]
api_key_env = "MY_OPENROUTER_KEY"

[providers.work]
base_url = "http://gpu-box:8000/v1"
api_key_env = "WORK_KEY"

[keys]
cancel = "x"
"#;

    #[test]
    fn a_full_file_loads() {
        let s = Settings::parse(EXAMPLE, "config.toml").unwrap();
        assert_eq!(s.default_preset.as_deref(), Some("budget"));
        assert_eq!(s.theme.as_deref(), Some("light"));
        let t = s.timeouts();
        assert_eq!(t.connect, Duration::from_secs(5));
        assert_eq!(t.idle, Duration::from_secs(30));
        assert_eq!(t.first_byte, Timeouts::default().first_byte);
        let providers = s.provider_configs();
        let openrouter = providers.iter().find(|p| p.name == "openrouter").unwrap();
        assert_eq!(openrouter.base_url, "https://openrouter.ai/api/v1");
        assert_eq!(openrouter.api_key_env.as_deref(), Some("MY_OPENROUTER_KEY"));
        let work = providers.iter().find(|p| p.name == "work").unwrap();
        assert_eq!(work.base_url, "http://gpu-box:8000/v1");
        assert!(work.key_required);
        assert_eq!(s.keys.get("cancel"), Some(&'x'));
        assert_eq!(s.context, ContextSetting::Own);
        let e = Settings::parse("context = \"all\"\n", "c.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("c.toml:1:11: `context`: unknown variant"),
            "{e}"
        );
    }

    #[test]
    fn a_missing_file_is_the_defaults() {
        let s = Settings::load(Path::new("/nonexistent/council/config.toml")).unwrap();
        assert_eq!(s, Settings::default());
    }

    fn err(text: &str) -> String {
        Settings::parse(text, "config.toml")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn bad_files_name_line_and_field() {
        let e = err("theme = \"dark\"\ndefault_prest = \"x\"\n");
        assert!(
            e.starts_with("config.toml:2:1: ") && e.contains("unknown field `default_prest`"),
            "{e}"
        );
        let e = err("[timeouts]\nidle = \"long\"\n");
        assert!(
            e.starts_with("config.toml:2:8: `idle`: invalid type"),
            "{e}"
        );
        let e = err("[timeouts]\nidle = 0\n");
        assert!(
            e.starts_with("config.toml:2:8: `idle`: must be at least 1 second"),
            "{e}"
        );
        let e = err("[providers.mine]\napi_key_env = \"K\"\n");
        assert!(
            e.contains("`providers.mine`: a provider that is not built in needs `base_url`"),
            "{e}"
        );
        let e = err("[keys]\nlaunch = \"l\"\n");
        assert!(e.contains("`keys.launch`: unknown action"), "{e}");
        let e = err("[keys]\ncancel = \"xy\"\n");
        assert!(e.starts_with("config.toml:2:10: `cancel`"), "{e}");
        let e = err("theme = \n");
        assert!(e.starts_with("config.toml:1:"), "{e}");
    }
}
