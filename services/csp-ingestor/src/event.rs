//! The normalised provider event every adapter produces.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How bad a provider event is: none < minor < major < critical, plus planned maintenance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Impact {
    None,
    Minor,
    Major,
    Critical,
    Maintenance,
}

impl Impact {
    /// Statuspage's impact words; anything unknown counts as minor rather than being lost.
    pub fn from_statuspage(raw: &str) -> Self {
        match raw.trim().to_ascii_lowercase().as_str() {
            "none" => Impact::None,
            "major" => Impact::Major,
            "critical" => Impact::Critical,
            "maintenance" => Impact::Maintenance,
            _ => Impact::Minor,
        }
    }
}

/// One update the provider posted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventUpdate {
    pub at: Option<DateTime<Utc>>,
    /// The provider's status word at that update (lower case).
    pub status: String,
    pub body: String,
}

/// An incident or maintenance a provider published, in PolyStatus's terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProviderEvent {
    /// The provider's own id.
    pub external_id: String,
    pub title: String,
    /// The provider's status word (lower case): investigating, resolved, completed...
    pub status: String,
    pub impact: Impact,
    pub components: Vec<String>,
    pub regions: Vec<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// Set once the provider says it is over.
    pub ended_at: Option<DateTime<Utc>>,
    pub url: Option<String>,
    /// Oldest first.
    pub updates: Vec<EventUpdate>,
}

impl ProviderEvent {
    pub fn is_active(&self) -> bool {
        self.ended_at.is_none()
    }
}

/// Why a payload could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("not a format this adapter reads: {0}")]
    UnknownShape(String),
}

/// An RFC 3339 time, or `None` for anything else (providers are not always tidy).
pub fn time(value: &serde_json::Value) -> Option<DateTime<Utc>> {
    value.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|t| t.with_timezone(&Utc))
}
