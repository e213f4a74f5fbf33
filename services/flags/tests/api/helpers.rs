//! A users service and a flags service on one test Redis.

use flags::settings::Settings;
use flags::startup::{Application, ServiceHandle};
use platform::testing::{TestRedis, unique_prefix};
use reqwest::Method;
use serde_json::Value;
use users::testing::{SignedIn, TestUsers};

pub struct TestApp {
    pub address: String,
    pub settings: Settings,
    pub client: reqwest::Client,
    pub users: TestUsers,
    pub admin: String,
    pub viewer: SignedIn,
    pub handle: ServiceHandle,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customise: impl FnOnce(&mut Settings)) -> TestApp {
    let redis = TestRedis::shared().url();
    let users = users::testing::spawn(&redis).await;
    let mut s: Settings =
        platform::settings::load(flags::settings::DEFAULTS, "FLAGS_TEST_UNUSED__", &[]).expect("defaults");
    s.server.port = 0;
    s.redis.url = redis.as_str().into();
    s.redis.key_prefix = unique_prefix("flags");
    s.auth.jwks_url = users.jwks_url();
    s.events.relay.min_backoff_ms = 20;
    s.events.token.token_url = format!("{}/api/v1/auth/token", users.address);
    customise(&mut s);
    let (address, handle) = start(&s).await;
    let viewer = users.user("viewer").await;
    TestApp {
        address,
        settings: s,
        client: reqwest::Client::new(),
        admin: users.admin_token.clone(),
        users,
        viewer,
        handle,
    }
}

/// Another flags instance with these settings (same data), on a free port.
pub async fn start(settings: &Settings) -> (String, ServiceHandle) {
    let app = Application::build(settings.clone()).await.expect("flags builds");
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

    /// POST as the admin.
    pub async fn admin_post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.call(Method::POST, path, Some(&self.admin), Some(body)).await
    }

    /// GET as the viewer, expecting 200.
    pub async fn get_json(&self, path: &str) -> Value {
        let resp = self.call(Method::GET, path, Some(&self.viewer.token), None).await;
        assert_eq!(resp.status(), 200, "GET {path}");
        resp.json().await.expect("json")
    }

    /// POST as the viewer (evaluation), returning status and body.
    pub async fn evaluate(&self, path: &str, body: &Value) -> (u16, Value) {
        let resp = self.call(Method::POST, path, Some(&self.viewer.token), Some(body)).await;
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}
