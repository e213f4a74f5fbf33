//! Slack ChatOps end to end: signed slash commands and events against a real comms, incidents
//! and users service, with Slack's Web API played by a mock server.

use std::time::Duration;

use comms::chatops::signing::slack_signature;
use reqwest::Method;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::helpers::{TestApp, fields, problem, spawn_app_custom};

const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const CHANNEL: &str = "CINCIDENTS";
const THREAD_TS: &str = "1700000000.000100";

struct Slack {
    app: TestApp,
    api: MockServer,
}

/// Comms with Slack set up: commands allowed in `CHANNEL`, a bot token, and `api` as Slack.
async fn slack_app(reply_budget_ms: u64) -> Slack {
    let api = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/chat.postMessage"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true, "ts": THREAD_TS})))
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path("/chat.postEphemeral"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true, "message_ts": "1.2"})))
        .mount(&api)
        .await;
    Mock::given(method("POST")).and(path("/respond")).respond_with(ResponseTemplate::new(200)).mount(&api).await;
    let slack_url = api.uri();
    let app = spawn_app_custom(true, move |s| {
        s.chatops.slack_api_url = slack_url;
        s.chatops.reply_budget_ms = reply_budget_ms;
    })
    .await;
    let admin = app.users.admin_token.clone();
    let body = json!({"enabled": true, "signing_secret": SECRET, "bot_token": "xoxb-test", "channels": [CHANNEL]});
    let resp = app.call(Method::PUT, &format!("{}/api/v1/chatops/slack", app.address), Some(&admin), Some(&body)).await;
    assert_eq!(resp.status(), 200);
    Slack { app, api }
}

impl Slack {
    /// Links Slack user `slack_user` to the PolyStatus user with `email`.
    async fn link(&self, slack_user: &str, email: &str) {
        let url = format!("{}/api/v1/chatops/slack/links/{slack_user}", self.app.address);
        let resp =
            self.app.call(Method::PUT, &url, Some(&self.app.users.admin_token), Some(&json!({"email": email}))).await;
        assert_eq!(resp.status(), 200);
    }

    async fn signed(&self, route: &str, body: &str, content_type: &str, age_secs: i64) -> reqwest::Response {
        let ts = (chrono::Utc::now().timestamp() - age_secs).to_string();
        self.app
            .client
            .post(format!("{}{route}", self.app.address))
            .header("content-type", content_type)
            .header("x-slack-request-timestamp", &ts)
            .header("x-slack-signature", slack_signature(SECRET, &ts, body.as_bytes()))
            .body(body.to_string())
            .send()
            .await
            .expect("sent")
    }

    /// Sends `/incident <text>` as Slack does; Slack's answer.
    async fn command(&self, user: &str, channel: &str, text: &str, trigger: &str) -> Value {
        let response_url = format!("{}/respond", self.api.uri());
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("token", "legacy")
            .append_pair("team_id", "T1DC2JH3J")
            .append_pair("channel_id", channel)
            .append_pair("user_id", user)
            .append_pair("command", "/incident")
            .append_pair("text", text)
            .append_pair("response_url", &response_url)
            .append_pair("trigger_id", trigger)
            .finish();
        let resp = self.signed("/api/v1/chatops/slack/commands", &body, "application/x-www-form-urlencoded", 0).await;
        assert_eq!(resp.status(), 200);
        resp.json().await.unwrap_or(Value::Null)
    }

    async fn event(&self, event_id: &str, event: Value) -> reqwest::Response {
        let body = json!({"type": "event_callback", "team_id": "T1DC2JH3J", "event_id": event_id, "event": event});
        self.signed("/api/v1/chatops/slack/events", &body.to_string(), "application/json", 0).await
    }

