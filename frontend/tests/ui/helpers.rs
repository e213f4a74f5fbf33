//! Every service and the UI, in process, on one private Redis.

use platform::testing::{TestRedis, free_port, unique_prefix};
use users::testing::TestUsers;

pub struct Platform {
    pub ui: String,
    pub incidents: String,
    pub comms: String,
    pub users: TestUsers,
}

/// How the platform is started.
#[derive(Default)]
pub struct Options {
    /// The UI is pointed at a port nobody listens on instead of comms.
    pub comms_down: bool,
    /// Comms sends mail through this SMTP server.
    pub smtp_url: Option<String>,
}

fn load<T: serde::de::DeserializeOwned>(defaults: &str) -> T {
    platform::settings::load(defaults, "UI_TEST_UNUSED__", &[]).expect("defaults")
}

/// Starts the services and the UI.
pub async fn start(comms_down: bool) -> Platform {
    start_with(Options { comms_down, ..Options::default() }).await
}

pub async fn start_with(options: Options) -> Platform {
    let comms_down = options.comms_down;
    let redis = TestRedis::shared().url();
    let users = users::testing::spawn(&redis).await;
    let jwks = users.jwks_url();
    let key = users.api_key("services", "sre").await;

    let mut i: incidents::settings::Settings = load(incidents::settings::DEFAULTS);
    (i.server.port, i.redis.url, i.redis.key_prefix) = (0, redis.as_str().into(), unique_prefix("incidents"));
    i.auth.jwks_url = jwks.clone();
    i.users.base_url = users.address.clone();
    let comms_port = free_port();
    i.events.relay.target_url = format!("http://127.0.0.1:{comms_port}/api/v1/events");
    i.events.relay.min_backoff_ms = 20;
    i.events.token.token_url = format!("{}/api/v1/auth/token", users.address);
    i.events.token.api_key = key.clone().into();
    let incidents_app = incidents::startup::Application::build(i).await.expect("incidents builds");
    let incidents = format!("http://127.0.0.1:{}", incidents_app.port());
    tokio::spawn(incidents_app.run());

    let mut c: comms::settings::Settings = load(comms::settings::DEFAULTS);
    (c.server.port, c.redis.url, c.redis.key_prefix) = (comms_port, redis.as_str().into(), unique_prefix("comms"));
    c.auth.jwks_url = jwks.clone();
    c.incidents.base_url = incidents.clone();
    c.chatops.users_url = users.address.clone();
    c.chatops.token.token_url = format!("{}/api/v1/auth/token", users.address);
    c.chatops.token.api_key = key.clone().into();
    c.public.refresh_interval_ms = 50;
    c.email.outbox_dir = tempfile_dir();
    if let Some(smtp) = options.smtp_url {
        c.email.smtp_url = smtp.into();
    }
    // Test receivers listen on loopback.
    c.webhooks.allowed_networks = vec!["127.0.0.0/8".into()];
    c.webhooks.poll_interval_ms = 20;
    let comms_app = comms::startup::Application::build(c).await.expect("comms builds");
    tokio::spawn(comms_app.run());
    let comms = format!("http://127.0.0.1:{comms_port}");

    let mut p: csp_ingestor::settings::Settings = load(csp_ingestor::settings::DEFAULTS);
    (p.server.port, p.redis.url, p.redis.key_prefix) = (0, redis.as_str().into(), unique_prefix("csp"));
    p.auth.jwks_url = jwks.clone();
    p.incidents.base_url = incidents.clone();
    p.polling.enabled = false;
    p.events.token.token_url = format!("{}/api/v1/auth/token", users.address);
    p.events.token.api_key = key.clone().into();
    let csp_app = csp_ingestor::startup::Application::build(p).await.expect("csp builds");
    let csp = format!("http://127.0.0.1:{}", csp_app.port());
    tokio::spawn(csp_app.run());

    let mut f: flags::settings::Settings = load(flags::settings::DEFAULTS);
    (f.server.port, f.redis.url, f.redis.key_prefix) = (0, redis.as_str().into(), unique_prefix("flags"));
    f.auth.jwks_url = jwks.clone();
    let flags_app = flags::startup::Application::build(f).await.expect("flags builds");
    let flags = format!("http://127.0.0.1:{}", flags_app.port());
    tokio::spawn(flags_app.run());

    let mut u: frontend::settings::Settings = load(frontend::settings::DEFAULTS);
    (u.server.port, u.redis.url, u.redis.key_prefix) = (0, redis.as_str().into(), unique_prefix("frontend"));
    u.services.users = users.address.clone();
    u.services.incidents = incidents.clone();
    u.services.comms = if comms_down { format!("http://127.0.0.1:{}", free_port()) } else { comms.clone() };
    u.services.csp = csp;
    u.services.flags = flags;
    u.services.timeout_ms = 2000;
    let ui_app = frontend::startup::Application::build(u).await.expect("the UI builds");
    let ui = format!("http://127.0.0.1:{}", ui_app.port());
    tokio::spawn(ui_app.run());
    Platform { ui, incidents, comms, users }
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(unique_prefix("outbox").trim_end_matches(':').replace(':', "-"));
    std::fs::create_dir_all(&dir).expect("an outbox directory");
    dir
}
