//! The outbox relay: delivers the CloudEvents a service appended to its outbox stream (in the
//! same transaction as the change) to a receiver, at least once, in order, surviving restarts.
//!
//! Entries are read through a consumer group, so one that was read but not acknowledged before
//! a crash is read again on restart (same consumer name) or claimed by another replica once idle.
//! An entry is acknowledged and deleted only after a 2xx. Network errors, timeouts, 5xx, 408 and
//! 429 are retried with exponential backoff; 401 renews the service token first; any other 4xx
//! is a permanent refusal and the event moves to a dead-letter stream, so one bad event cannot
//! block the rest.

use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use redis::streams::{StreamAutoClaimOptions, StreamAutoClaimReply, StreamId, StreamReadOptions, StreamReadReply};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::service_token::ServiceToken;

const GROUP: &str = "relay";
/// How long one read waits for new entries.
const BLOCK_MS: u64 = 1000;

/// Where and how events are delivered.
#[derive(Debug, Clone, Deserialize)]
pub struct RelaySettings {
    /// The receiver (`http://comms:8082/api/v1/events`). Empty: events stay in the outbox.
    pub target_url: String,
    /// Stable per replica, so a restarted replica resumes its own unacknowledged entries.
    pub consumer: String,
    /// Entries read at once.
    pub batch: usize,
    /// First retry delay; doubles up to `max_backoff_ms`.
    pub min_backoff_ms: u64,
    pub max_backoff_ms: u64,
    /// Timeout of one delivery.
    pub timeout_ms: u64,
    /// Another replica's unacknowledged entry is taken over after this long.
    pub claim_idle_ms: u64,
}

/// A service's `[events]` settings: where its relay delivers, and the API key it signs in with.
#[derive(Debug, Clone, Deserialize)]
pub struct EventSettings {
    #[serde(flatten)]
    pub relay: RelaySettings,
    pub token: crate::service_token::ServiceTokenSettings,
}

/// Delivers one outbox stream.
pub struct OutboxRelay {
    conn: ConnectionManager,
    stream: String,
    dead_letters: String,
    settings: RelaySettings,
    client: reqwest::Client,
    token: ServiceToken,
}

enum Delivery {
    Delivered,
    Retry(String),
    Refused(String),
}

impl OutboxRelay {
    /// The relay opens its own Redis connection: its blocking reads would otherwise hold up
    /// every other command on the service's shared, multiplexed one.
    pub fn new(
        redis: &crate::settings::RedisSettings,
        stream: String,
        settings: RelaySettings,
        token: ServiceToken,
    ) -> anyhow::Result<Self> {
        let mut own = redis.clone();
        own.response_timeout_ms = own.response_timeout_ms.max(BLOCK_MS + 2000);
        let conn = crate::redis::connect_lazy(&own)?;
        let client = crate::http_client::builder(Duration::from_millis(settings.timeout_ms)).build()?;
        let dead_letters = format!("{stream}:dead");
        Ok(Self { conn, stream, dead_letters, settings, client, token })
    }

    /// Runs until `stop` is cancelled, finishing the delivery in progress.
    pub async fn run(self, stop: CancellationToken) {
        if self.settings.target_url.is_empty() {
            tracing::info!(stream = %self.stream, "no event receiver configured; events stay in the outbox");
            return;
        }
        let mut backoff = self.min_backoff();
        while !stop.is_cancelled() {
            match self.round(&stop).await {
                Ok(()) => backoff = self.min_backoff(),
                Err(e) => {
                    tracing::warn!(stream = %self.stream, error = %e, retry_in_ms = backoff.as_millis() as u64, "outbox relay paused");
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(self.max_backoff());
                }
            }
        }
    }

    fn min_backoff(&self) -> Duration {
        Duration::from_millis(self.settings.min_backoff_ms)
    }

    fn max_backoff(&self) -> Duration {
        Duration::from_millis(self.settings.max_backoff_ms)
    }

