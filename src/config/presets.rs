//! Presets: TOML files that describe a council. The shipped ones are
//! embedded in the binary; files in the user's presets directory add to
//! them or replace them by name.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize};

use crate::config::ConfigError;
use crate::config::file_error::toml_error;
use crate::config::named_files;
use crate::engine::SeatSpec;
use crate::engine::council::Endpoints;

/// A preset as written in TOML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    #[serde(default)]
    pub description: Option<String>,
    /// Provider for seats that do not name one.
    #[serde(default)]
    pub(crate) provider: Option<String>,
    pub members: Vec<SeatConfig>,
    pub judge: SeatConfig,
    pub synthesizer: SeatConfig,
    /// Endpoints for providers that are not built in (`[providers.NAME]`
    /// with `base_url` and `api_key_env`), written when a council on
    /// `--base-url` is saved.
    #[serde(default, skip_serializing_if = "Endpoints::is_empty")]
    pub(crate) providers: Endpoints,
    /// Rounds of deliberation (1 to 8; 1 when absent): after the first,
    /// members revise their answers having read each other's.
    #[serde(
        default,
        deserialize_with = "rounds",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) rounds: Option<u32>,
    /// Members rank each other's answers before the synthesis.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) ranking: bool,
    /// Members that must answer before the deadline stops the rest.
    #[serde(
        default,
        deserialize_with = "quorum",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) quorum: Option<u32>,
    /// Seconds after which members still streaming are stopped as late.
    #[serde(
        default,
        deserialize_with = "deadline",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) deadline_s: Option<f64>,
    /// USD: no stage starts once a run has spent this much.
    #[serde(
        default,
        deserialize_with = "max_cost",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) max_cost: Option<f64>,
    /// Bytes of one seat's answer past which it is stopped.
    #[serde(
        default,
        deserialize_with = "max_answer_bytes",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) max_answer_bytes: Option<u64>,
}

impl Preset {
    pub(crate) fn limits(&self) -> crate::engine::council::Limits {
        crate::engine::council::Limits {
            quorum: self.quorum,
            deadline_s: self.deadline_s,
            max_cost: self.max_cost,
            max_answer_bytes: self.max_answer_bytes,
        }
    }
}

fn limit<'de, D: Deserializer<'de>, T: Deserialize<'de> + Copy>(
    d: D,
    set: impl Fn(T) -> crate::engine::council::Limits,
) -> Result<Option<T>, D::Error> {
    let value = T::deserialize(d)?;
    set(value).check().map_err(serde::de::Error::custom)?;
    Ok(Some(value))
}

fn quorum<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    limit(d, |q| crate::engine::council::Limits {
        quorum: Some(q),
        ..Default::default()
    })
}

fn deadline<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    limit(d, |s| crate::engine::council::Limits {
        deadline_s: Some(s),
        ..Default::default()
    })
}

fn max_cost<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    limit(d, |c| crate::engine::council::Limits {
        max_cost: Some(c),
        ..Default::default()
    })
}

fn max_answer_bytes<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    limit(d, |b| crate::engine::council::Limits {
        max_answer_bytes: Some(b),
        ..Default::default()
    })
}

/// One seat of a preset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeatConfig {
    /// Shown in panes and given to the judge's mapping; defaults to the
    /// last segment of the model slug.
    #[serde(default, deserialize_with = "plain_name")]
    pub name: Option<String>,
    #[serde(deserialize_with = "non_empty")]
    pub model: String,
    #[serde(default, deserialize_with = "plain_name")]
    pub(crate) provider: Option<String>,
    #[serde(default)]
    pub(crate) system_prompt: Option<String>,
    #[serde(default, deserialize_with = "temperature")]
    pub(crate) temperature: Option<f32>,
    #[serde(default, deserialize_with = "max_tokens")]
    pub(crate) max_tokens: Option<u32>,
    /// OpenRouter's web search for this seat.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub web_search: bool,
    /// The judge's samples (1 to 8): it reads the answers this many times,
    /// in different label orders, and keeps the findings that recur.
    #[serde(
        default,
        deserialize_with = "samples",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) samples: Option<u32>,
    /// Models tried in turn when a request fails before its first byte with
    /// an error another model could fix; `provider:model` for another provider.
    #[serde(
        default,
        deserialize_with = "plain_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub(crate) fallbacks: Vec<String>,
}

