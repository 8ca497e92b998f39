//! The panel editor's state: the council's seats being edited (members,
//! judge, synthesizer), which seat and field are selected, and a text input
//! while a field is edited. Keys come in, an outcome goes out; no I/O.

use crate::tui::action::PanelAction;
use crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;

use std::collections::HashMap;

use crate::config::CouncilPlan;
use crate::config::presets::{check_max_tokens, check_temperature};
use crate::config::roles::Role;
use crate::engine::SeatSpec;
use crate::engine::council::{member_names, unique_names};
use crate::models::listing::Listing;
use crate::provider::ModelInfo;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Name,
    Model,
    Temperature,
    MaxTokens,
    SystemPrompt,
    WebSearch,
}

impl Field {
    pub(crate) const ALL: [Field; 6] = [
        Field::Name,
        Field::Model,
        Field::Temperature,
        Field::MaxTokens,
        Field::SystemPrompt,
        Field::WebSearch,
    ];

    pub(crate) fn label(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Model => "model",
            Field::Temperature => "temperature",
            Field::MaxTokens => "max tokens",
            Field::SystemPrompt => "system prompt",
            Field::WebSearch => "web search",
        }
    }
}

/// What the editor asks of the app after a key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum EditorOutcome {
    Stay,
    /// Close, keeping the edits for the next run.
    Close,
    /// Save the plan as a preset of this name.
    Save(String),
}

