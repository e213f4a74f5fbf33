//! Cause and effect: provider events linked by declared dependencies, time and mentions; the
//! graph; internal incidents linked to the provider events that probably caused them.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Reply, sp_incident, spawn_app_with, statuspage};

#[tokio::test]
async fn events_are_linked_across_providers_with_confidence_and_evidence() {
    let app = spawn_app_with(|s| s.correlation.incident_scan_secs = 1).await;
    app.replay.set(
        "/cf.json",
        Reply::ok(statuspage(&[sp_incident(
            "cf",
            "Elevated 5xx errors",
            "major",
            &["CDN"],
            &[("investigating", "Errors", 0)],
        )])),
    );
    app.replay.set(
        "/gh.json",
        Reply::ok(statuspage(&[sp_incident(
            "gh",
            "Degraded GitHub Pages",
            "minor",
            &["Pages"],
            &[("investigating", "Our CDN provider Cloudflare reports errors", 5)],
        )])),
    );
    app.replay.set(
        "/other.json",
        Reply::ok(statuspage(&[sp_incident(
            "o",
            "Search slow",
            "minor",
            &["Search"],
            &[("investigating", "Slow", 1)],
        )])),
    );
    app.provider(
        "cloudflare",
        "statuspage",
        "/cf.json",
        json!({"display_name": "Cloudflare", "incident_threshold": "never"}),
    )
    .await;
    app.provider(
        "github",
        "statuspage",
        "/gh.json",
        json!({"depends_on": ["cloudflare"], "incident_threshold": "never"}),
    )
    .await;
    app.provider("other", "statuspage", "/other.json", json!({"incident_threshold": "never"})).await;
    for p in ["cloudflare", "github", "other"] {
        app.refresh(p).await;
    }
    let events = app.get_json("/api/v1/csp/events?active=true").await;
    let id_of = |provider: &str| {
        events
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["provider"] == provider)
            .and_then(|e| e["id"].as_str())
            .map(String::from)
            .expect("event")
    };
    let (cf, gh) = (id_of("cloudflare"), id_of("github"));

    let effect = app.get_json(&format!("/api/v1/csp/events/{gh}")).await;
    let causes = effect["caused_by"].as_array().expect("links");
    assert_eq!(causes.len(), 1, "{causes:?}");
    assert_eq!(causes[0]["cause"], cf.as_str());
    assert_eq!(causes[0]["confidence"], 0.99);
    let evidence = causes[0]["evidence"].to_string();
    assert!(
        evidence.contains("declares a dependency on Cloudflare") && evidence.contains("mentions Cloudflare"),
        "{evidence}"
    );
    let cause = app.get_json(&format!("/api/v1/csp/events/{cf}")).await;
    assert_eq!(cause["effects"][0]["effect"], gh.as_str());
    assert_eq!(cause["caused_by"], json!([]));

    let graph = app.get_json("/api/v1/csp/graph").await;
    assert_eq!(graph["dependencies"], json!([{"from": "github", "to": "cloudflare"}]));
    assert_eq!(graph["providers"].as_array().map(Vec::len), Some(3));
    assert_eq!(graph["events"].as_array().map(Vec::len), Some(3));
    assert_eq!(graph["propagation"].as_array().map(Vec::len), Some(1));
    assert_eq!(graph["propagation"][0]["cause_provider"], "cloudflare");

    // An internal service on Cloudflare's CDN: its incident shows the probable cause.
    let bad = app
        .call(
            Method::PUT,
            "/api/v1/csp/services/checkout",
            Some(&app.sre.token),
            Some(&json!({"depends_on": [{"provider": "nobody"}, {"provider": "cloudflare", "components": [""]}]})),
        )
        .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(
        platform::testing::fields(&platform::testing::problem(bad).await),
        ["depends_on[0].provider", "depends_on[1].components"]
    );
    let unknown = app
        .call(
            Method::PUT,
            "/api/v1/csp/services/checkout",
            Some(&app.sre.token),
            Some(&json!({"depends_on": [{"provider": "cloudflare"}, {"provider": "nobody"}]})),
        )
        .await;
    assert_eq!(unknown.status(), 422, "a provider not watched is not a malformed field");
    assert_eq!(platform::testing::fields(&platform::testing::problem(unknown).await), ["depends_on[1].provider"]);
    let declared = app
        .call(
            Method::PUT,
            "/api/v1/csp/services/checkout",
            Some(&app.sre.token),
            Some(&json!({"depends_on": [{"provider": "cloudflare", "components": ["cdn"]}]})),
        )
        .await;
    assert_eq!(declared.status(), 200);
    let url = format!("{}/api/v1/incidents", app.incidents_address);
    let created = app
        .call(
            Method::POST,
            &url,
            Some(&app.sre.token),
            Some(&json!({"title": "Checkout errors", "sev": 2, "services": ["checkout"]})),
        )
        .await;
    assert_eq!(created.status(), 201);
    let incident: serde_json::Value = created.json().await.expect("json");
    let incident_id = incident["id"].as_str().expect("id");
    let causes = app.get_json(&format!("/api/v1/csp/incidents/{incident_id}/causes")).await;
    let causes = causes.as_array().expect("array");
    assert_eq!(causes.len(), 1, "{causes:?}");
    assert_eq!(causes[0]["event"]["id"], cf.as_str());
    assert!(causes[0]["confidence"].as_f64().is_some_and(|c| c >= 0.6));
    assert!(causes[0]["evidence"][0].as_str().is_some_and(|e| e.contains("checkout depends on Cloudflare cdn")));
    let missing = app.call(Method::GET, "/api/v1/csp/incidents/INC-NOPE00/causes", Some(&app.viewer.token), None).await;
    assert_eq!(missing.status(), 404);

    // The background scan links the open incident to the event at the incidents service.
    let mut linked = serde_json::Value::Null;
    for _ in 0..60 {
        linked = app.incident(incident_id).await["provider_events"].clone();
        if linked.as_array().is_some_and(|l| !l.is_empty()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(linked[0]["event_id"], cf.as_str(), "{linked}");
    assert!(linked[0]["evidence"].as_str().is_some_and(|e| e.starts_with("probably caused by it")));
    let services = app.get_json("/api/v1/csp/services").await;
    assert_eq!(services[0]["name"], "checkout");
}
