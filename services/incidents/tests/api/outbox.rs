//! Every change is delivered to the event receiver once per event id, despite failures and a
//! restart of the service.

use std::time::Duration;

use platform::testing::{TestRedis, free_port};
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{settings_for, spawn_app_with, start};

/// Waits until `server` has received `n` requests (or gives up after 15 s).
async fn wait_for(server: &MockServer, n: usize) -> Vec<wiremock::Request> {
    for _ in 0..300 {
        let received = server.received_requests().await.unwrap_or_default();
        if received.len() >= n {
            return received;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.received_requests().await.unwrap_or_default()
}

fn event(request: &wiremock::Request) -> Value {
    serde_json::from_slice(&request.body).expect("a JSON CloudEvent")
}

#[tokio::test]
async fn events_reach_a_failing_receiver_once_each_in_order_with_a_service_token() {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/events"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&receiver)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/events"))
        .respond_with(ResponseTemplate::new(202))
        .with_priority(2)
        .mount(&receiver)
        .await;
    let redis = TestRedis::shared().url();
    let users = users::testing::spawn(&redis).await;
    let key = users.api_key("incidents-relay", "sre").await;
    let mut settings = settings_for(&redis, &users);
    settings.events.relay.target_url = format!("{}/api/v1/events", receiver.uri());
    settings.events.relay.min_backoff_ms = 20;
    settings.events.relay.max_backoff_ms = 100;
    settings.events.token.token_url = format!("{}/api/v1/auth/token", users.address);
    settings.events.token.api_key = key.into();
    let app = start(settings, users).await;

    let id = app.declare_simple("relayed", 2).await;
    app.status(&id, "mitigated").await;
    app.post(
        &format!("/api/v1/incidents/{id}/timeline"),
        &app.sre.token,
        &serde_json::json!({"type": "note", "message": "hi"}),
    )
    .await;

    let received = wait_for(&receiver, 5).await;
    assert_eq!(received.len(), 5, "two refused attempts, then three deliveries");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver.received_requests().await.unwrap_or_default().len(),
        5,
        "nothing delivered twice after success"
    );
    let delivered: Vec<Value> = received[2..].iter().map(event).collect();
    let types: Vec<&str> = delivered.iter().map(|e| e["type"].as_str().unwrap_or_default()).collect();
    assert_eq!(types, ["incident.created", "incident.status_changed", "incident.timeline_added"]);
    let mut ids: Vec<&str> = delivered.iter().map(|e| e["id"].as_str().unwrap_or_default()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 3, "distinct event ids");
    assert_eq!(received[0].body, received[2].body, "the refused event is the one redelivered");
    for e in &delivered {
        assert_eq!(e["specversion"], "1.0");
        assert_eq!(e["source"], "/polystatus/incidents");
        assert_eq!(e["subject"], id.as_str());
        assert_eq!(e["data"]["incident"]["id"], id.as_str());
    }
    let auth = received[2].headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(auth.starts_with("Bearer ey"), "a service token: {auth}");
}

#[tokio::test]
async fn events_written_while_the_receiver_is_down_survive_a_restart_of_the_service() {
    let port = free_port();
    let target = format!("http://127.0.0.1:{port}/api/v1/events");
    let redis = TestRedis::shared().url();
    let users = users::testing::spawn(&redis).await;
    let mut settings = settings_for(&redis, &users);
    settings.events.relay.target_url = target;
    settings.events.relay.min_backoff_ms = 20;
    settings.events.relay.max_backoff_ms = 100;
    let first = start(settings.clone(), users).await;
    let a = first.declare_simple("before restart A", 2).await;
    let b = first.declare_simple("before restart B", 2).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    first.handle.stop().await;

    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("the receiver's port");
    let receiver = MockServer::builder().listener(listener).start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&receiver).await;
    let second = spawn_app_with(|s| *s = settings).await;
    let received = wait_for(&receiver, 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received_after = receiver.received_requests().await.unwrap_or_default();
    assert_eq!(received_after.len(), 2, "each event once: {}", received.len());
    let subjects: Vec<String> =
        received_after.iter().map(|r| event(r)["subject"].as_str().unwrap_or_default().to_string()).collect();
    assert_eq!(subjects, [a, b]);
    drop(second);
}
