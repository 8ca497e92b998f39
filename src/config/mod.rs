//! Configuration: where files live, providers, presets, and turning a preset
//! plus command-line overrides into a runnable [`Council`].

pub(crate) mod file_error;
pub mod keys;
pub mod named_files;
pub mod presets;
pub mod providers;
pub mod roles;
pub mod settings;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::engine::council::{
    Council, Endpoint, Endpoints, Fallback, Limits, Seat, SeatSpec, member_names, unique_names,
};
use crate::provider::{Provider, RetryPolicy, Timeouts};
pub use presets::{NamedPreset, Preset, SeatConfig};
pub(crate) use providers::ProviderConfig;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "{var} {state}: export {var}=<your key> (or save it: council keys set {provider}) to use the `{provider}` provider, or point --base-url at a local server",
        state = if *.empty { "is empty" } else { "is not set" }
    )]
    MissingKey {
        provider: String,
        var: String,
        /// Set, but to nothing (or only spaces).
        empty: bool,
    },
    #[error("unknown preset `{name}` (known: {known})")]
    UnknownPreset { name: String, known: String },
    #[error("unknown provider `{name}` (known: {known})")]
    UnknownProvider { name: String, known: String },
    /// A bad file: `origin` is `path:line:column` where the position is known.
    #[error("{origin}: {message}")]
    File { origin: String, message: String },
    #[error("{0}")]
    Invalid(String),
}

/// How a council is asked for on the command line.
#[derive(Debug, Clone, Default)]
pub struct CouncilRequest {
    /// A preset to start from (already loaded).
    pub preset: Option<NamedPreset>,
    /// Panel models replacing the preset's members.
    pub panel: Vec<String>,
    pub judge: Option<String>,
    /// How many times the judge reads the answers (`--judge-samples`), over
    /// the preset's `samples`.
    pub judge_samples: Option<u32>,
    /// Rounds of deliberation (`--rounds`), over the preset's `rounds`.
    pub rounds: Option<u32>,
    /// Peer ranking (`--rank`), on top of the preset's `ranking`.
    pub ranking: bool,
    /// `--quorum`, `--deadline`, `--max-cost`, over the preset's.
    pub limits: Limits,
    /// The config file's `max_cost`, for a preset without one.
    pub default_max_cost: Option<f64>,
    pub synthesizer: Option<String>,
    /// One endpoint for every seat.
    pub base_url: Option<String>,
    /// The variable holding the key for `base_url` (or overriding the
    /// preset's providers' variables).
    pub api_key_env: Option<String>,
    /// Both the first-byte and the idle timeout (`--timeout`), over `timeouts`.
    pub timeout: Option<Duration>,
    /// Timeouts from the config file.
    pub timeouts: Timeouts,
    /// Providers the config file defines or changes, before the built-in ones.
    pub providers: Vec<ProviderConfig>,
    /// `--system` or `--role`: every member's system prompt, over the preset's.
    pub role: Option<roles::Role>,
}

/// The seat settings a request resolves to, before providers are connected.
/// Contains no secrets: it is what a session file records.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CouncilPlan {
    pub preset: Option<String>,
    pub members: Vec<SeatSpec>,
    pub judge: SeatSpec,
    pub synthesizer: SeatSpec,
    /// Where the seats' providers that are not built in live.
    #[serde(default, skip_serializing_if = "Endpoints::is_empty")]
    pub endpoints: Endpoints,
    /// Rounds of a full run (1: no revision).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub rounds: u32,
    /// Members rank each other's answers before the synthesis.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ranking: bool,
    /// Quorum, deadline and budget cap.
    #[serde(default, flatten)]
    pub limits: Limits,
}

fn one() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

impl CouncilPlan {
    /// Every seat: the members, then the judge and the synthesizer.
    pub fn seats(&self) -> impl Iterator<Item = &SeatSpec> {
        self.members.iter().chain([&self.judge, &self.synthesizer])
    }
}

