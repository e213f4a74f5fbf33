//! A users service, an incidents service and the ingestor on one test Redis, and a replay
//! server that plays provider payloads back (changes between polls, 304s, errors, slow and huge
//! bodies).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use csp_ingestor::settings::Settings;
use csp_ingestor::startup::{Application, ServiceHandle};
use platform::testing::{TestRedis, unique_prefix};
use reqwest::Method;
use serde_json::{Value, json};
use users::testing::{SignedIn, TestUsers};

pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/csp");

pub fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// What the replay server answers on one path.
#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    pub etag: Option<String>,
    pub delay_ms: u64,
}

impl Reply {
    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Reply { status: 200, body: body.into(), etag: None, delay_ms: 0 }
    }

    /// With an ETag: a request with the same `If-None-Match` gets 304.
    pub fn tagged(body: impl Into<Vec<u8>>, etag: &str) -> Self {
        Reply { etag: Some(format!("\"{etag}\"")), ..Reply::ok(body) }
    }

    pub fn status(status: u16) -> Self {
        Reply { status, ..Reply::ok("oops") }
    }
}

#[derive(Default)]
struct ReplayState {
    replies: HashMap<String, Reply>,
    hits: HashMap<String, usize>,
    not_modified: HashMap<String, usize>,
}

/// A local HTTP server answering each path as told.
#[derive(Clone)]
pub struct Replay {
    pub address: String,
    state: Arc<Mutex<ReplayState>>,
}

async fn answer(req: HttpRequest, state: web::Data<Arc<Mutex<ReplayState>>>) -> HttpResponse {
    let path = req.path().to_string();
    let reply = {
        let mut s = state.lock().expect("replay state");
        *s.hits.entry(path.clone()).or_default() += 1;
        s.replies.get(&path).cloned()
    };
    let Some(reply) = reply else { return HttpResponse::NotFound().finish() };
    if reply.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(reply.delay_ms)).await;
    }
    let sent = req.headers().get("if-none-match").and_then(|v| v.to_str().ok());
    if let (Some(etag), Some(sent)) = (&reply.etag, sent)
        && etag == sent
    {
        *state.lock().expect("replay state").not_modified.entry(path).or_default() += 1;
        return HttpResponse::NotModified().insert_header(("etag", etag.as_str())).finish();
    }
    let status = actix_web::http::StatusCode::from_u16(reply.status).expect("a status");
    let mut response = HttpResponse::build(status);
    if let Some(etag) = &reply.etag {
        response.insert_header(("etag", etag.as_str()));
    }
    response.body(reply.body)
}

impl Replay {
    pub fn start() -> Replay {
        let state = Arc::new(Mutex::new(ReplayState::default()));
        let data = web::Data::new(state.clone());
        let server = HttpServer::new(move || App::new().app_data(data.clone()).default_service(web::to(answer)))
            .workers(1)
            .bind(("127.0.0.1", 0))
            .expect("the replay server binds");
        let address = format!("http://{}", server.addrs()[0]);
        tokio::spawn(server.run());
        Replay { address, state }
    }

