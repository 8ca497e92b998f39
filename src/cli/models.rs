//! `council models`: what an endpoint serves (id, context length, prices).

use std::process::ExitCode;

use clap::Args;
use council::config::providers::{self, ProviderConfig};
use council::provider::openai::{OpenAiConfig, OpenAiProvider};
use council::sanitize::sanitize;

use super::{EXIT_FAILED, EXIT_USAGE, fail};

#[derive(Debug, Args)]
pub struct ModelsArgs {
    /// A built-in provider: openrouter, openai, ollama, llamacpp, vllm, lmstudio.
    #[arg(long, default_value = providers::DEFAULT_PROVIDER)]
    pub provider: String,
    /// Any OpenAI-compatible endpoint instead of a named provider.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Environment variable holding the API key.
    #[arg(long, value_name = "VAR")]
    pub api_key_env: Option<String>,
    /// Only models whose id contains this text.
    #[arg(long)]
    pub filter: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn models(args: ModelsArgs) -> ExitCode {
    let config = match &args.base_url {
        Some(url) => ProviderConfig {
            name: "custom".into(),
            base_url: url.clone(),
            api_key_env: args.api_key_env.clone(),
            key_required: false,
        },
        None => match providers::find_provider(&args.provider) {
            Some(mut p) => {
                if args.api_key_env.is_some() {
                    p.api_key_env = args.api_key_env.clone();
                }
                p
            }
            None => return fail(EXIT_USAGE, format!("unknown provider `{}`", args.provider)),
        },
    };
    // Listing needs no key on OpenRouter; send one when it is there.
    let client = OpenAiProvider::new(OpenAiConfig {
        api_key: providers::read_key(config.api_key_env.as_deref()),
        api_key_env: config.api_key_env.clone(),
        ..OpenAiConfig::new(config.name.clone(), config.base_url.clone())
    });
    let client = match client {
        Ok(c) => c,
        Err(e) => return fail(EXIT_USAGE, e),
    };
    let mut list = match client.list_models().await {
        Ok(list) => list,
        Err(e) => {
            return fail(
                EXIT_FAILED,
                format!("{}: {}", config.base_url, sanitize(&e.message)),
            );
        }
    };
    if let Some(f) = &args.filter {
        let f = f.to_lowercase();
        list.retain(|m| m.id.to_lowercase().contains(&f));
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&list).unwrap_or_default()
        );
        return ExitCode::SUCCESS;
    }
    for m in &list {
        let context = m
            .context_length
            .map(|c| format!("{c:>9}"))
            .unwrap_or_else(|| format!("{:>9}", "-"));
        let price = m
            .pricing
            .and_then(|p| Some((p.prompt?, p.completion?)))
            .map(|(i, o)| format!("${:.2}/${:.2} per M", i * 1e6, o * 1e6))
            .unwrap_or_default();
        println!("{:<50} {context}  {price}", sanitize(&m.id));
    }
    ExitCode::SUCCESS
}
