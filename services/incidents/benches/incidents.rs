//! The incidents service with 100,000 stored incidents: create throughput, the filtered list
//! and single-incident reads, each as a ratio to a no-op handler on the same platform stack,
//! measured side by side in one run.
//!
//!     cargo bench -p incidents --bench incidents
//!     BENCH_INCIDENTS=100000 BENCH_SECS=5 BENCH_CONCURRENCY=16 cargo bench -p incidents --bench incidents
//!
//! Target (issue): single-incident reads at least half the no-op throughput.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use incidents::domain::{Actor, EntryKind, Incident, IncidentId, Severity, Source, Status, TimelineEntry};
use incidents::keys::Keys;
use incidents::settings::Settings;
use incidents::startup::Application;
use incidents::store::{Change, Expect, RedisStore};
use platform::testing::load::{env_number, measure, report, spawn_noop};
use platform::testing::{TestRedis, unique_prefix};
use serde_json::json;

const SERVICES: [&str; 8] = ["api", "db", "checkout", "search", "cdn", "auth", "queue", "billing"];

fn seeded(n: u64, now: i64) -> Incident {
    let status = match n % 10 {
        0 => Status::Open,
        1 => Status::Mitigated,
        _ => Status::Resolved,
    };
    let started_at = now - (n as i64 % 86_400) * 60;
    Incident {
        id: IncidentId::generate(),
        seq: n,
        title: format!("Seeded incident {n}"),
        sev: Severity::parse((n % 4 + 1) as i64).unwrap_or_else(|_| unreachable!("1 to 4")),
        services: vec![SERVICES[n as usize % SERVICES.len()].to_string()],
        summary: format!("Benchmark data, incident number {n}"),
        status,
        started_at,
        commander: None,
        source: Source::Manual,
        created_by: "bench".into(),
        updated_at: started_at,
        acknowledged_at: Some(started_at + 60),
        mitigated_at: (status != Status::Open).then_some(started_at + 600),
        resolved_at: (status == Status::Resolved).then_some(started_at + 1800),
        followers: Default::default(),
        provider_events: Vec::new(),
        dedup_key: None,
        postmortem: None,
        version: 1,
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let count = env_number("BENCH_INCIDENTS", 100_000);
    let seconds = env_number("BENCH_SECS", 5);
    let concurrency = env_number("BENCH_CONCURRENCY", 16) as usize;
    let redis = TestRedis::start();
    let users = users::testing::spawn(&redis.url()).await;

    let mut settings: Settings =
        platform::settings::load(incidents::settings::DEFAULTS, "INCIDENTS_BENCH_UNUSED__", &[])?;
    settings.server.port = 0;
    settings.redis.url = redis.url().into();
    settings.redis.key_prefix = unique_prefix("incidents");
    settings.auth.jwks_url = users.jwks_url();
    settings.users.base_url = users.address.clone();

    // Seed through the store: the same atomic script the API uses, without HTTP in the way.
    let started = Instant::now();
    let store =
        RedisStore::new(platform::redis::connect(&settings.redis).await?, Keys::new(&settings.redis.key_prefix));
    let now = chrono::Utc::now().timestamp();
    let actor = Actor { id: "bench".into(), name: "bench".into(), kind: "user".into() };
    let mut ids = Vec::with_capacity(count as usize);
    for chunk in (1..=count).collect::<Vec<_>>().chunks(1000) {
        let incidents: Vec<Incident> = chunk.iter().map(|n| seeded(*n, now)).collect();
        let writes = incidents.iter().map(|incident| {
            let entry = TimelineEntry {
                id: String::new(),
                kind: EntryKind::Created,
                message: "declared".into(),
                ts: incident.started_at,
                actor: actor.clone(),
                from: None,
                to: None,
            };
            store.apply(Change {
                id: &incident.id,
                expect: Expect::New,
                before: None,
                after: Some(incident),
                timeline: vec![entry],
                events: vec![],
            })
        });
        for outcome in join_all(writes).await {
            outcome?;
        }
        ids.extend(incidents.into_iter().map(|i| i.id.to_string()));
    }
    let mut conn = platform::redis::connect(&settings.redis).await?;
    let _: () = redis::cmd("SET").arg(store.keys().seq()).arg(count).query_async(&mut conn).await?;
    println!("seeded {count} incidents in {:.1} s", started.elapsed().as_secs_f64());

    let noop_url = spawn_noop(&settings.server, &settings.redis)?;
    let app = Application::build(settings).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run());
    let token = users.user("sre").await.token;
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;

    let d = Duration::from_secs(seconds);
    println!("incidents: {count} stored, {concurrency} concurrent clients, {seconds} s per scenario, one process\n");
    let noop = format!("{noop_url}/noop");
    let create = format!("{base}/api/v1/incidents");
    let list = format!("{base}/api/v1/incidents?status=open&sev=1");
    let one = format!("{base}/api/v1/incidents/");
    let outcomes = vec![
        measure("no-op handler (baseline)", &client, d, concurrency, move |c, _| c.get(&noop)).await,
        measure("GET /api/v1/incidents/{id}", &client, d, concurrency, {
            let (token, ids) = (token.clone(), ids.clone());
            move |c, n| {
                c.get(format!("{one}{}", ids[(n as usize).wrapping_mul(2_654_435_761) % ids.len()])).bearer_auth(&token)
            }
        })
        .await,
        measure("GET /api/v1/incidents?status=open&sev=1", &client, d, concurrency, {
            let token = token.clone();
            move |c, _| c.get(&list).bearer_auth(&token)
        })
        .await,
        measure("POST /api/v1/incidents", &client, d, concurrency, {
            let token = token.clone();
            move |c, n| {
                c.post(&create)
                    .bearer_auth(&token)
                    .json(&json!({"title": format!("bench {n}"), "sev": 2, "services": ["api"]}))
            }
        })
        .await,
    ];
    report(&outcomes);
    Ok(())
}
