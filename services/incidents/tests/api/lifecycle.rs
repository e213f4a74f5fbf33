//! Automatic timeline entries, timestamps, edits, ETags, following, links.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{fields, problem, spawn_app};

#[tokio::test]
async fn every_change_writes_its_own_timeline_entry_with_who_and_from_to() {
    let app = spawn_app().await;
    let id = app.declare_simple("db", 3).await;
    app.post(&format!("/api/v1/incidents/{id}/assign"), &app.sre.token, &json!({"commander": app.sre.id})).await;
    app.status(&id, "mitigated").await;
    app.call(
        Method::PATCH,
        &format!("/api/v1/incidents/{id}"),
        Some(&app.sre.token),
        Some(&json!({"sev": 1, "title": "DB down"})),
    )
    .await;
    app.post(
        &format!("/api/v1/incidents/{id}/timeline"),
        &app.sre.token,
        &json!({"type": "note", "message": "paged DBA"}),
    )
    .await;
    let timeline = app.timeline(&id).await;
    let kinds: Vec<&str> = timeline.iter().map(|e| e["type"].as_str().unwrap_or_default()).collect();
    assert_eq!(kinds, ["created", "assignment", "status_change", "edit", "severity_change", "note"]);
    assert_eq!(timeline[1]["from"], "nobody");
    assert_eq!(timeline[1]["to"], app.sre.id.as_str());
    assert_eq!((timeline[2]["from"].as_str(), timeline[2]["to"].as_str()), (Some("open"), Some("mitigated")));
    assert_eq!((timeline[4]["from"].as_str(), timeline[4]["to"].as_str()), (Some("3"), Some("1")));
    assert!(timeline.iter().all(|e| e["actor"]["id"] == app.sre.id.as_str() && e["ts"].is_i64()));
    let ids: Vec<&str> = timeline.iter().map(|e| e["id"].as_str().unwrap_or_default()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1] || w[0].len() < w[1].len()), "ordered ids: {ids:?}");

    let incident: Value = app.get(&format!("/api/v1/incidents/{id}"), &app.sre.token).await.json().await.expect("json");
    assert!(incident["acknowledged_at"].is_i64() && incident["mitigated_at"].is_i64());
    assert_eq!(incident["resolved_at"], Value::Null);
    assert_eq!(incident["version"], 4, "create, assign, status, one PATCH; notes append without a new version");
}

#[tokio::test]
async fn the_timeline_pages() {
    let app = spawn_app().await;
    let id = app.declare_simple("db", 3).await;
    for n in 0..6 {
        app.post(
            &format!("/api/v1/incidents/{id}/timeline"),
            &app.sre.token,
            &json!({"type": "update", "message": format!("u{n}")}),
        )
        .await;
    }
    let first = app.get(&format!("/api/v1/incidents/{id}/timeline?limit=4"), &app.viewer.token).await;
    let link = first.headers()["link"].to_str().expect("ascii").to_string();
    let page: Vec<Value> = first.json().await.expect("json");
    assert_eq!(page.len(), 4);
    let next = link.trim_start_matches('<').split('>').next().expect("url");
    let rest: Vec<Value> = app.get(next, &app.viewer.token).await.json().await.expect("json");
    let messages: Vec<&str> = rest.iter().map(|e| e["message"].as_str().unwrap_or_default()).collect();
    assert_eq!(messages, ["u3", "u4", "u5"]);
    let bad = app.get(&format!("/api/v1/incidents/{id}/timeline?cursor=yes&limit=9999"), &app.viewer.token).await;
    assert_eq!(fields(&problem(bad).await), ["cursor", "limit"]);
}

#[tokio::test]
async fn patch_edits_and_if_match_refuses_stale_writes() {
    let app = spawn_app().await;
    let id = app.declare_simple("db", 3).await;
    let path = format!("/api/v1/incidents/{id}");
    let send = |etag: &'static str, body: Value| {
        let req = app.client.patch(app.url(&path)).bearer_auth(&app.sre.token).header("if-match", etag).json(&body);
        async move { req.send().await.expect("sent") }
    };
    let ok = send("\"1\"", json!({"summary": "primary failed over", "services": ["db", "API"]})).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["etag"], "\"2\"");
    let body: Value = ok.json().await.expect("json");
    assert_eq!(body["services"], json!(["db", "api"]));
    let stale = send("\"1\"", json!({"sev": 1})).await;
    assert_eq!(stale.status(), 412);
    problem(stale).await;
    let stale_status = app
        .client
        .post(app.url(&format!("{path}/status")))
        .bearer_auth(&app.sre.token)
        .header("if-match", "\"1\"")
        .json(&json!({"status": "resolved"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(stale_status.status(), 412, "If-Match is honoured by every write");
    let invalid = send("\"2\"", json!({"sev": 0, "title": " "})).await;
    assert_eq!(fields(&problem(invalid).await), ["sev", "title"]);
    let unchanged: Value = app.get(&path, &app.sre.token).await.json().await.expect("json");
    assert_eq!(unchanged["sev"], 3);
}

#[tokio::test]
async fn users_follow_incidents_and_list_them_with_follower_me_and_commander() {
    let app = spawn_app().await;
    let followed = app.declare_simple("followed", 2).await;
    let led = app.declare(&json!({"title": "led", "sev": 2, "commander": app.viewer.id})).await;
    app.declare_simple("other", 2).await;
    let resp = app.post(&format!("/api/v1/incidents/{followed}/follow"), &app.viewer.token, &json!({})).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.expect("json")["followers"], json!([app.viewer.id]));
    let mine: Vec<Value> =
        app.get("/api/v1/incidents?follower=me", &app.viewer.token).await.json().await.expect("json");
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["id"], followed.as_str());
    let led_list: Vec<Value> = app
        .get(&format!("/api/v1/incidents?commander={}", app.viewer.id), &app.sre.token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(led_list.len(), 1);
    assert_eq!(led_list[0]["id"], led["id"]);
    let unfollow =
        app.call(Method::DELETE, &format!("/api/v1/incidents/{followed}/follow"), Some(&app.viewer.token), None).await;
    assert_eq!(unfollow.status(), 200);
    let mine: Vec<Value> =
        app.get("/api/v1/incidents?follower=me", &app.viewer.token).await.json().await.expect("json");
    assert!(mine.is_empty());
}

#[tokio::test]
async fn provider_events_are_linked_once() {
    let app = spawn_app().await;
    let id = app.declare_simple("cdn", 2).await;
    let link = json!({"provider": "cloudflare", "event_id": "abc123", "title": "CDN errors in Europe", "url": "https://www.cloudflarestatus.com/incidents/abc123", "evidence": "raised from it"});
    for _ in 0..2 {
        let resp = app.post(&format!("/api/v1/incidents/{id}/provider-events"), &app.sre.token, &link).await;
        assert_eq!(resp.status(), 200);
    }
    let incident: Value = app.get(&format!("/api/v1/incidents/{id}"), &app.sre.token).await.json().await.expect("json");
    assert_eq!(incident["provider_events"].as_array().map(Vec::len), Some(1));
    assert_eq!(incident["provider_events"][0]["provider"], "cloudflare");
    let bad = app
        .post(
            &format!("/api/v1/incidents/{id}/provider-events"),
            &app.sre.token,
            &json!({"provider": "", "event_id": "x", "url": "javascript:alert(1)"}),
        )
        .await;
    assert_eq!(fields(&problem(bad).await), ["provider", "url"]);
}
