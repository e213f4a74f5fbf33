//! Polling against a replay server: changes between polls, 304s, failures of every kind that
//! keep the last good state, the HTTP probe, the scheduler and its lease across replicas, and
//! the events announced to comms.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{Reply, fixture, sp_incident, spawn_app, spawn_app_with, start, statuspage};

#[tokio::test]
async fn changes_between_polls_become_new_updated_and_resolved_events_and_304_costs_nothing() {
    let app = spawn_app().await;
    let feed = "/cloudflare/summary.json";
    let investigating =
        sp_incident("cf1", "CDN errors in Europe", "major", &["CDN"], &[("investigating", "Looking", 0)]);
    app.replay.set(feed, Reply::tagged(statuspage(&[investigating]), "v1"));
    app.provider("cloudflare", "json", feed, json!({"incident_threshold": "never"})).await;

    let first = app.refresh("cloudflare").await;
    assert_eq!((first["outcome"].as_str(), first["fetched"].as_bool()), (Some("fetched"), Some(true)));
    assert_eq!(first["events"], json!({"total": 1, "new": 1, "updated": 0, "resolved": 0, "unchanged": 0}));
    assert_eq!(first["http_status"], 200);
    assert!(first["duration_ms"].is_u64() && first["errors"] == json!([]));

    let second = app.refresh("cloudflare").await;
    assert_eq!((second["outcome"].as_str(), second["not_modified"].as_bool()), (Some("not_modified"), Some(true)));
    assert_eq!(second["events"]["total"], 0);
    assert_eq!(app.replay.not_modified(feed), 1, "the ETag went back as If-None-Match");

    let identified = sp_incident(
        "cf1",
        "CDN errors in Europe",
        "critical",
        &["CDN"],
        &[("investigating", "Looking", 0), ("identified", "A bad config push", 10)],
    );
    app.replay.set(feed, Reply::tagged(statuspage(&[identified]), "v2"));
    let third = app.refresh("cloudflare").await;
    assert_eq!(third["events"]["updated"], 1);
    let events = app.get_json("/api/v1/csp/events?active=true").await;
    assert_eq!(events[0]["status"], "identified");
    assert_eq!(events[0]["impact"], "critical");
    assert_eq!(events[0]["service"], "CDN");
    let id = events[0]["id"].as_str().expect("id").to_string();
    let detail = app.get_json(&format!("/api/v1/csp/events/{id}")).await;
    let changes = &detail["history"][1]["changes"];
    assert_eq!(changes, &json!(["status investigating → identified", "impact major → critical", "1 new update"]));

    // The incident leaves the summary: it is over.
    app.replay.set(feed, Reply::tagged(statuspage(&[]), "v3"));
    let fourth = app.refresh("cloudflare").await;
    assert_eq!(fourth["events"]["resolved"], 1);
    assert_eq!(app.get_json("/api/v1/csp/events?active=true").await, json!([]));
    let ended = app.get_json(&format!("/api/v1/csp/events/{id}")).await;
    assert_eq!(ended["status"], "resolved");
    assert!(ended["ts_end"].is_i64());
}

