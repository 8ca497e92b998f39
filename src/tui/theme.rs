//! Colours of the interface. Each member has a colour used everywhere it
//! appears: its pane border, its badges in the judge's findings.

use ratatui::style::{Color, Modifier, Style};

use crate::tui::markdown::MarkdownStyle;

#[derive(Debug, Clone)]
pub struct Theme {
    pub text: Color,
    pub dim: Color,
    pub border: Color,
    pub focus: Color,
    pub title: Color,
    pub accent: Color,
    pub ok: Color,
    pub warn: Color,
    pub error: Color,
    pub code_bg: Color,
    pub members: Vec<Color>,
}

impl Default for Theme {
    fn default() -> Self {
        Self {
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

impl Theme {
    /// The colour of member `i` (the palette repeats past its length).
    pub fn member(&self, i: usize) -> Color {
        self.members[i % self.members.len().max(1)]
    }

    pub fn markdown(&self) -> MarkdownStyle {
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
    pub fn badge(&self, i: usize) -> Style {
        Style::default()
            .fg(Color::Black)
            .bg(self.member(i))
            .add_modifier(Modifier::BOLD)
    }
}
