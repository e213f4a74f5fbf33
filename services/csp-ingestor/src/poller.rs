//! Polling: one provider at a time under a Redis lease, and the scheduler that polls each one at
//! its interval with jitter, bounded concurrency and exponential backoff on failure.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;

use crate::adapters;
use crate::domain::{Health, PollState, Provider, now};
use crate::event::{EventUpdate, Impact, ProviderEvent};
use crate::fetch::{Fetched, Fetcher};
use crate::incidents_client::IncidentsClient;
use crate::ingest::{Counts, ingest};
use crate::settings::{CorrelationSettings, PollingSettings};
use crate::store::{RedisStore, StoreError};

/// Payloads larger than this are parsed off the async threads.
const PARSE_INLINE_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A new payload was read.
    Fetched,
    /// The provider answered 304: nothing changed.
    NotModified,
    /// The HTTP probe ran.
    Probed,
    /// The fetch or the payload failed; the last good events are kept.
    Failed,
    /// The provider is disabled.
    Skipped,
}

/// An internal incident raised during a refresh.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Raised {
    pub event_id: String,
    pub incident_id: String,
}

/// What a poll did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RefreshResult {
    #[schema(example = "cloudflare")]
    pub provider: String,
    pub outcome: Outcome,
    pub fetched: bool,
    pub not_modified: bool,
    pub http_status: Option<u16>,
    pub bytes: Option<u64>,
    pub events: Counts,
    pub incidents: Vec<Raised>,
    pub duration_ms: u64,
    pub errors: Vec<String>,
    pub health: Health,
    /// Epoch seconds.
    pub next_poll_at: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("no provider {0}")]
    Unknown(String),
    #[error("provider {0} is being polled and did not finish in time")]
    Busy(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<RefreshError> for platform::ApiError {
    fn from(e: RefreshError) -> Self {
        match e {
            RefreshError::Unknown(_) => platform::ApiError::not_found(e.to_string()),
            RefreshError::Busy(_) => platform::ApiError::Conflict(e.to_string()),
            RefreshError::Store(e) => e.into(),
        }
    }
}

/// Everything polling and incident work need, shared by the routes and the background tasks.
pub struct Ingestor {
    pub store: RedisStore,
    pub incidents: IncidentsClient,
    pub fetcher: Fetcher,
    pub polling: PollingSettings,
    pub correlation: CorrelationSettings,
    /// This replica's lease holder id.
    pub holder: String,
}

/// A random fraction in [0, 1).
fn random_unit() -> f64 {
    (uuid::Uuid::new_v4().as_u128() % 1_000_000) as f64 / 1_000_000.0
}

impl Ingestor {
    /// When a provider is next due after a poll, in epoch ms: its interval, doubled per
    /// consecutive failure up to the cap, moved by the jitter.
    pub fn next_due_ms(&self, provider: &Provider, failures: u32, now_ms: i64) -> i64 {
        let base = provider.interval_secs.max(1) as f64;
        let backoff = base * 2f64.powi(failures.min(16) as i32);
        let capped =
            if failures == 0 { base } else { backoff.min(self.polling.max_backoff_secs.max(1) as f64).max(base) };
        let jitter = capped * self.polling.jitter_ratio * (2.0 * random_unit() - 1.0);
        now_ms + ((capped + jitter) * 1000.0).round() as i64
    }

    /// Polls `name` now, waiting for a poll in progress elsewhere to finish first.
    pub async fn refresh(&self, name: &str) -> Result<RefreshResult, RefreshError> {
        let provider = self.store.provider(name).await?.ok_or_else(|| RefreshError::Unknown(name.to_string()))?;
        let holder = format!("{}:{}", self.holder, uuid::Uuid::new_v4().simple());
        let waited = Instant::now();
        while !self.store.take_lease(name, &holder, self.polling.lease_ms).await? {
            if waited.elapsed() > Duration::from_millis(self.polling.refresh_wait_ms) {
                return Err(RefreshError::Busy(name.to_string()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Read again under the lease: the poll that held it may have changed its state.
        let provider = self.store.provider(name).await?.unwrap_or(provider);
        let result = self.poll(&provider, true).await;
        if let Err(e) = self.store.release_lease(name, &holder).await {
            tracing::warn!(provider = name, error = %e, "lease not released; it expires by itself");
        }
        result.map_err(RefreshError::from)
    }

    /// Polls a provider; the caller holds its lease. `forced` polls a disabled one too.
    pub async fn poll(&self, provider: &Provider, forced: bool) -> Result<RefreshResult, StoreError> {
        let started = Instant::now();
        let now = now();
        let mut state = self.store.state(&provider.name).await?;
        let mut result = RefreshResult {
            provider: provider.name.clone(),
            outcome: Outcome::Skipped,
            fetched: false,
            not_modified: false,
            http_status: None,
            bytes: None,
            events: Counts::default(),
            incidents: Vec::new(),
            duration_ms: 0,
            errors: Vec::new(),
            health: state.health,
            next_poll_at: None,
        };
        let mut changed = Vec::new();
        if provider.enabled || forced {
            state.last_attempt_at = Some(now);
            let parsed = match provider.kind.format() {
                None => Some(self.probe(provider, &mut state, &mut result, now).await),
                Some(format) => self.fetch(provider, format, &mut state, &mut result).await,
            };
            if let Some(parsed) = parsed {
                let (counts, ids) = ingest(&self.store, provider, parsed, now).await?;
                result.events = counts;
                if !ids.is_empty() {
                    state.last_change_at = Some(now);
                }
                changed = ids;
            }
        }
        let duration = started.elapsed().as_millis() as u64;
        if provider.enabled || forced {
            state.last_duration_ms = Some(duration);
        }
        let next = self.next_due_ms(provider, state.consecutive_failures, chrono::Utc::now().timestamp_millis());
        state.next_poll_at = Some(next / 1000);
        self.store.save_state(&provider.name, &state, next).await?;
        // Incident work at once when it may raise or follow an incident; otherwise the worker
        // clears the queue.
        let incident_work = if provider.incident_threshold.is_some() { changed } else { Vec::new() };
        for id in incident_work {
            if let Some(incident_id) = self.sync_event(&id).await {
                result.incidents.push(Raised { event_id: id, incident_id });
            }
        }
        result.health = state.health;
        result.next_poll_at = state.next_poll_at;
        result.duration_ms = started.elapsed().as_millis() as u64;
        Ok(result)
    }

    /// Fetches and parses a feed; `None` when it failed or did not change.
    async fn fetch(
        &self,
        provider: &Provider,
        format: adapters::Format,
        state: &mut PollState,
        result: &mut RefreshResult,
    ) -> Option<Vec<ProviderEvent>> {
        let fetched =
            self.fetcher.fetch(&provider.feed_url, state.etag.as_deref(), state.last_modified.as_deref()).await;
        match fetched {
            Err(e) => {
                result.http_status = e.status();
                fail(state, result, e.to_string());
                None
            }
            Ok(Fetched::NotModified { status }) => {
                result.http_status = Some(status);
                result.outcome = Outcome::NotModified;
                result.not_modified = true;
                succeed(state);
                None
            }
            Ok(Fetched::Body { status, bytes, etag, last_modified }) => {
                result.http_status = Some(status);
                result.bytes = Some(bytes.len() as u64);
                state.last_bytes = Some(bytes.len() as u64);
                result.fetched = true;
                let parsed = if bytes.len() > PARSE_INLINE_BYTES {
                    tokio::task::spawn_blocking(move || adapters::parse(format, &bytes))
                        .await
                        .unwrap_or_else(|e| Err(crate::event::ParseError::UnknownShape(format!("parser failed: {e}"))))
                } else {
                    adapters::parse(format, &bytes)
                };
                match parsed {
                    Ok(events) => {
                        result.outcome = Outcome::Fetched;
                        state.etag = etag;
                        state.last_modified = last_modified;
                        succeed(state);
                        Some(events)
                    }
                    Err(e) => {
                        // Forget the validators, so the next poll reads the whole payload again.
                        state.etag = None;
                        state.last_modified = None;
                        fail(state, result, format!("unreadable payload: {e}"));
                        None
                    }
                }
            }
        }
    }

    /// Probes a URL. Enough consecutive failures open an event; the first success ends it.
    async fn probe(
        &self,
        provider: &Provider,
        state: &mut PollState,
        result: &mut RefreshResult,
        now: i64,
    ) -> Vec<ProviderEvent> {
        result.outcome = Outcome::Probed;
        let threshold = provider.probe.failures_to_open.max(1);
        let probed = self.fetcher.probe(&provider.feed_url, provider.probe.expected_text.as_deref()).await;
        // The probe reaching its target is the health of polling; the target being down is an event.
        succeed(state);
        match probed {
            Ok(p) => {
                result.http_status = Some(p.status);
                let was_open = state.probe_failures >= threshold;
                let since = state.probe_failing_since.take();
                let first = state.probe_last_failure.take();
                state.probe_failures = 0;
                match (was_open, since) {
                    (true, Some(since)) => {
                        let mut event = probe_event(provider, since, first.as_deref().unwrap_or("failed"), threshold);
                        let at = chrono::DateTime::from_timestamp(now, 0);
                        event.status = "resolved".into();
                        event.ended_at = at;
                        event.updated_at = at;
                        event.updates.push(EventUpdate {
                            at,
                            status: "resolved".into(),
                            body: format!("Answered HTTP {} in {} ms.", p.status, p.latency_ms),
                        });
                        vec![event]
                    }
                    _ => Vec::new(),
                }
            }
            Err(reason) => {
                result.errors.push(reason.clone());
                state.probe_failures = state.probe_failures.saturating_add(1);
                let since = *state.probe_failing_since.get_or_insert(now);
                let first = state.probe_last_failure.get_or_insert(reason).clone();
                if state.probe_failures >= threshold {
                    vec![probe_event(provider, since, &first, threshold)]
                } else {
                    Vec::new()
                }
            }
        }
    }

    /// Runs the scheduler until `stop`, then waits for the polls in progress.
    pub async fn run_scheduler(self: Arc<Self>, stop: CancellationToken) {
        let concurrency = self.polling.concurrency;
        let permits = Arc::new(Semaphore::new(concurrency));
        let mut tick = tokio::time::interval(Duration::from_millis(self.polling.tick_ms));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = tick.tick() => {}
            }
            if let Err(e) = self.start_due(&permits).await {
                tracing::warn!(error = %e, "scheduler could not read due providers; retrying next tick");
            }
        }
        let all = u32::try_from(concurrency).unwrap_or(u32::MAX);
        let _ = tokio::time::timeout(Duration::from_secs(30), permits.acquire_many(all)).await;
    }

    /// Starts a poll for each due provider this replica can lease, within the concurrency.
    pub async fn start_due(self: &Arc<Self>, permits: &Arc<Semaphore>) -> Result<usize, StoreError> {
        let free = permits.available_permits();
        if free == 0 {
            return Ok(0);
        }
        let now_ms = chrono::Utc::now().timestamp_millis();
        let mut started = 0;
        for name in self.store.due(now_ms, free * 2).await? {
            let Ok(permit) = permits.clone().try_acquire_owned() else { break };
            if !self.store.take_lease(&name, &self.holder, self.polling.lease_ms).await? {
                continue;
            }
            // Out of the due set until the poll reschedules it (or the lease runs out).
            self.store.postpone(&name, now_ms + self.polling.lease_ms as i64).await?;
            started += 1;
            let this = Arc::clone(self);
            tokio::spawn(async move {
                let _permit = permit;
                this.poll_scheduled(&name).await;
                if let Err(e) = this.store.release_lease(&name, &this.holder).await {
                    tracing::warn!(provider = %name, error = %e, "lease not released; it expires by itself");
                }
            });
        }
        Ok(started)
    }

    async fn poll_scheduled(&self, name: &str) {
        let provider = match self.store.provider(name).await {
            Ok(Some(p)) => p,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(provider = name, error = %e, "provider not read; retried after the lease");
                return;
            }
        };
        match self.poll(&provider, false).await {
            Ok(r) if !r.errors.is_empty() => {
                tracing::info!(provider = name, errors = ?r.errors, health = ?r.health, "poll failed")
            }
            Ok(r) => tracing::debug!(provider = name, outcome = ?r.outcome, events = ?r.events, "polled"),
            Err(e) => tracing::warn!(provider = name, error = %e, "poll not stored; retried after the lease"),
        }
    }
}

fn succeed(state: &mut PollState) {
    state.health = Health::Healthy;
    state.last_error = None;
    state.consecutive_failures = 0;
    state.last_success_at = state.last_attempt_at;
}

fn fail(state: &mut PollState, result: &mut RefreshResult, reason: String) {
    result.outcome = Outcome::Failed;
    state.health = Health::Unhealthy;
    state.consecutive_failures = state.consecutive_failures.saturating_add(1);
    state.last_error = Some(reason.clone());
    result.errors.push(reason);
}

/// The event an HTTP probe opens after `threshold` consecutive failures since `since`.
fn probe_event(provider: &Provider, since: i64, first_failure: &str, threshold: u32) -> ProviderEvent {
    let at = chrono::DateTime::from_timestamp(since, 0);
    ProviderEvent {
        external_id: format!("probe-{since}"),
        title: format!("{} is not answering as expected", provider.display_name),
        status: "investigating".into(),
        impact: Impact::Major,
        components: Vec::new(),
        regions: Vec::new(),
        started_at: at,
        updated_at: at,
        ended_at: None,
        url: Some(provider.feed_url.clone()),
        updates: vec![EventUpdate {
            at,
            status: "investigating".into(),
            body: format!("{threshold} consecutive probes failed. First failure: {first_failure}."),
        }],
    }
}
