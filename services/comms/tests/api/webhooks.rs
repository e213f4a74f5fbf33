//! Webhooks: registration, Standard Webhooks signatures, retries, 410, redirects, timeouts,
//! filters, rotation, replay, test events, and a restart mid-delivery.

use std::time::Duration;

use comms::webhooks::signing;
use reqwest::Method;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::helpers::{TestApp, fields, incident, problem, restart_comms, spawn_app_custom, spawn_app_with};

async fn receiver(status: u16) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST")).and(path("/hook")).respond_with(ResponseTemplate::new(status)).mount(&server).await;
    server
}

async fn received(server: &MockServer, n: usize) -> Vec<Request> {
    for _ in 0..200 {
        let got = server.received_requests().await.unwrap_or_default();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    server.received_requests().await.unwrap_or_default()
}

fn header(request: &Request, name: &str) -> String {
    request.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

/// Checks a delivery's Standard Webhooks signature against `secret`.
fn signed_with(request: &Request, secret: &str) -> bool {
    let ts: i64 = header(request, "webhook-timestamp").parse().unwrap_or(0);
    signing::verify(
        secret,
        &header(request, "webhook-id"),
        ts,
        &request.body,
        &header(request, "webhook-signature"),
        ts,
    )
}

/// Polls `check` until it holds (background workers run on their own time), for up to 10 s.
async fn until<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..400 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{what}: still not so after 10 s");
}

async fn webhook(app: &TestApp, id: &str) -> Value {
    app.call(Method::GET, &format!("{}/api/v1/webhooks/{id}", app.address), Some(&app.sre.token), None)
        .await
        .json()
        .await
        .expect("json")
}

async fn attempts(app: &TestApp, id: &str) -> Vec<Value> {
    app.call(Method::GET, &format!("{}/api/v1/webhooks/{id}/deliveries", app.address), Some(&app.sre.token), None)
        .await
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn registration_follows_the_reference_and_refuses_internal_addresses() {
    let app = spawn_app_with(false).await;
    let resp =
        app.post("/api/v1/webhooks", &app.sre.token, &json!({"url": "https://hooks.example.com/polystatus"})).await;
    assert_eq!(resp.status(), 201);
    let created: Value = resp.json().await.expect("json");
    assert!(created["secret"].as_str().is_some_and(|s| s.starts_with("whsec_")));
    assert_eq!(created["kind"], "standard");
    let id = created["id"].as_str().expect("id");
    let one: Value = app
        .call(Method::GET, &format!("{}/api/v1/webhooks/{id}", app.address), Some(&app.sre.token), None)
        .await
        .json()
        .await
        .expect("json");
    assert!(one.get("secret").is_none(), "the secret is shown once");

    for url in [
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.5/hook",
        "http://[::1]/hook",
        "ftp://example.com/x",
        "nope",
    ] {
        let resp = app.post("/api/v1/webhooks", &app.sre.token, &json!({"url": url})).await;
        assert_eq!(fields(&problem(resp).await), ["url"], "{url}");
    }
    let bad = app
        .post(
            "/api/v1/webhooks",
            &app.sre.token,
            &json!({"url": "https://example.com", "kind": "pigeon", "min_severity": 9, "event_types": [""]}),
        )
        .await;
    assert_eq!(fields(&problem(bad).await), ["event_types", "kind", "min_severity"]);
    // As documented: a kind in lower case, a description without control characters other than
    // tab and line breaks, services of one line each; lengths count characters, not bytes.
    let bad = app
        .post(
            "/api/v1/webhooks",
            &app.sre.token,
            &json!({"url": "https://example.com", "kind": "Slack", "description": "a\u{0}b", "services": ["a\nb"]}),
        )
        .await;
    assert_eq!(fields(&problem(bad).await), ["description", "kind", "services"]);
    let long = "é".repeat(100);
    let (accented, _) = app.register(json!({"url": "https://example.com", "event_types": [long]})).await;
    assert_eq!(webhook(&app, &accented).await["event_types"][0].as_str().map(|t| t.chars().count()), Some(100));
    assert_eq!(
        app.post("/api/v1/webhooks", &app.viewer.token, &json!({"url": "https://example.com"})).await.status(),
        403
    );
    let anonymous = app
        .call(
            Method::POST,
            &format!("{}/api/v1/webhooks", app.address),
            None,
            Some(&json!({"url": "https://example.com"})),
        )
        .await;
    assert_eq!(anonymous.status(), 401);
    let delete =
        app.call(Method::DELETE, &format!("{}/api/v1/webhooks/{id}", app.address), Some(&app.sre.token), None).await;
    assert_eq!(delete.status(), 204);
}

#[tokio::test]
async fn events_are_delivered_signed_in_standard_webhooks_format() {
    let app = spawn_app_with(false).await;
    let server = receiver(200).await;
    let (_, secret) = app.register(json!({"url": format!("{}/hook", server.uri())})).await;
    app.emit("incident.created", incident("INC-0000A1", 2, &["api"])).await;
    let got = received(&server, 1).await;
    assert_eq!(got.len(), 1);
    let request = &got[0];
    assert!(header(request, "webhook-id").starts_with("msg_"));
    assert!(signed_with(request, &secret), "a valid v1 signature");
    assert!(!signed_with(request, &signing::new_secret()), "and not one any secret would pass");
    let body: Value = serde_json::from_slice(&request.body).expect("json");
    assert_eq!(body["type"], "incident.created");
    assert!(body["timestamp"].is_string());
    assert_eq!(body["data"]["incident"]["id"], "INC-0000A1");
}

#[tokio::test]
async fn failures_are_retried_with_the_same_message_id_and_logged() {
    let app = spawn_app_with(false).await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("thanks"))
        .with_priority(2)
        .mount(&server)
        .await;
    let (id, _) = app.register(json!({"url": format!("{}/hook", server.uri())})).await;
    app.emit("incident.created", incident("INC-0000A2", 1, &[])).await;
    let got = received(&server, 3).await;
    assert_eq!(got.len(), 3);
    let ids: Vec<String> = got.iter().map(|r| header(r, "webhook-id")).collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "one message id across retries: {ids:?}");
    until("three attempts logged", || async { attempts(&app, &id).await.len() == 3 }).await;
    let log = attempts(&app, &id).await;
    let outcomes: Vec<&str> = log.iter().rev().map(|a| a["outcome"].as_str().unwrap_or_default()).collect();
    assert_eq!(outcomes, ["retrying", "retrying", "succeeded"]);
    assert_eq!(log[0]["status_code"], 200);
    assert_eq!(log[0]["response_excerpt"], "thanks");
    assert_eq!(log[2]["status_code"], 503);
}

