//! The synthesizer's prompt: the question, the named answers and the judge's
//! analysis (or the raw answers alone when the judge failed).

use std::fmt::Write;

use crate::engine::judge::{Analysis, Finding};
use crate::provider::Message;

pub(crate) const DEFAULT_SYSTEM_PROMPT: &str = "\
You write the final answer of a council of AI models. You are given the question, each member's answer \
and, when available, a judge's analysis of where the answers agree, conflict, and fall short. \
Write the single best answer to the question for the person who asked it. Build on the consensus, \
resolve contradictions by reasoning about which side is right (say so when it stays uncertain), \
cover blind spots and keep valuable unique insights. Answer directly; do not describe the council \
or its members unless the disagreement itself matters to the reader.";

/// Asks for citations by member name (added to the prompt unless the
/// answer must be JSON). The engine takes them out of the text and checks
/// each against the answers.
pub(crate) const CITATIONS: &str = "\n\n# Citations\n\nEnd each sentence that draws on \
members' answers with their names in square brackets, before its final punctuation, e.g. \
`Water boils at 100 °C at sea level [alpha, beta].` Use the names exactly as the answers above \
are headed, cite only members whose answers say it, and write no brackets after sentences of \
your own. The brackets are removed before the reader sees the answer.\n";

/// A member's answer as the synthesizer sees it.
pub(crate) struct NamedAnswer<'a> {
    pub(crate) name: &'a str,
    pub(crate) model: &'a str,
    pub(crate) text: &'a str,
}

pub(crate) fn user_prompt(
    question: &str,
    answers: &[NamedAnswer<'_>],
    analysis: Option<&Analysis>,
) -> String {
    // Answers are fenced: their text cannot add an answer or a judge's
    // analysis of its own.
    let fence = crate::engine::fence::Fence::new();
    let mut out = format!("# Question\n\n{question}\n\n{}\n", fence.note("answer"));
    for a in answers {
        let _ = write!(
            out,
            "\n# Answer from {} ({})\n\n{}\n",
            a.name,
            a.model,
            fence.wrap("answer", "", a.text.trim())
        );
    }
    match analysis {
        Some(analysis) => {
            out.push_str("\n# Judge's analysis\n");
            section(&mut out, "Consensus", &analysis.consensus);
            if !analysis.contradictions.is_empty() {
                out.push_str("\n## Contradictions\n");
                for c in &analysis.contradictions {
                    let _ = writeln!(out, "- {}", c.topic);
                    for s in &c.stances {
                        let _ = writeln!(out, "  - {}: {}", s.members.join(", "), s.stance);
                    }
                }
            }
            section(&mut out, "Blind spots", &analysis.blind_spots);
            section(&mut out, "Unique insights", &analysis.unique_insights);
            section(&mut out, "Partial coverage", &analysis.partial_coverage);
        }
        None => {
            out.push_str("\n(No judge analysis is available; work from the answers directly.)\n")
        }
    }
    out
}

fn section(out: &mut String, title: &str, items: &[Finding]) {
    if items.is_empty() {
        return;
    }
    let _ = write!(out, "\n## {title}\n");
    for f in items {
        if f.members.is_empty() {
            let _ = writeln!(out, "- {}", f.point);
        } else {
            let _ = writeln!(out, "- {} ({})", f.point, f.members.join(", "));
        }
    }
}

pub(crate) fn messages(
    system_prompt: Option<&str>,
    question: &str,
    answers: &[NamedAnswer<'_>],
    analysis: Option<&Analysis>,
) -> Vec<Message> {
    vec![
        Message::system(system_prompt.unwrap_or(DEFAULT_SYSTEM_PROMPT)),
        Message::user(user_prompt(question, answers, analysis)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::judge::{Contradiction, Stance};

    #[test]
    fn prompt_carries_names_and_analysis() {
        let answers = [NamedAnswer {
            name: "gpt",
            model: "openai/gpt",
            text: "Yes.",
        }];
        let analysis = Analysis {
            consensus: vec![Finding {
                point: "It works".into(),
                members: vec!["gpt".into()],
                quotes: vec![],
                ..Finding::default()
            }],
            contradictions: vec![Contradiction {
                topic: "Speed".into(),
                stances: vec![Stance {
                    members: vec!["gpt".into()],
                    stance: "fast".into(),
                    quotes: vec![],
                    ..Stance::default()
                }],
                ..Contradiction::default()
            }],
            ..Analysis::default()
        };
        let p = user_prompt("Q?", &answers, Some(&analysis));
        assert!(p.contains("# Answer from gpt (openai/gpt)\n\n<answer-"));
        assert!(p.contains(">\nYes.\n</answer-"));
        assert!(p.contains("## Consensus\n- It works (gpt)\n"));
        assert!(p.contains("## Contradictions\n- Speed\n  - gpt: fast\n"));
        assert!(!p.contains("Blind spots"));
        let p = user_prompt("Q?", &answers, None);
        assert!(p.contains("No judge analysis"));
    }
}
