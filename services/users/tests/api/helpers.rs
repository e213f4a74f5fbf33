//! `spawn_app()`: a users service on a free port, its own key prefix on the test binary's
//! private Redis, cheap password hashing, and one helper per endpoint.

use std::path::PathBuf;

use platform::testing::{TestRedis, unique_prefix};
pub use platform::testing::{fields, problem};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use users::settings::Settings;
use users::startup::Application;

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "admin-password-1";
pub const PASSWORD: &str = "a good password";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub admin_token: String,
    pub key_file: PathBuf,
    _dir: tempfile::TempDir,
}

/// Settings for a test instance: free port, fresh prefix, cheap Argon2.
pub fn test_settings(redis_url: &str, dir: &std::path::Path) -> Settings {
    let mut s: Settings =
        platform::settings::load(users::settings::DEFAULTS, "USERS_TEST_UNUSED__", &[]).expect("defaults load");
    s.server.port = 0;
    s.redis.url = redis_url.into();
    s.redis.key_prefix = unique_prefix("users");
    s.tokens.signing_key_file = dir.join("signing.pem");
    s.passwords.memory_kib = 1024;
    s.passwords.iterations = 1;
    s.bootstrap.admin_email = ADMIN_EMAIL.into();
    s.bootstrap.admin_password = ADMIN_PASSWORD.into();
    s
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customise: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_on(&TestRedis::shared().url(), customise).await
}

pub async fn spawn_on(redis_url: &str, customise: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = test_settings(redis_url, dir.path());
    customise(&mut settings);
    let key_file = settings.tokens.signing_key_file.clone();
    let app = Application::build(settings).await.expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run());
    let mut test = TestApp { address, client: reqwest::Client::new(), admin_token: String::new(), key_file, _dir: dir };
    test.admin_token = test.login_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    test
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request sent")
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, token: Option<&str>, body: &Value) -> Response {
        let mut req = self.client.request(method, self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request sent")
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.send(reqwest::Method::POST, path, token, body).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post("/api/v1/auth/login", None, &json!({"email": email, "password": password})).await
    }

    pub async fn login_token(&self, email: &str, password: &str) -> String {
        let resp = self.login(email, password).await;
        assert_eq!(resp.status(), StatusCode::OK, "sign-in as {email}");
        let body: Value = resp.json().await.expect("json");
        body["token"].as_str().expect("a token").to_string()
    }

    pub async fn create_user(&self, body: &Value) -> Response {
        self.post("/api/v1/users", Some(&self.admin_token), body).await
    }

    /// Creates a user with `role` and signs them in.
    pub async fn user_with_role(&self, role: &str) -> TestUser {
        let email = format!("{}-{}@example.com", role, uuid::Uuid::new_v4().simple());
        let resp = self.create_user(&json!({"name": role, "email": email, "role": role, "password": PASSWORD})).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        let body: Value = resp.json().await.expect("json");
        let token = self.login_token(&email, PASSWORD).await;
        TestUser { id: body["id"].as_str().expect("id").to_string(), email, token }
    }
}

pub struct TestUser {
    pub id: String,
    pub email: String,
    pub token: String,
}
