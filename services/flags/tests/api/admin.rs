//! The reference management API, validation, deletion and the audit log.

use platform::testing::{fields, problem};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::spawn_app;

fn reference_flag() -> Value {
    json!({
        "id": "public_status_enabled", "on": true, "kind": "boolean", "variations": ["on", "off"],
        "fallthrough": {"variation": "on"},
        "rules": [{"if": {"attr": "role", "op": "eq", "value": "manager"}, "variation": "on"}],
        "targets": {"users": {"alice": "on", "bob": "off"}},
    })
}

#[tokio::test]
async fn flags_are_created_201_updated_200_listed_and_toggled_as_the_reference_says() {
    let app = spawn_app().await;
    let created = app.admin_post("/admin/flags", &reference_flag()).await;
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["etag"], "\"1\"");
    let flag: Value = created.json().await.expect("json");
    assert_eq!(flag["values"], json!({"on": true, "off": false}));
    assert_eq!(flag["off_variation"], "off");

    let mut changed = reference_flag();
    changed["fallthrough"] = json!({"variation": "off"});
    let updated = app.admin_post("/admin/flags", &changed).await;
    assert_eq!(updated.status(), 200);
    assert_eq!(updated.json::<Value>().await.expect("json")["version"], 2);

    let minimal = app.admin_post("/admin/flags", &json!({"id": "beta", "on": false})).await;
    assert_eq!(minimal.status(), 201);
    let list = app.call(Method::GET, "/admin/flags", Some(&app.admin), None).await.json::<Value>().await.expect("json");
    let ids: Vec<&str> = list.as_array().into_iter().flatten().filter_map(|f| f["id"].as_str()).collect();
    assert_eq!(ids, ["beta", "public_status_enabled"]);

    let toggled = app.admin_post("/admin/toggle/public_status_enabled", &json!({"on": false})).await;
    assert_eq!(toggled.status(), 200);
    assert_eq!(toggled.json::<Value>().await.expect("json")["on"], false);
    assert_eq!(app.admin_post("/admin/toggle/nope", &json!({"on": true})).await.status(), 404);
    let no_on = app.admin_post("/admin/toggle/beta", &json!({"onn": true})).await;
    assert_eq!(fields(&problem(no_on).await), ["on"]);

    let viewer = app.call(Method::GET, "/admin/flags", Some(&app.viewer.token), None).await;
    assert_eq!(viewer.status(), 403);
    let anonymous = app.call(Method::POST, "/admin/flags", None, Some(&reference_flag())).await;
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn every_bad_field_of_a_definition_is_named() {
    let app = spawn_app().await;
    let bad = app
        .admin_post(
            "/admin/flags",
            &json!({
                "id": "has space", "on": true, "kind": "multivar", "variations": ["a", "a", ""],
                "values": {"zzz": 1}, "fallthrough": {"variation": "nope"},
                "rules": [{"if": {"attr": "", "op": "resembles", "value": {"x": 1}}, "variation": "a"},
                          {"if": {"attr": "age", "op": "gt", "value": "old"}, "rollout": [{"variation": "a", "weight": 0}]}],
                "targets": {"users": {"carol": "b"}}, "tags": [""],
            }),
        )
        .await;
    assert_eq!(bad.status(), 400, "malformed fields: 400, naming the ones that do not fit together too");
    assert_eq!(
        fields(&problem(bad).await),
        [
            "fallthrough.variation",
            "id",
            "rules[0].if.attr",
            "rules[0].if.op",
            "rules[0].if.value",
            "rules[1].if.value",
            "rules[1].rollout",
            "tags[0]",
            "targets.users.carol",
            "values.zzz",
            "variations",
            "variations[2]",
        ]
    );
    let boolean = app
        .admin_post(
            "/admin/flags",
            &json!({"id": "b", "on": true, "variations": ["yes", "maybe"], "values": {"yes": "y"}}),
        )
        .await;
    assert_eq!(boolean.status(), 422, "well formed, but not a boolean flag");
    assert_eq!(fields(&problem(boolean).await), ["values.maybe", "values.yes"]);
    let types = app.admin_post("/admin/flags", &json!({"id": 3, "on": "yes"})).await;
    assert_eq!(fields(&problem(types).await), ["id", "on"]);
    let missing = app.admin_post("/admin/flags", &json!({})).await;
    assert_eq!(fields(&problem(missing).await), ["id", "on"]);
}

