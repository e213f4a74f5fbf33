//! The reference routes, the projection fed by events, and the public reads.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{fields, problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn incidents_reach_the_public_status_through_events_and_announcements_show() {
    let app = spawn_app().await;
    let id = app.declare("EU API latency", 2, &["api"]).await;
    let status = app.eventually("the declared incident", |s| s.iter().any(|i| i["id"] == id.as_str())).await;
    assert_eq!(status[0]["title"], "EU API latency");
    assert_eq!(status[0]["sev"], 2);
    assert_eq!(status[0]["status"], "open");
    assert_eq!(status[0]["last_public"], Value::Null);

    let resp = app.announce(&id, "identified", "A bad deploy; rolling back").await;
    assert_eq!(resp.status(), 201);
    let announced: Value = resp.json().await.expect("json");
    assert!(announced["ts"].as_i64().is_some_and(|t| t > 1_700_000_000));
    assert_eq!(
        (announced["message"].as_str(), announced["state"].as_str()),
        (Some("A bad deploy; rolling back"), Some("identified"))
    );
    let status = app.public_status().await;
    assert_eq!(status[0]["last_public"]["state"], "identified", "the writer reads its write");
    assert_eq!(status[0]["last_public"]["message"], "A bad deploy; rolling back");

    app.set_status(&id, "resolved").await;
    app.eventually("the resolution", |s| s.iter().any(|i| i["id"] == id.as_str() && i["status"] == "resolved")).await;
    let incident: Value = app.get(&format!("/api/v1/public/incidents/{id}")).await.json().await.expect("json");
    assert_eq!(incident["announcements"].as_array().map(Vec::len), Some(1));
    assert_eq!(app.get("/api/v1/public/incidents/INC-000000").await.status(), 404);
}

