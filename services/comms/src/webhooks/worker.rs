//! The two fan-out workers. Fan-out reads the event stream through a consumer group (replicas
//! share it; an event is acknowledged only after its deliveries are stored, and storing one is
//! idempotent) and turns each event into one delivery per interested endpoint, and each
//! announcement into one mail per confirmed subscriber. Delivery claims
//! due deliveries, sends them signed, and reschedules failures on the retry schedule.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use platform::events::CloudEvent;
use redis::AsyncCommands;
use redis::streams::{StreamReadOptions, StreamReadReply};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::delivery::{Attempt, Delivery, DeliveryState};
use super::endpoint::Endpoint;
use super::network::{FilteringResolver, NetworkPolicy};
use super::{payload, signing};
use crate::store::RedisStore;

const GROUP: &str = "webhooks";

#[derive(Debug, Clone, Deserialize)]
pub struct WebhookSettings {
    /// Delay before each retry, in milliseconds (5 s, 5 min, 30 min, 2 h, 5 h, 10 h).
    pub retry_schedule_ms: Vec<u64>,
    pub timeout_ms: u64,
    /// Internal networks webhooks may nevertheless reach (`10.0.0.0/8`, `127.0.0.1/32`).
    pub allowed_networks: Vec<String>,
    /// An endpoint failing without a success for this long is disabled (5 days).
    pub disable_after_failing_secs: i64,
    /// Deliveries in flight at once.
    pub concurrency: usize,
    pub poll_interval_ms: u64,
    /// A claimed delivery becomes due again after this long if its worker vanished.
    pub visibility_timeout_ms: i64,
    /// Stable per replica (the fan-out consumer name).
    pub consumer: String,
}

/// Sends webhooks.
#[derive(Clone)]
pub struct Dispatcher {
    store: RedisStore,
    composer: crate::email::compose::Composer,
    client: reqwest::Client,
    settings: Arc<WebhookSettings>,
    public_url: String,
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A receiver's `Retry-After`, in seconds.
pub fn retry_after_secs(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    headers.get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok())
}

/// When to try again after attempt number `attempts` failed: the schedule's next delay, or
/// longer when the receiver asked (`Retry-After`); `None` once the schedule is used up.
pub fn retry_at_ms(schedule: &[u64], attempts: u32, retry_after_secs: Option<u64>) -> Option<i64> {
    let planned = *schedule.get((attempts as usize).checked_sub(1)?)?;
    let asked = retry_after_secs.map_or(0, |s| s.saturating_mul(1000));
    Some(now_ms() + planned.max(asked) as i64)
}

impl Dispatcher {
    pub fn new(
        store: RedisStore,
        settings: WebhookSettings,
        policy: NetworkPolicy,
        composer: crate::email::compose::Composer,
    ) -> anyhow::Result<Self> {
        let public_url = composer.public_url.clone();
        let client = platform::http_client::builder(Duration::from_millis(settings.timeout_ms))
            .dns_resolver(Arc::new(FilteringResolver(Arc::new(policy))))
            .build()?;
        Ok(Self { store, composer, client, settings: Arc::new(settings), public_url })
    }

    /// A delivery of `event` to `endpoint` (message id stable per event and endpoint).
    pub fn delivery_for(endpoint: &Endpoint, event: &CloudEvent, raw_event: String) -> Delivery {
        Delivery {
            id: format!("{}-{}", event.id, endpoint.id),
            msg_id: format!("msg_{}", event.id.replace('-', "")),
            endpoint_id: endpoint.id.clone(),
            event_type: event.event_type.clone(),
            event: raw_event,
            attempts: 0,
            state: DeliveryState::Pending,
            created_at: now(),
        }
    }

    /// Turns events into deliveries until `stop`. `fanout_conn` is a connection of its own:
    /// blocking stream reads must not hold up the shared one.
    pub async fn run_fanout(self, fanout: RedisStore, stop: CancellationToken) {
        let mut backoff = Duration::from_millis(200);
        while !stop.is_cancelled() {
            match self.fanout_round(&fanout).await {
                Ok(()) => backoff = Duration::from_millis(200),
                Err(e) => {
                    tracing::warn!(error = %e, "webhook fan-out paused");
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
        }
    }

    async fn fanout_round(&self, fanout: &RedisStore) -> anyhow::Result<()> {
        let stream = fanout.keys.fanout();
        let mut conn = fanout.conn();
        let created: redis::RedisResult<()> = conn.xgroup_create_mkstream(&stream, GROUP, "0").await;
        if let Err(e) = created
            && e.code() != Some("BUSYGROUP")
        {
            return Err(e.into());
        }
        let consumer = &self.settings.consumer;
        let pending: StreamReadReply = conn
            .xread_options(&[&stream], &["0"], &StreamReadOptions::default().group(GROUP, consumer).count(100))
            .await?;
        let mut entries: Vec<_> = pending.keys.into_iter().flat_map(|k| k.ids).collect();
        if entries.is_empty() {
            let fresh: StreamReadReply = conn
                .xread_options(
                    &[&stream],
                    &[">"],
                    &StreamReadOptions::default().group(GROUP, consumer).count(100).block(1000),
                )
                .await?;
            entries = fresh.keys.into_iter().flat_map(|k| k.ids).collect();
        }
        if entries.is_empty() {
            return Ok(());
        }
        let endpoints: Vec<Endpoint> = self.store.webhooks().await?.into_iter().filter(|e| e.enabled).collect();
        for entry in entries {
            if let Some(raw) = entry.get::<String>("event")
                && let Ok(event) = serde_json::from_str::<CloudEvent>(&raw)
            {
                for endpoint in endpoints.iter().filter(|e| e.wants(&event)) {
                    self.store.enqueue(&Self::delivery_for(endpoint, &event, raw.clone()), now_ms()).await?;
                }
                if let Some(incident) = event.subject.as_deref()
                    && let Some(line) = crate::chatops::posts::thread_line(&event)
                    && self.store.slack_thread(incident).await?.is_some()
                {
                    // The incident was declared in Slack: its timeline goes to that thread.
                    let mut post = crate::chatops::posts::Post::new(format!("{}-thread", event.id), "", line);
                    post.in_thread_of = Some(incident.to_string());
                    self.store.enqueue_post(&post, now_ms()).await?;
                }
                if event.event_type == "announcement.published" {
                    let incident = event.data["announcement"]["incident_id"].as_str();
                    for subscriber in self.store.confirmed_subscribers(incident).await? {
                        if let Some(mail) = self.composer.announcement(&event, &subscriber) {
                            self.store.enqueue_mail(&mail).await?;
                        }
                    }
                }
            }
            let _: () = conn.xack(&stream, GROUP, &[&entry.id]).await?;
        }
        Ok(())
    }

    /// Sends due deliveries until `stop`.
    pub async fn run_deliveries(self, stop: CancellationToken) {
        let poll = Duration::from_millis(self.settings.poll_interval_ms);
        while !stop.is_cancelled() {
            let claimed = match self
                .store
                .claim_deliveries(now_ms(), self.settings.concurrency * 4, self.settings.visibility_timeout_ms)
                .await
            {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook deliveries paused");
                    Vec::new()
                }
            };
            if claimed.is_empty() {
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(poll) => {}
                }
                continue;
            }
            futures_util::stream::iter(claimed)
                .for_each_concurrent(self.settings.concurrency, |d| {
                    let this = self.clone();
                    async move {
                        if let Err(e) = this.deliver(d).await {
                            tracing::warn!(error = %e, "webhook delivery not recorded; it will be retried");
                        }
                    }
                })
                .await;
        }
    }

