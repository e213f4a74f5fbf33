//! One event fanned out to 1,000 webhook endpoints on this machine: how long until every
//! signed delivery has landed, and how much memory the process gained doing it.
//!
//!     cargo bench -p comms --bench fanout
//!     BENCH_ENDPOINTS=1000 BENCH_ROUNDS=3 cargo bench -p comms --bench fanout

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use comms::domain::KnownIncident;
use comms::keys::Keys;
use comms::settings::Settings;
use comms::startup::Application;
use comms::store::RedisStore;
use comms::webhooks::endpoint::{Endpoint, Kind};
use platform::events::CloudEvent;
use platform::testing::load::env_number;
use platform::testing::{TestRedis, unique_prefix};
use serde_json::json;

/// Resident memory of this process, in KiB (Linux).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let endpoints = env_number("BENCH_ENDPOINTS", 1000) as usize;
    let rounds = env_number("BENCH_ROUNDS", 3);
    let redis = TestRedis::start();

    // The receivers: one local server, a path per endpoint, counting what arrives.
    let received = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&received);
    let receiver = HttpServer::new(move || {
        let counter = Arc::clone(&counter);
        App::new().route(
            "/hook/{n}",
            web::post().to(move || {
                let counter = Arc::clone(&counter);
                async move {
                    counter.fetch_add(1, Ordering::Relaxed);
                    HttpResponse::NoContent().finish()
                }
            }),
        )
    })
    .workers(1)
    .bind(("127.0.0.1", 0))?;
    let receiver_port = receiver.addrs()[0].port();
    tokio::spawn(receiver.run());

    let mut settings: Settings = platform::settings::load(comms::settings::DEFAULTS, "COMMS_BENCH_UNUSED__", &[])?;
    settings.server.port = 0;
    settings.redis.url = redis.url().into();
    settings.redis.key_prefix = unique_prefix("comms");
    settings.webhooks.allowed_networks = vec!["127.0.0.0/8".into()];
    settings.webhooks.poll_interval_ms = 10;
    let store =
        RedisStore::new(platform::redis::connect(&settings.redis).await?, Keys::new(&settings.redis.key_prefix));
    let now = chrono::Utc::now().timestamp();
    for n in 0..endpoints {
        store
            .save_webhook(&Endpoint {
                id: format!("bench-{n:04}"),
                url: format!("http://127.0.0.1:{receiver_port}/hook/{n}"),
                description: String::new(),
                kind: Kind::Standard,
                event_types: Vec::new(),
                min_severity: None,
                services: Vec::new(),
                secret: comms::webhooks::signing::new_secret(),
                previous_secret: None,
                previous_secret_expires_at: None,
                enabled: true,
                disabled_reason: None,
                failing_since: None,
                created_at: now,
                updated_at: now,
                created_by: "bench".into(),
            })
            .await?;
    }
    let concurrency = settings.webhooks.concurrency;
    let app = Application::build(settings).await?;
    tokio::spawn(app.run());
    tokio::time::sleep(Duration::from_millis(300)).await;

    println!("one event to {endpoints} webhook endpoints, {concurrency} deliveries in flight, {rounds} rounds\n");
    println!("{:<8} {:>14} {:>16} {:>14}", "round", "all delivered", "deliveries/s", "RSS +KiB");
    for round in 1..=rounds {
        let before = rss_kib();
        let target = received.load(Ordering::Relaxed) + endpoints;
        let incident = KnownIncident {
            id: format!("INC-{round:06X}"),
            title: "Fan-out benchmark".into(),
            sev: 1,
            status: "open".into(),
            services: vec!["api".into()],
            started_at: now,
            updated_at: now,
            resolved_at: None,
            version: round,
        };
        let event = CloudEvent::new(
            "/bench",
            "incident.created",
            incident.id.as_str(),
            json!({"incident": {"id": incident.id, "sev": 1}}),
        );
        let started = Instant::now();
        store.take_event(&event, Some(&incident)).await?;
        while received.load(Ordering::Relaxed) < target {
            if started.elapsed() > Duration::from_secs(120) {
                anyhow::bail!("only {} of {target} deliveries after 120 s", received.load(Ordering::Relaxed));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let elapsed = started.elapsed();
        println!(
            "{round:<8} {:>12.0}ms {:>16.0} {:>14}",
            elapsed.as_secs_f64() * 1000.0,
            endpoints as f64 / elapsed.as_secs_f64(),
            rss_kib().saturating_sub(before)
        );
    }
    println!("\nprocess RSS at the end: {} KiB (Redis runs in its own process)", rss_kib());
    Ok(())
}
