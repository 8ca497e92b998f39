//! `council presets`: the presets there are, and one printed as TOML.

use std::process::ExitCode;

use clap::Subcommand;
use council::config::presets::{self, BUILTIN, NamedPreset, PresetSource, SeatConfig};
use council::paths;
use council::sanitize::sanitize;

use super::{EXIT_USAGE, fail};

#[derive(Debug, Subcommand)]
pub(crate) enum PresetsCommand {
    /// List presets: members, judge, synthesizer and where each comes from (the default).
    List,
    /// Print one preset as TOML.
    Show {
        /// A preset name, or a path to a preset file.
        name: String,
    },
}

pub(super) fn presets(command: Option<PresetsCommand>) -> ExitCode {
    let dir = paths::presets_dir();
    match command.unwrap_or(PresetsCommand::List) {
        PresetsCommand::List => {
            let (all, errors) = presets::all_presets(dir.as_deref());
            for p in &all {
                print!("{}", sanitize(&describe(p)));
            }
            for e in &errors {
                eprintln!(
                    "council: skipped {}",
                    council::sanitize::sanitize(&e.to_string())
                );
            }
            ExitCode::SUCCESS
        }
        PresetsCommand::Show { name } => match presets::find_preset(&name, dir.as_deref()) {
            Ok(p) => {
                print!("{}", sanitize(&source_text(&p)));
                ExitCode::SUCCESS
            }
            Err(e) => fail(EXIT_USAGE, e),
        },
    }
}

fn seat(s: &SeatConfig) -> String {
    match &s.name {
        Some(name) => format!("{name} ({})", s.model),
        None => s.model.clone(),
    }
}

fn describe(p: &NamedPreset) -> String {
    let from = match &p.source {
        PresetSource::Builtin => "built in".to_string(),
        PresetSource::File(path) => path.display().to_string(),
    };
    let members: Vec<String> = p.preset.members.iter().map(seat).collect();
    let mut out = format!("{}  ({from})\n", p.name);
    if let Some(d) = &p.preset.description {
        out.push_str(&format!("  {d}\n"));
    }
    out.push_str(&format!("  members      {}\n", members.join(", ")));
    out.push_str(&format!("  judge        {}\n", seat(&p.preset.judge)));
    out.push_str(&format!(
        "  synthesizer  {}\n\n",
        seat(&p.preset.synthesizer)
    ));
    out
}

/// The preset as its file says it, comments included; a file that cannot be
/// read again is printed from what was loaded.
fn source_text(p: &NamedPreset) -> String {
    let text = match &p.source {
        PresetSource::Builtin => BUILTIN
            .iter()
            .find(|(name, _)| *name == p.name)
            .map(|(_, text)| text.to_string()),
        PresetSource::File(path) => {
            council::files::read_text_capped(path, council::files::CONFIG_BYTES).ok()
        }
    };
    text.unwrap_or_else(|| toml::to_string_pretty(&p.preset).unwrap_or_default())
}
