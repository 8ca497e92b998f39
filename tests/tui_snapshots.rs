//! The whole screen on ratatui's TestBackend at three sizes, in the states a
//! person sees: idle, mid-stream, each judge tab, a failed member, a zoomed
//! pane, the help overlay. States are built by folding council events, so
//! the snapshots show exactly what a run would.

use std::time::{Duration, Instant};

use council::engine::judge::{Analysis, Contradiction, Finding, LabelMap, Quote, Stance};
use council::engine::{CouncilEvent, RunOutcome, SeatInfo};
use council::provider::{ErrorKind, ProviderError, Usage};
use council::tui::action::Action;
use council::tui::keymap::Keymap;
use council::tui::layer::Overlay;
use council::tui::panel_editor::PanelEditor;
use council::tui::state::{Focus, State};
use council::tui::theme::Theme;
use council::tui::ui::{self, Env};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (200, 60)];

fn seat(name: &str, model: &str) -> SeatInfo {
    SeatInfo {
        name: name.into(),
        model: model.into(),
        provider: "openrouter".into(),
    }
}

struct Script {
    state: State,
    base: Instant,
    now: Instant,
    /// Spinner frames: one per step of the clock while a council runs.
    tick: u64,
    keymap: Keymap,
    /// The council the welcome screen and the stage bar name.
    plan: Option<council::config::CouncilPlan>,
    caches: ui::RenderCaches,
}

impl Script {
    fn new() -> Self {
        let base = Instant::now();
        Self {
            state: State::new(),
            base,
            now: base,
            tick: 0,
            keymap: Keymap::default(),
            plan: None,
            caches: ui::RenderCaches::default(),
        }
    }

    fn at(&mut self, ms: u64) -> &mut Self {
        self.now = self.base + Duration::from_millis(ms);
        if self.state.run.running() {
            self.tick += 1;
        }
        self
    }

    fn event(&mut self, e: CouncilEvent) -> &mut Self {
        self.state.apply(&e, self.now);
        self
    }

    fn action(&mut self, a: Action) -> &mut Self {
        self.state.update(a);
        self
    }
}

const CLAUDE: &str = "## Short answer\n\nSunlight is scattered by the molecules of the air, and **shorter wavelengths scatter much more** (Rayleigh scattering, proportional to 1/λ⁴).\n\n- Blue light scatters about 5.5× more than red\n- Violet scatters even more, but the Sun emits less of it and our eyes are less sensitive to it\n\n```text\nI(λ) ∝ 1/λ⁴\n```\n\nAt sunset the light crosses more air, so the blue is scattered away and reds remain.";
const GPT: &str = "The sky looks blue because of *Rayleigh scattering*: air molecules are much smaller than the wavelength of visible light, so they scatter short (blue) wavelengths far more strongly than long (red) ones.\n\n1. Sunlight enters the atmosphere\n2. Blue light is scattered in every direction\n3. Wherever you look, some of that scattered blue reaches your eye";
const GEMINI: &str = "It is mostly Rayleigh scattering, but that is only half the story: the ozone layer's Chappuis absorption band removes orange light, which keeps the twilight sky blue";

fn started(s: &mut Script) {
    s.event(CouncilEvent::RunStarted {
        question: "Why is the sky blue?".into(),
        scope: Default::default(),
        preset: Some("quality".into()),
        members: vec![
            seat("claude-opus", "~anthropic/claude-opus-latest"),
            seat("gpt", "~openai/gpt-latest"),
            seat("gemini-pro", "~google/gemini-pro-latest"),
        ],
        judge: seat("judge", "~anthropic/claude-opus-latest"),
        synthesizer: seat("synthesizer", "~anthropic/claude-opus-latest"),
        limits: Default::default(),
        attachments: Vec::new(),
    });
    for member in 0..3 {
        s.event(CouncilEvent::MemberStarted { member });
    }
}

fn stream(s: &mut Script, member: usize, text: &str) {
    for word in text.split_inclusive(' ') {
        s.event(CouncilEvent::MemberDelta {
            member,
            text: word.into(),
        });
    }
}

fn finish(s: &mut Script, member: usize, tokens: u64, ttft_ms: u64, elapsed_ms: u64, cost: f64) {
    s.event(CouncilEvent::MemberFinished {
        member,
        finish_reason: Some("stop".into()),
        usage: Usage {
            prompt_tokens: 20,
            completion_tokens: tokens,
            cost: Some(cost),
        },
        ttft_ms: Some(ttft_ms),
        elapsed_ms,
        malformed_events: 0,
    });
}

fn mid_stream() -> Script {
    let mut s = Script::new();
    started(&mut s);
    s.at(900);
    stream(&mut s, 0, CLAUDE);
    s.at(1400);
    stream(&mut s, 1, GPT);
    s.at(2000);
    s.event(CouncilEvent::MemberReasoning {
        member: 2,
        text: "The user asks a physics question. Rayleigh scattering explains most of it.".into(),
    });
    s.at(2600);
    stream(&mut s, 2, &GEMINI[..90]);
    finish(&mut s, 1, 96, 1400, 5200, 0.0021);
    s.at(6400);
    s
}

fn analysis() -> Analysis {
    let q = |m: &str, t: &str| Quote::new(m, t);
    let f = |p: &str, members: &[&str], quotes: Vec<Quote>| Finding {
        point: p.into(),
        members: members.iter().map(|m| m.to_string()).collect(),
        quotes,
        ..Finding::default()
    };
    Analysis {
        consensus: vec![
            f(
                "Rayleigh scattering of sunlight by air molecules is the main cause",
                &["claude-opus", "gpt", "gemini-pro"],
                vec![
                    q("claude-opus", "shorter wavelengths scatter much more"),
                    q("gpt", "scatter short (blue) wavelengths far more strongly"),
                ],
            ),
            f(
                "Scattering strength grows steeply as wavelength shrinks",
                &["claude-opus", "gpt"],
                vec![q("claude-opus", "proportional to 1/λ⁴")],
            ),
        ],
        contradictions: vec![Contradiction {
            topic: "Is scattering the whole story?".into(),
            stances: vec![
                Stance {
                    members: vec!["claude-opus".into(), "gpt".into()],
                    stance: "Rayleigh scattering alone explains the colour".into(),
                    quotes: vec![q(
                        "gpt",
                        "air molecules are much smaller than the wavelength",
                    )],
                    ..Stance::default()
                },
                Stance {
                    members: vec!["gemini-pro".into()],
                    stance: "Ozone absorption matters too, especially at twilight".into(),
                    quotes: vec![q("gemini-pro", "that is only half the story")],
                    ..Stance::default()
                },
            ],
            ..Contradiction::default()
        }],
        blind_spots: vec![f(
            "Why the sky is not violet: the eye's colour response",
            &["gpt", "gemini-pro"],
            vec![],
        )],
        unique_insights: vec![f(
            "The Chappuis band of ozone keeps the twilight sky blue",
            &["gemini-pro"],
            vec![q(
                "gemini-pro",
                "Chappuis absorption band removes orange light",
            )],
        )],
        partial_coverage: vec![f(
            "Why sunsets are red",
            &["claude-opus"],
            vec![q(
                "claude-opus",
                "the blue is scattered away and reds remain",
            )],
        )],
        ..Default::default()
    }
}

