//! Internal incidents raised from provider events: one per event, also under concurrent
//! refreshes; provider updates posted to the timeline; mitigated when the provider resolves.

use serde_json::json;

use crate::helpers::{Reply, sp_incident, spawn_app, statuspage};

#[tokio::test]
async fn an_event_at_the_threshold_raises_one_incident_that_follows_the_provider() {
    let app = spawn_app().await;
    let feed = "/cf.json";
    let minor = sp_incident("m1", "Dashboard slow", "minor", &["Dashboard"], &[("investigating", "Slow", 0)]);
    let major =
        sp_incident("x1", "CDN errors in Europe", "major", &["CDN"], &[("investigating", "Looking into it", 0)]);
    app.replay.set(feed, Reply::ok(statuspage(&[minor.clone(), major])));
    app.provider(
        "cloudflare",
        "statuspage",
        feed,
        json!({"incident_threshold": "major", "display_name": "Cloudflare"}),
    )
    .await;

    // Concurrent refreshes of one change raise one incident.
    let (a, b, c) = tokio::join!(app.refresh("cloudflare"), app.refresh("cloudflare"), app.refresh("cloudflare"));
    let raised: Vec<_> =
        [a, b, c].iter().flat_map(|r| r["incidents"].as_array().cloned().unwrap_or_default()).collect();
    assert_eq!(raised.len(), 1, "{raised:?}");
    let incidents = app.csp_incidents().await;
    assert_eq!(incidents.len(), 1, "minor stays below the threshold");
    let incident = &incidents[0];
    let id = incident["id"].as_str().expect("id").to_string();
    assert_eq!(raised[0]["incident_id"], id.as_str());
    assert_eq!(incident["title"], "Cloudflare: CDN errors in Europe");
    assert_eq!(incident["sev"], 2);
    assert_eq!(incident["services"], json!(["cloudflare"]));
    assert!(incident["summary"].as_str().is_some_and(|s| s.contains("Looking into it")));
    let event_id = raised[0]["event_id"].as_str().expect("event id");
    let full = app.incident(&id).await;
    assert_eq!(full["provider_events"][0]["event_id"], event_id);
    assert_eq!(full["provider_events"][0]["evidence"], "raised from this provider event");
    let detail = app.get_json(&format!("/api/v1/csp/events/{event_id}")).await;
    assert_eq!(detail["incident_id"], id.as_str());

    // New provider updates go to the timeline, once each.
    let updated = sp_incident(
        "x1",
        "CDN errors in Europe",
        "major",
        &["CDN"],
        &[("investigating", "Looking into it", 0), ("identified", "A bad config push; rolling back", 8)],
    );
    app.replay.set(feed, Reply::ok(statuspage(&[minor.clone(), updated.clone()])));
    app.refresh("cloudflare").await;
    app.refresh("cloudflare").await;
    let posted: Vec<String> = app
        .timeline(&id)
        .await
        .iter()
        .filter_map(|e| e["message"].as_str().filter(|m| m.starts_with("Cloudflare update")).map(String::from))
        .collect();
    assert_eq!(posted, ["Cloudflare update (identified): A bad config push; rolling back"]);

    // Resolved by the provider: the incident is mitigated, and no second one is raised.
    let resolved = sp_incident(
        "x1",
        "CDN errors in Europe",
        "major",
        &["CDN"],
        &[
            ("investigating", "Looking into it", 0),
            ("identified", "A bad config push; rolling back", 8),
            ("resolved", "Fixed", 20),
        ],
    );
    app.replay.set(feed, Reply::ok(statuspage(&[minor, resolved])));
    let result = app.refresh("cloudflare").await;
    assert_eq!(result["events"]["resolved"], 1);
    let after = app.incident(&id).await;
    assert_eq!(after["status"], "mitigated");
    assert_eq!(app.csp_incidents().await.len(), 1);
}

#[tokio::test]
async fn work_the_incidents_service_refused_is_retried_and_never_doubled() {
    let app = spawn_app_with_broken_incidents().await;
    let feed = "/p.json";
    let critical = sp_incident("c1", "Total outage", "critical", &[], &[("investigating", "Down", 0)]);
    app.replay.set(feed, Reply::ok(statuspage(&[critical])));
    app.provider("acme", "statuspage", feed, json!({})).await;
    let result = app.refresh("acme").await;
    assert_eq!(result["events"]["new"], 1);
    assert_eq!(result["incidents"], json!([]), "the incidents service is down");
    // The work waits in the queue; the service comes back and the worker raises it once.
    let fixed = crate::helpers::start_incidents_on(&app).await;
    let mut found = Vec::new();
    // The worker retries queued work a few seconds after it was queued.
    for _ in 0..200 {
        found = app.csp_incidents().await;
        if !found.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["sev"], 1);
    app.refresh("acme").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.csp_incidents().await.len(), 1);
    fixed.stop().await;
}

async fn spawn_app_with_broken_incidents() -> crate::helpers::TestApp {
    let port = platform::testing::free_port();
    let mut app = crate::helpers::spawn_app_with(|s| {
        s.incidents.base_url = format!("http://127.0.0.1:{port}");
        s.incidents.timeout_ms = 500;
    })
    .await;
    app.incidents_address = format!("http://127.0.0.1:{port}");
    app
}
