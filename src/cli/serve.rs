//! `council serve`: the council behind an OpenAI-compatible endpoint.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use council::config::presets;
use council::config::settings::Settings;
use council::paths;
use council::serve::{self, Councils, DEFAULT_BODY_LIMIT, ServeConfig};

use super::{CouncilArgs, EXIT_FAILED, EXIT_USAGE, ask, fail, models};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Progress {
    Reasoning,
    None,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The council served as the model `council`; every preset is served
    /// as `council/<preset>` on the same endpoint settings.
    #[command(flatten)]
    pub council: CouncilArgs,
    /// Where to listen (another address than loopback only when given).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Require `Authorization: Bearer <the value of VAR>` from clients.
    #[arg(long, value_name = "VAR")]
    pub api_key_env: Option<String>,
    /// Environment variable holding the providers' API key (what `ask`
    /// calls --api-key-env).
    #[arg(long, value_name = "VAR")]
    pub upstream_key_env: Option<String>,
    /// Councils running at once; more wait in the queue.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub max_concurrent: u32,
    /// Requests that may wait for a free slot; past them, 429 with Retry-After.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub queue: u32,
    /// Progress sent to clients as `reasoning_content` before the answer,
    /// or none (a request may say otherwise: `x-council-progress`).
    #[arg(long, value_enum, default_value = "reasoning")]
    pub progress: Progress,
    /// A `Host` name to answer to besides loopback ones (repeatable); with
    /// it, a server on another address answers only to the names given.
    #[arg(long = "allow-host", value_name = "NAME")]
    pub allow_hosts: Vec<String>,
    /// Let browser pages from ORIGIN (`*`: any) call the server (CORS); off
    /// by default.
    #[arg(long, value_name = "ORIGIN")]
    pub cors: Option<String>,
    /// Seconds a request's headers, or its body, may take to arrive; an idle
    /// keep-alive connection is closed after as long.
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=30))]
    pub read_timeout: u64,
    /// Seconds running councils may take to finish after Ctrl-C or SIGTERM.
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub grace: u64,
}

pub(super) async fn serve(args: ServeArgs, settings: &Settings) -> ExitCode {
    let bearer = match &args.api_key_env {
        Some(var) => match std::env::var(var) {
            Ok(value) if !value.trim().is_empty() => Some(value.trim().to_string()),
            Ok(_) => {
                return fail(
                    EXIT_USAGE,
                    format!("--api-key-env {var}: the variable is empty"),
                );
            }
            Err(_) => {
                return fail(
                    EXIT_USAGE,
                    format!("--api-key-env {var}: the variable is not set"),
                );
            }
        },
        None => None,
    };
    let request = match ask::council_request(&args.council, settings) {
        Ok(r) => r,
        Err(e) => return fail(EXIT_USAGE, e),
    };
    // The command line's council must work before anyone is told to ask it.
    if let Err(code) = models::fetch_for(&request) {
        return code;
    }
    if let Err(e) = request.build() {
        return fail(EXIT_USAGE, e);
    }
    let (presets, problems) = presets::all_presets(paths::presets_dir().as_deref());
    for problem in problems {
        eprintln!(
            "council: {} (not served)",
            council::sanitize::sanitize(&problem.to_string())
        );
    }
    let listener = match tokio::net::TcpListener::bind(&args.listen).await {
        Ok(l) => l,
        Err(e) => {
            return fail(
                EXIT_FAILED,
                format!("cannot listen on {}: {e}", args.listen),
            );
        }
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => return fail(EXIT_FAILED, e),
    };
    if !addr.ip().is_loopback() && bearer.is_none() {
        eprintln!(
            "council: warning: serving on {addr} without --api-key-env: anyone who can reach it \
             can spend your providers' credits"
        );
    }
    let councils = Councils {
        default: request,
        presets,
    };
    println!(
        "council: serving {} on {}",
        councils.ids().join(", "),
        serve::describe(addr)
    );
    let config = ServeConfig {
        bearer,
        max_concurrent: args.max_concurrent as usize,
        queue: args.queue as usize,
        body_limit: DEFAULT_BODY_LIMIT,
        grace: Duration::from_secs(args.grace),
        progress: args.progress == Progress::Reasoning,
        presets_dir: paths::presets_dir(),
        allow_hosts: args.allow_hosts.clone(),
        cors: args.cors.clone(),
        read_timeout: Duration::from_secs(args.read_timeout),
    };
    let grace = args.grace;
    let shutdown = async move {
        shutdown_signal().await;
        eprintln!("council: stopping: no new requests; running councils have {grace} s to finish");
    };
    match serve::serve(listener, councils, config, shutdown).await {
        Ok(()) => {
            eprintln!("council: stopped");
            ExitCode::SUCCESS
        }
        Err(e) => fail(EXIT_FAILED, e),
    }
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}
