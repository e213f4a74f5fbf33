//! Email subscriptions end to end through an SMTP server on loopback.

use std::sync::atomic::Ordering;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, fields, incident, problem, spawn_app_custom};
use crate::smtp::{SmtpSink, token_in};

async fn app_with_smtp() -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_custom(false, move |s| {
        s.email.smtp_url = url.into();
        s.email.retry_schedule_ms = vec![50, 50];
    })
    .await;
    (app, sink)
}

async fn subscribe(app: &TestApp, body: Value) -> reqwest::Response {
    app.call(Method::POST, &format!("{}/api/v1/subscriptions/email", app.address), None, Some(&body)).await
}

/// Subscribes and confirms through the link in the confirmation mail.
async fn subscribed(app: &TestApp, sink: &SmtpSink, body: Value) {
    let address = body["email"].as_str().expect("email").to_string();
    assert_eq!(subscribe(app, body).await.status(), 201);
    let mail = sink.mails_to(&address, 1).await.pop().expect("a confirmation mail");
    let token = token_in(&mail.data, "/api/v1/subscriptions/confirm");
    let confirmed = app.get(&format!("/api/v1/subscriptions/confirm?token={token}")).await;
    assert_eq!(confirmed.status(), 200);
}

async fn announce(app: &TestApp, id: &str, message: &str) {
    app.emit("incident.created", incident(id, 2, &["api"])).await;
    let resp = app.announce(id, "investigating", message).await;
    assert_eq!(resp.status(), 201);
}

#[tokio::test]
async fn double_opt_in_then_announcements_with_one_click_unsubscribe() {
    let (app, sink) = app_with_smtp().await;
    let resp = subscribe(&app, json!({"email": "Reader@Example.com"})).await;
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.json::<Value>().await.expect("json")["status"], "pending_confirmation");
    let confirmation = sink.mails_to("reader@example.com", 1).await.pop().expect("a confirmation mail");
    assert!(confirmation.data.contains("List-Unsubscribe: <"), "{}", confirmation.data);
    assert!(confirmation.data.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));

    announce(&app, "INC-00E001", "Looking into it").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(sink.mails_to("reader@example.com", 1).await.len(), 1, "nothing before confirmation");

    let token = token_in(&confirmation.data, "/api/v1/subscriptions/confirm");
    assert_eq!(app.get(&format!("/api/v1/subscriptions/confirm?token={token}")).await.status(), 200);
    assert_eq!(
        subscribe(&app, json!({"email": "reader@example.com"})).await.status(),
        201,
        "subscribing again is harmless"
    );
    announce(&app, "INC-00E002", "A fix is rolling out").await;
    let mails = sink.mails_to("reader@example.com", 2).await;
    assert_eq!(mails.len(), 2, "one confirmation, one announcement");
    let update = &mails[1].data;
    assert!(update.contains("A fix is rolling out") && update.contains("INC-00E002"), "{update}");
    assert!(update.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));

    let unsubscribe = token_in(update, "/api/v1/subscriptions/unsubscribe");
    let one_click = app
        .client
        .post(format!("{}/api/v1/subscriptions/unsubscribe?token={unsubscribe}", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("sent");
    assert_eq!(one_click.status(), 200);
    announce(&app, "INC-00E003", "Resolved").await;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(sink.mails_to("reader@example.com", 3).await.len(), 2, "nothing after unsubscribing");
}

#[tokio::test]
async fn a_failing_address_never_blocks_the_others() {
    let (app, sink) = app_with_smtp().await;
    for address in ["first@example.com", "flaky@example.com", "second@example.com"] {
        subscribed(&app, &sink, json!({"email": address})).await;
    }
    sink.refuse_flaky.store(true, Ordering::SeqCst);
    announce(&app, "INC-00F001", "Degraded").await;
    assert_eq!(sink.mails_to("first@example.com", 2).await.len(), 2);
    assert_eq!(sink.mails_to("second@example.com", 2).await.len(), 2);
    assert_eq!(sink.mails_to("flaky@example.com", 2).await.len(), 1, "only its confirmation got through");
}

#[tokio::test]
async fn per_incident_subscriptions_get_only_their_incident() {
    let (app, sink) = app_with_smtp().await;
    subscribed(&app, &sink, json!({"email": "one@example.com", "incident_id": "inc-00a0a0"})).await;
    announce(&app, "INC-00B0B0", "Other incident").await;
    announce(&app, "INC-00A0A0", "This incident").await;
    let mails = sink.mails_to("one@example.com", 2).await;
    assert_eq!(mails.len(), 2);
    assert!(mails[1].data.contains("This incident"));

    let count = |query: &'static str| {
        let url = format!("{}/api/v1/subscriptions/count{query}", app.address);
        let token = app.sre.token.clone();
        let client = app.client.clone();
        async move { client.get(url).bearer_auth(token).send().await.expect("sent") }
    };
    assert_eq!(count("").await.json::<Value>().await.expect("json")["confirmed"], 0);
    assert_eq!(count("?incident_id=inc-00a0a0").await.json::<Value>().await.expect("json")["confirmed"], 1);
    assert_eq!(fields(&problem(count("?incident_id=nope").await).await), ["incident_id"]);
    let viewer = app.client.get(format!("{}/api/v1/subscriptions/count", app.address)).bearer_auth(&app.viewer.token);
    assert_eq!(viewer.send().await.expect("sent").status(), 403);
}

#[tokio::test]
async fn bad_subscriptions_and_links_are_named() {
    let (app, _sink) = app_with_smtp().await;
    let resp = subscribe(&app, json!({"email": "not-an-address", "incident_id": "42"})).await;
    assert_eq!(fields(&problem(resp).await), ["email", "incident_id"]);
    assert_eq!(fields(&problem(subscribe(&app, json!({})).await).await), ["email"]);
    let padded = subscribe(&app, json!({"email": "reader@example.com", "incident_id": "INC-00A0A0 "})).await;
    assert_eq!(fields(&problem(padded).await), ["incident_id"], "an id with nothing around it");
    assert_eq!(app.get("/api/v1/subscriptions/confirm?token=deadbeef").await.status(), 404);
    assert_eq!(app.get("/api/v1/subscriptions/confirm").await.status(), 400);
}

#[tokio::test]
async fn without_an_smtp_server_mails_are_written_as_eml_files() {
    let outbox = tempfile::tempdir().expect("tempdir");
    let dir = outbox.path().to_path_buf();
    let app = spawn_app_custom(false, move |s| s.email.outbox_dir = dir).await;
    assert_eq!(subscribe(&app, json!({"email": "local@example.com"})).await.status(), 201);
    let mut files = Vec::new();
    for _ in 0..100 {
        files = std::fs::read_dir(outbox.path()).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
        if !files.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(files.len(), 1);
    assert!(files[0].extension().is_some_and(|e| e == "eml"));
    let eml = std::fs::read_to_string(&files[0]).expect("eml");
    assert!(eml.contains("To: local@example.com") && eml.contains("List-Unsubscribe"), "{eml}");
}
