use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{fields, problem, spawn_app};

#[tokio::test]
async fn an_api_key_is_shown_once_exchanged_for_a_token_with_its_role_and_revocable() {
    let app = spawn_app().await;
    let created = app.post("/api/v1/api-keys", Some(&app.admin_token), &json!({"name": "ci", "role": "sre"})).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.expect("json");
    let secret = created["secret"].as_str().expect("secret").to_string();
    assert!(secret.starts_with("psk_"));
    assert_eq!(created["role"], "sre");

    let listed: Vec<Value> = app.get("/api/v1/api-keys", Some(&app.admin_token)).await.json().await.expect("json");
    assert_eq!(listed.len(), 1);
    assert!(listed[0].get("secret").is_none() && listed[0].get("secret_hash").is_none(), "{:?}", listed[0]);
    assert!(secret.starts_with(listed[0]["prefix"].as_str().expect("prefix")));

    let exchanged = app.post("/api/v1/auth/token", None, &json!({"api_key": secret})).await;
    assert_eq!(exchanged.status(), StatusCode::OK);
    let token: Value = exchanged.json().await.expect("json");
    let access = token["access_token"].as_str().expect("token");
    let me: Value = app.get("/api/v1/auth/me", Some(access)).await.json().await.expect("json");
    assert_eq!(
        (me["kind"].as_str(), me["role"].as_str(), me["name"].as_str()),
        (Some("api_key"), Some("sre"), Some("ci"))
    );
    assert_eq!(app.get("/api/v1/users", Some(access)).await.status(), StatusCode::OK);
    assert_eq!(
        app.post("/api/v1/users", Some(access), &json!({"name": "x", "email": "x@x.io"})).await.status(),
        StatusCode::FORBIDDEN
    );

    let path = format!("/api/v1/api-keys/{}", created["id"].as_str().expect("id"));
    assert_eq!(
        app.send(Method::DELETE, &path, Some(&app.admin_token), &json!({})).await.status(),
        StatusCode::NO_CONTENT
    );
    let refused = app.post("/api/v1/auth/token", None, &json!({"api_key": secret})).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let listed: Vec<Value> = app.get("/api/v1/api-keys", Some(&app.admin_token)).await.json().await.expect("json");
    assert!(listed[0]["revoked_at"].is_i64());
    assert_eq!(
        app.send(Method::DELETE, "/api/v1/api-keys/nope", Some(&app.admin_token), &json!({})).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn only_admins_manage_keys_and_bad_fields_are_named() {
    let app = spawn_app().await;
    let sre = app.user_with_role("sre").await;
    let resp = app.post("/api/v1/api-keys", Some(&sre.token), &json!({"name": "x", "role": "admin"})).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = app.post("/api/v1/api-keys", Some(&app.admin_token), &json!({"name": "", "role": "root"})).await;
    assert_eq!(fields(&problem(resp).await), ["name", "role"]);
    let resp = app.post("/api/v1/auth/token", None, &json!({"api_key": "psk_made_up"})).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}
