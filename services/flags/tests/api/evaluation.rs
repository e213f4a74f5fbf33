//! Evaluation: the reference `GET /flags`, OFREP single and bulk with ETags, typed values,
//! rollouts, and the error codes.

use platform::testing::{fields, problem};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

async fn seed(app: &TestApp) {
    for flag in [
        json!({
            "id": "public_status_enabled", "on": true, "kind": "boolean", "variations": ["on", "off"],
            "fallthrough": {"variation": "off"},
            "rules": [{"if": {"attr": "role", "op": "eq", "value": "manager"}, "variation": "on"}],
            "targets": {"users": {"alice": "on", "bob": "off"}},
        }),
        json!({
            "id": "banner-colour", "on": true, "kind": "multivar", "variations": ["red", "blue", "green"],
            "values": {"red": "#d93025", "blue": "#3b82f6", "green": {"hex": "#22c55e", "contrast": 4.5}},
            "rules": [{"if": {"attr": "app_version", "op": "semver_gte", "value": "2.0.0"}, "variation": "green"}],
            "fallthrough": {"rollout": [{"variation": "red", "weight": 50}, {"variation": "blue", "weight": 50}]},
        }),
        json!({"id": "max-items", "on": false, "kind": "multivar", "variations": ["small", "large"],
               "values": {"small": 10, "large": 100}, "off_variation": "small"}),
    ] {
        let resp = app.admin_post("/admin/flags", &flag).await;
        assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
    }
}

#[tokio::test]
async fn get_flags_maps_each_flag_to_its_variation_for_the_user_and_role() {
    let app = spawn_app().await;
    seed(&app).await;
    let alice = app.get_json("/flags?user=alice&role=viewer").await;
    assert_eq!(alice["public_status_enabled"]["variation"], "on", "a user target");
    assert_eq!(alice["public_status_enabled"]["off"], false);
    assert_eq!(alice["public_status_enabled"]["value"], true);
    let bob = app.get_json("/flags?user=bob&role=manager").await;
    assert_eq!(bob["public_status_enabled"]["variation"], "off", "targets come before rules");
    let carol = app.get_json("/flags?user=carol&role=manager").await;
    assert_eq!(carol["public_status_enabled"]["variation"], "on", "the role rule");
    assert_eq!(carol["public_status_enabled"]["reason"], "TARGETING_MATCH");
    assert_eq!(carol["max-items"], json!({"variation": "small", "off": true, "value": 10, "reason": "DISABLED"}));
    let dave = app.get_json("/flags?user=dave&role=viewer&app_version=2.1.0").await;
    assert_eq!(dave["banner-colour"]["value"], json!({"hex": "#22c55e", "contrast": 4.5}), "any attribute");

    let missing = app.call(Method::GET, "/flags?user=", Some(&app.viewer.token), None).await;
    assert_eq!(fields(&problem(missing).await), ["role", "user"]);
    assert_eq!(app.call(Method::GET, "/flags?user=a&role=b", None, None).await.status(), 401);
    let token = app.users.machine_token("viewer").await;
    let with_key = app.call(Method::GET, "/flags?user=a&role=b", Some(&token), None).await;
    assert_eq!(with_key.status(), 200, "an API key's token evaluates too");
    let tag = with_key.headers()["etag"].to_str().expect("etag").to_string();
    let again = app
        .client
        .get(format!("{}/flags?user=a&role=b", app.address))
        .bearer_auth(&token)
        .header("if-none-match", &tag)
        .send()
        .await
        .expect("sent");
    assert_eq!(again.status(), 304);
}

