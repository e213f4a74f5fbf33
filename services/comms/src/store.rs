//! The comms service's Redis store: the projection of incidents, announcements, the banner.

use std::sync::Arc;

use platform::events::CloudEvent;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use crate::domain::{Announcement, Banner, KnownIncident};
use crate::keys::Keys;

pub use platform::redis::StoreError;

type Result<T> = std::result::Result<T, StoreError>;

/// Takes in an event once: marks its id seen, updates the incident unless the stored version is
/// as new, records its services, appends it to the fan-out stream and bumps the public version.
const TAKE_EVENT: &str = r"
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', 604800) then return 0 end
if ARGV[2] ~= '' then
  local current = redis.call('GET', KEYS[2])
  if not current or tonumber(cjson.decode(current).version) < tonumber(ARGV[3]) then
    redis.call('SET', KEYS[2], ARGV[2])
    redis.call('ZADD', KEYS[3], ARGV[4], ARGV[5])
    for i = 7, #ARGV do redis.call('ZADD', KEYS[6], 'NX', ARGV[6], ARGV[i]) end
  end
end
redis.call('XADD', KEYS[4], 'MAXLEN', '~', '100000', '*', 'event', ARGV[1])
redis.call('INCR', KEYS[5])
return 1";

/// Stores an incident fetched from the incidents service unless a newer one arrived meanwhile.
const PUT_INCIDENT: &str = r"
local current = redis.call('GET', KEYS[1])
if current and tonumber(cjson.decode(current).version) >= tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
for i = 6, #ARGV do redis.call('ZADD', KEYS[3], 'NX', ARGV[5], ARGV[i]) end
redis.call('INCR', KEYS[4])
return 1";

/// Stores a queued record once (its id decides) and schedules it.
const ENQUEUE_DUE: &str = r"
if not redis.call('SET', KEYS[1], ARGV[1], 'NX') then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1";

/// Takes the due records of a queue, pushing each one's due time past the visibility timeout:
/// a worker that dies mid-task leaves it to come due again, so nothing is lost.
const CLAIM_DUE: &str = r"
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  redis.call('ZADD', KEYS[1], 'XX', ARGV[3], id)
  local record = redis.call('GET', ARGV[4] .. id)
  if record then table.insert(out, record) else redis.call('ZREM', KEYS[1], id) end
end
return out";

#[derive(Clone)]
pub struct RedisStore {
    pub(crate) conn: ConnectionManager,
    pub(crate) keys: Keys,
    take_event: Arc<redis::Script>,
    put_incident: Arc<redis::Script>,
    enqueue_due: Arc<redis::Script>,
    claim_due: Arc<redis::Script>,
}

/// Everything public, read at once to build a snapshot.
pub struct PublicData {
    pub version: u64,
    /// Most recent first, each with its announcements (oldest first).
    pub incidents: Vec<(KnownIncident, Vec<Announcement>)>,
    /// Service names and when they first appeared.
    pub components: Vec<(String, i64)>,
    pub banner: Option<Banner>,
}

impl RedisStore {
    pub fn new(conn: ConnectionManager, keys: Keys) -> Self {
        Self {
            conn,
            keys,
            take_event: Arc::new(redis::Script::new(TAKE_EVENT)),
            put_incident: Arc::new(redis::Script::new(PUT_INCIDENT)),
            enqueue_due: Arc::new(redis::Script::new(ENQUEUE_DUE)),
            claim_due: Arc::new(redis::Script::new(CLAIM_DUE)),
        }
    }

    pub(crate) fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// Takes in an event (`false` when its id was seen before), with the incident it carries.
    pub async fn take_event(&self, event: &CloudEvent, incident: Option<&KnownIncident>) -> Result<bool> {
        let mut invocation = self.take_event.prepare_invoke();
        let id = incident.map_or("", |i| i.id.as_str());
        invocation
            .key(self.keys.seen(&event.id))
            .key(self.keys.incident(id))
            .key(self.keys.incidents())
            .key(self.keys.fanout())
            .key(self.keys.version())
            .key(self.keys.components())
            .arg(serde_json::to_string(event)?)
            .arg(incident.map(serde_json::to_string).transpose()?.unwrap_or_default())
            .arg(incident.map_or(0, |i| i.version))
            .arg(incident.map_or(0, |i| i.started_at))
            .arg(id)
            .arg(chrono::Utc::now().timestamp());
        for service in incident.map(|i| i.services.as_slice()).unwrap_or_default() {
            invocation.arg(service);
        }
        let taken: i64 = invocation.invoke_async(&mut self.conn()).await?;
        Ok(taken == 1)
    }

    pub async fn put_incident(&self, incident: &KnownIncident) -> Result<()> {
        let mut invocation = self.put_incident.prepare_invoke();
        invocation
            .key(self.keys.incident(&incident.id))
            .key(self.keys.incidents())
            .key(self.keys.components())
            .key(self.keys.version())
            .arg(serde_json::to_string(incident)?)
            .arg(incident.version)
            .arg(incident.started_at)
            .arg(&incident.id)
            .arg(chrono::Utc::now().timestamp());
        for service in &incident.services {
            invocation.arg(service);
        }
        let _: i64 = invocation.invoke_async(&mut self.conn()).await?;
        Ok(())
    }

