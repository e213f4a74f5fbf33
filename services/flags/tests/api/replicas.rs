//! Several replicas: a change made on one is served by the others within a second, streamed to
//! clients as Server-Sent Events, and announced to comms as a `flag.changed` CloudEvent.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{spawn_app, spawn_app_with, start};

#[tokio::test]
async fn a_change_on_one_replica_is_served_by_another_within_a_second() {
    let app = spawn_app().await;
    let (other, other_handle) = start(&app.settings).await;
    app.admin_post("/admin/flags", &json!({"id": "checkout-v2", "on": false})).await;
    let read = |base: String| {
        let client = app.client.clone();
        let token = app.viewer.token.clone();
        async move {
            let flags: Value = client
                .get(format!("{base}/flags?user=u&role=viewer"))
                .bearer_auth(token)
                .send()
                .await
                .expect("sent")
                .json()
                .await
                .expect("json");
            flags["checkout-v2"]["variation"].as_str().map(String::from)
        }
    };
    let deadline = Instant::now() + Duration::from_secs(1);
    while read(other.clone()).await.as_deref() != Some("off") {
        assert!(Instant::now() < deadline, "the new flag did not reach the other replica within a second");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let changed_at = Instant::now();
    app.admin_post("/admin/toggle/checkout-v2", &json!({"on": true})).await;
    assert_eq!(read(app.address.clone()).await.as_deref(), Some("on"), "the writer reads its own write");
    while read(other.clone()).await.as_deref() != Some("on") {
        assert!(changed_at.elapsed() < Duration::from_secs(1), "the toggle did not reach the other replica in time");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    other_handle.stop().await;
    app.handle.stop().await;
}

#[tokio::test]
async fn clients_are_told_of_changes_over_server_sent_events() {
    let app = spawn_app().await;
    let mut resp = app.call(Method::GET, "/flags/stream", Some(&app.viewer.token), None).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let first = tokio::time::timeout(Duration::from_secs(5), resp.chunk()).await.expect("in time");
    let first = String::from_utf8_lossy(&first.expect("a chunk").expect("bytes")).to_string();
    assert!(first.starts_with("event: ready\ndata: {\"version\":"), "{first}");
    app.admin_post("/admin/flags", &json!({"id": "live", "on": true})).await;
    let changed = tokio::time::timeout(Duration::from_secs(5), resp.chunk()).await.expect("in time");
    let changed = String::from_utf8_lossy(&changed.expect("a chunk").expect("bytes")).to_string();
    assert!(changed.starts_with("event: flags_changed\n"), "{changed}");
    assert!(changed.contains("\"flags\":[\"live\"]"), "{changed}");
    let anonymous = app.call(Method::GET, "/flags/stream", None, None).await;
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn changes_are_announced_to_comms_as_flag_changed_events() {
    let comms = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/events"))
        .respond_with(ResponseTemplate::new(202))
        .mount(&comms)
        .await;
    let target = format!("{}/api/v1/events", comms.uri());
    let app = spawn_app_with(|s| s.events.relay.target_url = target).await;
    app.admin_post("/admin/flags", &json!({"id": "announced", "on": false})).await;
    app.admin_post("/admin/toggle/announced", &json!({"on": true})).await;
    let mut events: Vec<Value> = Vec::new();
    for _ in 0..100 {
        events = comms
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter_map(|r| serde_json::from_slice(&r.body).ok())
            .collect();
        if events.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let summary: Vec<(String, String)> = events
        .iter()
        .map(|e| (e["type"].as_str().unwrap_or("").into(), e["data"]["action"].as_str().unwrap_or("").into()))
        .collect();
    assert_eq!(summary, [("flag.changed".into(), "created".into()), ("flag.changed".into(), "toggled".into())]);
    assert_eq!(events[1]["source"], "/polystatus/flags");
    assert_eq!(events[1]["data"]["flag"]["on"], true);
    assert_eq!(events[1]["data"]["changed"], json!(["on"]));
}
