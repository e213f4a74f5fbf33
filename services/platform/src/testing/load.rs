//! A small closed-loop load generator for the committed benchmarks: N clients send one request
//! shape for a while; throughput and latency percentiles come out, and a no-op handler on the
//! same platform stack gives the baseline every ratio is taken against, in the same run.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use actix_web::{HttpResponse, web};

use crate::health::Readiness;
use crate::metrics::Metrics;
use crate::server::{self, Common};
use crate::settings::{RedisSettings, ServerSettings};

/// What one scenario measured.
pub struct Outcome {
    pub name: String,
    pub errors: u64,
    pub per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
}

/// Reads a number from the environment (`BENCH_SECS`...), or `default`.
pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Serves `GET /noop` (an empty 200) behind the platform middleware; its base URL.
pub fn spawn_noop(server_settings: &ServerSettings, redis: &RedisSettings) -> anyhow::Result<String> {
    let mut settings = server_settings.clone();
    settings.port = 0;
    let listener = server::bind(&settings)?;
    let url = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
    let common = Common {
        metrics: Metrics::new("noop"),
        readiness: Readiness { redis: crate::redis::connect_lazy(redis)?, timeout: Duration::from_secs(1) },
        verifier: crate::auth::TokenVerifier::with_keys("noop", "noop", Default::default()),
    };
    let noop = server::build(listener, &settings, Default::default(), common, |cfg| {
        cfg.route("/noop", web::get().to(|| async { HttpResponse::Ok().finish() }));
        // The same request and answer sizes as a real handler, doing nothing else: what the
        // transport alone costs.
        cfg.route(
            "/noop/sized/{bytes}",
            web::post().to(|bytes: web::Path<usize>, _body: web::Bytes| async move {
                HttpResponse::Ok().content_type("application/json").body(vec![b' '; (*bytes).min(1 << 20)])
            }),
        );
    })?;
    tokio::spawn(noop);
    Ok(url)
}

/// Runs `concurrency` clients sending `request` for `duration` after a short unmeasured warm-up.
pub async fn measure<F>(
    name: &str,
    client: &reqwest::Client,
    duration: Duration,
    concurrency: usize,
    request: F,
) -> Outcome
where
    F: Fn(&reqwest::Client, u64) -> reqwest::RequestBuilder + Clone + Send + 'static,
{
    run(client, Duration::from_millis(500), concurrency, request.clone()).await;
    let (mut latencies, errors, elapsed) = run(client, duration, concurrency, request).await;
    latencies.sort_unstable();
    let pick =
        |q: f64| latencies.get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1))).copied();
    Outcome {
        name: name.to_string(),
        errors,
        per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: pick(0.50).unwrap_or_default(),
        p99: pick(0.99).unwrap_or_default(),
    }
}

/// A request shape to measure, by name.
pub type Scenario = (String, Arc<dyn Fn(&reqwest::Client, u64) -> reqwest::RequestBuilder + Send + Sync>);

/// Measures every scenario `rounds` times, taking turns (A B C, A B C, ...), and keeps each one's
/// median round: a burst of noise from elsewhere on the machine then moves one round, not the
/// ratios.
pub async fn measure_rounds(
    client: &reqwest::Client,
    duration: Duration,
    concurrency: usize,
    rounds: usize,
    scenarios: &[Scenario],
) -> Vec<Outcome> {
    let mut all: Vec<Vec<Outcome>> = scenarios.iter().map(|_| Vec::new()).collect();
    for _ in 0..rounds.max(1) {
        for ((name, request), outcomes) in scenarios.iter().zip(&mut all) {
            let request = Arc::clone(request);
            outcomes.push(measure(name, client, duration, concurrency, move |c, n| request(c, n)).await);
        }
    }
    all.into_iter()
        .filter_map(|mut outcomes| {
            outcomes.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
            let middle = outcomes.len() / 2;
            (middle < outcomes.len()).then(|| outcomes.swap_remove(middle))
        })
        .collect()
}

async fn run<F>(
    client: &reqwest::Client,
    duration: Duration,
    concurrency: usize,
    request: F,
) -> (Vec<Duration>, u64, Duration)
where
    F: Fn(&reqwest::Client, u64) -> reqwest::RequestBuilder + Clone + Send + 'static,
{
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency as u64)
        .map(|worker| {
            let (client, request, stop) = (client.clone(), request.clone(), Arc::clone(&stop));
            tokio::spawn(async move {
                let (mut latencies, mut errors, mut n) = (Vec::new(), 0u64, worker << 32);
                while !stop.load(Ordering::Relaxed) {
                    let sent = Instant::now();
                    n += 1;
                    match request(&client, n).send().await {
                        // 304 Not Modified is a successful conditional read.
                        Ok(r) if r.status().is_success() || r.status() == 304 => {
                            let _ = r.bytes().await;
                            latencies.push(sent.elapsed());
                        }
                        _ => errors += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed();
    let (mut all, mut errors) = (Vec::new(), 0);
    for worker in workers {
        if let Ok((latencies, e)) = worker.await {
            all.extend(latencies);
            errors += e;
        }
    }
    (all, errors, elapsed)
}

/// Prints the outcomes as a table, each throughput as a ratio to the first (the baseline).
pub fn report(outcomes: &[Outcome]) {
    let Some(baseline) = outcomes.first().map(|o| o.per_second) else { return };
    println!("{:<48} {:>10} {:>8} {:>9} {:>9} {:>7}", "scenario", "req/s", "ratio", "p50 ms", "p99 ms", "errors");
    for o in outcomes {
        println!(
            "{:<48} {:>10.0} {:>8.3} {:>9.2} {:>9.2} {:>7}",
            o.name,
            o.per_second,
            o.per_second / baseline,
            o.p50.as_secs_f64() * 1000.0,
            o.p99.as_secs_f64() * 1000.0,
            o.errors
        );
    }
}
