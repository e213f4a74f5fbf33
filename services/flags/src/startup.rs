//! Builds the flags service: the in-memory copy of the flags, the HTTP server, the refresher
//! and the outbox relay.

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

use crate::cache::FlagCache;
use crate::keys::Keys;
use crate::routes::{self, ApiDoc, AppState};
use crate::settings::Settings;
use crate::store::RedisStore;

pub const SERVICE: &str = "flags";

pub struct Application {
    port: u16,
    server: Server,
    cache: FlagCache,
    relay: OutboxRelay,
    settings: Settings,
    stop_workers: CancellationToken,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        settings.validate()?;
        let redis = platform::redis::connect_lazy(&settings.redis)?;
        let keys = Keys::new(&settings.redis.key_prefix);
        let store = RedisStore::new(redis.clone(), keys.clone());
        let cache = FlagCache::new(store.clone());
        if let Err(e) = cache.refresh().await {
            tracing::warn!(error = %e, "flags start empty until Redis answers");
        }
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
        let stop_workers = CancellationToken::new();
        let state = web::Data::new(AppState {
            store,
            cache: cache.clone(),
            answers: Default::default(),
            stop: stop_workers.clone(),
        });
        let listener = server::bind(&settings.server)?;
        let port = listener.local_addr()?.port();
        let server = server::build(listener, &settings.server, ApiDoc::openapi(), common, move |cfg| {
            cfg.app_data(state.clone());
            routes::configure(cfg);
        })?;
        Ok(Self { port, server, cache, relay, settings, stop_workers })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server (in-flight requests finish), the streams, the refresher and the relay.
    pub fn handle(&self) -> ServiceHandle {
        ServiceHandle::new(self.server.handle(), self.stop_workers.clone())
    }

    /// Serves until stopped through [`handle`](Self::handle).
    pub async fn run(self) -> std::io::Result<()> {
        let interval = Duration::from_millis(self.settings.cache.refresh_interval_ms);
        let workers = [
            tokio::spawn(self.relay.run(self.stop_workers.clone())),
            tokio::spawn(self.cache.clone().keep_fresh(
                self.settings.redis.clone(),
                interval,
                self.stop_workers.clone(),
            )),
        ];
        let served = self.server.await;
        self.stop_workers.cancel();
        for worker in workers {
            let _ = worker.await;
        }
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
