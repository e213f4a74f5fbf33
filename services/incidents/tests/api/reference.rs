//! The reference contract (incidents.yaml), valid and invalid, every role.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{fields, problem, spawn_app};

#[tokio::test]
async fn create_returns_201_with_the_reference_fields() {
    let app = spawn_app().await;
    let body = json!({"title": "EU API latency", "sev": 2, "services": ["API", "db"], "summary": "p95 > 2s"});
    let resp = app.post("/api/v1/incidents", &app.sre.token, &body).await;
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["etag"], "\"1\"");
    let i: Value = resp.json().await.expect("json");
    let id = i["id"].as_str().expect("id");
    assert!(
        id.len() == 10
            && id.starts_with("INC-")
            && id[4..].chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()),
        "{id}"
    );
    assert_eq!(i["title"], "EU API latency");
    assert_eq!(i["sev"], 2);
    assert_eq!(i["services"], json!(["api", "db"]));
    assert_eq!(i["summary"], "p95 > 2s");
    assert_eq!(i["status"], "open");
    assert!(i["started_at"].as_i64().expect("epoch") > 1_700_000_000);
    assert_eq!(i["commander"], Value::Null);
    assert_eq!(i["source"], "manual");
    assert_eq!(i["created_by"], app.sre.id.as_str());
}

#[tokio::test]
async fn the_csp_contract_source_field_and_a_commander_are_accepted() {
    let app = spawn_app().await;
    let i = app
        .declare(&json!({"title": "Cloudflare CDN errors", "sev": 2, "source": "csp", "commander": app.sre.id}))
        .await;
    assert_eq!(i["source"], "csp");
    assert_eq!(i["commander"], app.sre.id.as_str());
    assert!(i["acknowledged_at"].is_i64(), "assigning at creation acknowledges");
}

#[tokio::test]
async fn every_invalid_field_is_named() {
    let app = spawn_app().await;
    let resp = app.post("/api/v1/incidents", &app.sre.token, &json!({"title": "", "sev": 7, "services": ["no spaces"], "source": "email", "commander": "nobody", "started_at": -1})).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(fields(&problem(resp).await), ["services", "sev", "source", "started_at", "title"]);
    let resp = app.post("/api/v1/incidents", &app.sre.token, &json!({"sev": "high"})).await;
    let refused = problem(resp).await;
    assert_eq!(fields(&refused), ["sev", "title"]);
    assert!(!refused["detail"].as_str().unwrap_or("").contains("invalid type"), "no parser wording: {refused}");

    // Well-formed, but naming nobody, or a start that has not happened yet.
    let resp =
        app.post("/api/v1/incidents", &app.sre.token, &json!({"title": "x", "sev": 2, "commander": "nobody"})).await;
    assert_eq!(resp.status(), 422);
    assert_eq!(fields(&problem(resp).await), ["commander"]);
    let later = json!({"title": "x", "sev": 2, "started_at": 99999999999i64});
    let resp = app.post("/api/v1/incidents", &app.sre.token, &later).await;
    assert_eq!(resp.status(), 422);
    assert_eq!(fields(&problem(resp).await), ["started_at"]);
}

#[tokio::test]
async fn numbers_written_as_floats_are_integers_when_whole() {
    let app = spawn_app().await;
    let resp = app.post("/api/v1/incidents", &app.sre.token, &json!({"title": "float sev", "sev": 2.0})).await;
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.json::<Value>().await.expect("json")["sev"], 2);
    let resp = app.post("/api/v1/incidents", &app.sre.token, &json!({"title": "float sev", "sev": 2.5})).await;
    assert_eq!(resp.status(), 400);
    let refused = problem(resp).await;
    assert_eq!(refused["errors"][0]["field"], "sev");
    assert!(!refused["detail"].as_str().unwrap_or("").contains("floating point"), "{refused}");
}

