//! The pages an SRE and the public use.

use serde_json::json;

use crate::browser::Browser;
use crate::helpers::start;

fn incident_id(location: &str) -> String {
    location.trim_start_matches("/incidents/").split('?').next().unwrap_or_default().to_string()
}

#[tokio::test]
async fn an_sre_runs_an_incident_from_the_browser_and_the_public_page_follows() {
    let platform = start(false).await;
    let sre = platform.users.user("sre").await;
    let browser = Browser::new(&platform.ui);
    let list = browser.sign_in(&sre.email, users::testing::PASSWORD).await;
    let csrf = list.csrf();

    let declared = browser
        .post(
            "/incidents",
            &[
                ("csrf", &csrf),
                ("title", "Checkout <errors>"),
                ("sev", "2"),
                ("services", "checkout, api"),
                ("summary", "5xx"),
            ],
        )
        .await;
    assert_eq!(declared.status, 303, "{}", declared.body);
    let location = declared.location.clone().expect("the incident page");
    let id = incident_id(&location);
    let page = browser.follow(&declared).await;
    assert!(page.body.contains("Incident declared."));
    assert!(
        page.body.contains("Checkout &#60;errors&#62;") || page.body.contains("Checkout &lt;errors&gt;"),
        "escaped"
    );

    let here = format!("/incidents/{id}");
    let note = browser
        .post(&format!("{here}/note"), &[("csrf", &csrf), ("message", "Rolled back deploy 42"), ("type", "update")])
        .await;
    assert_eq!(note.status, 303);
    let assigned = browser.post(&format!("{here}/assign"), &[("csrf", &csrf), ("commander", &sre.id)]).await;
    assert!(assigned.location.as_deref().is_some_and(|l| l.contains("notice=")), "{:?}", assigned.location);
    let announced = browser
        .post(
            &format!("{here}/announce"),
            &[("csrf", &csrf), ("message", "We are looking into checkout errors"), ("state", "investigating")],
        )
        .await;
    assert!(announced.location.as_deref().is_some_and(|l| l.contains("notice=")), "{:?}", announced.location);
    let mitigated = browser
        .post(&format!("{here}/status"), &[("csrf", &csrf), ("status", "mitigated"), ("reason", "rolled back")])
        .await;
    assert!(mitigated.location.as_deref().is_some_and(|l| l.contains("notice=")), "{:?}", mitigated.location);
    let impossible = browser.post(&format!("{here}/status"), &[("csrf", &csrf), ("status", "bogus")]).await;
    assert!(impossible.location.as_deref().is_some_and(|l| l.contains("error=")), "a refusal is shown on the page");

    let page = browser.get(&here).await;
    assert!(page.body.contains("Rolled back deploy 42"));
    assert!(page.body.contains("status-mitigated"));
    assert!(
        page.body.contains(&format!("<option value=\"{}\" selected>", sre.id)),
        "the commander is picked from the user list"
    );
    assert!(page.body.contains("id=\"pm-what_happened\""), "the postmortem editor is on by default");

    let preview = browser
        .post(
            &format!("{here}/postmortem"),
            &[("csrf", &csrf), ("what_happened", "- <b>bad</b> deploy"), ("preview", "1")],
        )
        .await;
    assert_eq!(preview.status, 200);
    assert!(preview.body.contains("<li>&lt;b&gt;bad&lt;/b&gt; deploy</li>"), "a safe preview");

    let live = reqwest::Client::new()
        .get(format!("{}{here}/live?seen=0", platform.ui))
        .header("cookie", format!("polystatus_session={}", browser_session(&browser).await))
        .send()
        .await
        .expect("sent");
    assert_eq!(live.headers()["content-type"], "text/event-stream");
    let mut live = live;
    let first = tokio::time::timeout(std::time::Duration::from_secs(5), live.chunk()).await.expect("in time");
    let first = String::from_utf8_lossy(&first.expect("chunk").expect("bytes")).to_string();
    assert!(first.starts_with("event: entry\ndata: <li class=\"entry"), "{first}");

    // The public page, anonymous, shows the incident and the announcement (comms' projection).
    let public = Browser::new(&platform.ui);
    let mut status = public.get("/status").await;
    for _ in 0..50 {
        if status.body.contains("We are looking into checkout errors") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        status = public.get("/status").await;
    }
    assert!(status.body.contains("Checkout"), "{}", status.body);
    assert!(status.body.contains("We are looking into checkout errors"));
    assert!(status.body.contains("Partial outage"));
    let public_incident = public.get(&format!("/status/incidents/{id}")).await;
    assert_eq!(public_incident.status, 200);
    assert!(public_incident.body.contains("<strong>investigating</strong> — We are looking into checkout errors"));
    assert_eq!(public.get("/status/incidents/INC-000000").await.status, 404);
    let csrf = status.csrf();
    let subscribed = public.post("/status/subscribe", &[("csrf", &csrf), ("email", "reader@example.com")]).await;
    assert!(subscribed.location.as_deref().is_some_and(|l| l.contains("notice=Check")), "{:?}", subscribed.location);
    let rss = public.get("/history.rss").await;
    assert_eq!(rss.status, 200);
    assert!(rss.body.contains("<rss"));
}

