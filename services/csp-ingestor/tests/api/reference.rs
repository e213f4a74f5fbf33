//! The reference contract (`csp.yaml`) as written, and provider management around it.

use platform::testing::{fields, problem};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Reply, fixture, spawn_app};

#[tokio::test]
async fn providers_are_registered_as_the_reference_says_and_bad_fields_are_named() {
    let app = spawn_app().await;
    let created = app.provider("aws-ec2", "rss", "/rss/ec2-us-east-1.rss", json!({})).await;
    assert_eq!(created["name"], "aws-ec2");
    assert_eq!(created["type"], "rss");
    assert_eq!(created["state"]["health"], "unknown");

    let again = app
        .post("/api/v1/csp/providers", &json!({"name": "aws-ec2", "feed_url": app.replay.url("/x"), "type": "rss"}))
        .await;
    assert_eq!(again.status(), 409);

    // Well formed, but a name not in the catalogue needs its feed: 422, each field named.
    let missing = app.post("/api/v1/csp/providers", &json!({"name": "acme"})).await;
    assert_eq!(missing.status(), 422);
    assert_eq!(fields(&problem(missing).await), ["feed_url", "type"]);
    // A provider it runs on that is not watched: 422 naming the field.
    let unknown = app
        .post(
            "/api/v1/csp/providers",
            &json!({"name": "acme", "feed_url": app.replay.url("/x"), "type": "rss", "depends_on": ["nobody"]}),
        )
        .await;
    assert_eq!(unknown.status(), 422);
    let unknown = problem(unknown).await;
    assert_eq!(fields(&unknown), ["depends_on"]);
    assert_eq!(unknown["type"], "urn:polystatus:problem:reference-not-found");
    let bad = app
        .post(
            "/api/v1/csp/providers",
            &json!({"name": "Not A Name!", "feed_url": "ftp://x", "type": "xml", "interval_secs": 0,
                    "incident_threshold": "apocalyptic", "depends_on": ["nobody"]}),
        )
        .await;
    assert_eq!(bad.status(), 400, "malformed fields: 400, naming the unknown provider too");
    assert_eq!(
        fields(&problem(bad).await),
        ["depends_on", "feed_url", "incident_threshold", "interval_secs", "name", "type"]
    );
    // A display name is one line as sent: control characters are refused even at its ends.
    let tab = app
        .post(
            "/api/v1/csp/providers",
            &json!({"name": "acme", "feed_url": app.replay.url("/x"), "type": "rss", "display_name": "\tAcme"}),
        )
        .await;
    assert_eq!(fields(&problem(tab).await), ["display_name"]);
    let wrong_type = app.post("/api/v1/csp/providers", &json!({"name": 5, "feed_url": [], "type": "rss"})).await;
    assert_eq!(fields(&problem(wrong_type).await), ["feed_url", "name"]);

    let viewer = app
        .call(Method::POST, "/api/v1/csp/providers", Some(&app.viewer.token), Some(&json!({"name": "github"})))
        .await;
    assert_eq!(viewer.status(), 403);
    let anonymous = app.call(Method::GET, "/api/v1/csp/events", None, None).await;
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn catalogue_providers_are_added_by_name_alone() {
    let app = spawn_app().await;
    let catalogue = app.get_json("/api/v1/csp/catalogue").await;
    assert!(catalogue.as_array().is_some_and(|c| c.len() >= 8));
    for name in ["cloudflare", "github", "atlassian", "gcp", "aws", "gitlab", "docker", "slack"] {
        assert!(catalogue.as_array().into_iter().flatten().any(|p| p["name"] == name), "{name}");
    }
    let resp = app.post("/api/v1/csp/providers", &json!({"name": "github"})).await;
    assert_eq!(resp.status(), 201);
    let github: Value = resp.json().await.expect("json");
    assert_eq!(github["display_name"], "GitHub");
    assert_eq!(github["type"], "statuspage");
    assert_eq!(github["feed_url"], "https://www.githubstatus.com/api/v2/summary.json");
    assert_eq!(github["incident_threshold"], "critical");
}

#[tokio::test]
async fn refresh_answers_400_for_a_bad_name_and_404_for_an_unknown_one() {
    let app = spawn_app().await;
    let none = app.post("/api/v1/csp/refresh", &json!({})).await;
    assert_eq!(fields(&problem(none).await), ["provider"]);
    let bad = app.post("/api/v1/csp/refresh?provider=no%20such!", &json!({})).await;
    assert_eq!(fields(&problem(bad).await), ["provider"]);
    let unknown = app.post("/api/v1/csp/refresh?provider=nobody", &json!({})).await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(problem(unknown).await["status"], 404);
}

#[tokio::test]
async fn events_are_a_bare_array_of_the_reference_fields_filtered_by_active() {
    let app = spawn_app().await;
    app.replay.set(
        "/github/summary.json",
        Reply::ok(fixture("statuspage/github-summary-active-major-incident-2022-11-25.json")),
    );
    app.replay.set("/github/incidents.json", Reply::ok(fixture("statuspage/github-incidents-2026-07-31.json")));
    app.provider("github", "json", "/github/summary.json", json!({"incident_threshold": "never"})).await;
    app.provider("github-history", "json", "/github/incidents.json", json!({"incident_threshold": "never"})).await;
    let first = app.refresh("github").await;
    assert_eq!(first["outcome"], "fetched");
    assert_eq!(first["events"]["new"], 1);
    let history = app.refresh("github-history").await;
    assert_eq!(history["events"]["new"], 0, "a history of resolved incidents is not news");
    assert!(history["events"]["unchanged"].as_u64().is_some_and(|n| n > 5), "{history}");

    let active = app.get_json("/api/v1/csp/events?active=true").await;
    let active = active.as_array().expect("a bare array");
    assert_eq!(active.len(), 1);
    let event = &active[0];
    for field in ["provider", "service", "title", "status", "ts_start", "ts_update"] {
        assert!(!event[field].is_null(), "{field} in {event}");
    }
    assert_eq!(event["provider"], "github");
    assert!(event["ts_start"].is_i64() && event["ts_update"].as_i64() >= event["ts_start"].as_i64());
    assert_ne!(event["status"], "resolved");

    let ended = app.get_json("/api/v1/csp/events?active=false").await;
    assert!(ended.as_array().is_some_and(|e| e.len() > 5 && e.iter().all(|e| e["active"] == false)));
    let all = app.get_json("/api/v1/csp/events?limit=1000").await;
    assert_eq!(all.as_array().map(Vec::len), Some(ended.as_array().map_or(0, Vec::len) + 1));
    let one_provider = app.get_json("/api/v1/csp/events?provider=github").await;
    assert_eq!(one_provider.as_array().map(Vec::len), Some(1));

    let bad = app.call(Method::GET, "/api/v1/csp/events?active=maybe&limit=0", Some(&app.viewer.token), None).await;
    assert_eq!(fields(&problem(bad).await), ["active", "limit"]);

    let id = event["id"].as_str().expect("id");
    let detail = app.get_json(&format!("/api/v1/csp/events/{id}")).await;
    assert_eq!(detail["history"][0]["changes"], json!(["detected"]));
    assert!(detail["updates"].as_array().is_some_and(|u| !u.is_empty()));
    let missing = app.call(Method::GET, "/api/v1/csp/events/nope.000000000000", Some(&app.viewer.token), None).await;
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn providers_are_listed_edited_with_if_match_and_deleted_with_their_events() {
    let app = spawn_app().await;
    app.replay.set("/s.json", Reply::ok(fixture("statuspage/github-summary-active-major-incident-2022-11-25.json")));
    app.provider("upstream", "statuspage", "/s.json", json!({})).await;
    app.provider("edge", "statuspage", "/s.json", json!({"depends_on": ["upstream"], "components": ["API"]})).await;
    let list = app.get_json("/api/v1/csp/providers").await;
    let names: Vec<&str> = list.as_array().into_iter().flatten().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["upstream", "edge"]);

    let url = format!("{}/api/v1/csp/providers/edge", app.address);
    let edit = |version: &'static str, body: Value| {
        let request = app.client.patch(&url).bearer_auth(&app.sre.token).header("if-match", version).json(&body);
        async move { request.send().await.expect("sent") }
    };
    let changed = edit("\"1\"", json!({"interval_secs": 120, "incident_threshold": "major", "enabled": false})).await;
    assert_eq!(changed.status(), 200);
    assert_eq!(changed.headers()["etag"], "\"2\"");
    let changed: Value = changed.json().await.expect("json");
    assert_eq!((changed["interval_secs"].as_u64(), changed["enabled"].as_bool()), (Some(120), Some(false)));
    assert_eq!(changed["incident_threshold"], "major");
    assert_eq!(edit("\"1\"", json!({"interval_secs": 300})).await.status(), 412);
    let invalid = edit("\"2\"", json!({"depends_on": ["edge"], "probe": {"failures_to_open": 0}})).await;
    assert_eq!(invalid.status(), 400);
    assert_eq!(fields(&problem(invalid).await), ["depends_on", "probe.failures_to_open"]);
    // Where the path names a provider, 404 would read as that one being gone: 422 names the field.
    let itself = edit("\"2\"", json!({"depends_on": ["edge"]})).await;
    assert_eq!(itself.status(), 422, "a provider cannot run on itself");
    assert_eq!(fields(&problem(itself).await), ["depends_on"]);
    let unknown = edit("\"2\"", json!({"depends_on": ["upstream", "nobody"]})).await;
    assert_eq!(unknown.status(), 422);
    assert_eq!(problem(unknown).await["errors"][0]["message"], "no such provider: nobody");

    app.refresh("upstream").await;
    assert_eq!(app.get_json("/api/v1/csp/events?provider=upstream").await.as_array().map(Vec::len), Some(1));
    let deleted = app.call(Method::DELETE, "/api/v1/csp/providers/upstream", Some(&app.sre.token), None).await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(app.get_json("/api/v1/csp/events?active=true").await, json!([]));
    let again = app.call(Method::DELETE, "/api/v1/csp/providers/upstream", Some(&app.sre.token), None).await;
    assert_eq!(again.status(), 404);
}