#[tokio::test]
async fn a_fixed_path_beside_a_pattern_answers_405_for_other_methods() {
    let app = spawn_app().await;
    let resp = app.call(Method::PATCH, "/api/v1/incidents/stats", Some(&app.sre.token), Some(&json!({}))).await;
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()["allow"], "GET");
    let resp = app.call(Method::OPTIONS, "/api/v1/incidents/stats", Some(&app.sre.token), None).await;
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()["allow"], "GET");
    assert_eq!(app.get("/api/v1/incidents/stats", &app.viewer.token).await.status(), 200);
    for probe in ["/health", "/health/ready", "/health/live"] {
        let resp = app.call(Method::GET, probe, None, None).await;
        assert_eq!(resp.status(), 200, "{probe}");
        assert_eq!(resp.json::<Value>().await.expect("json")["status"], "ok", "{probe}");
    }
}

#[tokio::test]
async fn list_is_a_bare_array_filtered_by_status_sev_service_and_q() {
    let app = spawn_app().await;
    let a = app.declare(&json!({"title": "Checkout down", "sev": 1, "services": ["checkout"]})).await;
    let b = app
        .declare(&json!({"title": "Slow search", "sev": 3, "services": ["search"], "summary": "Elastic heap"}))
        .await;
    let c = app.declare(&json!({"title": "Checkout slow", "sev": 3, "services": ["checkout"]})).await;
    app.status(c["id"].as_str().expect("id"), "mitigated").await;
    let ids = |v: Vec<Value>| v.iter().map(|i| i["id"].as_str().unwrap_or_default().to_string()).collect::<Vec<_>>();
    let list = |q: &'static str| {
        let app = &app;
        async move {
            app.get(&format!("/api/v1/incidents{q}"), &app.viewer.token)
                .await
                .json::<Vec<Value>>()
                .await
                .expect("array")
        }
    };
    let (a, b, c) = (
        a["id"].as_str().unwrap_or_default(),
        b["id"].as_str().unwrap_or_default(),
        c["id"].as_str().unwrap_or_default(),
    );
    assert_eq!(ids(list("").await), [c, b, a], "newest first");
    assert_eq!(ids(list("?status=open").await), [b, a]);
    assert_eq!(ids(list("?sev=3").await), [c, b]);
    assert_eq!(ids(list("?service=CHECKOUT&status=mitigated").await), [c]);
    assert_eq!(ids(list("?q=elastic").await), [b], "q searches the summary too");
    assert_eq!(ids(list("?q=checkout&sev=1").await), [a]);
    let bad = app.get("/api/v1/incidents?status=closed&sev=9&limit=0&cursor=x", &app.viewer.token).await;
    assert_eq!(fields(&problem(bad).await), ["cursor", "limit", "sev", "status"]);
}

#[tokio::test]
async fn paging_follows_the_link_header() {
    let app = spawn_app().await;
    for n in 0..5 {
        app.declare_simple(&format!("incident {n}"), 4).await;
    }
    let mut seen = Vec::new();
    let mut next = Some("/api/v1/incidents?sev=4&limit=2".to_string());
    while let Some(path) = next.take() {
        let resp = app.get(&path, &app.viewer.token).await;
        next = resp
            .headers()
            .get("link")
            .and_then(|l| l.to_str().ok())
            .map(|l| l.trim_start_matches('<').split('>').next().unwrap_or_default().to_string());
        let page: Vec<Value> = resp.json().await.expect("array");
        assert!(page.len() <= 2);
        seen.extend(page.into_iter().map(|i| i["title"].as_str().unwrap_or_default().to_string()));
    }
    assert_eq!(seen, ["incident 4", "incident 3", "incident 2", "incident 1", "incident 0"]);
}