    /// Waits until Slack was called `n` times at `route`; those calls' JSON bodies.
    async fn calls(&self, route: &str, n: usize) -> Vec<Value> {
        let mut seen = Vec::new();
        for _ in 0..200 {
            let requests: Vec<Request> = self.api.received_requests().await.unwrap_or_default();
            seen = requests
                .iter()
                .filter(|r| r.url.path() == route)
                .filter_map(|r| serde_json::from_slice(&r.body).ok())
                .collect::<Vec<Value>>();
            if seen.len() >= n {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("Slack saw {} calls to {route}, not {n}: {seen:?}", seen.len());
    }

    async fn incidents_titled(&self, title: &str) -> Vec<Value> {
        let url = format!("{}/api/v1/incidents?q={}", self.app.incidents_address, title.replace(' ', "+"));
        let resp = self.app.call(Method::GET, &url, Some(&self.app.sre.token), None).await;
        let all: Vec<Value> = resp.json().await.expect("array");
        all.into_iter().filter(|i| i["title"] == title).collect()
    }
}

fn text(answer: &Value) -> &str {
    answer["text"].as_str().unwrap_or("")
}

fn incident_id(text: &str) -> String {
    let at = text.find("INC-").expect("an incident id");
    text[at..at + 10].to_string()
}

#[tokio::test]
async fn a_declared_incident_is_driven_from_slack_and_its_timeline_fills_its_thread() {
    let slack = slack_app(2500).await;
    slack.link("UANN", &slack.app.sre.email).await;

    let declared = slack.command("UANN", CHANNEL, "declare Checkout errors in EU sev 2", "t-1").await;
    assert_eq!(declared["response_type"], "in_channel", "{declared}");
    let id = incident_id(text(&declared));
    let stored = slack.incidents_titled("Checkout errors in EU").await;
    assert_eq!(stored.len(), 1);
    assert_eq!((stored[0]["sev"].as_u64(), stored[0]["source"].as_str()), (Some(2), Some("chatops")));
    assert_eq!(stored[0]["commander"].as_str(), Some(slack.app.sre.id.as_str()), "the declarer leads");
    // The thread's first message, posted by the bot in the channel.
    let root = &slack.calls("/chat.postMessage", 1).await[0];
    assert_eq!(root["channel"], CHANNEL);
    assert!(root["thread_ts"].is_null());
    assert!(root["text"].as_str().unwrap_or("").contains(&id));

    let mitigated =
        slack.command("UANN", CHANNEL, &format!("status {id} mitigated rolled back the deploy"), "t-2").await;
    assert_eq!(mitigated["response_type"], "in_channel");
    assert!(text(&mitigated).contains("mitigated"), "{mitigated}");
    let noted = slack.command("UANN", CHANNEL, &format!("note {id} error rate back to normal"), "t-3").await;
    assert!(text(&noted).contains("Note added"), "{noted}");
    let announced = slack.command("UANN", CHANNEL, &format!("announce {id} monitoring A fix is out"), "t-4").await;
    assert!(text(&announced).contains("Public update"), "{announced}");
    let public: Vec<Value> = slack.app.get("/api/v1/public/status").await.json().await.expect("array");
    assert!(public.iter().any(|i| i["id"] == id.as_str()), "the announcement is public");

    // Each change reaches the thread, in order, with who made it.
    let posts = slack.calls("/chat.postMessage", 4).await;
    let threaded: Vec<&Value> = posts.iter().filter(|p| p["thread_ts"] == THREAD_TS).collect();
    assert!(threaded.len() >= 3, "{posts:?}");
    let lines: Vec<&str> = threaded.iter().filter_map(|p| p["text"].as_str()).collect();
    assert!(lines[0].contains("open → mitigated"), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("error rate back to normal")), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("Public update") && l.contains("A fix is out")), "{lines:?}");

    let listed = slack.command("UANN", CHANNEL, "list", "t-5").await;
    assert_eq!(listed["response_type"], "ephemeral");
    assert!(text(&listed).contains(&id));
    let assigned = slack.command("UANN", CHANNEL, &format!("assign {id} nobody"), "t-6").await;
    assert!(text(&assigned).contains("commander: *nobody*"), "{assigned}");
    let resolved = slack.command("UANN", CHANNEL, &format!("status {id} resolved"), "t-7").await;
    assert!(text(&resolved).contains("resolved"), "{resolved}");
}

