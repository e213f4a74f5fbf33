//! The ingestor's Redis store.

use std::collections::HashMap;
use std::sync::Arc;

use platform::events::CloudEvent;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use crate::domain::{IncidentSync, InternalService, PollState, Provider, StoredEvent};
use crate::keys::Keys;

pub use platform::redis::StoreError;

type Result<T> = std::result::Result<T, StoreError>;

/// Writes a provider if it is new (ARGV[2] = 0) or still at the expected version; schedules a new
/// one to be polled at once.
const PUT_PROVIDER: &str = r"
local current = redis.call('GET', KEYS[1])
local expected = tonumber(ARGV[2])
if expected == 0 then
  if current then return 0 end
elseif expected > 0 then
  if not current or tonumber(cjson.decode(current).version) ~= expected then return 0 end
elseif not current then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], 'NX', ARGV[3], ARGV[4])
redis.call('ZADD', KEYS[3], 'NX', ARGV[5], ARGV[4])
return 1";

/// Deletes a provider, its polling state and its events.
const DELETE_PROVIDER: &str = r"
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('DEL', KEYS[4], KEYS[5])
for _, id in ipairs(redis.call('SMEMBERS', KEYS[6])) do
  redis.call('DEL', ARGV[2] .. id)
  redis.call('SREM', KEYS[7], id)
  redis.call('ZREM', KEYS[8], id)
end
redis.call('DEL', KEYS[6])
return 1";

/// Saves a provider's polling state and next due time, unless the provider was deleted
/// meanwhile: it must not come back as a due entry.
const SAVE_STATE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('SET', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
return 1";

/// Releases a lease only if this holder still has it.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0";

/// Removes a queued event unless it was queued again since.
const SYNC_DONE: &str = r"
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) <= tonumber(ARGV[2]) then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0";

/// How a provider write is checked against what is stored.
pub enum Expect {
    /// Only if there is none yet.
    New,
    /// Only if the stored one has this version.
    Version(u64),
    /// Any stored one.
    Exists,
}

/// What one poll writes at once.
#[derive(Default)]
pub struct IngestWrite {
    pub events: Vec<StoredEvent>,
    pub outbox: Vec<CloudEvent>,
    /// Events whose internal incident has work waiting.
    pub sync: Vec<String>,
}

/// Whether this caller may raise the incident of an event.
pub enum Claim {
    Mine,
    Raised(String),
    /// Someone else is raising it now.
    Pending,
}

#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    keys: Keys,
    put_provider: Arc<redis::Script>,
    delete_provider: Arc<redis::Script>,
    release: Arc<redis::Script>,
    sync_done: Arc<redis::Script>,
    save_state: Arc<redis::Script>,
}

fn decode<T: serde::de::DeserializeOwned>(raw: Option<String>) -> Result<Option<T>> {
    raw.map(|r| serde_json::from_str(&r)).transpose().map_err(StoreError::from)
}

/// Decodes every record, skipping (and logging) unreadable ones rather than failing a listing.
fn decode_all<T: serde::de::DeserializeOwned>(raw: Vec<Option<String>>, what: &str) -> Vec<T> {
    raw.into_iter()
        .flatten()
        .filter_map(|r| match serde_json::from_str(&r) {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::error!(error = %e, what, "unreadable record skipped");
                None
            }
        })
        .collect()
}

impl RedisStore {
    pub fn new(conn: ConnectionManager, keys: Keys) -> Self {
        Self {
            conn,
            keys,
            put_provider: Arc::new(redis::Script::new(PUT_PROVIDER)),
            delete_provider: Arc::new(redis::Script::new(DELETE_PROVIDER)),
            release: Arc::new(redis::Script::new(RELEASE)),
            sync_done: Arc::new(redis::Script::new(SYNC_DONE)),
            save_state: Arc::new(redis::Script::new(SAVE_STATE)),
        }
    }

    // Providers.

