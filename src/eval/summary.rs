//! Tallies per baseline and category, the grader's biases, and the
//! Markdown report.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::grade::{consistent, positional};
use super::stats::{Interval, self_preference, wilson};
use super::{Outcome, QuestionResult, ResultsHeader};

/// Wins, losses and ties over some questions, and the win rate with its
/// interval.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    pub(crate) wins: u32,
    pub(crate) losses: u32,
    pub(crate) ties: u32,
    /// Questions with nothing to grade (an answer missing).
    pub(crate) errors: u32,
    /// Wins over the graded questions (ties count against).
    pub(crate) win_rate: f64,
    /// The win rate's 95% Wilson interval (`null` with nothing graded).
    pub(crate) interval: Option<Interval>,
}

impl Tally {
    fn count(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Win => self.wins += 1,
            Outcome::Loss => self.losses += 1,
            Outcome::Tie => self.ties += 1,
            Outcome::Error => self.errors += 1,
        }
    }

    /// Its Markdown table cells: wins, losses, ties, errors, win rate and
    /// interval.
    fn cells(&self) -> String {
        format!(
            "{} | {} | {} | {} | {} | {}",
            self.wins,
            self.losses,
            self.ties,
            self.errors,
            percent(self.win_rate),
            interval(self.interval)
        )
    }

    fn graded(&self) -> u32 {
        self.wins + self.losses + self.ties
    }

    fn finish(&mut self) {
        let graded = self.graded();
        if graded > 0 {
            self.win_rate = f64::from(self.wins) / f64::from(graded);
        }
        self.interval = wilson(self.wins, graded);
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BaselineSummary {
    #[serde(flatten)]
    pub(crate) tally: Tally,
    /// The share of the graders' readings (both orders of a pair) that
    /// named the same answer both times.
    pub(crate) consistency: f64,
    /// The share of readings with two verdicts where both picked the same
    /// position (A/A or B/B).
    pub(crate) position_bias: f64,
    /// Council cost over the baseline's, on the graded questions (`null`
    /// when the baseline reported no cost).
    pub(crate) cost_ratio: Option<f64>,
    /// What the council cost on the graded questions, per win (`null`
    /// without wins or reported costs).
    pub(crate) cost_per_win: Option<f64>,
    /// Council time over the baseline's, on the graded questions.
    pub(crate) latency_ratio: Option<f64>,
    /// The same tallies per question category, when the questions have any.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) categories: BTreeMap<String, Tally>,
}

/// One grader's figures over every pair it read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GraderFigures {
    /// Pairs read in both orders.
    pub(crate) pairs: u32,
    pub(crate) consistency: f64,
    pub(crate) position_bias: f64,
    /// With several graders: the share of pairs where this one's outcome
    /// was the majority's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) agreement: Option<f64>,
}

/// The graders' biases, over all graded pairs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GraderSummary {
    #[serde(flatten)]
    pub(crate) overall: GraderFigures,
    /// A grader of the synthesizer's or a baseline's model family.
    pub(crate) self_preference_risk: bool,
    /// Which, in words.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) self_preference: Vec<String>,
    /// By grader model.
    pub(crate) graders: BTreeMap<String, GraderFigures>,
}

/// Everything the summary says.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub baselines: BTreeMap<String, BaselineSummary>,
    pub grader: GraderSummary,
}

/// What the run was, for the report: the evaluation, its input and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// When the summary was made (RFC 3339, UTC).
    pub date: String,
    /// council's version.
    pub version: String,
    /// The questions file, or `suite NAME`.
    pub input: String,
    /// SHA-256 of the input as read.
    pub input_sha256: String,
    /// The questions asked (after `--category` and `--limit`).
    pub questions: usize,
    #[serde(flatten)]
    pub evaluation: ResultsHeader,
}

/// Counts readings: consistent ones, and positional ones among those with
/// two verdicts.
#[derive(Default)]
struct Readings {
    all: u32,
    consistent: u32,
    with_two: u32,
    positional: u32,
}

impl Readings {
    fn add(&mut self, first: &super::Verdict, second: &super::Verdict) {
        self.all += 1;
        self.consistent += u32::from(consistent(first, second));
        if first.winner.is_some() && second.winner.is_some() {
            self.with_two += 1;
            self.positional += u32::from(positional(first, second));
        }
    }

    fn consistency(&self) -> f64 {
        share(self.consistent, self.all)
    }

    fn position_bias(&self) -> f64 {
        share(self.positional, self.with_two)
    }
}

fn share(part: u32, whole: u32) -> f64 {
    if whole == 0 {
        0.0
    } else {
        f64::from(part) / f64::from(whole)
    }
}

/// Summarizes `results` against each of `baselines`, and the graders'
/// biases (`header` names the council, baselines and graders).
pub fn summarize(results: &[QuestionResult], header: &ResultsHeader) -> Summary {
    let baselines = header
        .baselines
        .iter()
        .map(|model| (model.clone(), baseline(results, model)))
        .collect();
    Summary {
        baselines,
        grader: graders(results, header),
    }
}