    /// Queues a record (JSON under `record_key`) due at `due_ms` in the sorted set `due_key`,
    /// unless one with its id is queued already (`false`).
    pub(crate) async fn enqueue_due(
        &self,
        record_key: String,
        due_key: String,
        id: &str,
        json: String,
        due_ms: i64,
    ) -> Result<bool> {
        let queued: i64 = self
            .enqueue_due
            .key(record_key)
            .key(due_key)
            .arg(json)
            .arg(due_ms)
            .arg(id)
            .invoke_async(&mut self.conn())
            .await?;
        Ok(queued == 1)
    }

    /// Up to `limit` records due by `now_ms` from the queue `due_key` (records under
    /// `record_prefix` + id), hidden from other workers for `visibility_ms`.
    pub(crate) async fn claim_due<T: serde::de::DeserializeOwned>(
        &self,
        due_key: String,
        record_prefix: String,
        now_ms: i64,
        limit: usize,
        visibility_ms: i64,
    ) -> Result<Vec<T>> {
        let raws: Vec<String> = self
            .claim_due
            .key(due_key)
            .arg(now_ms)
            .arg(limit)
            .arg(now_ms + visibility_ms)
            .arg(record_prefix)
            .invoke_async(&mut self.conn())
            .await?;
        raws.iter().map(|r| serde_json::from_str(r).map_err(StoreError::from)).collect()
    }

    pub async fn incident(&self, id: &str) -> Result<Option<KnownIncident>> {
        let raw: Option<String> = self.conn().get(self.keys.incident(id)).await?;
        Ok(raw.map(|r| serde_json::from_str(&r)).transpose()?)
    }

    pub async fn announcements(&self, id: &str) -> Result<Vec<Announcement>> {
        let raws: Vec<String> = self.conn().lrange(self.keys.announcements(id), 0, -1).await?;
        raws.iter().map(|r| serde_json::from_str(r).map_err(StoreError::from)).collect()
    }

    /// Stores an announcement and queues its event for fan-out.
    pub async fn announce(&self, announcement: &Announcement, event: &CloudEvent) -> Result<()> {
        let _: () = redis::pipe()
            .atomic()
            .rpush(self.keys.announcements(&announcement.incident_id), serde_json::to_string(announcement)?)
            .ignore()
            .cmd("XADD")
            .arg(self.keys.fanout())
            .arg("MAXLEN")
            .arg("~")
            .arg(100_000)
            .arg("*")
            .arg("event")
            .arg(serde_json::to_string(event)?)
            .ignore()
            .incr(self.keys.version(), 1)
            .ignore()
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    pub async fn set_banner(&self, banner: &Banner, ttl_secs: Option<u64>) -> Result<()> {
        let json = serde_json::to_string(banner)?;
        let mut pipe = redis::pipe();
        pipe.atomic();
        match ttl_secs {
            Some(ttl) => pipe.set_ex(self.keys.banner(), json, ttl.max(1)),
            None => pipe.set(self.keys.banner(), json),
        };
        let _: () = pipe.ignore().incr(self.keys.version(), 1).ignore().query_async(&mut self.conn()).await?;
        Ok(())
    }

    /// Removes the banner; `false` when there was none.
    pub async fn clear_banner(&self) -> Result<bool> {
        let (removed,): (i64,) = redis::pipe()
            .atomic()
            .del(self.keys.banner())
            .incr(self.keys.version(), 1)
            .ignore()
            .query_async(&mut self.conn())
            .await?;
        Ok(removed == 1)
    }

    pub async fn version(&self) -> Result<u64> {
        Ok(self.conn().get::<_, Option<u64>>(self.keys.version()).await?.unwrap_or(0))
    }

    /// The `limit` most recently started incidents with their announcements, the components
    /// and the banner.
    pub async fn public_data(&self, limit: isize) -> Result<PublicData> {
        let version = self.version().await?;
        let ids: Vec<String> = self.conn().zrevrange(self.keys.incidents(), 0, limit - 1).await?;
        let mut incidents = Vec::with_capacity(ids.len());
        if !ids.is_empty() {
            let keys: Vec<String> = ids.iter().map(|id| self.keys.incident(id)).collect();
            let raws: Vec<Option<String>> = redis::cmd("MGET").arg(&keys).query_async(&mut self.conn()).await?;
            let mut pipe = redis::pipe();
            for id in &ids {
                pipe.lrange(self.keys.announcements(id), 0, -1);
            }
            let announcements: Vec<Vec<String>> = pipe.query_async(&mut self.conn()).await?;
            for (raw, announced) in raws.into_iter().zip(announcements) {
                let Some(raw) = raw else { continue };
                let incident: KnownIncident = serde_json::from_str(&raw)?;
                let announced =
                    announced.iter().map(|a| serde_json::from_str(a)).collect::<std::result::Result<Vec<_>, _>>()?;
                incidents.push((incident, announced));
            }
        }
        let components: Vec<(String, i64)> = self.conn().zrange_withscores(self.keys.components(), 0, -1).await?;
        let banner: Option<String> = self.conn().get(self.keys.banner()).await?;
        let banner = banner.map(|b| serde_json::from_str(&b)).transpose()?;
        Ok(PublicData { version, incidents, components, banner })
    }
}
