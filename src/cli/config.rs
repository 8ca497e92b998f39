//! `council config path|show|init|edit`.

use std::path::Path;
use std::process::ExitCode;

use council::config::keys;
use council::config::settings::{self, Settings};

use super::{ConfigCommand, EXIT_FAILED, EXIT_USAGE, fail};

/// The commands that work on the file itself (even a broken one).
pub(super) fn file_command(command: &ConfigCommand, file: Option<&Path>) -> ExitCode {
    let Some(path) = file else {
        return fail(EXIT_FAILED, "no config dir: HOME is not set");
    };
    match command {
        ConfigCommand::Path => {
            println!("{}", path.display());
            ExitCode::SUCCESS
        }
        ConfigCommand::Init => init(path),
        ConfigCommand::Edit => edit(path),
        ConfigCommand::Show => ExitCode::SUCCESS,
    }
}

fn init(path: &Path) -> ExitCode {
    if path.exists() {
        return fail(
            EXIT_FAILED,
            format!("{} exists; `council config edit` opens it", path.display()),
        );
    }
    if let Some(dir) = path.parent()
        && let Err(e) = council::paths::create_private_dir(dir)
    {
        return fail(EXIT_FAILED, format!("{}: {e}", dir.display()));
    }
    // Never over a file made meanwhile.
    let written = council::paths::private_file()
        .write(true)
        .create_new(true)
        .open(path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, settings::template().as_bytes()));
    match written {
        Ok(()) => {
            eprintln!("council: wrote {}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => fail(EXIT_FAILED, format!("{}: {e}", path.display())),
    }
}

/// Opens the file (made from the template when missing), then checks what
/// was saved: a mistake is reported with its line and column.
fn edit(path: &Path) -> ExitCode {
    if !path.exists() {
        let code = init(path);
        if code != ExitCode::SUCCESS {
            return code;
        }
    }
    if let Err(e) = council::editor::edit_file(path) {
        return fail(EXIT_FAILED, e);
    }
    match Settings::load(path) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => fail(
            EXIT_USAGE,
            format!("{e} (the file is saved as edited; `council config edit` again to fix it)"),
        ),
    }
}

/// The settings in effect, each with where it comes from.
pub(super) fn show(settings: &Settings, file: Option<&Path>) -> ExitCode {
    let exists = file.is_some_and(Path::exists);
    let from_file = "config.toml";
    let source = |set: bool| if set { from_file } else { "default" };
    match file {
        Some(path) if exists => println!("# {}", path.display()),
        Some(path) => println!(
            "# {} (missing: every setting is its default)",
            path.display()
        ),
        None => println!("# no config dir: HOME is not set"),
    }
    let preset = super::ask::default_preset_for(settings, None, false);
    let line = |name: &str, value: String, from: &str| println!("{name} = {value}  # {from}");
    line(
        "default_preset",
        format!("{preset:?}"),
        if settings.default_preset.is_some() {
            from_file
        } else {
            "default: quality with an OpenRouter key, local without"
        },
    );
    line(
        "context",
        format!("{:?}", format!("{:?}", settings.context).to_lowercase()),
        source(settings.context != Default::default()),
    );
    match settings.max_cost {
        Some(c) => line("max_cost", format!("{c}"), from_file),
        None => line("max_cost", "none".into(), "default"),
    }
    let t = settings.timeouts();
    let d = council::provider::Timeouts::default();
    for (name, value, default) in [
        ("timeouts.connect", t.connect, d.connect),
        ("timeouts.first_byte", t.first_byte, d.first_byte),
        ("timeouts.idle", t.idle, d.idle),
    ] {
        line(name, value.as_secs().to_string(), source(value != default));
    }
    for (name, key) in &settings.keys {
        line(&format!("keys.{name}"), format!("{key:?}"), from_file);
    }
    for p in settings.provider_configs() {
        let var = p.api_key_env.clone().unwrap_or_default();
        let key = if var.is_empty() {
            "no key needed".to_string()
        } else if std::env::var(&var).is_ok_and(|v| !v.trim().is_empty()) {
            format!("key from ${var}")
        } else if keys::names().contains(&p.name) {
            "key saved with council keys".into()
        } else {
            format!("no key (${var} unset)")
        };
        println!(
            "providers.{} = {}  # {from_file}; {key}",
            p.name,
            council::sanitize::url_without_userinfo(&p.base_url)
        );
    }
    ExitCode::SUCCESS
}