/// The panel done and the judge just started.
fn judge_started() -> Script {
    let mut s = mid_stream();
    stream(&mut s, 2, &GEMINI[90..]);
    finish(&mut s, 0, 143, 900, 7100, 0.0112);
    finish(&mut s, 2, 61, 2600, 7300, 0.0034);
    s.at(7400);
    let labels = LabelMap::shuffled(
        &[
            (0, "claude-opus".into()),
            (1, "gpt".into()),
            (2, "gemini-pro".into()),
        ],
        42,
    );
    s.event(CouncilEvent::JudgeStarted {
        model: "~anthropic/claude-opus-latest".into(),
        labels,
    });
    s
}

/// The run up to its judgement.
fn judged() -> Script {
    let mut s = judge_started();
    s.event(CouncilEvent::JudgeDelta {
        text: "{\"consensus\": [...]}".into(),
    });
    s.at(15000);
    s.event(CouncilEvent::JudgeFinished {
        analysis: analysis(),
        usage: Usage {
            prompt_tokens: 900,
            completion_tokens: 400,
            cost: Some(0.04),
        },
        elapsed_ms: 7600,
        consistency: None,
    });
    s
}

fn finished() -> Script {
    let mut s = judged();
    s.event(CouncilEvent::SynthesisStarted {
        model: "~anthropic/claude-opus-latest".into(),
        citable: Vec::new(),
        with_analysis: true,
    });
    s.event(CouncilEvent::SynthesisDelta { text: "# Why the sky is blue\n\nAll three members agree: **Rayleigh scattering**. Air molecules scatter short wavelengths far more than long ones (∝ 1/λ⁴), so blue light reaches your eye from every direction.\n\nThe sky is not violet because the Sun emits less violet and our eyes are less sensitive to it. At twilight, ozone absorption also helps keep it blue.".into() });
    s.event(CouncilEvent::SynthesisFinished {
        finish_reason: Some("stop".into()),
        usage: Usage {
            prompt_tokens: 1500,
            completion_tokens: 120,
            cost: Some(0.05),
        },
        ttft_ms: Some(800),
        elapsed_ms: 4100,
        provenance: None,
    });
    s.event(CouncilEvent::RunFinished {
        outcome: RunOutcome::Synthesized,
        usage: Usage {
            prompt_tokens: 2460,
            completion_tokens: 820,
            cost: Some(0.1067),
        },
        elapsed_ms: 19100,
        error: None,
    });
    s.at(19200);
    s
}

/// A run whose synthesizer cited the members: right, wrong and missing
/// citations, traced against the answers by the engine.
fn traced() -> Script {
    let mut s = judged();
    let names: Vec<String> = ["claude-opus", "gpt", "gemini-pro"]
        .map(String::from)
        .to_vec();
    s.event(CouncilEvent::SynthesisStarted {
        model: "~anthropic/claude-opus-latest".into(),
        citable: names.clone(),
        with_analysis: true,
    });
    let raw = "# Why the sky is blue\n\nAir molecules are much smaller than the wavelength of visible light [gpt]. Shorter wavelengths scatter much more [claude-opus, gemini-pro]. The ozone layer's Chappuis absorption band removes orange light at twilight [gemini-pro]. The colour was first measured from a balloon in 1862.";
    for piece in raw.split_inclusive(' ') {
        s.event(CouncilEvent::SynthesisDelta { text: piece.into() });
    }
    let answers = [
        ("claude-opus".to_string(), CLAUDE),
        ("gpt".to_string(), GPT),
        ("gemini-pro".to_string(), GEMINI),
    ];
    let provenance = council::engine::provenance::Provenance::trace(raw, &names, &answers);
    s.event(CouncilEvent::SynthesisFinished {
        finish_reason: Some("stop".into()),
        usage: Usage {
            prompt_tokens: 1500,
            completion_tokens: 90,
            cost: Some(0.04),
        },
        ttft_ms: Some(800),
        elapsed_ms: 3900,
        provenance: Some(Box::new(provenance)),
    });
    s.event(CouncilEvent::RunFinished {
        outcome: RunOutcome::Synthesized,
        usage: Usage {
            prompt_tokens: 2460,
            completion_tokens: 820,
            cost: Some(0.1067),
        },
        elapsed_ms: 19100,
        error: None,
    });
    s.at(19200);
    s
}

fn render(script: &mut Script, (w, h): (u16, u16)) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    let theme = Theme::default();
    let env = Env {
        theme: &theme,
        keymap: &script.keymap,
        now: script.now,
        tick: script.tick,
        plan: script.plan.as_ref(),
    };
    // Twice, as the app does: the view takes in what the first frame laid
    // out (scroll extents, quote lines) and the second draws with it.
    for _ in 0..2 {
        let mut drawn = ui::Drawn::default();
        terminal
            .draw(|f| drawn = ui::draw(f, &script.state, &mut script.caches, &env))
            .unwrap();
        script.state.view.place(drawn.placement);
    }
    terminal
}

fn snap(name: &str, script: &mut Script) {
    for size in SIZES {
        let terminal = render(script, size);
        insta::assert_snapshot!(format!("{name}_{}x{}", size.0, size.1), terminal.backend());
    }
}

#[test]
fn idle() {
    // Before the first question the welcome lists who sits on the council.
    let mut s = Script::new();
    s.plan = Some(council::config::CouncilPlan {
        preset: Some("quality".into()),
        members: vec![
            spec("claude-opus", "~anthropic/claude-opus-latest"),
            spec("gpt", "~openai/gpt-latest"),
            spec("gemini-pro", "~google/gemini-pro-latest"),
        ],
        judge: spec("judge", "~anthropic/claude-opus-latest"),
        synthesizer: spec("synthesizer", "~anthropic/claude-opus-latest"),
        endpoints: Default::default(),
        rounds: 1,
        ranking: false,
        limits: Default::default(),
    });
    snap("idle", &mut s);
    let screen = format!("{}", render(&mut s, (120, 40)).backend());
    for seat in ["claude-opus", "gemini-pro", "judge", "synthesizer"] {
        assert!(screen.contains(seat), "{seat} is listed:\n{screen}");
    }
}

