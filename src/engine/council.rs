//! What a council is made of: seats (panel members, judge, synthesizer),
//! each a model on a provider with its own settings.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::engine::SeatInfo;
use crate::provider::{ChatRequest, Message, Provider};

/// The settings of one seat, as a preset states them. Contains no secrets,
/// so it can be printed, saved and sent in events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeatSpec {
    pub name: String,
    pub model: String,
    /// The provider's name, as configured (`openrouter`, `openai`, ...).
    pub provider: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Web search (OpenRouter's web plugin) for this seat's requests.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub web_search: bool,
    /// For the judge: how many times it reads the answers, each time in
    /// another label order (the second the reverse of the first).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub samples: u32,
    /// Models tried in turn when a request fails before its first byte in a
    /// way another model could fix (`provider:model` for another provider).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallbacks: Vec<String>,
}

fn one() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

impl SeatSpec {
    /// A seat with the provider's and model's own defaults for everything else.
    pub fn new(
        name: impl Into<String>,
        model: impl Into<String>,
        provider: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            model: model.into(),
            provider: provider.into(),
            system_prompt: None,
            temperature: None,
            max_tokens: None,
            web_search: false,
            samples: 1,
            fallbacks: Vec::new(),
        }
    }

    /// A request from this seat for `messages`: its model and sampling settings.
    pub(crate) fn request(&self, messages: Vec<Message>) -> ChatRequest {
        ChatRequest {
            model: self.model.clone(),
            messages,
            temperature: self.temperature,
            max_tokens: self.max_tokens,
            json_schema: None,
            web_search: self.web_search,
        }
    }

    /// Who sits here, as events and screens show it.
    pub fn info(&self) -> SeatInfo {
        SeatInfo {
            name: self.name.clone(),
            model: self.model.clone(),
            provider: self.provider.clone(),
        }
    }
}

/// A seat bound to a live provider.
#[derive(Debug, Clone)]
pub struct Seat {
    pub spec: SeatSpec,
    pub provider: Arc<dyn Provider>,
    /// The spec's fallbacks, connected, in order.
    pub fallbacks: Vec<Fallback>,
}

/// A model to try when the one before it failed.
#[derive(Debug, Clone)]
pub struct Fallback {
    pub model: String,
    pub provider: Arc<dyn Provider>,
}

impl Seat {}

/// A ready-to-run council.
#[derive(Debug, Clone)]
pub struct Council {
    /// The preset it came from, when it came from one.
    pub preset: Option<String>,
    pub members: Vec<Seat>,
    pub judge: Seat,
    pub synthesizer: Seat,
    /// The endpoints of seats whose provider is not built in (`--base-url`,
    /// a config or preset `[providers.NAME]`), so a saved preset or session
    /// runs again as it ran.
    pub endpoints: Endpoints,
    /// Rounds of a full run: after the first, members revise their answers
    /// having read each other's and the judge's findings.
    pub rounds: u32,
    /// Members rank each other's answers before the synthesis.
    pub ranking: bool,
    pub limits: Limits,
}

/// What bounds a run's latency and cost. Unset, a run waits for every
/// member and spends what it takes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Members that must have answered before the deadline stops the rest
    /// (1 when only a deadline is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quorum: Option<u32>,
    /// Seconds from the start after which members still streaming are
    /// stopped as late, once the quorum has answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_s: Option<f64>,
    /// USD: no stage starts once the run has spent this much.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cost: Option<f64>,
    /// Bytes of one seat's answer (its text and reasoning together) past
    /// which it is stopped and failed, what came before kept; default
    /// [`ANSWER_BYTES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_answer_bytes: Option<u64>,
}

/// The default cap on one seat's answer: far above any real answer, low
/// enough that a model streaming without end cannot fill memory or disk.
pub const ANSWER_BYTES: u64 = 1024 * 1024;

impl Limits {
    pub(crate) fn is_unset(&self) -> bool {
        *self == Self::default()
    }

    /// Each limit of `over` that is set replaces this one's.
    pub(crate) fn overridden_by(self, over: Limits) -> Self {
        Self {
            quorum: over.quorum.or(self.quorum),
            deadline_s: over.deadline_s.or(self.deadline_s),
            max_cost: over.max_cost.or(self.max_cost),
            max_answer_bytes: over.max_answer_bytes.or(self.max_answer_bytes),
        }
    }

    /// The cap on one seat's answer, in bytes.
    pub(crate) fn answer_cap(&self) -> usize {
        usize::try_from(self.max_answer_bytes.unwrap_or(ANSWER_BYTES)).unwrap_or(usize::MAX)
    }

    /// Checks the values wherever they were given; the error names the field.
    pub fn check(&self) -> Result<(), String> {
        if self.quorum == Some(0) {
            return Err("quorum must be at least 1".into());
        }
        if let Some(d) = self.deadline_s
            && !(d.is_finite() && d > 0.0 && d <= crate::provider::MAX_TIMEOUT_S as f64)
        {
            return Err(format!(
                "deadline_s must be a positive number of seconds up to {} (a day), not {d}",
                crate::provider::MAX_TIMEOUT_S
            ));
        }
        if let Some(c) = self.max_cost
            && !(c.is_finite() && c >= 0.0)
        {
            return Err(format!(
                "max_cost must be a non-negative amount in USD, not {c}"
            ));
        }
        if self.max_answer_bytes == Some(0) {
            return Err("max_answer_bytes must be at least 1".into());
        }
        Ok(())
    }
}

/// How to reach a provider that is not built in: its URL and the name of
/// the variable holding its key (never the key).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    pub(crate) base_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) api_key_env: Option<String>,
}

/// Endpoints by provider name.
pub(crate) type Endpoints = std::collections::BTreeMap<String, Endpoint>;

/// Member names from model slugs: the last path segment
/// (`anthropic/claude-opus-4` becomes `claude-opus-4`), made unique with
/// `-2`, `-3`, ... when two members would share a name.
pub(crate) fn member_names<S: AsRef<str>>(models: &[S]) -> Vec<String> {
    let base: Vec<String> = models
        .iter()
        .map(|m| {
            let m = m.as_ref().trim().trim_start_matches('~');
            let last = m.rsplit('/').next().unwrap_or(m);
            if last.is_empty() {
                m.to_string()
            } else {
                last.to_string()
            }
        })
        .collect();
    unique_names(base)
}

/// Makes names unique by suffixing repeats with `-2`, `-3`, ...
pub(crate) fn unique_names(names: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        let repeated = names_count(&out, &name) > 0;
        let mut candidate = name.clone();
        let mut n = 1;
        while repeated && names_count(&out, &candidate) > 0 {
            n += 1;
            candidate = format!("{name}-{n}");
        }
        out.push(candidate);
    }
    out
}

fn names_count(names: &[String], name: &str) -> usize {
    names.iter().filter(|n| *n == name).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_slugs_and_are_unique() {
        let names = member_names(&[
            "openai/gpt-5",
            "~anthropic/claude-opus-latest",
            "openai/gpt-5",
            "llama3.2:3b",
            "openai/gpt-5",
        ]);
        assert_eq!(
            names,
            [
                "gpt-5",
                "claude-opus-latest",
                "gpt-5-2",
                "llama3.2:3b",
                "gpt-5-3"
            ]
        );
    }

    #[test]
    fn a_suffix_that_collides_is_skipped() {
        let names = unique_names(vec!["a-2".into(), "a".into(), "a".into()]);
        assert_eq!(names, ["a-2", "a", "a-3"]);
    }
}