impl From<&Council> for CouncilPlan {
    /// The seats of a connected council.
    fn from(council: &Council) -> Self {
        Self {
            preset: council.preset.clone(),
            members: council.members.iter().map(|s| s.spec.clone()).collect(),
            judge: council.judge.spec.clone(),
            synthesizer: council.synthesizer.spec.clone(),
            endpoints: council.endpoints.clone(),
            rounds: council.rounds,
            ranking: council.ranking,
            limits: council.limits,
        }
    }
}

/// The name used for the single endpoint given by `--base-url`.
pub(crate) const CUSTOM_PROVIDER: &str = "custom";

impl CouncilRequest {
    /// `model` alone, as a `--panel` member of this council would be (on the
    /// preset's provider, or `--base-url`): for `ask -m` and eval baselines.
    pub fn alone(&self, model: &str) -> CouncilRequest {
        CouncilRequest {
            panel: vec![model.to_string()],
            ..self.clone()
        }
    }

    /// Resolves seats: `--panel` replaces the preset's members; without a
    /// preset, the judge and synthesizer default to the first panel model.
    pub fn plan(&self) -> Result<CouncilPlan, ConfigError> {
        let preset = self.preset.as_ref().map(|p| &p.preset);
        let default_provider = match &self.base_url {
            Some(_) => CUSTOM_PROVIDER.to_string(),
            None => preset
                .and_then(|p| p.provider.clone())
                .unwrap_or_else(|| providers::DEFAULT_PROVIDER.into()),
        };
        let provider_for = |seat: &SeatConfig| -> String {
            match &self.base_url {
                Some(_) => CUSTOM_PROVIDER.to_string(),
                None => seat
                    .provider
                    .clone()
                    .unwrap_or_else(|| default_provider.clone()),
            }
        };
        let spec = |seat: &SeatConfig, name: String| seat.to_spec(name, provider_for(seat));

        let seats: Vec<SeatConfig> = if !self.panel.is_empty() {
            self.panel.iter().map(SeatConfig::model).collect()
        } else if let Some(p) = preset {
            p.members.clone()
        } else {
            return Err(ConfigError::Invalid(
                "no panel: give --preset or --panel".into(),
            ));
        };
        if seats.iter().any(|s| s.model.trim().is_empty()) {
            return Err(ConfigError::Invalid(
                "--panel has an empty model name".into(),
            ));
        }
        let slug_names = member_names(&seats.iter().map(|s| s.model.as_str()).collect::<Vec<_>>());
        let names = unique_names(
            seats
                .iter()
                .zip(slug_names)
                .map(|(s, slug)| s.name.clone().unwrap_or(slug))
                .collect(),
        );
        let members: Vec<SeatSpec> = seats.iter().zip(names).map(|(s, n)| spec(s, n)).collect();

        let role =
            |flag: &Option<String>, from_preset: Option<&SeatConfig>, name: &str| -> SeatSpec {
                let mut seat = from_preset
                    .cloned()
                    .unwrap_or_else(|| SeatConfig::model(seats[0].model.clone()));
                if let Some(model) = flag {
                    seat.model = model.clone();
                }
                spec(&seat, name.into())
            };
        let mut judge = role(&self.judge, preset.map(|p| &p.judge), "judge");
        if let Some(n) = self.judge_samples {
            judge.samples = presets::check_samples(n)
                .map_err(|e| ConfigError::Invalid(format!("--judge-samples: {e}")))?;
        }
        let mut plan = CouncilPlan {
            preset: self.preset.as_ref().map(|p| p.name.clone()),
            judge,
            synthesizer: role(
                &self.synthesizer,
                preset.map(|p| &p.synthesizer),
                "synthesizer",
            ),
            members,
            endpoints: Endpoints::new(),
            rounds: match self.rounds {
                Some(n) => presets::check_rounds(n)
                    .map_err(|e| ConfigError::Invalid(format!("--rounds: {e}")))?,
                None => preset.and_then(|p| p.rounds).unwrap_or(1),
            },
            ranking: self.ranking || preset.is_some_and(|p| p.ranking),
            limits: {
                let mut limits = preset
                    .map(Preset::limits)
                    .unwrap_or_default()
                    .overridden_by(self.limits);
                limits.max_cost = limits.max_cost.or(self.default_max_cost);
                limits.check().map_err(ConfigError::Invalid)?;
                limits
            },
        };
        if let Some(q) = plan.limits.quorum
            && q as usize > plan.members.len()
        {
            return Err(ConfigError::Invalid(format!(
                "the quorum of {q} is more than the panel's {} member(s): it could never be met",
                plan.members.len()
            )));
        }
        self.apply_role(&mut plan);
        let from_preset = preset.map(|p| &p.providers);
        plan.endpoints = plan
            .seats()
            .filter_map(|seat| {
                let name = &seat.provider;
                self.endpoint(name, from_preset)
                    .map(|endpoint| (name.clone(), endpoint))
            })
            .collect();
        Ok(plan)
    }

