//! Model output is untrusted: before it reaches a terminal, escape sequences
//! and control characters are removed so a model cannot retitle the window,
//! clear the screen, move the cursor or smuggle hyperlinks.

/// Returns `text` without escape sequences (CSI, OSC, DCS, APC, PM, SOS and
/// two-byte escapes, in their 7-bit and 8-bit forms) and without control
/// characters other than newline and tab. Carriage returns are dropped too,
/// since a lone one would let text overwrite its own line.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\t' => out.push(c),
            '\u{1b}' => match chars.next() {
                // CSI: parameters and intermediates up to a final byte in @..~
                Some('[') => skip_csi(&mut chars),
                // OSC, DCS, SOS, PM, APC: a string up to BEL or ST (ESC \)
                Some(']' | 'P' | 'X' | '^' | '_') => skip_string(&mut chars),
                // Two-byte escapes (ESC c, ESC 7, ...): the next char is consumed.
                _ => {}
            },
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            c if c.is_control() => {}
            // Bidirectional overrides can make displayed text lie about its order.
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {}
            c => out.push(c),
        }
    }
    out
}

/// [`sanitize`], on one line: newlines and tabs become spaces, so a name
/// cannot start a line of its own.
pub fn one_line(text: &str) -> String {
    sanitize(text).replace(['\n', '\t'], " ")
}

fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            return;
        }
    }
}

fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{07}' | '\u{9c}' => return,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                return;
            }
            _ => {}
        }
    }
}

/// Removes secrets from a text that came back from a server (an error body
/// may echo the request's headers): the active `key`, anything after
/// `Bearer ` or `Basic `, `sk-...` shaped keys, and the user and password
/// of a URL (`https://user:pass@host`).
pub(crate) fn redact(text: &str, key: Option<&str>) -> String {
    const REDACTED: &str = "[redacted]";
    let mut out = match key.map(str::trim).filter(|k| k.len() >= 4) {
        Some(key) => text.replace(key, REDACTED),
        None => text.to_string(),
    };
    out = redact_userinfo(&out);
    let token =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '+' | '/' | '=');
    for (marker, min) in [
        ("Bearer ", 1),
        ("bearer ", 1),
        ("Basic ", 1),
        ("basic ", 1),
        ("sk-", 8),
    ] {
        let mut from = 0;
        while let Some(at) = out[from..].find(marker).map(|i| i + from) {
            let start = at + marker.len();
            let len: usize = out[start..]
                .chars()
                .take_while(|c| token(*c))
                .map(char::len_utf8)
                .sum();
            if len >= min && !out[start..].starts_with(REDACTED) {
                out.replace_range(start..start + len, REDACTED);
            }
            from = start;
        }
    }
    out
}

/// Every URL's `user:password@` in `text` replaced by `[redacted]@`.
fn redact_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        // The authority ends at the first `/`, `?`, `#` or space.
        let authority = tail
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace() || c == '"')
            .unwrap_or(tail.len());
        match tail[..authority].rfind('@') {
            Some(userinfo) => {
                out.push_str("[redacted]");
                rest = &tail[userinfo..];
            }
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

/// A URL as it may be stored or logged: without its user and password.
pub fn url_without_userinfo(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        _ => redact_userinfo(url),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_server_text_are_redacted() {
        let echoed = r#"{"headers": {"Authorization": "Bearer sk-or-v1-abc123def456"}, "key": "my-own-key-42", "other": "sk-proj-ZZZZYYYYXXXX"}"#;
        let clean = redact(echoed, Some("my-own-key-42"));
        assert!(
            !clean.contains("abc123def456")
                && !clean.contains("my-own-key-42")
                && !clean.contains("ZZZZYYYY"),
            "{clean}"
        );
        assert!(clean.contains("Bearer [redacted]"), "{clean}");
        let basic = redact(
            "auth: Basic dXNlcjpwYXNz at https://user:pass@host.example/v1 ok",
            None,
        );
        assert_eq!(
            basic,
            "auth: Basic [redacted] at https://[redacted]@host.example/v1 ok"
        );
        assert_eq!(
            url_without_userinfo("http://user:pass@localhost:8080/v1"),
            "http://localhost:8080/v1"
        );
        assert_eq!(redact("task-list is fine", None), "task-list is fine");
    }

    #[test]
    fn strips_sequences_that_would_change_the_terminal() {
        assert_eq!(sanitize("a\u{1b}]0;pwned\u{07}b"), "ab");
        assert_eq!(
            sanitize("a\u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{1b}\\b"),
            "alinkb"
        );
        assert_eq!(sanitize("\u{1b}[2J\u{1b}[H\u{1b}[31mred\u{1b}[0m"), "red");
        assert_eq!(sanitize("x\u{9b}2Jy"), "xy");
        assert_eq!(
            sanitize("bell\u{07} back\u{08}space\r\n"),
            "bell backspace\n"
        );
        assert_eq!(sanitize("\u{1b}Pq#0;2;0;0;0\u{1b}\\after"), "after");
        assert_eq!(sanitize("evil\u{202e}txt.exe"), "eviltxt.exe");
        assert_eq!(
            sanitize("keeps\ttabs, ünïcødé and 漢字\n"),
            "keeps\ttabs, ünïcødé and 漢字\n"
        );
    }
}
