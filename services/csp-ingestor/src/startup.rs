//! Builds the ingestor: state once, the HTTP server, the scheduler, the incident worker and the
//! outbox relay.

use std::sync::Arc;
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

use crate::fetch::Fetcher;
use crate::incidents_client::IncidentsClient;
use crate::keys::Keys;
use crate::poller::Ingestor;
use crate::routes::{self, ApiDoc, AppState};
use crate::settings::Settings;
use crate::store::RedisStore;

pub const SERVICE: &str = "csp-ingestor";

pub struct Application {
    port: u16,
    server: Server,
    ingestor: Arc<Ingestor>,
    relay: OutboxRelay,
    polling: bool,
    stop_workers: CancellationToken,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        settings.validate()?;
        let redis = platform::redis::connect_lazy(&settings.redis)?;
        let keys = Keys::new(&settings.redis.key_prefix);
        let store = RedisStore::new(redis.clone(), keys.clone());
        let token = Arc::new(ServiceToken::new(settings.events.token.clone())?);
        let relay = OutboxRelay::new(
            &settings.redis,
            keys.outbox(),
            settings.events.relay.clone(),
            ServiceToken::new(settings.events.token.clone())?,
        )?;
        let ingestor = Arc::new(Ingestor {
            store,
            incidents: IncidentsClient::new(&settings.incidents, token)?,
            fetcher: Fetcher::new(Duration::from_millis(settings.polling.timeout_ms), settings.polling.max_body_bytes)?,
            polling: settings.polling.clone(),
            correlation: settings.correlation.clone(),
            holder: uuid::Uuid::new_v4().simple().to_string(),
        });
        let common = Common {
            metrics: Metrics::new(SERVICE),
            readiness: Readiness { redis, timeout: Duration::from_millis(settings.redis.response_timeout_ms) },
            verifier: TokenVerifier::with_jwks(&settings.auth),
        };
        let state = web::Data::new(AppState { ingestor: ingestor.clone() });
        let listener = server::bind(&settings.server)?;
        let port = listener.local_addr()?.port();
        let server = server::build(listener, &settings.server, ApiDoc::openapi(), common, move |cfg| {
            cfg.app_data(state.clone());
            routes::configure(cfg);
        })?;
        Ok(Self {
            port,
            server,
            ingestor,
            relay,
            polling: settings.polling.enabled,
            stop_workers: CancellationToken::new(),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server (in-flight requests finish), then the scheduler, worker and relay.
    pub fn handle(&self) -> ServiceHandle {
        ServiceHandle::new(self.server.handle(), self.stop_workers.clone())
    }

    /// Serves, polls and relays until stopped through [`handle`](Self::handle).
    pub async fn run(self) -> std::io::Result<()> {
        let mut workers = vec![
            tokio::spawn(self.relay.run(self.stop_workers.clone())),
            tokio::spawn(self.ingestor.clone().run_incident_work(self.stop_workers.clone())),
        ];
        if self.polling {
            workers.push(tokio::spawn(self.ingestor.clone().run_scheduler(self.stop_workers.clone())));
        } else {
            tracing::info!("background polling is off; providers are read on refresh only");
        }
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
