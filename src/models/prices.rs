//! What a council's models cost per token, from the providers' listings
//! (cached on disk, fetched when missing or old), for the estimate a budget
//! cap is checked against before a run.

use std::collections::HashMap;
use std::time::Duration;

use crate::config::CouncilPlan;
use crate::engine::estimate::{self, CostEstimate, Stages};
use crate::engine::{Council, SeatSpec};
use crate::models::listing::{self, Listing};
use crate::provider::Pricing;
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
            if listings.contains_key(provider) {
                continue;
            }
            // A backend that runs here lists its models as they are now:
            // it is neither read from nor written to the cache.
            let free = seat.provider.capabilities().free;
            let key = listing::cache_key(provider, &council.endpoints);
            let cached = (!free).then(|| listing::load(&key)).flatten();
            let listing = match cached {
                Some(l) if l.is_fresh() => Some(l),
                cached => {
                    let fetched =
                        tokio::time::timeout(FETCH_TIMEOUT, seat.provider.list_models()).await;
                    match fetched {
                        Ok(Ok(models)) => {
                            let l = Listing::new(models);
                            // A cache that cannot be written only costs a fetch next time.
                            if !free {
                                let _ = listing::store(&key, &l);
                            }
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

    /// A seat's prices, as its provider lists them (the embedded engine
    /// lists its models at no cost), or unknown.
    pub fn of(&self, seat: &SeatSpec) -> Option<Pricing> {
        self.listings
            .get(&seat.provider)
            .and_then(|l| l.pricing(&seat.model))
            .filter(|p| p.prompt.is_some() && p.completion.is_some())
    }

    /// Prices from listings already read (the TUI keeps them as they come).
    pub fn insert(&mut self, provider: String, listing: Listing) {
        self.listings.insert(provider, listing);
    }

    /// A provider's listing, when read.
    pub fn listing(&self, provider: &str) -> Option<&Listing> {
        self.listings.get(provider)
    }

    /// The most a run of `plan` on `prompt` may cost.
    pub fn estimate(&self, plan: &CouncilPlan, prompt: &str) -> CostEstimate {
        estimate::estimate(
            &plan.members,
            &plan.judge,
            &plan.synthesizer,
            Stages {
                rounds: plan.rounds,
                ranking: plan.ranking,
            },
            prompt,
            |seat| self.of(seat),
        )
    }

    /// Checks a run's estimate against the budget cap: a note to show when
    /// it is within (saying what could not be priced), or why it is refused.
    /// `prompt` is everything the members read: the question with its
    /// attachments and the conversation so far.
    pub(crate) fn check(
        &self,
        plan: &CouncilPlan,
        prompt: &str,
        cap: f64,
    ) -> Result<String, String> {
        let estimate = self.estimate(plan, prompt);
        // Unknown prices count as free, so an incomplete estimate over the cap is over it too.
        if estimate.usd > cap {
            let more = if estimate.complete {
                ""
            } else {
                " (without the unpriced models)"
            };
            return Err(format!(
                "the estimate of ${:.4}{more} is over the ${cap:.4} cap; {} \
                 (or max_cost in the preset or config), or lower max_tokens",
                estimate.usd,
                raise_to(estimate.usd),
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
                sanitize(&self.unpriced(plan).join(", "))
            ))
        }
    }

    /// The council's models without a listed price, each once.
    pub(crate) fn unpriced(&self, plan: &CouncilPlan) -> Vec<String> {
        let mut models: Vec<String> = Vec::new();
        for seat in plan.seats() {
            if self.of(seat).is_none() && !models.contains(&seat.model) {
                models.push(seat.model.clone());
            }
        }
        models
    }
}

/// How to raise a cap to `usd`: never to an amount no cap can be.
pub fn raise_to(usd: f64) -> String {
    let cents = (usd * 100.0).ceil() / 100.0;
    if cents.is_finite() && cents < 1e12 {
        format!("raise it with --max-cost {cents:.2}")
    } else {
        "no cap covers it: a listed price is out of range".to_string()
    }
}
