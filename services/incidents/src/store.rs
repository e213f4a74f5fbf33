//! The incidents service's Redis store. Every change is one Lua script: the versioned record,
//! its timeline entries, its outbox events and its index updates, all or nothing.

use std::collections::BTreeSet;
use std::sync::Arc;

use platform::events::CloudEvent;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use crate::domain::{Incident, IncidentId, TimelineEntry};
use crate::keys::Keys;

pub use platform::redis::StoreError;

type Result<T> = std::result::Result<T, StoreError>;

/// What the stored record must be for a change to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// No incident with this id yet.
    New,
    /// The incident at exactly this version.
    Version(u64),
    /// The incident exists, whatever its version (append-only changes such as notes).
    Exists,
}

/// One atomic change of one incident.
pub struct Change<'a> {
    pub id: &'a IncidentId,
    pub expect: Expect,
    /// The incident before, for index maintenance (`None` when creating).
    pub before: Option<&'a Incident>,
    /// The incident after; `None` leaves the record as it is.
    pub after: Option<&'a Incident>,
    pub timeline: Vec<TimelineEntry>,
    pub events: Vec<CloudEvent>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Applied; the ids given to the timeline entries, in order.
    Committed(Vec<String>),
    Exists,
    Missing,
    Conflict,
}

/// Filters of the incident list; every one set must match.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub status: Option<crate::domain::Status>,
    pub sev: Option<crate::domain::Severity>,
    pub service: Option<String>,
    pub commander: Option<String>,
    pub follower: Option<String>,
    /// Lower-case text searched in title and summary.
    pub q: Option<String>,
}

const COMMIT: &str = r"
local expect, record = ARGV[1], ARGV[2]
local current = redis.call('GET', KEYS[1])
if expect == 'new' then
  if current then return {'exists'} end
else
  if not current then return {'missing'} end
  if expect ~= 'exists' and tostring(cjson.decode(current).version) ~= expect then return {'conflict'} end
end
if record ~= '' then redis.call('SET', KEYS[1], record) end
local n_entries, n_events, n_ops, outbox_max = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local i = 7
local reply = {'ok'}
for _ = 1, n_entries do
  table.insert(reply, redis.call('XADD', KEYS[2], '*', 'e', ARGV[i]))
  i = i + 1
end
for _ = 1, n_events do
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', outbox_max, '*', 'event', ARGV[i])
  i = i + 1
end
for _ = 1, n_ops do
  local op, key, score, member = ARGV[i], KEYS[tonumber(ARGV[i + 1])], ARGV[i + 2], ARGV[i + 3]
  if op == 'zadd' then redis.call('ZADD', key, score, member)
  elseif op == 'zrem' then redis.call('ZREM', key, member)
  elseif op == 'set' then redis.call('SET', key, member)
  elseif op == 'del' then if redis.call('GET', key) == member then redis.call('DEL', key) end
  end
  i = i + 4
end
return reply";

/// Outbox streams are capped far above any backlog a working relay leaves, so a relay that
/// is switched off for good cannot fill Redis.
const OUTBOX_MAX: &str = "1000000";

#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    keys: Keys,
    commit: Arc<redis::Script>,
}

/// An index entry: (key, score), or a plain key → member claim (`score` None).
type IndexEntry = (String, Option<f64>);

