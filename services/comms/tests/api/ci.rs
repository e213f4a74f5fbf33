//! CI/CD webhooks end to end: GitHub, GitLab and generic pipelines raising, deduplicating and
//! resolving incidents at the real incidents service, and deploys announced in Slack (a mock).

use std::time::Duration;

use comms::chatops::signing::github_signature;
use reqwest::Method;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{TestApp, fields, problem, spawn_app_custom};

const CHANNEL: &str = "CRELEASES";

async fn ci_app() -> (TestApp, MockServer) {
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/chat.postMessage"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true, "ts": "1.1"})))
        .mount(&slack)
        .await;
    let slack_url = slack.uri();
    let app = spawn_app_custom(true, move |s| s.chatops.slack_api_url = slack_url).await;
    let body =
        json!({"enabled": true, "signing_secret": "0123456789abcdef0123", "bot_token": "xoxb-ci", "channels": []});
    let url = format!("{}/api/v1/chatops/slack", app.address);
    assert_eq!(app.call(Method::PUT, &url, Some(&app.users.admin_token), Some(&body)).await.status(), 200);
    (app, slack)
}

/// Creates source `name`; its secret (generated when `secret` is None).
async fn source(app: &TestApp, name: &str, body: Value) -> String {
    let url = format!("{}/api/v1/ci/sources/{name}", app.address);
    let resp = app.call(Method::PUT, &url, Some(&app.users.admin_token), Some(&body)).await;
    assert_eq!(resp.status(), 201, "created");
    let view: Value = resp.json().await.expect("json");
    view["secret"]
        .as_str()
        .map(str::to_string)
        .or_else(|| body["secret"].as_str().map(str::to_string))
        .expect("a secret")
}

async fn github(
    app: &TestApp,
    name: &str,
    secret: &str,
    event: &str,
    delivery: &str,
    body: &Value,
) -> reqwest::Response {
    let raw = body.to_string();
    app.client
        .post(format!("{}/api/v1/ci/hooks/{name}", app.address))
        .header("content-type", "application/json")
        .header("x-github-event", event)
        .header("x-github-delivery", delivery)
        .header("x-hub-signature-256", github_signature(secret, raw.as_bytes()))
        .body(raw)
        .send()
        .await
        .expect("sent")
}

/// A `workflow_run` delivery as GitHub sends it (trimmed to the fields that matter).
fn workflow_run(conclusion: &str, run_number: u64) -> Value {
    json!({
        "action": "completed",
        "workflow_run": {
            "id": 30_433_642 + run_number, "name": "Build and test", "path": ".github/workflows/ci.yml",
            "head_branch": "main", "head_sha": "acb5820ced9479c074f688cc328bf03f341a511d",
            "run_number": run_number, "event": "push", "status": "completed", "conclusion": conclusion,
            "html_url": format!("https://github.com/acme/shop/actions/runs/{run_number}"),
            "created_at": "2026-11-20T09:00:00Z", "run_started_at": "2026-11-20T09:00:05Z", "updated_at": "2026-11-20T09:04:17Z",
            "actor": {"login": "octocat", "type": "User"}, "triggering_actor": {"login": "octocat", "type": "User"},
        },
        "workflow": {"id": 159_038, "name": "Build and test", "path": ".github/workflows/ci.yml"},
        "repository": {"id": 1_296_269, "name": "shop", "full_name": "acme/shop", "html_url": "https://github.com/acme/shop"},
        "sender": {"login": "octocat", "type": "User"},
    })
}

fn deployment_status(state: &str) -> Value {
    json!({
        "action": "created",
        "deployment_status": {
            "id": 2_600_000, "state": state, "environment": "production",
            "target_url": "https://github.com/acme/shop/actions/runs/77", "log_url": "https://github.com/acme/shop/actions/runs/77",
            "created_at": "2026-11-20T10:06:31Z", "updated_at": "2026-11-20T10:06:31Z",
            "creator": {"login": "github-actions[bot]"},
        },
        "deployment": {
            "id": 145_988_746, "sha": "a84d88e7554fc1fa21bcbc4efae3c782a70d2b9d", "ref": "v2.14.0", "task": "deploy",
            "environment": "production", "created_at": "2026-11-20T10:04:19Z", "updated_at": "2026-11-20T10:06:31Z",
            "creator": {"login": "octocat"},
        },
        "repository": {"full_name": "acme/shop"},
        "sender": {"login": "octocat"},
    })
}

async fn open_incidents(app: &TestApp, title: &str) -> Vec<Value> {
    let url = format!("{}/api/v1/incidents?status=open", app.incidents_address);
    let all: Vec<Value> = app.call(Method::GET, &url, Some(&app.sre.token), None).await.json().await.expect("array");
    all.into_iter().filter(|i| i["title"].as_str().is_some_and(|t| t.contains(title))).collect()
}

