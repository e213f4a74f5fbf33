//! What the ingestor stores: providers, their polling state, the events they published, and the
//! internal services that depend on them.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::adapters::Format;
use crate::event::{EventUpdate, Impact, ProviderEvent};

/// How a provider is read. `rss` and `json` are the reference contract's types; the others name
/// the format outright, and `http` probes a URL that has no status page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProviderType {
    Rss,
    Json,
    Statuspage,
    Gcp,
    Aws,
    Statusio,
    Slack,
    Http,
}

impl ProviderType {
    pub fn parse(raw: &str) -> Result<Self, String> {
        Ok(match raw.trim().to_ascii_lowercase().as_str() {
            "rss" | "atom" => ProviderType::Rss,
            "json" => ProviderType::Json,
            "statuspage" => ProviderType::Statuspage,
            "gcp" => ProviderType::Gcp,
            "aws" => ProviderType::Aws,
            "statusio" => ProviderType::Statusio,
            "slack" => ProviderType::Slack,
            "http" => ProviderType::Http,
            _ => return Err("must be one of rss, json, statuspage, gcp, aws, statusio, slack, http".into()),
        })
    }

    /// The adapter format, or `None` for the HTTP probe.
    pub fn format(self) -> Option<Format> {
        Some(match self {
            ProviderType::Rss => Format::Rss,
            ProviderType::Json => Format::Json,
            ProviderType::Statuspage => Format::Statuspage,
            ProviderType::Gcp => Format::Gcp,
            ProviderType::Aws => Format::Aws,
            ProviderType::Statusio => Format::Statusio,
            ProviderType::Slack => Format::Slack,
            ProviderType::Http => return None,
        })
    }
}

/// How the HTTP probe judges an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProbeSettings {
    /// Text the body must contain; none: any 2xx or 3xx answer is up.
    pub expected_text: Option<String>,
    /// Consecutive failed probes before an event opens.
    pub failures_to_open: u32,
}

impl Default for ProbeSettings {
    fn default() -> Self {
        Self { expected_text: None, failures_to_open: 3 }
    }
}

/// A provider being watched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provider {
    pub name: String,
    pub display_name: String,
    pub feed_url: String,
    pub kind: ProviderType,
    pub interval_secs: u64,
    pub enabled: bool,
    /// Only events touching one of these components (case-insensitive); empty: all.
    pub components: Vec<String>,
    /// Only events in one of these regions; empty: all.
    pub regions: Vec<String>,
    /// Events at or above this impact raise an internal incident; none: never.
    pub incident_threshold: Option<Impact>,
    /// Mark the internal incident mitigated when the provider resolves its event.
    pub mitigate_on_resolve: bool,
    /// Providers this one runs on: their outages probably cause this one's.
    pub depends_on: Vec<String>,
    pub probe: ProbeSettings,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: u64,
}

impl Provider {
    /// Whether an event of this impact raises an internal incident. Maintenance never does.
    pub fn raises_incident(&self, impact: Impact) -> bool {
        impact != Impact::Maintenance && self.incident_threshold.is_some_and(|t| impact >= t)
    }

    /// Whether an event passes the component and region filters.
    pub fn wants(&self, event: &ProviderEvent) -> bool {
        let matches = |filter: &[String], values: &[String]| {
            filter.is_empty()
                || values.iter().any(|v| filter.iter().any(|f| v.to_lowercase().contains(f)))
                || filter.iter().any(|f| event.title.to_lowercase().contains(f))
        };
        matches(&self.components, &event.components) && matches(&self.regions, &event.regions)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    /// Not polled yet.
    #[default]
    Unknown,
    Healthy,
    /// The last poll failed; `last_error` says why. The last good events are kept.
    Unhealthy,
}

/// What the last polls of a provider found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PollState {
    pub health: Health,
    pub last_error: Option<String>,
    pub consecutive_failures: u32,
    pub last_attempt_at: Option<i64>,
    pub last_success_at: Option<i64>,
    /// When the events last changed.
    pub last_change_at: Option<i64>,
    pub next_poll_at: Option<i64>,
    pub last_http_status: Option<u16>,
    pub last_duration_ms: Option<u64>,
    pub last_bytes: Option<u64>,
    #[serde(default)]
    pub etag: Option<String>,
    #[serde(default)]
    pub last_modified: Option<String>,
    /// HTTP probe: consecutive failed probes, and the event they opened.
    #[serde(default)]
    pub probe_failures: u32,
    #[serde(default)]
    pub probe_failing_since: Option<i64>,
    #[serde(default)]
    pub probe_last_failure: Option<String>,
}

