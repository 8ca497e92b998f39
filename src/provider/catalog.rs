//! What a backend serves and can do: its models (with context lengths and
//! prices where known) and its capabilities. The provider trait speaks
//! these types; no front or stage needs to know which backend it talks to.

use serde::{Deserialize, Deserializer, Serialize};

/// One model an endpoint offers. Fields other than `id` are optional:
/// OpenRouter fills them all, Ollama and llama.cpp only the id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub context_length: Option<u64>,
    #[serde(default)]
    pub pricing: Option<Pricing>,
}

/// USD per token, as OpenRouter reports it (decimal strings on the wire).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Pricing {
    #[serde(default, deserialize_with = "price")]
    pub prompt: Option<f64>,
    #[serde(default, deserialize_with = "price")]
    pub completion: Option<f64>,
}

fn price<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Number(f64),
    }
    let value = match Option::<Raw>::deserialize(d)? {
        Some(Raw::Number(n)) => Some(n),
        Some(Raw::Text(s)) => s.trim().parse().ok(),
        None => None,
    };
    // A negative (OpenRouter's `-1`: priced per request by a router), NaN
    // or infinite price is no price: never summed into an estimate.
    Ok(value.filter(|p| p.is_finite() && *p >= 0.0))
}

/// What a backend can do beyond streaming text, so the engine asks rather
/// than comparing backend names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Output is decoded under a grammar: a JSON schema is enforced token
    /// by token, so a schema may pin values (the judge's quotes) to text
    /// the request holds.
    pub(crate) grammar: bool,
    /// Runs here: tokens cost nothing, and its model list changes as models
    /// are fetched (never cached).
    pub(crate) free: bool,
    /// Requests at once decode together in one batch.
    pub(crate) batching: bool,
}
