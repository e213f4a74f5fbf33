//! Sign-in and authenticated-request throughput of the users service, as ratios to a no-op
//! handler served by the same platform stack (same middleware, same process), measured side by
//! side in one run so machine noise cancels out.
//!
//!     cargo bench -p users --bench throughput            # 5 s per scenario
//!     BENCH_SECS=10 BENCH_CONCURRENCY=32 cargo bench -p users --bench throughput
//!
//! Production Argon2 parameters are used: sign-in is meant to be expensive.

use std::time::Duration;

use platform::testing::load::{env_number, measure, report, spawn_noop};
use platform::testing::{TestRedis, unique_prefix};
use serde_json::{Value, json};
use users::settings::Settings;
use users::startup::Application;

const ADMIN_EMAIL: &str = "bench@example.com";
const ADMIN_PASSWORD: &str = "bench password 1";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds = env_number("BENCH_SECS", 5);
    let concurrency = env_number("BENCH_CONCURRENCY", 16) as usize;
    let redis = TestRedis::start();
    let dir = tempfile::tempdir()?;

    let mut settings: Settings = platform::settings::load(users::settings::DEFAULTS, "USERS_BENCH_UNUSED__", &[])?;
    settings.server.port = 0;
    settings.redis.url = redis.url().into();
    settings.redis.key_prefix = unique_prefix("users");
    settings.tokens.signing_key_file = dir.path().join("signing.pem");
    settings.bootstrap.admin_email = ADMIN_EMAIL.into();
    settings.bootstrap.admin_password = ADMIN_PASSWORD.into();
    settings.login_limits.per_account = u64::MAX / 2;
    settings.login_limits.per_address = u64::MAX / 2;
    let noop_url = spawn_noop(&settings.server, &settings.redis)?;
    let app = Application::build(settings).await?;
    let users_url = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run());

    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;
    let login_body = json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD});
    let login: Value =
        client.post(format!("{users_url}/api/v1/auth/login")).json(&login_body).send().await?.json().await?;
    let token = login["token"].as_str().ok_or_else(|| anyhow::anyhow!("no token: {login}"))?.to_string();

    let d = Duration::from_secs(seconds);
    println!("users throughput: {concurrency} concurrent clients, {seconds} s per scenario, one process\n");
    let noop = format!("{noop_url}/noop");
    let me = format!("{users_url}/api/v1/auth/me");
    let list = format!("{users_url}/api/v1/users");
    let login_url = format!("{users_url}/api/v1/auth/login");
    let outcomes = vec![
        measure("no-op handler (baseline)", &client, d, concurrency, move |c, _| c.get(&noop)).await,
        measure("GET /api/v1/auth/me (JWT + Redis)", &client, d, concurrency, {
            let token = token.clone();
            move |c, _| c.get(&me).bearer_auth(&token)
        })
        .await,
        measure("GET /api/v1/users (JWT + Redis)", &client, d, concurrency, {
            let token = token.clone();
            move |c, _| c.get(&list).bearer_auth(&token)
        })
        .await,
        measure("POST /api/v1/auth/login (Argon2id)", &client, d, concurrency, move |c, _| {
            c.post(&login_url).json(&login_body)
        })
        .await,
    ];
    report(&outcomes);
    Ok(())
}
