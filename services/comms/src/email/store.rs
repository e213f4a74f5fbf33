//! Storage of subscribers and the mail queue.

use redis::AsyncCommands;
use sha2::{Digest, Sha256};

use super::{Mail, Subscriber, SubscriptionState};
use crate::store::{RedisStore, StoreError};

type Result<T> = std::result::Result<T, StoreError>;

/// The subscriber id for an address and a scope (`all` or an incident id).
pub fn subscriber_id(email: &str, scope: &str) -> String {
    platform::hex(&Sha256::digest(format!("{email}|{scope}").as_bytes())[..12])
}

pub fn token_hash(token: &str) -> String {
    platform::hex(&Sha256::digest(token.as_bytes()))
}

impl RedisStore {
    pub async fn subscriber(&self, id: &str) -> Result<Option<Subscriber>> {
        let raw: Option<String> = self.conn().get(self.keys.subscriber(id)).await?;
        Ok(raw.map(|r| serde_json::from_str(&r)).transpose()?)
    }

    pub async fn subscriber_by_token(&self, token: &str) -> Result<Option<Subscriber>> {
        let id: Option<String> = self.conn().get(self.keys.subscriber_token(&token_hash(token))).await?;
        match id {
            Some(id) => self.subscriber(&id).await,
            None => Ok(None),
        }
    }

    /// Saves a subscriber, its token index and its place in the confirmed set of its scope.
    pub async fn save_subscriber(&self, s: &Subscriber) -> Result<()> {
        let confirmed = self.keys.confirmed_subscribers(s.scope());
        let mut pipe = redis::pipe();
        pipe.atomic()
            .set(self.keys.subscriber(&s.id), serde_json::to_string(s)?)
            .ignore()
            .set(self.keys.subscriber_token(&token_hash(&s.token)), &s.id)
            .ignore();
        match s.state {
            SubscriptionState::Confirmed => pipe.sadd(&confirmed, &s.id).ignore(),
            _ => pipe.srem(&confirmed, &s.id).ignore(),
        };
        let _: () = pipe.query_async(&mut self.conn()).await?;
        Ok(())
    }

    /// How many confirmed subscribers a scope (`all` or an incident id) has.
    pub async fn confirmed_count(&self, scope: &str) -> Result<u64> {
        Ok(self.conn().scard(self.keys.confirmed_subscribers(scope)).await?)
    }

    /// Confirmed subscribers of every incident and of incident `incident_id`.
    pub async fn confirmed_subscribers(&self, incident_id: Option<&str>) -> Result<Vec<Subscriber>> {
        let mut ids: Vec<String> = self.conn().smembers(self.keys.confirmed_subscribers("all")).await?;
        if let Some(id) = incident_id {
            let scoped: Vec<String> = self.conn().smembers(self.keys.confirmed_subscribers(id)).await?;
            ids.extend(scoped);
        }
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = ids.iter().map(|id| self.keys.subscriber(id)).collect();
        let raws: Vec<Option<String>> = redis::cmd("MGET").arg(&keys).query_async(&mut self.conn()).await?;
        raws.into_iter().flatten().map(|r| serde_json::from_str(&r).map_err(StoreError::from)).collect()
    }

    /// Queues a mail once (its id decides).
    pub async fn enqueue_mail(&self, mail: &Mail) -> Result<bool> {
        let now = chrono::Utc::now().timestamp_millis();
        self.enqueue_due(self.keys.mail(&mail.id), self.keys.mails_due(), &mail.id, serde_json::to_string(mail)?, now)
            .await
    }

    pub async fn claim_mails(&self, now_ms: i64, limit: usize, visibility_ms: i64) -> Result<Vec<Mail>> {
        self.claim_due(self.keys.mails_due(), self.keys.mail(""), now_ms, limit, visibility_ms).await
    }

    /// Sent or given up (`None`), or to retry at `retry_at_ms`.
    pub async fn finish_mail(&self, mail: &Mail, retry_at_ms: Option<i64>) -> Result<()> {
        let mut pipe = redis::pipe();
        pipe.atomic();
        match retry_at_ms {
            Some(at) => pipe
                .set(self.keys.mail(&mail.id), serde_json::to_string(mail)?)
                .ignore()
                .zadd(self.keys.mails_due(), &mail.id, at)
                .ignore(),
            None => {
                pipe.zrem(self.keys.mails_due(), &mail.id).ignore().expire(self.keys.mail(&mail.id), 86_400).ignore()
            }
        };
        let _: () = pipe.query_async(&mut self.conn()).await?;
        Ok(())
    }
}
