//! Calls to the incidents service: raise an incident from a provider event, post the provider's
//! updates to its timeline, mark it mitigated, link events to it, read open incidents.

use std::sync::Arc;
use std::time::Duration;

use platform::service_token::ServiceToken;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::settings::IncidentsSettings;

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("incidents service unreachable: {0}")]
    Unreachable(String),
    #[error("incidents service answered {status}: {body}")]
    Refused { status: u16, body: String },
}

/// An incident as the ingestor reads it.
#[derive(Debug, Clone, Deserialize)]
pub struct Incident {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub summary: String,
    pub status: String,
    #[serde(default)]
    pub services: Vec<String>,
    pub started_at: i64,
    #[serde(default)]
    pub resolved_at: Option<i64>,
    #[serde(default)]
    pub mitigated_at: Option<i64>,
    #[serde(default)]
    pub provider_events: Vec<Value>,
}

#[derive(Clone)]
pub struct IncidentsClient {
    base_url: String,
    client: reqwest::Client,
    token: Arc<ServiceToken>,
}

impl IncidentsClient {
    pub fn new(settings: &IncidentsSettings, token: Arc<ServiceToken>) -> anyhow::Result<Self> {
        let client = platform::http_client::builder(Duration::from_millis(settings.timeout_ms)).build()?;
        Ok(Self { base_url: settings.base_url.trim_end_matches('/').to_string(), client, token })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        bearer: Option<&str>,
    ) -> Result<reqwest::Response, CallError> {
        let mut request = self.client.request(method, format!("{}{path}", self.base_url));
        let token = match bearer {
            Some(t) => Some(t.to_string()),
            None => self.token.bearer().await.map_err(|e| CallError::Unreachable(format!("no service token: {e}")))?,
        };
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = platform::http_client::forward_request_id(request)
            .send()
            .await
            .map_err(|e| CallError::Unreachable(e.to_string()))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default().chars().take(300).collect();
        Err(CallError::Refused { status, body })
    }

    /// Raises an incident; its id.
    pub async fn create(&self, body: Value) -> Result<String, CallError> {
        let response = self.call(reqwest::Method::POST, "/api/v1/incidents", Some(body), None).await?;
        let created: Incident = response.json().await.map_err(|e| CallError::Unreachable(e.to_string()))?;
        Ok(created.id)
    }

    pub async fn post_update(&self, incident: &str, message: &str) -> Result<(), CallError> {
        let body = json!({"type": "update", "message": message});
        self.call(reqwest::Method::POST, &format!("/api/v1/incidents/{incident}/timeline"), Some(body), None).await?;
        Ok(())
    }

    /// Marks the incident mitigated; `Ok(false)` when its status does not allow it (already
    /// mitigated or resolved by someone).
    pub async fn mitigate(&self, incident: &str, reason: &str) -> Result<bool, CallError> {
        let body = json!({"status": "mitigated", "reason": reason});
        match self.call(reqwest::Method::POST, &format!("/api/v1/incidents/{incident}/status"), Some(body), None).await
        {
            Ok(_) => Ok(true),
            Err(CallError::Refused { status: 409, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub async fn link(&self, incident: &str, link: Value) -> Result<(), CallError> {
        self.call(reqwest::Method::POST, &format!("/api/v1/incidents/{incident}/provider-events"), Some(link), None)
            .await?;
        Ok(())
    }

    /// Open incidents touching `service`.
    pub async fn open_for_service(&self, service: &str) -> Result<Vec<Incident>, CallError> {
        let path = format!(
            "/api/v1/incidents?status=open&limit=100&service={}",
            url::form_urlencoded::byte_serialize(service.as_bytes()).collect::<String>()
        );
        let response = self.call(reqwest::Method::GET, &path, None, None).await?;
        response.json().await.map_err(|e| CallError::Unreachable(e.to_string()))
    }

    /// One incident, read with the caller's own token; `None` if there is no such incident.
    pub async fn get(&self, id: &str, bearer: &str) -> Result<Option<Incident>, CallError> {
        match self.call(reqwest::Method::GET, &format!("/api/v1/incidents/{id}"), None, Some(bearer)).await {
            Ok(response) => response.json().await.map(Some).map_err(|e| CallError::Unreachable(e.to_string())),
            Err(CallError::Refused { status: 404 | 400, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