    pub fn set(&self, path: &str, reply: Reply) {
        self.state.lock().expect("replay state").replies.insert(path.to_string(), reply);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn hits(&self, path: &str) -> usize {
        self.state.lock().expect("replay state").hits.get(path).copied().unwrap_or(0)
    }

    pub fn not_modified(&self, path: &str) -> usize {
        self.state.lock().expect("replay state").not_modified.get(path).copied().unwrap_or(0)
    }
}

pub struct TestApp {
    pub address: String,
    pub incidents_address: String,
    pub settings: Settings,
    pub client: reqwest::Client,
    pub users: TestUsers,
    pub sre: SignedIn,
    pub viewer: SignedIn,
    pub replay: Replay,
    pub handle: ServiceHandle,
}

/// Settings for an ingestor on `redis` with background polling off (tests refresh by hand).
pub async fn settings_for(redis: &str, users: &TestUsers, incidents: &str) -> Settings {
    let mut s: Settings =
        platform::settings::load(csp_ingestor::settings::DEFAULTS, "CSP_TEST_UNUSED__", &[]).expect("defaults");
    s.server.port = 0;
    s.redis.url = redis.into();
    s.redis.key_prefix = unique_prefix("csp");
    s.auth.jwks_url = users.jwks_url();
    s.incidents.base_url = incidents.to_string();
    s.events.token.token_url = format!("{}/api/v1/auth/token", users.address);
    s.events.token.api_key = users.api_key("csp-ingestor", "sre").await.into();
    s.polling.enabled = false;
    s.polling.timeout_ms = 1500;
    s.polling.max_body_bytes = 5 * 1024 * 1024;
    s.polling.min_interval_secs = 1;
    s.polling.tick_ms = 50;
    s.polling.jitter_ratio = 0.0;
    s.polling.refresh_wait_ms = 5000;
    s
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customise: impl FnOnce(&mut Settings)) -> TestApp {
    let redis = TestRedis::shared().url();
    let users = users::testing::spawn(&redis).await;
    let incidents_app =
        incidents::startup::Application::build(incidents_settings(&redis, &users, 0)).await.expect("incidents builds");
    let incidents_address = format!("http://127.0.0.1:{}", incidents_app.port());
    tokio::spawn(incidents_app.run());

    let mut settings = settings_for(&redis, &users, &incidents_address).await;
    customise(&mut settings);
    let (address, handle) = start(&settings).await;
    let sre = users.user("sre").await;
    let viewer = users.user("viewer").await;
    TestApp {
        address,
        incidents_address,
        settings,
        client: reqwest::Client::new(),
        users,
        sre,
        viewer,
        replay: Replay::start(),
        handle,
    }
}

fn incidents_settings(redis: &str, users: &TestUsers, port: u16) -> incidents::settings::Settings {
    let mut i: incidents::settings::Settings =
        platform::settings::load(incidents::settings::DEFAULTS, "INCIDENTS_TEST_UNUSED__", &[]).expect("defaults");
    i.server.port = port;
    i.redis.url = redis.into();
    i.redis.key_prefix = unique_prefix("incidents");
    i.auth.jwks_url = users.jwks_url();
    i.users.base_url = users.address.clone();
    i
}

/// Starts an incidents service at `app.incidents_address` (a test whose ingestor was pointed at
/// a port where nothing listened yet).
pub async fn start_incidents_on(app: &TestApp) -> incidents::startup::ServiceHandle {
    let port = app.incidents_address.rsplit(':').next().and_then(|p| p.parse().ok()).expect("a port");
    let settings = incidents_settings(&TestRedis::shared().url(), &app.users, port);
    let incidents = incidents::startup::Application::build(settings).await.expect("incidents builds");
    let handle = incidents.handle();
    tokio::spawn(incidents.run());
    handle
}

/// Starts an ingestor with these settings on a free port.
pub async fn start(settings: &Settings) -> (String, ServiceHandle) {
    let app = Application::build(settings.clone()).await.expect("csp-ingestor builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    tokio::spawn(app.run());
    (address, handle)
}

impl TestApp {
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let url = if path.starts_with("http") { path.to_string() } else { format!("{}{path}", self.address) };
        platform::testing::send(&self.client, method, &url, token, body).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.call(Method::POST, path, Some(&self.sre.token), Some(body)).await
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let resp = self.call(Method::GET, path, Some(&self.viewer.token), None).await;
        assert_eq!(resp.status(), 200, "GET {path}");
        resp.json().await.expect("json")
    }

    /// Registers a provider reading `path` of the replay server.
    pub async fn provider(&self, name: &str, kind: &str, path: &str, extra: Value) -> Value {
        let mut body = json!({"name": name, "feed_url": self.replay.url(path), "type": kind});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        let resp = self.post("/api/v1/csp/providers", &body).await;
        assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
        resp.json().await.expect("json")
    }

    pub async fn refresh(&self, name: &str) -> Value {
        let resp = self.post(&format!("/api/v1/csp/refresh?provider={name}"), &json!({})).await;
        assert_eq!(resp.status(), 200, "refresh {name}");
        resp.json().await.expect("json")
    }

    /// An incident of the incidents service, read as the SRE.
    pub async fn incident(&self, id: &str) -> Value {
        let url = format!("{}/api/v1/incidents/{id}", self.incidents_address);
        let resp = self.call(Method::GET, &url, Some(&self.sre.token), None).await;
        assert_eq!(resp.status(), 200);
        resp.json().await.expect("json")
    }

    pub async fn timeline(&self, id: &str) -> Vec<Value> {
        let url = format!("{}/api/v1/incidents/{id}/timeline", self.incidents_address);
        let resp = self.call(Method::GET, &url, Some(&self.sre.token), None).await;
        resp.json().await.expect("json")
    }

    /// Incidents raised by the ingestor.
    pub async fn csp_incidents(&self) -> Vec<Value> {
        let url = format!("{}/api/v1/incidents", self.incidents_address);
        let all: Vec<Value> =
            self.call(Method::GET, &url, Some(&self.sre.token), None).await.json().await.expect("json");
        all.into_iter().filter(|i| i["source"] == "csp").collect()
    }
}

/// A Statuspage v2 document holding `incidents`.
pub fn statuspage(incidents: &[Value]) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "page": {"id": "p1", "name": "Example", "url": "https://status.example.com"},
        "status": {"indicator": if incidents.is_empty() { "none" } else { "major" }, "description": "x"},
        "incidents": incidents,
    }))
    .expect("json")
}

/// A Statuspage incident; `updates` are (status, body, minute after the start), newest last.
pub fn sp_incident(id: &str, name: &str, impact: &str, components: &[&str], updates: &[(&str, &str, i64)]) -> Value {
    let start = chrono::Utc::now() - chrono::Duration::minutes(30);
    let at = |minute: i64| (start + chrono::Duration::minutes(minute)).to_rfc3339();
    let status = updates.last().map_or("investigating", |u| u.0);
    let resolved = matches!(status, "resolved" | "postmortem");
    json!({
        "id": id, "name": name, "status": status, "impact": impact,
        "created_at": at(0), "started_at": at(0),
        "updated_at": at(updates.last().map_or(0, |u| u.2)),
        "resolved_at": if resolved { Value::from(at(updates.last().map_or(0, |u| u.2))) } else { Value::Null },
        "shortlink": format!("https://stspg.io/{id}"),
        "components": components.iter().map(|c| json!({"name": c})).collect::<Vec<_>>(),
        "incident_updates": updates.iter().rev().map(|(s, b, m)| json!({
            "status": s, "body": b, "created_at": at(*m), "display_at": at(*m),
        })).collect::<Vec<_>>(),
    })
}
