//! Calls ChatOps and CI make to the incidents and users services, with comms' own service token.

use std::sync::Arc;
use std::time::Duration;

use platform::auth::Role;
use platform::service_token::ServiceToken;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    #[error("{0} is unreachable")]
    Unreachable(&'static str),
    /// The peer said no; `detail` is its explanation, fit to show the user.
    #[error("{detail}")]
    Refused { status: u16, detail: String },
}

impl From<crate::store::StoreError> for PeerError {
    fn from(_: crate::store::StoreError) -> Self {
        PeerError::Unreachable("Redis")
    }
}

/// An incident, as much as a chat message needs.
#[derive(Debug, Clone, Deserialize)]
pub struct IncidentRef {
    pub id: String,
    pub title: String,
    pub sev: u8,
    pub status: String,
    #[serde(default)]
    pub commander: Option<String>,
}

/// A PolyStatus user.
#[derive(Debug, Clone, Deserialize)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub status: String,
}

#[derive(Clone)]
pub struct Peers {
    incidents_url: String,
    users_url: String,
    client: reqwest::Client,
    token: Arc<ServiceToken>,
}

/// The problem+json's `detail` and field errors, as one sentence.
fn explain(body: &str) -> String {
    let Ok(problem) = serde_json::from_str::<Value>(body) else { return "the request was refused".into() };
    let mut parts: Vec<String> = problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| format!("{} {}", e["field"].as_str().unwrap_or(""), e["message"].as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    if parts.is_empty() {
        parts.push(problem["detail"].as_str().or(problem["title"].as_str()).unwrap_or("refused").to_string());
    }
    parts.join("; ")
}

impl Peers {
    pub fn new(incidents_url: &str, users_url: &str, token: ServiceToken, timeout: Duration) -> anyhow::Result<Self> {
        Ok(Self {
            incidents_url: incidents_url.trim_end_matches('/').to_string(),
            users_url: users_url.trim_end_matches('/').to_string(),
            client: platform::http_client::builder(timeout).build()?,
            token: Arc::new(token),
        })
    }

    /// Comms' own bearer token, for calls made elsewhere on its behalf.
    pub async fn bearer(&self) -> Result<String, PeerError> {
        match self.token.bearer().await {
            Ok(token) => Ok(token.unwrap_or_default()),
            Err(e) => {
                tracing::warn!(error = %e, "no service token for ChatOps");
                Err(PeerError::Unreachable("the users service"))
            }
        }
    }

    async fn call(
        &self,
        peer: &'static str,
        method: reqwest::Method,
        url: String,
        body: Option<Value>,
    ) -> Result<Value, PeerError> {
        let mut request = self.client.request(method, url);
        let token = self.bearer().await?;
        if !token.is_empty() {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = platform::http_client::forward_request_id(request)
            .send()
            .await
            .map_err(|_| PeerError::Unreachable(peer))?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|_| PeerError::Unreachable(peer))?;
        if (200..300).contains(&status) {
            return Ok(serde_json::from_str(&text).unwrap_or(Value::Null));
        }
        if status >= 500 {
            return Err(PeerError::Unreachable(peer));
        }
        Err(PeerError::Refused { status, detail: explain(&text) })
    }

    fn incident_from(value: Value) -> Result<IncidentRef, PeerError> {
        serde_json::from_value(value).map_err(|_| PeerError::Unreachable("the incidents service"))
    }

    async fn incidents(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value, PeerError> {
        self.call("the incidents service", method, format!("{}{path}", self.incidents_url), body).await
    }

    pub async fn declare(
        &self,
        title: &str,
        sev: u8,
        summary: &str,
        commander: Option<&str>,
    ) -> Result<IncidentRef, PeerError> {
        let body = json!({"title": title, "sev": sev, "summary": summary, "source": "chatops", "commander": commander});
        Self::incident_from(self.incidents(reqwest::Method::POST, "/api/v1/incidents", Some(body)).await?)
    }

    pub async fn incident(&self, id: &str) -> Result<IncidentRef, PeerError> {
        Self::incident_from(self.incidents(reqwest::Method::GET, &format!("/api/v1/incidents/{id}"), None).await?)
    }

    pub async fn set_status(&self, id: &str, status: &str, reason: &str) -> Result<IncidentRef, PeerError> {
        let body = json!({"status": status, "reason": reason});
        Self::incident_from(
            self.incidents(reqwest::Method::POST, &format!("/api/v1/incidents/{id}/status"), Some(body)).await?,
        )
    }

    pub async fn assign(&self, id: &str, commander: Option<&str>) -> Result<IncidentRef, PeerError> {
        let body = json!({"commander": commander});
        Self::incident_from(
            self.incidents(reqwest::Method::POST, &format!("/api/v1/incidents/{id}/assign"), Some(body)).await?,
        )
    }

    pub async fn note(&self, id: &str, message: &str) -> Result<(), PeerError> {
        let body = json!({"type": "note", "message": message});
        self.incidents(reqwest::Method::POST, &format!("/api/v1/incidents/{id}/timeline"), Some(body)).await?;
        Ok(())
    }

    /// Open and mitigated incidents, most recent first.
    pub async fn unresolved(&self) -> Result<Vec<IncidentRef>, PeerError> {
        let mut all = Vec::new();
        for status in ["open", "mitigated"] {
            let page = self
                .incidents(reqwest::Method::GET, &format!("/api/v1/incidents?status={status}&limit=20"), None)
                .await?;
            let incidents: Vec<IncidentRef> =
                serde_json::from_value(page).map_err(|_| PeerError::Unreachable("the incidents service"))?;
            all.extend(incidents);
        }
        Ok(all)
    }

    /// Sends a PagerDuty Events v2 style alert to the incidents service (opens, adds to or
    /// resolves the incident of its `dedup_key`).
    pub async fn alert(&self, event: Value) -> Result<(), PeerError> {
        self.incidents(reqwest::Method::POST, "/api/v1/alerts", Some(event)).await?;
        Ok(())
    }

    /// The active user with this email, if any.
    pub async fn person_by_email(&self, email: &str) -> Result<Option<Person>, PeerError> {
        let url = format!("{}/api/v1/users?q={}", self.users_url, urlencode(email));
        let found = self.call("the users service", reqwest::Method::GET, url, None).await?;
        let people: Vec<Person> =
            serde_json::from_value(found).map_err(|_| PeerError::Unreachable("the users service"))?;
        Ok(people.into_iter().find(|p| p.email.eq_ignore_ascii_case(email) && p.status == "active"))
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_explained_from_the_problem() {
        let problem = r#"{"title":"Validation failed","status":400,"errors":[{"field":"reason","message":"is required to reopen"}]}"#;
        assert_eq!(explain(problem), "reason is required to reopen");
        assert_eq!(explain(r#"{"title":"Not found","detail":"no incident INC-000001"}"#), "no incident INC-000001");
        assert_eq!(explain("<html>"), "the request was refused");
    }
}
