//! The Statuspage v2 compatible documents and the feeds.

use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn statuspage_documents_use_statuspage_fields_and_enums() {
    let app = spawn_app().await;
    let calm: Value = app.get("/api/v2/status.json").await.json().await.expect("json");
    assert_eq!(calm["status"]["indicator"], "none");
    assert_eq!(calm["status"]["description"], "All Systems Operational");
    assert_eq!(calm["page"]["time_zone"], "Etc/UTC");

    let id = app.declare("Checkout errors", 1, &["checkout", "payments"]).await;
    app.eventually("the incident", |s| s.iter().any(|i| i["id"] == id.as_str())).await;
    app.announce(&id, "identified", "Card processor timeouts").await;
    let summary: Value = app.get("/api/v2/summary.json").await.json().await.expect("json");
    for key in ["page", "components", "incidents", "scheduled_maintenances", "status"] {
        assert!(!summary[key].is_null(), "summary has {key}");
    }
    assert_eq!(summary["status"]["indicator"], "critical");
    assert_eq!(summary["status"]["description"], "Major Service Outage");
    let incident = &summary["incidents"][0];
    assert_eq!(incident["name"], "Checkout errors");
    assert_eq!(incident["status"], "identified");
    assert_eq!(incident["impact"], "critical");
    assert_eq!(incident["incident_updates"][0]["body"], "Card processor timeouts");
    assert_eq!(incident["incident_updates"][0]["status"], "identified");
    assert!(incident["created_at"].as_str().is_some_and(|t| t.ends_with('Z') && t.contains('T')));
    let components = summary["components"].as_array().expect("components");
    let names: Vec<&str> = components.iter().map(|c| c["name"].as_str().unwrap_or_default()).collect();
    assert_eq!(names, ["checkout", "payments"]);
    assert!(
        components.iter().all(|c| c["status"] == "major_outage" && c["id"].as_str().is_some_and(|i| i.len() == 12))
    );

    let unresolved: Value = app.get("/api/v2/incidents/unresolved.json").await.json().await.expect("json");
    assert_eq!(unresolved["incidents"].as_array().map(Vec::len), Some(1));
    app.set_status(&id, "resolved").await;
    for _ in 0..100 {
        let status: Value = app.get("/api/v2/status.json").await.json().await.expect("json");
        if status["status"]["indicator"] == "none" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let unresolved: Value = app.get("/api/v2/incidents/unresolved.json").await.json().await.expect("json");
    assert_eq!(unresolved["incidents"].as_array().map(Vec::len), Some(0));
    let all: Value = app.get("/api/v2/incidents.json").await.json().await.expect("json");
    assert_eq!(all["incidents"][0]["status"], "resolved");
    assert!(all["incidents"][0]["resolved_at"].is_string());
    let components: Value = app.get("/api/v2/components.json").await.json().await.expect("json");
    assert!(components["components"].as_array().expect("components").iter().all(|c| c["status"] == "operational"));
}

#[tokio::test]
async fn the_history_feeds_parse_back_with_feed_rs() {
    let app = spawn_app().await;
    let id = app.declare("Search <slow> & flaky", 3, &["search"]).await;
    app.eventually("the incident", |s| s.iter().any(|i| i["id"] == id.as_str())).await;
    app.announce(&id, "investigating", "Elastic heap pressure").await;
    for (path, content_type) in [("/history.rss", "application/rss+xml"), ("/history.atom", "application/atom+xml")] {
        let resp = app.get(path).await;
        assert!(resp.headers()["content-type"].to_str().expect("ascii").starts_with(content_type));
        let body = resp.bytes().await.expect("body");
        let feed = feed_rs::parser::parse(body.as_ref()).unwrap_or_else(|e| panic!("{path} parses: {e}"));
        assert_eq!(feed.entries.len(), 1, "{path}");
        let entry = &feed.entries[0];
        assert_eq!(entry.title.as_ref().map(|t| t.content.as_str()), Some("Search <slow> & flaky"), "{path}");
        let text = entry
            .summary
            .as_ref()
            .map(|s| s.content.clone())
            .or_else(|| entry.content.as_ref().and_then(|c| c.body.clone()))
            .unwrap_or_default();
        assert!(text.contains("Elastic heap pressure"), "{path}: {text}");
        assert!(entry.links.iter().any(|l| l.href.ends_with(&format!("/api/v1/public/incidents/{id}"))), "{path}");
    }
}
