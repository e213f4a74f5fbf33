//! How providers and events look on the wire.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{PollState, ProbeSettings, Provider, ProviderType, StoredEvent};
use crate::event::Impact;

/// A provider event: the reference fields (`provider`, `service`, `title`, `status`, `ts_start`,
/// `ts_update`) and the rest of the normalised event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventView {
    #[schema(example = "cloudflare.3f2a9c1b7d4e")]
    pub id: String,
    #[schema(example = "cloudflare")]
    pub provider: String,
    /// The first affected component, else the provider.
    #[schema(example = "cdn")]
    pub service: String,
    #[schema(example = "Elevated errors in Europe")]
    pub title: String,
    /// The provider's own word: investigating, identified, monitoring, resolved...
    #[schema(example = "investigating")]
    pub status: String,
    /// Epoch seconds.
    #[schema(example = 1730073600)]
    pub ts_start: i64,
    #[schema(example = 1730077200)]
    pub ts_update: i64,
    /// Set once the provider says it is over.
    pub ts_end: Option<i64>,
    pub active: bool,
    pub impact: Impact,
    pub components: Vec<String>,
    pub regions: Vec<String>,
    pub url: Option<String>,
    /// The provider's own id.
    pub external_id: String,
}

impl From<&StoredEvent> for EventView {
    fn from(e: &StoredEvent) -> Self {
        EventView {
            id: e.id.clone(),
            provider: e.provider.clone(),
            service: e.service(),
            title: e.event.title.clone(),
            status: e.event.status.clone(),
            ts_start: e.ts_start(),
            ts_update: e.ts_update(),
            ts_end: e.ts_end(),
            active: e.is_active(),
            impact: e.event.impact,
            components: e.event.components.clone(),
            regions: e.event.regions.clone(),
            url: e.event.url.clone(),
            external_id: e.event.external_id.clone(),
        }
    }
}

/// A provider with how its polling goes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProviderView {
    #[schema(example = "cloudflare")]
    pub name: String,
    #[schema(example = "Cloudflare")]
    pub display_name: String,
    #[schema(example = "https://www.cloudflarestatus.com/api/v2/summary.json")]
    pub feed_url: String,
    #[serde(rename = "type")]
    pub kind: ProviderType,
    pub interval_secs: u64,
    pub enabled: bool,
    pub components: Vec<String>,
    pub regions: Vec<String>,
    /// Events at or above this impact raise an internal incident; null: never.
    pub incident_threshold: Option<Impact>,
    pub mitigate_on_resolve: bool,
    pub depends_on: Vec<String>,
    pub probe: ProbeSettings,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: u64,
    pub state: PollState,
}

impl ProviderView {
    pub fn new(p: &Provider, state: PollState) -> Self {
        ProviderView {
            name: p.name.clone(),
            display_name: p.display_name.clone(),
            feed_url: p.feed_url.clone(),
            kind: p.kind,
            interval_secs: p.interval_secs,
            enabled: p.enabled,
            components: p.components.clone(),
            regions: p.regions.clone(),
            incident_threshold: p.incident_threshold,
            mitigate_on_resolve: p.mitigate_on_resolve,
            depends_on: p.depends_on.clone(),
            probe: p.probe.clone(),
            created_at: p.created_at,
            updated_at: p.updated_at,
            version: p.version,
            state,
        }
    }
}
