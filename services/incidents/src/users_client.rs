//! Asks the users service whether a user exists, on behalf of the caller (with their token).

use std::time::Duration;

use platform::ApiError;
use platform::auth::Principal;

use crate::settings::UsersSettings;

#[derive(Clone)]
pub struct UsersClient {
    base_url: String,
    client: reqwest::Client,
}

impl UsersClient {
    pub fn new(settings: &UsersSettings) -> anyhow::Result<Self> {
        let client = platform::http_client::builder(Duration::from_millis(settings.timeout_ms)).build()?;
        Ok(Self { base_url: settings.base_url.trim_end_matches('/').to_string(), client })
    }

    /// Whether user `id` exists. 503 when the users service cannot say.
    pub async fn exists(&self, caller: &Principal, id: &str) -> Result<bool, ApiError> {
        if id.is_empty() || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Ok(false);
        }
        let request = self.client.get(format!("{}/api/v1/users/{id}", self.base_url)).bearer_auth(&caller.token);
        let response = platform::http_client::forward_request_id(request)
            .send()
            .await
            .map_err(|e| ApiError::unavailable("users service", e))?;
        match response.status().as_u16() {
            200 => Ok(true),
            404 => Ok(false),
            status => Err(ApiError::unavailable("users service", anyhow::anyhow!("answered {status}"))),
        }
    }
}
