//! PagerDuty Events API v2 compatible alert intake.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, fields, problem, spawn_app};

fn trigger(key: Option<&str>, summary: &str) -> Value {
    let mut event = json!({
        "routing_key": "R0UT1NGKEY",
        "event_action": "trigger",
        "payload": {"summary": summary, "source": "db-replica-3", "severity": "critical", "component": "postgres", "custom_details": {"lag_s": 42}},
    });
    if let Some(k) = key {
        event["dedup_key"] = json!(k);
    }
    event
}

async fn send(app: &TestApp, token: &str, event: &Value) -> reqwest::Response {
    app.post("/api/v1/alerts", token, event).await
}

async fn by_key(app: &TestApp) -> Vec<Value> {
    app.get("/api/v1/incidents?limit=100", &app.sre.token).await.json().await.expect("json")
}

#[tokio::test]
async fn trigger_acknowledge_resolve_with_pagerduty_dedup_rules() {
    let app = spawn_app().await;
    let machine = app.users.machine_token("sre").await;
    let resp = send(&app, &machine, &trigger(Some("db-lag"), "Replica lag above 30 s")).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body, json!({"status": "success", "message": "Event processed", "dedup_key": "db-lag"}));

    assert_eq!(send(&app, &machine, &trigger(Some("db-lag"), "still lagging")).await.status(), 202);
    let incidents = by_key(&app).await;
    assert_eq!(incidents.len(), 1, "the same key adds to the open incident");
    let incident = &incidents[0];
    let id = incident["id"].as_str().expect("id");
    assert_eq!((incident["source"].as_str(), incident["sev"].as_u64()), (Some("alert"), Some(1)));
    assert_eq!(incident["services"], json!(["postgres"]));
    assert!(incident["summary"].as_str().is_some_and(|s| s.contains("db-replica-3") && s.contains("lag_s")));

    send(&app, &machine, &json!({"event_action": "acknowledge", "dedup_key": "db-lag"})).await;
    let acked: Value = app.get(&format!("/api/v1/incidents/{id}"), &app.sre.token).await.json().await.expect("json");
    assert!(acked["acknowledged_at"].is_i64());
    send(&app, &machine, &json!({"event_action": "resolve", "dedup_key": "db-lag"})).await;
    let resolved: Value = app.get(&format!("/api/v1/incidents/{id}"), &app.sre.token).await.json().await.expect("json");
    assert_eq!(resolved["status"], "resolved");

    send(&app, &machine, &trigger(Some("db-lag"), "lag again")).await;
    assert_eq!(by_key(&app).await.len(), 2, "after a resolve, the key opens a new incident");
    let messages: Vec<String> =
        app.timeline(id).await.iter().map(|e| e["message"].as_str().unwrap_or_default().to_string()).collect();
    assert!(messages.iter().any(|m| m.starts_with("alert triggered again")), "{messages:?}");
}

#[tokio::test]
async fn a_trigger_without_a_key_gets_one_and_unknown_keys_are_ignored() {
    let app = spawn_app().await;
    let resp = send(&app, &app.sre.token, &trigger(None, "disk full")).await;
    let key = resp.json::<Value>().await.expect("json")["dedup_key"].as_str().expect("key").to_string();
    assert!(!key.is_empty());
    let ignored = send(&app, &app.sre.token, &json!({"event_action": "resolve", "dedup_key": "never-seen"})).await;
    assert_eq!(ignored.status(), 202);
    assert_eq!(by_key(&app).await.len(), 1);
}

#[tokio::test]
async fn invalid_events_name_their_fields() {
    let app = spawn_app().await;
    let resp = send(&app, &app.sre.token, &json!({"event_action": "trigger"})).await;
    assert_eq!(fields(&problem(resp).await), ["payload"]);
    let resp = send(
        &app,
        &app.sre.token,
        &json!({"event_action": "trigger", "payload": {"summary": "", "source": "x", "severity": "bad"}}),
    )
    .await;
    assert_eq!(fields(&problem(resp).await), ["payload.severity", "payload.summary"]);
    let resp = send(&app, &app.sre.token, &json!({"event_action": "acknowledge"})).await;
    assert_eq!(fields(&problem(resp).await), ["dedup_key"]);
    let resp = send(&app, &app.sre.token, &json!({"event_action": "explode", "dedup_key": "k".repeat(300)})).await;
    assert_eq!(fields(&problem(resp).await), ["dedup_key", "event_action"]);
}

#[tokio::test]
async fn a_storm_of_identical_triggers_opens_one_incident() {
    let app = spawn_app().await;
    let event = trigger(Some("storm"), "everything is on fire");
    let sends = (0..20).map(|_| send(&app, &app.sre.token, &event));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(sends).await.iter().map(|r| r.status()).collect();
    assert!(statuses.iter().all(|s| *s == StatusCode::ACCEPTED), "{statuses:?}");
    let incidents = by_key(&app).await;
    assert_eq!(incidents.len(), 1);
    let id = incidents[0]["id"].as_str().expect("id");
    let alerts = app.timeline(id).await.iter().filter(|e| e["type"] == "alert").count();
    assert_eq!(alerts, 19, "every repeat is on the timeline");
}
