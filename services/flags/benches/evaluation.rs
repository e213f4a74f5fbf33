//! Evaluation throughput of the flags service, as ratios to a no-op handler behind the same
//! platform stack, measured side by side in one run: one flag over OFREP, all 50 flags in bulk
//! (every request a new user, and 1,000 users polling in turn as SDKs do), and the reference
//! `GET /flags`. Every request carries a token.
//!
//!     cargo bench -p flags --bench evaluation
//!     BENCH_SECS=10 BENCH_CONCURRENCY=32 cargo bench -p flags --bench evaluation

use std::time::Duration;

use flags::settings::Settings;
use flags::startup::Application;
use platform::testing::load::{env_number, measure, report, spawn_noop};
use platform::testing::{TestRedis, unique_prefix};
use serde_json::json;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds = env_number("BENCH_SECS", 5);
    let concurrency = env_number("BENCH_CONCURRENCY", 16) as usize;
    let redis = TestRedis::start();
    let users = users::testing::spawn(&redis.url()).await;

    let mut settings: Settings = platform::settings::load(flags::settings::DEFAULTS, "FLAGS_BENCH_UNUSED__", &[])?;
    settings.server.port = 0;
    settings.redis.url = redis.url().into();
    settings.redis.key_prefix = unique_prefix("flags");
    settings.auth.jwks_url = users.jwks_url();
    let noop_url = spawn_noop(&settings.server, &settings.redis)?;
    let app = Application::build(settings).await?;
    let flags_url = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run());

    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;
    // 50 flags: targets, a rule and a rollout each, the kind of flag that costs the most.
    for n in 0..50 {
        let flag = json!({
            "id": format!("flag-{n}"), "on": true, "kind": "multivar", "variations": ["a", "b", "c"],
            "targets": {"users": {"alice": "a", "bob": "b"}},
            "rules": [{"if": {"attr": "role", "op": "in", "value": ["admin", "sre"]}, "variation": "c"}],
            "fallthrough": {"rollout": [{"variation": "a", "weight": 50}, {"variation": "b", "weight": 50}]},
        });
        let resp =
            client.post(format!("{flags_url}/admin/flags")).bearer_auth(&users.admin_token).json(&flag).send().await?;
        anyhow::ensure!(resp.status() == 201, "flag {n} not created: {}", resp.status());
    }
    let token = users.machine_token("viewer").await;

    let d = Duration::from_secs(seconds);
    println!("flags evaluation: {concurrency} concurrent clients, {seconds} s per scenario, one process\n");
    let noop = format!("{noop_url}/noop");
    let one = format!("{flags_url}/ofrep/v1/evaluate/flags/flag-7");
    let bulk = format!("{flags_url}/ofrep/v1/evaluate/flags");
    let reference = format!("{flags_url}/flags?user=carol&role=viewer");
    let outcomes = vec![
        measure("no-op handler (baseline)", &client, d, concurrency, move |c, _| c.get(&noop)).await,
        measure("POST /ofrep/v1/evaluate/flags/{key} (one flag)", &client, d, concurrency, {
            let token = token.clone();
            move |c, n| {
                c.post(&one).bearer_auth(&token).json(&json!({"context": {"targetingKey": format!("user-{n}")}}))
            }
        })
        .await,
        measure("POST /ofrep/v1/evaluate/flags (bulk, 50 flags)", &client, d, concurrency, {
            let token = token.clone();
            move |c, n| {
                c.post(&bulk).bearer_auth(&token).json(&json!({"context": {"targetingKey": format!("user-{n}")}}))
            }
        })
        .await,
        measure("POST /ofrep/v1/evaluate/flags (bulk, 1,000 users polling)", &client, d, concurrency, {
            let token = token.clone();
            let bulk = format!("{flags_url}/ofrep/v1/evaluate/flags");
            move |c, n| {
                c.post(&bulk)
                    .bearer_auth(&token)
                    .json(&json!({"context": {"targetingKey": format!("user-{}", n % 1000)}}))
            }
        })
        .await,
        measure("GET /flags?user=&role= (50 flags)", &client, d, concurrency, {
            let token = token.clone();
            move |c, _| c.get(&reference).bearer_auth(&token)
        })
        .await,
    ];
    report(&outcomes);
    Ok(())
}
