//! Storage of endpoints, deliveries and the delivery log.

use redis::AsyncCommands;

use super::delivery::{Attempt, Delivery};
use super::endpoint::Endpoint;
use crate::store::{RedisStore, StoreError};

type Result<T> = std::result::Result<T, StoreError>;

/// How many attempts each endpoint's log keeps.
const LOG_LENGTH: isize = 1000;
/// How long a finished delivery is kept for replay.
const KEEP_FINISHED_SECS: i64 = 30 * 86_400;

impl RedisStore {
    pub async fn save_webhook(&self, endpoint: &Endpoint) -> Result<()> {
        let _: () = redis::pipe()
            .atomic()
            .set(self.keys.webhook(&endpoint.id), serde_json::to_string(endpoint)?)
            .ignore()
            .zadd(self.keys.webhooks(), &endpoint.id, endpoint.created_at)
            .ignore()
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    pub async fn webhook(&self, id: &str) -> Result<Option<Endpoint>> {
        let raw: Option<String> = self.conn().get(self.keys.webhook(id)).await?;
        Ok(raw.map(|r| serde_json::from_str(&r)).transpose()?)
    }

    pub async fn webhooks(&self) -> Result<Vec<Endpoint>> {
        let ids: Vec<String> = self.conn().zrange(self.keys.webhooks(), 0, -1).await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = ids.iter().map(|id| self.keys.webhook(id)).collect();
        let raws: Vec<Option<String>> = redis::cmd("MGET").arg(&keys).query_async(&mut self.conn()).await?;
        raws.into_iter().flatten().map(|r| serde_json::from_str(&r).map_err(StoreError::from)).collect()
    }

    /// Removes an endpoint; `false` when there was none.
    pub async fn delete_webhook(&self, id: &str) -> Result<bool> {
        let (removed,): (i64,) = redis::pipe()
            .atomic()
            .del(self.keys.webhook(id))
            .zrem(self.keys.webhooks(), id)
            .ignore()
            .del(self.keys.attempts(id))
            .ignore()
            .query_async(&mut self.conn())
            .await?;
        Ok(removed == 1)
    }

    /// Stores and schedules a delivery, unless one with its id exists (`false`).
    pub async fn enqueue(&self, delivery: &Delivery, due_ms: i64) -> Result<bool> {
        let json = serde_json::to_string(delivery)?;
        self.enqueue_due(self.keys.delivery(&delivery.id), self.keys.deliveries_due(), &delivery.id, json, due_ms).await
    }

    /// Up to `limit` due deliveries, hidden from other workers for `visibility_ms`.
    pub async fn claim_deliveries(&self, now_ms: i64, limit: usize, visibility_ms: i64) -> Result<Vec<Delivery>> {
        self.claim_due(self.keys.deliveries_due(), self.keys.delivery(""), now_ms, limit, visibility_ms).await
    }

    pub async fn delivery(&self, id: &str) -> Result<Option<Delivery>> {
        let raw: Option<String> = self.conn().get(self.keys.delivery(id)).await?;
        Ok(raw.map(|r| serde_json::from_str(&r)).transpose()?)
    }

    /// Records an attempt; `retry_at_ms` reschedules the delivery, `None` finishes it.
    pub async fn record_attempt(&self, delivery: &Delivery, attempt: &Attempt, retry_at_ms: Option<i64>) -> Result<()> {
        let key = self.keys.delivery(&delivery.id);
        let log = self.keys.attempts(&delivery.endpoint_id);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .set(&key, serde_json::to_string(delivery)?)
            .ignore()
            .lpush(&log, serde_json::to_string(attempt)?)
            .ignore()
            .ltrim(&log, 0, LOG_LENGTH - 1)
            .ignore();
        match retry_at_ms {
            Some(at) => pipe.zadd(self.keys.deliveries_due(), &delivery.id, at).ignore(),
            None => {
                pipe.zrem(self.keys.deliveries_due(), &delivery.id).ignore().expire(&key, KEEP_FINISHED_SECS).ignore()
            }
        };
        let _: () = pipe.query_async(&mut self.conn()).await?;
        Ok(())
    }

    /// The latest attempts of an endpoint, newest first.
    pub async fn attempts(&self, endpoint_id: &str, limit: isize) -> Result<Vec<Attempt>> {
        let raws: Vec<String> = self.conn().lrange(self.keys.attempts(endpoint_id), 0, limit - 1).await?;
        raws.iter().map(|r| serde_json::from_str(r).map_err(StoreError::from)).collect()
    }

    /// Drops a delivery that can no longer be made (its endpoint is gone or disabled).
    pub async fn drop_delivery(&self, id: &str) -> Result<()> {
        let _: () = redis::pipe()
            .atomic()
            .zrem(self.keys.deliveries_due(), id)
            .ignore()
            .expire(self.keys.delivery(id), KEEP_FINISHED_SECS)
            .ignore()
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }
}
