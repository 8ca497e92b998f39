//! `council eval`: is the council worth it on my prompts?

use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use council::config::settings::Settings;
use council::config::{ConfigError, CouncilRequest};
use council::engine::Seat;
use council::eval::{self, EvalQuestion, Evaluation, Outcome, QuestionResult};
use council::models::prices::Prices;
use council::paths;
use council::sanitize::sanitize;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use indicatif::{ProgressBar, ProgressStyle};
use tokio_util::sync::CancellationToken;

use super::{CouncilArgs, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, ask, fail, models};

#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    /// Questions: one per line, or JSON lines with `question` (and `id`,
    /// `reference`, `category`), or MT-Bench's own lines (`question_id`,
    /// `category`, `turns`, `reference`).
    #[arg(required_unless_present_any = ["suite", "suites"], conflicts_with = "suite")]
    pub file: Option<PathBuf>,
    /// Run a built-in suite instead of a file (see --suites).
    #[arg(
        long,
        value_name = "NAME",
        value_parser = clap::builder::PossibleValuesParser::new(eval::suites::SUITES.iter().map(|s| s.name))
    )]
    pub suite: Option<String>,
    /// List the built-in suites and exit.
    #[arg(long, exclusive = true)]
    pub suites: bool,
    /// Only the questions of this category.
    #[arg(long, value_name = "C")]
    pub category: Option<String>,
    /// Only the first N questions (after --category).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub limit: Option<u32>,
    /// Solo models to compare the council with, comma-separated (same
    /// provider rules as a panel member).
    #[arg(
        long,
        value_name = "MODEL,MODEL,...",
        value_delimiter = ',',
        required_unless_present = "suites"
    )]
    pub against: Vec<String>,
    /// The model that compares answers (default: the council's judge);
    /// several, comma-separated, grade as a panel whose majority decides
    /// each pair.
    #[arg(long, value_name = "MODEL,MODEL,...", value_delimiter = ',')]
    pub grader: Vec<String>,
    /// The council; `--max-cost` caps the whole evaluation here.
    #[command(flatten)]
    pub council: CouncilArgs,
    /// Environment variable holding the API key.
    #[arg(long, value_name = "VAR")]
    pub api_key_env: Option<String>,
    /// Questions evaluated at once.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub concurrency: u32,
    /// Where results stream as JSON lines (default: under the data dir, named after FILE).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Continue an interrupted evaluation: questions already in the results file are not asked again.
    #[arg(long)]
    pub resume: bool,
    /// With --resume: continue a results file written for another council, baselines or grader.
    #[arg(long, requires = "resume")]
    pub force: bool,
    /// Also write a Markdown report: the table and the questions the council lost.
    #[arg(long, value_name = "FILE.md")]
    pub report: Option<PathBuf>,
    /// Print one JSON document (`summary`, `questions`) instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// `~/.local/share/council/evals/<file stem or suite>.jsonl`.
fn default_out(name: &Path) -> Option<PathBuf> {
    let stem = name.file_stem()?.to_string_lossy().into_owned();
    Some(
        paths::data_dir()?
            .join("evals")
            .join(format!("{stem}.jsonl")),
    )
}

/// `council eval --suites`: what is built in.
fn list_suites() -> ExitCode {
    for suite in &eval::suites::SUITES {
        let questions = suite.questions().unwrap_or_default();
        let mut categories: Vec<(String, usize)> = Vec::new();
        for q in &questions {
            let c = q.category.clone().unwrap_or_default();
            match categories.iter_mut().find(|(name, _)| *name == c) {
                Some((_, n)) => *n += 1,
                None => categories.push((c, 1)),
            }
        }
        let with_reference = questions.iter().filter(|q| q.has_reference()).count();
        println!(
            "{}  {} questions, {with_reference} with reference answers",
            suite.name,
            questions.len()
        );
        println!("    {}", suite.about);
        let categories: Vec<String> = categories.iter().map(|(c, n)| format!("{c} {n}")).collect();
        println!("    categories: {}", categories.join(", "));
        println!("    source: {}", suite.source);
    }
    ExitCode::SUCCESS
}