/// The session cookie's value, to open the event stream with another client.
async fn browser_session(browser: &Browser) -> String {
    browser.session_cookie()
}

#[tokio::test]
async fn the_public_page_says_when_comms_is_down_and_the_rest_keeps_working() {
    let platform = start(true).await;
    let public = Browser::new(&platform.ui);
    let status = public.get("/status").await;
    assert_eq!(status.status, 200);
    assert!(status.body.contains("Status unavailable right now"));
    assert!(status.body.contains("The communications service is unavailable right now"));
    let browser = Browser::new(&platform.ui);
    let incidents = browser.sign_in(users::testing::ADMIN_EMAIL, users::testing::ADMIN_PASSWORD).await;
    assert!(incidents.body.contains("<h1>Incidents</h1>"), "incidents still work");
    let comms = browser.get("/comms").await;
    assert!(comms.body.contains("The communications service is unavailable right now"));
}

#[tokio::test]
async fn feature_flags_gate_the_graph_and_the_postmortem_editor_and_admin_is_for_admins() {
    let platform = start(false).await;
    let admin = Browser::new(&platform.ui);
    admin.sign_in(users::testing::ADMIN_EMAIL, users::testing::ADMIN_PASSWORD).await;
    let catalogue = admin.get("/providers").await;
    let csrf = catalogue.csrf();
    let added = admin.post("/providers", &[("csrf", &csrf), ("name", "github")]).await;
    assert!(added.location.as_deref().is_some_and(|l| l.contains("Watching+GitHub")), "{:?}", added.location);
    let providers = admin.get("/providers").await;
    assert!(providers.body.contains("src=\"/providers/graph.svg\""), "the graph is on by default");
    let svg = admin.get("/providers/graph.svg").await;
    assert_eq!(svg.headers.get("content-type").and_then(|v| v.to_str().ok()), Some("image/svg+xml"));
    assert!(svg.body.contains("GitHub"));

    // The admin turns both features off for everyone but themselves.
    let flags_page = admin.get("/admin/flags").await;
    let csrf = flags_page.csrf();
    for id in ["ui-cause-graph", "ui-postmortem-editor"] {
        let definition = json!({"id": id, "on": true, "fallthrough": {"variation": "off"},
                                "rules": [{"if": {"attr": "role", "op": "eq", "value": "admin"}, "variation": "on"}]});
        let saved = admin
            .post("/admin/flags", &[("csrf", &csrf), ("action", "save"), ("definition", &definition.to_string())])
            .await;
        assert!(saved.location.as_deref().is_some_and(|l| l.contains("notice=")), "{:?}", saved.location);
    }
    let sre = platform.users.user("sre").await;
    let browser = Browser::new(&platform.ui);
    browser.sign_in(&sre.email, users::testing::PASSWORD).await;
    let providers = browser.get("/providers").await;
    assert!(!providers.body.contains("graph.svg"), "the graph is gated for the sre");
    assert_eq!(browser.get("/providers/graph.svg").await.status, 404);
    assert!(admin.get("/providers").await.body.contains("graph.svg"), "but not for the admin");
    let list = browser.get("/incidents").await;
    let declared = browser.post("/incidents", &[("csrf", &list.csrf()), ("title", "Gated"), ("sev", "3")]).await;
    let page = browser.follow(&declared).await;
    assert!(!page.body.contains("id=\"pm-what_happened\""), "the postmortem editor is gated");

    assert_eq!(browser.get("/admin/users").await.status, 403);
    let users_page = admin.get("/admin/users").await;
    assert!(users_page.body.contains(&sre.email));
    let invalid = admin.post("/admin/flags", &[("csrf", &csrf), ("action", "save"), ("definition", "{not json")]).await;
    assert!(invalid.location.as_deref().is_some_and(|l| l.contains("error=")));
}

