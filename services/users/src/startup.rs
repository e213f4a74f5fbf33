//! Builds the users service: state once, the HTTP server on its port, the first admin.

use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::web;
use platform::health::Readiness;
use platform::metrics::Metrics;
use platform::server::{self, Common};
use utoipa::OpenApi;

use crate::bootstrap::{self, FirstAdmin};
use crate::keys::Keys;
use crate::passwords::PasswordHasher;
use crate::routes::{self, ApiDoc};
use crate::settings::Settings;
use crate::signing::TokenIssuer;
use crate::state::AppState;
use crate::store::RedisStore;

pub const SERVICE: &str = "users";

pub struct Application {
    port: u16,
    server: Server,
    first_admin: Option<FirstAdmin>,
    store: RedisStore,
}

impl Application {
    /// Binds the port, connects Redis and creates the first admin when there is no user.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let redis = platform::redis::connect_lazy(&settings.redis)?;
        let store = RedisStore::new(redis.clone(), Keys::new(&settings.redis.key_prefix));
        let issuer = Arc::new(TokenIssuer::load_or_create(&settings.tokens)?);
        let hasher = PasswordHasher::new(&settings.passwords).await?;
        let first_admin = bootstrap::ensure_first_admin(&store, &hasher, &settings.bootstrap)
            .await
            .map_err(|e| anyhow::anyhow!("could not prepare the first admin (is Redis reachable?): {e:#}"))?;
        let common = Common {
            metrics: Metrics::new(SERVICE),
            readiness: Readiness { redis, timeout: Duration::from_millis(settings.redis.response_timeout_ms) },
            verifier: issuer.verifier()?,
        };
        let state = web::Data::new(AppState {
            store: store.clone(),
            issuer,
            hasher,
            tokens: settings.tokens.clone(),
            login_limits: settings.login_limits.clone(),
        });
        let listener = server::bind(&settings.server)?;
        let port = listener.local_addr()?.port();
        let server = server::build(listener, &settings.server, ApiDoc::openapi(), common, move |cfg| {
            cfg.app_data(state.clone());
            routes::configure(cfg);
        })?;
        Ok(Self { port, server, first_admin, store })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The admin created by this start, if any.
    pub fn first_admin(&self) -> Option<&FirstAdmin> {
        self.first_admin.as_ref()
    }

    /// The API key the platform's own services call each other with (role sre), kept in `file`
    /// (mode 0600) so restarts reuse it; a new one is made when the file is missing or its key
    /// was revoked.
    pub async fn service_api_key(&self, file: &std::path::Path) -> anyhow::Result<String> {
        if let Ok(secret) = std::fs::read_to_string(file) {
            let secret = secret.trim().to_string();
            if self.store.api_key_by_secret(&crate::secrets::hash(&secret)).await?.is_some() {
                return Ok(secret);
            }
        }
        let (record, secret) =
            crate::store::new_api_key("polystatus-services".into(), platform::auth::Role::Sre, "polystatus".into());
        self.store.save_api_key(&record).await?;
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        std::io::Write::write_all(&mut options.open(file)?, secret.as_bytes())?;
        Ok(secret)
    }

    /// Stops the server: `handle().stop(true)` lets in-flight requests finish.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped through [`handle`](Self::handle).
    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }

    /// Serves until Ctrl-C or SIGTERM, then finishes in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.handle();
        tokio::spawn(async move {
            platform::shutdown::signal().await;
            handle.stop(true).await;
        });
        self.run().await
    }
}

/// The OpenAPI document of this service, built from its routes.
pub fn openapi() -> utoipa::openapi::OpenApi {
    platform::openapi::document(ApiDoc::openapi(), routes::configure)
}
