//! The in-memory copy of every flag that evaluation reads: it never waits on Redis. It is kept
//! fresh by a pub/sub subscription announcing each new version, and by a version check every
//! `refresh_interval_ms` in case a message was missed (a reconnect, say).

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures_util::StreamExt;
use secrecy::ExposeSecret;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::domain::Flag;
use crate::store::{RedisStore, StoreError};

/// Every flag at one version.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub version: u64,
    pub flags: BTreeMap<String, Flag>,
}

/// A new version, and the flags it changed (added, edited or deleted).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Changed {
    pub version: u64,
    pub flags: Vec<String>,
}

#[derive(Clone)]
pub struct FlagCache {
    current: Arc<RwLock<Arc<Snapshot>>>,
    store: RedisStore,
    changes: broadcast::Sender<Changed>,
}

impl FlagCache {
    pub fn new(store: RedisStore) -> Self {
        let (changes, _) = broadcast::channel(64);
        Self { current: Arc::new(RwLock::new(Arc::new(Snapshot::default()))), store, changes }
    }

    /// The flags as this replica knows them.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        match self.current.read() {
            Ok(s) => Arc::clone(&s),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Told of every change this replica sees.
    pub fn subscribe(&self) -> broadcast::Receiver<Changed> {
        self.changes.subscribe()
    }

    /// Reads every flag again if Redis holds a newer version than this copy.
    pub async fn refresh(&self) -> Result<(), StoreError> {
        let (version, flags) = self.store.snapshot().await?;
        let old = self.snapshot();
        if version <= old.version && old.version != 0 {
            return Ok(());
        }
        let mut changed: Vec<String> =
            flags.iter().filter(|(id, f)| old.flags.get(*id) != Some(f)).map(|(id, _)| id.clone()).collect();
        changed.extend(old.flags.keys().filter(|id| !flags.contains_key(*id)).cloned());
        let fresh = Arc::new(Snapshot { version, flags });
        {
            let mut current = match self.current.write() {
                Ok(c) => c,
                Err(poisoned) => poisoned.into_inner(),
            };
            // Another refresh may have installed a newer one meanwhile.
            if current.version > version {
                return Ok(());
            }
            *current = fresh;
        }
        if !changed.is_empty() {
            let _ = self.changes.send(Changed { version, flags: changed });
        }
        Ok(())
    }

    /// Keeps the copy fresh until `stop`.
    pub async fn keep_fresh(
        self,
        redis: platform::settings::RedisSettings,
        interval: Duration,
        stop: CancellationToken,
    ) {
        let listener = tokio::spawn(self.clone().listen(redis, stop.clone()));
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = tick.tick() => {}
            }
            match self.store.version().await {
                Ok(v) if v != self.snapshot().version => {
                    if let Err(e) = self.refresh().await {
                        tracing::warn!(error = %e, "flags not reloaded; evaluation uses the copy it has");
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::debug!(error = %e, "flag version not checked; Redis unreachable"),
            }
        }
        let _ = listener.await;
    }

    /// Reloads on every version announced over pub/sub, reconnecting when the connection drops.
    async fn listen(self, redis: platform::settings::RedisSettings, stop: CancellationToken) {
        let channel = self.store.keys().channel();
        let mut backoff = Duration::from_millis(200);
        while !stop.is_cancelled() {
            let subscribed = async {
                let client = redis::Client::open(redis.url.expose_secret())?;
                let mut pubsub = client.get_async_pubsub().await?;
                pubsub.subscribe(&channel).await?;
                Ok::<_, redis::RedisError>(pubsub)
            }
            .await;
            let mut pubsub = match subscribed {
                Ok(p) => p,
                Err(e) => {
                    tracing::debug!(error = %e, "flag change subscription failed; retrying");
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            };
            backoff = Duration::from_millis(200);
            // Catch up on anything announced while not subscribed.
            let _ = self.refresh().await;
            let mut messages = pubsub.on_message();
            loop {
                tokio::select! {
                    () = stop.cancelled() => return,
                    message = messages.next() => match message {
                        // The message is the new version: a copy already that new (the replica
                        // that made the change reloads before answering) reads nothing.
                        Some(m) if m.get_payload::<u64>().is_ok_and(|v| v <= self.snapshot().version) => {}
                        Some(_) => {
                            if let Err(e) = self.refresh().await {
                                tracing::warn!(error = %e, "flags not reloaded after a change; the version check retries");
                            }
                        }
                        None => break,
                    }
                }
            }
        }
    }
}

/// Recent bulk answers by ETag (flag version and request): an SDK polling with the same context
/// gets the answer already serialised. Bounded: when full it starts over.
#[derive(Default)]
pub struct Answers {
    entries: std::sync::Mutex<std::collections::HashMap<String, actix_web::web::Bytes>>,
}

const MAX_ANSWERS: usize = 2000;

impl Answers {
    pub fn get(&self, tag: &str) -> Option<actix_web::web::Bytes> {
        self.entries.lock().ok()?.get(tag).cloned()
    }

    pub fn put(&self, tag: String, answer: actix_web::web::Bytes) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ANSWERS {
                entries.clear();
            }
            entries.insert(tag, answer);
        }
    }
}