fn baseline(results: &[QuestionResult], model: &str) -> BaselineSummary {
    let mut s = BaselineSummary::default();
    let mut readings = Readings::default();
    let (mut council_cost, mut cost, mut council_ms, mut ms) = (0.0, 0.0, 0u64, 0u64);
    for r in results {
        let Some(c) = r.baselines.get(model) else {
            continue;
        };
        s.tally.count(c.outcome);
        if let Some(category) = &r.category {
            s.categories
                .entry(category.clone())
                .or_default()
                .count(c.outcome);
        }
        if c.outcome == Outcome::Error {
            continue;
        }
        for (_, first, second) in c.readings() {
            readings.add(first, second);
        }
        council_cost += r.council.usage.cost.unwrap_or(0.0);
        cost += c.answer.usage.cost.unwrap_or(0.0);
        council_ms += r.council.elapsed_ms;
        ms += c.answer.elapsed_ms;
    }
    s.tally.finish();
    s.categories.values_mut().for_each(Tally::finish);
    s.consistency = readings.consistency();
    s.position_bias = readings.position_bias();
    s.cost_ratio = (cost > 0.0).then(|| council_cost / cost);
    s.cost_per_win =
        (s.tally.wins > 0 && council_cost > 0.0).then(|| council_cost / f64::from(s.tally.wins));
    s.latency_ratio = (ms > 0).then(|| council_ms as f64 / ms as f64);
    s
}

fn graders(results: &[QuestionResult], header: &ResultsHeader) -> GraderSummary {
    let names = header.graders();
    let mut overall = Readings::default();
    let mut each: BTreeMap<&str, (Readings, u32)> = BTreeMap::new();
    let mut pairs = 0u32;
    for c in results.iter().flat_map(|r| r.baselines.values()) {
        if c.outcome == Outcome::Error {
            continue;
        }
        pairs += 1;
        for (grader, first, second) in c.readings() {
            // Results written before verdicts named their grader had one.
            let grader = match (grader, names.as_slice()) {
                ("", [only]) => only.as_str(),
                (grader, _) => grader,
            };
            overall.add(first, second);
            let (readings, agreed) = each.entry(grader).or_default();
            readings.add(first, second);
            *agreed += u32::from(super::grade::combine(first, second) == c.outcome);
        }
    }
    let several = names.len() > 1;
    let figures = |r: &Readings| GraderFigures {
        pairs: r.all,
        consistency: r.consistency(),
        position_bias: r.position_bias(),
        agreement: None,
    };
    let self_preference: Vec<String> = names
        .iter()
        .flat_map(|g| self_preference(g, &header.synthesizer, &header.baselines))
        .collect();
    GraderSummary {
        overall: figures(&overall),
        self_preference_risk: !self_preference.is_empty(),
        self_preference,
        graders: each
            .iter()
            .map(|(name, (readings, agreed))| {
                let mut f = figures(readings);
                f.agreement = several.then(|| share(*agreed, pairs));
                (name.to_string(), f)
            })
            .collect(),
    }
}

fn ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "–".into(), |r| format!("{r:.1}x"))
}