    /// Writes `provider`; `false` when `expect` does not hold. `due_ms` schedules a new provider.
    pub async fn put_provider(&self, provider: &Provider, expect: Expect, due_ms: i64) -> Result<bool> {
        let expected: i64 = match expect {
            Expect::New => 0,
            Expect::Version(v) => i64::try_from(v).unwrap_or(i64::MAX),
            Expect::Exists => -1,
        };
        let written: i64 = self
            .put_provider
            .key(self.keys.provider(&provider.name))
            .key(self.keys.due())
            .key(self.keys.providers())
            .arg(serde_json::to_string(provider)?)
            .arg(expected)
            .arg(due_ms)
            .arg(&provider.name)
            .arg(chrono::Utc::now().timestamp_micros())
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(written == 1)
    }

    pub async fn provider(&self, name: &str) -> Result<Option<Provider>> {
        let raw: Option<String> = self.conn.clone().get(self.keys.provider(name)).await?;
        decode(raw)
    }

    /// Every provider, oldest first.
    pub async fn providers(&self) -> Result<Vec<Provider>> {
        let names: Vec<String> = self.conn.clone().zrange(self.keys.providers(), 0, -1).await?;
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = names.iter().map(|n| self.keys.provider(n)).collect();
        let raw: Vec<Option<String>> = self.conn.clone().mget(keys).await?;
        Ok(decode_all(raw, "provider"))
    }

    pub async fn delete_provider(&self, name: &str) -> Result<bool> {
        let deleted: i64 = self
            .delete_provider
            .key(self.keys.provider(name))
            .key(self.keys.providers())
            .key(self.keys.due())
            .key(self.keys.state(name))
            .key(self.keys.fingerprints(name))
            .key(self.keys.by_provider(name))
            .key(self.keys.active())
            .key(self.keys.recent())
            .arg(name)
            .arg(self.keys.event(""))
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(deleted == 1)
    }

    // Polling state and scheduling.

    pub async fn state(&self, name: &str) -> Result<PollState> {
        let raw: Option<String> = self.conn.clone().get(self.keys.state(name)).await?;
        Ok(decode(raw)?.unwrap_or_default())
    }

