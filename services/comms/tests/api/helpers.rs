//! `spawn_app()`: users, incidents (its outbox relay pointed here) and comms, each with its own
//! key prefix on the test binary's Redis.

use comms::settings::Settings;
use comms::startup::Application;
use platform::testing::{TestRedis, free_port, unique_prefix};
pub use platform::testing::{fields, problem};
use reqwest::{Method, Response};
use serde_json::{Value, json};
use users::testing::{SignedIn, TestUsers};

pub struct TestApp {
    pub address: String,
    pub settings: Settings,
    pub comms: comms::startup::ServiceHandle,
    pub incidents_address: String,
    pub client: reqwest::Client,
    pub users: TestUsers,
    pub sre: SignedIn,
    pub viewer: SignedIn,
    pub incidents: incidents::startup::ServiceHandle,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(true).await
}

/// With `relay` false, the incidents service keeps its events (comms learns of incidents only
/// by asking).
pub async fn spawn_app_with(relay: bool) -> TestApp {
    spawn_app_custom(relay, |_| {}).await
}

/// Like [`spawn_app_with`], with the comms settings changed by `customise` last.
pub async fn spawn_app_custom(relay: bool, customise: impl FnOnce(&mut Settings)) -> TestApp {
    let redis = TestRedis::shared().url();
    let users = users::testing::spawn(&redis).await;
    let comms_port = free_port();
    let comms_url = format!("http://127.0.0.1:{comms_port}");

    let mut i: incidents::settings::Settings =
        platform::settings::load(incidents::settings::DEFAULTS, "INCIDENTS_TEST_UNUSED__", &[]).expect("defaults");
    i.server.port = 0;
    i.redis.url = redis.as_str().into();
    i.redis.key_prefix = unique_prefix("incidents");
    i.auth.jwks_url = users.jwks_url();
    i.users.base_url = users.address.clone();
    if relay {
        i.events.relay.target_url = format!("{comms_url}/api/v1/events");
        i.events.relay.min_backoff_ms = 20;
        i.events.token.token_url = format!("{}/api/v1/auth/token", users.address);
        i.events.token.api_key = users.api_key("incidents-relay", "sre").await.into();
    }
    let incidents_app = incidents::startup::Application::build(i).await.expect("incidents builds");
    let incidents_address = format!("http://127.0.0.1:{}", incidents_app.port());
    let incidents = incidents_app.handle();
    tokio::spawn(incidents_app.run());

    let mut s: Settings =
        platform::settings::load(comms::settings::DEFAULTS, "COMMS_TEST_UNUSED__", &[]).expect("defaults");
    s.server.port = comms_port;
    s.server.public_url = comms_url.clone();
    s.redis.url = redis.as_str().into();
    s.redis.key_prefix = unique_prefix("comms");
    s.auth.jwks_url = users.jwks_url();
    s.incidents.base_url = incidents_address.clone();
    s.chatops.users_url = users.address.clone();
    s.chatops.token.token_url = format!("{}/api/v1/auth/token", users.address);
    s.chatops.token.api_key = users.api_key("comms", "sre").await.into();
    s.chatops.retry_schedule_ms = vec![50, 50, 50];
    s.chatops.poll_interval_ms = 20;
    s.public.refresh_interval_ms = 50;
    // Test receivers listen on loopback; fast retries keep tests short.
    s.webhooks.allowed_networks = vec!["127.0.0.0/8".into()];
    s.webhooks.retry_schedule_ms = vec![50, 50, 50];
    s.webhooks.poll_interval_ms = 20;
    s.webhooks.timeout_ms = 1000;
    customise(&mut s);
    let settings = s.clone();
    let app = Application::build(s).await.expect("comms builds");
    let comms = app.handle();
    tokio::spawn(app.run());
    let sre = users.user("sre").await;
    let viewer = users.user("viewer").await;
    TestApp {
        address: comms_url,
        settings,
        comms,
        incidents_address,
        client: reqwest::Client::new(),
        users,
        sre,
        viewer,
        incidents,
    }
}

