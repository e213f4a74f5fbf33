//! Postmortem drafts, publication, Markdown, action items.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{fields, problem, spawn_app};

#[tokio::test]
async fn a_draft_is_edited_then_published_once_resolved_and_rendered_as_markdown() {
    let app = spawn_app().await;
    let id = app.declare(&json!({"title": "Checkout | down", "sev": 1, "services": ["checkout"]})).await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let path = format!("/api/v1/incidents/{id}/postmortem");
    let blank = app.get(&path, &app.viewer.token).await;
    assert_eq!(blank.status(), 200, "every incident has a postmortem, blank until written");
    let blank: Value = blank.json().await.expect("json");
    assert_eq!((blank["what_happened"].as_str(), &blank["updated_at"]), (Some(""), &Value::Null));
    let nothing = app.post(&format!("{path}/publish"), &app.sre.token, &json!({})).await;
    assert_eq!(nothing.status(), 409, "nothing to publish yet: the incident is there, its state forbids it");
    let draft = json!({"what_happened": "checkout failed", "root_cause": "expired cert", "action_items": ["automate renewal"], "impact": "20 min of failed payments", "lessons_learned": "watch expiry"});
    assert_eq!(app.post(&path, &app.sre.token, &draft).await.status(), 200);
    let edited = json!({"what_happened": "checkout failed for 20 minutes", "root_cause": "expired cert", "action_items": ["automate renewal", "alert 14 days before expiry"]});
    let pm: Value = app.post(&path, &app.sre.token, &edited).await.json().await.expect("json");
    assert_eq!(pm["action_items"].as_array().map(Vec::len), Some(2), "existing items are kept, new ones added");
    assert_eq!(pm["impact"], "", "an edit replaces every section");

    let early = app.post(&format!("{path}/publish"), &app.sre.token, &json!({})).await;
    assert_eq!(early.status(), 409);
    assert!(problem(early).await["detail"].as_str().is_some_and(|d| d.contains("resolved")));
    app.status(&id, "resolved").await;
    let published = app.post(&format!("{path}/publish"), &app.sre.token, &json!({})).await;
    assert_eq!(published.status(), 200);
    assert!(published.json::<Value>().await.expect("json")["published_at"].is_i64());
    let incident: Value =
        app.get(&format!("/api/v1/incidents/{id}"), &app.viewer.token).await.json().await.expect("json");
    assert_eq!(incident["postmortem"], "published");

    let md = app.get(&format!("/api/v1/incidents/{id}/postmortem.md"), &app.viewer.token).await;
    assert!(md.headers()["content-type"].to_str().expect("ascii").starts_with("text/markdown"));
    let md = md.text().await.expect("text");
    assert!(md.starts_with(&format!("# Postmortem: {id} — Checkout \\| down")), "{md}");
    for expected in [
        "- **Status:** Published",
        "## What happened\n\ncheckout failed for 20 minutes",
        "## Root cause",
        "- [ ] automate renewal (AI-1)",
        "## Timeline",
        "| status_change |",
        "postmortem published",
    ] {
        assert!(md.contains(expected), "missing {expected:?} in\n{md}");
    }
}

#[tokio::test]
async fn action_items_are_tracked_with_owners_due_dates_and_done() {
    let app = spawn_app().await;
    let id = app.declare_simple("db", 2).await;
    let base = format!("/api/v1/incidents/{id}/action-items");
    let created = app
        .post(&base, &app.sre.token, &json!({"title": "add lag alert", "owner": app.sre.id, "due_date": "2026-12-31"}))
        .await;
    assert_eq!(created.status(), 201);
    let item: Value = created.json().await.expect("json");
    assert_eq!((item["id"].as_str(), item["done"].as_bool()), (Some("AI-1"), Some(false)));
    let bad = app.post(&base, &app.sre.token, &json!({"title": "", "owner": "ghost", "due_date": "2026-02-30"})).await;
    assert_eq!(fields(&problem(bad).await), ["due_date", "title"]);
    let nobody = app.post(&base, &app.sre.token, &json!({"title": "t", "owner": "ghost"})).await;
    assert_eq!(nobody.status(), 422);
    assert_eq!(fields(&problem(nobody).await), ["owner"]);

    let item_path = format!("{base}/AI-1");
    let done =
        app.call(Method::PATCH, &item_path, Some(&app.sre.token), Some(&json!({"done": true, "owner": ""}))).await;
    assert_eq!(done.status(), 200);
    let done: Value = done.json().await.expect("json");
    assert_eq!((done["done"].as_bool(), &done["owner"]), (Some(true), &Value::Null));
    let list: Vec<Value> = app.get(&base, &app.viewer.token).await.json().await.expect("json");
    assert_eq!(list.len(), 1);
    assert_eq!(
        app.call(Method::PATCH, &format!("{base}/AI-9"), Some(&app.sre.token), Some(&json!({"done": true})))
            .await
            .status(),
        404
    );
    assert_eq!(app.call(Method::DELETE, &item_path, Some(&app.sre.token), None).await.status(), 204);
    assert_eq!(app.call(Method::DELETE, &item_path, Some(&app.sre.token), None).await.status(), 404);
    let kinds: Vec<String> =
        app.timeline(&id).await.iter().map(|e| e["message"].as_str().unwrap_or_default().to_string()).collect();
    assert!(kinds.iter().any(|m| m == "action item AI-1 done"), "{kinds:?}");
}

#[tokio::test]
async fn an_incident_is_read_with_its_timeline_and_postmortem_in_one_call() {
    let app = spawn_app().await;
    let id = app.declare_simple("db", 2).await;
    let path = format!("/api/v1/incidents/{id}");
    let plain: Value = app.get(&path, &app.viewer.token).await.json().await.expect("json");
    assert_eq!(plain["postmortem"], "none");
    assert!(plain.get("timeline").is_none(), "the timeline only comes when asked for");

    let both: Value =
        app.get(&format!("{path}?expand=timeline,postmortem"), &app.viewer.token).await.json().await.expect("json");
    assert_eq!(both["timeline"][0]["type"], "created", "{both}");
    assert!(both["postmortem"].is_null(), "expanded, no postmortem yet is null");

    let draft = json!({"what_happened": "disk full", "root_cause": "logs", "action_items": ["rotate logs"]});
    assert_eq!(app.post(&format!("{path}/postmortem"), &app.sre.token, &draft).await.status(), 200);
    let expanded: Value =
        app.get(&format!("{path}?expand=postmortem"), &app.viewer.token).await.json().await.expect("json");
    assert_eq!(expanded["postmortem"]["root_cause"], "logs");
    assert!(expanded.get("timeline").is_none());
    let timeline: Value =
        app.get(&format!("{path}?expand=timeline"), &app.viewer.token).await.json().await.expect("json");
    assert_eq!(timeline["postmortem"], "draft");
    assert!(timeline["timeline"].as_array().is_some_and(|t| t.len() >= 2), "{timeline}");

    for odd in ["comments", "timeline,,postmortem", " timeline"] {
        let refused = app.get(&format!("{path}?expand={odd}"), &app.viewer.token).await;
        assert_eq!(refused.status(), 400, "{odd}");
        assert_eq!(fields(&problem(refused).await), ["expand"]);
    }
    assert_eq!(app.get(&format!("{path}?expand="), &app.viewer.token).await.status(), 200, "empty expands nothing");
}
