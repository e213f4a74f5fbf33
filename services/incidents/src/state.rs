//! What handlers share, built once at startup.

use crate::store::RedisStore;
use crate::users_client::UsersClient;

pub struct AppState {
    pub store: RedisStore,
    pub users: UsersClient,
}

/// Now, in epoch seconds.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The `source` of every event this service emits.
pub const EVENT_SOURCE: &str = "/polystatus/incidents";