    /// One attempt at `delivery`.
    async fn deliver(&self, mut delivery: Delivery) -> anyhow::Result<()> {
        let Some(mut endpoint) = self.store.webhook(&delivery.endpoint_id).await?.filter(|e| e.enabled) else {
            self.store.drop_delivery(&delivery.id).await?;
            return Ok(());
        };
        let event: CloudEvent = serde_json::from_str(&delivery.event)?;
        let link = event.subject.as_ref().map(|s| format!("{}/api/v1/public/incidents/{s}", self.public_url));
        let body = serde_json::to_vec(&payload::body(endpoint.kind, &event, link.as_deref()))?;
        let timestamp = now();
        let signatures: Vec<String> = endpoint
            .signing_secrets(timestamp)
            .into_iter()
            .filter_map(|secret| signing::sign(secret, &delivery.msg_id, timestamp, &body).ok())
            .collect();
        let started = Instant::now();
        let sent = self
            .client
            .post(&endpoint.url)
            .header("content-type", "application/json")
            .header("webhook-id", &delivery.msg_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signatures.join(" "))
            .body(body)
            .send()
            .await;
        let duration_ms = started.elapsed().as_millis() as u64;
        delivery.attempts += 1;
        let (status_code, retry_after, excerpt, error) = match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = retry_after_secs(response.headers());
                let text = response.text().await.unwrap_or_default();
                (Some(status), retry_after, Some(text.chars().take(500).collect::<String>()), None)
            }
            Err(e) => (None, None, None, Some(if e.is_timeout() { "timed out".to_string() } else { e.to_string() })),
        };
        let succeeded = status_code.is_some_and(|s| (200..300).contains(&s));
        let retryable = match status_code {
            None => true,
            Some(s) => s >= 500 || s == 429 || s == 408,
        };
        let retry_at = if !succeeded && retryable {
            retry_at_ms(&self.settings.retry_schedule_ms, delivery.attempts, retry_after)
        } else {
            None
        };
        delivery.state = match (succeeded, retry_at) {
            (true, _) => DeliveryState::Succeeded,
            (false, Some(_)) => DeliveryState::Pending,
            (false, None) => DeliveryState::Failed,
        };
        let outcome = match delivery.state {
            DeliveryState::Succeeded => "succeeded",
            DeliveryState::Pending => "retrying",
            DeliveryState::Failed => "failed",
        };
        let attempt = Attempt {
            delivery_id: delivery.id.clone(),
            msg_id: delivery.msg_id.clone(),
            event_type: delivery.event_type.clone(),
            attempt: delivery.attempts,
            ts: timestamp,
            status_code,
            duration_ms,
            outcome: outcome.into(),
            error: error.or_else(|| {
                (300..400).contains(&status_code.unwrap_or(0)).then(|| "redirects are not followed".into())
            }),
            response_excerpt: excerpt,
        };
        self.store.record_attempt(&delivery, &attempt, retry_at).await?;

        // Keep the endpoint's health: 410 means gone for good; a long run of failures disables it.
        let before = endpoint.clone();
        if succeeded {
            endpoint.failing_since = None;
        } else {
            let since = *endpoint.failing_since.get_or_insert(timestamp);
            if status_code == Some(410) {
                endpoint.enabled = false;
                endpoint.disabled_reason = Some("the receiver answered 410 Gone".into());
            } else if timestamp - since >= self.settings.disable_after_failing_secs {
                endpoint.enabled = false;
                endpoint.disabled_reason = Some("every delivery failed for too long".into());
            }
        }
        if endpoint != before {
            endpoint.updated_at = timestamp;
            self.store.save_webhook(&endpoint).await?;
            if !endpoint.enabled {
                tracing::warn!(endpoint = %endpoint.id, reason = ?endpoint.disabled_reason, "webhook endpoint disabled");
            }
        }
        Ok(())
    }
}