#[tokio::test]
async fn a_410_disables_the_endpoint_and_redirects_and_4xx_are_not_retried() {
    let app = spawn_app_with(false).await;
    let gone = receiver(410).await;
    let (gone_id, _) = app.register(json!({"url": format!("{}/hook", gone.uri())})).await;
    let moved = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", format!("{}/elsewhere", moved.uri())))
        .mount(&moved)
        .await;
    let (moved_id, _) = app.register(json!({"url": format!("{}/hook", moved.uri())})).await;
    app.emit("incident.created", incident("INC-0000A3", 1, &[])).await;
    received(&gone, 1).await;
    received(&moved, 1).await;
    until("the 410 endpoint disabled", || async { webhook(&app, &gone_id).await["enabled"] == false }).await;
    until("the redirect attempt logged", || async { !attempts(&app, &moved_id).await.is_empty() }).await;
    let endpoint = webhook(&app, &gone_id).await;
    assert_eq!(endpoint["enabled"], false);
    assert!(endpoint["disabled_reason"].as_str().is_some_and(|r| r.contains("410")));
    assert_eq!(
        moved.received_requests().await.unwrap_or_default().len(),
        1,
        "the redirect was not followed, nor retried"
    );
    let log = attempts(&app, &moved_id).await;
    assert_eq!(log[0]["outcome"], "failed");
    app.emit("incident.updated", incident("INC-0000A3", 1, &[])).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(gone.received_requests().await.unwrap_or_default().len(), 1, "a disabled endpoint gets nothing more");
}

