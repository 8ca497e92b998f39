//! A session as a Markdown report (question, a table of the members, each
//! answer, the judge's sections, the synthesis), as plain text to read in a
//! terminal (`council show`), or as JSON.

use std::fmt::Write;

use serde::Serialize;

use super::{Header, Session};
use crate::engine::judge::{Analysis, Finding, Quote};
use crate::engine::provenance::Claim;
use crate::engine::{RunReport, Status};

fn status(s: Status) -> &'static str {
    match s {
        Status::Queued => "queued",
        Status::Streaming => "interrupted",
        Status::Done => "done",
        Status::Failed => "failed",
        Status::Cancelled => "cancelled",
        Status::Late => "late",
        Status::Skipped => "skipped",
    }
}

/// Said of a judgement and synthesis written before answers changed.
const STALE: &str =
    "\n> **Stale:** answers changed after this was written (a member was re-run or added).\n";

fn cost(c: Option<f64>) -> String {
    c.map_or("-".into(), |c| format!("${c:.4}"))
}

fn seconds(ms: Option<u64>) -> String {
    ms.map_or("-".into(), |ms| format!("{:.1}s", ms as f64 / 1000.0))
}

/// Text inside a table cell: one line, no column breaks.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// A judge's quote as the reports print it, as the TUI shows it: a
/// verified one as it is; any other marked `?`, saying where it was not
/// found and whose words it is when another member wrote it.
fn quote(q: &Quote, analysis: &Analysis) -> String {
    let label = q.label(|s| s.trim().to_string());
    match (analysis.checked, q.verified) {
        (false, _) => format!("“{}” — {} (not checked)", q.text.trim(), q.member),
        (true, true) => label,
        (true, false) => format!("? {label}"),
    }
}

/// `· quotes 3/5 found` for a judge's heading, when it quoted.
fn quotes_found(analysis: Option<&Analysis>) -> String {
    match analysis.map(Analysis::grounding) {
        Some(g) if g.quotes > 0 && analysis.is_some_and(|a| a.checked) => {
            format!(" · quotes {}/{} found", g.verified, g.quotes)
        }
        _ => String::new(),
    }
}

fn turns(n: usize) -> String {
    match n {
        1 => "1 turn".into(),
        n => format!("{n} turns"),
    }
}

/// The synthesis with `mark(k)` after its k-th claim (from 1), and a note
/// per claim: the members it cites with the passage each wrote, the
/// members it is found in without citing them, a citation its member's
/// answer does not hold, or that nobody cited or wrote it. None without
/// provenance.
fn sourced(turn: &RunReport, mark: impl Fn(usize) -> String) -> Option<(String, Vec<String>)> {
    let s = &turn.synthesis;
    let provenance = s.provenance.as_ref().filter(|p| !p.claims.is_empty())?;
    let mut text = String::with_capacity(s.text.len() + 8 * provenance.claims.len());
    let mut at = 0;
    let mut notes = Vec::new();
    for (k, claim) in provenance.claims.iter().enumerate() {
        // Spans come from the session file: one that does not fit the text
        // (a file edited by hand) leaves the text unmarked.
        let end = claim.span.1;
        if end < at || !s.text.is_char_boundary(end) || end > s.text.len() {
            return None;
        }
        text.push_str(&s.text[at..end]);
        text.push_str(&mark(k + 1));
        at = end;
        notes.push(note(claim, turn));
    }
    text.push_str(&s.text[at..]);
    Some((text, notes))
}

fn note(claim: &Claim, turn: &RunReport) -> String {
    if claim.unsourced {
        return "unsourced: no member cited or wrote this".into();
    }
    let passage = |member: &str, span: (usize, usize)| {
        let text = turn
            .members
            .iter()
            .find(|m| m.name == member)
            .and_then(|m| m.text.get(span.0..span.1))
            .unwrap_or("");
        let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        match line.char_indices().nth(160) {
            Some((cut, _)) => format!("“{}…”", &line[..cut]),
            None => format!("“{line}”"),
        }
    };
    let mut parts = Vec::new();
    for member in &claim.members {
        match claim.support.iter().find(|s| &s.member == member) {
            Some(s) => parts.push(format!("{member}: {}", passage(member, s.span))),
            None => parts.push(format!("{member}: cited, not found in its answer")),
        }
    }
    for s in claim
        .support
        .iter()
        .filter(|s| !claim.members.contains(&s.member))
    {
        parts.push(format!(
            "{} (not cited): {}",
            s.member,
            passage(&s.member, s.span)
        ));
    }
    parts.join("; ")
}

