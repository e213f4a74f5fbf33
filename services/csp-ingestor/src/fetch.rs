//! Fetching a provider's payload: conditional GET, a timeout, a size cap read as the body
//! streams in (a huge body is refused without being held), no redirects.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};

/// What a fetch brought back.
#[derive(Debug)]
pub enum Fetched {
    /// 304: nothing changed since the validators we sent.
    NotModified {
        status: u16,
    },
    Body {
        status: u16,
        bytes: Vec<u8>,
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

/// Why a fetch failed, in words for the provider's health.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("timed out after {0} ms")]
    Timeout(u64),
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("answered HTTP {0}")]
    Status(u16),
    #[error("body larger than {0} bytes")]
    TooLarge(u64),
    #[error("{0}")]
    Other(String),
}

impl FetchError {
    pub fn status(&self) -> Option<u16> {
        match self {
            FetchError::Status(s) => Some(*s),
            _ => None,
        }
    }
}

#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    timeout: Duration,
    max_bytes: u64,
}

impl Fetcher {
    pub fn new(timeout: Duration, max_bytes: u64) -> anyhow::Result<Self> {
        let client = platform::http_client::builder(timeout).build()?;
        Ok(Self { client, timeout, max_bytes })
    }

    /// GETs `url`, sending `etag` / `last_modified` as validators.
    pub async fn fetch(
        &self,
        url: &str,
        etag: Option<&str>,
        last_modified: Option<&str>,
    ) -> Result<Fetched, FetchError> {
        let mut request = self.client.get(url).header("accept", "application/json, application/xml, text/xml, */*");
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(lm) = last_modified {
            request = request.header(IF_MODIFIED_SINCE, lm);
        }
        let started = Instant::now();
        let response = request.send().await.map_err(|e| self.error(&e))?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified { status: 304 });
        }
        if !status.is_success() {
            return Err(FetchError::Status(status.as_u16()));
        }
        let header = |name| response.headers().get(name).and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok());
        let etag = header(ETAG).map(str::to_string);
        let last_modified = header(LAST_MODIFIED).map(str::to_string);
        if header(CONTENT_LENGTH).and_then(|l| l.parse::<u64>().ok()).is_some_and(|l| l > self.max_bytes) {
            return Err(FetchError::TooLarge(self.max_bytes));
        }
        let bytes = self.read_capped(response, started).await?;
        Ok(Fetched::Body { status: status.as_u16(), bytes, etag, last_modified })
    }

    /// One availability probe: up when the answer is 2xx or 3xx within the timeout and contains
    /// `expected` (when given). `Err` says what was wrong.
    pub async fn probe(&self, url: &str, expected: Option<&str>) -> Result<Probed, String> {
        let started = Instant::now();
        let response = self.client.get(url).send().await.map_err(|e| self.error(&e).to_string())?;
        let status = response.status();
        if !(status.is_success() || status.is_redirection()) {
            return Err(format!("answered HTTP {}", status.as_u16()));
        }
        if let Some(expected) = expected.filter(|e| !e.is_empty()) {
            let body = match self.read_capped(response, started).await {
                Ok(body) => body,
                Err(e) => return Err(e.to_string()),
            };
            if !String::from_utf8_lossy(&body).contains(expected) {
                return Err(format!("answered HTTP {} without the expected text", status.as_u16()));
            }
        }
        Ok(Probed { status: status.as_u16(), latency_ms: started.elapsed().as_millis() as u64 })
    }

    /// The body, failing once it passes the size cap or the timeout (a slow body counts too).
    async fn read_capped(&self, mut response: reqwest::Response, started: Instant) -> Result<Vec<u8>, FetchError> {
        let mut bytes = Vec::new();
        loop {
            let left = self.timeout.saturating_sub(started.elapsed());
            let chunk = tokio::time::timeout(left, response.chunk())
                .await
                .map_err(|_| FetchError::Timeout(self.timeout.as_millis() as u64))?
                .map_err(|e| self.error(&e))?;
            let Some(chunk) = chunk else { return Ok(bytes) };
            if (bytes.len() + chunk.len()) as u64 > self.max_bytes {
                return Err(FetchError::TooLarge(self.max_bytes));
            }
            bytes.extend_from_slice(&chunk);
        }
    }

    fn error(&self, e: &reqwest::Error) -> FetchError {
        if e.is_timeout() {
            FetchError::Timeout(self.timeout.as_millis() as u64)
        } else if e.is_connect() {
            FetchError::Connect(root_cause(e))
        } else {
            FetchError::Other(root_cause(e))
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Probed {
    pub status: u16,
    pub latency_ms: u64,
}

fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
