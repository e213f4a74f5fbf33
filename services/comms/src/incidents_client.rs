//! Fetches an incident from the incidents service (once, when comms has not heard of it).

use std::time::Duration;

use platform::ApiError;

use crate::domain::KnownIncident;
use crate::settings::IncidentsSettings;

#[derive(Clone)]
pub struct IncidentsClient {
    base_url: String,
    client: reqwest::Client,
}

impl IncidentsClient {
    pub fn new(settings: &IncidentsSettings) -> anyhow::Result<Self> {
        let client = platform::http_client::builder(Duration::from_millis(settings.timeout_ms)).build()?;
        Ok(Self { base_url: settings.base_url.trim_end_matches('/').to_string(), client })
    }

    /// The incident, `None` when the incidents service does not know it; 503 when it cannot say.
    pub async fn fetch(&self, token: &str, id: &str) -> Result<Option<KnownIncident>, ApiError> {
        let request = self.client.get(format!("{}/api/v1/incidents/{id}", self.base_url)).bearer_auth(token);
        let response = platform::http_client::forward_request_id(request)
            .send()
            .await
            .map_err(|e| ApiError::unavailable("incidents service", e))?;
        match response.status().as_u16() {
            200 => {
                // The incidents service's incident carries more; comms keeps what KnownIncident names.
                let incident: KnownIncident =
                    response.json().await.map_err(|e| ApiError::unavailable("incidents service", e))?;
                Ok(Some(incident))
            }
            404 => Ok(None),
            status => Err(ApiError::unavailable("incidents service", anyhow::anyhow!("answered {status}"))),
        }
    }
}