/// One change of an event, as the ingestor saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Revision {
    pub at: i64,
    pub status: String,
    pub impact: Impact,
    /// What changed: `detected`, `status investigating → resolved`, `2 new updates`...
    pub changes: Vec<String>,
}

/// A provider event as stored, with its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub id: String,
    pub provider: String,
    pub event: ProviderEvent,
    pub first_seen_at: i64,
    pub last_change_at: i64,
    /// Hash of `event`: equal hashes mean nothing changed.
    pub fingerprint: String,
    /// Oldest first, at most [`MAX_HISTORY`].
    pub history: Vec<Revision>,
}

pub const MAX_HISTORY: usize = 50;

impl StoredEvent {
    /// `{provider}.{hash of the provider's id}`: stable, and safe in a URL.
    pub fn id_for(provider: &str, external_id: &str) -> String {
        let digest = Sha256::digest(external_id.as_bytes());
        format!("{provider}.{}", platform::hex(&digest[..6]))
    }

    pub fn is_active(&self) -> bool {
        self.event.is_active()
    }

    /// The main affected service: the first component, else the provider itself.
    pub fn service(&self) -> String {
        self.event.components.first().cloned().unwrap_or_else(|| self.provider.clone())
    }

    pub fn ts_start(&self) -> i64 {
        self.event.started_at.map_or(self.first_seen_at, |t| t.timestamp())
    }

    pub fn ts_update(&self) -> i64 {
        self.event.updated_at.map_or(self.last_change_at, |t| t.timestamp()).max(self.ts_start())
    }

    pub fn ts_end(&self) -> Option<i64> {
        self.event.ended_at.map(|t| t.timestamp())
    }

    /// Title and update bodies, lower case: what mentions are looked for in.
    pub fn text(&self) -> String {
        let mut text = self.event.title.to_lowercase();
        for u in &self.event.updates {
            text.push(' ');
            text.push_str(&u.body.to_lowercase());
        }
        text
    }

    pub fn latest_update(&self) -> Option<&EventUpdate> {
        self.event.updates.iter().max_by_key(|u| u.at)
    }
}

/// The hash of an event's content.
pub fn fingerprint(event: &ProviderEvent) -> String {
    let bytes = serde_json::to_vec(event).unwrap_or_default();
    platform::hex(&Sha256::digest(&bytes)[..12])
}

/// An internal service and the providers (and their components) it runs on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InternalService {
    #[schema(example = "checkout")]
    pub name: String,
    pub depends_on: Vec<Dependency>,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Dependency {
    #[schema(example = "cloudflare")]
    pub provider: String,
    /// Only these components of it (case-insensitive); empty: all of it.
    #[serde(default)]
    pub components: Vec<String>,
}

/// Where the internal incident raised from an event stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentSync {
    pub incident_id: Option<String>,
    /// Provider updates already posted to its timeline.
    pub posted_updates: usize,
    pub mitigated: bool,
}

/// A provider or service name: 1 to 50 of a-z, 0-9 and `-`, starting with a letter or digit.
pub fn check_name(raw: &str) -> Result<String, String> {
    let name = raw.trim().to_ascii_lowercase();
    let valid = !name.is_empty()
        && name.len() <= 50
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-');
    if valid { Ok(name) } else { Err("must be 1 to 50 of a-z, 0-9 and '-', not starting with '-'".into()) }
}

/// A list of short names, trimmed and lower-cased: each one line of at most 100 characters, not
/// blank, without control characters (as sent: the documented `line` format).
pub fn check_list(items: &[String], max_items: usize) -> Result<Vec<String>, String> {
    if items.len() > max_items {
        return Err(format!("at most {max_items} items"));
    }
    let mut out = Vec::with_capacity(items.len());
    for raw in items {
        if raw.trim().is_empty() || raw.chars().count() > 100 || raw.chars().any(char::is_control) {
            return Err("each must be 1 to 100 characters".into());
        }
        let item = raw.trim().to_lowercase();
        if !out.contains(&item) {
            out.push(item);
        }
    }
    Ok(out)
}

