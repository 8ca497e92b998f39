//! The real binary in a pseudo-terminal: keystrokes in, a vt100 screen and
//! every byte written out.

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

/// The terminal side: everything the child wrote, and a screen parsed from it.
pub struct Screen {
    pub raw: Vec<u8>,
    pub parser: vt100::Parser,
}

pub fn contents(screen: &Arc<Mutex<Screen>>) -> String {
    screen.lock().unwrap().parser.screen().contents()
}

pub fn wait_for(screen: &Arc<Mutex<Screen>>, what: &str, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !contents(screen).contains(text) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what} ({text:?}); the screen:\n{}",
            contents(screen)
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// The binary running in a pseudo-terminal, and what it shows.
pub struct Term {
    /// Holds the config, data and cache folders.
    pub home: std::path::PathBuf,
    pub pty: portable_pty::PtyPair,
    pub child: Box<dyn portable_pty::Child + Send + Sync>,
    pub screen: Arc<Mutex<Screen>>,
    keys: Arc<Mutex<Box<dyn Write + Send>>>,
}

impl Term {
    /// Starts council with `args` in a `rows` x `cols` terminal; its config,
    /// data and cache live under a folder of the test's own.
    pub fn spawn(name: &str, args: &[&str], rows: u16, cols: u16) -> Term {
        Self::spawn_with(name, args, &[], rows, cols)
    }

    pub fn spawn_with(
        name: &str,
        args: &[&str],
        envs: &[(&str, &str)],
        rows: u16,
        cols: u16,
    ) -> Term {
        let home = std::env::temp_dir().join(format!("council-pty-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        Self::spawn_at(home, args, envs, rows, cols)
    }

    /// Starts council with its config, data and cache under `home`, as
    /// they are (a restart).
    pub fn spawn_at(
        home: std::path::PathBuf,
        args: &[&str],
        envs: &[(&str, &str)],
        rows: u16,
        cols: u16,
    ) -> Term {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_council"));
        cmd.args(args);
        cmd.env_remove("OPENROUTER_API_KEY");
        cmd.env_remove("OPENAI_API_KEY");
        cmd.env("TERM", "xterm-256color");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.env("XDG_CONFIG_HOME", home.join("config"));
        cmd.env("XDG_DATA_HOME", home.join("data"));
        cmd.env("XDG_CACHE_HOME", home.join("cache"));
        cmd.env("XDG_STATE_HOME", home.join("state"));
        let child = pair.slave.spawn_command(cmd).expect("spawn council");

        let screen = Arc::new(Mutex::new(Screen {
            raw: Vec::new(),
            parser: vt100::Parser::new(
                NonZeroU16::new(rows).unwrap(),
                NonZeroU16::new(cols).unwrap(),
                0,
            ),
        }));
        let mut reader = pair.master.try_clone_reader().unwrap();
        let keys = Arc::new(Mutex::new(pair.master.take_writer().unwrap()));
        let (sink, answer) = (screen.clone(), keys.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut s = sink.lock().unwrap();
                s.raw.extend_from_slice(&buf[..n]);
                s.parser.process(&buf[..n]);
                // Answer cursor-position queries as a terminal does.
                if buf[..n].windows(4).any(|w| w == b"\x1b[6n") {
                    let (row, col) = s.parser.screen().cursor_position();
                    let reply = format!("\x1b[{};{}R", row + 1, col + 1);
                    let mut w = answer.lock().unwrap();
                    let _ = w.write_all(reply.as_bytes());
                    let _ = w.flush();
                }
            }
        });
        Term {
            home,
            pty: pair,
            child,
            screen,
            keys,
        }
    }

    pub fn type_keys(&self, bytes: &[u8]) {
        let mut w = self.keys.lock().unwrap();
        w.write_all(bytes).unwrap();
        w.flush().unwrap();
    }

    pub fn wait_for(&self, what: &str, text: &str) {
        wait_for(&self.screen, what, text)
    }

    pub fn contents(&self) -> String {
        contents(&self.screen)
    }

    /// Waits for the child to exit after a quit key.
    pub fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "council did not quit");
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}
