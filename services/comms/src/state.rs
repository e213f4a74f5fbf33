//! What handlers share, built once at startup.

use crate::incidents_client::IncidentsClient;
use crate::snapshot::PublicPages;
use crate::store::RedisStore;

pub struct AppState {
    pub store: RedisStore,
    pub incidents: IncidentsClient,
    pub pages: PublicPages,
    /// Checks webhook URLs at registration.
    pub network: crate::webhooks::network::NetworkPolicy,
    pub composer: crate::email::compose::Composer,
    pub confirmation_interval_secs: i64,
    pub chatops: crate::chatops::ChatOps,
}

impl AppState {
    /// Rebuilds the public pages after a change made here. The change is stored either way; if
    /// the rebuild fails the refresher catches up within a moment.
    pub async fn refresh_pages(&self) {
        if let Err(e) = self.pages.refresh().await {
            tracing::warn!(error = %e, "public pages not rebuilt after a change; the refresher will retry");
        }
    }
}

/// The `source` of every event this service emits.
pub const EVENT_SOURCE: &str = "/polystatus/comms";
