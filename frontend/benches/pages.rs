//! Pages rendered per second, as ratios to a static asset served by the same UI server in the
//! same run: the public status page (anonymous, from comms) and the incident list (a session, from
//! the incidents service), with 50 incidents. Then the weight of each main page: HTML, plus the
//! one stylesheet and the one script every page shares.
//!
//!     cargo bench -p frontend --bench pages
//!     BENCH_SECS=10 BENCH_CONCURRENCY=32 cargo bench -p frontend --bench pages

use std::time::Duration;

use platform::testing::load::{env_number, measure, report};
use platform::testing::{TestRedis, free_port, unique_prefix};
use serde_json::json;

fn load<T: serde::de::DeserializeOwned>(defaults: &str) -> anyhow::Result<T> {
    Ok(platform::settings::load(defaults, "UI_BENCH_UNUSED__", &[])?)
}

/// The value of `name`'s cookie in a `set-cookie` header.
fn cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.split(';').next().and_then(|pair| pair.strip_prefix(&format!("{name}="))).map(str::to_string))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds = env_number("BENCH_SECS", 5);
    let concurrency = env_number("BENCH_CONCURRENCY", 16) as usize;
    let redis = TestRedis::start();
    let url = redis.url();
    let users = users::testing::spawn(&url).await;
    let key = users.api_key("services", "sre").await;
    let comms_port = free_port();

    let mut i: incidents::settings::Settings = load(incidents::settings::DEFAULTS)?;
    (i.server.port, i.redis.url, i.redis.key_prefix) = (0, url.as_str().into(), unique_prefix("incidents"));
    i.auth.jwks_url = users.jwks_url();
    i.users.base_url = users.address.clone();
    i.events.relay.target_url = format!("http://127.0.0.1:{comms_port}/api/v1/events");
    i.events.token.token_url = format!("{}/api/v1/auth/token", users.address);
    i.events.token.api_key = key.into();
    let incidents_app = incidents::startup::Application::build(i).await?;
    let incidents = format!("http://127.0.0.1:{}", incidents_app.port());
    tokio::spawn(incidents_app.run());
    let mut c: comms::settings::Settings = load(comms::settings::DEFAULTS)?;
    (c.server.port, c.redis.url, c.redis.key_prefix) = (comms_port, url.as_str().into(), unique_prefix("comms"));
    c.auth.jwks_url = users.jwks_url();
    c.incidents.base_url = incidents.clone();
    c.email.outbox_dir = std::env::temp_dir().join(unique_prefix("bench-outbox").replace(':', "-"));
    tokio::spawn(comms::startup::Application::build(c).await?.run());

    let mut u: frontend::settings::Settings = load(frontend::settings::DEFAULTS)?;
    (u.server.port, u.redis.url, u.redis.key_prefix) = (0, url.as_str().into(), unique_prefix("frontend"));
    u.services.users = users.address.clone();
    u.services.incidents = incidents.clone();
    u.services.comms = format!("http://127.0.0.1:{comms_port}");
    // Not started: pages that need them say so; the pages measured do not.
    u.services.csp = format!("http://127.0.0.1:{}", free_port());
    u.services.flags = format!("http://127.0.0.1:{}", free_port());
    let ui_app = frontend::startup::Application::build(u).await?;
    let ui = format!("http://127.0.0.1:{}", ui_app.port());
    tokio::spawn(ui_app.run());

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let mut first = String::new();
    for n in 0..50 {
        let body = json!({"title": format!("Incident {n}: elevated errors"), "sev": 1 + n % 4, "services": ["api", "checkout"],
                          "summary": "Customers see errors at checkout."});
        let created: serde_json::Value = client
            .post(format!("{incidents}/api/v1/incidents"))
            .bearer_auth(&users.admin_token)
            .json(&body)
            .send()
            .await?
            .json()
            .await?;
        if first.is_empty() {
            first = created["id"].as_str().unwrap_or_default().to_string();
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Sign in through the form, as a browser does.
    let form = client.get(format!("{ui}/login")).send().await?;
    let login_cookie = cookie(&form, "polystatus_login_csrf").unwrap_or_default();
    let html = form.text().await?;
    let at = html.find("name=\"csrf\" value=\"").map_or(0, |i| i + 19);
    let csrf = html[at..].split('"').next().unwrap_or_default().to_string();
    let body = format!(
        "csrf={csrf}&email={}&password={}&next=%2Fincidents",
        users::testing::ADMIN_EMAIL.replace('@', "%40"),
        users::testing::ADMIN_PASSWORD
    );
    let signed = client
        .post(format!("{ui}/login"))
        .header("cookie", format!("polystatus_login_csrf={login_cookie}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await?;
    let session = format!("polystatus_session={}", cookie(&signed, "polystatus_session").unwrap_or_default());
    anyhow::ensure!(session.len() > 30, "not signed in: {}", signed.status());

    let mut weights = Vec::new();
    let incident = format!("/incidents/{first}");
    for (path, signed_in) in [("/status", false), ("/login", false), ("/incidents", true), (incident.as_str(), true)] {
        let mut request = client.get(format!("{ui}{path}"));
        if signed_in {
            request = request.header("cookie", &session);
        }
        let page = request.send().await?;
        anyhow::ensure!(page.status() == 200, "{path}: {}", page.status());
        weights.push((path.to_string(), page.bytes().await?.len()));
    }
    let css = client.get(format!("{ui}/static/app.css")).send().await?.bytes().await?.len();
    let js = client.get(format!("{ui}/static/app.js")).send().await?.bytes().await?.len();

    let d = Duration::from_secs(seconds);
    println!("web UI pages: {concurrency} concurrent clients, {seconds} s per scenario, one process, 50 incidents\n");
    let asset = format!("{ui}/static/app.js");
    let status = format!("{ui}/status");
    let list = format!("{ui}/incidents");
    let outcomes = vec![
        measure("static asset (baseline)", &client, d, concurrency, move |c, _| c.get(&asset)).await,
        measure("GET /status (public, from comms)", &client, d, concurrency, move |c, _| c.get(&status)).await,
        measure("GET /incidents (session, 25 a page)", &client, d, concurrency, {
            let session = session.clone();
            move |c, _| c.get(&list).header("cookie", &session)
        })
        .await,
    ];
    report(&outcomes);
    println!("\n| page | HTML bytes | + CSS | + JS | total |");
    println!("|---|---|---|---|---|");
    for (path, html) in weights {
        println!("| {path} | {html} | {css} | {js} | {} |", html + css + js);
    }
    Ok(())
}
