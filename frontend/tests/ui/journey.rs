//! The whole platform as its users meet it, through the web UI: sign in, declare, assign, write
//! the timeline, announce; a confirmed subscriber gets the mail over SMTP; a webhook receiver
//! gets a correctly signed delivery; a provider outage replayed from a recorded payload raises
//! an incident linked to its provider event; resolve; publish the postmortem.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use platform::testing::smtp::{SmtpSink, token_in};
use serde_json::Value;

use crate::browser::{Browser, Page};
use crate::helpers::{Options, start_with};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/csp/statuspage/github-summary-active-major-incident-2022-11-25.json"
);

pub type Delivery = (actix_web::http::header::HeaderMap, Vec<u8>);
pub type Received = Arc<Mutex<Vec<Delivery>>>;

/// A local server: `/hook` keeps what it receives, `/feed` serves the recorded payload.
pub fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let kept = received.clone();
    let payload = std::fs::read(FIXTURE).expect("the fixture");
    let server = HttpServer::new(move || {
        let kept = kept.clone();
        let payload = payload.clone();
        App::new()
            .route(
                "/hook",
                web::post().to(move |req: HttpRequest, body: web::Bytes| {
                    let kept = kept.clone();
                    async move {
                        kept.lock().expect("received").push((req.headers().clone(), body.to_vec()));
                        HttpResponse::NoContent().finish()
                    }
                }),
            )
            .route(
                "/feed",
                web::get().to(move || {
                    let payload = payload.clone();
                    async move { HttpResponse::Ok().content_type("application/json").body(payload) }
                }),
            )
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .expect("binds");
    let address = format!("http://{}", server.addrs()[0]);
    tokio::spawn(server.run());
    (address, received)
}

/// The first delivery of an event of `kind` (waits up to 5 s).
pub async fn delivery_of(received: &Received, kind: &str) -> Option<Delivery> {
    for _ in 0..100 {
        let found = received
            .lock()
            .expect("received")
            .iter()
            .find(|(_, body)| serde_json::from_slice::<Value>(body).is_ok_and(|b| b["type"] == kind))
            .cloned();
        if found.is_some() {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

/// Whether a delivery's Standard Webhooks signature checks out with `secret`.
pub fn signed_with(secret: &str, delivery: &Delivery) -> bool {
    let header = |name: &str| delivery.0.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let Ok(timestamp) = header("webhook-timestamp").parse::<i64>() else { return false };
    let (id, signature) = (header("webhook-id"), header("webhook-signature"));
    comms::webhooks::signing::verify(secret, &id, timestamp, &delivery.1, &signature, timestamp)
}

fn notice(page: &Page) -> String {
    page.location.clone().unwrap_or_else(|| panic!("a redirect, got {}: {}", page.status, page.body))
}

fn secret_in(body: &str) -> String {
    let at = body.find("Signing secret: <code>").expect("the secret shown once") + 22;
    body[at..].split('<').next().unwrap_or_default().to_string()
}

#[tokio::test]
async fn from_sign_in_to_published_postmortem_through_the_web_ui() {
    let smtp = SmtpSink::start().await;
    let platform = start_with(Options { smtp_url: Some(smtp.url()), ..Options::default() }).await;
    let (outside, received) = receiver();
    let sre = platform.users.user("admin").await;
    let browser = Browser::new(&platform.ui);
    let list = browser.sign_in(&sre.email, users::testing::PASSWORD).await;
    let csrf = list.csrf();

    // A subscriber confirms through the mail's link.
    let public = Browser::new(&platform.ui);
    let status = public.get("/status").await;
    let sub = public.post("/status/subscribe", &[("csrf", &status.csrf()), ("email", "reader@example.com")]).await;
    assert!(notice(&sub).contains("notice="));
    let confirmation = smtp.mails_to("reader@example.com", 1).await.pop().expect("a confirmation mail");
    let token = token_in(&confirmation.data, "/api/v1/subscriptions/confirm");
    let confirmed =
        reqwest::get(format!("{}/api/v1/subscriptions/confirm?token={token}", platform.comms)).await.expect("sent");
    assert_eq!(confirmed.status(), 200);

    // A webhook endpoint, registered in the UI; its secret is shown once.
    let comms = browser.get("/comms").await;
    let registered = browser
        .post("/comms/webhook", &[("csrf", &comms.csrf()), ("url", &format!("{outside}/hook")), ("kind", "standard")])
        .await;
    assert_eq!(registered.status, 200, "{}", registered.body);
    let secret = secret_in(&registered.body);
    assert!(registered.body.contains("<strong>1</strong> confirmed email subscriber to every incident."), "the count");
    assert!(secret.starts_with("whsec_"), "{secret}");

    // Declare, assign, write the timeline, announce.
    let declared = browser
        .post("/incidents", &[("csrf", &csrf), ("title", "Checkout errors"), ("sev", "2"), ("services", "checkout")])
        .await;
    let here = notice(&declared).split('?').next().unwrap_or_default().to_string();
    let id = here.trim_start_matches("/incidents/").to_string();
    for (action, form) in [
        ("assign", vec![("commander", sre.id.as_str())]),
        ("note", vec![("message", "Payments API returns 502"), ("type", "update")]),
        ("announce", vec![("message", "Checkout is failing for some customers"), ("state", "investigating")]),
    ] {
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend(form);
        let done = browser.post(&format!("{here}/{action}"), &fields).await;
        assert!(notice(&done).contains("notice="), "{action}: {:?}", done.location);
    }
    let mail = smtp.mails_to("reader@example.com", 2).await;
    assert!(mail.iter().any(|m| m.data.contains("Checkout is failing for some customers")), "the subscriber is told");

    let delivery = delivery_of(&received, "incident.created").await.expect("a webhook delivery");
    assert!(signed_with(&secret, &delivery), "the delivery is signed with the endpoint's secret");

    // A provider outage, replayed from a recorded payload, raises an incident linked to it.
    let providers = browser.get("/providers").await;
    let added = browser
        .post(
            "/providers",
            &[
                ("csrf", &providers.csrf()),
                ("name", "github-status"),
                ("feed_url", &format!("{outside}/feed")),
                ("type", "json"),
                ("incident_threshold", "major"),
            ],
        )
        .await;
    assert!(notice(&added).contains("notice="), "{:?}", added.location);
    let refreshed = browser.post("/providers/github-status/refresh", &[("csrf", &providers.csrf())]).await;
    assert!(notice(&refreshed).contains("1+new"), "{:?}", refreshed.location);
    let incidents = browser.get("/incidents?q=github").await;
    let at = incidents.body.find("<span class=\"tag\">provider</span>").expect("an incident raised from the provider");
    let raised_at = incidents.body[..at].rfind("/incidents/INC-").expect("its link") + 11;
    let raised = incidents.body[raised_at..].split('"').next().unwrap_or_default().to_string();
    let raised_page = browser.get(&format!("/incidents/{raised}")).await;
    assert!(raised_page.body.contains("raised from this provider event"), "linked to its provider event");

    // Resolve, then publish the postmortem.
    let resolved =
        browser.post(&format!("{here}/status"), &[("csrf", &csrf), ("status", "resolved"), ("reason", "fixed")]).await;
    assert!(notice(&resolved).contains("notice="), "{:?}", resolved.location);
    let saved = browser
        .post(
            &format!("{here}/postmortem"),
            &[
                ("csrf", &csrf),
                ("what_happened", "Checkout failed"),
                ("root_cause", "A bad deploy"),
                ("impact", "5% of orders"),
            ],
        )
        .await;
    assert!(notice(&saved).contains("notice="), "{:?}", saved.location);
    let published = browser.post(&format!("{here}/publish"), &[("csrf", &csrf)]).await;
    assert!(notice(&published).contains("Postmortem+published"), "{:?}", published.location);
    let postmortem: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/incidents/{id}/postmortem", platform.incidents))
        .bearer_auth(&sre.token)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert!(postmortem["published_at"].is_i64(), "{postmortem}");
}
