//! The README's key map is the one the help overlay shows.

use council::tui::keymap::Keymap;

#[test]
fn the_readme_lists_every_key_of_the_help_overlay() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    for (keys, what) in Keymap::default().help() {
        let row = format!("| `{keys}` | {what} |");
        assert!(readme.contains(&row), "README.md lacks the key row {row}");
    }
}

/// The first ```toml block after a heading of the README.
fn toml_after(readme: &str, heading: &str) -> String {
    let at = readme
        .find(heading)
        .unwrap_or_else(|| panic!("README has {heading}"));
    let rest = &readme[at..];
    let start = rest.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let end = rest[start..].find("```").expect("closed");
    rest[start..start + end].to_string()
}

#[test]
fn the_readme_examples_parse() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let preset =
        council::config::presets::parse_preset(&toml_after(&readme, "## Presets"), "README")
            .expect("the preset example parses");
    assert!(preset.members[0].web_search);
    let theme =
        council::tui::theme::parse_theme("readme", &toml_after(&readme, "## Themes"), "README")
            .expect("the theme example parses");
    assert_eq!(theme.members.len(), 3);
    let settings =
        council::config::settings::Settings::parse(&toml_after(&readme, "## Config"), "README")
            .expect("the config example parses");
    assert_eq!(settings.default_preset.as_deref(), Some("budget"));
    assert_eq!(settings.keys.get("cancel"), Some(&'x'));
    assert!(settings.providers.contains_key("gpu-box"));
}

/// A snapshot's screen, one line per row.
fn drawn(snapshot: &str) -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    let snapshot =
        std::fs::read_to_string(format!("{root}/tests/snapshots/{snapshot}")).expect("snapshot");
    snapshot
        .splitn(3, "---\n")
        .nth(2)
        .expect("snapshot body")
        .lines()
        .filter(|l| l.len() >= 2)
        .map(|l| format!("{}\n", &l[1..l.len() - 1]))
        .collect()
}

/// The screens shown in the README (and `assets/`) are the ones the
/// snapshot tests draw, so they cannot drift from the code.
#[test]
fn the_readme_screens_are_the_snapshots() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).expect("README.md");
    for (asset, snapshot) in [
        ("screen.txt", "tui_snapshots__judge_tab_2_120x40.snap"),
        (
            "deliberation.txt",
            "tui_snapshots__second_round_120x40.snap",
        ),
    ] {
        let screen = std::fs::read_to_string(format!("{root}/assets/{asset}")).expect("screen");
        assert_eq!(
            screen,
            drawn(snapshot),
            "assets/{asset} differs from {snapshot}"
        );
        assert!(
            readme.contains(&format!("```text\n{screen}```")),
            "README.md does not show assets/{asset}"
        );
    }
}
