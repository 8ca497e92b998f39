//! The TUI's two hot paths while a council streams: folding token events
//! into state, and drawing a frame. Eight members hold 50k tokens each, so a
//! renderer that re-wraps whole texts every frame shows up here.

use council::engine::{CouncilEvent, SeatInfo};
use std::time::Instant;

use council::tui::keymap::Keymap;
use council::tui::state::State;
use council::tui::theme::Theme;
use council::tui::ui::{self, Env, RenderCaches};
use divan::Bencher;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn main() {
    divan::main();
}

const MEMBERS: usize = 8;
const TOKENS_PER_MEMBER: usize = 50_000;

fn seat(name: &str) -> SeatInfo {
    SeatInfo {
        name: name.into(),
        model: format!("bench/{name}"),
        provider: "bench".into(),
    }
}

fn started() -> State {
    let mut state = State::new();
    state.apply(
        &CouncilEvent::RunStarted {
            question: "A long question".into(),
            scope: Default::default(),
            preset: None,
            members: (0..MEMBERS).map(|i| seat(&format!("m{i}"))).collect(),
            judge: seat("judge"),
            synthesizer: seat("synth"),
            limits: Default::default(),
            attachments: Vec::new(),
        },
        Instant::now(),
    );
    for member in 0..MEMBERS {
        state.apply(&CouncilEvent::MemberStarted { member }, Instant::now());
    }
    state
}

/// One frame as the app draws it: drawn from the state, then the view
/// takes in what was laid out.
fn draw(terminal: &mut Terminal<TestBackend>, (state, caches): &mut (State, RenderCaches)) {
    let (theme, keymap) = (Theme::default(), Keymap::default());
    let env = Env {
        theme: &theme,
        keymap: &keymap,
        now: Instant::now(),
        tick: 0,
        plan: None,
    };
    let mut drawn = ui::Drawn::default();
    terminal
        .draw(|f| drawn = ui::draw(f, state, caches, &env))
        .unwrap();
    state.view.place(drawn.placement);
}

/// A token as models stream them: a word, sometimes markdown, sometimes a
/// paragraph break.
fn token(i: usize) -> String {
    match i % 97 {
        0 => "\n\n## Section heading\n\n".into(),
        13 => "\n- a list item with **bold** ".into(),
        41 => " `code` ".into(),
        _ => format!("word{} ", i % 1000),
    }
}

/// Eight members holding 50k tokens each, drawn once so caches are warm.
fn full_state(terminal: &mut Terminal<TestBackend>) -> (State, RenderCaches) {
    let mut state = started();
    for i in 0..TOKENS_PER_MEMBER {
        let text = token(i);
        for member in 0..MEMBERS {
            state.apply(
                &CouncilEvent::MemberDelta {
                    member,
                    text: text.clone(),
                },
                Instant::now(),
            );
        }
    }
    let mut screen = (state, RenderCaches::default());
    draw(terminal, &mut screen);
    screen
}

/// One frame with every member's text unchanged since the last frame.
#[divan::bench(args = [(120, 40), (200, 60)])]
fn render_full_frame_8x50k_unchanged(bencher: Bencher, (w, h): (u16, u16)) {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    let mut screen = full_state(&mut terminal);
    bencher.bench_local(|| draw(&mut terminal, &mut screen));
}

/// One frame after every member got one more token: the streaming case.
#[divan::bench(args = [(120, 40), (200, 60)])]
fn render_full_frame_8x50k_streaming(bencher: Bencher, (w, h): (u16, u16)) {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    let mut screen = full_state(&mut terminal);
    let mut i = 0;
    bencher.bench_local(|| {
        for member in 0..MEMBERS {
            screen.0.apply(
                &CouncilEvent::MemberDelta {
                    member,
                    text: token(i),
                },
                Instant::now(),
            );
        }
        i += 1;
        draw(&mut terminal, &mut screen);
    });
}

/// Folding 100k token events (spread over eight members) into state.
#[divan::bench(sample_count = 10)]
fn fold_100k_token_events(bencher: Bencher) {
    let events: Vec<CouncilEvent> = (0..100_000)
        .map(|i| CouncilEvent::MemberDelta {
            member: i % MEMBERS,
            text: token(i / MEMBERS),
        })
        .collect();
    bencher
        .with_inputs(started)
        .bench_local_values(|mut state| {
            let now = Instant::now();
            for e in &events {
                state.apply(e, now);
            }
            state
        });
}
