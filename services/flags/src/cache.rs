//! The in-memory copy of every flag that evaluation reads: it never waits on Redis. It is kept
//! fresh by a pub/sub subscription announcing each new version, and by a version check every
//! `refresh_interval_ms` in case a message was missed (a reconnect, say).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures_util::StreamExt;
use secrecy::ExposeSecret;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::domain::Flag;
use crate::store::{RedisStore, StoreError};

/// Every flag at one version, with each flag's OFREP answers written out in advance.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub version: u64,
    pub flags: BTreeMap<String, Flag>,
    /// For each flag (in `flags` order), each variation's OFREP success as JSON split around
    /// its reason: `{"key":..,"value":..,"reason":"` and `","variant":..,"metadata":{..}}`.
    /// A bulk answer is then copied together instead of serialised flag by flag.
    pub prepared: Vec<Vec<Prepared>>,
}

#[derive(Debug)]
pub struct Prepared {
    pub variation: String,
    pub head: String,
    pub tail: String,
}

impl Snapshot {
    pub fn new(version: u64, flags: BTreeMap<String, Flag>) -> Self {
        let prepared = flags
            .values()
            .map(|flag| {
                flag.variations
                    .iter()
                    .map(|variation| Prepared {
                        variation: variation.clone(),
                        head: format!(
                            "{{\"key\":{},\"value\":{},\"reason\":\"",
                            json(&flag.id),
                            json(flag.value_ref(variation))
                        ),
                        tail: format!(
                            "\",\"variant\":{},\"metadata\":{{\"version\":{}}}}}",
                            json(variation),
                            flag.version
                        ),
                    })
                    .collect()
            })
            .collect();
        Self { version, flags, prepared }
    }
}

/// A value as JSON text (strings, numbers and JSON values always serialise).
fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
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
        let fresh = Arc::new(Snapshot::new(version, flags));
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
/// gets the answer already serialised. Bounded in two generations: when the current one is full
/// it becomes the previous one (still answered from) and the oldest is dropped, outside the lock.
#[derive(Default)]
pub struct Answers {
    generations: std::sync::Mutex<[HashMap<String, actix_web::web::Bytes>; 2]>,
}

/// Answers per generation.
const GENERATION: usize = 1000;

impl Answers {
    pub fn get(&self, tag: &str) -> Option<actix_web::web::Bytes> {
        let generations = self.generations.lock().ok()?;
        generations[0].get(tag).or_else(|| generations[1].get(tag)).cloned()
    }

    pub fn put(&self, tag: String, answer: actix_web::web::Bytes) {
        let dropped = match self.generations.lock() {
            Ok(mut generations) => {
                let dropped = (generations[0].len() >= GENERATION).then(|| {
                    let current = std::mem::take(&mut generations[0]);
                    std::mem::replace(&mut generations[1], current)
                });
                generations[0].insert(tag, answer);
                dropped
            }
            Err(_) => None,
        };
        // Freeing a thousand answers is not done while others wait for the lock.
        drop(dropped);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_kept_for_two_generations() {
        let answers = Answers::default();
        let answer = |n: usize| actix_web::web::Bytes::from(n.to_string());
        for n in 0..GENERATION {
            answers.put(format!("t{n}"), answer(n));
        }
        answers.put("next".into(), answer(0));
        assert_eq!(answers.get("t0"), Some(answer(0)), "the previous generation still answers");
        assert_eq!(answers.get("next"), Some(answer(0)));
        for n in 0..GENERATION {
            answers.put(format!("u{n}"), answer(n));
        }
        assert_eq!(answers.get("t0"), None, "two generations on, it is gone");
        assert!(answers.get("u5").is_some());
    }
}
