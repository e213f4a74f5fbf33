//! The users service's Redis store. Operations that must be atomic are Lua scripts over keys
//! that share one hash tag (see [`crate::keys`]).

use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};

use crate::domain::UserRecord;
use crate::keys::Keys;
use platform::auth::Role;

pub use platform::redis::StoreError;

type Result<T> = std::result::Result<T, StoreError>;

/// Outcome of a compare-and-set on a versioned record.
#[derive(Debug, PartialEq, Eq)]
pub enum Replace {
    Done,
    /// The stored version is not the one the change was based on.
    Conflict,
    Missing,
}

/// A refresh token as stored (by hash).
#[derive(Debug, Clone)]
pub struct RefreshToken {
    pub user_id: String,
    pub family: String,
    /// Epoch milliseconds.
    pub issued_at_ms: i64,
}

/// Outcome of presenting a refresh token.
#[derive(Debug)]
pub enum Rotation {
    /// Valid and now spent.
    Valid(RefreshToken),
    /// Unknown or expired.
    Unknown,
    /// Already spent: someone replayed it, so its whole family was revoked.
    Reused,
    /// Its family was revoked (signed out).
    Revoked,
}

/// An API key as stored. The secret is kept only as a hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// The first characters of the secret, to recognise it in a list.
    pub prefix: String,
    pub created_at: i64,
    pub created_by: String,
    pub revoked_at: Option<i64>,
    pub secret_hash: String,
}

/// A new API key record and its secret (`psk_...`), which is stored only as a hash.
pub fn new_api_key(name: String, role: Role, created_by: String) -> (ApiKeyRecord, String) {
    let secret = format!("psk_{}", crate::secrets::random_token(32));
    let record = ApiKeyRecord {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        role,
        prefix: secret.chars().take(12).collect(),
        created_at: chrono::Utc::now().timestamp(),
        created_by,
        revoked_at: None,
        secret_hash: crate::secrets::hash(&secret),
    };
    (record, secret)
}

#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    keys: Keys,
    scripts: std::sync::Arc<Scripts>,
}

/// The Lua scripts, hashed once.
struct Scripts {
    create_user: redis::Script,
    replace_versioned: redis::Script,
    delete_user: redis::Script,
    rotate_refresh: redis::Script,
}

const CREATE_USER: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
if KEYS[4] then redis.call('SET', KEYS[4], ARGV[1], 'EX', ARGV[4]) end
return 1";

const REPLACE_VERSIONED: &str = r"
local current = redis.call('GET', KEYS[1])
if not current then return -1 end
if tostring(cjson.decode(current).version) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1";

const DELETE_USER: &str = r"
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
redis.call('ZREM', KEYS[3], ARGV[1])
return 1";

const ROTATE_REFRESH: &str = r"
local t = redis.call('HMGET', KEYS[1], 'user_id', 'family', 'issued_at_ms')
if not t[1] then return {'unknown'} end
if redis.call('EXISTS', ARGV[1] .. t[2]) == 1 then return {'revoked'} end
if redis.call('HSETNX', KEYS[1], 'used', '1') == 0 then
  redis.call('SET', ARGV[1] .. t[2], '1', 'EX', ARGV[2])
  return {'reused'}
end
return {'valid', t[1], t[2], t[3]}";