#[tokio::test]
async fn forged_stale_and_replayed_requests_are_refused_or_ignored() {
    let slack = slack_app(2500).await;
    slack.link("UANN", &slack.app.sre.email).await;
    let body = "user_id=UANN&channel_id=CINCIDENTS&text=declare+Forged&trigger_id=f-1";
    let form = "application/x-www-form-urlencoded";
    let stale = slack.signed("/api/v1/chatops/slack/commands", body, form, 301).await;
    assert_eq!(stale.status(), 401);
    assert!(problem(stale).await["detail"].as_str().unwrap_or("").contains("5 minutes"));
    let forged = slack
        .app
        .client
        .post(format!("{}/api/v1/chatops/slack/commands", slack.app.address))
        .header("x-slack-request-timestamp", chrono::Utc::now().timestamp().to_string())
        .header("x-slack-signature", "v0=0000000000000000000000000000000000000000000000000000000000000000")
        .body(body)
        .send()
        .await
        .expect("sent");
    assert_eq!(forged.status(), 401);
    let unsigned = slack
        .app
        .client
        .post(format!("{}/api/v1/chatops/slack/events", slack.app.address))
        .body("{}")
        .send()
        .await
        .expect("sent");
    assert_eq!(unsigned.status(), 401);
    assert!(slack.incidents_titled("Forged").await.is_empty());

    // The same trigger twice runs once.
    let first = slack.command("UANN", CHANNEL, "declare Replayed", "same-trigger").await;
    assert_eq!(first["response_type"], "in_channel");
    let again = slack.command("UANN", CHANNEL, "declare Replayed", "same-trigger").await;
    assert_eq!(again, Value::Null, "a duplicate is acknowledged with an empty answer");
    assert_eq!(slack.incidents_titled("Replayed").await.len(), 1);

    // Missing Slack fields are named.
    let missing = slack.signed("/api/v1/chatops/slack/commands", "text=list", form, 0).await;
    assert_eq!(fields(&problem(missing).await), ["channel_id", "user_id"]);
}

#[tokio::test]
async fn channels_roles_and_unknown_people_are_refused_privately() {
    let slack = slack_app(2500).await;
    slack.link("UANN", &slack.app.sre.email).await;
    slack.link("UVIC", &slack.app.viewer.email).await;

    let elsewhere = slack.command("UANN", "CRANDOM", "declare Wrong channel", "r-1").await;
    assert_eq!(elsewhere["response_type"], "ephemeral");
    assert!(text(&elsewhere).contains("not enabled in this channel"));
    let viewer = slack.command("UVIC", CHANNEL, "declare Viewer tries", "r-2").await;
    assert_eq!(viewer["response_type"], "ephemeral");
    assert!(text(&viewer).contains("needs the sre role"), "{viewer}");
    let listed = slack.command("UVIC", CHANNEL, "list", "r-3").await;
    assert!(!text(&listed).contains("needs"), "viewers may list: {listed}");
    // Slack knows no email for this user (users.info is not mocked): not linked.
    let stranger = slack.command("USTRANGER", CHANNEL, "declare Stranger", "r-4").await;
    assert!(
        text(&stranger).contains("could not check who you are") || text(&stranger).contains("not linked"),
        "{stranger}"
    );
    let bad = slack.command("UANN", CHANNEL, "declare DB sev 9", "r-5").await;
    assert_eq!(bad["response_type"], "ephemeral");
    assert!(text(&bad).contains("1 to 4"));
    let unknown = slack.command("UANN", CHANNEL, "status INC-000000 resolved", "r-6").await;
    assert_eq!(unknown["response_type"], "ephemeral");
    assert!(text(&unknown).contains("INC-000000"), "{unknown}");
    let help = slack.command("UANN", "CRANDOM", "help", "r-7").await;
    assert!(text(&help).contains("/incident declare"));
    for title in ["Wrong channel", "Viewer tries", "Stranger"] {
        assert!(slack.incidents_titled(title).await.is_empty(), "{title} was refused");
    }
}

