//! `spawn_app()`: a users service and an incidents service on the test binary's Redis, each
//! with its own key prefix; tokens for each role; one helper per endpoint.

use incidents::settings::Settings;
use incidents::startup::{Application, ServiceHandle};
use platform::testing::{TestRedis, unique_prefix};
pub use platform::testing::{fields, problem};
use reqwest::{Method, Response};
use serde_json::{Value, json};
use users::testing::{SignedIn, TestUsers};

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub users: TestUsers,
    pub sre: SignedIn,
    pub viewer: SignedIn,
    pub handle: ServiceHandle,
}

pub fn settings_for(redis_url: &str, users: &TestUsers) -> Settings {
    let mut s: Settings =
        platform::settings::load(incidents::settings::DEFAULTS, "INCIDENTS_TEST_UNUSED__", &[]).expect("defaults");
    s.server.port = 0;
    s.redis.url = redis_url.into();
    s.redis.key_prefix = unique_prefix("incidents");
    s.auth.jwks_url = users.jwks_url();
    s.users.base_url = users.address.clone();
    s
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customise: impl FnOnce(&mut Settings)) -> TestApp {
    let redis = TestRedis::shared().url();
    let users = users::testing::spawn(&redis).await;
    let mut settings = settings_for(&redis, &users);
    customise(&mut settings);
    start(settings, users).await
}

pub async fn start(settings: Settings, users: TestUsers) -> TestApp {
    let app = Application::build(settings).await.expect("the incidents service builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    tokio::spawn(app.run());
    let sre = users.user("sre").await;
    let viewer = users.user("viewer").await;
    TestApp { address, client: reqwest::Client::new(), users, sre, viewer, handle }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<&Value>) -> Response {
        platform::testing::send(&self.client, method, &self.url(path), token, body).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Response {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    /// Declares an incident as the SRE; its JSON.
    pub async fn declare(&self, body: &Value) -> Value {
        let resp = self.post("/api/v1/incidents", &self.sre.token, body).await;
        assert_eq!(resp.status(), 201, "declared");
        resp.json().await.expect("json")
    }

    pub async fn declare_simple(&self, title: &str, sev: u8) -> String {
        let incident = self.declare(&json!({"title": title, "sev": sev})).await;
        incident["id"].as_str().expect("id").to_string()
    }

    pub async fn status(&self, id: &str, status: &str) -> Response {
        self.post(&format!("/api/v1/incidents/{id}/status"), &self.sre.token, &json!({"status": status})).await
    }

    pub async fn timeline(&self, id: &str) -> Vec<Value> {
        let resp = self.get(&format!("/api/v1/incidents/{id}/timeline?limit=500"), &self.sre.token).await;
        resp.json().await.expect("timeline")
    }
}