    /// The run flags on a council resolved elsewhere (a continued
    /// session's): rounds, ranking, judge samples and limits, as they apply
    /// to a council this request resolves itself.
    pub(crate) fn apply_run_flags(&self, plan: &mut CouncilPlan) -> Result<(), ConfigError> {
        if let Some(n) = self.rounds {
            plan.rounds = presets::check_rounds(n)
                .map_err(|e| ConfigError::Invalid(format!("--rounds: {e}")))?;
        }
        if let Some(n) = self.judge_samples {
            plan.judge.samples = presets::check_samples(n)
                .map_err(|e| ConfigError::Invalid(format!("--judge-samples: {e}")))?;
        }
        plan.ranking |= self.ranking;
        plan.limits = plan.limits.overridden_by(self.limits);
        plan.limits.max_cost = plan.limits.max_cost.or(self.default_max_cost);
        Ok(())
    }

    /// `--system`/`--role` on every member of `plan` (a preset's or a
    /// session's): it replaces their own system prompts for this run.
    pub(crate) fn apply_role(&self, plan: &mut CouncilPlan) {
        if let Some(role) = &self.role {
            plan.members.iter_mut().for_each(|seat| role.apply(seat));
        }
    }

    /// The endpoint to record for a provider that is not built in: the one
    /// `--base-url` gives, the config file's, or the preset's.
    fn endpoint(&self, name: &str, from_preset: Option<&Endpoints>) -> Option<Endpoint> {
        if name == CUSTOM_PROVIDER
            && let Some(url) = &self.base_url
        {
            return Some(Endpoint {
                base_url: url.clone(),
                api_key_env: self.api_key_env.clone(),
            });
        }
        if let Some(p) = self.providers.iter().find(|p| p.name == name) {
            return (providers::find_provider(name).is_none()).then(|| Endpoint {
                base_url: p.base_url.clone(),
                api_key_env: p.api_key_env.clone(),
            });
        }
        from_preset.and_then(|e| e.get(name)).cloned()
    }

    /// Resolves seats and connects their providers (reading keys from the
    /// environment). Fails before any request when a key is missing.
    pub fn build(&self) -> Result<Council, ConfigError> {
        self.connect(self.plan()?)
    }

    /// Connects the providers of a plan (perhaps edited since [`Self::plan`]).
    /// An unknown provider or a bad URL written in a preset file is reported
    /// at its line there.
    pub(crate) fn connect(&self, plan: CouncilPlan) -> Result<Council, ConfigError> {
        self.connect_plan(plan).map_err(|e| self.at_preset_line(e))
    }