#[test]
fn mid_stream_panes() {
    snap("mid_stream", &mut mid_stream());
}

#[test]
fn every_judge_tab() {
    let mut s = finished();
    s.action(Action::FocusNext)
        .action(Action::FocusNext)
        .action(Action::FocusNext)
        .action(Action::FocusNext);
    assert_eq!(s.state.view.focus, Focus::Judge);
    for tab in 0..6 {
        s.action(Action::JudgeTab(tab));
        snap(&format!("judge_tab_{}", tab + 1), &mut s);
    }
}

#[test]
fn failed_member() {
    let mut s = mid_stream();
    s.event(CouncilEvent::MemberFailed {
        member: 2,
        error: ProviderError::new(
            ErrorKind::Dropped,
            "connection lost mid-stream: error decoding response body",
        ),
        ttft_ms: Some(2600),
        elapsed_ms: 6300,
    });
    s.action(Action::FocusNext)
        .action(Action::FocusNext)
        .action(Action::FocusNext);
    snap("failed_member", &mut s);
}

#[test]
fn zoomed_pane() {
    let mut s = finished();
    s.action(Action::FocusNext).action(Action::ToggleZoom);
    snap("zoomed", &mut s);
}

#[test]
fn help_overlay() {
    let mut s = finished();
    s.action(Action::ToggleHelp);
    snap("help", &mut s);
}

/// A key rebound in the config file shows as rebound in the hint bar and
/// the help overlay, not only in what it does.
#[test]
fn rebound_keys_show_in_the_hints_and_the_help() {
    let settings = council::config::settings::Settings::parse(
        "[keys]\ncancel = \"x\"\nhelp = \"H\"\n",
        "config.toml",
    )
    .unwrap();
    let mut s = mid_stream();
    s.keymap = Keymap::new(&settings.keys);
    s.action(Action::FocusNext);
    assert_eq!(s.state.view.focus, Focus::Member(0));
    let terminal = render(&mut s, (120, 40));
    let buffer = terminal.backend().buffer();
    let hints: String = (0..120)
        .map(|x| buffer[(x, 39)].symbol().to_string())
        .collect::<String>()
        .trim_end()
        .to_string();
    assert!(
        hints.contains("x cancel") && hints.contains("H help"),
        "{hints}"
    );
    assert!(
        !hints.contains("c cancel") && !hints.contains("? help"),
        "{hints}"
    );
    insta::assert_snapshot!("rebound_hints_120x40", hints);
    s.action(Action::ToggleHelp);
    // Down to where the pane commands and the help's own keys are listed.
    s.action(Action::HelpScroll(8));
    let terminal = render(&mut s, (120, 40));
    let screen = format!("{}", terminal.backend());
    assert!(screen.contains("x  cancel the focused member"), "{screen}");
    // `?` still opens it from an empty editor, where H would be typed.
    assert!(screen.contains("H ? F1  this help"), "{screen}");
    insta::assert_snapshot!("rebound_help_120x40", terminal.backend());
}

#[test]
fn tiny_terminals_never_panic_and_say_so() {
    let mut s = finished();
    for w in 1..=45 {
        for h in 1..=14 {
            render(&mut s, (w, h));
        }
    }
    let terminal = render(&mut s, (20, 6));
    let text = format!("{}", terminal.backend());
    assert!(text.contains("terminal too"), "{text}");
    // Eight members with long text, at the smallest full size.
    let mut many = Script::new();
    many.event(CouncilEvent::RunStarted {
        question: "Q".into(),
        scope: Default::default(),
        preset: None,
        members: (0..8)
            .map(|i| seat(&format!("member-{i}"), "a/b"))
            .collect(),
        judge: seat("judge", "j"),
        synthesizer: seat("synth", "s"),
        limits: Default::default(),
        attachments: Vec::new(),
    });
    for m in 0..8 {
        stream(&mut many, m, CLAUDE);
    }
    many.action(Action::FocusPrev)
        .action(Action::FocusPrev)
        .action(Action::FocusPrev);
    assert_eq!(many.state.view.focus, Focus::Member(7));
    let terminal = render(&mut many, (40, 12));
    let text = format!("{}", terminal.backend());
    assert!(
        text.contains("member-7"),
        "the focused member's row is shown:\n{text}"
    );
}

#[test]
fn escape_sequences_from_a_model_never_reach_the_screen() {
    let mut s = Script::new();
    started(&mut s);
    stream(
        &mut s,
        0,
        "safe \u{1b}]0;pwned\u{7}text \u{1b}[2J\u{1b}[31mred\u{1b}[0m",
    );
    let terminal = render(&mut s, (120, 40));
    let buffer = terminal.backend().buffer();
    for cell in buffer.content() {
        assert!(
            !cell.symbol().chars().any(|c| c.is_control()),
            "control character in a cell"
        );
    }
    assert!(format!("{}", terminal.backend()).contains("safe text red"));
}

fn spec(name: &str, model: &str) -> council::engine::SeatSpec {
    council::engine::SeatSpec::new(name, model, "openrouter")
}

fn editor_over_finished_run() -> Script {
    let mut s = finished();
    let mut skeptic = spec("gpt", "~openai/gpt-latest");
    skeptic.temperature = Some(0.9);
    skeptic.system_prompt = Some("Look for what could go wrong.\nSay how sure you are.".into());
    s.state.view.overlay = Some(Overlay::PanelEditor(Box::new(PanelEditor::new(
        council::config::CouncilPlan {
            preset: Some("quality".into()),
            members: vec![
                spec("claude-opus", "~anthropic/claude-opus-latest"),
                skeptic,
                spec("gemini-pro", "~google/gemini-pro-latest"),
            ],
            judge: spec("judge", "~anthropic/claude-opus-latest"),
            synthesizer: spec("synthesizer", "~anthropic/claude-opus-latest"),
            endpoints: Default::default(),
            rounds: 1,
            ranking: false,
            limits: Default::default(),
        },
    ))));
    s
}

fn editor(s: &mut Script) -> &mut PanelEditor {
    match &mut s.state.view.overlay {
        Some(Overlay::PanelEditor(editor)) => editor,
        _ => panic!("the panel editor is open"),
    }
}

/// A key as the app delivers it: through the key table.
fn key(s: &mut Script, code: KeyCode) {
    let event = crossterm::event::Event::Key(KeyEvent::new(code, KeyModifiers::NONE));
    if let Some(action) = s.keymap.map(s.state.layer(), &event) {
        s.action(action);
    }
}