/// What the editor is doing: one thing at a time.
#[derive(Default)]
pub(crate) enum Mode {
    /// Moving over the seats and their fields.
    #[default]
    Seats,
    /// Choosing a model from the listing; typing filters it.
    Models(Picker),
    /// Choosing a saved role for the member: the highlighted row.
    Roles(usize),
    /// Editing the selected field.
    Field(TextArea<'static>),
    /// Typing the name to save the seats as a preset under.
    Naming(TextArea<'static>),
}

/// Choosing a model from the provider's listing; typing filters it.
pub struct Picker {
    pub(crate) query: TextArea<'static>,
    pub(crate) selected: usize,
}

impl Picker {
    pub(crate) fn query(&self) -> String {
        self.query.lines().join("")
    }
}

pub struct PanelEditor {
    pub plan: CouncilPlan,
    /// What each provider serves, as far as known.
    pub listings: HashMap<String, Listing>,
    /// Why a provider's listing could not be had.
    pub(crate) listing_errors: HashMap<String, String>,
    /// What the keys do now.
    pub(crate) mode: Mode,
    /// A row: members first, then the judge, then the synthesizer.
    pub(crate) selected: usize,
    pub(crate) field: Field,
    /// Why the last edit was refused.
    pub(crate) error: Option<String>,
    /// Saved roles (`~/.config/council/roles`), for `o`.
    pub(crate) roles: Vec<Role>,
    /// Members added here whose names were made from their model: a new
    /// model renames them (until a name is typed).
    named_by_model: std::collections::HashSet<String>,
}

impl PanelEditor {
    pub fn new(plan: CouncilPlan) -> Self {
        Self {
            plan,
            listings: HashMap::new(),
            listing_errors: HashMap::new(),
            mode: Mode::Seats,
            named_by_model: Default::default(),
            selected: 0,
            field: Field::Model,
            error: None,
            roles: Vec::new(),
        }
    }

    pub(crate) fn rows(&self) -> usize {
        self.plan.members.len() + 2
    }

    /// The role of a row: `member`, `judge` or `synthesizer`.
    pub(crate) fn role(&self, row: usize) -> &'static str {
        match row.checked_sub(self.plan.members.len()) {
            None => "member",
            Some(0) => "judge",
            Some(_) => "synthesizer",
        }
    }

    pub(crate) fn seat(&self, row: usize) -> &SeatSpec {
        let n = self.plan.members.len();
        match row.checked_sub(n) {
            None => &self.plan.members[row],
            Some(0) => &self.plan.judge,
            Some(_) => &self.plan.synthesizer,
        }
    }

    fn seat_mut(&mut self, row: usize) -> &mut SeatSpec {
        let n = self.plan.members.len();
        match row.checked_sub(n) {
            None => &mut self.plan.members[row],
            Some(0) => &mut self.plan.judge,
            Some(_) => &mut self.plan.synthesizer,
        }
    }

    /// A field's value as shown and as the input starts.
    pub(crate) fn value(seat: &SeatSpec, field: Field) -> String {
        match field {
            Field::Name => seat.name.clone(),
            Field::Model => seat.model.clone(),
            Field::Temperature => seat.temperature.map(|t| t.to_string()).unwrap_or_default(),
            Field::MaxTokens => seat.max_tokens.map(|t| t.to_string()).unwrap_or_default(),
            Field::SystemPrompt => seat.system_prompt.clone().unwrap_or_default(),
            Field::WebSearch => if seat.web_search { "on" } else { "off" }.into(),
        }
    }

    pub(crate) fn is_member(&self) -> bool {
        self.selected < self.plan.members.len()
    }

    /// The listing of the selected seat's provider, when there is one.
    pub fn listing(&self) -> Option<&Listing> {
        self.listings
            .get(&self.seat(self.selected).provider)
            .filter(|l| !l.models.is_empty())
    }

    /// The model picker, while it is open.
    pub fn picker(&self) -> Option<&Picker> {
        match &self.mode {
            Mode::Models(p) => Some(p),
            _ => None,
        }
    }

    /// The picker's matches, best first.
    pub(crate) fn matches(&self) -> Vec<&ModelInfo> {
        match (self.picker(), self.listing()) {
            (Some(p), Some(l)) => l.filter(&p.query()),
            _ => Vec::new(),
        }
    }

    /// A picker key from the table: move, take the highlighted model (or
    /// the typed text when none matches), take the typed text, drop.
    fn picker_act(&mut self, action: PanelAction) {
        use PanelAction as P;
        let matches: Vec<String> = self.matches().iter().map(|m| m.id.clone()).collect();
        let Mode::Models(picker) = &mut self.mode else {
            return;
        };
        let typed = picker.query().trim().to_string();
        let chosen = match action {
            P::Drop => {
                self.mode = Mode::Seats;
                return;
            }
            P::Up => {
                picker.selected = picker.selected.saturating_sub(1);
                return;
            }
            P::Down => {
                picker.selected = (picker.selected + 1).min(matches.len().saturating_sub(1));
                return;
            }
            P::Keep if !matches.is_empty() => {
                matches[picker.selected.min(matches.len() - 1)].clone()
            }
            P::Keep | P::TakeTyped if !typed.is_empty() => typed,
            _ => return,
        };
        let row = self.selected;
        self.set_model(row, chosen);
        self.mode = Mode::Seats;
    }

    /// A key for the open role list: Keep puts the role on the member.
    fn roles_act(&mut self, action: PanelAction) {
        use PanelAction as P;
        let Mode::Roles(at) = &mut self.mode else {
            return;
        };
        match action {
            P::Drop => self.mode = Mode::Seats,
            P::Up => *at = at.saturating_sub(1),
            P::Down => *at = (*at + 1).min(self.roles.len().saturating_sub(1)),
            P::Keep => {
                let role = self.roles.get(*at).cloned();
                self.mode = Mode::Seats;
                if let Some(role) = role {
                    let row = self.selected;
                    role.apply(self.seat_mut(row));
                    self.field = Field::SystemPrompt;
                }
            }
            _ => {}
        }
    }

    /// `o`: the roles to choose from, for a member.
    fn open_roles(&mut self) {
        if !self.is_member() {
            self.error = Some(
                "roles are for members: the judge and the synthesizer keep their instructions"
                    .into(),
            );
        } else if self.roles.is_empty() {
            self.error = Some("no roles yet: write one as ~/.config/council/roles/NAME.md".into());
        } else {
            self.mode = Mode::Roles(0);
        }
    }

    /// A key the table does not name: typed into a field, a name or the
    /// picker's filter; on the seats it only clears the last refusal.
    pub(crate) fn handle(&mut self, key: KeyEvent) -> EditorOutcome {
        match &mut self.mode {
            Mode::Seats => self.error = None,
            Mode::Models(picker) => {
                picker.query.input(key);
                picker.selected = 0;
            }
            Mode::Roles(_) => {}
            Mode::Field(input) | Mode::Naming(input) => {
                input.input(key);
            }
        }
        EditorOutcome::Stay
    }

    /// A key from the table while a field is edited: Keep checks and
    /// stores it, NewLine breaks the system prompt's line (elsewhere it
    /// keeps), Drop leaves the field as it was.
    fn field_act(&mut self, action: PanelAction) {
        use PanelAction as P;
        let Mode::Field(input) = &mut self.mode else {
            return;
        };
        match action {
            P::Drop => self.mode = Mode::Seats,
            P::NewLine if self.field == Field::SystemPrompt => input.insert_newline(),
            P::Keep | P::NewLine => {
                let text = input.lines().join("\n");
                match self.commit(&text) {
                    Ok(()) => {
                        self.mode = Mode::Seats;
                        self.error = None;
                    }
                    Err(e) => self.error = Some(e),
                }
            }
            _ => {}
        }
    }

    /// A key from the table while the preset's name is typed: Keep saves
    /// under it.
    fn naming_act(&mut self, action: PanelAction) -> EditorOutcome {
        use PanelAction as P;
        let Mode::Naming(name) = &mut self.mode else {
            return EditorOutcome::Stay;
        };
        match action {
            P::Drop => self.mode = Mode::Seats,
            P::Keep => {
                let name = name.lines().join("").trim().to_string();
                if name.is_empty()
                    || !name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                {
                    self.error = Some("a preset name uses letters, digits, - and _".into());
                } else {
                    self.mode = Mode::Seats;
                    self.error = None;
                    return EditorOutcome::Save(name);
                }
            }
            _ => {}
        }
        EditorOutcome::Stay
    }

    /// A key from the key table, by what the editor is doing.
    pub(crate) fn act(&mut self, action: PanelAction) -> EditorOutcome {
        match self.mode {
            Mode::Seats => return self.seats_act(action),
            Mode::Models(_) => self.picker_act(action),
            Mode::Roles(_) => self.roles_act(action),
            Mode::Field(_) => self.field_act(action),
            Mode::Naming(_) => return self.naming_act(action),
        }
        EditorOutcome::Stay
    }

    /// A seat key: move, edit, add, remove, reorder, save, close.
    fn seats_act(&mut self, action: PanelAction) -> EditorOutcome {
        use PanelAction as P;
        self.error = None;
        let last = self.rows() - 1;
        let fields = Field::ALL;
        let at = fields.iter().position(|f| *f == self.field).unwrap_or(0);
        match action {
            P::Close => return EditorOutcome::Close,
            P::Up => self.selected = self.selected.saturating_sub(1),
            P::Down => self.selected = (self.selected + 1).min(last),
            P::NextField => self.field = fields[(at + 1) % fields.len()],
            P::PrevField => self.field = fields[(at + fields.len() - 1) % fields.len()],
            P::Enter | P::Toggle if self.field == Field::WebSearch => {
                let seat = self.seat_mut(self.selected);
                seat.web_search = !seat.web_search;
            }
            P::Toggle => {}
            P::Enter if self.field == Field::Model && self.listing().is_some() => {
                self.mode = Mode::Models(Picker {
                    query: input(Vec::new()),
                    selected: 0,
                });
            }
            P::Enter | P::EditText => {
                let mut input = input(
                    Self::value(self.seat(self.selected), self.field)
                        .lines()
                        .map(String::from)
                        .collect(),
                );
                input.move_cursor(ratatui_textarea::CursorMove::Bottom);
                input.move_cursor(ratatui_textarea::CursorMove::End);
                self.mode = Mode::Field(input);
            }
            P::Add => self.add_member(false),
            P::Duplicate => self.add_member(true),
            P::Remove => self.remove_member(),
            P::MoveUp => self.move_member(-1),
            P::MoveDown => self.move_member(1),
            P::Save => self.mode = Mode::Naming(input(Vec::new())),
            P::Roles => self.open_roles(),
            P::Keep | P::Drop | P::NewLine | P::TakeTyped => {}
        }
        EditorOutcome::Stay
    }

    /// Checks and stores the edited field's text.
    fn commit(&mut self, text: &str) -> Result<(), String> {
        let row = self.selected;
        let is_member = self.is_member();
        let others = self.names_besides(row);
        let trimmed = text.trim();
        let field = self.field;
        let seat = self.seat_mut(row);
        match field {
            Field::Name => {
                if trimmed.is_empty() {
                    return Err("a name cannot be empty".into());
                }
                if is_member && others.iter().any(|n| n == trimmed) {
                    return Err(format!("another member is called {trimmed}"));
                }
                let old = std::mem::replace(&mut seat.name, trimmed.into());
                self.named_by_model.remove(&old);
            }
            Field::Model => {
                if trimmed.is_empty() {
                    return Err("a model cannot be empty".into());
                }
                let model = trimmed.to_string();
                self.set_model(row, model);
            }
            Field::Temperature => {
                seat.temperature = match trimmed {
                    "" => None,
                    t => match t.parse::<f32>() {
                        Ok(v) if check_temperature(v).is_ok() => Some(v),
                        _ => return Err("temperature: a number from 0.0 to 2.0, or empty".into()),
                    },
                }
            }
            Field::MaxTokens => {
                seat.max_tokens = match trimmed {
                    "" => None,
                    t => match t.parse::<u32>() {
                        Ok(v) if check_max_tokens(v).is_ok() => Some(v),
                        _ => return Err("max tokens: a whole number from 1, or empty".into()),
                    },
                }
            }
            Field::SystemPrompt => {
                seat.system_prompt = (!trimmed.is_empty()).then(|| text.trim_end().to_string())
            }
            Field::WebSearch => {}
        }
        Ok(())
    }

    /// `a` adds a member like the selected one (or the first); `d`
    /// duplicates the selected member with all its settings.
    fn add_member(&mut self, duplicate: bool) {
        let base = if self.is_member() {
            self.plan.members[self.selected].clone()
        } else {
            self.plan.members[0].clone()
        };
        let mut seat = if duplicate {
            base
        } else {
            SeatSpec::new(base.name, base.model, base.provider)
        };
        let mut names: Vec<String> = self.plan.members.iter().map(|m| m.name.clone()).collect();
        names.push(seat.name.clone());
        seat.name = unique_names(names).pop().expect("one name per member");
        self.named_by_model.insert(seat.name.clone());
        let at = if self.is_member() {
            self.selected + 1
        } else {
            self.plan.members.len()
        };
        self.plan.members.insert(at, seat);
        self.selected = at;
        // A fresh member starts at its model, the picker open (when the
        // provider lists models); a duplicate keeps the field shown.
        if !duplicate {
            self.field = Field::Model;
            self.seats_act(PanelAction::Enter);
        }
    }

    /// The names of the members other than row `row`.
    fn names_besides(&self, row: usize) -> Vec<String> {
        self.plan
            .members
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != row)
            .map(|(_, m)| m.name.clone())
            .collect()
    }

