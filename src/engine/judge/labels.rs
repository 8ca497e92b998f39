//! Anonymous labels for the judge: members become "Response A", "Response B",
//! ... in an order shuffled per run, so neither a model's name nor its place
//! in the panel sways the judge. The seed and the mapping are recorded.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

/// One label given to one member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelAssignment {
    /// The letter(s) alone: `A`, `B`, ... `Z`, `AA`, ...
    pub label: String,
    /// Index of the member in the panel.
    pub(crate) member: usize,
    pub name: String,
}

/// Labels in presentation order: the judge reads the answers in this order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelMap {
    pub seed: u64,
    pub assignments: Vec<LabelAssignment>,
}

impl LabelMap {
    /// Shuffles `members` (index, name) with `seed` and labels them A, B, ...
    pub fn shuffled(members: &[(usize, String)], seed: u64) -> Self {
        let mut order: Vec<(usize, String)> = members.to_vec();
        order.shuffle(&mut StdRng::seed_from_u64(seed));
        let assignments = order
            .into_iter()
            .enumerate()
            .map(|(i, (member, name))| LabelAssignment {
                label: letters(i),
                member,
                name,
            })
            .collect();
        Self { seed, assignments }
    }

    /// The same members read in the opposite order, labelled A, B, ... again:
    /// the answer read last is read first.
    pub(crate) fn reversed(&self) -> Self {
        let assignments = self
            .assignments
            .iter()
            .rev()
            .enumerate()
            .map(|(i, a)| LabelAssignment {
                label: letters(i),
                ..a.clone()
            })
            .collect();
        Self {
            seed: self.seed,
            assignments,
        }
    }

    /// The member name a label the judge wrote refers to. Accepts the forms
    /// judges actually write: `A`, `Response A`, `response_a`, `[A]`, `Response-A`.
    pub fn resolve(&self, written: &str) -> Option<&LabelAssignment> {
        let cleaned: String = written
            .trim()
            .trim_matches(|c: char| {
                matches!(c, '[' | ']' | '(' | ')' | '"' | '\'' | '*' | '.' | ':')
            })
            .to_string();
        let lower = cleaned.to_ascii_lowercase();
        let bare = lower
            .strip_prefix("response")
            .map(|rest| rest.trim_start_matches([' ', '_', '-', '#']))
            .unwrap_or(&lower);
        self.assignments
            .iter()
            .find(|a| a.label.eq_ignore_ascii_case(bare))
    }

    /// The member name for a written label, or the label itself when the
    /// judge made one up (kept, so nothing it wrote is lost).
    pub(crate) fn name_for(&self, written: &str) -> String {
        self.resolve(written)
            .map(|a| a.name.clone())
            .unwrap_or_else(|| written.trim().to_string())
    }
}

/// 0 -> A, 25 -> Z, 26 -> AA, ...
fn letters(mut i: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).expect("ASCII letters")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(n: usize) -> Vec<(usize, String)> {
        (0..n).map(|i| (i, format!("m{i}"))).collect()
    }

    #[test]
    fn letters_run_past_z() {
        assert_eq!(letters(0), "A");
        assert_eq!(letters(25), "Z");
        assert_eq!(letters(26), "AA");
        assert_eq!(letters(27), "AB");
        assert_eq!(letters(52), "BA");
    }

    #[test]
    fn same_seed_same_order_and_every_member_once() {
        let a = LabelMap::shuffled(&members(6), 42);
        let b = LabelMap::shuffled(&members(6), 42);
        assert_eq!(a, b);
        let mut seen: Vec<usize> = a.assignments.iter().map(|x| x.member).collect();
        seen.sort();
        assert_eq!(seen, [0, 1, 2, 3, 4, 5]);
        let labels: Vec<&str> = a.assignments.iter().map(|x| x.label.as_str()).collect();
        assert_eq!(labels, ["A", "B", "C", "D", "E", "F"]);
        // Some seed among a few gives a different order: the shuffle is real.
        assert!((0..8).any(|s| LabelMap::shuffled(&members(6), s).assignments != a.assignments));
    }

    #[test]
    fn resolves_the_forms_judges_write() {
        let map = LabelMap::shuffled(&members(3), 7);
        let a_name = map.assignments[0].name.clone();
        for form in [
            "A",
            "a",
            "Response A",
            "response_a",
            "[A]",
            "Response-A",
            "**Response A**",
            "Response #A",
        ] {
            assert_eq!(
                map.resolve(form).map(|x| x.name.clone()),
                Some(a_name.clone()),
                "{form}"
            );
        }
        assert!(map.resolve("Response Q").is_none());
        assert_eq!(map.name_for("Response Q"), "Response Q");
    }
}
