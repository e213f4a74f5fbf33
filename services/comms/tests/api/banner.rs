//! The site banner.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{fields, problem, spawn_app};

#[tokio::test]
async fn the_banner_is_set_read_anonymously_and_removed() {
    let app = spawn_app().await;
    assert_eq!(app.get("/api/v1/public/banner").await.status(), 404);
    let in_an_hour = chrono::Utc::now().timestamp() + 3600;
    let set = app
        .post(
            "/api/v1/public/banner",
            &app.sre.token,
            &json!({"message": "Maintenance at 22:00 UTC", "level": "warning", "expires_at": in_an_hour}),
        )
        .await;
    assert_eq!(set.status(), 201);
    let banner: Value = app.get("/api/v1/public/banner").await.json().await.expect("json");
    assert_eq!(
        (banner["message"].as_str(), banner["level"].as_str()),
        (Some("Maintenance at 22:00 UTC"), Some("warning"))
    );
    assert_eq!(banner["expires_at"], in_an_hour);
    let url = format!("{}/api/v1/public/banner", app.address);
    assert_eq!(app.call(Method::DELETE, &url, Some(&app.viewer.token), None).await.status(), 403);
    assert_eq!(app.call(Method::DELETE, &url, Some(&app.sre.token), None).await.status(), 204);
    assert_eq!(app.get("/api/v1/public/banner").await.status(), 404);
    assert_eq!(app.call(Method::DELETE, &url, Some(&app.sre.token), None).await.status(), 404);
}

#[tokio::test]
async fn an_expired_banner_disappears_and_bad_banners_are_named() {
    let app = spawn_app().await;
    let soon = chrono::Utc::now().timestamp() + 1;
    app.post("/api/v1/public/banner", &app.sre.token, &json!({"message": "brief", "expires_at": soon})).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(app.get("/api/v1/public/banner").await.status(), 404);
    let bad = app
        .post("/api/v1/public/banner", &app.sre.token, &json!({"message": "", "level": "loud", "expires_at": 0}))
        .await;
    assert_eq!(fields(&problem(bad).await), ["expires_at", "level", "message"]);
}

#[tokio::test]
async fn a_banner_is_checked_as_its_schema_says_and_a_past_expiry_is_unprocessable() {
    let app = spawn_app().await;
    let set = |body: Value| {
        let app = &app;
        async move { app.post("/api/v1/public/banner", &app.sre.token, &body).await }
    };
    // Well formed but already past: refused with 422, the field named, nothing shown.
    let past = set(json!({"message": "Maintenance", "expires_at": 5})).await;
    assert_eq!(past.status(), 422);
    assert_eq!(fields(&problem(past).await), ["expires_at"]);
    assert_eq!(app.get("/api/v1/public/banner").await.status(), 404);
    // Outside the documented range (1 to the end of year 9999), a bell in the message, a level
    // not written as documented: 400, each named.
    let bad = set(json!({"message": "Ding\u{7}", "level": "Warning", "expires_at": 253_402_300_800_i64})).await;
    assert_eq!(bad.status(), 400);
    assert_eq!(fields(&problem(bad).await), ["expires_at", "level", "message"]);
    // The last second documented is taken; so are lines in the message.
    let far = set(json!({"message": " Tonight:\n22:00-23:00 UTC ", "expires_at": 253_402_300_799_i64})).await;
    assert_eq!(far.status(), 201);
    let banner: Value = far.json().await.expect("json");
    assert_eq!(banner["message"], "Tonight:\n22:00-23:00 UTC");
}
