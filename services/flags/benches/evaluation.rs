//! Evaluation throughput of the flags service, as ratios to a no-op handler behind the same
//! platform stack, measured side by side in one run: one flag over OFREP, all 50 flags in bulk
//! (every request a new user, and 1,000 users polling in turn as SDKs do), and the reference
//! `GET /flags`. Every request carries a token. The OFREP calls are also compared with a no-op
//! that takes the same request and answers as many bytes, which isolates what evaluating costs
//! from what moving a 4 KB answer costs. Scenarios take turns for several rounds and each keeps
//! its median round.
//!
//!     cargo bench -p flags --bench evaluation
//!     BENCH_SECS=10 BENCH_ROUNDS=5 BENCH_CONCURRENCY=32 cargo bench -p flags --bench evaluation

use std::sync::Arc;
use std::time::Duration;

use flags::settings::Settings;
use flags::startup::Application;
use platform::testing::load::{Scenario, env_number, measure_rounds, report, spawn_noop};
use platform::testing::{TestRedis, unique_prefix};
use serde_json::json;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds = env_number("BENCH_SECS", 5);
    let concurrency = env_number("BENCH_CONCURRENCY", 16) as usize;
    let rounds = env_number("BENCH_ROUNDS", 3) as usize;
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
    println!(
        "flags evaluation: {concurrency} concurrent clients, {rounds} rounds of {seconds} s per scenario (the median \
         round kept), one process\n"
    );
    let one = format!("{flags_url}/ofrep/v1/evaluate/flags/flag-7");
    let bulk = format!("{flags_url}/ofrep/v1/evaluate/flags");
    let reference = format!("{flags_url}/flags?user=carol&role=viewer");
    // The no-op answers as many bytes as the evaluation does, to the same request: what moving
    // the request and the answer costs on its own.
    let mut sizes = Vec::new();
    for url in [&one, &bulk] {
        let probe = client.post(url).bearer_auth(&token).json(&json!({"context": {"targetingKey": "user-probe"}}));
        sizes.push(probe.send().await?.bytes().await?.len());
    }
    let noop = format!("{noop_url}/noop");
    let ofrep = |name: &str, url: String, users: Option<u64>| -> Scenario {
        let token = token.clone();
        let request = move |c: &reqwest::Client, n: u64| {
            let user = users.map_or(n, |u| n % u);
            c.post(&url).bearer_auth(&token).json(&json!({"context": {"targetingKey": format!("user-{user}")}}))
        };
        (name.to_string(), Arc::new(request))
    };
    let scenarios: Vec<Scenario> = vec![
        ("no-op handler, empty GET (baseline)".into(), Arc::new(move |c, _| c.get(&noop))),
        ofrep("no-op, one-flag request and answer sizes", format!("{noop_url}/noop/sized/{}", sizes[0]), None),
        ofrep("POST /ofrep/v1/evaluate/flags/{key} (one flag)", one, None),
        ofrep("no-op, bulk request and answer sizes", format!("{noop_url}/noop/sized/{}", sizes[1]), None),
        ofrep("POST /ofrep/v1/evaluate/flags (bulk, 50 flags)", bulk.clone(), None),
        ofrep("POST .../flags (bulk, 1,000 users polling)", bulk, Some(1000)),
        ("GET /flags?user=&role= (50 flags)".into(), {
            let token = token.clone();
            Arc::new(move |c, _| c.get(&reference).bearer_auth(&token))
        }),
    ];
    let outcomes = measure_rounds(&client, d, concurrency, rounds, &scenarios).await;
    println!("(answers: one flag {} bytes, bulk {} bytes)\n", sizes[0], sizes[1]);
    report(&outcomes);
    // Each evaluation against the no-op that moves the same bytes.
    println!();
    for (evaluation, same_bytes) in [(2, 1), (4, 3), (5, 3)] {
        let ratio = outcomes[evaluation].per_second / outcomes[same_bytes].per_second;
        println!("{:<48} {ratio:>8.3} of the same-size no-op", outcomes[evaluation].name);
    }
    Ok(())
}
