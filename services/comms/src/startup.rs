//! Builds the comms service: state once, the public pages and their refresher, the server.

use std::time::Duration;

use actix_web::dev::Server;
use actix_web::web;
use platform::auth::TokenVerifier;
use platform::health::Readiness;
use platform::metrics::Metrics;
pub use platform::server::ServiceHandle;
use platform::server::{self, Common};
use platform::service_token::ServiceToken;
use tokio_util::sync::CancellationToken;
use utoipa::OpenApi;

use crate::chatops::ChatOps;
use crate::chatops::peers::Peers;
use crate::chatops::posts::Poster;
use crate::chatops::slack::SlackApi;
use crate::email::compose::Composer;
use crate::email::sender::MailSender;
use crate::incidents_client::IncidentsClient;
use crate::keys::Keys;
use crate::routes::{self, ApiDoc};
use crate::settings::Settings;
use crate::snapshot::PublicPages;
use crate::state::AppState;
use crate::store::RedisStore;
use crate::webhooks::network::NetworkPolicy;
use crate::webhooks::worker::Dispatcher;

pub const SERVICE: &str = "comms";

pub struct Application {
    port: u16,
    server: Server,
    pages: PublicPages,
    dispatcher: Dispatcher,
    mail: MailSender,
    poster: Poster,
    fanout_store: RedisStore,
    stop_workers: CancellationToken,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let redis = platform::redis::connect_lazy(&settings.redis)?;
        let store = RedisStore::new(redis.clone(), Keys::new(&settings.redis.key_prefix));
        let public_url = settings.server.public_url.trim_end_matches('/').to_string();
        let pages = PublicPages::new(store.clone(), settings.public.clone(), public_url.clone());
        if let Err(e) = pages.refresh().await {
            tracing::warn!(error = %e, "public pages start empty until Redis answers");
        }
        let common = Common {
            metrics: Metrics::new(SERVICE),
            readiness: Readiness { redis, timeout: Duration::from_millis(settings.redis.response_timeout_ms) },
            verifier: TokenVerifier::with_jwks(&settings.auth),
        };
        let network = NetworkPolicy::new(&settings.webhooks.allowed_networks).map_err(anyhow::Error::msg)?;
        let composer = Composer { page_name: settings.public.page_name.clone(), public_url: public_url.clone() };
        let dispatcher = Dispatcher::new(store.clone(), settings.webhooks.clone(), network.clone(), composer.clone())?;
        let mail = MailSender::new(store.clone(), settings.email.clone())?;
        sre_channel(&store, &settings.notifications, &network).await?;
        // The fan-out reader blocks on the stream: it gets a connection of its own.
        let mut fanout_redis = settings.redis.clone();
        fanout_redis.response_timeout_ms = fanout_redis.response_timeout_ms.max(3000);
        let fanout_store =
            RedisStore::new(platform::redis::connect_lazy(&fanout_redis)?, Keys::new(&settings.redis.key_prefix));
        let chatops_timeout = Duration::from_millis(settings.chatops.timeout_ms);
        let slack = SlackApi::new(&settings.chatops.slack_api_url, chatops_timeout)?;
        let chatops = ChatOps {
            slack: slack.clone(),
            peers: Peers::new(
                &settings.incidents.base_url,
                &settings.chatops.users_url,
                ServiceToken::new(settings.chatops.token.clone())?,
                chatops_timeout,
            )?,
            reply_budget: Duration::from_millis(settings.chatops.reply_budget_ms),
        };
        let poster = Poster::new(
            store.clone(),
            slack,
            settings.chatops.retry_schedule_ms.clone(),
            Duration::from_millis(settings.chatops.poll_interval_ms),
        );
        let state = web::Data::new(AppState {
            store,
            incidents: IncidentsClient::new(&settings.incidents)?,
            pages: pages.clone(),
            network,
            composer,
            confirmation_interval_secs: settings.email.confirmation_interval_secs,
            chatops,
        });
        let listener = server::bind(&settings.server)?;
        let port = listener.local_addr()?.port();
        let server = server::build(listener, &settings.server, ApiDoc::openapi(), common, move |cfg| {
            cfg.app_data(state.clone());
            routes::configure(cfg);
        })?;
        Ok(Self { port, server, pages, dispatcher, mail, poster, fanout_store, stop_workers: CancellationToken::new() })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn handle(&self) -> ServiceHandle {
        ServiceHandle::new(self.server.handle(), self.stop_workers.clone())
    }

    /// Serves, keeping the public pages fresh, until stopped through [`handle`](Self::handle).
    pub async fn run(self) -> std::io::Result<()> {
        let workers = [
            tokio::spawn(self.pages.clone().keep_fresh(self.stop_workers.clone())),
            tokio::spawn(self.dispatcher.clone().run_fanout(self.fanout_store.clone(), self.stop_workers.clone())),
            tokio::spawn(self.dispatcher.clone().run_deliveries(self.stop_workers.clone())),
            tokio::spawn(self.mail.clone().run(self.stop_workers.clone())),
            tokio::spawn(self.poster.clone().run(self.stop_workers.clone())),
        ];
        let served = self.server.await;
        self.stop_workers.cancel();
        for worker in workers {
            let _ = worker.await;
        }
        served
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.handle().stop_on_signal();
        self.run().await
    }
}

/// Keeps the SRE channel's endpoint in line with the settings: every incident event to Slack.
async fn sre_channel(
    store: &RedisStore,
    settings: &crate::settings::NotificationSettings,
    network: &NetworkPolicy,
) -> anyhow::Result<()> {
    use crate::webhooks::endpoint::{Endpoint, Kind, SRE_CHANNEL};
    let existing = store.webhook(SRE_CHANNEL).await.ok().flatten();
    if !settings.slack_enabled {
        if existing.is_some() {
            store.delete_webhook(SRE_CHANNEL).await?;
        }
        return Ok(());
    }
    let raw = secrecy::ExposeSecret::expose_secret(&settings.slack_webhook_url);
    let url = crate::webhooks::network::check_url(raw, network)
        .await
        .map_err(|e| anyhow::anyhow!("notifications.slack_webhook_url {e}"))?;
    let now = chrono::Utc::now().timestamp();
    let endpoint = Endpoint {
        url: url.to_string(),
        kind: Kind::Slack,
        event_types: vec!["incident.*".into()],
        enabled: true,
        disabled_reason: None,
        updated_at: now,
        ..existing.unwrap_or_else(|| Endpoint {
            id: SRE_CHANNEL.into(),
            url: String::new(),
            description: "The SRE channel (NOTIFICATIONS_SLACK_WEBHOOK_URL)".into(),
            kind: Kind::Slack,
            event_types: Vec::new(),
            min_severity: None,
            services: Vec::new(),
            secret: crate::webhooks::signing::new_secret(),
            previous_secret: None,
            previous_secret_expires_at: None,
            enabled: true,
            disabled_reason: None,
            failing_since: None,
            created_at: now,
            updated_at: now,
            created_by: "settings".into(),
        })
    };
    store.save_webhook(&endpoint).await?;
    Ok(())
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    platform::openapi::document(ApiDoc::openapi(), routes::configure)
}