#[test]
fn panel_editor() {
    let mut s = editor_over_finished_run();
    key(&mut s, KeyCode::Down);
    snap("panel_editor", &mut s);
    // Editing the multi-line system prompt of the selected member.
    for _ in 0..3 {
        key(&mut s, KeyCode::Tab);
    }
    key(&mut s, KeyCode::Enter);
    snap("panel_editor_prompt", &mut s);
}

#[test]
fn panel_editor_rejects_a_bad_value_on_screen() {
    let mut s = editor_over_finished_run();
    key(&mut s, KeyCode::Tab);
    key(&mut s, KeyCode::Enter);
    key(&mut s, KeyCode::Char('9'));
    key(&mut s, KeyCode::Enter);
    let terminal = render(&mut s, (120, 40));
    let screen = format!("{}", terminal.backend());
    assert!(
        screen.contains("temperature: a number from 0.0 to 2.0, or empty"),
        "{screen}"
    );
}

#[test]
fn model_picker() {
    use council::models::listing::Listing;
    use council::provider::{ModelInfo, Pricing};
    let mut s = editor_over_finished_run();
    let model = |id: &str, context: u64, prompt: f64, completion: f64| ModelInfo {
        id: id.into(),
        name: None,
        context_length: Some(context),
        pricing: Some(Pricing {
            prompt: Some(prompt / 1e6),
            completion: Some(completion / 1e6),
        }),
    };
    let listing = Listing::new(vec![
        model("anthropic/claude-opus-4.5", 200_000, 5.0, 25.0),
        model("openai/gpt-5.4", 400_000, 1.25, 10.0),
        model("openai/gpt-5.4-mini", 400_000, 0.25, 2.0),
        model("google/gemini-3-flash-preview", 1_048_576, 0.5, 3.0),
        model("openai/gpt-oss-120b", 131_072, 0.05, 0.25),
    ]);
    editor(&mut s).listings.insert("openrouter".into(), listing);
    key(&mut s, KeyCode::Enter);
    for c in "gpt5".chars() {
        key(&mut s, KeyCode::Char(c));
    }
    key(&mut s, KeyCode::Down);
    snap("model_picker", &mut s);
    key(&mut s, KeyCode::Enter);
    let editor = editor(&mut s);
    assert!(editor.picker().is_none());
    assert_eq!(editor.plan.members[0].model, "openai/gpt-5.4-mini");
}

#[test]
fn four_members_sit_two_by_two_at_80x24() {
    let mut s = Script::new();
    s.event(CouncilEvent::RunStarted {
        question: "Q".into(),
        scope: Default::default(),
        preset: None,
        members: (0..4)
            .map(|i| seat(&format!("member-{i}"), "a/b"))
            .collect(),
        judge: seat("judge", "j"),
        synthesizer: seat("synth", "s"),
        limits: Default::default(),
        attachments: Vec::new(),
    });
    for m in 0..4 {
        stream(&mut s, m, CLAUDE);
    }
    let terminal = render(&mut s, (80, 24));
    let text = format!("{}", terminal.backend());
    let rows_with = |name: &str| {
        text.lines()
            .position(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} is shown:\n{text}"))
    };
    assert_eq!(rows_with("member-0"), rows_with("member-1"), "{text}");
    assert_eq!(rows_with("member-2"), rows_with("member-3"), "{text}");
    assert!(rows_with("member-2") > rows_with("member-0"), "{text}");
    insta::assert_snapshot!("four_members_80x24", terminal.backend());
}

#[test]
fn a_finished_pane_shows_its_beginning_unless_it_was_scrolled() {
    let mut s = Script::new();
    started(&mut s);
    stream(&mut s, 0, CLAUDE);
    stream(&mut s, 1, CLAUDE);
    // While streaming, panes follow the tail; the person scrolls member 1.
    render(&mut s, (80, 24));
    s.action(Action::ScrollPane(Focus::Member(1), -2));
    finish(&mut s, 0, 143, 900, 7100, 0.0112);
    finish(&mut s, 1, 143, 900, 7100, 0.0112);
    let terminal = render(&mut s, (80, 24));
    let buffer = terminal.backend().buffer();
    // The first text row of each pane (row 3: stage bar, question, title).
    let first_row = |x0: u16| -> String {
        (x0..x0 + 24)
            .map(|x| buffer[(x, 3)].symbol().to_string())
            .collect()
    };
    assert!(
        first_row(1).contains("Short answer"),
        "member 0 went back to its beginning: {:?}",
        first_row(1)
    );
    assert!(
        !first_row(27).contains("Short answer"),
        "member 1 stays where the person scrolled it: {:?}",
        first_row(27)
    );
    assert!(!s.state.view.member_pane("gpt").scroll.follow);
}

#[test]
fn a_long_judge_failure_wraps_and_members_without_a_prompt_say_none() {
    let mut s = mid_stream();
    s.event(CouncilEvent::JudgeStarted {
        model: "~anthropic/claude-opus-latest".into(),
        labels: LabelMap::shuffled(&[(0, "claude-opus".into()), (1, "gpt".into())], 3),
    });
    s.event(CouncilEvent::JudgeFailed {
        failure: council::engine::judge::JudgeFailure::new(
            council::engine::judge::JudgeFailureKind::NotJson,
            "the reply was not JSON: expected value at line 1 column 1, and no fenced block or brace-balanced object was found anywhere in the reply's end",
        ),
        usage: Usage::default(),
        elapsed_ms: 10,
    });
    s.state.view.judge_tab = council::tui::state::JudgeTab::Consensus;
    let text = format!("{}", render(&mut s, (120, 40)).backend());
    assert!(
        text.contains("reply's end"),
        "the whole failure shows:\n{text}"
    );
    assert!(text.contains("6 shows the"), "{text}");

    let mut e = editor_over_finished_run();
    let text = format!("{}", render(&mut e, (120, 40)).backend());
    assert!(
        text.contains("system prompt (none)"),
        "claude-opus gets no system message:\n{text}"
    );
    // Down past the three members: the judge.
    for _ in 0..3 {
        key(&mut e, KeyCode::Down);
    }
    let text = format!("{}", render(&mut e, (120, 40)).backend());
    assert!(
        text.contains("system prompt (the built-in prompt)"),
        "the judge does:\n{text}"
    );
}