#[tokio::test]
async fn a_receiver_that_times_out_is_retried() {
    let app = spawn_app_with(false).await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(1500)))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).with_priority(2).mount(&server).await;
    let (id, _) = app.register(json!({"url": format!("{}/hook", server.uri())})).await;
    app.emit("incident.created", incident("INC-0000A4", 1, &[])).await;
    received(&server, 2).await;
    until("both attempts logged", || async { attempts(&app, &id).await.len() == 2 }).await;
    let log = attempts(&app, &id).await;
    assert_eq!(log.len(), 2);
    assert_eq!(log[1]["error"], "timed out");
    assert_eq!(log[0]["outcome"], "succeeded");
}

#[tokio::test]
async fn filters_pick_event_types_severities_and_services() {
    let app = spawn_app_with(false).await;
    let server = receiver(200).await;
    app.register(json!({"url": format!("{}/hook", server.uri()), "event_types": ["incident.status_changed"], "min_severity": 2, "services": ["db"]})).await;
    app.emit("incident.created", incident("INC-0000B1", 1, &["db"])).await;
    app.emit("incident.status_changed", incident("INC-0000B2", 3, &["db"])).await;
    app.emit("incident.status_changed", incident("INC-0000B3", 1, &["api"])).await;
    app.emit("incident.status_changed", incident("INC-0000B4", 2, &["db", "api"])).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = server.received_requests().await.unwrap_or_default();
    assert_eq!(got.len(), 1);
    let body: Value = serde_json::from_slice(&got[0].body).expect("json");
    assert_eq!(body["data"]["incident"]["id"], "INC-0000B4");
}

#[tokio::test]
async fn rotation_signs_with_both_secrets_during_the_grace_period() {
    let app = spawn_app_with(false).await;
    let server = receiver(200).await;
    let (id, old) = app.register(json!({"url": format!("{}/hook", server.uri())})).await;
    let rotated: Value = app
        .post(&format!("/api/v1/webhooks/{id}/rotate"), &app.sre.token, &json!({}))
        .await
        .json()
        .await
        .expect("json");
    let new = rotated["secret"].as_str().expect("secret").to_string();
    assert_ne!(new, old);
    app.emit("incident.created", incident("INC-0000C1", 2, &[])).await;
    let got = received(&server, 1).await;
    assert!(signed_with(&got[0], &new) && signed_with(&got[0], &old), "both verify during the grace period");
    assert_eq!(header(&got[0], "webhook-signature").split(' ').count(), 2);
}

#[tokio::test]
async fn deliveries_can_be_replayed_and_test_events_sent() {
    let app = spawn_app_with(false).await;
    let server = receiver(200).await;
    let (id, _) = app.register(json!({"url": format!("{}/hook", server.uri())})).await;
    let test = app.post(&format!("/api/v1/webhooks/{id}/test"), &app.sre.token, &json!({})).await;
    assert_eq!(test.status(), 202);
    let got = received(&server, 1).await;
    let body: Value = serde_json::from_slice(&got[0].body).expect("json");
    assert_eq!(body["type"], "webhook.test");
    until("the test delivery logged", || async { !attempts(&app, &id).await.is_empty() }).await;
    let delivery = attempts(&app, &id).await[0]["delivery_id"].as_str().expect("delivery").to_string();
    let replay =
        app.post(&format!("/api/v1/webhooks/{id}/deliveries/{delivery}/replay"), &app.sre.token, &json!({})).await;
    assert_eq!(replay.status(), 202);
    let got = received(&server, 2).await;
    assert_eq!(header(&got[0], "webhook-id"), header(&got[1], "webhook-id"), "a replay keeps the message id");
    let missing = app.post(&format!("/api/v1/webhooks/{id}/deliveries/nope/replay"), &app.sre.token, &json!({})).await;
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn deliveries_pending_when_comms_stops_are_made_by_the_next_instance() {
    // Slow retries here, so the work is still pending when this instance stops.
    let app = spawn_app_custom(false, |s| s.webhooks.retry_schedule_ms = vec![400; 5]).await;
    let port = platform::testing::free_port();
    let (_, secret) = app.register(json!({"url": format!("http://127.0.0.1:{port}/hook")})).await;
    for n in 0..5 {
        app.emit("incident.created", incident(&format!("INC-0000D{n}"), 2, &[])).await;
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    app.comms.stop().await;

    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("the receiver's port");
    let server = MockServer::builder().listener(listener).start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    let mut settings = app.settings.clone();
    settings.webhooks.retry_schedule_ms = vec![50; 20];
    settings.webhooks.visibility_timeout_ms = 200;
    let (_address, _handle) = restart_comms(&settings).await;
    let got = received(&server, 5).await;
    let mut subjects: Vec<String> = got
        .iter()
        .map(|r| {
            serde_json::from_slice::<Value>(&r.body)
                .map(|b| b["data"]["incident"]["id"].as_str().unwrap_or_default().to_string())
                .unwrap_or_default()
        })
        .collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), 5, "every delivery made: {subjects:?}");
    assert!(got.iter().all(|r| signed_with(r, &secret)));
}