#[tokio::test]
async fn fields_that_match_their_schema_but_not_each_other_are_refused_with_422() {
    let app = spawn_app().await;
    let refused = |body: Value| {
        let app = &app;
        async move {
            let resp = app.admin_post("/admin/flags", &body).await;
            let status = resp.status().as_u16();
            (status, fields(&problem(resp).await))
        }
    };
    let unknown = json!({"id": "f", "on": true, "fallthrough": {"variation": "maybe"}, "off_variation": "nope",
                         "targets": {"users": {"alice": "sometimes"}}, "values": {"other": true}});
    assert_eq!(
        refused(unknown).await,
        (
            422,
            vec![
                "fallthrough.variation".into(),
                "off_variation".into(),
                "targets.users.alice".into(),
                "values.other".into()
            ]
        )
    );
    let multivar = json!({"id": "f", "on": true, "kind": "multivar"});
    assert_eq!(refused(multivar).await, (422, vec!["variations".to_string()]));
    let three = json!({"id": "f", "on": true, "variations": ["on", "off", "maybe"]});
    assert_eq!(refused(three).await.0, 422);
    let trimmed_twice = json!({"id": "f", "on": true, "kind": "multivar", "variations": ["a", " a"]});
    assert_eq!(refused(trimmed_twice).await, (422, vec!["variations".to_string()]));
    let sent_twice = json!({"id": "f", "on": true, "kind": "multivar", "variations": ["a", "a"]});
    assert_eq!(refused(sent_twice).await, (400, vec!["variations".to_string()]), "uniqueItems");
    let empty_serve = json!({"id": "f", "on": true, "fallthrough": {}});
    assert_eq!(refused(empty_serve).await, (422, vec!["fallthrough".to_string()]));
    let semver = json!({"id": "f", "on": true, "rules": [{"if": {"attr": "app", "op": "semver_gt", "value": "new"}, "variation": "on"}]});
    assert_eq!(refused(semver).await, (422, vec!["rules[0].if.value".to_string()]));

    // Each slice weighs 0 to 1,000,000 (the schema); together 1 to 1,000,000 (422).
    let slices = |weights: &[u64]| {
        let rollout: Vec<Value> = weights.iter().map(|w| json!({"variation": "on", "weight": w})).collect();
        json!({"id": "f", "on": true, "fallthrough": {"rollout": rollout}})
    };
    assert_eq!(refused(slices(&[600_000, 600_000])).await, (422, vec!["fallthrough.rollout".to_string()]));
    assert_eq!(refused(slices(&[0, 0])).await, (422, vec!["fallthrough.rollout".to_string()]));
    let too_heavy = refused(slices(&[1_000_001])).await;
    assert_eq!(too_heavy.0, 400, "a slice beyond its schema's maximum");
    assert_eq!(too_heavy.1, ["fallthrough.rollout", "fallthrough.rollout[0].weight"], "the total is named too");
    assert_eq!(refused(slices(&[])).await, (400, vec!["fallthrough.rollout".to_string()]));
    let zero_slice = app.admin_post("/admin/flags", &slices(&[0, 1_000_000])).await;
    assert_eq!(zero_slice.status(), 201, "a slice may weigh nothing");

    // User keys are 1 to 200 characters, not bytes.
    let user = "é".repeat(200);
    let targeted =
        app.admin_post("/admin/flags", &json!({"id": "g", "on": true, "targets": {"users": {user: "on"}}})).await;
    assert_eq!(targeted.status(), 201);
    let user = "é".repeat(201);
    let too_long = json!({"id": "g", "on": true, "targets": {"users": {user: "on"}}});
    assert_eq!(refused(too_long).await, (400, vec!["targets.users".to_string()]));
}

#[tokio::test]
async fn deletes_and_every_change_are_in_the_audit_log_and_if_match_guards_replaces() {
    let app = spawn_app().await;
    app.admin_post("/admin/flags", &json!({"id": "dark-mode", "on": false, "description": "Dark theme"})).await;
    app.admin_post("/admin/toggle/dark-mode", &json!({"on": true})).await;
    let stale = app
        .client
        .post(format!("{}/admin/flags", app.address))
        .bearer_auth(&app.admin)
        .header("if-match", "\"1\"")
        .json(&json!({"id": "dark-mode", "on": true, "tags": ["ui"]}))
        .send()
        .await
        .expect("sent");
    assert_eq!(stale.status(), 412);
    let one = app.call(Method::GET, "/admin/flags/dark-mode", Some(&app.admin), None).await;
    assert_eq!(one.headers()["etag"], "\"2\"");
    assert_eq!(one.json::<Value>().await.expect("json")["description"], "Dark theme");

    let deleted = app.call(Method::DELETE, "/admin/flags/dark-mode", Some(&app.admin), None).await;
    assert_eq!(deleted.status(), 200);
    let again = app.call(Method::DELETE, "/admin/flags/dark-mode", Some(&app.admin), None).await;
    assert_eq!(again.status(), 404);

    let history = app.call(Method::GET, "/admin/flags/dark-mode/history", Some(&app.admin), None).await;
    let history: Value = history.json().await.expect("json");
    let actions: Vec<&str> = history.as_array().into_iter().flatten().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, ["deleted", "toggled", "created"]);
    assert_eq!(history[1]["changed"], json!(["on"]));
    assert!(history[0]["by"].as_str().is_some_and(|b| b.starts_with("Administrator (")), "{history}");
    assert!(history[2]["at"].is_i64());
    let unknown = app.call(Method::GET, "/admin/flags/never-was/history", Some(&app.admin), None).await;
    assert_eq!(unknown.status(), 404);
}
