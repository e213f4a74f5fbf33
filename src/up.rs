//! `polystatus up`: every service in one process on its own port, sharing one Redis.

use std::path::Path;

use crate::redis_server;

/// Starts Redis (if needed) and every service, prints where they listen, serves until Ctrl-C
/// or SIGTERM, then lets in-flight requests finish and stops Redis if it started it.
pub async fn run(data_dir: &Path) -> anyhow::Result<()> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| redis_server::DEFAULT_URL.to_string());
    let mut redis = redis_server::ensure(&url, data_dir).await?;
    let outcome = serve(&redis.url, redis.is_embedded(), data_dir).await;
    redis.shutdown().await;
    outcome
}

async fn serve(redis_url: &str, embedded_redis: bool, data_dir: &Path) -> anyhow::Result<()> {
    let mut users_settings = users::settings::Settings::load()?;
    users_settings.redis.url = secrecy::SecretString::from(redis_url);
    if users_settings.tokens.signing_key_file.is_relative() {
        let name = users_settings.tokens.signing_key_file.file_name().map(ToOwned::to_owned).unwrap_or_default();
        users_settings.tokens.signing_key_file = data_dir.join(name);
    }
    let host = users_settings.server.host.clone();
    let users = users::startup::Application::build(users_settings).await?;
    // Services reach each other over loopback on the port actually bound.
    let users_url = format!("http://127.0.0.1:{}", users.port());

    let service_key = users.service_api_key(&data_dir.join("service-api-key")).await?;
    let mut comms_settings = comms::settings::Settings::load()?;

    let mut incidents_settings = incidents::settings::Settings::load()?;
    incidents_settings.redis.url = secrecy::SecretString::from(redis_url);
    incidents_settings.auth.jwks_url = format!("{users_url}/.well-known/jwks.json");
    incidents_settings.users.base_url = users_url.clone();
    incidents_settings.events.token.token_url = format!("{users_url}/api/v1/auth/token");
    incidents_settings.events.token.api_key = secrecy::SecretString::from(service_key.clone());
    if incidents_settings.events.relay.target_url.is_empty() {
        let comms_port = comms_settings.server.port;
        incidents_settings.events.relay.target_url = format!("http://127.0.0.1:{comms_port}/api/v1/events");
    }
    let incidents = incidents::startup::Application::build(incidents_settings).await?;

    comms_settings.redis.url = secrecy::SecretString::from(redis_url);
    if comms_settings.email.outbox_dir.is_relative() {
        // Mails with no SMTP server configured land next to the rest of the data.
        comms_settings.email.outbox_dir = data_dir.join("outbox");
    }
    comms_settings.auth.jwks_url = format!("{users_url}/.well-known/jwks.json");
    comms_settings.incidents.base_url = format!("http://127.0.0.1:{}", incidents.port());
    comms_settings.chatops.users_url = users_url.clone();
    comms_settings.chatops.token.token_url = format!("{users_url}/api/v1/auth/token");
    comms_settings.chatops.token.api_key = secrecy::SecretString::from(service_key.clone());
    let comms = comms::startup::Application::build(comms_settings).await?;

    let mut csp_settings = csp_ingestor::settings::Settings::load()?;
    csp_settings.redis.url = secrecy::SecretString::from(redis_url);
    csp_settings.auth.jwks_url = format!("{users_url}/.well-known/jwks.json");
    csp_settings.incidents.base_url = format!("http://127.0.0.1:{}", incidents.port());
    csp_settings.events.token.token_url = format!("{users_url}/api/v1/auth/token");
    csp_settings.events.token.api_key = secrecy::SecretString::from(service_key.clone());
    if csp_settings.events.relay.target_url.is_empty() {
        csp_settings.events.relay.target_url = format!("http://127.0.0.1:{}/api/v1/events", comms.port());
    }
    let csp = csp_ingestor::startup::Application::build(csp_settings).await?;

    let mut flags_settings = flags::settings::Settings::load()?;
    flags_settings.redis.url = secrecy::SecretString::from(redis_url);
    flags_settings.auth.jwks_url = format!("{users_url}/.well-known/jwks.json");
    flags_settings.events.token.token_url = format!("{users_url}/api/v1/auth/token");
    flags_settings.events.token.api_key = secrecy::SecretString::from(service_key.clone());
    if flags_settings.events.relay.target_url.is_empty() {
        flags_settings.events.relay.target_url = format!("http://127.0.0.1:{}/api/v1/events", comms.port());
    }
    let flags = flags::startup::Application::build(flags_settings).await?;

    let mut ui_settings = frontend::settings::Settings::load()?;
    ui_settings.redis.url = secrecy::SecretString::from(redis_url);
    let local = |port: u16| format!("http://127.0.0.1:{port}");
    ui_settings.services.users = users_url.clone();
    ui_settings.services.incidents = local(incidents.port());
    ui_settings.services.comms = local(comms.port());
    ui_settings.services.csp = local(csp.port());
    ui_settings.services.flags = local(flags.port());
    let ui = frontend::startup::Application::build(ui_settings).await?;

    println!();
    println!("PolyStatus is up.");
    println!("  Redis    {redis_url}{}", if embedded_redis { " (started here, data in ./data)" } else { "" });
    let ports =
        [("users", users.port()), ("incidents", incidents.port()), ("comms", comms.port()), ("csp", csp.port())];
    for (name, port) in ports {
        println!("  {name:<10} http://{host}:{port}   API docs: http://{host}:{port}/docs/");
    }
    match users.first_admin() {
        Some(admin) => match &admin.generated_password {
            Some(password) => println!(
                "\nFirst admin: {} / {password}\n(shown once: sign in and change it with POST /api/v1/auth/password)",
                admin.email
            ),
            None => println!("\nFirst admin: {} (password from POLYSTATUS_ADMIN_PASSWORD)", admin.email),
        },
        None => println!("\nSign in with an existing account: POST /api/v1/auth/login"),
    }
    println!(
        "Public status: http://{host}:{}/api/v1/public/status (also /api/v2/summary.json, /history.rss)",
        comms.port()
    );
    println!("\nOpen http://{host}:{}/ in a browser (the web UI; the public status page is /status).", ui.port());
    println!("Press Ctrl-C to stop.\n");

    let (users_handle, incidents_handle, comms_handle) = (users.handle(), incidents.handle(), comms.handle());
    let (csp_handle, flags_handle, ui_handle) = (csp.handle(), flags.handle(), ui.handle());
    let stop_all = || async {
        ui_handle.stop().await;
        flags_handle.stop().await;
        csp_handle.stop().await;
        incidents_handle.stop().await;
        comms_handle.stop().await;
        users_handle.stop(true).await;
    };
    let mut servers = tokio::task::JoinSet::new();
    servers.spawn(users.run());
    servers.spawn(incidents.run());
    servers.spawn(comms.run());
    servers.spawn(csp.run());
    servers.spawn(flags.run());
    servers.spawn(ui.run());
    tokio::select! {
        () = platform::shutdown::signal() => {
            println!("Stopping: finishing in-flight requests...");
            stop_all().await;
            while servers.join_next().await.is_some() {}
            Ok(())
        }
        Some(result) = servers.join_next() => {
            stop_all().await;
            Err(anyhow::anyhow!("a service stopped unexpectedly: {:?}", result))
        }
    }
}