fn percent(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// `30–95%`, or `–` with nothing graded.
fn interval(i: Option<Interval>) -> String {
    i.map_or_else(
        || "–".into(),
        |i| format!("{:.0}–{:.0}%", i.low * 100.0, i.high * 100.0),
    )
}

/// `1 win`, `2 wins`.
fn counted(n: u32, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn usd(x: Option<f64>) -> String {
    x.map_or_else(|| "–".into(), |x| format!("${x:.4}"))
}

/// The summary as printed: a line per baseline (with its categories), then
/// the graders'.
pub fn lines(summary: &Summary) -> Vec<String> {
    let mut out = Vec::new();
    for (model, s) in &summary.baselines {
        let t = &s.tally;
        out.push(format!(
            "council vs {model}: {}, {}, {}{} · win rate {} (95% CI {}, Wilson) · consistency {} · position bias {} · cost {}{} · latency {}",
            counted(t.wins, "win", "wins"),
            counted(t.losses, "loss", "losses"),
            counted(t.ties, "tie", "ties"),
            if t.errors > 0 { format!(", {}", counted(t.errors, "error", "errors")) } else { String::new() },
            percent(t.win_rate),
            interval(t.interval),
            percent(s.consistency),
            percent(s.position_bias),
            ratio(s.cost_ratio),
            s.cost_per_win.map(|c| format!(" ({} a win)", usd(Some(c)))).unwrap_or_default(),
            ratio(s.latency_ratio),
        ));
        if !s.categories.is_empty() {
            let parts: Vec<String> = s
                .categories
                .iter()
                .map(|(name, c)| {
                    format!(
                        "{name} {}W {}L {}T ({})",
                        c.wins,
                        c.losses,
                        c.ties,
                        interval(c.interval)
                    )
                })
                .collect();
            out.push(format!("  by category: {}", parts.join(" · ")));
        }
    }
    let g = &summary.grader;
    for (name, f) in &g.graders {
        out.push(format!(
            "grader {name}: {} pairs · consistency {} · position bias {}{}",
            f.pairs,
            percent(f.consistency),
            percent(f.position_bias),
            f.agreement
                .map(|a| format!(" · agrees with the majority {}", percent(a)))
                .unwrap_or_default()
        ));
    }
    for why in &g.self_preference {
        out.push(format!("self-preference risk: {why}"));
    }
    out
}

/// A Markdown report: what was run, the table with intervals, the
/// categories, the graders' biases, then the questions the council lost.
pub fn markdown(summary: &Summary, meta: &Metadata, results: &[QuestionResult]) -> String {
    let mut md = String::from("# Council evaluation\n\n");
    let e = &meta.evaluation;
    let code = |s: &str| format!("`{s}`");
    let list = |items: &[String]| items.iter().map(|s| code(s)).collect::<Vec<_>>().join(", ");
    md.push_str("| | |\n| --- | --- |\n");
    for (what, value) in [
        ("date", meta.date.clone()),
        (
            "council",
            format!(
                "members {}; judge {}; synthesizer {}",
                list(&e.members),
                code(&e.judge),
                code(&e.synthesizer)
            ),
        ),
        ("baselines", list(&e.baselines)),
        ("grader", list(&e.graders())),
        (
            "input",
            format!("{} ({} questions)", meta.input, meta.questions),
        ),
        ("input sha256", code(&meta.input_sha256)),
        ("council version", meta.version.clone()),
    ] {
        let _ = writeln!(md, "| {what} | {} |", value.replace('|', "\\|"));
    }
    let _ = writeln!(md, "\n{} questions graded.\n", results.len());
    md.push_str("| baseline | wins | losses | ties | errors | win rate | 95% interval (Wilson) | consistency | position bias | cost ratio | cost per win | latency ratio |\n");
    md.push_str(
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for (model, s) in &summary.baselines {
        let _ = writeln!(
            md,
            "| `{model}` | {} | {} | {} | {} | {} | {} |",
            s.tally.cells(),
            percent(s.consistency),
            percent(s.position_bias),
            ratio(s.cost_ratio),
            usd(s.cost_per_win),
            ratio(s.latency_ratio)
        );
    }
    if summary.baselines.values().any(|s| !s.categories.is_empty()) {
        md.push_str("\n## By category\n");
        for (model, s) in &summary.baselines {
            let _ = writeln!(md, "\n### Against `{model}`\n");
            md.push_str("| category | wins | losses | ties | errors | win rate | 95% interval |\n");
            md.push_str("| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
            for (name, c) in &s.categories {
                let _ = writeln!(md, "| {name} | {} |", c.cells());
            }
        }
    }
    let g = &summary.grader;
    md.push_str("\n## The grader\n\n");
    md.push_str("| grader | pairs | consistency | position bias | agreement with the majority |\n");
    md.push_str("| --- | ---: | ---: | ---: | ---: |\n");
    for (name, f) in &g.graders {
        let _ = writeln!(
            md,
            "| `{name}` | {} | {} | {} | {} |",
            f.pairs,
            percent(f.consistency),
            percent(f.position_bias),
            f.agreement.map_or_else(|| "–".into(), percent)
        );
    }
    md.push_str(
        "\nEach pair is read twice, the answers' positions swapped; a win or a loss counts only when both \
         readings agree. Consistency is the share of pairs read the same both times; position bias, the \
         share where both readings picked the same position (A/A or B/B), following the position rather \
         than the answer. The interval is the 95% Wilson score interval of the win rate over the graded \
         questions (ties count against): built this way, the range holds the true rate 19 times in 20.\n",
    );
    if g.self_preference.is_empty() {
        md.push_str("\nSelf-preference risk: none (no grader shares a model family with the synthesizer or a baseline).\n");
    } else {
        md.push_str("\n**Self-preference risk**: graders are known to favour answers of their own model family.\n\n");
        for why in &g.self_preference {
            let _ = writeln!(md, "- {why}");
        }
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
        for (grader, first, second) in c.readings() {
            let by = if g.graders.len() > 1 {
                format!(" ({grader})")
            } else {
                String::new()
            };
            for (order, v) in [("council first", first), ("baseline first", second)] {
                let _ = writeln!(md, "- {order}{by}: {}", v.reason.replace('\n', " "));
            }
        }
        let _ = writeln!(
            md,
            "\n**Council**\n\n{}\n\n**{model}**\n\n{}\n",
            r.council.text, c.answer.text
        );
    }
    md
}