#[tokio::test]
async fn the_sre_channel_gets_every_incident_event_as_a_slack_message() {
    let slack = receiver(200).await;
    let url = format!("{}/hook", slack.uri());
    let app = spawn_app_custom(false, move |s| {
        s.notifications.slack_enabled = true;
        s.notifications.slack_webhook_url = url.into();
    })
    .await;
    let mut with_commander = incident("INC-00C0DE", 1, &["checkout"]);
    with_commander["commander"] = json!("alice");
    app.emit("incident.assigned", with_commander).await;
    app.emit("announcement.published", json!({})).await;
    let got = received(&slack, 1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(slack.received_requests().await.unwrap_or_default().len(), 1, "incident events only");
    let body: Value = serde_json::from_slice(&got[0].body).expect("json");
    assert!(body["text"].as_str().is_some_and(|t| t.contains("[SEV1] INC-00C0DE")), "{body}");
    let fields = body["blocks"][1]["fields"].to_string();
    for expected in ["SEV1", "open", "alice", "checkout"] {
        assert!(fields.contains(expected), "{expected} in {fields}");
    }
}

#[tokio::test]
async fn an_endpoint_failing_for_longer_than_the_limit_is_disabled() {
    // With the limit at zero, the first failure is already "too long".
    let app = spawn_app_custom(false, |s| s.webhooks.disable_after_failing_secs = 0).await;
    let broken = receiver(500).await;
    let (id, _) = app.register(json!({"url": format!("{}/hook", broken.uri())})).await;
    app.emit("incident.created", incident("INC-00DEAD", 2, &[])).await;
    received(&broken, 1).await;
    until("the failing endpoint disabled", || async { webhook(&app, &id).await["enabled"] == false }).await;
    let endpoint = webhook(&app, &id).await;
    assert_eq!(endpoint["enabled"], false);
    assert!(endpoint["disabled_reason"].as_str().is_some_and(|r| r.contains("too long")), "{endpoint}");
    let enable = app
        .call(
            Method::PATCH,
            &format!("{}/api/v1/webhooks/{id}", app.address),
            Some(&app.sre.token),
            Some(&json!({"enabled": true})),
        )
        .await;
    let enabled: Value = enable.json().await.expect("json");
    assert_eq!(
        (enabled["enabled"].as_bool(), &enabled["failing_since"]),
        (Some(true), &Value::Null),
        "re-enabling starts afresh"
    );
}

#[tokio::test]
async fn discord_and_teams_endpoints_get_their_own_message_formats() {
    let app = spawn_app_with(false).await;
    let discord = receiver(204).await;
    let teams = receiver(200).await;
    app.register(json!({"url": format!("{}/hook", discord.uri()), "kind": "discord"})).await;
    app.register(json!({"url": format!("{}/hook", teams.uri()), "kind": "teams"})).await;
    app.emit("incident.created", incident("INC-00FACE", 1, &["api"])).await;
    let d: Value = serde_json::from_slice(&received(&discord, 1).await[0].body).expect("json");
    assert!(d["embeds"][0]["title"].as_str().is_some_and(|t| t.contains("[SEV1] INC-00FACE")), "{d}");
    assert_eq!(d["embeds"][0]["color"], 0xD9_30_25);
    let t: Value = serde_json::from_slice(&received(&teams, 1).await[0].body).expect("json");
    assert_eq!(t["@type"], "MessageCard");
    assert!(t["title"].as_str().is_some_and(|title| title.contains("INC-00FACE")), "{t}");
    assert_eq!(t["potentialAction"][0]["@type"], "OpenUri");
}
