//! The first admin: created once, from settings or with a generated password.

use platform::testing::{TestRedis, unique_prefix};
use reqwest::StatusCode;
use users::startup::Application;

use crate::helpers::test_settings;

#[tokio::test]
async fn a_generated_first_admin_password_works_and_a_second_start_creates_no_other_admin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = test_settings(&TestRedis::shared().url(), dir.path());
    settings.bootstrap.admin_password = "".into();
    settings.bootstrap.admin_email = "First@Example.com".into();
    let prefix = unique_prefix("users");
    settings.redis.key_prefix = prefix.clone();

    let first = Application::build(settings.clone()).await.expect("builds");
    let admin = first.first_admin().cloned().expect("an admin is created");
    assert_eq!(admin.email, "first@example.com");
    let password = admin.generated_password.expect("a generated password");
    assert!(password.len() >= 16, "long enough to be unguessable");
    let address = format!("http://127.0.0.1:{}", first.port());
    tokio::spawn(first.run());
    let login = reqwest::Client::new()
        .post(format!("{address}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "first@example.com", "password": password}))
        .send()
        .await
        .expect("sent");
    assert_eq!(login.status(), StatusCode::OK);

    let second = Application::build(settings).await.expect("builds again");
    assert!(second.first_admin().is_none(), "users exist, so nobody is created");
}

#[tokio::test]
async fn a_configured_first_admin_password_is_used_and_not_echoed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let settings = test_settings(&TestRedis::shared().url(), dir.path());
    let app = Application::build(settings).await.expect("builds");
    let admin = app.first_admin().expect("an admin is created");
    assert!(admin.generated_password.is_none());
}

#[tokio::test]
async fn a_first_admin_password_too_short_stops_the_start_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = test_settings(&TestRedis::shared().url(), dir.path());
    settings.bootstrap.admin_password = "short".into();
    let err = Application::build(settings).await.err().expect("refused");
    assert!(format!("{err:#}").contains("POLYSTATUS_ADMIN_PASSWORD"), "{err:#}");
}
