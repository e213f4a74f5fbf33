//! Public reads of the comms service (`/api/v1/public/status`, `/api/v2/summary.json`) as a
//! ratio to a no-op handler on the same platform stack, in one run. Target: at least 0.8.
//!
//!     cargo bench -p comms --bench public
//!     BENCH_SECS=5 BENCH_CONCURRENCY=16 BENCH_PUBLIC_INCIDENTS=50 cargo bench -p comms --bench public

use std::time::Duration;

use comms::domain::KnownIncident;
use comms::keys::Keys;
use comms::settings::Settings;
use comms::startup::Application;
use comms::store::RedisStore;
use platform::events::CloudEvent;
use platform::testing::load::{env_number, measure, report, spawn_noop};
use platform::testing::{TestRedis, unique_prefix};
use serde_json::json;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds = env_number("BENCH_SECS", 5);
    let concurrency = env_number("BENCH_CONCURRENCY", 16) as usize;
    let incidents = env_number("BENCH_PUBLIC_INCIDENTS", 50);
    let redis = TestRedis::start();
    let mut settings: Settings = platform::settings::load(comms::settings::DEFAULTS, "COMMS_BENCH_UNUSED__", &[])?;
    settings.server.port = 0;
    settings.redis.url = redis.url().into();
    settings.redis.key_prefix = unique_prefix("comms");

    // Public data as the incidents relay would deliver it: open incidents with services.
    let store =
        RedisStore::new(platform::redis::connect(&settings.redis).await?, Keys::new(&settings.redis.key_prefix));
    let now = chrono::Utc::now().timestamp();
    for n in 0..incidents {
        let incident = KnownIncident {
            id: format!("INC-{n:06X}"),
            title: format!("Benchmark incident {n}"),
            sev: (n % 4 + 1) as u8,
            status: if n % 3 == 0 { "resolved".into() } else { "open".into() },
            services: vec![format!("service-{}", n % 10)],
            started_at: now - n as i64 * 60,
            updated_at: now,
            resolved_at: (n % 3 == 0).then_some(now),
            version: 1,
        };
        let event = CloudEvent::new("/bench", "incident.created", incident.id.as_str(), json!({}));
        store.take_event(&event, Some(&incident)).await?;
    }

    let noop_url = spawn_noop(&settings.server, &settings.redis)?;
    let app = Application::build(settings).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run());
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;
    let d = Duration::from_secs(seconds);
    println!("comms public reads: {incidents} incidents, {concurrency} concurrent clients, {seconds} s per scenario\n");
    let noop = format!("{noop_url}/noop");
    let status = format!("{base}/api/v1/public/status");
    let summary = format!("{base}/api/v2/summary.json");
    let status_304 = status.clone();
    let etag = client
        .get(&status)
        .send()
        .await?
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let outcomes = vec![
        measure("no-op handler (baseline)", &client, d, concurrency, move |c, _| c.get(&noop)).await,
        measure("GET /api/v1/public/status", &client, d, concurrency, move |c, _| c.get(&status)).await,
        measure("GET /api/v2/summary.json", &client, d, concurrency, move |c, _| c.get(&summary)).await,
        measure("GET /api/v1/public/status, If-None-Match (304)", &client, d, concurrency, move |c, _| {
            c.get(&status_304).header("if-none-match", &etag)
        })
        .await,
    ];
    report(&outcomes);
    Ok(())
}