/// Starts another comms instance with these settings (same Redis data), on a free port.
pub async fn restart_comms(settings: &Settings) -> (String, comms::startup::ServiceHandle) {
    let mut s = settings.clone();
    s.server.port = 0;
    let app = Application::build(s).await.expect("comms builds again");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    tokio::spawn(app.run());
    (address, handle)
}

impl TestApp {
    /// Sends an event straight to comms, as a relay would; its id.
    pub async fn emit(&self, event_type: &str, incident: Value) -> String {
        let token = self.users.machine_token("sre").await;
        let id = uuid::Uuid::now_v7().to_string();
        let event = json!({
            "specversion": "1.0", "id": id, "source": "/polystatus/incidents", "type": event_type,
            "time": "2027-01-15T08:00:00.000Z", "subject": incident["id"], "datacontenttype": "application/json",
            "data": {"incident": incident, "entry": {"from": "open", "to": "mitigated"}},
        });
        let resp = self.post("/api/v1/events", &token, &event).await;
        assert_eq!(resp.status(), 202);
        id
    }

    /// Registers a webhook; (id, secret).
    pub async fn register(&self, body: Value) -> (String, String) {
        let resp = self.post("/api/v1/webhooks", &self.sre.token, &body).await;
        assert_eq!(resp.status(), 201, "registered");
        let created: Value = resp.json().await.expect("json");
        (created["id"].as_str().expect("id").to_string(), created["secret"].as_str().expect("secret").to_string())
    }

    pub async fn call(&self, method: Method, url: &str, token: Option<&str>, body: Option<&Value>) -> Response {
        platform::testing::send(&self.client, method, url, token, body).await
    }

    pub async fn get(&self, path: &str) -> Response {
        self.call(Method::GET, &format!("{}{path}", self.address), None, None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Response {
        self.call(Method::POST, &format!("{}{path}", self.address), Some(token), Some(body)).await
    }

    /// Declares an incident at the incidents service; its id.
    pub async fn declare(&self, title: &str, sev: u8, services: &[&str]) -> String {
        let body = json!({"title": title, "sev": sev, "services": services});
        let resp = self
            .call(
                Method::POST,
                &format!("{}/api/v1/incidents", self.incidents_address),
                Some(&self.sre.token),
                Some(&body),
            )
            .await;
        assert_eq!(resp.status(), 201);
        resp.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string()
    }

    pub async fn set_status(&self, id: &str, status: &str) {
        let url = format!("{}/api/v1/incidents/{id}/status", self.incidents_address);
        let resp = self.call(Method::POST, &url, Some(&self.sre.token), Some(&json!({"status": status}))).await;
        assert_eq!(resp.status(), 200);
    }

    pub async fn announce(&self, id: &str, state: &str, message: &str) -> Response {
        self.post(
            "/api/v1/public/announce",
            &self.sre.token,
            &json!({"incident_id": id, "message": message, "state": state}),
        )
        .await
    }

    pub async fn public_status(&self) -> Vec<Value> {
        self.get("/api/v1/public/status").await.json().await.expect("array")
    }

    /// Waits (up to 10 s) until `check` holds for the public status.
    pub async fn eventually(&self, what: &str, check: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        for _ in 0..200 {
            let status = self.public_status().await;
            if check(&status) {
                return status;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("{what}: not seen on the public status within 10 s: {:?}", self.public_status().await);
    }
}

/// An incident as the incidents service's events carry it.
pub fn incident(id: &str, sev: u8, services: &[&str]) -> Value {
    json!({"id": id, "title": format!("Incident {id}"), "sev": sev, "status": "open", "services": services,
           "started_at": 1_800_000_000, "updated_at": 1_800_000_000, "resolved_at": null, "version": 1})
}
