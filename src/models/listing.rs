//! What remote endpoints serve (`GET /models`), cached on disk per provider
//! with the time it was fetched, for the model picker and cost estimates.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::engine::council::Endpoints;
use crate::paths;
use crate::provider::{ModelInfo, Pricing};

/// A listing older than this is fetched again when the picker opens.
pub(crate) const FRESH_FOR: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Listing {
    /// Unix seconds.
    pub(crate) fetched_at: u64,
    pub(crate) models: Vec<ModelInfo>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Listing {
    pub fn new(models: Vec<ModelInfo>) -> Self {
        Self {
            fetched_at: now(),
            models,
        }
    }

    pub(crate) fn age(&self) -> Duration {
        Duration::from_secs(now().saturating_sub(self.fetched_at))
    }

    pub(crate) fn is_fresh(&self) -> bool {
        self.age() < FRESH_FOR
    }

    pub(crate) fn pricing(&self, model: &str) -> Option<Pricing> {
        self.models
            .iter()
            .find(|m| m.id == model)
            .and_then(|m| m.pricing)
    }

    /// Ids matching `query` fuzzily, best first (all, in order, for an empty query).
    pub(crate) fn filter(&self, query: &str) -> Vec<&ModelInfo> {
        use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
        if query.trim().is_empty() {
            return self.models.iter().collect();
        }
        let mut matcher = nucleo_matcher::Matcher::new(nucleo_matcher::Config::DEFAULT);
        let pattern = Pattern::parse(query, CaseMatching::Ignore, Normalization::Smart);
        let ids: Vec<&str> = self.models.iter().map(|m| m.id.as_str()).collect();
        pattern
            .match_list(ids, &mut matcher)
            .into_iter()
            .filter_map(|(id, _)| self.models.iter().find(|m| m.id == id))
            .collect()
    }
}

/// Where a provider's listing is cached: by name for built-in providers,
/// by name and URL for the others (two `--base-url` servers are both
/// `custom`).
pub(crate) fn cache_key(provider: &str, endpoints: &Endpoints) -> String {
    match endpoints.get(provider) {
        Some(e) => {
            // FNV-1a: stable across builds, unlike the std hasher.
            let hash = e.base_url.bytes().fold(0xcbf29ce484222325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
            });
            format!("{provider}-{hash:016x}")
        }
        None => provider.to_string(),
    }
}

/// `~/.cache/council/listings/<key>.json`.
pub(crate) fn cache_file(provider: &str) -> Option<PathBuf> {
    let safe: String = provider
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    paths::cache_dir().map(|d| d.join("listings").join(format!("{safe}.json")))
}

pub fn load(provider: &str) -> Option<Listing> {
    let text = std::fs::read_to_string(cache_file(provider)?).ok()?;
    serde_json::from_str(&text).ok()
}

/// Writes the listing (to a temporary file, renamed into place).
pub(crate) fn store(provider: &str, listing: &Listing) -> std::io::Result<()> {
    let path = cache_file(provider).ok_or_else(|| std::io::Error::other("no cache dir"))?;
    if let Some(dir) = path.parent() {
        paths::create_private_dir(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    paths::write_private(
        &tmp,
        serde_json::to_vec(listing).map_err(std::io::Error::other)?,
    )?;
    std::fs::rename(tmp, path)
}

/// "3 min", "5 h", "2 days": how old a listing is, for the picker's header.
pub(crate) fn describe_age(age: Duration) -> String {
    let s = age.as_secs();
    match s {
        0..=59 => "just now".into(),
        60..=3599 => format!("{} min ago", s / 60),
        3600..=86_399 => format!("{} h ago", s / 3600),
        _ => format!("{} days ago", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(id: &str) -> ModelInfo {
        ModelInfo {
            id: id.into(),
            name: None,
            context_length: Some(128_000),
            pricing: Some(Pricing {
                prompt: Some(1e-6),
                completion: Some(4e-6),
            }),
        }
    }

    #[test]
    fn fuzzy_filter_ranks_matches_and_drops_the_rest() {
        let listing = Listing::new(vec![
            model("anthropic/claude-opus-4.5"),
            model("openai/gpt-5.4-mini"),
            model("google/gemini-3-flash-preview"),
            model("openai/gpt-5.4"),
        ]);
        let ids =
            |q: &str| -> Vec<String> { listing.filter(q).iter().map(|m| m.id.clone()).collect() };
        assert_eq!(ids("").len(), 4);
        let gpt = ids("gpt54");
        assert_eq!(gpt.len(), 2, "{gpt:?}");
        assert!(gpt.iter().all(|id| id.starts_with("openai/gpt-5.4")));
        assert_eq!(ids("gemflash"), ["google/gemini-3-flash-preview"]);
        assert!(ids("zzz").is_empty());
        assert_eq!(
            listing.pricing("openai/gpt-5.4").unwrap().completion,
            Some(4e-6)
        );
    }

    #[test]
    fn ages_read_as_people_say_them() {
        assert_eq!(describe_age(Duration::from_secs(5)), "just now");
        assert_eq!(describe_age(Duration::from_secs(600)), "10 min ago");
        assert_eq!(describe_age(Duration::from_secs(3 * 3600)), "3 h ago");
        assert_eq!(describe_age(Duration::from_secs(3 * 86_400)), "3 days ago");
        let old = Listing {
            fetched_at: 0,
            models: vec![],
        };
        assert!(!old.is_fresh());
        assert!(Listing::new(vec![]).is_fresh());
    }
}