#[test]
fn unverified_quotes_are_marked() {
    let mut s = mid_stream();
    stream(&mut s, 2, &GEMINI[90..]);
    finish(&mut s, 0, 143, 900, 7100, 0.0112);
    finish(&mut s, 2, 61, 2600, 7300, 0.0034);
    s.event(CouncilEvent::JudgeStarted {
        model: "~openai/gpt-latest".into(),
        labels: LabelMap::shuffled(&[(0, "claude-opus".into()), (1, "gpt".into())], 1),
    });
    s.event(CouncilEvent::JudgeFinished {
        analysis: Analysis {
            consensus: vec![Finding {
                point: "Scattering explains it".into(),
                members: vec!["claude-opus".into(), "gpt".into(), "gemini-pro".into()],
                quotes: vec![
                    Quote::new("claude-opus", "Shorter wavelengths SCATTER much more"),
                    Quote::new("gpt", "the sky is green at noon"),
                    Quote::new(
                        "gemini-pro",
                        "air molecules are much smaller than the wavelength",
                    ),
                ],
                ..Finding::default()
            }],
            ..Analysis::default()
        },
        usage: Usage::default(),
        elapsed_ms: 10,
        consistency: None,
    });
    s.action(Action::FocusPrev).action(Action::FocusPrev);
    snap("unverified_quotes", &mut s);
    let text = format!("{}", render(&mut s, (200, 60)).backend());
    assert!(text.contains("quotes 1/3 found"), "{text}");
    assert!(
        text.contains("? “the sky is green at noon” — not found in gpt"),
        "{text}"
    );
    assert!(
        text.contains("not found in gemini-pro (it is gpt's)"),
        "{text}"
    );
    assert!(
        text.contains("“Shorter wavelengths SCATTER much more” — claude-opus"),
        "{text}"
    );
    // Wide: the full names; narrower, short ones; the same counts at every
    // width, and the tab says how many items have every quote found.
    assert!(text.contains("Consensus 1│"), "{text}");
    assert!(text.contains("✓ 0 of 1 with every quote found"), "{text}");
    let mid = format!("{}", render(&mut s, (120, 40)).backend());
    assert!(mid.contains("Agree 1│"), "{mid}");
    assert!(mid.contains("✓ 0 of 1 with every quote found"), "{mid}");
}

/// Judge items are selected with j/k; Enter shows the item's quote in its
/// member's pane, scrolled to and highlighted; Esc goes back.
#[test]
fn a_judge_item_leads_to_its_quote() {
    let mut s = finished();
    for _ in 0..4 {
        s.action(Action::FocusNext);
    }
    assert_eq!(s.state.view.focus, Focus::Judge);
    s.action(Action::Scroll(1));
    assert_eq!(s.state.view.judge_item, 1);
    snap("judge_item_selected", &mut s);
    let text = format!("{}", render(&mut s, (120, 40)).backend());
    assert!(text.contains("▶ Scattering strength grows"), "{text}");

    s.action(Action::Open);
    assert_eq!(
        s.state.view.focus,
        Focus::Member(0),
        "claude-opus is quoted"
    );
    snap("quote_in_member", &mut s);
    for size in [(80, 24), (120, 40), (200, 60)] {
        let terminal = render(&mut s, size);
        let buffer = terminal.backend().buffer();
        let marked: String = buffer
            .content()
            .iter()
            .filter(|c| c.modifier.contains(ratatui::style::Modifier::REVERSED))
            .map(|c| c.symbol())
            .collect();
        assert!(
            marked.contains("1/λ⁴"),
            "the quoted passage is highlighted at {size:?}: {marked:?}"
        );
    }
    s.action(Action::Back);
    assert_eq!(s.state.view.focus, Focus::Judge);
    assert_eq!(s.state.view.judge_item, 1);
    assert!(s.state.view.jump.is_none());

    // A contradiction: both sides' passages at once, side by side.
    s.action(Action::JudgeTab(1)).action(Action::Open);
    assert_eq!(s.state.view.focus, Focus::Member(1), "gpt's side first");
    let terminal = render(&mut s, (120, 40));
    let marked: String = terminal
        .backend()
        .buffer()
        .content()
        .iter()
        .filter(|c| c.modifier.contains(ratatui::style::Modifier::REVERSED))
        .map(|c| c.symbol())
        .collect();
    assert!(marked.contains("air molecules are much"), "{marked:?}");
    assert!(marked.contains("half the story"), "{marked:?}");
    snap("contradiction_passages", &mut s);
}

/// From a zoomed judge, Enter on an item and one Esc come back to the
/// item as it was: zoomed, the quote's hint gone.
#[test]
fn one_esc_returns_from_a_quote_to_the_zoomed_judge() {
    let mut s = finished();
    for _ in 0..4 {
        s.action(Action::FocusNext);
    }
    s.action(Action::ToggleZoom).action(Action::Scroll(1));
    // Zoomed, the focused judge's thick border starts at the top.
    let zoomed = |s: &mut Script| {
        let text = format!("{}", render(s, (120, 40)).backend());
        text.lines()
            .position(|l| l.contains('┏'))
            .is_some_and(|row| row <= 3)
    };
    assert!(zoomed(&mut s));
    s.action(Action::Open);
    assert_eq!(s.state.view.focus, Focus::Member(0));
    let text = format!("{}", render(&mut s, (120, 40)).backend());
    assert!(text.contains("quote 1 of"), "{text}");
    s.action(Action::Back);
    assert_eq!(s.state.view.focus, Focus::Judge);
    assert_eq!(s.state.view.judge_item, 1);
    assert!(zoomed(&mut s), "zoomed again, as it was");
    let text = format!("{}", render(&mut s, (120, 40)).backend());
    assert!(!text.contains("quote 1 of"), "{text}");
    assert!(text.contains("▶ Scattering strength grows"), "{text}");
}

#[test]
fn a_click_on_a_judge_item_selects_it() {
    let mut s = finished();
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let theme = Theme::default();
    let env = Env {
        theme: &theme,
        keymap: &s.keymap,
        now: s.now,
        tick: s.tick,
        plan: None,
    };
    let mut drawn = ui::Drawn::default();
    terminal
        .draw(|f| drawn = ui::draw(f, &s.state, &mut s.caches, &env))
        .unwrap();
    let areas = drawn.areas;
    // The row where the second consensus item starts.
    let screen = format!("{}", terminal.backend());
    let row = screen
        .lines()
        .position(|l| l.contains("• Scattering strength grows"))
        .expect("the second item is on screen") as u16;
    let column = areas.judge.x + 3;
    assert_eq!(areas.judge_item_at(column, row), Some(1));
    assert_eq!(areas.judge_item_at(column, row + 1), Some(1), "its badges");
    assert_eq!(
        areas.judge_item_at(areas.synthesis.x + 3, row),
        None,
        "outside the judge"
    );
    s.action(Action::SelectJudgeItem(1));
    assert_eq!(s.state.view.focus, Focus::Judge);
    assert_eq!(s.state.view.judge_item, 1);
}

const GEMINI_REVISED: &str = "It is mostly Rayleigh scattering, and I now agree that scattering alone explains the daytime blue: the ozone layer's Chappuis absorption band matters only at twilight, when it removes orange light";