#[tokio::test]
async fn slack_users_are_found_by_their_slack_email() {
    let slack = slack_app(2500).await;
    Mock::given(method("GET"))
        .and(path("/users.info"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "user": {"id": "UBOB", "profile": {"email": slack.app.sre.email}}})),
        )
        .expect(1)
        .mount(&slack.api)
        .await;
    let first = slack.command("UBOB", CHANNEL, "declare Found by email", "e-1").await;
    assert_eq!(first["response_type"], "in_channel", "{first}");
    // The email is remembered: Slack is asked once.
    let second = slack.command("UBOB", CHANNEL, "declare Found by email again", "e-2").await;
    assert_eq!(second["response_type"], "in_channel", "{second}");
}

#[tokio::test]
async fn slow_work_is_answered_through_the_response_url() {
    let slack = slack_app(0).await;
    slack.link("UANN", &slack.app.sre.email).await;
    let now = slack.command("UANN", CHANNEL, "declare Answered later", "l-1").await;
    assert_eq!(now["response_type"], "ephemeral");
    assert!(text(&now).contains("Working on it"));
    let later = &slack.calls("/respond", 1).await[0];
    assert_eq!(later["response_type"], "in_channel");
    assert!(later["text"].as_str().unwrap_or("").contains("Answered later"));
}

