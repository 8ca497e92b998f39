//! What a run will cost, before it runs: every seat's prompt and output
//! tokens (its `max_tokens`, the most it may write) at its model's prices.

use crate::engine::SeatSpec;
use crate::provider::Pricing;

/// Output tokens assumed for a seat that sets no `max_tokens`.
pub(crate) const ASSUMED_MAX_TOKENS: u32 = 1024;
/// The judge's and synthesizer's instructions, roughly, in tokens.
const INSTRUCTIONS: u64 = 600;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostEstimate {
    /// USD, at most (every seat writing its maximum).
    pub usd: f64,
    /// False when some seat's price is unknown (it counts as free).
    pub complete: bool,
}

/// Tokens in a text, roughly: four characters a token.
fn tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4)
}

fn output(seat: &SeatSpec) -> u64 {
    u64::from(seat.max_tokens.unwrap_or(ASSUMED_MAX_TOKENS))
}

/// How much work a run does beyond one panel, judge and synthesis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stages {
    /// Rounds: each after the first asks every member and the judge again.
    pub(crate) rounds: u32,
    /// Every member writes a ballot.
    pub(crate) ranking: bool,
}

impl Default for Stages {
    fn default() -> Self {
        Self {
            rounds: 1,
            ranking: false,
        }
    }
}

/// The most a run of these seats on `question` costs, at `price`'s prices.
pub(crate) fn estimate(
    members: &[SeatSpec],
    judge: &SeatSpec,
    synthesizer: &SeatSpec,
    stages: Stages,
    question: &str,
    price: impl Fn(&SeatSpec) -> Option<Pricing>,
) -> CostEstimate {
    let question = tokens(question);
    let mut usd = 0.0;
    let mut complete = true;
    let mut charge = |seat: &SeatSpec, prompt: u64| match price(seat)
        .and_then(|p| Some((p.prompt?, p.completion?)))
    {
        Some((input, out)) => usd += prompt as f64 * input + output(seat) as f64 * out,
        None => complete = false,
    };
    let answers: u64 = members.iter().map(output).sum();
    for m in members {
        charge(
            m,
            question + tokens(m.system_prompt.as_deref().unwrap_or_default()),
        );
    }
    charge(judge, INSTRUCTIONS + question + answers);
    // A revision reads every answer and the judge's findings.
    for _ in 1..stages.rounds.max(1) {
        for m in members {
            charge(
                m,
                INSTRUCTIONS
                    + question
                    + tokens(m.system_prompt.as_deref().unwrap_or_default())
                    + answers
                    + output(judge),
            );
        }
        charge(judge, INSTRUCTIONS + question + answers);
    }
    if stages.ranking {
        for m in members {
            charge(m, INSTRUCTIONS + question + answers - output(m));
        }
    }
    charge(
        synthesizer,
        INSTRUCTIONS + question + answers + output(judge),
    );
    CostEstimate { usd, complete }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seat(model: &str, max_tokens: Option<u32>) -> SeatSpec {
        SeatSpec {
            max_tokens,
            ..SeatSpec::new(model, model, "openrouter")
        }
    }

    fn per_million(input: f64, output: f64) -> Pricing {
        Pricing {
            prompt: Some(input / 1e6),
            completion: Some(output / 1e6),
        }
    }

    #[test]
    fn every_seat_is_charged_its_prompt_and_maximum_output() {
        let members = [seat("a", Some(1000)), seat("b", Some(1000))];
        let judge = seat("j", Some(500));
        let synth = seat("s", Some(2000));
        // A 40-character question: 10 tokens.
        let q = "x".repeat(40);
        let e = estimate(&members, &judge, &synth, Stages::default(), &q, |_| {
            Some(per_million(1.0, 10.0))
        });
        // members: 2 × (10 × 1 + 1000 × 10); judge: (600 + 10 + 2000) × 1 + 500 × 10;
        // synthesis: (600 + 10 + 2000 + 500) × 1 + 2000 × 10; all per million.
        let expected = (2.0 * (10.0 + 10_000.0) + (2610.0 + 5000.0) + (3110.0 + 20_000.0)) / 1e6;
        assert!((e.usd - expected).abs() < 1e-12, "{} vs {expected}", e.usd);
        assert!(e.complete);

        // A second round: each member reads all answers and the judge's
        // findings, then the judge again; ranking: a ballot per member.
        let two = Stages {
            rounds: 2,
            ranking: true,
        };
        let e = estimate(&members, &judge, &synth, two, &q, |_| {
            Some(per_million(1.0, 10.0))
        });
        let revision = 2.0 * ((600.0 + 10.0 + 2000.0 + 500.0) + 10_000.0) + (2610.0 + 5000.0);
        let ballots = 2.0 * ((600.0 + 10.0 + 1000.0) + 10_000.0);
        let more = expected + (revision + ballots) / 1e6;
        assert!((e.usd - more).abs() < 1e-12, "{} vs {more}", e.usd);
    }

    #[test]
    fn an_unpriced_seat_makes_the_estimate_incomplete() {
        let members = [seat("a", None), seat("unknown", None)];
        let e = estimate(
            &members,
            &seat("a", None),
            &seat("a", None),
            Stages::default(),
            "q",
            |s| (s.model == "a").then(|| per_million(0.0, 1.0)),
        );
        assert!(!e.complete);
        // Three priced seats write at most the assumed maximum each.
        assert!((e.usd - 3.0 * f64::from(ASSUMED_MAX_TOKENS) / 1e6).abs() < 1e-12);
    }
}
