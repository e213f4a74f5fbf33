//! The flags service's Redis store.

use std::collections::BTreeMap;
use std::sync::Arc;

use platform::events::CloudEvent;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::Flag;
use crate::keys::Keys;

pub use platform::redis::StoreError;

type Result<T> = std::result::Result<T, StoreError>;

/// Writes (or deletes, with an empty ARGV[3]) a flag if the stored version is as expected
/// (`new`: none stored; empty: any), bumps the version, records the audit entry, appends the
/// outbox event and announces the new version. -1: not as expected; -2: nothing to delete.
const WRITE: &str = r"
local current = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[2] == 'new' then
  if current then return -1 end
elseif ARGV[2] ~= '' then
  if not current or tonumber(cjson.decode(current).version) ~= tonumber(ARGV[2]) then return -1 end
end
if ARGV[3] == '' then
  if not current then return -2 end
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
end
local v = redis.call('INCR', KEYS[2])
redis.call('LPUSH', KEYS[3], ARGV[4])
redis.call('LTRIM', KEYS[3], 0, 499)
redis.call('XADD', KEYS[4], 'MAXLEN', '~', '100000', '*', 'event', ARGV[5])
redis.call('PUBLISH', ARGV[6], v)
return v";

/// One change to a flag, as the audit log keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub at: i64,
    /// Who: the user or API key's name and id.
    pub by: String,
    /// created, updated, toggled or deleted.
    pub action: String,
    /// The flag's version after the change (the last one for a delete).
    pub version: u64,
    /// Top-level fields that changed.
    pub changed: Vec<String>,
    /// The flag after the change (before it, for a delete).
    pub flag: Flag,
}

/// How a write is checked against what is stored.
pub enum Expect {
    New,
    Version(u64),
}

pub enum Written {
    /// The service-wide version after the write.
    Done(u64),
    Conflict,
    Missing,
}

#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    keys: Keys,
    write: Arc<redis::Script>,
}

impl RedisStore {
    pub fn new(conn: ConnectionManager, keys: Keys) -> Self {
        Self { conn, keys, write: Arc::new(redis::Script::new(WRITE)) }
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// Every flag and the version they make up, read at once.
    pub async fn snapshot(&self) -> Result<(u64, BTreeMap<String, Flag>)> {
        let (raw, version): (BTreeMap<String, String>, Option<u64>) = redis::pipe()
            .atomic()
            .hgetall(self.keys.flags())
            .get(self.keys.version())
            .query_async(&mut self.conn.clone())
            .await?;
        let mut flags = BTreeMap::new();
        for (id, json) in raw {
            match serde_json::from_str::<Flag>(&json) {
                Ok(flag) => {
                    flags.insert(id, flag);
                }
                Err(e) => tracing::error!(flag = %id, error = %e, "unreadable flag skipped"),
            }
        }
        Ok((version.unwrap_or(0), flags))
    }

    pub async fn version(&self) -> Result<u64> {
        let v: Option<u64> = self.conn.clone().get(self.keys.version()).await?;
        Ok(v.unwrap_or(0))
    }

    pub async fn flag(&self, id: &str) -> Result<Option<Flag>> {
        let raw: Option<String> = self.conn.clone().hget(self.keys.flags(), id).await?;
        Ok(raw.map(|r| serde_json::from_str(&r)).transpose()?)
    }

    /// Writes `flag` (or deletes `id` when `flag` is `None`) with its audit entry and event.
    pub async fn write(
        &self,
        id: &str,
        expect: Expect,
        flag: Option<&Flag>,
        audit: &AuditEntry,
        event: &CloudEvent,
    ) -> Result<Written> {
        let expected = match expect {
            Expect::New => "new".to_string(),
            Expect::Version(v) => v.to_string(),
        };
        let json = flag.map(serde_json::to_string).transpose()?.unwrap_or_default();
        let outcome: i64 = self
            .write
            .key(self.keys.flags())
            .key(self.keys.version())
            .key(self.keys.history(id))
            .key(self.keys.outbox())
            .arg(id)
            .arg(expected)
            .arg(json)
            .arg(serde_json::to_string(audit)?)
            .arg(serde_json::to_string(event)?)
            .arg(self.keys.channel())
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(match outcome {
            -1 => Written::Conflict,
            -2 => Written::Missing,
            v => Written::Done(u64::try_from(v).unwrap_or(0)),
        })
    }

    /// A flag's audit log, newest first.
    pub async fn history(&self, id: &str, limit: usize) -> Result<Vec<AuditEntry>> {
        let end = isize::try_from(limit).unwrap_or(isize::MAX) - 1;
        let raw: Vec<String> = self.conn.clone().lrange(self.keys.history(id), 0, end).await?;
        Ok(raw.iter().filter_map(|r| serde_json::from_str(r).ok()).collect())
    }
}
