//! What a member is asked in a later round. A revision shows it its own
//! earlier answer (as its own turn), the other members' answers under
//! anonymous labels, and the judge's contradictions and blind spots; a
//! dispute puts one contradiction to the members it involves. Either way
//! the member is "you" and every other member a label, so no member reads
//! its own answer as another's.

use std::fmt::Write;

use crate::engine::judge::{Analysis, Contradiction, LabelMap, Quote};
use crate::provider::Message;

/// The answers one member reads beside its own: every other member with an
/// answer, shuffled with a seed of its own.
pub(crate) fn peers(reader: usize, answered: &[(usize, String)], seed: u64) -> LabelMap {
    crate::engine::ranking::candidates(reader, answered, seed)
}

/// How a member is named to `reader`: "you", its label, or "another member"
/// (one without an answer this round).
fn name_for(member: &str, reader: &str, peers: &LabelMap) -> String {
    if member == reader {
        return "you".into();
    }
    peers
        .assignments
        .iter()
        .find(|a| a.name == member)
        .map_or_else(
            || "another member".into(),
            |a| format!("Member {}", a.label),
        )
}

fn named(members: &[String], reader: &str, peers: &LabelMap) -> String {
    members
        .iter()
        .map(|m| name_for(m, reader, peers))
        .collect::<Vec<_>>()
        .join(", ")
}

fn quotes(out: &mut String, quotes: &[Quote], reader: &str, peers: &LabelMap) {
    for q in quotes.iter().filter(|q| !q.text.trim().is_empty()) {
        let _ = writeln!(
            out,
            "    > \"{}\" ({})",
            q.text.trim(),
            name_for(&q.member, reader, peers)
        );
    }
}

fn contradiction(out: &mut String, c: &Contradiction, reader: &str, peers: &LabelMap) {
    let _ = writeln!(out, "- {}", c.topic.trim());
    for s in &c.stances {
        let _ = writeln!(
            out,
            "  - {}: {}",
            named(&s.members, reader, peers),
            s.stance.trim()
        );
        quotes(out, &s.quotes, reader, peers);
    }
}

/// The turns that ask `reader` to revise `own` in round `round`: the
/// question, its answer as its own turn, then the others and the findings.
pub(crate) fn revision(
    question: &str,
    round: u32,
    reader: &str,
    own: &str,
    peers: &LabelMap,
    answers: &[String],
    analysis: Option<&Analysis>,
) -> Vec<Message> {
    let mut out = format!(
        "This is round {round} of a deliberation. Other members of the council answered the same \
         question. Their answers follow under anonymous labels"
    );
    out.push_str(if analysis.is_some() {
        ", then what a judge found where the answers conflict and what they all missed.\n"
    } else {
        ".\n"
    });
    // Each answer is fenced: its text cannot add a member or a finding.
    let fence = crate::engine::fence::Fence::new();
    let _ = writeln!(out, "{}", fence.note("answer"));
    for a in &peers.assignments {
        let _ = write!(
            out,
            "\n# Member {}\n\n{}\n",
            a.label,
            fence.wrap("answer", "", answers.get(a.member).map_or("", |t| t.trim()))
        );
    }
    if let Some(analysis) = analysis {
        if !analysis.contradictions.is_empty() {
            out.push_str("\n# Where the answers conflict\n\n");
            for c in &analysis.contradictions {
                contradiction(&mut out, c, reader, peers);
            }
        }
        if !analysis.blind_spots.is_empty() {
            out.push_str("\n# What the answers missed\n\n");
            for b in &analysis.blind_spots {
                let _ = writeln!(out, "- {}", b.point.trim());
            }
        }
    }
    out.push_str(
        "\nRevise your answer. Keep what you still hold, correct what you now think is wrong, \
         and answer each conflict you are part of explicitly: say whether you keep your position \
         or change it, and why. Reply with your complete revised answer.",
    );
    vec![
        Message::user(question),
        Message::assistant(own.trim()),
        Message::user(out),
    ]
}

