//! The README's key map is the one the help overlay shows.

use council::tui::keymap::HELP;

#[test]
fn the_readme_lists_every_key_of_the_help_overlay() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    for (keys, what) in HELP {
        let row = format!("| `{keys}` | {what} |");
        assert!(readme.contains(&row), "README.md lacks the key row {row}");
    }
}