/// The questions to ask, what they are called in the report, their hash,
/// and the results file's default name.
fn read_questions(args: &EvalArgs) -> Result<(Vec<EvalQuestion>, String, String, PathBuf), String> {
    let (questions, input, text, name) = match (&args.suite, &args.file) {
        (Some(name), _) => {
            let Some(suite) = eval::suites::find(name) else {
                let known: Vec<&str> = eval::suites::SUITES.iter().map(|s| s.name).collect();
                return Err(format!(
                    "no suite `{name}`; there are: {}",
                    known.join(", ")
                ));
            };
            let questions = suite.questions()?;
            (
                questions,
                format!("suite {}", suite.name),
                suite.text.to_string(),
                PathBuf::from(suite.name),
            )
        }
        (None, Some(file)) => {
            let text = council::files::read_text_capped(file, council::files::CONFIG_BYTES)
                .map_err(|e| format!("{}: {e}", file.display()))?;
            let questions =
                eval::parse_questions(&text).map_err(|e| format!("{}: {e}", file.display()))?;
            (questions, file.display().to_string(), text, file.clone())
        }
        (None, None) => return Err("give a questions FILE or --suite NAME".into()),
    };
    let questions = eval::questions::select(
        questions,
        args.category.as_deref(),
        args.limit.map(|n| n as usize),
    )
    .map_err(|e| format!("{input}: {e}"))?;
    let hash = council::files::sha256_hex(text.as_bytes());
    Ok((questions, input, hash, name))
}

/// A solo seat for `model`, connected as a `--panel` member of the same council.
fn solo(request: &CouncilRequest, model: &str) -> Result<Seat, ConfigError> {
    Ok(request.alone(model).build()?.members.remove(0))
}

