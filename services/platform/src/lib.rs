//! What every PolyStatus service shares, and nothing service-specific.
#![forbid(unsafe_code)]

pub mod auth;
pub mod email;
pub mod error;
pub mod events;
pub mod extract;
pub mod health;
pub mod http_client;
pub mod metrics;
pub mod openapi;
pub mod outbox;
pub mod redis;
pub mod request_id;
pub mod server;
pub mod service_token;
pub mod settings;
pub mod shutdown;
pub mod telemetry;
#[cfg(feature = "test-support")]
pub mod testing;

pub use error::{ApiError, FieldError, Fields};