    fn at_preset_line(&self, e: ConfigError) -> ConfigError {
        let Some(presets::PresetSource::File(path)) = self.preset.as_ref().map(|p| &p.source)
        else {
            return e;
        };
        let (field, needle) = match &e {
            ConfigError::UnknownProvider { name, .. } => ("provider", name.clone()),
            ConfigError::Invalid(m) if m.starts_with("invalid base URL `") => (
                "base_url",
                m["invalid base URL `".len()..]
                    .split('`')
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            ),
            _ => return e,
        };
        let Ok(text) = crate::files::read_text_capped(path, crate::files::CONFIG_BYTES) else {
            return e;
        };
        let found = text.lines().enumerate().find_map(|(i, line)| {
            let (key, value) = line.split_once('=')?;
            (key.trim() == field && value.contains(needle.as_str()))
                .then(|| (i + 1, line.len() - value.trim_start().len() + 1))
        });
        match found {
            Some((line, column)) => ConfigError::File {
                origin: format!("{}:{line}:{column}", path.display()),
                message: format!("`{field}`: {e}"),
            },
            None => ConfigError::File {
                origin: path.display().to_string(),
                message: format!("`{field}`: {e}"),
            },
        }
    }

    fn connect_plan(&self, plan: CouncilPlan) -> Result<Council, ConfigError> {
        let mut timeouts = self.timeouts;
        if let Some(t) = self.timeout {
            timeouts.first_byte = t;
            timeouts.idle = t;
        }
        let mut connected: HashMap<String, Arc<dyn Provider>> = HashMap::new();
        let endpoints = plan.endpoints;
        let mut provider = |name: &str| -> Result<Arc<dyn Provider>, ConfigError> {
            if let Some(p) = connected.get(name) {
                return Ok(p.clone());
            }
            let config = self.provider_config(name, &endpoints)?;
            let p = providers::connect(&config, timeouts, RetryPolicy::default())?;
            connected.insert(name.to_string(), p.clone());
            Ok(p)
        };
        let mut seat = |spec: SeatSpec| -> Result<Seat, ConfigError> {
            let config = self.provider_config(&spec.provider, &endpoints)?;
            if spec.web_search && !providers::is_openrouter(&config.base_url) {
                return Err(ConfigError::Invalid(format!(
                    "`{}` asks for web search, which only OpenRouter offers (its provider is `{}`)",
                    spec.name, spec.provider
                )));
            }
            let main = provider(&spec.provider)?;
            let mut fallbacks = Vec::with_capacity(spec.fallbacks.len());
            for written in &spec.fallbacks {
                let (on, model) = self.split_fallback(written, &spec.provider, &endpoints);
                fallbacks.push(Fallback {
                    model: model.to_string(),
                    provider: provider(on)?,
                });
            }
            Ok(Seat {
                spec,
                provider: main,
                fallbacks,
            })
        };
        let members = plan
            .members
            .into_iter()
            .map(&mut seat)
            .collect::<Result<Vec<_>, _>>()?;
        let judge = seat(plan.judge)?;
        let synthesizer = seat(plan.synthesizer)?;
        Ok(Council {
            preset: plan.preset,
            members,
            judge,
            synthesizer,
            endpoints,
            rounds: plan.rounds.max(1),
            ranking: plan.ranking,
            limits: plan.limits,
        })
    }

    /// A provider to ask what it serves: no key is required (OpenRouter
    /// lists without one; a key is sent when there is one). Connecting does
    /// no I/O; the listing itself is the provider's.
    pub(crate) fn lister(
        &self,
        provider: &str,
        endpoints: &Endpoints,
    ) -> Result<Arc<dyn Provider>, ConfigError> {
        let config = ProviderConfig {
            key_required: false,
            ..self.provider_config(provider, endpoints)?
        };
        providers::connect(&config, self.timeouts, RetryPolicy::none())
    }

