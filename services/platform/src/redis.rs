//! The Redis connection every service uses: one multiplexed connection that reconnects by
//! itself after Redis restarts, with timeouts so a dead Redis fails requests fast (503) instead
//! of hanging them.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::settings::RedisSettings;

/// Opens the connection. Fails when Redis cannot be reached now; once open, it survives
/// Redis going away and coming back.
pub async fn connect(settings: &RedisSettings) -> Result<ConnectionManager, redis::RedisError> {
    let client = redis::Client::open(settings.url())?;
    ConnectionManager::new_with_config(client, manager_config(settings)).await
}

/// Like [`connect`], but succeeds while Redis is down: the first command connects. Used so a
/// service can start (and answer `/health/ready` with 503) before its Redis is up.
pub fn connect_lazy(settings: &RedisSettings) -> Result<ConnectionManager, redis::RedisError> {
    let client = redis::Client::open(settings.url())?;
    ConnectionManager::new_lazy_with_config(client, manager_config(settings))
}

fn manager_config(settings: &RedisSettings) -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_millis(settings.connect_timeout_ms)))
        .set_response_timeout(Some(Duration::from_millis(settings.response_timeout_ms)))
        .set_number_of_retries(2)
        .set_min_delay(Duration::from_millis(50))
        .set_max_delay(Duration::from_millis(500))
}

/// Answers PING within `timeout`, or says why not.
pub async fn ping(conn: &ConnectionManager, timeout: Duration) -> Result<Duration, String> {
    let mut conn = conn.clone();
    let started = std::time::Instant::now();
    match tokio::time::timeout(timeout, redis::cmd("PING").query_async::<String>(&mut conn)).await {
        Ok(Ok(_)) => Ok(started.elapsed()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
    }
}

/// What a service's store can fail with: Redis (503 to the client, retried) or a stored record
/// that no longer parses (500, logged).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Redis(#[from] redis::RedisError),
    #[error("a stored record is unreadable: {0}")]
    Corrupt(#[from] serde_json::Error),
}

impl From<StoreError> for crate::ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Redis(e) => e.into(),
            StoreError::Corrupt(e) => crate::ApiError::Internal(e.into()),
        }
    }
}
