//! `GET {base_url}/models`: what an endpoint serves, for the model picker
//! and cost estimates.

use serde::Deserialize;

use super::{OpenAiProvider, transport_error};
use crate::provider::{ErrorKind, ModelInfo, ProviderError};

#[derive(Deserialize)]
struct ModelList {
    data: Vec<ModelInfo>,
}

/// Parses a `/models` response body.
pub(crate) fn parse_models(body: &str) -> Result<Vec<ModelInfo>, ProviderError> {
    serde_json::from_str::<ModelList>(body)
        .map(|list| list.data)
        .map_err(|e| {
            ProviderError::new(
                ErrorKind::Protocol,
                format!("unexpected /models response: {e}"),
            )
        })
}

impl OpenAiProvider {
    /// Lists the endpoint's models.
    pub async fn list_models(&self) -> Result<Vec<ModelInfo>, ProviderError> {
        let response = tokio::time::timeout(
            self.config.timeouts.first_byte,
            self.authorized(self.http.get(self.url("models"))).send(),
        )
        .await
        .map_err(|_| {
            ProviderError::new(
                ErrorKind::FirstByteTimeout,
                "the model list did not arrive in time",
            )
        })?
        .map_err(transport_error)?;
        let status = response.status();
        let body = response.text().await.map_err(transport_error)?;
        if !status.is_success() {
            return Err(ProviderError::from_status(
                status.as_u16(),
                &body,
                self.config.api_key_env.as_deref(),
                "-",
            ));
        }
        parse_models(&body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_openrouter_and_ollama_listings() {
        let openrouter = r#"{"data":[{"id":"openai/gpt-5","name":"OpenAI: GPT-5","context_length":400000,
            "pricing":{"prompt":"0.00000125","completion":"0.00001","request":"0"},"architecture":{"modality":"text->text"}}]}"#;
        let models = parse_models(openrouter).unwrap();
        assert_eq!(models[0].id, "openai/gpt-5");
        assert_eq!(models[0].context_length, Some(400000));
        assert_eq!(models[0].pricing.unwrap().prompt, Some(0.00000125));
        assert_eq!(models[0].pricing.unwrap().completion, Some(0.00001));

        let ollama = r#"{"object":"list","data":[{"id":"llama3.2:3b","object":"model","created":1,"owned_by":"library"}]}"#;
        let models = parse_models(ollama).unwrap();
        assert_eq!(
            models[0],
            ModelInfo {
                id: "llama3.2:3b".into(),
                name: None,
                context_length: None,
                pricing: None
            }
        );

        assert!(
            parse_models("<html>")
                .unwrap_err()
                .message
                .contains("unexpected /models response")
        );
    }
}