/// `finished()`, then `D`: a second round where gemini-pro gives way on
/// the contradiction and the judge finds none left.
fn second_round() -> Script {
    let mut s = finished();
    s.event(CouncilEvent::RunStarted {
        question: "Why is the sky blue?".into(),
        scope: council::engine::RunScope::Round,
        preset: Some("quality".into()),
        members: vec![
            seat("claude-opus", "~anthropic/claude-opus-latest"),
            seat("gpt", "~openai/gpt-latest"),
            seat("gemini-pro", "~google/gemini-pro-latest"),
        ],
        judge: seat("judge", "~anthropic/claude-opus-latest"),
        synthesizer: seat("synthesizer", "~anthropic/claude-opus-latest"),
        limits: Default::default(),
        attachments: Vec::new(),
    });
    s.event(CouncilEvent::RoundStarted {
        round: 2,
        members: vec![0, 1, 2],
        dispute: None,
    });
    for member in 0..3 {
        s.event(CouncilEvent::MemberStarted { member });
    }
    s.at(21000);
    stream(&mut s, 0, CLAUDE);
    stream(&mut s, 1, GPT);
    stream(&mut s, 2, GEMINI_REVISED);
    finish(&mut s, 0, 143, 900, 6100, 0.0112);
    finish(&mut s, 1, 96, 1000, 4200, 0.0021);
    finish(&mut s, 2, 48, 1100, 5000, 0.0034);
    let mut settled = analysis();
    settled.contradictions.clear();
    s.event(CouncilEvent::JudgeStarted {
        model: "~anthropic/claude-opus-latest".into(),
        labels: LabelMap::shuffled(
            &[
                (0, "claude-opus".into()),
                (1, "gpt".into()),
                (2, "gemini-pro".into()),
            ],
            42,
        ),
    });
    s.event(CouncilEvent::JudgeFinished {
        analysis: settled,
        usage: Usage::default(),
        elapsed_ms: 5000,
        consistency: None,
    });
    s.event(CouncilEvent::SynthesisStarted {
        model: "~anthropic/claude-opus-latest".into(),
        citable: Vec::new(),
        with_analysis: true,
    });
    s.event(CouncilEvent::SynthesisDelta {
        text: "Rayleigh scattering; ozone matters only at twilight.".into(),
    });
    s.event(CouncilEvent::SynthesisFinished {
        finish_reason: Some("stop".into()),
        usage: Usage::default(),
        ttft_ms: Some(700),
        provenance: None,
        elapsed_ms: 2000,
    });
    s.event(CouncilEvent::RunFinished {
        outcome: RunOutcome::Synthesized,
        usage: Usage::default(),
        elapsed_ms: 14000,
        error: None,
    });
    s.at(34000);
    s
}

fn screen_at(s: &mut Script, size: (u16, u16)) -> String {
    format!("{}", render(s, size).backend())
}

#[test]
fn a_second_round_shows_its_round_and_the_convergence() {
    let mut s = second_round();
    let report = s.state.run.report();
    assert_eq!(report.round, 2);
    assert_eq!(report.rounds.len(), 2);
    assert_eq!(report.convergence, [Some(1), Some(0)]);
    snap("second_round", &mut s);
    let text = screen_at(&mut s, (120, 40));
    assert!(text.contains("r2/2"), "{text}");
    assert!(text.contains("contradictions 1 → 0"), "{text}");
    assert!(text.contains("I now agree"), "{text}");
}

#[test]
fn the_round_switcher_shows_the_earlier_answers() {
    let mut s = second_round();
    s.action(Action::FocusNext);
    s.action(Action::EarlierRound);
    assert_eq!(s.state.view.round, Some(1));
    let text = screen_at(&mut s, (120, 40));
    assert!(text.contains("r1/2"), "{text}");
    assert!(text.contains("round 1 of 2"), "{text}");
    assert!(!text.contains("I now agree"), "round 1's answer:\n{text}");
    assert!(text.contains("that is only half the story"), "{text}");
    insta::assert_snapshot!("round_switcher_120x40", render(&mut s, (120, 40)).backend());
    // Not before the first round; `>` comes back to the latest.
    s.action(Action::EarlierRound);
    assert_eq!(s.state.view.round, Some(1));
    s.action(Action::LaterRound);
    assert_eq!(s.state.view.round, None);
    assert!(screen_at(&mut s, (120, 40)).contains("I now agree"));
}

#[test]
fn the_diff_view_marks_what_a_member_revised() {
    let mut s = second_round();
    for _ in 0..3 {
        s.action(Action::FocusNext);
    }
    assert_eq!(s.state.view.focus, Focus::Member(2));
    s.action(Action::ToggleDiff);
    let terminal = render(&mut s, (120, 40));
    let text = format!("{}", terminal.backend());
    assert!(text.contains("diff against round 1: +"), "{text}");
    let styled = |m: ratatui::style::Modifier| -> String {
        terminal
            .backend()
            .buffer()
            .content()
            .iter()
            .filter(|c| c.modifier.contains(m))
            .map(|c| c.symbol())
            .collect()
    };
    let added = styled(ratatui::style::Modifier::UNDERLINED);
    let removed = styled(ratatui::style::Modifier::CROSSED_OUT);
    assert!(added.contains("I now agree"), "{added:?}");
    assert!(removed.contains("half"), "{removed:?}");
    assert!(
        !added.contains("Rayleigh"),
        "kept words are plain: {added:?}"
    );
    insta::assert_snapshot!("revision_diff_120x40", terminal.backend());
    // Other members' panes stay as they were; `=` again hides the diff.
    assert!(!text.contains("diff against round 1: unchanged"), "{text}");
    s.action(Action::ToggleDiff);
    assert!(!screen_at(&mut s, (120, 40)).contains("diff against"));
}

