//! The `council` binary: parses the command line and hands off to a front.
#![warn(unreachable_pub)]

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    install_crash_report(cli::color::from_argv(&argv));
    let args = match cli::parse(argv) {
        Ok(args) => args,
        Err(code) => return code,
    };
    if args.only_prints() {
        // A closed pipe ends the process quietly, not in a panic (Rust
        // ignores SIGPIPE, so every print would fail instead).
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    // One thread drives the network, the engine's events and the screen:
    // the work per token is small, and idle workers of a multi-threaded
    // runtime spin on every wake-up. Disk work and the embedded engine run
    // on threads of their own. A server answers many clients at once: one
    // busy request must not hold the others, so it gets a worker per core.
    let mut builder = if args.serves() {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("council: cannot start the async runtime: {e}");
            return ExitCode::from(cli::EXIT_FAILED);
        }
    };
    runtime.block_on(cli::dispatch(args))
}

/// The report a panic or an error prints: coloured as `--color` says
/// (by default only for a terminal, and never when NO_COLOR is set).
fn install_crash_report(when: cli::color::ColorWhen) {
    use std::io::IsTerminal;
    let plain = !when.colours(std::io::stderr().is_terminal());
    let hook = color_eyre::config::HookBuilder::default();
    let hook = if plain {
        hook.theme(color_eyre::config::Theme::new())
    } else {
        hook
    };
    if let Err(e) = hook.install() {
        eprintln!("council: {e}");
    }
}