/// An absolute http(s) URL.
pub fn check_url(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    if raw.len() > 2000 {
        return Err("must be at most 2000 characters".into());
    }
    match url::Url::parse(raw) {
        Ok(u) if (u.scheme() == "http" || u.scheme() == "https") && u.host_str().is_some() => Ok(u.to_string()),
        Ok(_) => Err("must be an http or https URL".into()),
        Err(e) => Err(format!("must be an absolute http or https URL ({e})")),
    }
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A provider for tests: JSON, enabled, every minute, no filters, no threshold.
#[cfg(test)]
pub(crate) fn sample_provider(name: &str, display: &str, depends_on: &[&str]) -> Provider {
    Provider {
        name: name.into(),
        display_name: display.into(),
        feed_url: "https://example.com".into(),
        kind: ProviderType::Json,
        interval_secs: 60,
        enabled: true,
        components: vec![],
        regions: vec![],
        incident_threshold: None,
        mitigate_on_resolve: true,
        depends_on: depends_on.iter().map(|d| d.to_string()).collect(),
        probe: ProbeSettings::default(),
        created_at: 0,
        updated_at: 0,
        version: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(title: &str, components: &[&str]) -> ProviderEvent {
        ProviderEvent {
            external_id: "x".into(),
            title: title.into(),
            status: "investigating".into(),
            impact: Impact::Major,
            components: components.iter().map(|c| c.to_string()).collect(),
            regions: vec![],
            started_at: None,
            updated_at: None,
            ended_at: None,
            url: None,
            updates: vec![],
        }
    }

    fn provider() -> Provider {
        Provider { incident_threshold: Some(Impact::Major), ..sample_provider("cloudflare", "Cloudflare", &[]) }
    }

    #[test]
    fn thresholds_never_raise_for_maintenance_and_compare_impacts() {
        let p = provider();
        assert!(p.raises_incident(Impact::Critical));
        assert!(p.raises_incident(Impact::Major));
        assert!(!p.raises_incident(Impact::Minor));
        assert!(!p.raises_incident(Impact::Maintenance));
        assert!(!Provider { incident_threshold: None, ..provider() }.raises_incident(Impact::Critical));
    }

    #[test]
    fn filters_match_components_or_the_title() {
        let p = Provider { components: vec!["cdn".into()], ..provider() };
        assert!(p.wants(&event("Errors", &["CDN/Cache"])));
        assert!(p.wants(&event("CDN errors in Europe", &[])));
        assert!(!p.wants(&event("Dashboard slow", &["Dashboard"])));
    }

    #[test]
    fn ids_are_stable_and_url_safe() {
        let a = StoredEvent::id_for("aws", "arn:aws:health:us-east-1::event/EC2/1 2");
        assert_eq!(a, StoredEvent::id_for("aws", "arn:aws:health:us-east-1::event/EC2/1 2"));
        assert!(a.starts_with("aws.") && a.len() == 16 && a.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.'));
    }

    #[test]
    fn names_and_urls_are_checked() {
        assert_eq!(check_name(" GitHub ").as_deref(), Ok("github"));
        assert!(check_name("").is_err() && check_name("a b").is_err() && check_name("-x").is_err());
        assert!(check_url("https://status.example.com/api").is_ok());
        assert!(check_url("ftp://x").is_err() && check_url("nope").is_err());
    }

    #[test]
    fn list_items_are_lines_counted_in_characters_as_sent() {
        let list = |items: &[&str]| check_list(&items.iter().map(|i| i.to_string()).collect::<Vec<_>>(), 50);
        assert_eq!(list(&[" CDN ", "cdn", "Région"]), Ok(vec!["cdn".to_string(), "région".to_string()]));
        assert!(list(&["é".repeat(100).as_str()]).is_ok(), "100 characters, 200 bytes");
        assert!(list(&["x".repeat(101).as_str()]).is_err());
        assert!(list(&["\tcdn"]).is_err() && list(&["cdn\n"]).is_err(), "control characters, even around");
        assert!(list(&["  "]).is_err() && list(&[""]).is_err());
    }
}
