//! SSE framing: bytes as they arrive from the network into events' `data`.
//!
//! Written here because the framing crates re-parse their whole buffer on
//! every read, which makes one long unterminated line cost quadratic time.
//! This framer looks at each byte once and holds at most one event, capped.
//! Lines end with LF, CRLF or CR (split anywhere across reads); `:` lines
//! are comments; only `data` fields matter to chat completions.

/// The largest event accepted: past it the stream fails (the text that
/// arrived before stays with the caller).
pub(crate) const MAX_EVENT_BYTES: usize = 16 << 20;

#[derive(Debug, Default)]
pub(crate) struct Framer {
    /// Bytes of the line in progress.
    line: Vec<u8>,
    /// The event's `data` so far, lines joined with `\n`.
    data: String,
    has_data: bool,
    /// The last byte was a CR: a LF right after it ends nothing.
    after_cr: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TooLarge;

impl Framer {
    /// Feeds bytes; every completed event's data is pushed to `out`.
    pub(crate) fn push(&mut self, bytes: &[u8], out: &mut Vec<String>) -> Result<(), TooLarge> {
        let mut rest = bytes;
        if self.after_cr && rest.first() == Some(&b'\n') {
            rest = &rest[1..];
        }
        self.after_cr = false;
        while let Some(end) = rest.iter().position(|b| *b == b'\n' || *b == b'\r') {
            self.line.extend_from_slice(&rest[..end]);
            self.check()?;
            self.end_line(out);
            let cr = rest[end] == b'\r';
            rest = &rest[end + 1..];
            if cr {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    None => self.after_cr = true,
                    _ => {}
                }
            }
        }
        self.line.extend_from_slice(rest);
        self.check()
    }

    /// The stream ended: a last line or event without its blank line still counts.
    pub(crate) fn finish(&mut self, out: &mut Vec<String>) {
        if !self.line.is_empty() {
            self.end_line(out);
        }
        self.end_line(out);
    }

    fn check(&self) -> Result<(), TooLarge> {
        if self.line.len() + self.data.len() > MAX_EVENT_BYTES {
            Err(TooLarge)
        } else {
            Ok(())
        }
    }

    fn end_line(&mut self, out: &mut Vec<String>) {
        let line = std::mem::take(&mut self.line);
        if line.is_empty() {
            if self.has_data {
                out.push(std::mem::take(&mut self.data));
                self.has_data = false;
            }
            return;
        }
        if line[0] == b':' {
            return;
        }
        let (field, value) = match line.iter().position(|b| *b == b':') {
            Some(i) => {
                let value = &line[i + 1..];
                (&line[..i], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (&line[..], &b""[..]),
        };
        if field == b"data" {
            if self.has_data {
                self.data.push('\n');
            }
            // Lines are whole, so no character is split here; bytes that
            // are not UTF-8 become U+FFFD and the stream goes on.
            self.data.push_str(&String::from_utf8_lossy(value));
            self.has_data = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(parts: &[&[u8]]) -> Vec<String> {
        let mut f = Framer::default();
        let mut out = Vec::new();
        for p in parts {
            f.push(p, &mut out).unwrap();
        }
        f.finish(&mut out);
        out
    }

    #[test]
    fn events_split_anywhere_with_any_line_ending() {
        let whole: &[u8] =
            b": keep-alive\n\ndata: {\"a\":1}\r\n\r\ndata: two\rdata: lines\r\rdata: x\xc3\xa9\n\n";
        let expected = vec!["{\"a\":1}".to_string(), "two\nlines".into(), "xé".into()];
        assert_eq!(frame(&[whole]), expected);
        for at in 0..whole.len() {
            let (a, b) = whole.split_at(at);
            assert_eq!(frame(&[a, b]), expected, "split at {at}");
        }
        let bytes: Vec<&[u8]> = whole.chunks(1).collect();
        assert_eq!(frame(&bytes), expected);
    }

    #[test]
    fn a_last_event_without_its_blank_line_still_counts() {
        assert_eq!(frame(&[b"data: [DONE]"]), ["[DONE]"]);
        assert_eq!(frame(&[b"data:no-space\n"]), ["no-space"]);
    }

    #[test]
    fn an_event_past_the_cap_fails() {
        let mut f = Framer::default();
        let mut out = Vec::new();
        let chunk = vec![b'x'; 1 << 20];
        f.push(b"data: ", &mut out).unwrap();
        let mut failed = false;
        for _ in 0..17 {
            if f.push(&chunk, &mut out).is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed);
    }
}
