//! What a council's models cost per token, from the providers' listings
//! (cached on disk, fetched when missing or old), for the estimate a budget
//! cap is checked against before a run.

use std::collections::HashMap;
use std::time::Duration;

use crate::engine::estimate::{self, CostEstimate, Stages};
use crate::engine::{Council, PastTurn, SeatSpec};
use crate::models::listing::{self, Listing};
use crate::provider::openai::models::Pricing;
use crate::sanitize::sanitize;

/// How long a listing may take before its prices count as unknown.
const FETCH_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, Default)]
pub struct Prices {
    listings: HashMap<String, Listing>,
}

impl Prices {
    /// The listings of every provider the council asks: a fresh cached one,
    /// else fetched (and cached), else a stale cached one, else none.
    pub async fn gather(council: &Council) -> Self {
        let mut listings = HashMap::new();
        let seats = council
            .members
            .iter()
            .chain([&council.judge, &council.synthesizer]);
        for seat in seats {
            let provider = &seat.spec.provider;
            if provider == crate::provider::local::NAME || listings.contains_key(provider) {
                continue;
            }
            let key = listing::cache_key(provider, &council.endpoints);
            let cached = listing::load(&key);
            let listing = match cached {
                Some(l) if l.is_fresh() => Some(l),
                cached => {
                    let fetched =
                        tokio::time::timeout(FETCH_TIMEOUT, seat.provider.list_models()).await;
                    match fetched {
                        Ok(Ok(models)) => {
                            let l = Listing::new(models);
                            // A cache that cannot be written only costs a fetch next time.
                            let _ = listing::store(&key, &l);
                            Some(l)
                        }
                        _ => cached,
                    }
                }
            };
            if let Some(l) = listing {
                listings.insert(provider.clone(), l);
            }
        }
        Self { listings }
    }

    /// A seat's prices: free on the embedded engine, listed, or unknown.
    pub fn of(&self, seat: &SeatSpec) -> Option<Pricing> {
        if seat.provider == crate::provider::local::NAME {
            return Some(Pricing {
                prompt: Some(0.0),
                completion: Some(0.0),
            });
        }
        self.listings
            .get(&seat.provider)
            .and_then(|l| l.pricing(&seat.model))
            .filter(|p| p.prompt.is_some() && p.completion.is_some())
    }

    /// The most a run of `council` on `prompt` may cost.
    pub fn estimate(&self, council: &Council, prompt: &str) -> CostEstimate {
        let members: Vec<SeatSpec> = council.members.iter().map(|s| s.spec.clone()).collect();
        estimate::estimate(
            &members,
            &council.judge.spec,
            &council.synthesizer.spec,
            Stages {
                rounds: council.rounds,
                ranking: council.ranking,
            },
            prompt,
            |seat| self.of(seat),
        )
    }

    /// Checks a run's estimate against the budget cap: a note to show when
    /// it is within (saying what could not be priced), or why it is refused.
    /// Everything the members read counts: the question and the
    /// conversation so far.
    pub fn check(
        &self,
        council: &Council,
        question: &str,
        history: &[PastTurn],
        cap: f64,
    ) -> Result<String, String> {
        let mut prompt = question.to_string();
        for turn in history {
            prompt.push_str(&turn.question);
            prompt.push_str(&turn.synthesis);
        }
        let estimate = self.estimate(council, &prompt);
        // Unknown prices count as free, so an incomplete estimate over the cap is over it too.
        if estimate.usd > cap {
            let more = if estimate.complete {
                ""
            } else {
                " (without the unpriced models)"
            };
            return Err(format!(
                "the estimate of ${:.4}{more} is over the ${cap:.4} cap; raise it with --max-cost {:.2} \
                 (or max_cost in the preset or config), or lower max_tokens",
                estimate.usd,
                (estimate.usd * 100.0).ceil() / 100.0,
            ));
        }
        if estimate.complete {
            Ok(format!(
                "estimated at most ${:.4} of the ${cap:.4} cap",
                estimate.usd
            ))
        } else {
            Ok(format!(
                "the estimate of ${:.4} is incomplete: no listed price for {}; \
                 running, and the ${cap:.4} cap is checked against the spend reported",
                estimate.usd,
                sanitize(&self.unpriced(council).join(", "))
            ))
        }
    }

    /// The council's models without a listed price, each once.
    pub fn unpriced(&self, council: &Council) -> Vec<String> {
        let mut models: Vec<String> = Vec::new();
        let seats = council
            .members
            .iter()
            .chain([&council.judge, &council.synthesizer]);
        for seat in seats {
            if self.of(&seat.spec).is_none() && !models.contains(&seat.spec.model) {
                models.push(seat.spec.model.clone());
            }
        }
        models
    }
}
