//! Known endpoints and how to reach them: base URL and the environment
//! variable holding the key.

use std::sync::Arc;

use crate::config::ConfigError;
use crate::models;
use crate::provider::local::{self, LocalProvider};
use crate::provider::openai::{ApiKey, OpenAiConfig, OpenAiProvider};
use crate::provider::{Provider, RetryPolicy, Timeouts};

/// An OpenAI-compatible endpoint, or the embedded engine (`local`, whose
/// base URL is unused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderConfig {
    pub name: String,
    pub base_url: String,
    /// The variable holding the API key; `None` for endpoints without keys.
    pub api_key_env: Option<String>,
    /// Whether the key must be set before any request is sent.
    pub key_required: bool,
}

impl ProviderConfig {
    fn builtin(name: &str, base_url: &str, key: Option<&str>, key_required: bool) -> Self {
        Self {
            name: name.into(),
            base_url: base_url.into(),
            api_key_env: key.map(Into::into),
            key_required,
        }
    }
}

/// The providers council knows without configuration.
pub(crate) fn builtin_providers() -> Vec<ProviderConfig> {
    vec![
        ProviderConfig::builtin(
            "openrouter",
            "https://openrouter.ai/api/v1",
            Some("OPENROUTER_API_KEY"),
            true,
        ),
        ProviderConfig::builtin(
            "openai",
            "https://api.openai.com/v1",
            Some("OPENAI_API_KEY"),
            true,
        ),
        ProviderConfig::builtin("ollama", "http://localhost:11434/v1", None, false),
        ProviderConfig::builtin("llamacpp", "http://localhost:8080/v1", None, false),
        ProviderConfig::builtin(
            "vllm",
            "http://localhost:8000/v1",
            Some("VLLM_API_KEY"),
            false,
        ),
        ProviderConfig::builtin("lmstudio", "http://localhost:1234/v1", None, false),
        ProviderConfig::builtin(local::NAME, "", None, false),
    ]
}

pub const DEFAULT_PROVIDER: &str = "openrouter";

/// Whether a base URL is OpenRouter's (by host, not by prefix).
pub(crate) fn is_openrouter(base_url: &str) -> bool {
    crate::provider::openai::is_openrouter(base_url)
}

/// Looks up a built-in provider by name.
pub fn find_provider(name: &str) -> Option<ProviderConfig> {
    builtin_providers().into_iter().find(|p| p.name == name)
}

/// Reads `provider`'s key: from its variable (an empty one counts as
/// unset), else as saved with `council keys set`.
pub fn read_key(var: Option<&str>, provider: &str) -> ApiKey {
    let from_env = ApiKey::new(var.and_then(|v| std::env::var(v).ok()));
    if from_env.is_set() {
        return from_env;
    }
    ApiKey::new(super::keys::get(provider))
}

/// Builds a live provider, failing early when a required key is missing.
pub(crate) fn connect(
    config: &ProviderConfig,
    timeouts: Timeouts,
    retry: RetryPolicy,
) -> Result<Arc<dyn Provider>, ConfigError> {
    if config.name == local::NAME {
        if !LocalProvider::available() {
            return Err(ConfigError::Invalid(
                "this build of council has no local engine (built without the `local` feature); use a remote provider or --base-url".into(),
            ));
        }
        return Ok(Arc::new(LocalProvider::new(models::models_dir())));
    }
    let api_key = read_key(config.api_key_env.as_deref(), &config.name);
    if config.key_required && !api_key.is_set() {
        let var = config.api_key_env.clone().unwrap_or_default();
        return Err(ConfigError::MissingKey {
            provider: config.name.clone(),
            empty: !var.is_empty()
                && !var.contains(['=', '\0'])
                && std::env::var_os(&var).is_some(),
            var,
        });
    }
    let provider = OpenAiProvider::new(OpenAiConfig {
        api_key,
        api_key_env: config.api_key_env.clone(),
        timeouts,
        retry,
        ..OpenAiConfig::new(config.name.clone(), config.base_url.clone())
    })
    .map_err(|e| ConfigError::Invalid(e.message))?;
    Ok(Arc::new(provider))
}