#[tokio::test]
async fn failures_of_every_kind_mark_the_provider_unhealthy_and_keep_the_last_good_events() {
    let app = spawn_app().await;
    let feed = "/github/summary.json";
    app.replay.set(feed, Reply::ok(fixture("statuspage/github-summary-active-major-incident-2022-11-25.json")));
    app.provider("github", "statuspage", feed, json!({"incident_threshold": "never"})).await;
    assert_eq!(app.refresh("github").await["events"]["new"], 1);

    let huge = vec![b' '; 50 * 1024 * 1024];
    let cases: Vec<(Reply, &str)> = vec![
        (Reply::status(500), "answered HTTP 500"),
        (Reply::status(404), "answered HTTP 404"),
        (Reply::ok("<html>Maintenance</html>"), "unreadable payload"),
        (Reply::ok(&b"{\"incidents\": [{\"id\": \"x\", \"name\""[..]), "unreadable payload"),
        (Reply::ok(vec![0xff, 0xfe, 0x00, 0xd8, 0x41]), "unreadable payload"),
        (Reply { delay_ms: 2500, ..Reply::ok("{}") }, "timed out"),
        (Reply::ok(huge), "larger than"),
    ];
    for (n, (reply, reason)) in cases.into_iter().enumerate() {
        app.replay.set(feed, reply);
        let result = app.refresh("github").await;
        assert_eq!(result["outcome"], "failed", "{reason}: {result}");
        assert_eq!(result["health"], "unhealthy");
        let errors = result["errors"].to_string();
        assert!(errors.contains(reason), "{reason}: {errors}");
        let provider = app.get_json("/api/v1/csp/providers/github").await;
        assert_eq!(provider["state"]["health"], "unhealthy");
        assert!(provider["state"]["last_error"].as_str().is_some_and(|e| e.contains(reason)));
        assert_eq!(provider["state"]["consecutive_failures"], n + 1);
        let active = app.get_json("/api/v1/csp/events?active=true").await;
        assert_eq!(active.as_array().map(Vec::len), Some(1), "the last good state is kept after {reason}");
    }

    app.replay.set(feed, Reply::ok(fixture("statuspage/github-summary-all-operational-2026-07-31.json")));
    let recovered = app.refresh("github").await;
    assert_eq!((recovered["outcome"].as_str(), recovered["health"].as_str()), (Some("fetched"), Some("healthy")));
    assert_eq!(recovered["events"]["resolved"], 1);
    let provider = app.get_json("/api/v1/csp/providers/github").await;
    assert_eq!(provider["state"]["consecutive_failures"], 0);
    assert!(provider["state"]["last_error"].is_null());
}

#[tokio::test]
async fn every_fixture_can_be_served_and_ingested() {
    let app = spawn_app().await;
    let mut n = 0;
    for dir in ["statuspage", "statuspage-feed", "incidentio", "generic-feed", "gcp", "aws", "statusio", "slack"] {
        for entry in std::fs::read_dir(format!("{}/{dir}", crate::helpers::FIXTURES)).expect("fixture dir") {
            let path = entry.expect("entry").path();
            let file = path.file_name().and_then(|f| f.to_str()).expect("name").to_string();
            if file.ends_with(".schema.json") {
                continue;
            }
            let kind = if file.ends_with(".json") { "json" } else { "rss" };
            n += 1;
            let name = format!("p{n}");
            let route = format!("/{dir}/{file}");
            app.replay.set(&route, Reply::ok(std::fs::read(&path).expect("fixture")));
            app.provider(&name, kind, &route, json!({"incident_threshold": "never"})).await;
            let result = app.refresh(&name).await;
            assert_eq!(result["outcome"], "fetched", "{file}: {result}");
            assert_eq!(result["health"], "healthy", "{file}");
        }
    }
    assert!(n >= 28, "{n} fixtures");
}

#[tokio::test]
async fn the_http_probe_opens_an_event_after_consecutive_failures_and_ends_it_on_recovery() {
    let app = spawn_app().await;
    app.replay.set("/health", Reply::ok("all good"));
    app.provider(
        "billing-api",
        "http",
        "/health",
        json!({"probe": {"expected_text": "good", "failures_to_open": 2}, "incident_threshold": "never"}),
    )
    .await;
    let up = app.refresh("billing-api").await;
    assert_eq!((up["outcome"].as_str(), up["http_status"].as_u64()), (Some("probed"), Some(200)));
    assert_eq!(up["events"]["total"], 0);

    app.replay.set("/health", Reply::status(503));
    let once = app.refresh("billing-api").await;
    assert_eq!(once["errors"], json!(["answered HTTP 503"]));
    assert_eq!(app.get_json("/api/v1/csp/events?active=true").await, json!([]), "one failure is not an outage");
    app.replay.set("/health", Reply::ok("degraded"));
    let twice = app.refresh("billing-api").await;
    assert_eq!(twice["events"]["new"], 1, "{twice}");
    let active = app.get_json("/api/v1/csp/events?active=true").await;
    assert_eq!(active[0]["title"], "billing-api is not answering as expected");
    assert_eq!(active[0]["impact"], "major");
    let detail = app.get_json(&format!("/api/v1/csp/events/{}", active[0]["id"].as_str().expect("id"))).await;
    assert!(detail["updates"][0]["body"].as_str().is_some_and(|b| b.contains("answered HTTP 503")), "{detail}");

    let still = app.refresh("billing-api").await;
    assert_eq!(still["events"]["unchanged"], 1, "a failure that goes on is not news");
    app.replay.set("/health", Reply::ok("all good again"));
    let back = app.refresh("billing-api").await;
    assert_eq!(back["events"]["resolved"], 1);
    assert_eq!(app.get_json("/api/v1/csp/events?active=true").await, json!([]));
}

