//! Colours of the interface, from flat TOML files in `themes/` (embedded)
//! and the user's themes dir. Each member has a colour used everywhere it
//! appears: its pane border, its badges in the judge's findings.

use std::path::Path;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use toml::Spanned;

use crate::config::ConfigError;
use crate::config::file_error::{toml_error, value_error};
use crate::tui::markdown::MarkdownStyle;

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub(crate) name: String,
    pub(crate) text: Color,
    pub(crate) dim: Color,
    pub(crate) border: Color,
    pub(crate) focus: Color,
    pub(crate) title: Color,
    pub(crate) accent: Color,
    pub(crate) ok: Color,
    pub(crate) warn: Color,
    pub(crate) error: Color,
    pub(crate) code_bg: Color,
    /// Text on a member's badge.
    pub(crate) badge_text: Color,
    pub members: Vec<Color>,
}

impl Default for Theme {
    /// The `dark` theme.
    fn default() -> Self {
        Self {
            name: "dark".into(),
            text: Color::Reset,
            dim: Color::DarkGray,
            border: Color::Gray,
            focus: Color::Cyan,
            title: Color::White,
            accent: Color::Yellow,
            ok: Color::Green,
            warn: Color::Yellow,
            error: Color::Red,
            code_bg: Color::Rgb(40, 40, 48),
            badge_text: Color::Black,
            members: vec![
                Color::Rgb(97, 175, 239),
                Color::Rgb(229, 192, 123),
                Color::Rgb(152, 195, 121),
                Color::Rgb(198, 120, 221),
                Color::Rgb(224, 108, 117),
                Color::Rgb(86, 182, 194),
                Color::Rgb(209, 154, 102),
                Color::Rgb(171, 178, 191),
            ],
        }
    }
}

/// The themes shipped in `themes/`, embedded at build time.
pub(crate) const BUILTIN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    (
        "catppuccin-mocha",
        include_str!("../../themes/catppuccin-mocha.toml"),
    ),
];

/// A theme file as written: every colour optional (missing ones come from
/// `dark`), each kept with its position for errors.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    text: Option<Spanned<String>>,
    dim: Option<Spanned<String>>,
    border: Option<Spanned<String>>,
    focus: Option<Spanned<String>>,
    title: Option<Spanned<String>>,
    accent: Option<Spanned<String>>,
    ok: Option<Spanned<String>>,
    warn: Option<Spanned<String>>,
    error: Option<Spanned<String>>,
    code_bg: Option<Spanned<String>>,
    badge_text: Option<Spanned<String>>,
    members: Option<Spanned<Vec<Spanned<String>>>>,
}

/// Parses theme text; errors name the file, line, column and field.
pub fn parse_theme(name: &str, text: &str, origin: &str) -> Result<Theme, ConfigError> {
    let file: ThemeFile = toml::from_str(text).map_err(|e| toml_error(origin, text, &e))?;
    let colour = |field: &str, value: &Option<Spanned<String>>, fallback: Color| match value {
        None => Ok(fallback),
        Some(v) => parse_colour(v.get_ref())
            .ok_or_else(|| value_error(origin, text, v.span().start, field, &unknown(v.get_ref()))),
    };
    let base = Theme::default();
    let members = match &file.members {
        None => base.members.clone(),
        Some(list) if list.get_ref().is_empty() => {
            return Err(value_error(
                origin,
                text,
                list.span().start,
                "members",
                "needs at least one colour",
            ));
        }
        Some(list) => list
            .get_ref()
            .iter()
            .map(|v| {
                parse_colour(v.get_ref()).ok_or_else(|| {
                    value_error(
                        origin,
                        text,
                        v.span().start,
                        "members",
                        &unknown(v.get_ref()),
                    )
                })
            })
            .collect::<Result<_, _>>()?,
    };
    Ok(Theme {
        name: name.into(),
        text: colour("text", &file.text, base.text)?,
        dim: colour("dim", &file.dim, base.dim)?,
        border: colour("border", &file.border, base.border)?,
        focus: colour("focus", &file.focus, base.focus)?,
        title: colour("title", &file.title, base.title)?,
        accent: colour("accent", &file.accent, base.accent)?,
        ok: colour("ok", &file.ok, base.ok)?,
        warn: colour("warn", &file.warn, base.warn)?,
        error: colour("error", &file.error, base.error)?,
        code_bg: colour("code_bg", &file.code_bg, base.code_bg)?,
        badge_text: colour("badge_text", &file.badge_text, base.badge_text)?,
        members,
    })
}

fn unknown(value: &str) -> String {
    format!(
        "unknown colour \"{value}\": use a name (red, light-blue, dark-gray, reset, ...), an index 0-255, or #rrggbb"
    )
}

/// Names as ratatui spells them (`light-red`, `lightred`, `dark-gray`),
/// indices and `#rrggbb`.
pub(crate) fn parse_colour(value: &str) -> Option<Color> {
    Color::from_str(value.trim()).ok()
}