/// Quorum 2 at a 2 s deadline under a $0.50 cap: `claude-opus` fell back
/// to another model, `gemini-pro` was stopped late; the judge is at work.
fn degraded() -> Script {
    let mut s = Script::new();
    s.event(CouncilEvent::RunStarted {
        question: "Why is the sky blue?".into(),
        scope: Default::default(),
        preset: Some("quality".into()),
        members: vec![
            seat("claude-opus", "~anthropic/claude-opus-latest"),
            seat("gpt", "~openai/gpt-latest"),
            seat("gemini-pro", "~google/gemini-pro-latest"),
        ],
        judge: seat("judge", "~anthropic/claude-opus-latest"),
        synthesizer: seat("synthesizer", "~anthropic/claude-opus-latest"),
        limits: council::engine::council::Limits {
            quorum: Some(2),
            deadline_s: Some(2.0),
            max_cost: Some(0.5),
            ..Default::default()
        },
        attachments: Vec::new(),
    });
    for member in 0..3 {
        s.event(CouncilEvent::MemberStarted { member });
    }
    s.at(300);
    s.event(CouncilEvent::Fallback {
        seat: council::engine::SeatRole::Member { member: 0 },
        model: "~anthropic/claude-opus-latest".into(),
        error: ProviderError::new(ErrorKind::Http { status: 404 }, "HTTP 404: not found"),
        next: "anthropic/claude-sonnet-4".into(),
    });
    s.at(900);
    stream(&mut s, 0, CLAUDE);
    stream(&mut s, 1, GPT);
    stream(&mut s, 2, &GEMINI[..60]);
    finish(&mut s, 0, 120, 900, 1800, 0.0031);
    finish(&mut s, 1, 96, 700, 1500, 0.0021);
    s.at(2000);
    s.event(CouncilEvent::MemberLate {
        member: 2,
        ttft_ms: Some(1200),
        elapsed_ms: 2000,
    });
    s.event(CouncilEvent::JudgeStarted {
        model: "~anthropic/claude-opus-latest".into(),
        labels: LabelMap::shuffled(&[(0, "claude-opus".into()), (1, "gpt".into())], 7),
    });
    s.at(2400);
    s
}

#[test]
fn late_members_fallbacks_and_the_cap_are_on_screen() {
    let mut s = degraded();
    snap("degraded_panel", &mut s);
    let text = screen_at(&mut s, (120, 40));
    assert!(text.contains("⏱ late"), "{text}");
    assert!(text.contains("↪"), "{text}");
    assert!(text.contains("cap $0.50"), "{text}");
    let wide = screen_at(&mut s, (200, 60));
    assert!(wide.contains("↪ anthropic/claude-sonnet-4"), "{wide}");
    assert!(text.contains("1 late"), "{text}");
    // What the late member wrote is still there.
    assert!(text.contains("It is mostly Rayleigh"), "{text}");
}

/// One member asked with two files: its pane takes the whole width and
/// height (no judge, no synthesis), the files are listed under the question.
#[test]
fn a_panel_of_one_with_attached_files() {
    let mut s = Script::new();
    s.event(CouncilEvent::RunStarted {
        question: "Review @src/main.rs and @Cargo.toml".into(),
        scope: Default::default(),
        preset: None,
        members: vec![seat("claude-opus", "~anthropic/claude-opus-latest")],
        judge: seat("judge", "~anthropic/claude-opus-latest"),
        synthesizer: seat("synthesizer", "~anthropic/claude-opus-latest"),
        limits: Default::default(),
        attachments: vec![
            council::attachments::Attachment::new("src/main.rs", "fn main() {}\n".repeat(90))
                .info(),
            council::attachments::Attachment::new("Cargo.toml", "[package]\n".repeat(40)).info(),
        ],
    });
    s.event(CouncilEvent::MemberStarted { member: 0 });
    s.at(900);
    stream(&mut s, 0, CLAUDE);
    finish(&mut s, 0, 180, 900, 4200, 0.0031);
    s.at(4300).event(CouncilEvent::RunFinished {
        outcome: RunOutcome::Answered,
        usage: Usage {
            prompt_tokens: 20,
            completion_tokens: 180,
            cost: Some(0.0031),
        },
        elapsed_ms: 4300,
        error: None,
    });
    let mut seen = Vec::new();
    for _ in 0..3 {
        s.action(Action::FocusNext);
        seen.push(s.state.view.focus);
    }
    assert_eq!(
        seen,
        [Focus::Member(0), Focus::Prompt, Focus::Member(0)],
        "Tab never goes to the hidden panes"
    );
    s.action(Action::Rejudge);
    assert!(
        format!("{:?}", s.state.view.notice).contains("a panel of one has nothing to judge"),
        "{:?}",
        s.state.view.notice
    );
    s.state.view.notice = None;
    snap("panel_of_one", &mut s);
}

/// `/` finds words in every pane on screen: matches marked, each pane's
/// count in its title, `n`/`N` from match to match across panes, Esc closes.
#[test]
fn search_finds_words_across_the_panes() {
    let mut s = finished();
    s.action(Action::FocusNext);
    assert_eq!(s.state.view.focus, Focus::Member(0));
    s.action(Action::OpenSearch);
    for c in "BLUE  light".chars() {
        s.action(Action::SearchKey(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )));
    }
    // The words are found while they are typed.
    let text = format!("{}", render(&mut s, (200, 60)).backend());
    assert!(text.contains(" / BLUE  light▏"), "{text}");
    assert!(text.contains("3 found in 3 panes"), "{text}");
    s.action(Action::SearchGo);
    snap("search", &mut s);
    let terminal = render(&mut s, (120, 40));
    let text = format!("{}", terminal.backend());
    assert!(text.contains("match 1 of 3 in 3 panes"), "{text}");
    // claude-opus's, gpt's and the synthesis's titles count one each.
    assert_eq!(text.matches(" 1 found ").count(), 3, "{text}");
    let cells = terminal.backend().buffer().content();
    let with = |m: ratatui::style::Modifier| -> String {
        cells
            .iter()
            .filter(|c| c.modifier.contains(m))
            .map(|c| c.symbol())
            .collect()
    };
    use ratatui::style::Modifier;
    assert!(
        with(Modifier::REVERSED).contains("Blue light"),
        "the match gone to is reversed: {:?}",
        with(Modifier::REVERSED)
    );
    assert!(
        with(Modifier::UNDERLINED).contains("Blue light")
            && with(Modifier::UNDERLINED).contains("blue light"),
        "the others are underlined: {:?}",
        with(Modifier::UNDERLINED)
    );

    // n: gpt's match, then the synthesis's, then round to claude-opus.
    s.action(Action::NextQuote);
    assert_eq!(s.state.view.focus, Focus::Member(1));
    s.action(Action::NextQuote);
    assert_eq!(s.state.view.focus, Focus::Synthesis);
    let text = format!("{}", render(&mut s, (120, 40)).backend());
    assert!(text.contains("match 3 of 3"), "{text}");
    s.action(Action::NextQuote);
    assert_eq!(s.state.view.focus, Focus::Member(0));
    s.action(Action::PrevQuote);
    assert_eq!(s.state.view.focus, Focus::Synthesis, "N goes back round");

    // `/` edits the words again; Esc there closes the search.
    s.action(Action::OpenSearch);
    s.action(Action::SearchKey(KeyEvent::new(
        KeyCode::Char('x'),
        KeyModifiers::NONE,
    )));
    let text = format!("{}", render(&mut s, (120, 40)).backend());
    assert!(
        text.contains("BLUE  lightx▏ · not found on screen"),
        "{text}"
    );
    s.action(Action::SearchClose);
    let terminal = render(&mut s, (120, 40));
    let text = format!("{}", terminal.backend());
    assert!(!text.contains(" 1 found "), "{text}");
    assert!(
        !terminal
            .backend()
            .buffer()
            .content()
            .iter()
            .any(|c| c.modifier.contains(Modifier::UNDERLINED) && c.symbol() == "B"),
        "no marks left"
    );
}

