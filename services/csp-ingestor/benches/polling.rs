//! One full poll cycle of 1,000 providers served by a local server (a child process, so its
//! CPU and memory are not counted): wall time, CPU time and memory of the ingestor, for a cold
//! cycle (everything new), a warm one (every answer a 304) and one where every payload is sent
//! again under a new ETag (fetched, parsed and compared, nothing stored). Then parsing
//! throughput per format in MB/s, next to the bare JSON or feed parse of the same bytes.
//!
//!     cargo bench -p csp-ingestor --bench polling
//!     BENCH_PROVIDERS=1000 BENCH_CONCURRENCY=16 cargo bench -p csp-ingestor --bench polling

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use csp_ingestor::adapters::{self, Format};
use csp_ingestor::domain::{ProbeSettings, Provider, ProviderType};
use csp_ingestor::fetch::Fetcher;
use csp_ingestor::incidents_client::IncidentsClient;
use csp_ingestor::keys::Keys;
use csp_ingestor::poller::Ingestor;
use csp_ingestor::settings::Settings;
use csp_ingestor::store::{Expect, RedisStore};
use platform::service_token::{ServiceToken, ServiceTokenSettings};
use platform::testing::load::env_number;
use platform::testing::{TestRedis, unique_prefix};
use tokio::sync::Semaphore;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/csp");

/// (fixture, provider type, format for the throughput table)
const SERVED: &[(&str, ProviderType, &str)] = &[
    ("statuspage/github-summary-active-major-incident-2022-11-25.json", ProviderType::Json, "Statuspage summary"),
    ("statuspage/github-incidents-2026-07-31.json", ProviderType::Statuspage, "Statuspage incidents"),
    ("gcp/gcp-incidents-2022-07-01-first-13-of-157-all-resolved.json", ProviderType::Gcp, "GCP incidents.json"),
    ("aws/aws-currentevents-two-open-middle-east-events-2026-03-trimmed.json", ProviderType::Aws, "AWS currentevents"),
    ("aws/aws-legacy-status-data-json-2021-archive-86-events.json", ProviderType::Aws, "AWS archive"),
    (
        "statusio/gitlab-statusio-operational-with-upcoming-maintenance-2023-06-29.json",
        ProviderType::Statusio,
        "status.io",
    ),
    ("slack/slack-current-ok-vendor-docs-example-2018-09-07.json", ProviderType::Slack, "Slack"),
    (
        "statuspage-feed/digitalocean-history-2020-01-21-maintenance-in-progress.rss",
        ProviderType::Rss,
        "Statuspage RSS",
    ),
    ("statuspage-feed/github-history-2019-11-22.atom", ProviderType::Rss, "Statuspage Atom"),
    ("aws/aws-rss-athena-us-west-2-service-impact-2025-06-13.rss", ProviderType::Rss, "AWS RSS"),
];

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// CPU time of this process (user + system), from /proc (clock ticks of 10 ms).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

fn memory_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

/// The child process: serves `/p/{n}` from the fixtures with an ETag that `/bump` changes.
fn serve() -> anyhow::Result<()> {
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new(SERVED.iter().map(|(f, _, _)| fixture(f)).collect());
    let generation = Arc::new(AtomicU64::new(1));
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(move || {
            let bodies = Arc::clone(&bodies);
            let generation = Arc::clone(&generation);
            let bump = Arc::clone(&generation);
            App::new()
                .route(
                    "/bump",
                    web::post().to(move || {
                        bump.fetch_add(1, Ordering::SeqCst);
                        async { HttpResponse::NoContent().finish() }
                    }),
                )
                .route(
                    "/p/{n}",
                    web::get().to(move |req: HttpRequest, n: web::Path<usize>| {
                        let etag = format!("\"g{}\"", generation.load(Ordering::SeqCst));
                        let body = bodies[*n % bodies.len()].clone();
                        async move {
                            if req.headers().get("if-none-match").and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
                                return HttpResponse::NotModified().finish();
                            }
                            HttpResponse::Ok().insert_header(("etag", etag)).body(body)
                        }
                    }),
                )
        })
        .workers(1)
        .bind(("127.0.0.1", 0))?;
        println!("{}", server.addrs()[0].port());
        server.run().await
    })?;
    Ok(())
}

struct Cycle {
    name: &'static str,
    wall: Duration,
    cpu: Duration,
    rss_kib: u64,
    fetched: usize,
    not_modified: usize,
    new_events: usize,
    failed: usize,
}

async fn cycle(name: &'static str, ingestor: &Arc<Ingestor>, providers: &[Provider], concurrency: usize) -> Cycle {
    let permits = Arc::new(Semaphore::new(concurrency));
    let (cpu0, started) = (cpu_time(), Instant::now());
    let mut tasks = tokio::task::JoinSet::new();
    for p in providers {
        let p = p.clone();
        let permit = Arc::clone(&permits).acquire_owned().await.expect("semaphore");
        let ingestor = Arc::clone(ingestor);
        tasks.spawn(async move {
            let _permit = permit;
            ingestor.poll(&p, false).await
        });
    }
    let (mut fetched, mut not_modified, mut new_events, mut failed) = (0, 0, 0, 0);
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(Ok(r)) => {
                fetched += usize::from(r.fetched);
                not_modified += usize::from(r.not_modified);
                new_events += r.events.new + r.events.unchanged;
                failed += usize::from(!r.errors.is_empty());
            }
            _ => failed += 1,
        }
    }
    Cycle {
        name,
        wall: started.elapsed(),
        cpu: cpu_time() - cpu0,
        rss_kib: memory_kib("VmRSS:"),
        fetched,
        not_modified,
        new_events,
        failed,
    }
}