impl SeatConfig {
    pub(crate) fn model(model: impl Into<String>) -> Self {
        Self {
            name: None,
            model: model.into(),
            provider: None,
            system_prompt: None,
            temperature: None,
            max_tokens: None,
            web_search: false,
            samples: None,
            fallbacks: Vec::new(),
        }
    }
}

// Range checks run inside deserialization so a bad value's error carries
// the file position like any other TOML error.
/// Names and model ids are shown on terminals: no control characters
/// (escape sequences start with one).
pub(crate) fn check_plain(s: &str) -> Result<(), String> {
    match s.chars().find(|c| c.is_control()) {
        Some(c) => Err(format!("must not hold control characters (found {c:?})")),
        None => Ok(()),
    }
}

fn plain_name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s = String::deserialize(d)?;
    check_plain(&s).map_err(serde::de::Error::custom)?;
    Ok(Some(s))
}

fn plain_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let list = Vec::<String>::deserialize(d)?;
    for s in &list {
        check_plain(s).map_err(serde::de::Error::custom)?;
    }
    Ok(list)
}

fn non_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    check_plain(&s).map_err(serde::de::Error::custom)?;
    if s.trim().is_empty() {
        return Err(serde::de::Error::custom("must not be empty"));
    }
    Ok(s)
}

fn temperature<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f32>, D::Error> {
    check_temperature(f32::deserialize(d)?)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

fn rounds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    check_rounds(u32::deserialize(d)?)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// Rounds of deliberation: 1 to 8.
pub fn check_rounds(n: u32) -> Result<u32, String> {
    if (1..=8).contains(&n) {
        Ok(n)
    } else {
        Err(format!("rounds must be between 1 and 8, not {n}"))
    }
}

fn samples<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    check_samples(u32::deserialize(d)?)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// How many times a judge may read the answers.
pub(crate) fn check_samples(n: u32) -> Result<u32, String> {
    if (1..=8).contains(&n) {
        Ok(n)
    } else {
        Err(format!("{n} is out of range: use 1 to 8"))
    }
}

fn max_tokens<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    check_max_tokens(u32::deserialize(d)?)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// The temperatures a seat accepts, wherever one is typed (a preset, the
/// panel editor).
pub(crate) fn check_temperature(t: f32) -> Result<f32, String> {
    if (0.0..=2.0).contains(&t) {
        Ok(t)
    } else {
        Err(format!("{t} is out of range: use 0.0 to 2.0"))
    }
}

/// The reply lengths a seat accepts, wherever one is typed.
pub(crate) fn check_max_tokens(n: u32) -> Result<u32, String> {
    if n == 0 {
        Err("must be at least 1".into())
    } else {
        Ok(n)
    }
}

impl SeatConfig {
    /// The engine's seat for this entry, under its resolved name and provider.
    pub(crate) fn to_spec(&self, name: String, provider: String) -> SeatSpec {
        SeatSpec {
            name,
            model: self.model.clone(),
            provider,
            system_prompt: self.system_prompt.clone(),
            temperature: self.temperature,
            max_tokens: self.max_tokens,
            web_search: self.web_search,
            samples: self.samples.unwrap_or(1),
            fallbacks: self.fallbacks.clone(),
        }
    }
}

impl From<&SeatSpec> for SeatConfig {
    /// A seat as a preset writes it: name and provider spelled out.
    fn from(s: &SeatSpec) -> Self {
        SeatConfig {
            name: Some(s.name.clone()),
            model: s.model.clone(),
            provider: Some(s.provider.clone()),
            system_prompt: s.system_prompt.clone(),
            temperature: s.temperature,
            max_tokens: s.max_tokens,
            web_search: s.web_search,
            samples: (s.samples > 1).then_some(s.samples),
            fallbacks: s.fallbacks.clone(),
        }
    }
}

/// Where a preset came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PresetSource {
    Builtin,
    File(PathBuf),
}

#[derive(Debug, Clone, PartialEq)]
pub struct NamedPreset {
    pub name: String,
    pub source: PresetSource,
    pub preset: Preset,
}

