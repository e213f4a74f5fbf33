//! Many writers on one incident: nothing lost, the final state agrees with the timeline.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::spawn_app;

#[tokio::test]
async fn fifty_concurrent_writers_lose_nothing_and_agree_with_the_timeline() {
    let app = spawn_app().await;
    let id = app.declare_simple("contended", 2).await;
    let commanders = [app.sre.id.clone(), app.viewer.id.clone()];
    let writes = (0..50).map(|n| {
        let (app, id, commanders) = (&app, id.clone(), commanders.clone());
        async move {
            let (kind, path, body) = match n % 3 {
                0 => (
                    "note",
                    format!("/api/v1/incidents/{id}/timeline"),
                    json!({"type": "note", "message": format!("note {n}")}),
                ),
                1 => ("assign", format!("/api/v1/incidents/{id}/assign"), json!({"commander": commanders[n % 2]})),
                _ => {
                    let status = ["mitigated", "resolved", "open"][(n / 3) % 3];
                    (
                        "status",
                        format!("/api/v1/incidents/{id}/status"),
                        json!({"status": status, "reason": "flapping"}),
                    )
                }
            };
            (kind, app.post(&path, &app.sre.token, &body).await.status())
        }
    });
    let results = futures_util::future::join_all(writes).await;
    for (kind, status) in &results {
        assert!(matches!(*status, StatusCode::OK | StatusCode::CONFLICT), "{kind}: {status}");
        assert!(*kind == "status" || *status == StatusCode::OK, "{kind} never conflicts: {status}");
    }
    let ok = |k: &str| results.iter().filter(|(kind, s)| *kind == k && *s == StatusCode::OK).count();

    let timeline = app.timeline(&id).await;
    let count = |t: &str| timeline.iter().filter(|e| e["type"] == t).count();
    assert_eq!(count("note"), ok("note"), "every note is there");
    assert_eq!(count("status_change"), ok("status"), "every accepted status change is there");
    let incident: Value = app.get(&format!("/api/v1/incidents/{id}"), &app.sre.token).await.json().await.expect("json");
    let last = |t: &str| timeline.iter().rev().find(|e| e["type"] == t).map(|e| e["to"].clone());
    if let Some(status) = last("status_change") {
        assert_eq!(incident["status"], status, "the record agrees with the last status entry");
    }
    assert_eq!(incident["commander"], last("assignment").expect("assigned"), "and with the last assignment");
    let record_changes = count("assignment") + count("status_change");
    assert_eq!(incident["version"].as_u64(), Some(1 + record_changes as u64), "one version per recorded change");
}

#[tokio::test]
async fn of_concurrent_writes_pinned_to_one_version_exactly_one_wins() {
    let app = spawn_app().await;
    let id = app.declare_simple("pinned", 3).await;
    let path = format!("/api/v1/incidents/{id}");
    let writes = (1..=10).map(|n| {
        let req =
            app.client.request(Method::PATCH, app.url(&path)).bearer_auth(&app.sre.token).header("if-match", "\"1\"");
        let req = req.json(&json!({"title": format!("title {n}")}));
        async move { req.send().await.expect("sent").status() }
    });
    let statuses = futures_util::future::join_all(writes).await;
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::PRECONDITION_FAILED).count(), 9, "{statuses:?}");
}