    pub async fn states(&self, names: &[String]) -> Result<Vec<PollState>> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = names.iter().map(|n| self.keys.state(n)).collect();
        let raw: Vec<Option<String>> = self.conn.clone().mget(keys).await?;
        raw.into_iter().map(|r| Ok(decode(r)?.unwrap_or_default())).collect()
    }

    /// Saves the state of a provider that still exists, and when it is next due.
    pub async fn save_state(&self, name: &str, state: &PollState, next_due_ms: i64) -> Result<()> {
        let _: i64 = self
            .save_state
            .key(self.keys.provider(name))
            .key(self.keys.state(name))
            .key(self.keys.due())
            .arg(serde_json::to_string(state)?)
            .arg(next_due_ms)
            .arg(name)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    /// Moves a provider's next poll (only if it is still scheduled).
    pub async fn postpone(&self, name: &str, at_ms: i64) -> Result<()> {
        let _: i64 = redis::cmd("ZADD")
            .arg(self.keys.due())
            .arg("XX")
            .arg(at_ms)
            .arg(name)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    /// Names due at `now_ms`, soonest first.
    pub async fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<String>> {
        let limit = isize::try_from(limit).unwrap_or(isize::MAX);
        Ok(self.conn.clone().zrangebyscore_limit(self.keys.due(), "-inf", now_ms, 0, limit).await?)
    }

    /// Takes the lease on a provider for `ms`; `false` if another holder has it.
    pub async fn take_lease(&self, name: &str, holder: &str, ms: u64) -> Result<bool> {
        let taken: Option<String> = redis::cmd("SET")
            .arg(self.keys.lease(name))
            .arg(holder)
            .arg("NX")
            .arg("PX")
            .arg(ms)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(taken.is_some())
    }

    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<()> {
        let _: i64 = self.release.key(self.keys.lease(name)).arg(holder).invoke_async(&mut self.conn.clone()).await?;
        Ok(())
    }

    // Events.

    /// External id to fingerprint of what is stored for a provider.
    pub async fn fingerprints(&self, provider: &str) -> Result<HashMap<String, String>> {
        Ok(self.conn.clone().hgetall(self.keys.fingerprints(provider)).await?)
    }

    pub async fn event(&self, id: &str) -> Result<Option<StoredEvent>> {
        let raw: Option<String> = self.conn.clone().get(self.keys.event(id)).await?;
        decode(raw)
    }

    pub async fn events(&self, ids: &[String]) -> Result<Vec<StoredEvent>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let keys: Vec<String> = chunk.iter().map(|id| self.keys.event(id)).collect();
            let raw: Vec<Option<String>> = self.conn.clone().mget(keys).await?;
            out.extend(decode_all(raw, "event"));
        }
        Ok(out)
    }

    pub async fn active_events(&self) -> Result<Vec<StoredEvent>> {
        let ids: Vec<String> = self.conn.clone().smembers(self.keys.active()).await?;
        self.events(&ids).await
    }

    pub async fn provider_events(&self, provider: &str) -> Result<Vec<StoredEvent>> {
        let ids: Vec<String> = self.conn.clone().smembers(self.keys.by_provider(provider)).await?;
        self.events(&ids).await
    }

    /// The ids of the events updated most recently, newest first.
    pub async fn recent_ids(&self, since: i64, limit: usize) -> Result<Vec<String>> {
        let limit = isize::try_from(limit).unwrap_or(isize::MAX);
        Ok(self.conn.clone().zrevrangebyscore_limit(self.keys.recent(), "+inf", since, 0, limit).await?)
    }

    /// The events that may be linked to something that began at `since` or later: the active
    /// ones and those updated since (the 2,000 most recent).
    pub async fn events_near(&self, since: i64) -> Result<Vec<StoredEvent>> {
        let mut ids = self.recent_ids(since, 2000).await?;
        ids.extend(self.conn.clone().smembers::<_, Vec<String>>(self.keys.active()).await?);
        ids.sort();
        ids.dedup();
        self.events(&ids).await
    }

    /// Writes a poll's events, their indexes and their outbox entries in one transaction.
    pub async fn apply(&self, provider: &str, write: &IngestWrite) -> Result<()> {
        if write.events.is_empty() && write.outbox.is_empty() && write.sync.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        for e in &write.events {
            pipe.set(self.keys.event(&e.id), serde_json::to_string(e)?).ignore();
            pipe.hset(self.keys.fingerprints(provider), &e.event.external_id, &e.fingerprint).ignore();
            pipe.sadd(self.keys.by_provider(provider), &e.id).ignore();
            pipe.zadd(self.keys.recent(), &e.id, e.ts_update()).ignore();
            if e.is_active() {
                pipe.sadd(self.keys.active(), &e.id).ignore();
            } else {
                pipe.srem(self.keys.active(), &e.id).ignore();
            }
        }
        for event in &write.outbox {
            pipe.cmd("XADD")
                .arg(self.keys.outbox())
                .arg("MAXLEN")
                .arg("~")
                .arg(100_000)
                .arg("*")
                .arg("event")
                .arg(serde_json::to_string(event)?)
                .ignore();
        }
        let queued_at = chrono::Utc::now().timestamp_millis();
        for id in &write.sync {
            pipe.zadd(self.keys.sync(), id, queued_at).ignore();
        }
        let _: () = pipe.query_async(&mut self.conn.clone()).await?;
        Ok(())
    }

    // Internal incidents.

    /// Events with incident work waiting since before `queued_before` (epoch ms), each with when
    /// it was queued, oldest first.
    pub async fn sync_pending(&self, queued_before: i64, limit: usize) -> Result<Vec<(String, i64)>> {
        let limit = isize::try_from(limit).unwrap_or(isize::MAX);
        Ok(self.conn.clone().zrangebyscore_limit_withscores(self.keys.sync(), "-inf", queued_before, 0, limit).await?)
    }

    /// Queues incident work for an event.
    pub async fn sync_later(&self, event_id: &str) -> Result<()> {
        let _: i64 = self.conn.clone().zadd(self.keys.sync(), event_id, chrono::Utc::now().timestamp_millis()).await?;
        Ok(())
    }

    /// Marks an event's incident work done, unless it was queued again after `queued_at`.
    pub async fn sync_done(&self, event_id: &str, queued_at: i64) -> Result<()> {
        let _: i64 = self
            .sync_done
            .key(self.keys.sync())
            .arg(event_id)
            .arg(queued_at)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    /// Claims the raising of an event's incident. A claim left by a raiser that died expires.
    pub async fn claim_incident(&self, event_id: &str, now: i64) -> Result<Claim> {
        let key = self.keys.incident_claim(event_id);
        let mut conn = self.conn.clone();
        let taken: Option<String> = redis::cmd("SET")
            .arg(&key)
            .arg(format!("pending:{now}"))
            .arg("NX")
            .arg("EX")
            .arg(300)
            .query_async(&mut conn)
            .await?;
        if taken.is_some() {
            return Ok(Claim::Mine);
        }
        let current: Option<String> = conn.get(&key).await?;
        Ok(match current {
            Some(v) if !v.starts_with("pending:") => Claim::Raised(v),
            _ => Claim::Pending,
        })
    }

    /// Records the raised incident for good, or gives the claim up (`None`) so a later try can.
    pub async fn settle_claim(&self, event_id: &str, incident: Option<&str>) -> Result<()> {
        let key = self.keys.incident_claim(event_id);
        match incident {
            Some(id) => {
                let _: () = self.conn.clone().set(key, id).await?;
            }
            None => {
                let _: i64 = self.conn.clone().del(key).await?;
            }
        }
        Ok(())
    }

    pub async fn incident_sync(&self, event_id: &str) -> Result<IncidentSync> {
        let raw: Option<String> = self.conn.clone().get(self.keys.incident_sync(event_id)).await?;
        Ok(decode(raw)?.unwrap_or_default())
    }

    pub async fn incident_syncs(&self, ids: &[String]) -> Result<Vec<IncidentSync>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = ids.iter().map(|id| self.keys.incident_sync(id)).collect();
        let raw: Vec<Option<String>> = self.conn.clone().mget(keys).await?;
        raw.into_iter().map(|r| Ok(decode(r)?.unwrap_or_default())).collect()
    }

    pub async fn save_incident_sync(&self, event_id: &str, sync: &IncidentSync) -> Result<()> {
        let _: () = self.conn.clone().set(self.keys.incident_sync(event_id), serde_json::to_string(sync)?).await?;
        Ok(())
    }

    /// Takes a short lock on an event's incident work; `false` if another worker has it.
    pub async fn lock_sync(&self, event_id: &str, holder: &str) -> Result<bool> {
        self.take_lease(&format!("sync:{event_id}"), holder, 30_000).await
    }

    pub async fn unlock_sync(&self, event_id: &str, holder: &str) -> Result<()> {
        self.release_lease(&format!("sync:{event_id}"), holder).await
    }

    /// Remembers that an incident was linked to an event; `false` if it already was.
    pub async fn mark_linked(&self, incident: &str, event_id: &str) -> Result<bool> {
        let added: i64 = self.conn.clone().sadd(self.keys.linked(), format!("{incident}|{event_id}")).await?;
        Ok(added == 1)
    }

    pub async fn unmark_linked(&self, incident: &str, event_id: &str) -> Result<()> {
        let _: i64 = self.conn.clone().srem(self.keys.linked(), format!("{incident}|{event_id}")).await?;
        Ok(())
    }

    // Internal services.

    pub async fn put_service(&self, service: &InternalService) -> Result<()> {
        let _: () =
            self.conn.clone().hset(self.keys.services(), &service.name, serde_json::to_string(service)?).await?;
        Ok(())
    }

    pub async fn services(&self) -> Result<Vec<InternalService>> {
        let all: HashMap<String, String> = self.conn.clone().hgetall(self.keys.services()).await?;
        let mut services: Vec<InternalService> = decode_all(all.into_values().map(Some).collect(), "service");
        services.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(services)
    }

    pub async fn service(&self, name: &str) -> Result<Option<InternalService>> {
        let raw: Option<String> = self.conn.clone().hget(self.keys.services(), name).await?;
        decode(raw)
    }

    pub async fn delete_service(&self, name: &str) -> Result<bool> {
        let removed: i64 = self.conn.clone().hdel(self.keys.services(), name).await?;
        Ok(removed == 1)
    }
}
