//! Internal incidents from provider events: raise one per event at or above the provider's
//! threshold (never two, also with concurrent refreshes and several replicas), post the
//! provider's updates to its timeline, mark it mitigated when the provider resolves; and link
//! open incidents to the provider events that probably caused them.
//!
//! Work is queued in Redis (`sync`) by the poll that changed an event and done at once when it
//! can be; what fails (the incidents service down, say) stays queued and is retried every tick.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::correlate::{self, IncidentFacts, Names};
use crate::domain::{IncidentSync, Provider, StoredEvent, now};
use crate::event::Impact;
use crate::poller::Ingestor;
use crate::store::{Claim, StoreError};

/// Pending events handled per tick.
const BATCH: usize = 50;
/// The worker leaves work this young (ms) to the poll that queued it.
const INLINE_GRACE_MS: i64 = 3000;
/// Below this confidence an open incident is not linked to a provider event automatically.
pub const LINK_CONFIDENCE: f64 = 0.4;

/// The incident severity for a provider impact: critical → 1, major → 2, minor → 3, none → 4.
pub fn severity(impact: Impact) -> i64 {
    match impact {
        Impact::Critical => 1,
        Impact::Major => 2,
        Impact::Minor => 3,
        Impact::None | Impact::Maintenance => 4,
    }
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

impl Ingestor {
    /// Does the incident work of one event now; the id of an incident it raised.
    pub async fn sync_event(&self, event_id: &str) -> Option<String> {
        let queued_at = chrono::Utc::now().timestamp_millis();
        match self.sync_locked(event_id, queued_at, true).await {
            Ok(raised) => raised,
            Err(e) => {
                tracing::warn!(event = event_id, error = %e, "incident work not done; retried later");
                None
            }
        }
    }

    /// Takes the event's lock and does its work, leaving it queued if anything is left. With
    /// `wait` (a refresh, which answers with what it did) it waits a few seconds for the worker
    /// holding the lock; the worker itself skips a locked event and comes back to it.
    async fn sync_locked(&self, event_id: &str, queued_at: i64, wait: bool) -> Result<Option<String>, StoreError> {
        let holder = format!("{}:{}", self.holder, uuid::Uuid::new_v4().simple());
        let waited = std::time::Instant::now();
        while !self.store.lock_sync(event_id, &holder).await? {
            if !wait || waited.elapsed() > Duration::from_secs(5) {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let outcome = self.sync_one(event_id).await;
        self.store.unlock_sync(event_id, &holder).await?;
        let (done, raised) = outcome?;
        if done {
            self.store.sync_done(event_id, queued_at).await?;
        }
        Ok(raised)
    }

    /// `(everything done, incident raised now)`.
    async fn sync_one(&self, event_id: &str) -> Result<(bool, Option<String>), StoreError> {
        let Some(event) = self.store.event(event_id).await? else { return Ok((true, None)) };
        let Some(provider) = self.store.provider(&event.provider).await? else { return Ok((true, None)) };
        let mut sync = self.store.incident_sync(event_id).await?;
        let mut raised = None;
        let incident = match sync.incident_id.clone() {
            Some(id) => id,
            None if event.is_active() && provider.raises_incident(event.event.impact) => {
                match self.store.claim_incident(event_id, now()).await? {
                    Claim::Pending => return Ok((false, None)),
                    Claim::Raised(id) => {
                        sync = IncidentSync { incident_id: Some(id.clone()), ..sync };
                        id
                    }
                    Claim::Mine => match self.incidents.create(incident_body(&provider, &event)).await {
                        Ok(id) => {
                            self.store.settle_claim(event_id, Some(&id)).await?;
                            sync = IncidentSync {
                                incident_id: Some(id.clone()),
                                posted_updates: event.event.updates.len(),
                                mitigated: false,
                            };
                            self.store.save_incident_sync(event_id, &sync).await?;
                            tracing::info!(event = event_id, incident = %id, "internal incident raised");
                            raised = Some(id.clone());
                            id
                        }
                        Err(e) => {
                            self.store.settle_claim(event_id, None).await?;
                            tracing::warn!(event = event_id, error = %e, "incident not raised; retried later");
                            return Ok((false, None));
                        }
                    },
                }
            }
            // Below the threshold, or over before it was raised: nothing to do.
            None => return Ok((true, None)),
        };
        let done = self.follow_up(&provider, &event, &incident, &mut sync).await?;
        self.store.save_incident_sync(event_id, &sync).await?;
        Ok((done, raised))
    }

    /// Links the incident to its event, posts new provider updates, mitigates on resolution.
    async fn follow_up(
        &self,
        provider: &Provider,
        event: &StoredEvent,
        incident: &str,
        sync: &mut IncidentSync,
    ) -> Result<bool, StoreError> {
        if self.store.mark_linked(incident, &event.id).await? {
            let link = json!({
                "provider": provider.name, "event_id": event.id, "title": clip(&event.event.title, 500),
                "url": event.event.url, "evidence": "raised from this provider event",
            });
            if let Err(e) = self.incidents.link(incident, link).await {
                self.store.unmark_linked(incident, &event.id).await?;
                tracing::warn!(incident, error = %e, "provider event not linked; retried later");
                return Ok(false);
            }
        }
        let mut updates: Vec<_> = event.event.updates.iter().collect();
        updates.sort_by_key(|u| u.at);
        for update in updates.iter().skip(sync.posted_updates) {
            let message =
                clip(&format!("{} update ({}): {}", provider.display_name, update.status, update.body.trim()), 10_000);
            if let Err(e) = self.incidents.post_update(incident, &message).await {
                tracing::warn!(incident, error = %e, "provider update not posted; retried later");
                return Ok(false);
            }
            sync.posted_updates += 1;
        }
        if !event.is_active() && provider.mitigate_on_resolve && !sync.mitigated {
            let reason = format!("{} resolved \"{}\"", provider.display_name, clip(&event.event.title, 200));
            match self.incidents.mitigate(incident, &reason).await {
                Ok(_) => sync.mitigated = true,
                Err(e) => {
                    tracing::warn!(incident, error = %e, "incident not marked mitigated; retried later");
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// Does the queued incident work, a batch at a time. Work queued in the last seconds is left
    /// to the poll that queued it, which does it at once and reports what it raised.
    pub async fn sync_pending(&self) -> Result<(), StoreError> {
        let settled = chrono::Utc::now().timestamp_millis() - INLINE_GRACE_MS;
        for (id, queued_at) in self.store.sync_pending(settled, BATCH).await? {
            if let Err(e) = self.sync_locked(&id, queued_at, false).await {
                tracing::warn!(event = %id, error = %e, "incident work not done; retried later");
            }
        }
        Ok(())
    }

    /// Links open internal incidents to the active provider events that probably caused them,
    /// through the providers their services declare.
    pub async fn link_open_incidents(&self) -> Result<usize, StoreError> {
        let services = self.store.services().await?;
        if services.is_empty() {
            return Ok(0);
        }
        let active = self.store.active_events().await?;
        if active.is_empty() {
            return Ok(0);
        }
        let providers = self.store.providers().await?;
        let names = Names::new(&providers);
        let now = now();
        let mut linked = 0;
        for service in &services {
            if !service.depends_on.iter().any(|d| active.iter().any(|e| e.provider == d.provider)) {
                continue;
            }
            let open = match self.incidents.open_for_service(&service.name).await {
                Ok(open) => open,
                Err(e) => {
                    tracing::warn!(service = %service.name, error = %e, "open incidents not read; retried later");
                    continue;
                }
            };
            for incident in open {
                let facts = IncidentFacts {
                    services: &incident.services,
                    started_at: incident.started_at,
                    ended_at: incident.resolved_at,
                    text: format!("{} {}", incident.title, incident.summary).to_lowercase(),
                };
                let causes = correlate::causes(
                    &names,
                    std::slice::from_ref(service),
                    &facts,
                    &active,
                    self.correlation.window_secs,
                    now,
                );
                for cause in causes.into_iter().filter(|c| c.confidence >= LINK_CONFIDENCE) {
                    if !self.store.mark_linked(&incident.id, &cause.event.id).await? {
                        continue;
                    }
                    let link = json!({
                        "provider": cause.event.provider, "event_id": cause.event.id,
                        "title": clip(&cause.event.title, 500), "url": cause.event.url,
                        "evidence": clip(&format!("probably caused by it (confidence {:.2}): {}",
                            cause.confidence, cause.evidence.join("; ")), 2000),
                    });
                    match self.incidents.link(&incident.id, link).await {
                        Ok(()) => linked += 1,
                        Err(e) => {
                            self.store.unmark_linked(&incident.id, &cause.event.id).await?;
                            tracing::warn!(incident = %incident.id, error = %e, "cause not linked; retried later");
                        }
                    }
                }
            }
        }
        Ok(linked)
    }

    /// Does queued incident work every tick and links open incidents every scan interval.
    pub async fn run_incident_work(self: Arc<Self>, stop: CancellationToken) {
        let mut tick = tokio::time::interval(Duration::from_millis(self.polling.tick_ms));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let scan_every = Duration::from_secs(self.correlation.incident_scan_secs);
        let mut last_scan: Option<tokio::time::Instant> = None;
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = tick.tick() => {}
            }
            if let Err(e) = self.sync_pending().await {
                tracing::warn!(error = %e, "incident work queue not read; retrying next tick");
            }
            if last_scan.is_none_or(|t| t.elapsed() >= scan_every) {
                last_scan = Some(tokio::time::Instant::now());
                if let Err(e) = self.link_open_incidents().await {
                    tracing::warn!(error = %e, "open incidents not linked; retrying next scan");
                }
            }
        }
    }
}

/// The incident raised from an event.
fn incident_body(provider: &Provider, event: &StoredEvent) -> serde_json::Value {
    let e = &event.event;
    let mut summary = format!(
        "Raised automatically from {}'s status event \"{}\" ({}, impact {}).",
        provider.display_name,
        e.title,
        e.status,
        serde_json::to_value(e.impact).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
    );
    if !e.components.is_empty() {
        summary.push_str(&format!("\nAffected: {}.", e.components.join(", ")));
    }
    if let Some(url) = &e.url {
        summary.push_str(&format!("\n{url}"));
    }
    if let Some(latest) = event.latest_update() {
        summary.push_str(&format!("\n\nLatest update ({}): {}", latest.status, latest.body.trim()));
    }
    json!({
        "title": clip(&format!("{}: {}", provider.display_name, e.title), 200),
        "sev": severity(e.impact),
        "source": "csp",
        "services": [provider.name],
        "summary": clip(&summary, 10_000),
        "started_at": event.ts_start().min(now()),
    })
}