#[tokio::test]
async fn ofrep_single_evaluations_carry_typed_values_reasons_and_error_codes() {
    let app = spawn_app().await;
    seed(&app).await;
    let path = "/ofrep/v1/evaluate/flags";
    let (status, on) = app
        .evaluate(
            &format!("{path}/public_status_enabled"),
            &json!({"context": {"targetingKey": "carol", "role": "manager"}}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(on["key"], "public_status_enabled");
    assert_eq!(
        (on["value"].clone(), on["variant"].clone(), on["reason"].clone()),
        (json!(true), json!("on"), json!("TARGETING_MATCH"))
    );
    assert_eq!(on["metadata"]["version"], 1);

    let (_, split) =
        app.evaluate(&format!("{path}/banner-colour"), &json!({"context": {"targetingKey": "rachel"}})).await;
    assert_eq!(split["reason"], "SPLIT");
    let (_, same) =
        app.evaluate(&format!("{path}/banner-colour"), &json!({"context": {"targetingKey": "rachel"}})).await;
    assert_eq!(split["variant"], same["variant"], "sticky per user");
    let (_, off) = app.evaluate(&format!("{path}/max-items"), &json!({"context": {"targetingKey": "x"}})).await;
    assert_eq!((off["value"].clone(), off["reason"].clone()), (json!(10), json!("DISABLED")));

    let (status, missing) = app.evaluate(&format!("{path}/nope"), &json!({"context": {"targetingKey": "x"}})).await;
    assert_eq!((status, missing["errorCode"].clone()), (404, json!("FLAG_NOT_FOUND")));
    let (status, no_key) = app.evaluate(&format!("{path}/banner-colour"), &json!({"context": {}})).await;
    assert_eq!((status, no_key["errorCode"].clone()), (400, json!("TARGETING_KEY_MISSING")));
    let (status, bad) = app.evaluate(&format!("{path}/banner-colour"), &json!({"context": "alice"})).await;
    assert_eq!((status, bad["errorCode"].clone()), (400, json!("INVALID_CONTEXT")));
    let garbage = app
        .client
        .post(format!("{}{path}/banner-colour", app.address))
        .bearer_auth(&app.viewer.token)
        .body("{not json")
        .send()
        .await
        .expect("sent");
    assert_eq!(garbage.status(), 400);
    assert_eq!(garbage.json::<Value>().await.expect("json")["errorCode"], "PARSE_ERROR");
    let anonymous = app.call(Method::POST, &format!("{path}/banner-colour"), None, Some(&json!({}))).await;
    assert_eq!(anonymous.status(), 401);
    for (body, code) in [
        (Some(json!([])), "INVALID_CONTEXT"),
        (None, "INVALID_CONTEXT"),
        (Some(json!({})), "INVALID_CONTEXT"),
        (Some(json!({"context": 3})), "INVALID_CONTEXT"),
        (Some(json!({"context": null})), "INVALID_CONTEXT"),
        (Some(json!({"context": {"targetingKey": 7}})), "INVALID_CONTEXT"),
    ] {
        let resp =
            app.call(Method::POST, &format!("{path}/banner-colour"), Some(&app.viewer.token), body.as_ref()).await;
        assert_eq!(resp.status(), 400, "{body:?}");
        let answer: Value = resp.json().await.expect("json");
        assert_eq!(
            (answer["key"].clone(), answer["errorCode"].clone()),
            (json!("banner-colour"), json!(code)),
            "{body:?}"
        );
    }

    // A client naming the type it wants is told when the flag's value is another one.
    let context = json!({"context": {"targetingKey": "x"}});
    let (status, number) = app.evaluate(&format!("{path}/max-items?type=number"), &context).await;
    assert_eq!((status, number["value"].clone()), (200, json!(10)));
    let (status, mismatch) = app.evaluate(&format!("{path}/max-items?type=boolean"), &context).await;
    assert_eq!((status, mismatch["errorCode"].clone()), (422, json!("TYPE_MISMATCH")));
    assert_eq!(mismatch["errorDetails"], "max-items is a number flag, not boolean");
    let (status, _) = app.evaluate(&format!("{path}/public_status_enabled?type=Boolean"), &context).await;
    assert_eq!(status, 200);
    let unknown_type = app
        .call(Method::POST, &format!("{path}/max-items?type=integer"), Some(&app.viewer.token), Some(&context))
        .await;
    assert_eq!(fields(&problem(unknown_type).await), ["type"]);
}

#[tokio::test]
async fn ofrep_bulk_evaluates_every_flag_with_an_etag_that_changes_with_the_flags() {
    let app = spawn_app().await;
    seed(&app).await;
    let body = json!({"context": {"targetingKey": "alice", "role": "viewer"}});
    let url = format!("{}/ofrep/v1/evaluate/flags", app.address);
    let first = app.client.post(&url).bearer_auth(&app.viewer.token).json(&body).send().await.expect("sent");
    assert_eq!(first.status(), 200);
    let tag = first.headers()["etag"].to_str().expect("etag").to_string();
    let all: Value = first.json().await.expect("json");
    let keys: Vec<&str> = all["flags"].as_array().into_iter().flatten().filter_map(|f| f["key"].as_str()).collect();
    assert_eq!(keys, ["banner-colour", "max-items", "public_status_enabled"]);

    let cached = app
        .client
        .post(&url)
        .bearer_auth(&app.viewer.token)
        .header("if-none-match", &tag)
        .json(&body)
        .send()
        .await
        .expect("sent");
    assert_eq!(cached.status(), 304);
    let other = json!({"context": {"targetingKey": "bob"}});
    let other_user = app
        .client
        .post(&url)
        .bearer_auth(&app.viewer.token)
        .header("if-none-match", &tag)
        .json(&other)
        .send()
        .await
        .expect("sent");
    assert_eq!(other_user.status(), 200, "another context, another tag");

    app.admin_post("/admin/toggle/max-items", &json!({"on": true})).await;
    let changed = app
        .client
        .post(&url)
        .bearer_auth(&app.viewer.token)
        .header("if-none-match", &tag)
        .json(&body)
        .send()
        .await
        .expect("sent");
    assert_eq!(changed.status(), 200, "a flag changed");
    let anonymous = app.client.post(&url).json(&json!({})).send().await.expect("sent");
    // The body is an object with a context object, or the whole request is refused.
    for body in [Some(json!([])), None, Some(json!({})), Some(json!({"context": 3})), Some(json!({"context": "alice"}))]
    {
        let resp = app.call(Method::POST, "/ofrep/v1/evaluate/flags", Some(&app.viewer.token), body.as_ref()).await;
        assert_eq!(resp.status(), 400, "{body:?}");
        let answer: Value = resp.json().await.expect("json");
        assert_eq!(answer["errorCode"], "INVALID_CONTEXT", "{body:?}");
        assert!(answer["errorDetails"].is_string() && answer.get("key").is_none(), "{answer}");
    }
    let garbage = app.client.post(&url).bearer_auth(&app.viewer.token).body("{not json").send().await.expect("sent");
    assert_eq!(garbage.status(), 400);
    assert_eq!(garbage.json::<Value>().await.expect("json")["errorCode"], "PARSE_ERROR");
    let (_, no_key) = app.evaluate("/ofrep/v1/evaluate/flags", &json!({"context": {}})).await;
    let rollout = no_key["flags"].as_array().into_iter().flatten().find(|f| f["key"] == "banner-colour").cloned();
    assert_eq!(rollout.map(|f| f["errorCode"].clone()), Some(json!("TARGETING_KEY_MISSING")));
    assert_eq!(anonymous.status(), 401);
}