impl RedisStore {
    pub fn new(conn: ConnectionManager, keys: Keys) -> Self {
        let scripts = Scripts {
            create_user: redis::Script::new(CREATE_USER),
            replace_versioned: redis::Script::new(REPLACE_VERSIONED),
            delete_user: redis::Script::new(DELETE_USER),
            rotate_refresh: redis::Script::new(ROTATE_REFRESH),
        };
        Self { conn, keys, scripts: std::sync::Arc::new(scripts) }
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// Stores a new user unless its email is taken (`false`). With `invite`, also stores the
    /// invitation token hash for `ttl` seconds. Atomic: of concurrent creations of one email,
    /// exactly one succeeds.
    pub async fn create_user(&self, user: &UserRecord, invite: Option<(&str, u64)>) -> Result<bool> {
        let mut script = self.scripts.create_user.prepare_invoke();
        script
            .key(self.keys.email(&user.email))
            .key(self.keys.user(&user.id))
            .key(self.keys.users_by_created())
            .arg(&user.id)
            .arg(serde_json::to_string(user)?)
            .arg(user.created_at);
        if let Some((hash, ttl)) = invite {
            script.key(self.keys.invite(hash)).arg(ttl);
        }
        let created: i64 = script.invoke_async(&mut self.conn()).await?;
        Ok(created == 1)
    }

    pub async fn user(&self, id: &str) -> Result<Option<UserRecord>> {
        let raw: Option<String> = self.conn().get(self.keys.user(id)).await?;
        Ok(raw.map(|r| serde_json::from_str(&r)).transpose()?)
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>> {
        let id: Option<String> = self.conn().get(self.keys.email(email)).await?;
        match id {
            Some(id) => self.user(&id).await,
            None => Ok(None),
        }
    }

    /// Every user, oldest first.
    pub async fn users(&self) -> Result<Vec<UserRecord>> {
        self.indexed(self.keys.users_by_created(), |id| self.keys.user(id)).await
    }

    /// The JSON records listed in the sorted set `index`, in its order.
    async fn indexed<T: serde::de::DeserializeOwned>(
        &self,
        index: String,
        key: impl Fn(&str) -> String,
    ) -> Result<Vec<T>> {
        let ids: Vec<String> = self.conn().zrange(index, 0, -1).await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = ids.iter().map(|id| key(id)).collect();
        let raws: Vec<Option<String>> = redis::cmd("MGET").arg(&keys).query_async(&mut self.conn()).await?;
        raws.into_iter().flatten().map(|r| serde_json::from_str(&r).map_err(StoreError::from)).collect()
    }

    pub async fn count_users(&self) -> Result<u64> {
        Ok(self.conn().zcard(self.keys.users_by_created()).await?)
    }

    /// Replaces a user if its stored version is still `expected_version`.
    pub async fn replace_user(&self, user: &UserRecord, expected_version: u64) -> Result<Replace> {
        let outcome: i64 = self
            .scripts
            .replace_versioned
            .key(self.keys.user(&user.id))
            .arg(expected_version.to_string())
            .arg(serde_json::to_string(user)?)
            .invoke_async(&mut self.conn())
            .await?;
        Ok(match outcome {
            1 => Replace::Done,
            0 => Replace::Conflict,
            _ => Replace::Missing,
        })
    }

    /// Deletes a user, its email claim and its index entry. `false` when it was not there.
    pub async fn delete_user(&self, user: &UserRecord) -> Result<bool> {
        let deleted: i64 = self
            .scripts
            .delete_user
            .key(self.keys.user(&user.id))
            .key(self.keys.email(&user.email))
            .key(self.keys.users_by_created())
            .arg(&user.id)
            .invoke_async(&mut self.conn())
            .await?;
        Ok(deleted == 1)
    }

    /// Consumes an invitation: the user id it was for, once.
    pub async fn take_invite(&self, token_hash: &str) -> Result<Option<String>> {
        Ok(redis::cmd("GETDEL").arg(self.keys.invite(token_hash)).query_async(&mut self.conn()).await?)
    }

    pub async fn save_refresh(&self, token_hash: &str, token: &RefreshToken, ttl_secs: u64) -> Result<()> {
        let key = self.keys.refresh(token_hash);
        redis::pipe()
            .atomic()
            .hset_multiple(
                &key,
                &[
                    ("user_id", token.user_id.as_str()),
                    ("family", token.family.as_str()),
                    ("issued_at_ms", &token.issued_at_ms.to_string()),
                ],
            )
            .expire(&key, ttl_secs as i64)
            .exec_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Spends a refresh token. A token presented twice revokes its family for `ttl_secs`.
    pub async fn rotate_refresh(&self, token_hash: &str, ttl_secs: u64) -> Result<Rotation> {
        let reply: Vec<String> = self
            .scripts
            .rotate_refresh
            .key(self.keys.refresh(token_hash))
            .arg(self.keys.revoked_family(""))
            .arg(ttl_secs)
            .invoke_async(&mut self.conn())
            .await?;
        Ok(match reply.as_slice() {
            [state, user_id, family, issued_at] if state == "valid" => Rotation::Valid(RefreshToken {
                user_id: user_id.clone(),
                family: family.clone(),
                issued_at_ms: issued_at.parse().unwrap_or(0),
            }),
            [state] if state == "reused" => Rotation::Reused,
            [state] if state == "revoked" => Rotation::Revoked,
            _ => Rotation::Unknown,
        })
    }

    /// The family of a refresh token, without spending it.
    pub async fn refresh_family(&self, token_hash: &str) -> Result<Option<String>> {
        Ok(self.conn().hget(self.keys.refresh(token_hash), "family").await?)
    }

    pub async fn revoke_family(&self, family: &str, ttl_secs: u64) -> Result<()> {
        let _: () = self.conn().set_ex(self.keys.revoked_family(family), "1", ttl_secs).await?;
        Ok(())
    }

    pub async fn save_api_key(&self, key: &ApiKeyRecord) -> Result<()> {
        redis::pipe()
            .atomic()
            .set(self.keys.api_key(&key.id), serde_json::to_string(key)?)
            .set(self.keys.api_key_secret(&key.secret_hash), &key.id)
            .zadd(self.keys.api_keys(), &key.id, key.created_at)
            .exec_async(&mut self.conn())
            .await?;
        Ok(())
    }

    pub async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>> {
        let raw: Option<String> = self.conn().get(self.keys.api_key(id)).await?;
        Ok(raw.map(|r| serde_json::from_str(&r)).transpose()?)
    }

    /// The live key whose secret hashes to `secret_hash`.
    pub async fn api_key_by_secret(&self, secret_hash: &str) -> Result<Option<ApiKeyRecord>> {
        let id: Option<String> = self.conn().get(self.keys.api_key_secret(secret_hash)).await?;
        match id {
            Some(id) => Ok(self.api_key(&id).await?.filter(|k| k.revoked_at.is_none())),
            None => Ok(None),
        }
    }

    pub async fn api_keys(&self) -> Result<Vec<ApiKeyRecord>> {
        self.indexed(self.keys.api_keys(), |id| self.keys.api_key(id)).await
    }

    /// Marks a key revoked and forgets its secret, so it can no longer be exchanged.
    pub async fn revoke_api_key(&self, key: &ApiKeyRecord) -> Result<()> {
        redis::pipe()
            .atomic()
            .set(self.keys.api_key(&key.id), serde_json::to_string(key)?)
            .del(self.keys.api_key_secret(&key.secret_hash))
            .exec_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Counts one attempt against `subject` in a fixed window: (attempts so far, seconds until
    /// the window ends).
    pub async fn hit(&self, subject: &str, window_secs: u64) -> Result<(u64, u64)> {
        let key = self.keys.login_attempts(subject);
        let (count, ttl): (u64, i64) = redis::pipe()
            .atomic()
            .incr(&key, 1)
            .cmd("EXPIRE")
            .arg(&key)
            .arg(window_secs)
            .arg("NX")
            .ignore()
            .ttl(&key)
            .query_async(&mut self.conn())
            .await?;
        Ok((count, ttl.max(1) as u64))
    }

    pub async fn clear_attempts(&self, subject: &str) -> Result<()> {
        let _: () = self.conn().del(self.keys.login_attempts(subject)).await?;
        Ok(())
    }

    /// True for the one caller that gets to create the first admin.
    pub async fn claim_bootstrap(&self) -> Result<bool> {
        let claimed: Option<String> = redis::cmd("SET")
            .arg(self.keys.bootstrap())
            .arg("1")
            .arg("NX")
            .arg("EX")
            .arg(60)
            .query_async(&mut self.conn())
            .await?;
        Ok(claimed.is_some())
    }
}