#[tokio::test]
async fn get_unknown_or_malformed_ids_are_404() {
    let app = spawn_app().await;
    for path in ["/api/v1/incidents/INC-000000", "/api/v1/incidents/nonsense", "/api/v1/incidents/INC-000000/timeline"]
    {
        let resp = app.get(path, &app.viewer.token).await;
        assert_eq!(resp.status(), 404, "{path}");
        problem(resp).await;
    }
    let resp = app.post("/api/v1/incidents/INC-000000/status", &app.sre.token, &json!({"status": "resolved"})).await;
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn assign_checks_the_user_exists() {
    let app = spawn_app().await;
    let id = app.declare_simple("db", 2).await;
    let path = format!("/api/v1/incidents/{id}/assign");
    let resp = app.post(&path, &app.sre.token, &json!({"commander": app.viewer.id})).await;
    assert_eq!(resp.status(), 200);
    let i: Value = resp.json().await.expect("json");
    assert_eq!(i["commander"], app.viewer.id.as_str());
    let unknown = app.post(&path, &app.sre.token, &json!({"commander": "f6c74e13-8b4a-4b63-bf58-1c59a0c21840"})).await;
    assert_eq!(unknown.status(), 400, "the reference contract's answer for a user that does not exist");
    assert_eq!(fields(&problem(unknown).await), ["commander"]);
    for body in [json!({}), json!({"comander": app.sre.id})] {
        let refused = app.post(&path, &app.sre.token, &body).await;
        assert_eq!(refused.status(), 400, "{body}: leaving commander out does not unassign");
        assert_eq!(fields(&problem(refused).await), ["commander"]);
    }
    let still: Value = app.get(&format!("/api/v1/incidents/{id}"), &app.sre.token).await.json().await.expect("json");
    assert_eq!(still["commander"], app.viewer.id.as_str(), "a refused body changed nothing");
    let unassigned: Value =
        app.post(&path, &app.sre.token, &json!({"commander": null})).await.json().await.expect("json");
    assert!(unassigned["commander"].is_null(), "an explicit null unassigns");
}

#[tokio::test]
async fn status_follows_the_lifecycle_and_says_what_is_allowed() {
    let app = spawn_app().await;
    let id = app.declare_simple("db", 2).await;
    let resp = app.status(&id, "mitigated").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.expect("json")["status"], "mitigated");
    let resolved: Value = app.status(&id, "resolved").await.json().await.expect("json");
    assert!(resolved["resolved_at"].is_i64() && resolved["mitigated_at"].is_i64());
    let refused = app.status(&id, "mitigated").await;
    assert_eq!(refused.status(), 409);
    let body = problem(refused).await;
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("from resolved it can go to: open")), "{body}");
    let no_reason = app.status(&id, "open").await;
    assert_eq!(no_reason.status(), 422, "reopening needs a reason: a rule of the incident's state");
    assert_eq!(fields(&problem(no_reason).await), ["reason"]);
    let reopened = app
        .post(
            &format!("/api/v1/incidents/{id}/status"),
            &app.sre.token,
            &json!({"status": "open", "reason": "errors are back"}),
        )
        .await;
    assert_eq!(reopened.status(), 200);
    assert_eq!(reopened.json::<Value>().await.expect("json")["resolved_at"], Value::Null);
    let bad = app.status(&id, "closed").await;
    assert_eq!(fields(&problem(bad).await), ["status"]);
}

#[tokio::test]
async fn timeline_posts_return_200_and_bad_types_are_named() {
    let app = spawn_app().await;
    let id = app.declare_simple("db", 2).await;
    let path = format!("/api/v1/incidents/{id}/timeline");
    let resp = app.post(&path, &app.sre.token, &json!({"type": "update", "message": "rolled back"})).await;
    assert_eq!(resp.status(), 200);
    let entry: Value = resp.json().await.expect("json");
    assert_eq!((entry["type"].as_str(), entry["message"].as_str()), (Some("update"), Some("rolled back")));
    assert_eq!(entry["actor"]["id"], app.sre.id.as_str());
    let bad = app.post(&path, &app.sre.token, &json!({"type": "gossip", "message": ""})).await;
    assert_eq!(fields(&problem(bad).await), ["message", "type"]);
}

#[tokio::test]
async fn postmortem_returns_200_and_its_action_items_become_tracked() {
    let app = spawn_app().await;
    let id = app.declare_simple("db", 2).await;
    let body = json!({"what_happened": "replica lag", "root_cause": "a long migration", "action_items": ["alert on lag", "review migrations"]});
    let resp = app.post(&format!("/api/v1/incidents/{id}/postmortem"), &app.sre.token, &body).await;
    assert_eq!(resp.status(), 200);
    let pm: Value = resp.json().await.expect("json");
    assert_eq!(pm["action_items"][1]["id"], "AI-2");
    assert_eq!(pm["action_items"][1]["title"], "review migrations");
    assert_eq!(pm["published_at"], Value::Null);
    let missing =
        app.post(&format!("/api/v1/incidents/{id}/postmortem"), &app.sre.token, &json!({"what_happened": "x"})).await;
    assert_eq!(fields(&problem(missing).await), ["action_items", "root_cause"]);
}

