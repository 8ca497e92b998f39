//! Tallies per baseline, and the Markdown report.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::grade::consistent;
use super::{Outcome, QuestionResult};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BaselineSummary {
    pub(crate) wins: u32,
    pub(crate) losses: u32,
    pub(crate) ties: u32,
    /// Questions with nothing to grade (an answer missing).
    pub(crate) errors: u32,
    /// Wins over the graded questions (ties count against).
    pub(crate) win_rate: f64,
    /// The share of graded pairs where both orders agreed.
    pub(crate) consistency: f64,
    /// Council cost over the baseline's, on the graded questions (`null`
    /// when the baseline reported no cost).
    pub(crate) cost_ratio: Option<f64>,
    /// Council time over the baseline's, on the graded questions.
    pub(crate) latency_ratio: Option<f64>,
}

/// One summary per baseline model.
pub fn summarize(
    results: &[QuestionResult],
    baselines: &[String],
) -> BTreeMap<String, BaselineSummary> {
    baselines
        .iter()
        .map(|model| {
            let mut s = BaselineSummary::default();
            let (mut agreed, mut council_cost, mut cost, mut council_ms, mut ms) =
                (0u32, 0.0, 0.0, 0u64, 0u64);
            for r in results {
                let Some(c) = r.baselines.get(model) else {
                    continue;
                };
                match c.outcome {
                    Outcome::Win => s.wins += 1,
                    Outcome::Loss => s.losses += 1,
                    Outcome::Tie => s.ties += 1,
                    Outcome::Error => {
                        s.errors += 1;
                        continue;
                    }
                }
                if let [first, second] = c.verdicts.as_slice()
                    && consistent(first, second)
                {
                    agreed += 1;
                }
                council_cost += r.council.usage.cost.unwrap_or(0.0);
                cost += c.answer.usage.cost.unwrap_or(0.0);
                council_ms += r.council.elapsed_ms;
                ms += c.answer.elapsed_ms;
            }
            let graded = s.wins + s.losses + s.ties;
            if graded > 0 {
                s.win_rate = f64::from(s.wins) / f64::from(graded);
                s.consistency = f64::from(agreed) / f64::from(graded);
            }
            s.cost_ratio = (cost > 0.0).then(|| council_cost / cost);
            s.latency_ratio = (ms > 0).then(|| council_ms as f64 / ms as f64);
            (model.clone(), s)
        })
        .collect()
}

fn ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "–".into(), |r| format!("{r:.1}x"))
}

/// The summary as printed: a line per baseline.
pub fn lines(summary: &BTreeMap<String, BaselineSummary>) -> Vec<String> {
    summary
        .iter()
        .map(|(model, s)| {
            format!(
                "council vs {model}: {} wins, {} losses, {} ties{} · win rate {:.0}% · consistency {:.0}% · cost {} · latency {}",
                s.wins,
                s.losses,
                s.ties,
                if s.errors > 0 { format!(", {} errors", s.errors) } else { String::new() },
                s.win_rate * 100.0,
                s.consistency * 100.0,
                ratio(s.cost_ratio),
                ratio(s.latency_ratio),
            )
        })
        .collect()
}

/// A Markdown report: the table, then the questions the council lost.
pub fn markdown(summary: &BTreeMap<String, BaselineSummary>, results: &[QuestionResult]) -> String {
    let mut md = String::from("# Council evaluation\n\n");
    let _ = writeln!(md, "{} questions.\n", results.len());
    md.push_str("| baseline | wins | losses | ties | errors | win rate | consistency | cost ratio | latency ratio |\n");
    md.push_str("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (model, s) in summary {
        let _ = writeln!(
            md,
            "| `{model}` | {} | {} | {} | {} | {:.0}% | {:.0}% | {} | {} |",
            s.wins,
            s.losses,
            s.ties,
            s.errors,
            s.win_rate * 100.0,
            s.consistency * 100.0,
            ratio(s.cost_ratio),
            ratio(s.latency_ratio)
        );
    }
    let lost: Vec<(&QuestionResult, &str)> = results
        .iter()
        .flat_map(|r| {
            r.baselines
                .iter()
                .filter(|(_, c)| c.outcome == Outcome::Loss)
                .map(move |(m, _)| (r, m.as_str()))
        })
        .collect();
    md.push_str("\n## Questions the council lost\n\n");
    if lost.is_empty() {
        md.push_str("None.\n");
    }
    for (r, model) in lost {
        let c = &r.baselines[model];
        let _ = writeln!(
            md,
            "### {} (to `{model}`)\n\n> {}\n",
            r.id,
            r.question.replace('\n', "\n> ")
        );
        for (i, v) in c.verdicts.iter().enumerate() {
            let order = if i == 0 {
                "council first"
            } else {
                "baseline first"
            };
            let _ = writeln!(md, "- {order}: {}", v.reason.replace('\n', " "));
        }
        let _ = writeln!(
            md,
            "\n**Council**\n\n{}\n\n**{model}**\n\n{}\n",
            r.council.text, c.answer.text
        );
    }
    md
}