/// Results already in a results file's text, for `--resume` (its header
/// and a torn last line are not results).
fn finished(text: &str) -> Vec<QuestionResult> {
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The most the remaining questions may cost: the council's estimate, each
/// baseline answering, and the grader reading both answers twice.
fn estimate(ev: &Evaluation, prices: &Prices, questions: &[&EvalQuestion]) -> (f64, bool) {
    let (mut usd, mut complete) = (0.0, true);
    let plan = council::config::CouncilPlan::from(&ev.council);
    let tokens = |text: &str| (text.chars().count() as f64 / 4.0).ceil();
    let synth_out = f64::from(ev.council.synthesizer.spec.max_tokens.unwrap_or(1024));
    for q in questions {
        // Each turn is a run that reads the turns before it and their answers.
        for (i, turn) in q.turns.iter().enumerate() {
            let said: f64 = q.turns[..i].iter().map(|t| tokens(t) + synth_out).sum();
            // The council reads the earlier turns too (their answers are
            // counted for the baselines only: unknown before they are written).
            let council = prices.estimate(&plan, &q.turns[..=i].join("\n\n"));
            usd += council.usd;
            complete &= council.complete;
            for seat in &ev.baselines {
                let out = f64::from(seat.spec.max_tokens.unwrap_or(1024));
                match prices
                    .of(&seat.spec)
                    .and_then(|p| Some((p.prompt?, p.completion?)))
                {
                    Some((i, o)) => usd += (said + tokens(turn)) * i + out * o,
                    None => complete = false,
                }
            }
        }
        let asked: f64 = q.turns.iter().map(|t| tokens(t)).sum();
        let earlier = (q.turns.len() - 1) as f64 * synth_out;
        for seat in &ev.baselines {
            let out = f64::from(seat.spec.max_tokens.unwrap_or(1024));
            let read = 300.0 + asked + 2.0 * earlier + synth_out + out;
            for grader in &ev.graders {
                match prices
                    .of(&grader.spec)
                    .and_then(|p| Some((p.prompt?, p.completion?)))
                {
                    Some((i, o)) => usd += 2.0 * (read * i + 400.0 * o),
                    None => complete = false,
                }
            }
        }
    }
    (usd, complete)
}

pub(super) async fn eval(mut args: EvalArgs, settings: &Settings) -> ExitCode {
    if args.suites {
        return list_suites();
    }
    let (questions, input, input_sha256, name) = match read_questions(&args) {
        Ok(read) => read,
        Err(e) => return fail(EXIT_USAGE, e),
    };
    if args.grader.len() > eval::MAX_GRADERS {
        return fail(
            EXIT_USAGE,
            format!(
                "{} graders, over the limit of {}",
                args.grader.len(),
                eval::MAX_GRADERS
            ),
        );
    }
    // The cap is the whole evaluation's, not each council's.
    let cap = args.council.max_cost.take();
    args.council.api_key_env = args.api_key_env.take();
    let request = match ask::council_request(&args.council, settings) {
        Ok(r) => r,
        Err(e) => return fail(EXIT_USAGE, e),
    };
    if let Err(code) = models::fetch_for(&request) {
        return code;
    }
    let built = (|| -> Result<Evaluation, ConfigError> {
        let council = request.build()?;
        let baselines = args
            .against
            .iter()
            .map(|m| solo(&request, m.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        let graders = if args.grader.is_empty() {
            vec![council.judge.clone()]
        } else {
            args.grader
                .iter()
                .map(|m| solo(&request, m.trim()))
                .collect::<Result<Vec<_>, _>>()?
        };
        Ok(Evaluation {
            council,
            baselines,
            graders,
        })
    })();
    let ev = match built {
        Ok(ev) => ev,
        Err(e) => return fail(EXIT_USAGE, e),
    };
    let baselines: Vec<String> = ev.baselines.iter().map(|s| s.spec.model.clone()).collect();

    let Some(out_path) = args.out.clone().or_else(|| default_out(&name)) else {
        return fail(EXIT_USAGE, "no data dir for the results: pass --out FILE");
    };
    let mut done: Vec<QuestionResult> = Vec::new();
    if out_path.exists() {
        if !args.resume {
            return fail(
                EXIT_USAGE,
                format!(
                    "{} exists: pass --resume to continue that evaluation, or --out to write elsewhere",
                    out_path.display()
                ),
            );
        }
        // Read once: another evaluation's results are not mixed in unasked,
        // and this one's are not asked again.
        let text = council::files::read_text_capped(&out_path, council::files::SESSION_BYTES)
            .unwrap_or_default();
        if let Some(there) = eval::ResultsHeader::read(&text) {
            let differs = there.differences(&eval::ResultsHeader::of(&ev));
            if !differs.is_empty() && !args.force {
                return fail(
                    EXIT_USAGE,
                    format!(
                        "{} was written for another evaluation ({}): pass --force to resume it anyway, or --out to write elsewhere",
                        out_path.display(),
                        differs.join("; ")
                    ),
                );
            }
        }
        let wanted: HashSet<&str> = questions.iter().map(|q| q.id.as_str()).collect();
        done = finished(&text)
            .into_iter()
            .filter(|r| {
                wanted.contains(r.id.as_str())
                    && baselines.iter().all(|b| r.baselines.contains_key(b))
            })
            .collect();
    }
    let done_ids: HashSet<String> = done.iter().map(|r| r.id.clone()).collect();
    let remaining: Vec<&EvalQuestion> = questions
        .iter()
        .filter(|q| !done_ids.contains(&q.id))
        .collect();

    let mut spent = council::provider::sum_costs(done.iter().map(QuestionResult::cost));
    if let Some(cap) = cap {
        let prices = Prices::gather(&ev.council).await;
        let (usd, complete) = estimate(&ev, &prices, &remaining);
        let more = if complete {
            ""
        } else {
            " (some models have no listed price)"
        };
        if spent + usd > cap {
            return fail(
                EXIT_USAGE,
                format!(
                    "the evaluation is estimated at ${:.4}{more}, over the ${cap:.4} cap; {}",
                    spent + usd,
                    council::models::prices::raise_to(spent + usd)
                ),
            );
        }
        eprintln!(
            "council: the evaluation is estimated at most ${:.4}{more} of the ${cap:.4} cap",
            spent + usd
        );
    }
    if !done.is_empty() {
        eprintln!(
            "council: resuming {}: {} of {} questions already done",
            out_path.display(),
            done.len(),
            questions.len()
        );
    }
    if let Some(dir) = out_path.parent()
        && let Err(e) = paths::create_private_dir(dir)
    {
        return fail(EXIT_FAILED, format!("{}: {e}", dir.display()));
    }
    // A torn last result (a killed run) goes, or the next would be glued
    // to it and lost.
    if out_path.exists()
        && let Err(e) = council::files::cut_torn_tail(&out_path)
    {
        return fail(EXIT_FAILED, format!("{}: {e}", out_path.display()));
    }
    let fresh = std::fs::metadata(&out_path).map_or(true, |m| m.len() == 0);
    let mut out = match paths::private_file()
        .create(true)
        .append(true)
        .open(&out_path)
    {
        Ok(f) => f,
        Err(e) => return fail(EXIT_FAILED, format!("{}: {e}", out_path.display())),
    };
    // A new results file says first what it is the results of.
    if fresh && let Err(e) = writeln!(out, "{}", eval::ResultsHeader::of(&ev).line()) {
        return fail(EXIT_FAILED, format!("{}: {e}", out_path.display()));
    }

    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(questions.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} questions · {msg} · ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_position(done.len() as u64);
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    });
    let cancel = CancellationToken::new();
    let mut pending = remaining.into_iter();
    let mut running = FuturesUnordered::new();
    let mut stopped_at_cap = false;
    let mut interrupted = false;
    loop {
        while running.len() < args.concurrency as usize {
            if cap.is_some_and(|cap| spent >= cap) {
                stopped_at_cap |= pending.len() > 0;
                break;
            }
            let Some(q) = pending.next() else { break };
            running.push(eval::evaluate(&ev, q, cancel.child_token()));
        }
        let result = tokio::select! {
            r = running.next() => match r {
                Some(r) => r,
                None => break,
            },
            _ = tokio::signal::ctrl_c() => {
                interrupted = true;
                cancel.cancel();
                break;
            }
        };
        spent += result.cost();
        // One line per finished question, written at once: a killed run resumes from here.
        let line = serde_json::to_string(&result).unwrap_or_default();
        if let Err(e) = writeln!(out, "{line}").and_then(|()| out.flush()) {
            return fail(EXIT_FAILED, format!("{}: {e}", out_path.display()));
        }
        done.push(result);
        let tally = tally(&done, &baselines, spent);
        match &bar {
            Some(bar) => {
                bar.inc(1);
                bar.set_message(tally);
            }
            None => eprintln!(
                "council: {}/{} questions · {tally}",
                done.len(),
                questions.len()
            ),
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if interrupted {
        return fail(
            EXIT_INTERRUPTED,
            format!(
                "interrupted; continue with --resume ({} kept)",
                out_path.display()
            ),
        );
    }

    // In the order of the file.
    done.sort_by_key(|r| questions.iter().position(|q| q.id == r.id));
    let header = eval::ResultsHeader::of(&ev);
    let summary = eval::summarize(&done, &header);
    let metadata = eval::summary::Metadata {
        date: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        input,
        input_sha256,
        questions: questions.len(),
        evaluation: header,
    };
    if let Some(path) = &args.report
        && let Err(e) = std::fs::write(path, eval::summary::markdown(&summary, &metadata, &done))
    {
        return fail(EXIT_FAILED, format!("{}: {e}", path.display()));
    }
    if args.json {
        let doc = serde_json::json!({
            "summary": summary.baselines,
            "grader": summary.grader,
            "metadata": metadata,
            "questions": done,
            "spent": spent,
            "results_file": out_path,
        });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        for line in eval::summary::lines(&summary) {
            println!("{}", sanitize(&line));
        }
        let e = &metadata.evaluation;
        println!(
            "{}",
            sanitize(&format!(
                "council: members {} · judge {} · synthesizer {} · graded by {}",
                e.members.join(", "),
                e.judge,
                e.synthesizer,
                e.graders().join(", ")
            ))
        );
        println!(
            "input: {} ({} questions, sha256 {}) · council {} · {}",
            sanitize(&metadata.input),
            metadata.questions,
            &metadata.input_sha256[..12],
            metadata.version,
            metadata.date
        );
        println!("results: {} · spent ${spent:.4}", out_path.display());
    }
    if stopped_at_cap {
        return fail(
            EXIT_FAILED,
            format!(
                "stopped at the ${:.4} cap after {} of {} questions; raise --max-cost and --resume",
                cap.unwrap_or_default(),
                done.len(),
                questions.len()
            ),
        );
    }
    ExitCode::SUCCESS
}

/// "vs gpt 3W 1T 0L · $0.0123": the tallies so far.
fn tally(done: &[QuestionResult], baselines: &[String], spent: f64) -> String {
    let mut parts: Vec<String> = baselines
        .iter()
        .map(|b| {
            let count = |o: Outcome| {
                done.iter()
                    .filter(|r| r.baselines.get(b).map(|c| c.outcome) == Some(o))
                    .count()
            };
            let name = b.rsplit('/').next().unwrap_or(b);
            format!(
                "vs {} {}W {}T {}L",
                sanitize(name),
                count(Outcome::Win),
                count(Outcome::Tie),
                count(Outcome::Loss)
            )
        })
        .collect();
    parts.push(format!("${spent:.4}"));
    parts.join(" · ")
}
