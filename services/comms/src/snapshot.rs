//! The public pages, precomputed: every public document is built as bytes with a content ETag
//! whenever public data changes, so a public read is a memory lookup (and keeps working while
//! Redis or the incidents service is down).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use actix_web::web::Bytes;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;

use crate::domain::{Announcement, Banner, KnownIncident};
use crate::settings::PublicSettings;
use crate::store::{PublicData, RedisStore};

/// How many of the most recent incidents the public pages cover.
pub const PUBLIC_INCIDENTS: isize = 200;

/// One public document.
#[derive(Debug, Clone)]
pub struct Doc {
    pub body: Bytes,
    pub etag: String,
    pub content_type: &'static str,
}

impl Doc {
    pub fn json(value: &impl Serialize) -> Self {
        Self::new(serde_json::to_vec(value).unwrap_or_default(), "application/json")
    }

    pub fn new(body: Vec<u8>, content_type: &'static str) -> Self {
        let digest = Sha256::digest(&body);
        let etag = format!("\"{}\"", platform::hex(&digest[..12]));
        Self { body: Bytes::from(body), etag, content_type }
    }
}

/// The last public message of an incident (the reference `last_public`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LastPublic {
    pub ts: i64,
    pub message: String,
    pub state: crate::domain::AnnouncementState,
}

/// An incident on the public status (the reference `PublicIncidentStatus`, plus a few fields).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicIncidentStatus {
    #[schema(example = "INC-4F2A9C")]
    pub id: String,
    pub title: String,
    pub sev: u8,
    /// open, mitigated or resolved.
    pub status: String,
    pub last_public: Option<LastPublic>,
    pub services: Vec<String>,
    pub started_at: i64,
    pub resolved_at: Option<i64>,
}

/// An incident with every announcement.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicIncident {
    #[serde(flatten)]
    pub status: PublicIncidentStatus,
    pub announcements: Vec<Announcement>,
}

/// Every public document at one version of the data.
pub struct Snapshot {
    pub version: u64,
    pub status: Doc,
    pub incidents: HashMap<String, Doc>,
    pub statuspage: crate::statuspage::Documents,
    pub rss: Doc,
    pub atom: Doc,
    pub banner: Option<Banner>,
}

fn status_of(incident: &KnownIncident, announcements: &[Announcement]) -> PublicIncidentStatus {
    PublicIncidentStatus {
        id: incident.id.clone(),
        title: incident.title.clone(),
        sev: incident.sev,
        status: incident.status.clone(),
        last_public: announcements.last().map(|a| LastPublic { ts: a.ts, message: a.message.clone(), state: a.state }),
        services: incident.services.clone(),
        started_at: incident.started_at,
        resolved_at: incident.resolved_at,
    }
}

/// Builds every public document from `data`.
pub fn build(data: &PublicData, settings: &PublicSettings, public_url: &str, now: i64) -> Snapshot {
    let recent = now - settings.recent_days * 86_400;
    let shown: Vec<PublicIncidentStatus> = data
        .incidents
        .iter()
        .filter(|(i, _)| !i.is_resolved() || i.resolved_at.unwrap_or(i.updated_at) >= recent)
        .map(|(i, a)| status_of(i, a))
        .collect();
    let incidents = data
        .incidents
        .iter()
        .map(|(i, a)| (i.id.clone(), Doc::json(&PublicIncident { status: status_of(i, a), announcements: a.clone() })))
        .collect();
    Snapshot {
        version: data.version,
        status: Doc::json(&shown),
        incidents,
        statuspage: crate::statuspage::documents(data, &settings.page_name, public_url, now),
        rss: Doc::new(
            crate::feeds::rss(data, &settings.page_name, public_url).into_bytes(),
            "application/rss+xml; charset=utf-8",
        ),
        atom: Doc::new(
            crate::feeds::atom(data, &settings.page_name, public_url, now).into_bytes(),
            "application/atom+xml; charset=utf-8",
        ),
        banner: data.banner.clone(),
    }
}

/// The current snapshot, shared by every worker, rebuilt on change.
#[derive(Clone)]
pub struct PublicPages {
    current: Arc<RwLock<Arc<Snapshot>>>,
    store: RedisStore,
    settings: PublicSettings,
    public_url: String,
    rebuilding: Arc<tokio::sync::Mutex<()>>,
}

impl PublicPages {
    pub fn new(store: RedisStore, settings: PublicSettings, public_url: String) -> Self {
        let empty = PublicData { version: 0, incidents: Vec::new(), components: Vec::new(), banner: None };
        let initial = build(&empty, &settings, &public_url, chrono::Utc::now().timestamp());
        Self {
            current: Arc::new(RwLock::new(Arc::new(initial))),
            store,
            settings,
            public_url,
            rebuilding: Arc::default(),
        }
    }

    pub fn settings(&self) -> &PublicSettings {
        &self.settings
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    pub fn current(&self) -> Arc<Snapshot> {
        Arc::clone(&self.current.read().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Rebuilds from Redis now (after a change made here, so the writer reads its write).
    pub async fn refresh(&self) -> Result<(), crate::store::StoreError> {
        let _one_at_a_time = self.rebuilding.lock().await;
        let data = self.store.public_data(PUBLIC_INCIDENTS).await?;
        let snapshot = build(&data, &self.settings, &self.public_url, chrono::Utc::now().timestamp());
        *self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(snapshot);
        Ok(())
    }

    /// Rebuilds whenever the public version in Redis moves (a change by any replica), and at
    /// least every minute (resolved incidents age off the page). Stops with `stop`.
    pub async fn keep_fresh(self, stop: CancellationToken) {
        let interval = Duration::from_millis(self.settings.refresh_interval_ms);
        let mut last_full = std::time::Instant::now();
        loop {
            let due = match self.store.version().await {
                Ok(v) => v != self.current().version || last_full.elapsed() > Duration::from_secs(60),
                Err(_) => false,
            };
            if due {
                match self.refresh().await {
                    Ok(()) => last_full = std::time::Instant::now(),
                    Err(e) => tracing::warn!(error = %e, "public pages not refreshed; serving the last good ones"),
                }
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(interval) => {}
            }
        }
    }
}

/// RFC 3339 with milliseconds, as Statuspage writes times.
pub fn iso(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
