//! What the pages show, read leniently from the services' JSON (a field a service adds later
//! never breaks a page).

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ProviderLink {
    pub provider: String,
    pub event_id: String,
    pub title: Option<String>,
    pub url: Option<String>,
    pub evidence: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Incident {
    pub id: String,
    pub title: String,
    pub sev: u8,
    pub status: String,
    pub services: Vec<String>,
    pub summary: String,
    pub started_at: i64,
    pub commander: Option<String>,
    pub source: String,
    pub followers: Vec<String>,
    pub provider_events: Vec<ProviderLink>,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Actor {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TimelineEntry {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
    pub ts: i64,
    pub actor: Actor,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ActionItem {
    pub id: String,
    pub title: String,
    pub owner: Option<String>,
    pub due_date: Option<String>,
    pub done: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Postmortem {
    pub what_happened: String,
    pub root_cause: String,
    pub impact: String,
    pub detection: String,
    pub resolution: String,
    pub lessons_learned: String,
    pub published_at: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct User {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: String,
    pub team: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub role: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// The Slack app's settings, as comms shows them (secrets only as whether they are set).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SlackSettings {
    pub enabled: bool,
    pub signing_secret_set: bool,
    pub bot_token_set: bool,
    pub channels: Vec<String>,
    pub command: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SlackLink {
    pub slack_user: String,
    pub email: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CiSource {
    pub name: String,
    pub kind: String,
    pub webhook_path: String,
    pub branches: Vec<String>,
    pub raise_incidents: bool,
    pub sev: u8,
    pub slack_channel: Option<String>,
    pub notify_failures: bool,
    pub announce_deploys: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LastPublic {
    pub ts: i64,
    pub message: String,
    pub state: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PublicIncident {
    pub id: String,
    pub title: String,
    pub sev: u8,
    pub status: String,
    pub last_public: Option<LastPublic>,
    pub services: Vec<String>,
    pub started_at: i64,
    pub resolved_at: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Announcement {
    pub ts: i64,
    pub message: String,
    pub state: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Banner {
    pub message: String,
    pub level: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ProviderState {
    pub health: String,
    pub last_error: Option<String>,
    pub last_success_at: Option<i64>,
    pub next_poll_at: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Provider {
    pub name: String,
    pub display_name: String,
    pub feed_url: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub enabled: bool,
    pub interval_secs: u64,
    pub depends_on: Vec<String>,
    pub state: ProviderState,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ProviderEvent {
    pub id: String,
    pub provider: String,
    pub service: String,
    pub title: String,
    pub status: String,
    pub impact: String,
    pub ts_start: i64,
    pub ts_update: i64,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct KnownProvider {
    pub name: String,
    pub display_name: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Link {
    pub cause: String,
    pub cause_provider: String,
    pub effect: String,
    pub effect_provider: String,
    pub confidence: f64,
    pub evidence: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Dependency {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GraphProvider {
    pub name: String,
    pub display_name: String,
    pub health: String,
    pub active_events: usize,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Graph {
    pub providers: Vec<GraphProvider>,
    pub dependencies: Vec<Dependency>,
    pub events: Vec<ProviderEvent>,
    pub propagation: Vec<Link>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Flag {
    pub id: String,
    pub on: bool,
    pub kind: String,
    pub variations: Vec<String>,
    pub description: String,
    pub version: u64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub kind: String,
    pub enabled: bool,
    pub event_types: Vec<String>,
    pub disabled_reason: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Attempt {
    pub delivery_id: String,
    pub event_type: String,
    pub attempt: u32,
    pub ts: i64,
    pub status_code: Option<u16>,
    pub duration_ms: u64,
    pub outcome: String,
    pub error: Option<String>,
}

/// "2026-11-22 18:04 UTC" (templates call it by path; askama passes arguments by reference).
pub fn when(ts: &i64) -> String {
    chrono::DateTime::from_timestamp(*ts, 0).map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M UTC").to_string())
}

/// [`when`], or "never".
pub fn when_opt(ts: &Option<i64>) -> String {
    ts.as_ref().map_or_else(|| "never".into(), when)
}