/// `L` arranges the screen: the map first gives the judge the width, the
/// answer first the synthesis; done members keep to what they hold.
#[test]
fn arrangements_share_the_screen_by_what_comes_first() {
    let mut s = finished();
    s.action(Action::FocusNext);
    // Where the synthesis pane starts on the judge's row, and that row.
    let split = |s: &mut Script| -> (usize, usize) {
        let text = format!("{}", render(s, (120, 40)).backend());
        // Past the stage bar, which names the judge too.
        let (row, line) = text
            .lines()
            .enumerate()
            .skip(1)
            .find(|(_, l)| l.contains(" Judge "))
            .expect("a judge pane");
        let at = line.find(" Synthesis ").expect("the synthesis beside it");
        (row, line[..at].chars().count())
    };
    let (follows_row, follows_split) = split(&mut s);
    s.action(Action::NextLayout);
    assert_eq!(s.state.view.arrangement.name(), "panel first");
    let (panel_row, _) = split(&mut s);
    assert!(panel_row > follows_row, "{panel_row} > {follows_row}");
    s.action(Action::NextLayout);
    let (_, map_split) = split(&mut s);
    assert!(
        map_split > follows_split + 10,
        "the judge is wide: {map_split}"
    );
    s.action(Action::NextLayout);
    let (_, answer_split) = split(&mut s);
    assert!(
        answer_split + 10 < follows_split,
        "the synthesis is wide: {answer_split}"
    );
    snap("answer_first", &mut s);
    s.action(Action::NextLayout);
    assert_eq!(s.state.view.arrangement.name(), "follows the work");
}

/// The traced synthesis: each claim with its members' badges, one nobody
/// wrote marked; j/k select a claim, Enter goes to the passages that
/// support it, n/N through them, Esc back to the claim.
#[test]
fn claims_carry_badges_and_lead_to_their_passages() {
    let mut s = traced();
    let provenance = s.state.run.report().synthesis.provenance.clone().unwrap();
    let found: Vec<Vec<String>> = provenance
        .claims
        .iter()
        .map(|c| c.found_in.clone())
        .collect();
    assert_eq!(provenance.claims.len(), 4, "{provenance:?}");
    assert_eq!(found[0], ["gpt"], "{found:?}");
    assert!(provenance.claims[3].unsourced, "nobody wrote of a balloon");
    for _ in 0..5 {
        s.action(Action::FocusNext);
    }
    assert_eq!(s.state.view.focus, Focus::Synthesis);
    s.action(Action::Scroll(1));
    assert_eq!(s.state.view.claim, 1);
    snap("traced_synthesis", &mut s);
    let terminal = render(&mut s, (200, 60));
    let text = format!("{}", terminal.backend());
    assert!(text.contains("claims 3/4 sourced"), "{text}");
    assert!(text.contains("unsourced"), "{text}");
    let reversed: String = terminal
        .backend()
        .buffer()
        .content()
        .iter()
        .filter(|c| c.modifier.contains(ratatui::style::Modifier::REVERSED))
        .map(|c| c.symbol())
        .collect();
    // (wrapped: the marked cells read without the space at the break)
    assert!(
        reversed
            .replace(' ', "")
            .contains("Shorterwavelengthsscattermuchmore."),
        "the selected claim is marked: {reversed:?}"
    );
    assert!(!reversed.contains("Air molecules"), "{reversed:?}");

    // Enter: claude-opus's passage, highlighted in its pane; n: the next
    // supporting member's; Esc: back to the claim.
    s.action(Action::Open);
    let first = s.state.view.focus;
    assert!(matches!(first, Focus::Member(_)), "{first:?}");
    let terminal = render(&mut s, (120, 40));
    let reversed: String = terminal
        .backend()
        .buffer()
        .content()
        .iter()
        .filter(|c| c.modifier.contains(ratatui::style::Modifier::REVERSED))
        .map(|c| c.symbol())
        .collect();
    assert!(
        reversed.to_lowercase().contains("scatter much more"),
        "{reversed:?}"
    );
    let text = format!("{}", terminal.backend());
    assert!(text.contains("passage 1 of"), "{text}");
    s.action(Action::NextQuote);
    s.action(Action::Back);
    assert_eq!(s.state.view.focus, Focus::Synthesis);
    assert_eq!(s.state.view.claim, 1, "back at the claim");
    // The unsourced claim leads nowhere, and says why.
    s.action(Action::Scroll(1))
        .action(Action::Scroll(1))
        .action(Action::Open);
    assert_eq!(s.state.view.focus, Focus::Synthesis);
    let text = format!("{}", render(&mut s, (120, 40)).backend());
    assert!(text.contains("no answer says this"), "{text}");
}

/// On the offline preset the welcome says what the model is and how long a
/// council takes here; while the judge streams its pane counts tokens.
#[test]
fn the_offline_council_says_what_it_is_and_the_judge_shows_its_rate() {
    let mut s = Script::new();
    let local = "local/SmolLM2-135M-Instruct.Q4_1";
    s.plan = Some(council::config::CouncilPlan {
        preset: Some("local".into()),
        members: vec![spec("explainer", local), spec("skeptic", local)],
        judge: spec("judge", local),
        synthesizer: spec("synthesizer", local),
        endpoints: Default::default(),
        rounds: 1,
        ranking: false,
        limits: Default::default(),
    });
    let screen = format!("{}", render(&mut s, (120, 40)).backend());
    assert!(
        screen.contains("small demo model (135M parameters)"),
        "{screen}"
    );
    assert!(screen.contains("one takes about"), "{screen}");
    s.state.view.offline_seconds = Some(31);
    let screen = format!("{}", render(&mut s, (120, 40)).backend());
    assert!(
        screen.contains("the last one took 31 s on this machine"),
        "{screen}"
    );

    // The judge streaming: its tokens and their rate.
    let mut s = judged_streaming();
    let screen = format!("{}", render(&mut s, (120, 40)).backend());
    assert!(
        screen.contains("comparing 3 answers · 40 tok · 20.0 tok/s"),
        "{screen}"
    );
}

/// The panel done, the judge 2 s into its reply: 40 deltas so far.
fn judged_streaming() -> Script {
    let mut s = judge_started();
    for _ in 0..40 {
        s.event(CouncilEvent::JudgeDelta { text: "{".into() });
    }
    s.at(9400);
    s
}
