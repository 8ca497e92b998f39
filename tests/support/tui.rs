//! The TUI's loop driven headless: keys sent through the real input path,
//! the screen on a TestBackend, waits on what the scripted server has seen.

use std::future::Future;
use std::time::Duration;

use council::tui::App;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::Server;

/// A keyboard for the app: what it sends arrives as terminal events.
#[derive(Clone)]
pub struct Keys(UnboundedSender<std::io::Result<Event>>);

impl Keys {
    /// A keyboard and the input stream the app reads it from.
    pub fn new() -> (Self, UnboundedReceiver<std::io::Result<Event>>) {
        let (tx, rx) = unbounded();
        (Self(tx), rx)
    }

    pub fn send(&self, event: Event) {
        let _ = self.0.unbounded_send(Ok(event));
    }

    pub fn key(&self, code: KeyCode, modifiers: KeyModifiers) {
        self.send(Event::Key(KeyEvent::new(code, modifiers)));
    }

    pub fn press(&self, code: KeyCode) {
        self.key(code, KeyModifiers::NONE);
    }

    pub fn ctrl(&self, c: char) {
        self.key(KeyCode::Char(c), KeyModifiers::CONTROL);
    }

    /// Types `text` character by character.
    pub fn type_text(&self, text: &str) {
        for c in text.chars() {
            self.press(KeyCode::Char(c));
        }
    }

    /// Types `text` and presses Enter.
    pub fn type_line(&self, text: &str) {
        self.type_text(text);
        self.press(KeyCode::Enter);
    }
}

/// A TestBackend terminal of `width` x `height`.
pub fn terminal(width: u16, height: u16) -> Terminal<TestBackend> {
    Terminal::new(TestBackend::new(width, height)).unwrap()
}

/// The screen as text.
pub fn screen(terminal: &Terminal<TestBackend>) -> String {
    format!("{}", terminal.backend())
}

/// Runs the app loop on `terminal` while `script` types; the script ends
/// the loop (Ctrl-C, `q`) or lets the input end by dropping its keys.
pub async fn drive<F, Fut>(app: &mut App, terminal: &mut Terminal<TestBackend>, script: F)
where
    F: FnOnce(Keys) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (keys, rx) = Keys::new();
    let driver = tokio::spawn(script(keys));
    tokio::time::timeout(
        Duration::from_secs(30),
        app.run(terminal, rx, std::future::pending()),
    )
    .await
    .expect("the loop ends")
    .unwrap();
    driver.await.unwrap();
}

/// Waits until the server has finished `n` chat replies, then for their events.
pub async fn settled(server: &Server, n: usize) {
    wait_until(server, |s| {
        let requests = s.chats();
        requests.len() >= n && requests.iter().all(|r| r.finished.is_some())
    })
    .await;
}

/// Waits until the server has sent `n` whole syntheses, then for their events.
pub async fn syntheses(server: &Server, n: usize) {
    wait_until(server, |s| {
        s.requests()
            .iter()
            .filter(|r| r.is_synthesis() && r.finished.is_some())
            .count()
            >= n
    })
    .await;
}

async fn wait_until(server: &Server, done: impl Fn(&Server) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !done(server) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server did not see it in time: {} requests",
            server.requests().len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
}