/// The turns that put one dispute to `reader`: the opposing stances and
/// their passages, and a request to answer the point.
pub(crate) fn dispute(
    question: &str,
    reader: &str,
    own: &str,
    peers: &LabelMap,
    dispute: &Contradiction,
) -> Vec<Message> {
    let mut out = String::from(
        "A judge found that you and other members of the council disagree on one point. \
         The stances, with the passages they rest on:\n\n",
    );
    contradiction(&mut out, dispute, reader, peers);
    out.push_str(
        "\nAnswer this point first: weigh the other side's argument and say whether you keep \
         your position or change it, and why. Then give your complete answer to the question \
         again, revised where you now think differently.",
    );
    vec![
        Message::user(question),
        Message::assistant(own.trim()),
        Message::user(out),
    ]
}

/// The members a dispute involves, by panel index, among `names`.
pub(crate) fn involved(dispute: &Contradiction, names: &[String]) -> Vec<usize> {
    let mut out: Vec<usize> = dispute
        .stances
        .iter()
        .flat_map(|s| &s.members)
        .filter_map(|m| names.iter().position(|n| n == m))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Contradictions per round, as "3 → 1" (a dash where the judge failed).
pub(crate) fn convergence_text(per_round: &[Option<usize>]) -> String {
    per_round
        .iter()
        .map(|c| c.map_or_else(|| "–".to_string(), |n| n.to_string()))
        .collect::<Vec<_>>()
        .join(" → ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::judge::{Finding, Stance};

    fn analysis() -> Analysis {
        Analysis {
            contradictions: vec![Contradiction {
                topic: "Speed".into(),
                stances: vec![
                    Stance {
                        members: vec!["a".into()],
                        stance: "fast".into(),
                        quotes: vec![Quote::new("a", "it is fast")],
                        ..Stance::default()
                    },
                    Stance {
                        members: vec!["b".into(), "c".into()],
                        stance: "slow".into(),
                        quotes: vec![Quote::new("b", "it is slow")],
                        ..Stance::default()
                    },
                ],
                ..Contradiction::default()
            }],
            blind_spots: vec![Finding {
                point: "Cost".into(),
                ..Finding::default()
            }],
            ..Analysis::default()
        }
    }

    #[test]
    fn a_revision_names_the_reader_you_and_the_others_by_label() {
        let answered = vec![(0, "a".into()), (1, "b".into()), (2, "c".into())];
        let answers: Vec<String> = ["A says fast", "B says slow", "C says slow"]
            .map(String::from)
            .to_vec();
        let labels = peers(0, &answered, 1);
        let m = revision(
            "Q?",
            2,
            "a",
            &answers[0],
            &labels,
            &answers,
            Some(&analysis()),
        );
        assert_eq!(m.len(), 3);
        assert_eq!(m[1].content, "A says fast");
        let ask = &m[2].content;
        assert!(
            !ask.contains("A says fast"),
            "its own answer is its own turn"
        );
        assert!(ask.contains("B says slow") && ask.contains("C says slow"));
        assert!(ask.contains("  - you: fast\n    > \"it is fast\" (you)\n"));
        let b = labels.assignments.iter().find(|x| x.name == "b").unwrap();
        let c = labels.assignments.iter().find(|x| x.name == "c").unwrap();
        assert!(ask.contains(&format!("  - Member {}, Member {}: slow", b.label, c.label)));
        assert!(ask.contains("# What the answers missed\n\n- Cost\n"));
        assert!(!ask.contains(" a:") && !ask.contains("(b)"), "{ask}");
    }

    #[test]
    fn a_dispute_involves_the_members_of_its_stances() {
        let names: Vec<String> = ["a", "b", "c", "d"].map(String::from).to_vec();
        assert_eq!(involved(&analysis().contradictions[0], &names), [0, 1, 2]);
        assert_eq!(convergence_text(&[Some(3), None, Some(1)]), "3 → – → 1");
    }
}