/// How much of the synthesis is sourced, in a line.
fn sourced_summary(turn: &RunReport) -> Option<String> {
    let p = turn.synthesis.provenance.as_ref()?;
    let (sourced, claims) = p.sourced();
    Some(format!(
        "{sourced} of {claims} claims sourced: {} cited, {} supported by every member they cite, {} unsourced",
        p.cited, p.supported, p.unsourced
    ))
}

pub fn markdown(session: &Session) -> String {
    let mut out = String::new();
    let h = &session.header;
    let _ = writeln!(out, "# Council session {}\n", h.id);
    let preset = h.council.preset.as_deref().unwrap_or("custom panel");
    let _ = writeln!(
        out,
        "Created {} · {preset} · {}",
        h.created,
        turns(session.turns.len())
    );
    if session.interrupted {
        out.push_str("\n> The last turn was interrupted before it finished.\n");
    }
    for (i, turn) in session.turns.iter().enumerate() {
        if session.turns.len() > 1 {
            let _ = writeln!(out, "\n## Turn {}", i + 1);
        }
        let label = if session.turns.len() > 1 {
            format!("{}-", i + 1)
        } else {
            String::new()
        };
        turn_markdown(&mut out, turn, &label);
    }
    out
}

/// How the rounds went, one line each (depth 0), with what changed per
/// member under it (depth 1); then the peer ranking. Empty for a one-round
/// turn without a ranking.
fn deliberation(turn: &RunReport) -> Vec<(usize, String)> {
    let mut lines = Vec::new();
    if turn.rounds.len() > 1 {
        for (k, round) in turn.rounds.iter().enumerate() {
            let contradictions = round
                .judge
                .analysis
                .as_ref()
                .map_or("judge: no analysis".into(), |a| {
                    format!("{} contradiction(s)", a.contradictions.len())
                });
            let dispute = round
                .dispute
                .as_deref()
                .map(|d| format!(" (dispute: {})", d.trim()))
                .unwrap_or_default();
            lines.push((
                0,
                format!("Round {}{dispute}: {contradictions}", round.round),
            ));
            let Some(before) = k.checked_sub(1).map(|p| &turn.rounds[p]) else {
                continue;
            };
            for (m, prev) in round.members.iter().zip(&before.members) {
                let what = if m.round < round.round {
                    "sat out".to_string()
                } else if m.status != Status::Done {
                    format!(
                        "{}{}",
                        status(m.status),
                        m.error
                            .as_deref()
                            .map(|e| format!(": {}", e.trim()))
                            .unwrap_or_default()
                    )
                } else {
                    crate::engine::revision::summary(&prev.text, &m.text).to_string()
                };
                lines.push((1, format!("{}: {what}", m.name)));
            }
        }
    }
    if let Some(r) = &turn.ranking {
        let scores: Vec<String> = r
            .aggregate
            .iter()
            .map(|s| format!("{} {}", s.member, s.score))
            .collect();
        lines.push((
            0,
            format!(
                "Peer ranking (Borda count, {} ballot(s)): {}",
                r.ballots.len(),
                scores.join(" · ")
            ),
        ));
        for b in &r.ballots {
            lines.push((1, format!("{}: {}", b.reviewer, b.order.join(" > "))));
        }
        for m in &r.malformed {
            lines.push((
                1,
                format!("{}: ballot left out ({})", m.reviewer, m.error.trim()),
            ));
        }
    }
    lines
}

