//! How a member's answer changed from one round to the next: a word diff
//! (for the TUI's diff view) and a one-line summary (for `show` and
//! exports).

use similar::{ChangeTag, TextDiff};

/// A run of text that was kept, added or removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    Kept(String),
    Added(String),
    Removed(String),
}

/// The words of `before` and `after`, diffed, as a revision reads: a word
/// or two kept between changes (`the`, `I`) joins them, so a rewritten
/// sentence shows as the old one removed and the new one added rather than
/// alternating single words.
pub(crate) fn changes(before: &str, after: &str) -> Vec<Change> {
    let mut out: Vec<Change> = Vec::new();
    let (mut removed, mut added) = (String::new(), String::new());
    let flush = |out: &mut Vec<Change>, removed: &mut String, added: &mut String| {
        if !removed.is_empty() {
            out.push(Change::Removed(std::mem::take(removed)));
        }
        if !added.is_empty() {
            out.push(Change::Added(std::mem::take(added)));
        }
    };
    let raw = word_changes(before, after);
    for (k, change) in raw.iter().enumerate() {
        match change {
            Change::Removed(s) => removed.push_str(s),
            Change::Added(s) => added.push_str(s),
            Change::Kept(s) => {
                // Inside a rewritten passage: words were removed before it
                // and are removed after it (an insertion alone stays apart).
                let rewritten =
                    !removed.is_empty() && matches!(raw.get(k + 1), Some(Change::Removed(_)));
                if rewritten && s.split_whitespace().count() <= 2 && !s.contains('\n') {
                    removed.push_str(s);
                    added.push_str(s);
                } else {
                    flush(&mut out, &mut removed, &mut added);
                    out.push(Change::Kept(s.clone()));
                }
            }
        }
    }
    flush(&mut out, &mut removed, &mut added);
    out
}

/// The words of `before` and `after`, diffed; neighbouring pieces of the
/// same kind are joined.
fn word_changes(before: &str, after: &str) -> Vec<Change> {
    let diff = TextDiff::configure()
        .timeout(std::time::Duration::from_millis(200))
        .diff_words(before, after);
    let mut out: Vec<Change> = Vec::new();
    for change in diff.iter_all_changes() {
        let text = change.value();
        match (out.last_mut(), change.tag()) {
            (Some(Change::Kept(s)), ChangeTag::Equal)
            | (Some(Change::Added(s)), ChangeTag::Insert)
            | (Some(Change::Removed(s)), ChangeTag::Delete) => s.push_str(text),
            (_, ChangeTag::Equal) => out.push(Change::Kept(text.into())),
            (_, ChangeTag::Insert) => out.push(Change::Added(text.into())),
            (_, ChangeTag::Delete) => out.push(Change::Removed(text.into())),
        }
    }
    out
}

/// Words added and removed, and the share of the new answer kept from the
/// old one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Summary {
    pub(crate) added: usize,
    pub(crate) removed: usize,
    pub(crate) kept: f64,
}

pub(crate) fn summary(before: &str, after: &str) -> Summary {
    let words = |s: &str| s.split_whitespace().count();
    let (mut added, mut removed, mut kept) = (0, 0, 0);
    // Counted on the words as they changed, not as they are grouped.
    for c in word_changes(before, after) {
        match c {
            Change::Kept(s) => kept += words(&s),
            Change::Added(s) => added += words(&s),
            Change::Removed(s) => removed += words(&s),
        }
    }
    let total = kept + added;
    Summary {
        added,
        removed,
        kept: if total == 0 {
            1.0
        } else {
            kept as f64 / total as f64
        },
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.added == 0 && self.removed == 0 {
            return f.write_str("unchanged");
        }
        write!(
            f,
            "+{} −{} words, {:.0}% kept",
            self.added,
            self.removed,
            self.kept * 100.0
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_changes_are_grouped_and_summed() {
        let c = changes("the sky is blue today", "the sky is red today");
        assert_eq!(
            c,
            [
                Change::Kept("the sky is ".into()),
                Change::Removed("blue".into()),
                Change::Added("red".into()),
                Change::Kept(" today".into()),
            ]
        );
        let s = summary("the sky is blue today", "the sky is red today");
        assert_eq!((s.added, s.removed), (1, 1));
        assert_eq!(s.to_string(), "+1 −1 words, 80% kept");
        assert_eq!(summary("same", "same").to_string(), "unchanged");
    }

    #[test]
    fn a_rewritten_sentence_reads_as_removed_then_added() {
        let before = "Gamma claims the sky is blue because of dust.\n\nSecond paragraph stays.";
        let after = "I was wrong: the sky is blue because of Rayleigh scattering.\n\nSecond paragraph stays.";
        let c = changes(before, after);
        // Both texts come back from the pieces.
        let side =
            |keep: fn(&Change) -> Option<&str>| c.iter().filter_map(keep).collect::<String>();
        assert_eq!(
            side(|c| match c {
                Change::Kept(s) | Change::Removed(s) => Some(s),
                Change::Added(_) => None,
            }),
            before
        );
        assert_eq!(
            side(|c| match c {
                Change::Kept(s) | Change::Added(s) => Some(s),
                Change::Removed(_) => None,
            }),
            after
        );
        // No word or two kept alone between changes.
        for w in c.windows(3) {
            if let [a, Change::Kept(k), b] = w {
                let change = |c: &Change| !matches!(c, Change::Kept(_));
                assert!(
                    !(change(a) && change(b))
                        || k.split_whitespace().count() > 2
                        || k.contains('\n'),
                    "{c:?}"
                );
            }
        }
        assert!(
            c.contains(&Change::Kept("\n\nSecond paragraph stays.".into())),
            "{c:?}"
        );
    }
}
