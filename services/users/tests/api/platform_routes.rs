//! Health, metrics, docs, request ids, 404/405, body limits, and Redis going away.

use platform::testing::TestRedis;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{problem, spawn_app, spawn_app_with, spawn_on};

#[tokio::test]
async fn health_metrics_and_docs_answer() {
    let app = spawn_app().await;
    assert_eq!(app.get("/health/live", None).await.status(), StatusCode::OK);
    let ready: Value = app.get("/health/ready", None).await.json().await.expect("json");
    assert_eq!(ready["status"], "ok");
    assert_eq!(ready["checks"]["redis"]["status"], "up");

    app.get("/api/v1/users", Some(&app.admin_token)).await;
    let metrics = app.get("/metrics", None).await.text().await.expect("text");
    assert!(
        metrics.contains(
            r#"polystatus_http_requests_total{service="users",method="GET",route="/api/v1/users",status="200"} 1"#
        ),
        "{metrics}"
    );
    assert!(metrics.contains("polystatus_http_request_duration_seconds_bucket"));

    let api: Value = app.get("/openapi.json", None).await.json().await.expect("json");
    assert!(api["paths"]["/api/v1/users/{id}"]["put"].is_object());
    let docs = app.get("/docs/", None).await.text().await.expect("html");
    assert!(docs.contains("swagger-ui"), "Swagger UI is served from the binary");
    assert!(!docs.contains("cdn."), "nothing is loaded from a CDN");
}

#[tokio::test]
async fn request_ids_are_echoed_or_minted_and_quoted_in_problems() {
    let app = spawn_app().await;
    let resp = app
        .client
        .get(app.url("/api/v1/users/x"))
        .bearer_auth(&app.admin_token)
        .header("x-request-id", "trace-42")
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.headers()["x-request-id"], "trace-42");
    assert_eq!(problem(resp).await["request_id"], "trace-42");
    let minted = app.get("/health/live", None).await;
    assert_eq!(minted.headers()["x-request-id"].len(), 36);
}

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405_as_problems() {
    let app = spawn_app().await;
    let missing = app.get("/api/v1/nothing-here", None).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    problem(missing).await;
    let wrong = app.client.patch(app.url("/api/v1/users")).send().await.expect("sent");
    assert_eq!(wrong.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong.headers()["allow"], "GET, POST");
    problem(wrong).await;
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413() {
    let app = spawn_app_with(|s| s.server.body_limit_bytes = 1024).await;
    let name = "x".repeat(4096);
    let resp = app.create_user(&json!({"name": name, "email": "big@example.com"})).await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    problem(resp).await;
}

#[tokio::test]
async fn redis_going_away_gives_503s_and_service_resumes_when_it_returns() {
    let mut redis = TestRedis::start();
    let app = spawn_on(&redis.url(), |_| {}).await;
    redis.stop();

    let ready = app.get("/health/ready", None).await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let report: Value = ready.json().await.expect("json");
    assert_eq!(report["checks"]["redis"]["status"], "down");
    let api = app.get("/api/v1/users", Some(&app.admin_token)).await;
    assert_eq!(api.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(api.headers().contains_key("retry-after"));
    let body = problem(api).await;
    assert!(!body.to_string().contains("127.0.0.1"), "the cause is not shown: {body}");

    // The test server keeps nothing on disk; what matters is that the service comes back.
    redis.restart();
    let mut recovered = false;
    for _ in 0..50 {
        if app.get("/health/ready", None).await.status() == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(recovered, "ready again once Redis is back");
    assert_eq!(app.get("/api/v1/users", Some(&app.admin_token)).await.status(), StatusCode::OK);
}