    /// A new model for seat `row`; a member added here and named after its
    /// model takes the new model's name.
    fn set_model(&mut self, row: usize, model: String) {
        let renamed = row < self.plan.members.len()
            && self.named_by_model.remove(&self.plan.members[row].name);
        if renamed {
            let mut names = self.names_besides(row);
            names.extend(member_names(&[model.as_str()]));
            let name = unique_names(names).pop().expect("one name per member");
            self.named_by_model.insert(name.clone());
            self.plan.members[row].name = name;
        }
        self.seat_mut(row).model = model;
    }

    fn remove_member(&mut self) {
        if !self.is_member() {
            self.error = Some("the judge and the synthesizer can be changed, not removed".into());
        } else if self.plan.members.len() == 1 {
            self.error = Some("a council needs at least one member".into());
        } else {
            self.plan.members.remove(self.selected);
            self.selected = self.selected.min(self.plan.members.len() - 1);
        }
    }

    fn move_member(&mut self, by: isize) {
        if !self.is_member() {
            return;
        }
        let to = self.selected as isize + by;
        if to < 0 || to as usize >= self.plan.members.len() {
            return;
        }
        self.plan.members.swap(self.selected, to as usize);
        self.selected = to as usize;
    }
}

/// A one-field text input: no underline under the cursor's line (the
/// drawing puts its box around it).
fn input(lines: Vec<String>) -> TextArea<'static> {
    let mut input = TextArea::new(lines);
    input.set_cursor_line_style(ratatui::style::Style::default());
    input
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::action::Action;
    use crate::tui::keymap::Keymap;
    use crate::tui::layer::panel_layer;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn seat(name: &str, model: &str) -> SeatSpec {
        SeatSpec::new(name, model, "openrouter")
    }

    fn editor() -> PanelEditor {
        PanelEditor::new(CouncilPlan {
            preset: None,
            members: vec![seat("a", "x/a"), seat("b", "x/b")],
            judge: seat("judge", "x/j"),
            synthesizer: seat("synthesizer", "x/s"),
            endpoints: Default::default(),
            rounds: 1,
            ranking: false,
            limits: Default::default(),
        })
    }

    /// A key as the app delivers it: through the default key table.
    fn press(e: &mut PanelEditor, code: KeyCode) -> EditorOutcome {
        let key = KeyEvent::new(code, KeyModifiers::NONE);
        match Keymap::default().map(panel_layer(e), &crossterm::event::Event::Key(key)) {
            Some(Action::Panel(action)) => e.act(action),
            Some(Action::PanelKey(key)) => e.handle(key),
            _ => EditorOutcome::Stay,
        }
    }

    fn type_text(e: &mut PanelEditor, text: &str) {
        for c in text.chars() {
            press(e, KeyCode::Char(c));
        }
    }

    #[test]
    fn o_puts_a_saved_role_on_a_member_but_not_on_the_judge() {
        let mut e = editor();
        e.roles = vec![
            Role {
                name: "critic".into(),
                prompt: "Find the flaws.".into(),
                temperature: None,
            },
            Role {
                name: "poet".into(),
                prompt: "Answer in verse.".into(),
                temperature: Some(1.2),
            },
        ];
        press(&mut e, KeyCode::Down);
        press(&mut e, KeyCode::Char('o'));
        assert!(matches!(e.mode, Mode::Roles(0)));
        press(&mut e, KeyCode::Down);
        press(&mut e, KeyCode::Enter);
        assert!(matches!(e.mode, Mode::Seats));
        let b = &e.plan.members[1];
        assert_eq!(b.system_prompt.as_deref(), Some("Answer in verse."));
        assert_eq!(b.temperature, Some(1.2));
        assert_eq!(
            e.plan.members[0].system_prompt, None,
            "only the selected member"
        );
        press(&mut e, KeyCode::Down);
        press(&mut e, KeyCode::Char('o'));
        assert!(matches!(e.mode, Mode::Seats));
        assert!(
            e.error
                .as_deref()
                .is_some_and(|m| m.starts_with("roles are for members"))
        );
        e.roles.clear();
        e.selected = 0;
        press(&mut e, KeyCode::Char('o'));
        assert!(
            e.error
                .as_deref()
                .is_some_and(|m| m.starts_with("no roles yet"))
        );
    }

    #[test]
    fn members_are_added_duplicated_moved_and_removed() {
        let mut e = editor();
        press(&mut e, KeyCode::Char('d'));
        assert_eq!(e.plan.members.len(), 3);
        assert_eq!(
            e.plan.members[1].name, "a-2",
            "a duplicate gets a unique name"
        );
        assert_eq!(e.selected, 1);
        press(&mut e, KeyCode::Char('K'));
        assert_eq!(e.plan.members[0].name, "a-2");
        press(&mut e, KeyCode::Char('x'));
        assert_eq!(
            e.plan
                .members
                .iter()
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
        press(&mut e, KeyCode::Char('x'));
        press(&mut e, KeyCode::Char('x'));
        assert_eq!(e.plan.members.len(), 1);
        assert_eq!(
            e.error.as_deref(),
            Some("a council needs at least one member")
        );
        // The judge cannot be removed.
        press(&mut e, KeyCode::Down);
        assert_eq!(e.role(e.selected), "judge");
        press(&mut e, KeyCode::Char('x'));
        assert!(e.error.is_some());
    }

    #[test]
    fn fields_are_edited_and_checked() {
        let mut e = editor();
        // Model of member a: replace the text.
        press(&mut e, KeyCode::Enter);
        for _ in 0.."x/a".len() {
            press(&mut e, KeyCode::Backspace);
        }
        type_text(&mut e, "openai/gpt-5");
        press(&mut e, KeyCode::Enter);
        assert_eq!(e.plan.members[0].model, "openai/gpt-5");
        // Temperature: a bad value is refused and the input stays open.
        press(&mut e, KeyCode::Tab);
        assert_eq!(e.field, Field::Temperature);
        press(&mut e, KeyCode::Enter);
        type_text(&mut e, "3");
        press(&mut e, KeyCode::Enter);
        assert!(e.error.as_deref().unwrap().starts_with("temperature"));
        assert!(matches!(e.mode, Mode::Field(_)));
        press(&mut e, KeyCode::Backspace);
        type_text(&mut e, "0.4");
        press(&mut e, KeyCode::Enter);
        assert_eq!(e.plan.members[0].temperature, Some(0.4));
        // A multi-line system prompt: Alt+Enter is a new line.
        press(&mut e, KeyCode::Tab);
        press(&mut e, KeyCode::Tab);
        assert_eq!(e.field, Field::SystemPrompt);
        press(&mut e, KeyCode::Enter);
        type_text(&mut e, "Be brief.");
        e.handle(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT));
        type_text(&mut e, "Cite sources.");
        press(&mut e, KeyCode::Enter);
        assert_eq!(
            e.plan.members[0].system_prompt.as_deref(),
            Some("Be brief.\nCite sources.")
        );
        // Web search toggles; a member cannot take another's name.
        press(&mut e, KeyCode::Tab);
        press(&mut e, KeyCode::Char(' '));
        assert!(e.plan.members[0].web_search);
        press(&mut e, KeyCode::Tab);
        assert_eq!(e.field, Field::Name);
        press(&mut e, KeyCode::Enter);
        press(&mut e, KeyCode::Backspace);
        type_text(&mut e, "b");
        press(&mut e, KeyCode::Enter);
        assert_eq!(e.error.as_deref(), Some("another member is called b"));
        press(&mut e, KeyCode::Esc);
        assert!(!matches!(e.mode, Mode::Field(_)));
        assert_eq!(e.plan.members[0].name, "a", "Esc drops the edit");
    }

    #[test]
    fn the_picker_filters_the_listing_and_allows_free_typing() {
        use crate::provider::ModelInfo;
        let mut e = editor();
        let model = |id: &str| ModelInfo {
            id: id.into(),
            name: None,
            context_length: None,
            pricing: None,
        };
        e.listings.insert(
            "openrouter".into(),
            Listing::new(vec![
                model("openai/gpt-5.4"),
                model("google/gemini-3-flash-preview"),
            ]),
        );
        assert_eq!(e.field, Field::Model);
        press(&mut e, KeyCode::Enter);
        assert!(
            matches!(e.mode, Mode::Models(_)),
            "a listing opens the picker"
        );
        assert_eq!(e.matches().len(), 2);
        type_text(&mut e, "gemfl");
        assert_eq!(e.matches().len(), 1);
        press(&mut e, KeyCode::Enter);
        assert_eq!(e.plan.members[0].model, "google/gemini-3-flash-preview");
        assert!(e.picker().is_none());
        // A model the listing does not have: Tab takes the typed text.
        press(&mut e, KeyCode::Enter);
        type_text(&mut e, "acme/new-model");
        assert!(e.matches().is_empty());
        press(&mut e, KeyCode::Tab);
        assert_eq!(e.plan.members[0].model, "acme/new-model");
        // Without a listing, the field is typed.
        e.listings.clear();
        press(&mut e, KeyCode::Enter);
        assert!(matches!(e.mode, Mode::Field(_)));
    }

    #[test]
    fn saving_asks_for_a_name_and_closing_keeps_the_edits() {
        let mut e = editor();
        press(&mut e, KeyCode::Char('s'));
        type_text(&mut e, "my council");
        assert_eq!(press(&mut e, KeyCode::Enter), EditorOutcome::Stay);
        assert!(e.error.is_some(), "spaces are refused");
        for _ in 0.." council".len() {
            press(&mut e, KeyCode::Backspace);
        }
        type_text(&mut e, "-council");
        assert_eq!(
            press(&mut e, KeyCode::Enter),
            EditorOutcome::Save("my-council".into())
        );
        assert_eq!(press(&mut e, KeyCode::Esc), EditorOutcome::Close);
    }

    #[test]
    fn an_added_member_takes_its_new_models_name_until_one_is_typed() {
        let mut e = editor();
        press(&mut e, KeyCode::Char('a'));
        assert_eq!(e.plan.members[1].name, "a-2");
        e.set_model(1, "y/zeta".into());
        assert_eq!(e.plan.members[1].name, "zeta");
        e.set_model(1, "y/b".into());
        assert_eq!(e.plan.members[1].name, "b-2", "unique among the others");
        e.field = Field::Name;
        e.commit("mine").unwrap();
        e.set_model(1, "y/q".into());
        assert_eq!(e.plan.members[1].name, "mine", "a typed name stays");
        e.set_model(0, "y/k".into());
        assert_eq!(
            e.plan.members[0].name, "a",
            "members from before keep theirs"
        );
    }
}