#[tokio::test]
async fn announcing_on_an_incident_comms_has_not_seen_asks_the_incidents_service_once() {
    let app = spawn_app_with(false).await;
    let id = app.declare("Not relayed", 3, &[]).await;
    let resp = app.announce(&id, "investigating", "Looking into it").await;
    assert_eq!(resp.status(), 201);
    let status = app.public_status().await;
    assert_eq!(status.len(), 1);
    assert_eq!(status[0]["title"], "Not relayed");
    let unknown = app.announce("INC-ABCDEF", "investigating", "x").await;
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn announce_names_every_invalid_field_and_needs_the_sre_role() {
    let app = spawn_app().await;
    let resp = app
        .post(
            "/api/v1/public/announce",
            &app.sre.token,
            &json!({"incident_id": "42", "message": " ", "state": "panicking"}),
        )
        .await;
    assert_eq!(fields(&problem(resp).await), ["incident_id", "message", "state"]);
    let resp = app.post("/api/v1/public/announce", &app.sre.token, &json!({})).await;
    assert_eq!(fields(&problem(resp).await), ["incident_id", "message", "state"]);
    // As documented: an id with nothing around it, a message without control characters other
    // than tab and line breaks, a state in lower case.
    let resp = app
        .post(
            "/api/v1/public/announce",
            &app.sre.token,
            &json!({"incident_id": " INC-ABCDEF", "message": "Ding\u{7}", "state": "Resolved"}),
        )
        .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(fields(&problem(resp).await), ["incident_id", "message", "state"]);
    let body = json!({"incident_id": "INC-ABCDEF", "message": "x", "state": "resolved"});
    assert_eq!(app.post("/api/v1/public/announce", &app.viewer.token, &body).await.status(), 403);
    let anonymous = app.call(Method::POST, &format!("{}/api/v1/public/announce", app.address), None, Some(&body)).await;
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn events_are_taken_in_once_and_bad_ones_are_named() {
    let app = spawn_app_with(false).await;
    let token = app.users.machine_token("sre").await;
    let incident = json!({"id": "INC-00AB12", "title": "From an event", "sev": 1, "status": "open", "services": ["db"], "started_at": 1_800_000_000, "updated_at": 1_800_000_000, "resolved_at": null, "version": 1});
    let event = json!({"specversion": "1.0", "id": "evt-1", "source": "/polystatus/incidents", "type": "incident.created", "time": "2027-01-15T08:00:00Z", "subject": "INC-00AB12", "datacontenttype": "application/json", "data": {"incident": incident}});
    let first = app.post("/api/v1/events", &token, &event).await;
    assert_eq!(first.status(), 202);
    assert_eq!(first.json::<Value>().await.expect("json")["status"], "accepted");
    let again = app.post("/api/v1/events", &token, &event).await;
    assert_eq!(again.json::<Value>().await.expect("json")["status"], "duplicate");
    assert_eq!(app.public_status().await.len(), 1);

    let mut older = event.clone();
    older["id"] = json!("evt-0");
    older["data"]["incident"]["title"] = json!("stale title");
    older["data"]["incident"]["version"] = json!(0);
    app.post("/api/v1/events", &token, &older).await;
    assert_eq!(app.public_status().await[0]["title"], "From an event", "an older version never overwrites a newer one");

    let bad = app.post("/api/v1/events", &token, &json!({"specversion": "0.3", "id": "", "source": "x", "type": "incident.updated", "time": "t", "datacontenttype": "application/json", "data": {}})).await;
    assert_eq!(fields(&problem(bad).await), ["data.incident", "id", "specversion"]);
    let mut bad = event.clone();
    bad["id"] = json!("evt-2");
    bad["type"] = json!("incident.\u{1}created");
    bad["data"]["incident"]["id"] = json!("00AB12");
    assert_eq!(fields(&problem(app.post("/api/v1/events", &token, &bad).await).await), ["data.incident.id", "type"]);
    // An incident id in any case is taken, and kept upper-cased.
    let mut lower = event.clone();
    lower["id"] = json!("evt-3");
    lower["data"]["incident"]["id"] = json!("inc-00ab13");
    assert_eq!(app.post("/api/v1/events", &token, &lower).await.status(), 202);
    assert!(app.public_status().await.iter().any(|i| i["id"] == "INC-00AB13"));
    assert_eq!(app.post("/api/v1/events", &app.viewer.token, &event).await.status(), 403);
}

#[tokio::test]
async fn the_public_status_keeps_working_while_the_incidents_service_is_down() {
    let app = spawn_app().await;
    let id = app.declare("Outage", 1, &["checkout"]).await;
    app.eventually("the incident", |s| s.iter().any(|i| i["id"] == id.as_str())).await;
    app.incidents.stop().await;
    let status = app.public_status().await;
    assert_eq!(status[0]["id"], id.as_str());
    assert_eq!(app.get("/api/v2/summary.json").await.status(), 200);
    assert_eq!(app.announce(&id, "monitoring", "A fix is out").await.status(), 201, "known incidents need no call");
}

#[tokio::test]
async fn public_reads_carry_etags_and_answer_304_until_something_changes() {
    let app = spawn_app().await;
    for path in ["/api/v1/public/status", "/api/v2/summary.json", "/history.rss", "/history.atom"] {
        let first = app.get(path).await;
        assert_eq!(first.status(), 200, "{path}");
        assert!(first.headers()["cache-control"].to_str().expect("ascii").contains("max-age"));
        let etag = first.headers()["etag"].to_str().expect("ascii").to_string();
        let again =
            app.client.get(format!("{}{path}", app.address)).header("if-none-match", &etag).send().await.expect("sent");
        assert_eq!(again.status(), 304, "{path}");
    }
    let etag = app.get("/api/v1/public/status").await.headers()["etag"].to_str().expect("ascii").to_string();
    let id = app.declare("Change", 3, &[]).await;
    app.eventually("the change", |s| s.iter().any(|i| i["id"] == id.as_str())).await;
    let after = app
        .client
        .get(format!("{}/api/v1/public/status", app.address))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("sent");
    assert_eq!(after.status(), 200, "a new ETag once the data changed");
}
