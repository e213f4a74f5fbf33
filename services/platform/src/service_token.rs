//! Access tokens for service-to-service calls: an API key exchanged at the users service for a
//! short-lived token, cached until shortly before it expires.

use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;

#[derive(Debug, Clone, Deserialize)]
pub struct ServiceTokenSettings {
    /// `POST` endpoint exchanging an API key for a token (`.../api/v1/auth/token`).
    pub token_url: String,
    /// The service's API key. Empty: calls go without a token.
    pub api_key: SecretString,
}

pub struct ServiceToken {
    settings: ServiceTokenSettings,
    client: reqwest::Client,
    cached: Mutex<Option<(String, Instant)>>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
}

impl ServiceToken {
    pub fn new(settings: ServiceTokenSettings) -> anyhow::Result<Self> {
        let client = crate::http_client::builder(Duration::from_secs(5)).build()?;
        Ok(Self { settings, client, cached: Mutex::new(None) })
    }

    /// A valid token, or `None` when no API key is configured.
    pub async fn bearer(&self) -> anyhow::Result<Option<String>> {
        let key = self.settings.api_key.expose_secret();
        if key.is_empty() {
            return Ok(None);
        }
        let mut cached = self.cached.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && Instant::now() < *until
        {
            return Ok(Some(token.clone()));
        }
        let response = self
            .client
            .post(&self.settings.token_url)
            .json(&serde_json::json!({"api_key": key}))
            .send()
            .await?
            .error_for_status()?
            .json::<TokenResponse>()
            .await?;
        // Renew a minute early (or at half-life for very short tokens).
        let margin = Duration::from_secs(60.min(response.expires_in / 2));
        let until = Instant::now() + Duration::from_secs(response.expires_in) - margin;
        *cached = Some((response.access_token.clone(), until));
        Ok(Some(response.access_token))
    }

    /// Forgets the cached token (after a 401).
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }
}