/// One turn; `label` starts its footnotes' names, unique in the document.
fn turn_markdown(out: &mut String, turn: &RunReport, label: &str) {
    let _ = writeln!(out, "\n### Question\n\n{}\n", turn.question.trim());
    out.push_str(
        "| member | model | status | tokens in | tokens out | cost | first token | time |\n",
    );
    out.push_str("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
    for m in &turn.members {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(&m.name),
            cell(&m.model),
            status(m.status),
            m.usage.prompt_tokens,
            m.usage.completion_tokens,
            cost(m.usage.cost),
            seconds(m.ttft_ms),
            seconds(m.elapsed_ms),
        );
    }
    let rounds = deliberation(turn);
    if !rounds.is_empty() {
        out.push_str("\n### Deliberation\n\n");
        for (depth, line) in rounds {
            let _ = writeln!(out, "{}- {}", "  ".repeat(depth), cell(&line));
        }
    }
    for m in &turn.members {
        let _ = writeln!(out, "\n### {} ({})\n", m.name, m.model);
        if let Some(e) = &m.error {
            let what = if m.status == Status::Late {
                "Late"
            } else {
                "Failed"
            };
            let _ = writeln!(out, "> {what}: {}\n", e.trim());
        }
        let text = m.text.trim();
        out.push_str(if text.is_empty() {
            "_(no answer)_"
        } else {
            text
        });
        out.push('\n');
    }
    let j = &turn.judge;
    let _ = writeln!(
        out,
        "\n### Judge ({}, {}){}",
        j.model,
        status(j.status),
        quotes_found(j.analysis.as_ref())
    );
    if turn.stale {
        out.push_str(STALE);
    }
    match &j.analysis {
        Some(a) => {
            findings(out, "Consensus", &a.consensus, a);
            if !a.contradictions.is_empty() {
                out.push_str("\n#### Contradictions\n\n");
                for c in &a.contradictions {
                    let _ = writeln!(out, "- **{}**", c.topic.trim());
                    for s in &c.stances {
                        let _ = writeln!(out, "  - {}: {}", s.members.join(", "), s.stance.trim());
                        for q in &s.quotes {
                            let _ = writeln!(out, "    > {}", quote(q, a));
                        }
                    }
                }
            }
            findings(out, "Blind spots", &a.blind_spots, a);
            findings(out, "Unique insights", &a.unique_insights, a);
            findings(out, "Partial coverage", &a.partial_coverage, a);
        }
        None => {
            if let Some(e) = &j.error {
                let _ = writeln!(out, "\n> No analysis: {}", e.trim());
            }
            if !j.text.trim().is_empty() {
                let _ = writeln!(out, "\n```text\n{}\n```", j.text.trim());
            }
        }
    }
    let s = &turn.synthesis;
    let _ = writeln!(out, "\n### Synthesis ({}, {})\n", s.model, status(s.status));
    if turn.stale {
        out.push_str(STALE.trim_start());
        out.push('\n');
    }
    match sourced(turn, |k| format!("[^{label}{k}]")) {
        Some((text, notes)) => {
            out.push_str(text.trim());
            out.push('\n');
            if let Some(summary) = sourced_summary(turn) {
                let _ = writeln!(out, "\n_Sources: {summary}._\n");
            }
            for (k, note) in notes.iter().enumerate() {
                let _ = writeln!(out, "[^{label}{}]: {note}", k + 1);
            }
        }
        None => {
            let text = s.text.trim();
            out.push_str(if text.is_empty() { "_(none)_" } else { text });
            out.push('\n');
        }
    }
    let _ = writeln!(
        out,
        "\n_Total: {} tokens in, {} out, {}, {}._",
        turn.usage.prompt_tokens,
        turn.usage.completion_tokens,
        cost(turn.usage.cost),
        seconds(turn.elapsed_ms)
    );
}

fn findings(out: &mut String, title: &str, items: &[Finding], analysis: &Analysis) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n#### {title}\n");
    for f in items {
        let _ = writeln!(out, "- {} ({})", f.point.trim(), f.members.join(", "));
        for q in &f.quotes {
            let _ = writeln!(out, "  > {}", quote(q, analysis));
        }
    }
}

/// The session as plain text for a terminal: aligned columns, indented
/// answers and findings, no Markdown markup of its own. The caller makes it
/// safe to print (model text is untrusted).
pub fn text(session: &Session) -> String {
    let mut out = String::new();
    let h = &session.header;
    let preset = h.council.preset.as_deref().unwrap_or("custom panel");
    let total = crate::provider::sum_costs(session.turns.iter().filter_map(|t| t.usage.cost));
    let _ = writeln!(
        out,
        "Session {} · {preset} · created {} · {} · ${total:.4}",
        h.id,
        h.created,
        turns(session.turns.len())
    );
    if session.interrupted {
        out.push_str("The last turn was interrupted before it finished.\n");
    }
    for (i, turn) in session.turns.iter().enumerate() {
        let _ = writeln!(out, "\n━━ Turn {} {}", i + 1, "━".repeat(60));
        turn_text(&mut out, turn);
    }
    out
}

