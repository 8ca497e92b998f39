//! The README's key map is the one the help overlay shows.

use council::tui::keymap::Keymap;

#[test]
fn the_readme_lists_every_key_of_the_help_overlay() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    for section in Keymap::default().help() {
        // Each overlay's keys under their own heading, in order.
        let rest = match section.title {
            "" => readme.as_str(),
            title => {
                let heading = format!("#### {title}\n");
                let at = readme
                    .find(&heading)
                    .unwrap_or_else(|| panic!("README.md lacks the heading {heading}"));
                &readme[at..]
            }
        };
        for (keys, what) in section.rows {
            let row = format!("| `{keys}` | {what} |");
            assert!(rest.contains(&row), "README.md lacks the key row {row}");
        }
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

/// Whether `word` stands in `text` as a whole word (not inside another name).
fn names(text: &str, word: &str) -> bool {
    let is_name = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_name) && !after.is_some_and(is_name)
    })
}

/// The README's layout names every module of `src/`: each file and folder
/// at the top, and every file and folder inside those folders.
#[test]
fn the_readme_layout_names_every_module() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let at = readme.find("## Layout").expect("a layout section");
    let rest = &readme[at..];
    let start = rest.find("```text\n").expect("a text block") + "```text\n".len();
    let block = &rest[start..start + rest[start..].find("```").expect("closed")];
    let entries = |dir: &std::path::Path| -> Vec<(String, bool)> {
        let mut out: Vec<(String, bool)> = std::fs::read_dir(dir)
            .expect("a folder")
            .map(|e| e.expect("an entry"))
            .map(|e| {
                let is_dir = e.file_type().expect("a type").is_dir();
                (e.file_name().to_string_lossy().into_owned(), is_dir)
            })
            .collect();
        out.sort();
        out
    };
    let mut missing = Vec::new();
    for (name, is_dir) in entries(&root.join("src")) {
        if !is_dir {
            if !names(block, &name) {
                missing.push(format!("src/{name}"));
            }
            continue;
        }
        if !block.contains(&format!("{name}/")) {
            missing.push(format!("src/{name}/"));
        }
        // Every file and folder below, at any depth, by its name.
        let mut folders = vec![format!("src/{name}")];
        while let Some(folder) = folders.pop() {
            for (inner, is_dir) in entries(&root.join(&folder)) {
                if is_dir {
                    folders.push(format!("{folder}/{inner}"));
                }
                let stem = inner.trim_end_matches(".rs");
                if stem != "mod" && !names(block, stem) {
                    missing.push(format!("{folder}/{inner}"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "README.md's layout does not name {missing:?}"
    );
}
