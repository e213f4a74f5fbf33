//! What handlers share, built once at startup.

use std::sync::Arc;

use crate::passwords::PasswordHasher;
use crate::settings::{LoginLimits, TokenSettings};
use crate::signing::TokenIssuer;
use crate::store::RedisStore;

pub struct AppState {
    pub store: RedisStore,
    pub issuer: Arc<TokenIssuer>,
    pub hasher: PasswordHasher,
    pub tokens: TokenSettings,
    pub login_limits: LoginLimits,
}

/// Now, in epoch seconds.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Now, in epoch milliseconds: session cut-offs need finer than seconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