/// Every theme: the built-in ones, then the user's `*.toml` (a file named
/// like a built-in replaces it). Broken user files come back as errors
/// beside the themes that loaded.
pub(crate) fn all_themes(user_dir: Option<&Path>) -> (Vec<Theme>, Vec<ConfigError>) {
    crate::config::named_files::load_layered(
        "themes",
        "toml",
        BUILTIN,
        user_dir,
        |e| parse_theme(e.name, e.text, e.origin),
        |t| &t.name,
    )
}

/// For `NO_COLOR`: the terminal's own colours; focus and status are shown
/// by weight and borders alone.
pub(crate) fn no_color() -> Theme {
    Theme {
        name: "no-color".into(),
        text: Color::Reset,
        dim: Color::Reset,
        border: Color::Reset,
        focus: Color::Reset,
        title: Color::Reset,
        accent: Color::Reset,
        ok: Color::Reset,
        warn: Color::Reset,
        error: Color::Reset,
        code_bg: Color::Reset,
        badge_text: Color::Reset,
        members: vec![Color::Reset],
    }
}

impl Theme {
    /// The colour of member `i` (the palette repeats past its length).
    pub(crate) fn member(&self, i: usize) -> Color {
        self.members[i % self.members.len().max(1)]
    }

    pub(crate) fn markdown(&self) -> MarkdownStyle {
        MarkdownStyle {
            text: Style::default().fg(self.text),
            heading: Style::default()
                .fg(self.accent)
                .add_modifier(Modifier::BOLD),
            code: Style::default().fg(self.accent).bg(self.code_bg),
            code_block: Style::default().fg(self.text).bg(self.code_bg),
            quote: Style::default().fg(self.dim),
            bullet: Style::default().fg(self.accent),
            link: Style::default().add_modifier(Modifier::UNDERLINED),
            rule: Style::default().fg(self.dim),
        }
    }

    /// A member's badge: its name on its colour.
    pub(crate) fn badge(&self, i: usize) -> Style {
        let style = Style::default().add_modifier(Modifier::BOLD);
        if self.member(i) == Color::Reset {
            // No colour to put the name on: reverse video marks it instead.
            return style.add_modifier(Modifier::REVERSED);
        }
        style.fg(self.badge_text).bg(self.member(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_theme_parses_and_dark_is_the_default() {
        let (themes, errors) = all_themes(None);
        assert!(errors.is_empty());
        assert_eq!(themes.len(), BUILTIN.len());
        assert_eq!(themes[0], Theme::default());
        for t in &themes {
            assert_eq!(t.members.len(), 8, "{}", t.name);
        }
    }

    fn err(text: &str) -> String {
        parse_theme("t", text, "t.toml").unwrap_err().to_string()
    }

    #[test]
    fn bad_themes_name_file_line_and_field() {
        let e = err("text = \"reset\"\naccent = \"yelow\"\n");
        assert!(
            e.starts_with("t.toml:2:10: `accent`: unknown colour \"yelow\""),
            "{e}"
        );
        let e = err("members = [\"red\", \"#12345\"]\n");
        assert!(
            e.starts_with("t.toml:1:19: `members`: unknown colour \"#12345\""),
            "{e}"
        );
        let e = err("acent = \"red\"\n");
        assert!(
            e.starts_with("t.toml:1:1: ") && e.contains("unknown field `acent`"),
            "{e}"
        );
        let e = err("ok = 3\n");
        assert!(e.starts_with("t.toml:1:6: `ok`: invalid type"), "{e}");
        let e = err("members = []\n");
        assert!(e.contains("`members`: needs at least one colour"), "{e}");
        let e = err("ok = \"green\n");
        assert!(e.starts_with("t.toml:1:"), "{e}");
    }

    #[test]
    fn colours_by_name_index_and_hex() {
        assert_eq!(parse_colour("light-blue"), Some(Color::LightBlue));
        assert_eq!(parse_colour("reset"), Some(Color::Reset));
        assert_eq!(parse_colour("208"), Some(Color::Indexed(208)));
        assert_eq!(parse_colour("#ff8000"), Some(Color::Rgb(255, 128, 0)));
        assert_eq!(parse_colour("no-such"), None);
    }

    #[test]
    fn a_user_theme_replaces_a_shipped_one_and_a_broken_one_is_reported() {
        let dir = std::env::temp_dir().join(format!("council-themes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("light.toml"), "accent = \"red\"\n").unwrap();
        std::fs::write(dir.join("mine.toml"), "focus = \"blue\"\n").unwrap();
        std::fs::write(dir.join("broken.toml"), "focus = \"bleu\"\n").unwrap();
        let (themes, errors) = all_themes(Some(&dir));
        std::fs::remove_dir_all(&dir).unwrap();
        let light = themes.iter().find(|t| t.name == "light").unwrap();
        assert_eq!(light.accent, Color::Red);
        assert!(
            themes
                .iter()
                .any(|t| t.name == "mine" && t.focus == Color::Blue)
        );
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].to_string().contains("broken.toml:1:9: `focus`"),
            "{}",
            errors[0]
        );
    }
}
