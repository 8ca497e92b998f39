//! Peer ranking: every member ranks the other members' answers, under
//! anonymous labels in an order shuffled per reviewer, never seeing its
//! own. Ballots are parsed as tolerantly as the judge's reply; the
//! aggregate is a Borda count, and each ballot is kept beside it.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::engine::judge::LabelMap;
use crate::engine::judge::parse::extract_json;
use crate::provider::{JsonSchema, Message, Usage};

pub(crate) const SYSTEM_PROMPT: &str = "\
You review answers that other AI models gave to a question. Each answer is under an anonymous label \
(Response A, Response B, ...). Rank them from best to worst for the person who asked: correctness first, \
then completeness, then clarity. Judge the content, not the length or the style. \
Reply with one JSON object only: {\"ranking\": [\"B\", \"A\", ...]}, every label exactly once, best first.";

/// One member's score in the aggregate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Score {
    pub member: String,
    /// Borda points: on a ballot of n answers, the first gets n-1, the last 0.
    pub score: u32,
}

/// One reviewer's ranking, best first, by member name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ballot {
    pub reviewer: String,
    pub order: Vec<String>,
    /// The labels the reviewer read, in the order it read them.
    pub(crate) labels: LabelMap,
}

/// A reply that could not be read as a ballot: reported, left out of the count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MalformedBallot {
    pub reviewer: String,
    pub(crate) error: String,
    /// The reply as it came.
    pub text: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ranking {
    /// Highest score first; ties keep panel order.
    pub aggregate: Vec<Score>,
    pub ballots: Vec<Ballot>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub malformed: Vec<MalformedBallot>,
    pub(crate) usage: Usage,
}

impl Ranking {
    /// A member's place (1-based) and score in the aggregate.
    pub(crate) fn place(&self, member: &str) -> Option<(usize, u32)> {
        self.aggregate
            .iter()
            .position(|s| s.member == member)
            .map(|i| (i + 1, self.aggregate[i].score))
    }
}

/// The answers a reviewer ranks: every other member with one, shuffled
/// with a seed of its own so no two reviewers need read them alike.
pub(crate) fn candidates(reviewer: usize, answered: &[(usize, String)], seed: u64) -> LabelMap {
    let others: Vec<(usize, String)> = answered
        .iter()
        .filter(|(i, _)| *i != reviewer)
        .cloned()
        .collect();
    LabelMap::shuffled(&others, reviewer_seed(seed, reviewer))
}

