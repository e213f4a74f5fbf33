//! Calls to the services, as the signed-in user (their token) or anonymously.

use std::time::Duration;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::settings::ServiceUrls;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Users,
    Incidents,
    Comms,
    Csp,
    Flags,
}

impl Service {
    pub fn label(self) -> &'static str {
        match self {
            Service::Users => "The users service",
            Service::Incidents => "The incidents service",
            Service::Comms => "The communications service",
            Service::Csp => "The cloud provider service",
            Service::Flags => "The feature flag service",
        }
    }
}

/// Why a call did not give what was asked.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// Down, slow, or answering garbage: the page says so in place.
    #[error("{} is unavailable right now", .0.label())]
    Unavailable(Service),
    /// The token is no longer accepted.
    #[error("your session has expired")]
    Unauthorized,
    /// A refusal with the service's explanation (a problem+json `detail`).
    #[error("{detail}")]
    Refused { status: u16, detail: String },
}

#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
    urls: ServiceUrls,
}

/// A successful answer: its body and the cursor of the next page (`Link: rel="next"`).
pub struct Answer<T> {
    pub body: T,
    pub next: Option<String>,
}

impl Api {
    pub fn new(urls: ServiceUrls) -> anyhow::Result<Self> {
        let client = platform::http_client::builder(Duration::from_millis(urls.timeout_ms)).build()?;
        Ok(Self { client, urls })
    }

    fn base(&self, service: Service) -> &str {
        match service {
            Service::Users => &self.urls.users,
            Service::Incidents => &self.urls.incidents,
            Service::Comms => &self.urls.comms,
            Service::Csp => &self.urls.csp,
            Service::Flags => &self.urls.flags,
        }
    }

    /// The public URL of a service path (for links such as the RSS feed).
    pub fn url(&self, service: Service, path: &str) -> String {
        format!("{}{path}", self.base(service).trim_end_matches('/'))
    }

    pub async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        service: Service,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Answer<T>, CallError> {
        let mut request = self.client.request(method, self.url(service, path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = platform::http_client::forward_request_id(request)
            .send()
            .await
            .map_err(|_| CallError::Unavailable(service))?;
        let status = response.status().as_u16();
        let next = response
            .headers()
            .get("link")
            .and_then(|l| l.to_str().ok())
            .and_then(|l| l.split("cursor=").nth(1))
            .and_then(|c| c.split(['>', '&']).next())
            .map(str::to_string);
        let bytes = response.bytes().await.map_err(|_| CallError::Unavailable(service))?;
        match status {
            200..=299 => {
                let text = if bytes.is_empty() { &b"null"[..] } else { &bytes[..] };
                let body = serde_json::from_slice(text).map_err(|e| {
                    tracing::warn!(?service, path, error = %e, "a service answered what the UI cannot read");
                    CallError::Unavailable(service)
                })?;
                Ok(Answer { body, next })
            }
            401 => Err(CallError::Unauthorized),
            502..=504 | 500 => Err(CallError::Unavailable(service)),
            _ => {
                let problem: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                let detail = problem["detail"]
                    .as_str()
                    .or(problem["title"].as_str())
                    .map_or_else(|| format!("refused ({status})"), str::to_string);
                Err(CallError::Refused { status, detail })
            }
        }
    }

    /// The raw body of a successful anonymous GET.
    pub async fn bytes(&self, service: Service, path: &str) -> Option<Vec<u8>> {
        let response = self.client.get(self.url(service, path)).send().await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        response.bytes().await.ok().map(|b| b.to_vec())
    }

    pub async fn get<T: DeserializeOwned>(
        &self,
        service: Service,
        path: &str,
        token: Option<&str>,
    ) -> Result<T, CallError> {
        Ok(self.call(Method::GET, service, path, token, None).await?.body)
    }

    pub async fn post(
        &self,
        service: Service,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Result<Value, CallError> {
        Ok(self.call(Method::POST, service, path, token, Some(body)).await?.body)
    }

    pub async fn send(
        &self,
        method: Method,
        service: Service,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Value, CallError> {
        Ok(self.call(method, service, path, token, body).await?.body)
    }
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