#[tokio::test]
async fn mentions_run_commands_in_their_thread_once_per_event() {
    let slack = slack_app(2500).await;
    slack.link("UANN", &slack.app.sre.email).await;

    let body = json!({"type": "url_verification", "token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"});
    let verified = slack.signed("/api/v1/chatops/slack/events", &body.to_string(), "application/json", 0).await;
    assert_eq!(verified.status(), 200);
    assert_eq!(verified.json::<Value>().await.expect("json")["challenge"], body["challenge"]);

    let mention = json!({"type": "app_mention", "user": "UANN", "channel": CHANNEL, "ts": "1700000500.000200",
                         "text": "<@UAPP> declare Search is slow sev 3"});
    assert_eq!(slack.event("Ev01", mention.clone()).await.status(), 200);
    // Slack retries the same event: acknowledged, not run again.
    let retry = slack
        .app
        .client
        .post(format!("{}/api/v1/chatops/slack/events", slack.app.address))
        .header("x-slack-retry-num", "1")
        .header("x-slack-retry-reason", "http_timeout");
    let body = json!({"type": "event_callback", "event_id": "Ev01", "event": mention}).to_string();
    let ts = chrono::Utc::now().timestamp().to_string();
    let retried = retry
        .header("x-slack-request-timestamp", &ts)
        .header("x-slack-signature", slack_signature(SECRET, &ts, body.as_bytes()))
        .body(body)
        .send()
        .await
        .expect("sent");
    assert_eq!(retried.status(), 200);

    let answer = &slack.calls("/chat.postMessage", 1).await[0];
    assert_eq!((answer["channel"].as_str(), answer["thread_ts"].as_str()), (Some(CHANNEL), Some("1700000500.000200")));
    assert!(answer["text"].as_str().unwrap_or("").contains("Search is slow"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(slack.incidents_titled("Search is slow").await.len(), 1, "one incident for one event id");

    // The incident's timeline goes to the mention's thread.
    let id = incident_id(answer["text"].as_str().unwrap_or(""));
    let noted = json!({"type": "app_mention", "user": "UANN", "channel": CHANNEL, "ts": "1700000600.000300",
                       "thread_ts": "1700000500.000200", "text": format!("<@UAPP> note {id} index rebuilt")});
    assert_eq!(slack.event("Ev02", noted).await.status(), 200);
    let posts = slack.calls("/chat.postMessage", 3).await;
    assert!(
        posts.iter().any(
            |p| p["thread_ts"] == "1700000500.000200" && p["text"].as_str().unwrap_or("").contains("index rebuilt")
        ),
        "{posts:?}"
    );

    // A viewer's refusal is shown to them alone.
    slack.link("UVIC", &slack.app.viewer.email).await;
    let refused = json!({"type": "app_mention", "user": "UVIC", "channel": CHANNEL, "ts": "1700000700.000400",
                         "text": "<@UAPP> declare Not allowed"});
    assert_eq!(slack.event("Ev03", refused).await.status(), 200);
    let private = &slack.calls("/chat.postEphemeral", 1).await[0];
    assert_eq!(private["user"], "UVIC");
    assert!(private["text"].as_str().unwrap_or("").contains("sre role"));
}

#[tokio::test]
async fn slack_settings_and_links_are_for_admins_and_checked() {
    let slack = slack_app(2500).await;
    let app = &slack.app;
    let url = format!("{}/api/v1/chatops/slack", app.address);
    assert_eq!(app.call(Method::GET, &url, Some(&app.sre.token), None).await.status(), 403);
    let view: Value = app.call(Method::GET, &url, Some(&app.users.admin_token), None).await.json().await.expect("json");
    assert_eq!((view["signing_secret_set"].as_bool(), view["bot_token_set"].as_bool()), (Some(true), Some(true)));
    assert!(view.get("signing_secret").is_none(), "secrets are never shown");
    let bad = json!({"enabled": true, "signing_secret": "short", "bot_token": "not-a-token", "channels": ["#general"], "command": "incident"});
    let resp = app.call(Method::PUT, &url, Some(&app.users.admin_token), Some(&bad)).await;
    assert_eq!(fields(&problem(resp).await), ["bot_token", "channels[0]", "command", "signing_secret"]);
    // Secrets, tokens, ids and the command are taken exactly as sent: nothing around them.
    let padded = json!({"enabled": true, "signing_secret": format!(" {SECRET}"), "bot_token": "xoxb-test ", "channels": ["CINCIDENTS "], "command": " /incident"});
    let resp = app.call(Method::PUT, &url, Some(&app.users.admin_token), Some(&padded)).await;
    assert_eq!(fields(&problem(resp).await), ["bot_token", "channels[0]", "command", "signing_secret"]);

    let links = format!("{}/api/v1/chatops/slack/links", app.address);
    let nobody = app
        .call(
            Method::PUT,
            &format!("{links}/UX1"),
            Some(&app.users.admin_token),
            Some(&json!({"email": "ghost@example.com"})),
        )
        .await;
    assert_eq!(nobody.status(), 422, "the user the email names does not exist");
    assert_eq!(fields(&problem(nobody).await), ["email"]);
    let bad_id = app
        .call(Method::PUT, &format!("{links}/bob"), Some(&app.users.admin_token), Some(&json!({"email": "x"})))
        .await;
    assert_eq!(fields(&problem(bad_id).await), ["email", "slack_user"]);
    slack.link("UX1", &app.sre.email).await;
    let listed: Vec<Value> =
        app.call(Method::GET, &links, Some(&app.users.admin_token), None).await.json().await.expect("array");
    assert_eq!(listed.len(), 1);
    assert_eq!(
        app.call(Method::DELETE, &format!("{links}/UX1"), Some(&app.users.admin_token), None).await.status(),
        204
    );
    assert_eq!(
        app.call(Method::DELETE, &format!("{links}/UX1"), Some(&app.users.admin_token), None).await.status(),
        404
    );

    // Disabled: Slack's calls find nothing here.
    let off = json!({"enabled": false, "channels": []});
    assert_eq!(app.call(Method::PUT, &url, Some(&app.users.admin_token), Some(&off)).await.status(), 200);
    let resp =
        slack.signed("/api/v1/chatops/slack/commands", "text=list", "application/x-www-form-urlencoded", 0).await;
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn enabling_slack_without_any_signing_secret_is_unprocessable() {
    let app = spawn_app_custom(false, |_| {}).await;
    let url = format!("{}/api/v1/chatops/slack", app.address);
    let admin = Some(app.users.admin_token.as_str());
    // Well formed, but no secret was ever set: 422, the field named.
    let resp = app.call(Method::PUT, &url, admin, Some(&json!({"enabled": true, "channels": []}))).await;
    assert_eq!(resp.status(), 422);
    assert_eq!(fields(&problem(resp).await), ["signing_secret"]);
    let with_secret = json!({"enabled": true, "signing_secret": SECRET, "channels": []});
    assert_eq!(app.call(Method::PUT, &url, admin, Some(&with_secret)).await.status(), 200);
    // Once set, it is kept when left out.
    let resp = app.call(Method::PUT, &url, admin, Some(&json!({"enabled": true, "channels": [CHANNEL]}))).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.expect("json")["signing_secret_set"], true);
}