    /// A fallback as written: `provider:model` when the part before the
    /// first `:` names a provider (so `qwen3:8b` stays a model), else a
    /// model on the seat's own provider.
    fn split_fallback<'a>(
        &self,
        written: &'a str,
        own: &'a str,
        endpoints: &Endpoints,
    ) -> (&'a str, &'a str) {
        if let Some((name, model)) = written.split_once(':') {
            let known = (name == CUSTOM_PROVIDER && self.base_url.is_some())
                || self.providers.iter().any(|p| p.name == name)
                || endpoints.contains_key(name)
                || providers::find_provider(name).is_some();
            if known && !model.is_empty() {
                return (name, model);
            }
        }
        (own, written)
    }

    /// How to reach provider `name`: `--base-url` for `custom`, then the
    /// config file's providers, then the plan's recorded endpoints, then
    /// the built-in ones.
    fn provider_config(
        &self,
        name: &str,
        endpoints: &Endpoints,
    ) -> Result<ProviderConfig, ConfigError> {
        if name == CUSTOM_PROVIDER
            && let Some(url) = &self.base_url
        {
            return Ok(ProviderConfig {
                name: CUSTOM_PROVIDER.into(),
                base_url: url.clone(),
                api_key_env: self.api_key_env.clone(),
                key_required: self.api_key_env.is_some(),
            });
        }
        let configured = self.providers.iter().find(|p| p.name == name).cloned();
        let recorded = || {
            endpoints.get(name).map(|e| ProviderConfig {
                name: name.into(),
                base_url: e.base_url.clone(),
                api_key_env: e.api_key_env.clone(),
                key_required: e.api_key_env.is_some(),
            })
        };
        let mut config = configured
            .or_else(recorded)
            .or_else(|| providers::find_provider(name))
            .ok_or_else(|| ConfigError::UnknownProvider {
                name: name.into(),
                known: providers::builtin_providers()
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        if let Some(var) = &self.api_key_env {
            config.api_key_env = Some(var.clone());
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preset(name: &str) -> NamedPreset {
        presets::find_preset(name, None).unwrap()
    }

    #[test]
    fn panel_override_names_members_and_defaults_roles_to_first_model() {
        let request = CouncilRequest {
            panel: vec![
                "openai/gpt-5".into(),
                "openai/gpt-5".into(),
                "qwen3:8b".into(),
            ],
            ..CouncilRequest::default()
        };
        let plan = request.plan().unwrap();
        let names: Vec<&str> = plan.members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["gpt-5", "gpt-5-2", "qwen3:8b"]);
        assert_eq!(plan.judge.model, "openai/gpt-5");
        assert_eq!(plan.synthesizer.model, "openai/gpt-5");
        assert!(plan.members.iter().all(|m| m.provider == "openrouter"));
    }

    #[test]
    fn preset_roles_stay_unless_overridden() {
        let quality = preset("quality");
        let request = CouncilRequest {
            preset: Some(quality.clone()),
            judge: Some("x/judge".into()),
            ..CouncilRequest::default()
        };
        let plan = request.plan().unwrap();
        assert_eq!(plan.members.len(), quality.preset.members.len());
        assert_eq!(plan.judge.model, "x/judge");
        assert_eq!(plan.synthesizer.model, quality.preset.synthesizer.model);
        assert_eq!(plan.preset.as_deref(), Some("quality"));
    }

    #[test]
    fn base_url_puts_every_seat_on_one_endpoint() {
        let request = CouncilRequest {
            panel: vec!["a".into(), "b".into()],
            base_url: Some("http://127.0.0.1:9/v1".into()),
            ..CouncilRequest::default()
        };
        let council = request.build().unwrap();
        assert!(
            council
                .members
                .iter()
                .chain([&council.judge, &council.synthesizer])
                .all(|s| s.spec.provider == "custom")
        );
    }

    #[test]
    fn missing_key_names_the_variable() {
        let request = CouncilRequest {
            panel: vec!["a".into()],
            api_key_env: Some("COUNCIL_TEST_SURELY_UNSET_KEY".into()),
            ..CouncilRequest::default()
        };
        let e = request.build().unwrap_err().to_string();
        assert!(
            e.starts_with("COUNCIL_TEST_SURELY_UNSET_KEY is not set"),
            "{e}"
        );
    }
}
