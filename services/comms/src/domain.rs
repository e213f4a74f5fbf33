//! What the public sees: incidents as the projection keeps them, announcements, the banner.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The public state of an incident, as announced (Statuspage's incident statuses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AnnouncementState {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
}

impl AnnouncementState {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "investigating" => Ok(Self::Investigating),
            "identified" => Ok(Self::Identified),
            "monitoring" => Ok(Self::Monitoring),
            "resolved" => Ok(Self::Resolved),
            _ => Err("must be one of investigating, identified, monitoring, resolved".into()),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Investigating => "investigating",
            Self::Identified => "identified",
            Self::Monitoring => "monitoring",
            Self::Resolved => "resolved",
        }
    }
}

/// A public message about an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Announcement {
    pub id: String,
    pub incident_id: String,
    /// Epoch seconds.
    #[schema(example = 1730073600)]
    pub ts: i64,
    #[schema(example = "We are investigating elevated error rates in the EU")]
    pub message: String,
    pub state: AnnouncementState,
}

/// An incident as comms knows it, from the incidents service's events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownIncident {
    pub id: String,
    pub title: String,
    pub sev: u8,
    /// open, mitigated or resolved.
    pub status: String,
    #[serde(default)]
    pub services: Vec<String>,
    pub started_at: i64,
    pub updated_at: i64,
    #[serde(default)]
    pub resolved_at: Option<i64>,
    /// The incident's version at the incidents service: older events never overwrite newer.
    pub version: u64,
}

impl KnownIncident {
    pub fn is_resolved(&self) -> bool {
        self.status == "resolved"
    }
}

/// How loud the site banner is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BannerLevel {
    Info,
    Warning,
    Critical,
}

/// A message shown across the top of the status page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Banner {
    pub message: String,
    pub level: BannerLevel,
    pub created_at: i64,
    /// Epoch seconds after which it is no longer shown; null for until removed.
    pub expires_at: Option<i64>,
}

impl Banner {
    pub fn is_live(&self, now: i64) -> bool {
        self.expires_at.is_none_or(|t| t > now)
    }
}