#[tokio::test]
async fn viewers_read_and_only_sres_write() {
    let app = spawn_app().await;
    let id = app.declare_simple("db", 2).await;
    let viewer = &app.viewer.token;
    assert_eq!(app.get("/api/v1/incidents", viewer).await.status(), 200);
    assert_eq!(app.get(&format!("/api/v1/incidents/{id}"), viewer).await.status(), 200);
    let writes = [
        ("/api/v1/incidents".to_string(), json!({"title": "x", "sev": 1})),
        (format!("/api/v1/incidents/{id}/assign"), json!({"commander": null})),
        (format!("/api/v1/incidents/{id}/status"), json!({"status": "resolved"})),
        (format!("/api/v1/incidents/{id}/timeline"), json!({"type": "note", "message": "x"})),
        (
            format!("/api/v1/incidents/{id}/postmortem"),
            json!({"what_happened": "", "root_cause": "", "action_items": []}),
        ),
        ("/api/v1/alerts".to_string(), json!({"event_action": "resolve", "dedup_key": "k"})),
        (format!("/api/v1/incidents/{id}/acknowledge"), json!({})),
        (format!("/api/v1/incidents/{id}/provider-events"), json!({"provider": "p", "event_id": "e"})),
        (format!("/api/v1/incidents/{id}/action-items"), json!({"title": "t"})),
        (format!("/api/v1/incidents/{id}/postmortem/publish"), json!({})),
    ];
    for (path, body) in &writes {
        let resp = app.post(path, viewer, body).await;
        assert_eq!(resp.status(), 403, "{path}");
        let anonymous = app.call(Method::POST, path, None, Some(body)).await;
        assert_eq!(anonymous.status(), 401, "{path}");
    }
    let patch =
        app.call(Method::PATCH, &format!("/api/v1/incidents/{id}"), Some(viewer), Some(&json!({"sev": 1}))).await;
    assert_eq!(patch.status(), 403);
    assert_eq!(app.call(Method::GET, "/api/v1/incidents", None, None).await.status(), 401);
}

#[tokio::test]
async fn a_commander_cannot_be_checked_while_the_users_service_is_down_so_the_answer_is_503() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.users.base_url = format!("http://127.0.0.1:{}", platform::testing::free_port())
    })
    .await;
    let id = app.declare_simple("db", 2).await;
    let resp =
        app.post(&format!("/api/v1/incidents/{id}/assign"), &app.sre.token, &json!({"commander": app.sre.id})).await;
    assert_eq!(resp.status(), 503);
    assert!(resp.headers().contains_key("retry-after"));
    let unchanged: Value =
        app.get(&format!("/api/v1/incidents/{id}"), &app.sre.token).await.json().await.expect("json");
    assert_eq!(unchanged["commander"], Value::Null, "nothing was written");
}

#[tokio::test]
async fn filters_that_leave_nothing_answer_an_empty_page() {
    let app = spawn_app().await;
    let sre = app.sre.id.clone();
    app.declare(&json!({"title": "Checkout down", "sev": 1, "services": ["checkout"], "commander": sre})).await;
    app.declare(&json!({"title": "Search slow", "sev": 3, "services": ["search"], "commander": sre})).await;
    app.declare(&json!({"title": "Search down", "sev": 3, "services": ["search"], "commander": sre})).await;
    // The sev 1 index is the smallest and walked first; service leaves nothing of it, and the
    // commander index must not then be asked about no incidents at all.
    let resp = app.get(&format!("/api/v1/incidents?sev=1&service=search&commander={sre}"), &app.viewer.token).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Vec<Value>>().await.expect("json").len(), 0);
}