#[tokio::test]
async fn the_scheduler_polls_each_provider_once_per_interval_across_replicas() {
    let app = spawn_app_with(|s| s.polling.enabled = true).await;
    let feed = "/a.json";
    app.replay
        .set(feed, Reply::ok(statuspage(&[sp_incident("a1", "Slow", "minor", &[], &[("investigating", "x", 0)])])));
    app.provider("alpha", "json", feed, json!({"interval_secs": 1, "incident_threshold": "never"})).await;
    // A second replica on the same data.
    let (_second, second_handle) = start(&app.settings).await;
    tokio::time::sleep(Duration::from_millis(4300)).await;
    let hits = app.replay.hits(feed);
    assert!((3..=6).contains(&hits), "two replicas polled a 1 s provider {hits} times in 4.3 s");
    let active = app.get_json("/api/v1/csp/events?active=true").await;
    assert_eq!(active.as_array().map(Vec::len), Some(1), "found without a manual refresh");
    let provider = app.get_json("/api/v1/csp/providers/alpha").await;
    assert!(provider["state"]["next_poll_at"].is_i64() && provider["state"]["last_success_at"].is_i64());

    // Failures back off: the interval doubles with each one.
    app.replay.set(feed, Reply::status(502));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = app.replay.hits(feed);
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let failing = app.replay.hits(feed) - before;
    assert!(failing <= 2, "{failing} polls in 3 s while failing");
    second_handle.stop().await;
    app.handle.stop().await;
}

#[tokio::test]
async fn only_real_changes_are_announced_to_comms_as_cloudevents() {
    let comms = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/events"))
        .respond_with(ResponseTemplate::new(202))
        .mount(&comms)
        .await;
    let target = format!("{}/api/v1/events", comms.uri());
    let app = spawn_app_with(|s| {
        s.events.relay.target_url = target;
        s.events.relay.min_backoff_ms = 20;
    })
    .await;
    let feed = "/s.json";
    let open = sp_incident("e1", "API errors", "major", &["API"], &[("investigating", "x", 0)]);
    app.replay.set(feed, Reply::ok(statuspage(std::slice::from_ref(&open))));
    app.provider("acme", "statuspage", feed, json!({"incident_threshold": "never"})).await;
    app.refresh("acme").await;
    app.refresh("acme").await;
    let closed =
        sp_incident("e1", "API errors", "major", &["API"], &[("investigating", "x", 0), ("resolved", "ok", 5)]);
    app.replay.set(feed, Reply::ok(statuspage(&[closed])));
    app.refresh("acme").await;

    let mut types = Vec::new();
    for _ in 0..100 {
        let received = comms.received_requests().await.unwrap_or_default();
        types = received
            .iter()
            .filter_map(|r| serde_json::from_slice::<Value>(&r.body).ok())
            .map(|e| (e["type"].as_str().unwrap_or("").to_string(), e))
            .collect::<Vec<_>>();
        if types.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let kinds: Vec<&str> = types.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(kinds, ["csp.event.detected", "csp.event.resolved"]);
    let (_, detected) = &types[0];
    assert_eq!(detected["specversion"], "1.0");
    assert_eq!(detected["source"], "/polystatus/csp-ingestor");
    assert_eq!(detected["data"]["event"]["provider"], "acme");
    assert_eq!(detected["data"]["event"]["title"], "API errors");
    let auth = comms.received_requests().await.unwrap_or_default()[0].headers.get("authorization").cloned();
    assert!(auth.is_some_and(|a| a.to_str().is_ok_and(|a| a.starts_with("Bearer "))), "with a service token");
    let unauthorised = app.call(Method::POST, "/api/v1/csp/refresh?provider=acme", None, None).await;
    assert_eq!(unauthorised.status(), 401);
}
