//! The `council` binary: parses the command line and hands off to a front.
#![warn(unreachable_pub)]

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    if let Err(e) = color_eyre::install() {
        eprintln!("council: {e}");
    }
    let args = cli::Cli::parse();
    // One thread drives the network, the engine's events and the screen:
    // the work per token is small, and idle workers of a multi-threaded
    // runtime spin on every wake-up. Disk work and the embedded engine run
    // on threads of their own.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("council: cannot start the async runtime: {e}");
            return ExitCode::from(cli::EXIT_FAILED);
        }
    };
    runtime.block_on(cli::dispatch(args))
}
