//! The UI in a real browser: headless Chromium (Debian's `chromium` package) driven by
//! playwright-core (`frontend/browser`, installed with `npm ci` by `scripts/test-all`). The
//! journey script also takes a screenshot of each main page into `target/screenshots`; with
//! `UPDATE_SCREENSHOTS=1` they replace the README's in `docs/screenshots`.

use std::path::Path;
use std::process::Command;

use platform::testing::smtp::{SmtpSink, token_in};
use serde_json::json;

use crate::helpers::{Options, start_with};
use crate::journey::receiver;

#[tokio::test]
async fn the_ui_works_in_a_real_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scripts = root.join("browser");
    assert!(
        scripts.join("node_modules/playwright-core").exists(),
        "playwright-core is missing: run `npm ci` in frontend/browser (scripts/test-all does)"
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(Path::new(&chromium).exists(), "{chromium} is missing: apt-get install chromium (scripts/test-all does)");

    let smtp = SmtpSink::start().await;
    let platform = start_with(Options { smtp_url: Some(smtp.url()), ..Options::default() }).await;
    let sre = platform.users.user("sre").await;
    // Before the browser: a confirmed subscriber, and a webhook endpoint on a local receiver.
    let (outside, received) = receiver();
    let subscribe = json!({"email": "reader@example.com"});
    let comms = |path: &str| format!("{}{path}", platform.comms);
    let http = reqwest::Client::new();
    http.post(comms("/api/v1/subscriptions/email")).json(&subscribe).send().await.expect("subscribed");
    let confirmation = smtp.mails_to("reader@example.com", 1).await.pop().expect("a confirmation mail");
    let token = token_in(&confirmation.data, "/api/v1/subscriptions/confirm");
    let confirmed =
        http.get(comms(&format!("/api/v1/subscriptions/confirm?token={token}"))).send().await.expect("sent");
    assert_eq!(confirmed.status(), 200);
    let hook: serde_json::Value = http
        .post(comms("/api/v1/webhooks"))
        .bearer_auth(&sre.token)
        .json(&json!({"url": format!("{outside}/hook")}))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let secret = hook["secret"].as_str().expect("a secret").to_string();
    let shots = root.join("../target/screenshots");
    let (ui, incidents) = (platform.ui.clone(), platform.incidents.clone());
    let feed = format!("{outside}/feed");
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("journey.mjs")
            .current_dir(&scripts)
            .env("UI", ui)
            .env("EMAIL", users::testing::ADMIN_EMAIL)
            .env("PASSWORD", users::testing::ADMIN_PASSWORD)
            .env("API", incidents)
            .env("TOKEN", sre.token)
            .env("SHOTS", &shots)
            .env("FEED", feed)
            .env("CHROMIUM", chromium)
            .output()
    })
    .await
    .expect("joined")
    .expect("node runs");
    assert!(
        output.status.success(),
        "the browser journey failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // What the browser did reached the outside: the subscriber's mail and a signed delivery.
    let mails = smtp.mails_to("reader@example.com", 2).await;
    assert!(mails.iter().any(|m| m.data.contains("Checkout is failing for some customers")), "the subscriber is told");
    let delivery = crate::journey::delivery_of(&received, "incident.created").await.expect("a webhook delivery");
    assert!(crate::journey::signed_with(&secret, &delivery), "the delivery is signed with the endpoint's secret");
    if std::env::var("UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
        let docs = root.join("../docs/screenshots");
        std::fs::create_dir_all(&docs).expect("docs/screenshots");
        for entry in std::fs::read_dir(root.join("../target/screenshots")).expect("screenshots") {
            let path = entry.expect("entry").path();
            std::fs::copy(&path, docs.join(path.file_name().expect("a name"))).expect("copied");
        }
    }
}