/// `text` indented by `by` spaces, blank lines kept blank.
fn indented(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.trim()
        .lines()
        .map(|l| {
            if l.trim().is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn turn_text(out: &mut String, turn: &RunReport) {
    let _ = writeln!(out, "Q  {}\n", indented(&turn.question, 3).trim_start());
    let rows: Vec<[String; 6]> = turn
        .members
        .iter()
        .map(|m| {
            [
                m.name.clone(),
                m.model.clone(),
                status(m.status).to_string(),
                m.usage.completion_tokens.to_string(),
                cost(m.usage.cost),
                seconds(m.elapsed_ms),
            ]
        })
        .collect();
    let head = ["member", "model", "status", "tokens", "cost", "time"].map(String::from);
    let widths: Vec<usize> = (0..6)
        .map(|c| {
            std::iter::once(&head)
                .chain(&rows)
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in std::iter::once(&head).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (v, w))| match c {
                3..=5 => format!("{v:>w$}"),
                _ => format!("{v:<w$}"),
            })
            .collect();
        let _ = writeln!(out, "   {}", cells.join("  ").trim_end());
    }
    let rounds = deliberation(turn);
    if !rounds.is_empty() {
        out.push_str("\n── Deliberation\n");
        for (depth, line) in rounds {
            let _ = writeln!(out, "   {}{line}", "  ".repeat(depth));
        }
    }
    for m in &turn.members {
        let _ = writeln!(out, "\n── {} ({}) · {}", m.name, m.model, status(m.status));
        if let Some(e) = &m.error {
            let what = if m.status == Status::Late {
                "late"
            } else {
                "failed"
            };
            let _ = writeln!(out, "   {what}: {}", e.trim());
        }
        let text = if m.text.trim().is_empty() {
            "(no answer)"
        } else {
            &m.text
        };
        let _ = writeln!(out, "{}", indented(text, 3));
    }
    let j = &turn.judge;
    let _ = writeln!(
        out,
        "\n── Judge ({}) · {}{}",
        j.model,
        status(j.status),
        quotes_found(j.analysis.as_ref())
    );
    if turn.stale {
        out.push_str("   stale: answers changed after this was written\n");
    }
    match &j.analysis {
        Some(a) => {
            let section = |out: &mut String, title: &str, items: &[Finding]| {
                if items.is_empty() {
                    return;
                }
                let _ = writeln!(out, "   {title}");
                for f in items {
                    let _ = writeln!(out, "     • {}  [{}]", f.point.trim(), f.members.join(", "));
                    for q in &f.quotes {
                        let _ = writeln!(out, "         {}", quote(q, a));
                    }
                }
            };
            section(out, "Consensus", &a.consensus);
            if !a.contradictions.is_empty() {
                out.push_str("   Contradictions\n");
                for c in &a.contradictions {
                    let _ = writeln!(out, "     • {}", c.topic.trim());
                    for st in &c.stances {
                        let _ = writeln!(
                            out,
                            "         {}: {}",
                            st.members.join(", "),
                            st.stance.trim()
                        );
                        for q in &st.quotes {
                            let _ = writeln!(out, "           {}", quote(q, a));
                        }
                    }
                }
            }
            section(out, "Blind spots", &a.blind_spots);
            section(out, "Unique insights", &a.unique_insights);
            section(out, "Partial coverage", &a.partial_coverage);
        }
        None => {
            if let Some(e) = &j.error {
                let _ = writeln!(out, "   no analysis: {}", e.trim());
            }
        }
    }
    let s = &turn.synthesis;
    let _ = writeln!(out, "\n── Synthesis ({}) · {}", s.model, status(s.status));
    if turn.stale {
        out.push_str("   stale: answers changed after this was written\n");
    }
    match sourced(turn, |k| format!(" [{k}]")) {
        Some((text, notes)) => {
            let _ = writeln!(out, "{}", indented(&text, 3));
            if let Some(summary) = sourced_summary(turn) {
                let _ = writeln!(out, "\n   Sources: {summary}");
            }
            for (k, note) in notes.iter().enumerate() {
                let _ = writeln!(out, "   [{}] {note}", k + 1);
            }
        }
        None => {
            let text = if s.text.trim().is_empty() {
                "(none)"
            } else {
                &s.text
            };
            let _ = writeln!(out, "{}", indented(text, 3));
        }
    }
    let _ = writeln!(
        out,
        "\n   Total: {} tokens in, {} out, {}, {}.",
        turn.usage.prompt_tokens,
        turn.usage.completion_tokens,
        cost(turn.usage.cost),
        seconds(turn.elapsed_ms)
    );
}

/// The session as one JSON document: the header's fields and every turn in
/// the shape `council ask --json` prints.
pub fn json(session: &Session) -> serde_json::Value {
    #[derive(Serialize)]
    struct Out<'a> {
        #[serde(flatten)]
        header: &'a Header,
        interrupted: bool,
        turns: &'a [RunReport],
    }
    serde_json::to_value(Out {
        header: &session.header,
        interrupted: session.interrupted,
        turns: &session.turns,
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_judgement_and_synthesis_say_so() {
        let mut turn = RunReport {
            question: "Q?".into(),
            ..RunReport::default()
        };
        let mut fresh = String::new();
        turn_markdown(&mut fresh, &turn, "");
        assert!(!fresh.contains("Stale"), "{fresh}");
        turn.stale = true;
        let mut stale = String::new();
        turn_markdown(&mut stale, &turn, "");
        assert_eq!(stale.matches("**Stale:**").count(), 2, "{stale}");
    }
}