async fn slack_posts(slack: &MockServer, n: usize) -> Vec<String> {
    let mut texts = Vec::new();
    for _ in 0..200 {
        texts = slack
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter_map(|r| serde_json::from_slice::<Value>(&r.body).ok())
            .filter_map(|b| b["text"].as_str().map(str::to_string))
            .collect();
        if texts.len() >= n {
            return texts;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("Slack got {} messages, not {n}: {texts:?}", texts.len());
}

#[tokio::test]
async fn github_failures_raise_one_incident_per_pipeline_and_a_success_resolves_it() {
    let (app, slack) = ci_app().await;
    let secret = source(
        &app,
        "shop",
        json!({"kind": "github", "branches": ["main"], "sev": 2, "slack_channel": CHANNEL, "secret": "It's a Secret to Everybody"}),
    )
    .await;

    let failed = github(&app, "shop", &secret, "workflow_run", "d-1", &workflow_run("failure", 1)).await;
    assert_eq!(failed.status(), 200);
    let handled: Value = failed.json().await.expect("json");
    assert_eq!(handled["actions"], json!(["incident_raised", "slack_notified"]), "{handled}");
    let raised = open_incidents(&app, "Build and test failing on main").await;
    assert_eq!(raised.len(), 1);
    assert_eq!(raised[0]["sev"], 2);

    // Failing again adds to the same incident; a redelivery does nothing; a cancel is ignored.
    github(&app, "shop", &secret, "workflow_run", "d-2", &workflow_run("failure", 2)).await;
    let again: Value = github(&app, "shop", &secret, "workflow_run", "d-2", &workflow_run("failure", 2))
        .await
        .json()
        .await
        .expect("json");
    assert!(again["ignored"].as_str().unwrap_or("").contains("handled already"), "{again}");
    let cancelled: Value = github(&app, "shop", &secret, "workflow_run", "d-3", &workflow_run("cancelled", 3))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        (cancelled["outcome"].as_str(), cancelled["actions"].as_array().map(Vec::len)),
        (Some("cancelled"), Some(0))
    );
    assert_eq!(open_incidents(&app, "Build and test failing on main").await.len(), 1, "deduplicated");

    let fixed: Value = github(&app, "shop", &secret, "workflow_run", "d-4", &workflow_run("success", 4))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(fixed["actions"], json!(["incident_resolved", "slack_notified"]), "{fixed}");
    assert!(open_incidents(&app, "Build and test failing on main").await.is_empty(), "resolved");
    let texts = slack_posts(&slack, 3).await;
    assert!(texts[0].contains("*Build and test* failed on `main`") && texts[0].contains("octocat"), "{texts:?}");
    assert!(texts.iter().any(|t| t.contains("recovered")), "{texts:?}");

    // Another branch is not watched; an unsigned or re-signed body is refused.
    let mut feature = workflow_run("failure", 5);
    feature["workflow_run"]["head_branch"] = json!("feature/x");
    let ignored: Value =
        github(&app, "shop", &secret, "workflow_run", "d-5", &feature).await.json().await.expect("json");
    assert!(ignored["ignored"].as_str().unwrap_or("").contains("feature/x"), "{ignored}");
    let forged = github(&app, "shop", "not the secret", "workflow_run", "d-6", &workflow_run("failure", 6)).await;
    assert_eq!(forged.status(), 401);
    let pinged: Value = github(&app, "shop", &secret, "ping", "d-7", &json!({"zen": "Keep it logically awesome."}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(pinged["outcome"], "ignored");
    let broken =
        github(&app, "shop", &secret, "workflow_run", "d-8", &json!({"action": "completed", "workflow_run": {}})).await;
    assert_eq!(fields(&problem(broken).await), ["repository.full_name", "workflow_run.name"]);
    assert_eq!(github(&app, "nope", &secret, "workflow_run", "d-9", &workflow_run("failure", 9)).await.status(), 404);
}

#[tokio::test]
async fn github_deploys_are_announced_and_a_failed_one_raises_an_incident() {
    let (app, slack) = ci_app().await;
    let secret = source(&app, "shop-deploys", json!({"kind": "github", "slack_channel": CHANNEL})).await;
    let ok: Value = github(&app, "shop-deploys", &secret, "deployment_status", "p-1", &deployment_status("success"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(ok["actions"], json!(["deploy_announced"]), "{ok}");
    let texts = slack_posts(&slack, 1).await;
    assert_eq!(
        texts[0],
        ":rocket: *Deploy went out*: acme/shop v2.14.0 to *production* by octocat in 2m 12s · <https://github.com/acme/shop/actions/runs/77|details>"
    );
    let failed: Value =
        github(&app, "shop-deploys", &secret, "deployment_status", "p-2", &deployment_status("failure"))
            .await
            .json()
            .await
            .expect("json");
    assert_eq!(failed["actions"], json!(["incident_raised", "deploy_announced"]), "{failed}");
    assert_eq!(open_incidents(&app, "Deploy to production failed").await.len(), 1);
    let texts = slack_posts(&slack, 2).await;
    assert!(texts[1].starts_with(":boom: *Deploy failed*"), "{texts:?}");
    let pending: Value =
        github(&app, "shop-deploys", &secret, "deployment_status", "p-3", &deployment_status("in_progress"))
            .await
            .json()
            .await
            .expect("json");
    assert_eq!(pending["outcome"], "running");
    let recovered: Value =
        github(&app, "shop-deploys", &secret, "deployment_status", "p-4", &deployment_status("success"))
            .await
            .json()
            .await
            .expect("json");
    assert_eq!(recovered["actions"], json!(["incident_resolved", "deploy_announced"]), "{recovered}");
    assert!(open_incidents(&app, "Deploy to production failed").await.is_empty());
}

fn gitlab_pipeline(status: &str, id: u64) -> Value {
    json!({
        "object_kind": "pipeline",
        "object_attributes": {
            "id": id, "iid": 3, "name": null, "ref": "main", "tag": false,
            "sha": "bcbb5ec396a2c0f828686f14fac9b80b780504f2", "status": status, "detailed_status": status,
            "stages": ["build", "test", "deploy"], "created_at": "2026-11-20 15:23:28 UTC",
            "finished_at": "2026-11-20 15:26:29 UTC", "duration": 181, "queued_duration": 4,
            "url": format!("https://gitlab.example.com/acme/billing/-/pipelines/{id}"),
        },
        "user": {"id": 1, "name": "Administrator", "username": "root", "email": "admin@example.com"},
        "project": {"id": 1, "name": "Billing", "path_with_namespace": "acme/billing", "web_url": "https://gitlab.example.com/acme/billing", "default_branch": "main"},
        "commit": {"id": "bcbb5ec396a2c0f828686f14fac9b80b780504f2", "message": "test\n", "author": {"name": "User", "email": "user@gitlab.com"}},
        "builds": [],
    })
}

async fn gitlab(app: &TestApp, token: &str, uuid: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(format!("{}/api/v1/ci/hooks/billing", app.address))
        .header("x-gitlab-event", "Pipeline Hook")
        .header("x-gitlab-token", token)
        .header("x-gitlab-event-uuid", uuid)
        .json(body)
        .send()
        .await
        .expect("sent")
}

#[tokio::test]
async fn gitlab_pipelines_and_deployments_are_taken_with_their_token() {
    let (app, slack) = ci_app().await;
    let token =
        source(&app, "billing", json!({"kind": "gitlab", "slack_channel": CHANNEL, "notify_failures": false})).await;
    assert_eq!(gitlab(&app, "wrong-token", "g-0", &gitlab_pipeline("failed", 31)).await.status(), 401);
    let failed: Value = gitlab(&app, &token, "g-1", &gitlab_pipeline("failed", 31)).await.json().await.expect("json");
    assert_eq!(failed["actions"], json!(["incident_raised"]), "{failed}");
    assert_eq!(open_incidents(&app, "acme/billing failing on main").await.len(), 1);
    let skipped: Value = gitlab(&app, &token, "g-2", &gitlab_pipeline("skipped", 32)).await.json().await.expect("json");
    assert_eq!(skipped["outcome"], "skipped");
    let running: Value = gitlab(&app, &token, "g-3", &gitlab_pipeline("running", 33)).await.json().await.expect("json");
    assert_eq!(running["outcome"], "running");
    let fixed: Value = gitlab(&app, &token, "g-4", &gitlab_pipeline("success", 34)).await.json().await.expect("json");
    assert_eq!(fixed["actions"], json!(["incident_resolved"]), "{fixed}");
    assert!(open_incidents(&app, "acme/billing failing on main").await.is_empty());

    let deployment = json!({
        "object_kind": "deployment", "status": "success", "status_changed_at": "2026-11-20 21:50:00 +0200",
        "deployment_id": 15, "deployable_id": 796, "deployable_url": "https://gitlab.example.com/acme/billing/-/jobs/796",
        "environment": "staging", "environment_tier": "staging",
        "project": {"id": 30, "name": "billing", "path_with_namespace": "acme/billing", "web_url": "https://gitlab.example.com/acme/billing"},
        "short_sha": "279484c0", "user": {"id": 1, "name": "Administrator", "username": "root"},
        "commit_title": "Add new file", "ref": "main",
    });
    let deployed: Value = gitlab(&app, &token, "g-5", &deployment).await.json().await.expect("json");
    assert_eq!(deployed["actions"], json!(["deploy_announced"]), "{deployed}");
    let texts = slack_posts(&slack, 1).await;
    assert!(texts[0].contains("acme/billing main (279484c0) to *staging* by root"), "{texts:?}");
    let unreadable = gitlab(&app, &token, "g-6", &json!({"object_kind": "pipeline", "object_attributes": {"status": "exploded", "ref": "main"}, "project": {"path_with_namespace": "acme/billing"}})).await;
    assert_eq!(fields(&problem(unreadable).await), ["object_attributes.status"]);
}

#[tokio::test]
async fn any_pipeline_reports_with_the_generic_body_and_sources_are_managed_by_admins() {
    let (app, _slack) = ci_app().await;
    let secret = source(&app, "jenkins", json!({"kind": "generic", "secret": "a-long-enough-shared-secret"})).await;
    let send = |body: Value, bearer: &str| {
        app.client.post(format!("{}/api/v1/ci/hooks/jenkins", app.address)).bearer_auth(bearer).json(&body).send()
    };
    let failed = send(json!({"pipeline": "nightly", "branch": "main", "status": "failed", "url": "https://ci.example.com/job/nightly/41"}), &secret).await.expect("sent");
    assert_eq!(failed.status(), 200);
    assert_eq!(open_incidents(&app, "nightly failing on main").await.len(), 1);
    assert_eq!(send(json!({"pipeline": "nightly", "status": "failed"}), "guess").await.expect("sent").status(), 401);
    let bad = send(json!({"status": "exploded", "duration_secs": "long"}), &secret).await.expect("sent");
    assert_eq!(fields(&problem(bad).await), ["duration_secs", "pipeline", "status"]);
    let not_json = app
        .client
        .post(format!("{}/api/v1/ci/hooks/jenkins", app.address))
        .bearer_auth(&secret)
        .body("{")
        .send()
        .await
        .expect("sent");
    assert_eq!(not_json.status(), 400);
    send(json!({"pipeline": "nightly", "branch": "main", "status": "success"}), &secret).await.expect("sent");
    assert!(open_incidents(&app, "nightly failing on main").await.is_empty());

    let sources = format!("{}/api/v1/ci/sources", app.address);
    assert_eq!(app.call(Method::GET, &sources, Some(&app.sre.token), None).await.status(), 403);
    let listed: Vec<Value> =
        app.call(Method::GET, &sources, Some(&app.users.admin_token), None).await.json().await.expect("array");
    assert_eq!(listed.len(), 1);
    assert!(listed[0].get("secret").is_none(), "secrets are not listed");
    assert_eq!(listed[0]["webhook_path"], "/api/v1/ci/hooks/jenkins");
    let bad = json!({"kind": "travis", "secret": "short", "sev": 9, "slack_channel": "#ops", "branches": [""]});
    let resp = app.call(Method::PUT, &format!("{sources}/bad name"), Some(&app.users.admin_token), Some(&bad)).await;
    assert_eq!(fields(&problem(resp).await), ["branches[0]", "kind", "name", "secret", "sev", "slack_channel"]);
    // As documented: a kind in lower case, a secret and a channel with nothing around them, a
    // name with nothing around it, branches of one line each.
    let padded = json!({"kind": "GitHub", "secret": " a-long-enough-shared-secret", "slack_channel": "CRELEASES ", "branches": ["main\u{0}"]});
    let resp =
        app.call(Method::PUT, &format!("{sources}/%20jenkins"), Some(&app.users.admin_token), Some(&padded)).await;
    assert_eq!(fields(&problem(resp).await), ["branches[0]", "kind", "name", "secret", "slack_channel"]);
    let changed = app
        .call(
            Method::PUT,
            &format!("{sources}/jenkins"),
            Some(&app.users.admin_token),
            Some(&json!({"kind": "generic", "sev": 1})),
        )
        .await;
    assert_eq!(changed.status(), 200);
    let view: Value = changed.json().await.expect("json");
    assert!(view.get("secret").is_none(), "the kept secret is not shown again");
    assert_eq!(
        app.call(Method::DELETE, &format!("{sources}/jenkins"), Some(&app.users.admin_token), None).await.status(),
        204
    );
    assert_eq!(send(json!({"pipeline": "nightly", "status": "failed"}), &secret).await.expect("sent").status(), 404);
}