/// The presets shipped in `presets/`, embedded at build time.
pub const BUILTIN: &[(&str, &str)] = &[
    ("quality", include_str!("../../presets/quality.toml")),
    ("budget", include_str!("../../presets/budget.toml")),
    ("local", include_str!("../../presets/local.toml")),
    (
        "self-fusion",
        include_str!("../../presets/self-fusion.toml"),
    ),
    ("debate", include_str!("../../presets/debate.toml")),
    ("research", include_str!("../../presets/research.toml")),
    ("deliberate", include_str!("../../presets/deliberate.toml")),
];

/// Parses preset text; errors name the file, line, column and field.
pub fn parse_preset(text: &str, origin: &str) -> Result<Preset, ConfigError> {
    let preset: Preset = toml::from_str(text).map_err(|e| toml_error(origin, text, &e))?;
    if preset.members.is_empty() {
        return Err(ConfigError::File {
            origin: origin.into(),
            message: "`members` is empty: a council needs at least one member".into(),
        });
    }
    Ok(preset)
}

/// All presets: the built-in ones, then the user's (a user file with a
/// built-in's name replaces it). Unreadable user files are returned as
/// errors beside the presets that did load.
pub fn all_presets(user_dir: Option<&Path>) -> (Vec<NamedPreset>, Vec<ConfigError>) {
    named_files::load_layered("presets", "toml", BUILTIN, user_dir, named_preset, |p| {
        &p.name
    })
}

pub(crate) fn load_preset_file(path: &Path) -> Result<NamedPreset, ConfigError> {
    named_files::load_file(path, named_preset)
}

fn named_preset(entry: named_files::Entry<'_>) -> Result<NamedPreset, ConfigError> {
    Ok(NamedPreset {
        name: entry.name.into(),
        source: match entry.source {
            named_files::Source::Builtin => PresetSource::Builtin,
            named_files::Source::File(path) => PresetSource::File(path.to_path_buf()),
        },
        preset: parse_preset(entry.text, entry.origin)?,
    })
}

/// Writes a plan as the user preset `name` in `dir`, never over an existing
/// file; returns the path.
pub(crate) fn save_preset(
    dir: &Path,
    name: &str,
    plan: &crate::config::CouncilPlan,
) -> Result<PathBuf, ConfigError> {
    let seat = |s: &SeatSpec| SeatConfig::from(s);
    let preset = Preset {
        description: plan
            .preset
            .as_ref()
            .map(|p| format!("Edited from the {p} preset.")),
        provider: None,
        members: plan.members.iter().map(seat).collect(),
        judge: seat(&plan.judge),
        synthesizer: seat(&plan.synthesizer),
        providers: plan.endpoints.clone(),
        rounds: (plan.rounds > 1).then_some(plan.rounds),
        ranking: plan.ranking,
        quorum: plan.limits.quorum,
        deadline_s: plan.limits.deadline_s,
        max_cost: plan.limits.max_cost,
        max_answer_bytes: plan.limits.max_answer_bytes,
    };
    let path = dir.join(format!("{name}.toml"));
    let err = |message: String| ConfigError::File {
        origin: path.display().to_string(),
        message,
    };
    // What a listing or a person typed is checked as a loaded file would be.
    check_plain(name).map_err(|e| err(format!("the preset's name {e}")))?;
    for (i, seat) in plan.seats().enumerate() {
        for (field, value) in [("name", &seat.name), ("model", &seat.model)]
            .into_iter()
            .chain(seat.fallbacks.iter().map(|f| ("fallbacks", f)))
        {
            check_plain(value).map_err(|e| err(format!("seat {}: `{field}` {e}", i + 1)))?;
        }
    }
    let text = toml::to_string_pretty(&preset).map_err(|e| err(e.to_string()))?;
    crate::paths::create_private_dir(dir)
        .map_err(|e| err(format!("cannot create the folder: {e}")))?;
    let mut file = crate::paths::private_file()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => {
                err("a preset of that name exists; choose another name".into())
            }
            _ => err(e.to_string()),
        })?;
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(|e| err(e.to_string()))?;
    Ok(path)
}