impl RedisStore {
    pub fn new(conn: ConnectionManager, keys: Keys) -> Self {
        Self { conn, keys, commit: Arc::new(redis::Script::new(COMMIT)) }
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// The next creation sequence number.
    pub async fn next_seq(&self) -> Result<u64> {
        Ok(self.conn().incr(self.keys.seq(), 1).await?)
    }

    pub async fn incident(&self, id: &IncidentId) -> Result<Option<Incident>> {
        let raw: Option<String> = self.conn().get(self.keys.incident(id)).await?;
        Ok(raw.map(|r| serde_json::from_str(&r)).transpose()?)
    }

    /// The open incident an alert deduplication key points to.
    pub async fn incident_by_dedup(&self, key: &str) -> Result<Option<Incident>> {
        let id: Option<String> = self.conn().get(self.keys.dedup(key)).await?;
        match id.and_then(|i| IncidentId::parse(&i).ok()) {
            Some(id) => self.incident(&id).await,
            None => Ok(None),
        }
    }

    /// Where an incident appears in the indexes.
    fn index_entries(&self, incident: &Incident) -> BTreeSet<(String, Option<u64>)> {
        let seq = Some(incident.seq);
        let mut entries = BTreeSet::from([
            (self.keys.all(), seq),
            (self.keys.started(), Some(incident.started_at.max(0) as u64)),
            (self.keys.by_status(incident.status), seq),
            (self.keys.by_sev(incident.sev), seq),
        ]);
        entries.extend(incident.services.iter().map(|s| (self.keys.by_service(s), seq)));
        entries.extend(incident.commander.iter().map(|c| (self.keys.by_commander(c), seq)));
        entries.extend(incident.followers.iter().map(|f| (self.keys.by_follower(f), seq)));
        if let Some(key) = &incident.dedup_key
            && incident.status != crate::domain::Status::Resolved
        {
            entries.insert((self.keys.dedup(key), None));
        }
        entries
    }

    /// Applies a change atomically.
    pub async fn apply(&self, change: Change<'_>) -> Result<Outcome> {
        let before = change.before.map(|i| self.index_entries(i)).unwrap_or_default();
        let after = change.after.map(|i| self.index_entries(i)).unwrap_or_default();
        let mut ops: Vec<(&str, IndexEntry)> = Vec::new();
        if change.after.is_some() {
            for removed in before.difference(&after) {
                ops.push((if removed.1.is_some() { "zrem" } else { "del" }, (removed.0.clone(), None)));
            }
            for added in after.difference(&before) {
                let op = if added.1.is_some() { "zadd" } else { "set" };
                ops.push((op, (added.0.clone(), added.1.map(|s| s as f64))));
            }
        }
        let mut invocation = self.commit.prepare_invoke();
        invocation
            .key(self.keys.incident(change.id))
            .key(self.keys.timeline(change.id))
            .key(self.keys.outbox())
            .arg(match change.expect {
                Expect::New => "new".to_string(),
                Expect::Exists => "exists".to_string(),
                Expect::Version(v) => v.to_string(),
            })
            .arg(change.after.map(serde_json::to_string).transpose()?.unwrap_or_default())
            .arg(change.timeline.len())
            .arg(change.events.len())
            .arg(ops.len())
            .arg(OUTBOX_MAX);
        for entry in &change.timeline {
            invocation.arg(serde_json::to_string(entry)?);
        }
        for event in &change.events {
            invocation.arg(serde_json::to_string(event)?);
        }
        for (i, (op, (key, score))) in ops.iter().enumerate() {
            invocation.key(key).arg(*op).arg(4 + i).arg(score.unwrap_or(0.0)).arg(change.id.as_str());
        }
        let reply: Vec<String> = invocation.invoke_async(&mut self.conn()).await?;
        Ok(match reply.split_first() {
            Some((state, ids)) if state == "ok" => Outcome::Committed(ids.to_vec()),
            Some((state, _)) if state == "exists" => Outcome::Exists,
            Some((state, _)) if state == "conflict" => Outcome::Conflict,
            _ => Outcome::Missing,
        })
    }

    /// Incidents matching `filter`, newest first, starting after `cursor` (a sequence number):
    /// at most `limit`, and the cursor of the next page if there is one.
    ///
    /// Walks the smallest matching index in batches and checks the others with ZMSCORE, so a
    /// narrow filter stays fast however many incidents there are.
    pub async fn list(
        &self,
        filter: &Filter,
        cursor: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<Incident>, Option<u64>)> {
        let mut indexes: Vec<String> = Vec::new();
        indexes.extend(filter.status.map(|s| self.keys.by_status(s)));
        indexes.extend(filter.sev.map(|s| self.keys.by_sev(s)));
        indexes.extend(filter.service.as_deref().map(|s| self.keys.by_service(s)));
        indexes.extend(filter.commander.as_deref().map(|c| self.keys.by_commander(c)));
        indexes.extend(filter.follower.as_deref().map(|f| self.keys.by_follower(f)));
        if indexes.is_empty() {
            indexes.push(self.keys.all());
        }
        let mut pipe = redis::pipe();
        for key in &indexes {
            pipe.zcard(key);
        }
        let sizes: Vec<u64> = pipe.query_async(&mut self.conn()).await?;
        let smallest = sizes.iter().enumerate().min_by_key(|(_, n)| **n).map_or(0, |(i, _)| i);
        let base = indexes.remove(smallest);

        let batch = (limit * 2).clamp(64, 1000);
        let mut max = cursor.map_or_else(|| "+inf".to_string(), |c| format!("({c}"));
        let mut found: Vec<Incident> = Vec::with_capacity(limit + 1);
        loop {
            let page: Vec<(String, f64)> =
                self.conn().zrevrangebyscore_limit_withscores(&base, &max, "-inf", 0, batch as isize).await?;
            let Some((_, last_score)) = page.last() else { break };
            max = format!("({}", *last_score as u64);
            let exhausted = page.len() < batch;
            let mut ids: Vec<String> = page.into_iter().map(|(id, _)| id).collect();
            for other in &indexes {
                // ZMSCORE refuses an empty member list: once a filter leaves nothing, stop asking.
                if ids.is_empty() {
                    break;
                }
                let scores: Vec<Option<f64>> =
                    redis::cmd("ZMSCORE").arg(other).arg(&ids).query_async(&mut self.conn()).await?;
                ids = ids.into_iter().zip(scores).filter_map(|(id, s)| s.map(|_| id)).collect();
            }
            if filter.q.is_none() {
                // Every survivor matches: read only as many as the page still needs.
                ids.truncate(limit + 1 - found.len());
            }
            if !ids.is_empty() {
                let keys: Vec<String> =
                    ids.iter().filter_map(|i| IncidentId::parse(i).ok()).map(|i| self.keys.incident(&i)).collect();
                let raws: Vec<Option<String>> = if keys.is_empty() {
                    Vec::new()
                } else {
                    redis::cmd("MGET").arg(&keys).query_async(&mut self.conn()).await?
                };
                for raw in raws.into_iter().flatten() {
                    let incident: Incident = serde_json::from_str(&raw)?;
                    let matches_q = filter.q.as_deref().is_none_or(|q| {
                        incident.title.to_lowercase().contains(q) || incident.summary.to_lowercase().contains(q)
                    });
                    if matches_q {
                        found.push(incident);
                        if found.len() > limit {
                            break;
                        }
                    }
                }
            }
            if found.len() > limit || exhausted {
                break;
            }
        }
        let next = if found.len() > limit {
            found.truncate(limit);
            found.last().map(|i| i.seq)
        } else {
            None
        };
        Ok((found, next))
    }

    /// Timeline entries after `cursor` (an entry id), oldest first: at most `limit`, and the
    /// cursor of the next page if there is one.
    pub async fn timeline(
        &self,
        id: &IncidentId,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<TimelineEntry>, Option<String>)> {
        let start = cursor.map_or_else(|| "-".to_string(), |c| format!("({c}"));
        let reply: redis::streams::StreamRangeReply =
            self.conn().xrange_count(self.keys.timeline(id), start, "+", limit + 1).await?;
        let mut entries = Vec::with_capacity(reply.ids.len());
        for stream_id in reply.ids {
            let Some(raw) = stream_id.get::<String>("e") else { continue };
            let mut entry: TimelineEntry = serde_json::from_str(&raw)?;
            entry.id = stream_id.id;
            entries.push(entry);
        }
        let next = if entries.len() > limit {
            entries.truncate(limit);
            entries.last().map(|e| e.id.clone())
        } else {
            None
        };
        Ok((entries, next))
    }

    /// Every timeline entry of an incident (for the postmortem document).
    pub async fn full_timeline(&self, id: &IncidentId) -> Result<Vec<TimelineEntry>> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let (page, next) = self.timeline(id, cursor.as_deref(), 500).await?;
            all.extend(page);
            match next {
                Some(n) => cursor = Some(n),
                None => return Ok(all),
            }
        }
    }

    /// Takes a short lock on `name` (for `ttl_ms` at most): `true` when this caller holds it.
    pub async fn try_lock(&self, name: &str, ttl_ms: u64) -> Result<bool> {
        let key = format!("{}:lock", self.keys.dedup(name));
        let taken: Option<String> =
            redis::cmd("SET").arg(&key).arg("1").arg("NX").arg("PX").arg(ttl_ms).query_async(&mut self.conn()).await?;
        Ok(taken.is_some())
    }

    pub async fn unlock(&self, name: &str) -> Result<()> {
        let _: () = self.conn().del(format!("{}:lock", self.keys.dedup(name))).await?;
        Ok(())
    }

    /// Incidents whose `started_at` falls in `[from, to]` (epoch seconds).
    pub async fn started_between(&self, from: i64, to: i64) -> Result<Vec<Incident>> {
        let ids: Vec<String> = self.conn().zrangebyscore(self.keys.started(), from, to).await?;
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(1000) {
            let keys: Vec<String> =
                chunk.iter().filter_map(|i| IncidentId::parse(i).ok()).map(|i| self.keys.incident(&i)).collect();
            let raws: Vec<Option<String>> = redis::cmd("MGET").arg(&keys).query_async(&mut self.conn()).await?;
            for raw in raws.into_iter().flatten() {
                out.push(serde_json::from_str(&raw)?);
            }
        }
        Ok(out)
    }
}