/// MB/s of `parse` over `bytes`, running for about half a second.
fn throughput(bytes: &[u8], parse: impl Fn(&[u8]) -> bool) -> f64 {
    let started = Instant::now();
    let mut runs = 0u64;
    while started.elapsed() < Duration::from_millis(500) || runs < 3 {
        assert!(parse(bytes), "the payload parses");
        runs += 1;
    }
    (bytes.len() as f64 * runs as f64) / started.elapsed().as_secs_f64() / 1_000_000.0
}

fn main() -> anyhow::Result<()> {
    // The server role runs its own runtime, in its own process.
    if std::env::var("BENCH_ROLE").as_deref() == Ok("server") {
        return serve();
    }
    tokio::runtime::Runtime::new()?.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let count = env_number("BENCH_PROVIDERS", 1000) as usize;
    let concurrency = env_number("BENCH_CONCURRENCY", 16) as usize;

    let mut child = Command::new(std::env::current_exe()?)
        .env("BENCH_ROLE", "server")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line)?;
    anyhow::ensure!(line.trim().parse::<u16>().is_ok(), "the payload server did not start");
    let base = format!("http://127.0.0.1:{}", line.trim());

    let redis = TestRedis::start();
    let settings: Settings = platform::settings::load(csp_ingestor::settings::DEFAULTS, "CSP_BENCH_UNUSED__", &[])?;
    let mut redis_settings = settings.redis.clone();
    redis_settings.url = redis.url().into();
    let store = RedisStore::new(platform::redis::connect(&redis_settings).await?, Keys::new(&unique_prefix("csp")));
    let token = ServiceToken::new(ServiceTokenSettings { token_url: String::new(), api_key: String::new().into() })?;
    let ingestor = Arc::new(Ingestor {
        store: store.clone(),
        incidents: IncidentsClient::new(&settings.incidents, Arc::new(token))?,
        fetcher: Fetcher::new(Duration::from_millis(settings.polling.timeout_ms), settings.polling.max_body_bytes)?,
        polling: settings.polling.clone(),
        correlation: settings.correlation.clone(),
        holder: "bench".into(),
    });
    let mut providers = Vec::with_capacity(count);
    for n in 0..count {
        let p = Provider {
            name: format!("p{n}"),
            display_name: format!("Provider {n}"),
            feed_url: format!("{base}/p/{n}"),
            kind: SERVED[n % SERVED.len()].1,
            interval_secs: 60,
            enabled: true,
            components: Vec::new(),
            regions: Vec::new(),
            incident_threshold: None,
            mitigate_on_resolve: true,
            depends_on: Vec::new(),
            probe: ProbeSettings::default(),
            created_at: 0,
            updated_at: 0,
            version: 1,
        };
        store.put_provider(&p, Expect::New, 0).await?;
        providers.push(p);
    }

    let rss_before = memory_kib("VmRSS:");
    let cold = cycle("cold: every payload new", &ingestor, &providers, concurrency).await;
    let warm = cycle("warm: every answer 304", &ingestor, &providers, concurrency).await;
    reqwest::Client::new().post(format!("{base}/bump")).send().await?;
    let resent = cycle("resent: new ETags, same content", &ingestor, &providers, concurrency).await;
    let _ = child.kill();
    let _ = child.wait();

    println!("\n{count} providers, concurrency {concurrency}, served by a local process\n");
    println!("| cycle | wall | CPU (ingestor) | fetched | 304 | events seen | failed | RSS after |");
    println!("|---|---|---|---|---|---|---|---|");
    for c in [&cold, &warm, &resent] {
        println!(
            "| {} | {} ms | {} ms | {} | {} | {} | {} | {:.1} MiB |",
            c.name,
            c.wall.as_millis(),
            c.cpu.as_millis(),
            c.fetched,
            c.not_modified,
            c.new_events,
            c.failed,
            c.rss_kib as f64 / 1024.0
        );
    }
    println!(
        "\nRSS before the first cycle {:.1} MiB, peak {:.1} MiB.",
        rss_before as f64 / 1024.0,
        memory_kib("VmHWM:") as f64 / 1024.0
    );

    println!("\n| format | payload | adapter MB/s | bare parse MB/s | ratio |");
    println!("|---|---|---|---|---|");
    for (file, kind, label) in SERVED {
        let bytes = fixture(file);
        let format: Format = kind.format().expect("a feed format");
        let adapter = throughput(&bytes, |b| adapters::parse(format, b).is_ok());
        let bare = if *kind == ProviderType::Rss {
            throughput(&bytes, |b| feed_rs::parser::parse(b).is_ok())
        } else {
            let text = adapters::aws::decode(&bytes).map(|t| t.into_bytes()).unwrap_or_default();
            throughput(&text, |b| serde_json::from_slice::<serde_json::Value>(b).is_ok())
        };
        println!(
            "| {label} | {:.1} KiB | {adapter:.1} | {bare:.1} | {:.2} |",
            bytes.len() as f64 / 1024.0,
            adapter / bare
        );
    }
    Ok(())
}