/// Finds a preset by name, or loads it from a path (anything with a `/` or
/// ending in `.toml`).
pub fn find_preset(
    name_or_path: &str,
    user_dir: Option<&Path>,
) -> Result<NamedPreset, ConfigError> {
    if name_or_path.contains(std::path::MAIN_SEPARATOR)
        || name_or_path.contains('/')
        || name_or_path.ends_with(".toml")
    {
        return load_preset_file(Path::new(name_or_path));
    }
    let (presets, errors) = all_presets(user_dir);
    if let Some(found) = presets.into_iter().find(|p| p.name == name_or_path) {
        return Ok(found);
    }
    // A broken user file with this name explains the miss better than "unknown".
    if let Some(e) = errors
        .into_iter()
        .find(|e| e.to_string().contains(&format!("{name_or_path}.toml")))
    {
        return Err(e);
    }
    let known: Vec<String> = all_presets(user_dir)
        .0
        .into_iter()
        .map(|p| p.name)
        .collect();
    Err(ConfigError::UnknownPreset {
        name: name_or_path.into(),
        known: known.join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_preset_parses() {
        for (name, text) in BUILTIN {
            let preset = parse_preset(text, name).unwrap();
            assert!(!preset.members.is_empty(), "{name}");
        }
    }

    #[test]
    fn remote_builtin_presets_give_their_judge_and_synthesizer_fallbacks() {
        for (name, text) in BUILTIN {
            let preset = parse_preset(text, name).unwrap();
            if preset.provider.as_deref() == Some(crate::provider::local::NAME) {
                continue;
            }
            for seat in [&preset.judge, &preset.synthesizer] {
                assert!(seat.fallbacks.len() >= 2, "{name}: {}", seat.model);
                assert!(!seat.fallbacks.contains(&seat.model), "{name}");
            }
        }
    }

    #[test]
    fn a_plan_with_an_escape_in_a_model_id_is_not_saved() {
        let dir = std::env::temp_dir().join(format!("council-save-escape-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut plan = crate::config::CouncilRequest {
            preset: Some(find_preset("budget", None).unwrap()),
            ..Default::default()
        }
        .plan()
        .unwrap();
        plan.members[1].model = "evil/\u{1b}]0;pwned\u{7}".into();
        let e = save_preset(&dir, "mine", &plan).unwrap_err().to_string();
        assert!(
            e.contains("seat 2: `model` must not hold control characters"),
            "{e}"
        );
        assert!(!dir.join("mine.toml").exists());
    }

    #[test]
    fn a_saved_plan_loads_back_and_is_never_overwritten() {
        let dir = std::env::temp_dir().join(format!("council-save-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let quality = find_preset("research", None).unwrap();
        let request = crate::config::CouncilRequest {
            preset: Some(quality),
            ..Default::default()
        };
        let mut plan = request.plan().unwrap();
        plan.members[0].system_prompt = Some("Two lines.\nOf \"quoted\" text.".into());
        plan.members[1].temperature = Some(0.25);
        let path = save_preset(&dir, "mine", &plan).unwrap();
        let loaded = load_preset_file(&path).unwrap();
        let again = crate::config::CouncilRequest {
            preset: Some(loaded),
            ..Default::default()
        }
        .plan()
        .unwrap();
        assert_eq!(again.members, plan.members);
        assert_eq!(again.judge, plan.judge);
        assert_eq!(again.synthesizer, plan.synthesizer);
        assert!(again.members.iter().all(|m| m.web_search));

        let before = std::fs::read_to_string(&path).unwrap();
        plan.members.truncate(1);
        let e = save_preset(&dir, "mine", &plan).unwrap_err().to_string();
        assert!(e.contains("a preset of that name exists"), "{e}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), before, "untouched");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn err(text: &str) -> String {
        parse_preset(text, "p.toml").unwrap_err().to_string()
    }

    #[test]
    fn rounds_and_ranking_come_from_the_preset_and_the_flags() {
        let plan = |name: &str, rounds: Option<u32>, ranking: bool| {
            crate::config::CouncilRequest {
                preset: Some(find_preset(name, None).unwrap()),
                rounds,
                ranking,
                ..Default::default()
            }
            .plan()
        };
        let deliberate = plan("deliberate", None, false).unwrap();
        assert_eq!((deliberate.rounds, deliberate.ranking), (2, true));
        let families: std::collections::HashSet<&str> = deliberate
            .members
            .iter()
            .map(|m| m.model.split('/').next().unwrap())
            .collect();
        assert_eq!(families.len(), 3);
        assert_eq!(plan("debate", None, false).unwrap().rounds, 2);
        assert_eq!(plan("local", None, false).unwrap().rounds, 1);
        let flags = plan("local", Some(3), true).unwrap();
        assert_eq!((flags.rounds, flags.ranking), (3, true));
        let e = plan("local", Some(9), false).unwrap_err().to_string();
        assert_eq!(e, "--rounds: rounds must be between 1 and 8, not 9");

        // Saved with the plan and read back.
        let dir = std::env::temp_dir().join(format!("council-rounds-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = save_preset(&dir, "mine", &deliberate).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("rounds = 2") && text.contains("ranking = true"),
            "{text}"
        );
        let loaded = load_preset_file(&path).unwrap().preset;
        assert_eq!((loaded.rounds, loaded.ranking), (Some(2), true));
        std::fs::remove_dir_all(&dir).unwrap();

        let e = err(&format!(
            "rounds = 0\n[[members]]\nmodel = \"a\"\n{OK_TAIL}"
        ));
        assert!(e.starts_with("p.toml:1:10"), "{e}");
        assert!(e.contains("rounds must be between 1 and 8, not 0"), "{e}");
    }

    const OK_TAIL: &str = "[judge]\nmodel = \"j\"\n[synthesizer]\nmodel = \"s\"\n";

    #[test]
    fn errors_name_file_line_and_field() {
        let e = err(&format!(
            "[[members]]\nmodel = \"a\"\ntemprature = 0.5\n{OK_TAIL}"
        ));
        assert!(e.starts_with("p.toml:3:1: "), "{e}");
        assert!(e.contains("unknown field `temprature`"), "{e}");

        let e = err(&format!(
            "[[members]]\nmodel = \"a\"\ntemperature = \"hot\"\n{OK_TAIL}"
        ));
        assert!(e.starts_with("p.toml:3:15: "), "{e}");

        let e = err(&format!(
            "[[members]]\nmodel = \"a\"\ntemperature = 3.5\n{OK_TAIL}"
        ));
        assert!(
            e.starts_with("p.toml:3:15: ") && e.contains("out of range"),
            "{e}"
        );

        let e = err(&format!("[[members]]\nmodel = \"\"\n{OK_TAIL}"));
        assert!(
            e.starts_with("p.toml:2:9: ") && e.contains("must not be empty"),
            "{e}"
        );

        let e = err("[[members]]\nmodel = \"a\"\n[judge]\nmodel = \"j\"\n");
        assert!(e.contains("missing field `synthesizer`"), "{e}");

        let e = err("[[members]\n");
        assert!(e.starts_with("p.toml:1:"), "{e}");

        let e = err(&format!(
            "[[members]]\nname = \"evil\\u001b]0;pwned\\u0007\"\nmodel = \"a\"\n{OK_TAIL}"
        ));
        assert!(
            e.starts_with("p.toml:2:8: ")
                && e.contains("`name`")
                && e.contains("control characters"),
            "{e}"
        );
        let e = err(&format!("[[members]]\nmodel = \"a\\u001b[2J\"\n{OK_TAIL}"));
        assert!(
            e.starts_with("p.toml:2:9: ") && e.contains("control characters"),
            "{e}"
        );

        let e = err(&format!("members = []\n{OK_TAIL}"));
        assert!(e.contains("`members` is empty"), "{e}");

        let e = err(&format!(
            "quorum = 0\n[[members]]\nmodel = \"a\"\n{OK_TAIL}"
        ));
        assert!(
            e.starts_with("p.toml:1:10: ") && e.contains("quorum must be at least 1"),
            "{e}"
        );
        let e = err(&format!(
            "deadline_s = -2.5\n[[members]]\nmodel = \"a\"\n{OK_TAIL}"
        ));
        assert!(
            e.starts_with("p.toml:1:14: ") && e.contains("deadline_s must be a positive"),
            "{e}"
        );
        let e = err(&format!(
            "max_cost = \"lots\"\n[[members]]\nmodel = \"a\"\n{OK_TAIL}"
        ));
        assert!(e.starts_with("p.toml:1:12: "), "{e}");
    }
}