#[tokio::test]
async fn admins_set_up_slack_people_and_ci_sources() {
    let platform = start(false).await;
    let admin = Browser::new(&platform.ui);
    admin.sign_in(users::testing::ADMIN_EMAIL, users::testing::ADMIN_PASSWORD).await;
    let page = admin.get("/admin/integrations").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("signing secret not set"), "{}", page.body);
    let csrf = page.csrf();

    let saved = admin
        .post(
            "/admin/integrations",
            &[
                ("csrf", &csrf),
                ("action", "slack"),
                ("enabled", "on"),
                ("signing_secret", "8f742231b10e8888abcd99yyyzzz85a5"),
                ("bot_token", "xoxb-ui-test"),
                ("channels", "C0INCIDENTS, C0OPS"),
            ],
        )
        .await;
    assert!(saved.location.as_deref().is_some_and(|l| l.contains("notice=")), "{:?}", saved.location);
    let page = admin.get("/admin/integrations").await;
    assert!(page.body.contains("Taking commands") && page.body.contains("bot token set"), "{}", page.body);
    assert!(page.body.contains("C0INCIDENTS, C0OPS"));
    assert!(!page.body.contains("8f742231b10e"), "secrets are never shown back");
    let refused = admin
        .post(
            "/admin/integrations",
            &[("csrf", &csrf), ("action", "slack"), ("enabled", "on"), ("channels", "#general")],
        )
        .await;
    assert!(
        refused.location.as_deref().is_some_and(|l| l.contains("error=") && l.contains("channels")),
        "{:?}",
        refused.location
    );

    let linked = admin
        .post(
            "/admin/integrations",
            &[("csrf", &csrf), ("action", "link"), ("slack_user", "U024BE7LH"), ("email", users::testing::ADMIN_EMAIL)],
        )
        .await;
    assert!(linked.location.as_deref().is_some_and(|l| l.contains("notice=")), "{:?}", linked.location);
    let ghost = admin
        .post(
            "/admin/integrations",
            &[("csrf", &csrf), ("action", "link"), ("slack_user", "U0GHOST"), ("email", "ghost@example.com")],
        )
        .await;
    assert!(ghost.location.as_deref().is_some_and(|l| l.contains("error=")), "{:?}", ghost.location);

    // A new source without a secret: the generated one is shown on this page only.
    let created = admin
        .post(
            "/admin/integrations",
            &[
                ("csrf", &csrf),
                ("action", "source"),
                ("name", "shop"),
                ("kind", "github"),
                ("branches", "main"),
                ("sev", "2"),
                ("slack_channel", "C0OPS"),
            ],
        )
        .await;
    assert!(created.body.contains("Shared secret (shown once)"), "{}", created.body);
    let page = admin.get("/admin/integrations").await;
    assert!(
        page.body.contains("/api/v1/ci/hooks/shop") && page.body.contains("SEV2") && page.body.contains("U024BE7LH")
    );
    assert!(!page.body.contains("Shared secret (shown once)"));
    let removed =
        admin.post("/admin/integrations", &[("csrf", &csrf), ("action", "source-delete"), ("name", "shop")]).await;
    assert!(removed.location.as_deref().is_some_and(|l| l.contains("notice=")), "{:?}", removed.location);
    assert!(!admin.get("/admin/integrations").await.body.contains("/api/v1/ci/hooks/shop"));

    let sre = platform.users.user("sre").await;
    let browser = Browser::new(&platform.ui);
    browser.sign_in(&sre.email, users::testing::PASSWORD).await;
    assert_eq!(browser.get("/admin/integrations").await.status, 403);
}