/// A seed per reviewer, spread so neighbouring reviewers differ in every bit.
fn reviewer_seed(seed: u64, reviewer: usize) -> u64 {
    seed ^ (reviewer as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// The reviewer's request: the question and the other answers, labelled.
pub(crate) fn messages(question: &str, labels: &LabelMap, answers: &[String]) -> Vec<Message> {
    vec![
        Message::system(SYSTEM_PROMPT),
        Message::user(crate::engine::judge::user_prompt(question, labels, answers)),
    ]
}

/// `{"ranking": [label, ...]}` with every label once.
pub(crate) fn schema(labels: &LabelMap) -> JsonSchema {
    let names: Vec<&str> = labels
        .assignments
        .iter()
        .map(|a| a.label.as_str())
        .collect();
    JsonSchema {
        name: "ranking".into(),
        kind: crate::provider::SchemaKind::Strict,
        schema: json!({
            "type": "object",
            "properties": {
                "ranking": {
                    "type": "array",
                    "items": { "type": "string", "enum": names },
                    "minItems": names.len(),
                    "maxItems": names.len()
                }
            },
            "required": ["ranking"],
            "additionalProperties": false
        }),
    }
}

/// Reads a reply as a ballot: member names, best first. It must rank each
/// answer it was shown exactly once.
pub(crate) fn parse_ballot(text: &str, labels: &LabelMap) -> Result<Vec<String>, String> {
    if text.trim().is_empty() {
        return Err("empty reply".into());
    }
    let value = extract_json(text).map_err(|e| e.to_string())?;
    let list = match &value {
        Value::Object(map) => map
            .get("ranking")
            .or_else(|| map.values().find(|v| v.is_array()))
            .and_then(Value::as_array),
        _ => None,
    }
    .ok_or("no `ranking` list in the reply")?;
    let mut order: Vec<String> = Vec::with_capacity(list.len());
    for item in list {
        let written = item.as_str().ok_or("`ranking` holds a non-string")?;
        let found = labels
            .resolve(written)
            .ok_or_else(|| format!("`{written}` is not one of the labels shown"))?;
        if order.contains(&found.name) {
            return Err(format!("`{written}` is ranked twice"));
        }
        order.push(found.name.clone());
    }
    if order.len() != labels.assignments.len() {
        return Err(format!(
            "ranks {} of the {} answers shown",
            order.len(),
            labels.assignments.len()
        ));
    }
    Ok(order)
}

/// Borda count over the ballots, for `members` in panel order: highest
/// score first, ties in panel order. Members on no ballot are left out.
pub(crate) fn aggregate(members: &[String], ballots: &[Ballot]) -> Vec<Score> {
    let mut scores: Vec<Option<u32>> = vec![None; members.len()];
    for ballot in ballots {
        let n = ballot.order.len() as u32;
        for (place, name) in ballot.order.iter().enumerate() {
            if let Some(i) = members.iter().position(|m| m == name) {
                *scores[i].get_or_insert(0) += n - 1 - place as u32;
            }
        }
    }
    let mut out: Vec<(usize, Score)> = scores
        .into_iter()
        .enumerate()
        .filter_map(|(i, s)| {
            s.map(|score| {
                (
                    i,
                    Score {
                        member: members[i].clone(),
                        score,
                    },
                )
            })
        })
        .collect();
    out.sort_by(|(ia, a), (ib, b)| b.score.cmp(&a.score).then(ia.cmp(ib)));
    out.into_iter().map(|(_, s)| s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(names: &[&str]) -> Vec<(usize, String)> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| (i, n.to_string()))
            .collect()
    }

    #[test]
    fn a_reviewer_never_gets_its_own_answer() {
        let all = answered(&["a", "b", "c", "d"]);
        for reviewer in 0..4 {
            let labels = candidates(reviewer, &all, 7);
            assert_eq!(labels.assignments.len(), 3);
            assert!(labels.assignments.iter().all(|a| a.member != reviewer));
        }
    }

    #[test]
    fn borda_counts_places_and_breaks_ties_by_panel_order() {
        let members: Vec<String> = ["a", "b", "c", "d"].map(String::from).to_vec();
        let labels = LabelMap::shuffled(&[], 0);
        let ballot = |reviewer: &str, order: &[&str]| Ballot {
            reviewer: reviewer.into(),
            order: order.iter().map(|s| s.to_string()).collect(),
            labels: labels.clone(),
        };
        let ballots = [
            ballot("a", &["c", "b", "d"]), // c 2, b 1, d 0
            ballot("b", &["c", "a", "d"]), // c 2, a 1, d 0
            ballot("c", &["a", "b", "d"]), // a 2, b 1, d 0
            ballot("d", &["b", "a", "c"]), // b 2, a 1, c 0
        ];
        let scores: Vec<(String, u32)> = aggregate(&members, &ballots)
            .into_iter()
            .map(|s| (s.member, s.score))
            .collect();
        assert_eq!(
            scores,
            [
                ("a".into(), 4),
                ("b".into(), 4),
                ("c".into(), 4),
                ("d".into(), 0)
            ]
        );
        let scores = aggregate(&members, &ballots[..2]);
        assert_eq!(scores[0].member, "c");
        assert_eq!(scores[0].score, 4);
    }

    #[test]
    fn ballots_are_read_leniently_but_must_rank_every_answer_once() {
        let labels = candidates(0, &answered(&["me", "x", "y"]), 3);
        let first = labels.assignments[0].name.clone();
        let second = labels.assignments[1].name.clone();
        let order = parse_ballot(
            "Here it is:\n```json\n{\"ranking\": [\"Response B\", \"a\",]}\n```",
            &labels,
        )
        .unwrap();
        assert_eq!(order, [second.clone(), first]);
        assert!(
            parse_ballot("{\"ranking\": [\"A\"]}", &labels)
                .unwrap_err()
                .contains("ranks 1 of the 2")
        );
        assert!(
            parse_ballot("{\"ranking\": [\"A\", \"A\"]}", &labels)
                .unwrap_err()
                .contains("twice")
        );
        assert!(
            parse_ballot("{\"ranking\": [\"A\", \"Q\"]}", &labels)
                .unwrap_err()
                .contains("`Q` is not one of")
        );
        assert!(parse_ballot("I liked B best.", &labels).is_err());
    }
}
