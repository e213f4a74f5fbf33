//! A real users service for other services' tests: sign-in, users of each role, API keys.

use serde_json::{Value, json};

use crate::settings::Settings;
use crate::startup::Application;

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "admin-password-1";
/// The password of the users [`TestUsers::user`] creates.
pub const PASSWORD: &str = "a good password";

/// A running users service on a free port, with its own key prefix on `redis_url`.
pub struct TestUsers {
    pub address: String,
    pub admin_token: String,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// A signed-in user.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub id: String,
    pub email: String,
    pub token: String,
}

/// Starts a users service with cheap password hashing.
pub async fn spawn(redis_url: &str) -> TestUsers {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s: Settings =
        platform::settings::load(crate::settings::DEFAULTS, "USERS_TEST_UNUSED__", &[]).expect("defaults");
    s.server.port = 0;
    s.redis.url = redis_url.into();
    s.redis.key_prefix = platform::testing::unique_prefix("users");
    s.tokens.signing_key_file = dir.path().join("signing.pem");
    s.passwords.memory_kib = 1024;
    s.passwords.iterations = 1;
    s.login_limits.per_address = 100_000;
    s.bootstrap.admin_email = ADMIN_EMAIL.into();
    s.bootstrap.admin_password = ADMIN_PASSWORD.into();
    let app = Application::build(s).await.expect("the users service builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run());
    let mut users = TestUsers { address, admin_token: String::new(), client: reqwest::Client::new(), _dir: dir };
    users.admin_token = users.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await.token;
    users
}

impl TestUsers {
    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.address)
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> SignedIn {
        let body: Value = self
            .client
            .post(format!("{}/api/v1/auth/login", self.address))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("sign-in sent")
            .json()
            .await
            .expect("sign-in answer");
        SignedIn {
            id: body["user_id"].as_str().expect("user_id").to_string(),
            email: email.to_string(),
            token: body["token"].as_str().expect("token").to_string(),
        }
    }

    /// A new user with `role`, signed in.
    pub async fn user(&self, role: &str) -> SignedIn {
        let email = format!("{role}-{}@example.com", uuid::Uuid::new_v4().simple());
        let created = self
            .client
            .post(format!("{}/api/v1/users", self.address))
            .bearer_auth(&self.admin_token)
            .json(&json!({"name": format!("{role} user"), "email": email, "role": role, "password": PASSWORD}))
            .send()
            .await
            .expect("create sent");
        assert_eq!(created.status(), 201, "user created");
        self.sign_in(&email, PASSWORD).await
    }

    /// A new API key with `role`: its secret.
    pub async fn api_key(&self, name: &str, role: &str) -> String {
        let body: Value = self
            .client
            .post(format!("{}/api/v1/api-keys", self.address))
            .bearer_auth(&self.admin_token)
            .json(&json!({"name": name, "role": role}))
            .send()
            .await
            .expect("create sent")
            .json()
            .await
            .expect("json");
        body["secret"].as_str().expect("secret").to_string()
    }

    /// An access token for a new API key with `role`.
    pub async fn machine_token(&self, role: &str) -> String {
        let secret = self.api_key("machine", role).await;
        let body: Value = self
            .client
            .post(format!("{}/api/v1/auth/token", self.address))
            .json(&json!({"api_key": secret}))
            .send()
            .await
            .expect("exchange sent")
            .json()
            .await
            .expect("json");
        body["access_token"].as_str().expect("access_token").to_string()
    }
}
