//! Builds the incidents service: state once, the HTTP server, the outbox relay.

use std::time::Duration;

use actix_web::dev::Server;
use actix_web::web;
use platform::auth::TokenVerifier;
use platform::health::Readiness;
use platform::metrics::Metrics;
use platform::outbox::OutboxRelay;
pub use platform::server::ServiceHandle;
use platform::server::{self, Common};
use platform::service_token::ServiceToken;
use tokio_util::sync::CancellationToken;
use utoipa::OpenApi;

use crate::keys::Keys;
use crate::routes::{self, ApiDoc};
use crate::settings::Settings;
use crate::state::AppState;
use crate::store::RedisStore;
use crate::users_client::UsersClient;

pub const SERVICE: &str = "incidents";

pub struct Application {
    port: u16,
    server: Server,
    relay: OutboxRelay,
    stop_relay: CancellationToken,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let redis = platform::redis::connect_lazy(&settings.redis)?;
        let keys = Keys::new(&settings.redis.key_prefix);
        let store = RedisStore::new(redis.clone(), keys.clone());
        let relay = OutboxRelay::new(
            &settings.redis,
            keys.outbox(),
            settings.events.relay.clone(),
            ServiceToken::new(settings.events.token.clone())?,
        )?;
        let common = Common {
            metrics: Metrics::new(SERVICE),
            readiness: Readiness { redis, timeout: Duration::from_millis(settings.redis.response_timeout_ms) },
            verifier: TokenVerifier::with_jwks(&settings.auth),
        };
        let state = web::Data::new(AppState { store, users: UsersClient::new(&settings.users)? });
        let listener = server::bind(&settings.server)?;
        let port = listener.local_addr()?.port();
        let server = server::build(listener, &settings.server, ApiDoc::openapi(), common, move |cfg| {
            cfg.app_data(state.clone());
            routes::configure(cfg);
        })?;
        Ok(Self { port, server, relay, stop_relay: CancellationToken::new() })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server (in-flight requests finish) and then the relay.
    pub fn handle(&self) -> ServiceHandle {
        ServiceHandle::new(self.server.handle(), self.stop_relay.clone())
    }

    /// Serves and relays events until stopped through [`handle`](Self::handle).
    pub async fn run(self) -> std::io::Result<()> {
        let relay = tokio::spawn(self.relay.run(self.stop_relay.clone()));
        let served = self.server.await;
        self.stop_relay.cancel();
        let _ = relay.await;
        served
    }

    /// Serves until Ctrl-C or SIGTERM.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.handle().stop_on_signal();
        self.run().await
    }
}

/// The OpenAPI document of this service, built from its routes.
pub fn openapi() -> utoipa::openapi::OpenApi {
    platform::openapi::document(ApiDoc::openapi(), routes::configure)
}