    /// One pass: own pending entries, then idle ones of other consumers, then new ones.
    async fn round(&self, stop: &CancellationToken) -> anyhow::Result<()> {
        let mut conn = self.conn.clone();
        let created: redis::RedisResult<()> = conn.xgroup_create_mkstream(&self.stream, GROUP, "0").await;
        if let Err(e) = created
            && e.code() != Some("BUSYGROUP")
        {
            return Err(e.into());
        }
        let consumer = &self.settings.consumer;
        let pending: StreamReadReply = conn
            .xread_options(
                &[&self.stream],
                &["0"],
                &StreamReadOptions::default().group(GROUP, consumer).count(self.settings.batch),
            )
            .await?;
        let mut entries: Vec<StreamId> = pending.keys.into_iter().flat_map(|k| k.ids).collect();
        if entries.is_empty() {
            let claimed: StreamAutoClaimReply = conn
                .xautoclaim_options(
                    &self.stream,
                    GROUP,
                    consumer,
                    self.settings.claim_idle_ms,
                    "0-0",
                    StreamAutoClaimOptions::default().count(self.settings.batch),
                )
                .await?;
            entries = claimed.claimed;
        }
        if entries.is_empty() {
            let fresh: StreamReadReply = conn
                .xread_options(
                    &[&self.stream],
                    &[">"],
                    &StreamReadOptions::default()
                        .group(GROUP, consumer)
                        .count(self.settings.batch)
                        .block(BLOCK_MS as usize),
                )
                .await?;
            entries = fresh.keys.into_iter().flat_map(|k| k.ids).collect();
        }
        for entry in entries {
            self.deliver_until_done(&entry, stop).await?;
            if stop.is_cancelled() {
                break;
            }
        }
        Ok(())
    }

    /// Delivers one entry, retrying with backoff until it is delivered, refused, or the relay
    /// is stopped (it is then left pending for the next start).
    async fn deliver_until_done(&self, entry: &StreamId, stop: &CancellationToken) -> anyhow::Result<()> {
        let mut conn = self.conn.clone();
        let Some(body) = entry.get::<String>("event") else {
            // Not ours to interpret: acknowledge so it does not block the stream.
            let _: () = conn.xack(&self.stream, GROUP, &[&entry.id]).await?;
            return Ok(());
        };
        let mut backoff = self.min_backoff();
        loop {
            match self.deliver(&body).await {
                Delivery::Delivered => break,
                Delivery::Refused(why) => {
                    tracing::error!(entry = %entry.id, why, "event refused by the receiver; moved to the dead-letter stream");
                    let _: String =
                        conn.xadd(&self.dead_letters, "*", &[("event", body.as_str()), ("why", why.as_str())]).await?;
                    break;
                }
                Delivery::Retry(why) => {
                    tracing::warn!(entry = %entry.id, why, retry_in_ms = backoff.as_millis() as u64, "event delivery failed");
                    tokio::select! {
                        () = stop.cancelled() => return Ok(()),
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(self.max_backoff());
                }
            }
        }
        let _: () = redis::pipe()
            .atomic()
            .xack(&self.stream, GROUP, &[&entry.id])
            .xdel(&self.stream, &[&entry.id])
            .query_async(&mut conn)
            .await?;
        Ok(())
    }

    async fn deliver(&self, body: &str) -> Delivery {
        let mut request = self
            .client
            .post(&self.settings.target_url)
            .header("content-type", "application/cloudevents+json")
            .body(body.to_string());
        match self.token.bearer().await {
            Ok(Some(token)) => request = request.bearer_auth(token),
            Ok(None) => {}
            Err(e) => return Delivery::Retry(format!("no service token: {e:#}")),
        }
        match request.send().await {
            Ok(r) if r.status().is_success() => Delivery::Delivered,
            Ok(r) if r.status() == 401 => {
                self.token.invalidate().await;
                Delivery::Retry("401 from the receiver; renewing the service token".into())
            }
            Ok(r) if r.status().is_server_error() || matches!(r.status().as_u16(), 408 | 429) => {
                Delivery::Retry(format!("the receiver answered {}", r.status()))
            }
            Ok(r) => Delivery::Refused(format!("the receiver answered {}", r.status())),
            Err(e) => Delivery::Retry(format!("cannot reach the receiver: {e}")),
        }
    }
}
