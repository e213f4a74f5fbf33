use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, fields, problem, spawn_app};

#[tokio::test]
async fn create_user_returns_201_with_the_reference_fields() {
    let app = spawn_app().await;
    let resp = app
        .create_user(&json!({"name": "Alice Dupont", "email": "Alice@Example.com", "role": "sre", "team": "SRE", "password": PASSWORD}))
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let location = resp.headers()["location"].to_str().expect("ascii").to_string();
    let user: Value = resp.json().await.expect("json");
    assert_eq!(location, format!("/api/v1/users/{}", user["id"].as_str().expect("id")));
    assert!(uuid::Uuid::parse_str(user["id"].as_str().expect("id")).is_ok());
    assert_eq!(user["name"], "Alice Dupont");
    assert_eq!(user["email"], "alice@example.com", "emails are stored lower-case");
    assert_eq!(user["role"], "sre");
    assert_eq!(user["team"], "SRE");
    assert!(user["created_at"].as_i64().expect("epoch seconds") > 1_700_000_000);
    assert_eq!(user["status"], "active");
    assert!(user.get("password").is_none() && user.get("password_hash").is_none());
    assert!(user.get("invite_token").is_none());
}

#[tokio::test]
async fn the_reference_body_without_role_or_password_creates_an_invited_viewer() {
    let app = spawn_app().await;
    let resp = app.create_user(&json!({"name": "Bob", "email": "bob@example.com"})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let user: Value = resp.json().await.expect("json");
    assert_eq!(user["role"], "viewer");
    assert_eq!(user["status"], "invited");
    let invite = user["invite_token"].as_str().expect("an invite token").to_string();

    let refused = app.login("bob@example.com", "anything at all").await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "invited accounts cannot sign in");

    let set = app.post("/api/v1/auth/password", None, &json!({"invite_token": invite, "password": PASSWORD})).await;
    assert_eq!(set.status(), StatusCode::NO_CONTENT);
    app.login_token("bob@example.com", PASSWORD).await;

    let again =
        app.post("/api/v1/auth/password", None, &json!({"invite_token": invite, "password": "another password"})).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED, "an invitation works once");
}

#[tokio::test]
async fn every_invalid_field_is_named() {
    let app = spawn_app().await;
    let resp =
        app.create_user(&json!({"name": " ", "email": "not-an-email", "role": "manager", "password": "short"})).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body = problem(resp).await;
    assert_eq!(body["type"], "urn:polystatus:problem:validation");
    assert_eq!(fields(&body), ["email", "name", "password", "role"]);

    let resp = app.create_user(&json!({"team": 7})).await;
    assert_eq!(fields(&problem(resp).await), ["email", "name", "team"], "missing and mistyped fields together");

    let resp = app
        .client
        .post(app.url("/api/v1/users"))
        .bearer_auth(&app.admin_token)
        .body("{nope")
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_duplicate_email_is_a_409_whatever_its_case() {
    let app = spawn_app().await;
    let first = app.create_user(&json!({"name": "A", "email": "dup@example.com"})).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let second = app.create_user(&json!({"name": "B", "email": "DUP@example.com "})).await;
    assert_eq!(second.status(), StatusCode::CONFLICT);
    assert_eq!(problem(second).await["status"], 409);
}

#[tokio::test]
async fn twenty_concurrent_creations_of_one_email_give_exactly_one_201() {
    let app = spawn_app().await;
    let attempts = (0..20).map(|i| {
        let app = &app;
        async move { app.create_user(&json!({"name": format!("N{i}"), "email": "race@example.com"})).await.status() }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count(), 19, "{statuses:?}");
}

#[tokio::test]
async fn list_is_a_bare_array_with_filters_and_paging() {
    let app = spawn_app().await;
    for (name, role, team) in [("Ann", "sre", "Ops"), ("Ben", "viewer", "Ops"), ("Cat", "sre", "Web")] {
        let email = format!("{}@example.com", name.to_lowercase());
        app.create_user(&json!({"name": name, "email": email, "role": role, "team": team})).await;
    }
    let all: Vec<Value> = app.get("/api/v1/users", Some(&app.admin_token)).await.json().await.expect("array");
    assert_eq!(all.len(), 4, "three users and the first admin");
    let sres: Vec<Value> =
        app.get("/api/v1/users?role=sre&team=ops", Some(&app.admin_token)).await.json().await.expect("array");
    assert_eq!(sres.iter().map(|u| u["name"].as_str().unwrap_or("")).collect::<Vec<_>>(), ["Ann"]);
    let found: Vec<Value> = app.get("/api/v1/users?q=CAT", Some(&app.admin_token)).await.json().await.expect("array");
    assert_eq!(found.len(), 1);
    let page = app.get("/api/v1/users?limit=2&offset=1", Some(&app.admin_token)).await;
    assert_eq!(page.headers()["x-total-count"], "4");
    assert_eq!(page.json::<Vec<Value>>().await.expect("array").len(), 2);
    let bad = app.get("/api/v1/users?role=boss&limit=0", Some(&app.admin_token)).await;
    assert_eq!(fields(&problem(bad).await), ["limit", "role"]);
    let bad = app.get("/api/v1/users?limit=ten", Some(&app.admin_token)).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn get_returns_the_user_with_an_etag_and_404_when_unknown() {
    let app = spawn_app().await;
    let viewer = app.user_with_role("viewer").await;
    let resp = app.get(&format!("/api/v1/users/{}", viewer.id), Some(&viewer.token)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["etag"], "\"1\"");
    assert_eq!(resp.json::<Value>().await.expect("json")["email"], viewer.email.as_str());
    let missing = app.get("/api/v1/users/does-not-exist", Some(&viewer.token)).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(problem(missing).await["type"], "urn:polystatus:problem:not-found");
}

#[tokio::test]
async fn who_may_update_what() {
    let app = spawn_app().await;
    let alice = app.user_with_role("viewer").await;
    let bob = app.user_with_role("sre").await;
    let path = format!("/api/v1/users/{}", alice.id);

    let own = app.send(Method::PUT, &path, Some(&alice.token), &json!({"name": "Alice D", "team": "Web"})).await;
    assert_eq!(own.status(), StatusCode::OK);
    let own: Value = own.json().await.expect("json");
    assert_eq!(
        (own["name"].as_str(), own["team"].as_str(), own["version"].as_u64()),
        (Some("Alice D"), Some("Web"), Some(2))
    );

    let promote_self = app.send(Method::PUT, &path, Some(&alice.token), &json!({"role": "admin"})).await;
    assert_eq!(promote_self.status(), StatusCode::FORBIDDEN);
    let other = app.send(Method::PUT, &path, Some(&bob.token), &json!({"name": "Mallory"})).await;
    assert_eq!(other.status(), StatusCode::FORBIDDEN);

    let by_admin = app.send(Method::PUT, &path, Some(&app.admin_token), &json!({"role": "SRE"})).await;
    assert_eq!(by_admin.json::<Value>().await.expect("json")["role"], "sre");

    let invalid = app.send(Method::PUT, &path, Some(&app.admin_token), &json!({"name": "", "role": "boss"})).await;
    assert_eq!(fields(&problem(invalid).await), ["name", "role"]);
    let unknown = app.send(Method::PUT, "/api/v1/users/nobody", Some(&app.admin_token), &json!({"name": "x"})).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn if_match_guards_against_lost_updates() {
    let app = spawn_app().await;
    let user = app.user_with_role("viewer").await;
    let path = format!("/api/v1/users/{}", user.id);
    let put = |etag: &'static str, name: &'static str| {
        app.client
            .put(app.url(&path))
            .bearer_auth(&app.admin_token)
            .header("if-match", etag)
            .json(&json!({"name": name}))
            .send()
    };
    let first = put("\"1\"", "First").await.expect("sent");
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.headers()["etag"], "\"2\"");
    let stale = put("\"1\"", "Second").await.expect("sent");
    assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);
    let current: Value = app.get(&path, Some(&app.admin_token)).await.json().await.expect("json");
    assert_eq!(current["name"], "First", "the stale write changed nothing");
    let garbage = put("yesterday", "Third").await.expect("sent");
    assert_eq!(garbage.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn delete_is_for_admins_and_never_removes_the_last_admin() {
    let app = spawn_app().await;
    let sre = app.user_with_role("sre").await;
    let victim = app.user_with_role("viewer").await;
    let path = format!("/api/v1/users/{}", victim.id);
    assert_eq!(app.send(Method::DELETE, &path, Some(&sre.token), &json!({})).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.send(Method::DELETE, &path, Some(&app.admin_token), &json!({})).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.get(&path, Some(&app.admin_token)).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.send(Method::DELETE, &path, Some(&app.admin_token), &json!({})).await.status(),
        StatusCode::NOT_FOUND
    );

    let me: Value = app.get("/api/v1/auth/me", Some(&app.admin_token)).await.json().await.expect("json");
    let admin_path = format!("/api/v1/users/{}", me["id"].as_str().expect("id"));
    let last = app.send(Method::DELETE, &admin_path, Some(&app.admin_token), &json!({})).await;
    assert_eq!(last.status(), StatusCode::CONFLICT);
    let demote = app.send(Method::PUT, &admin_path, Some(&app.admin_token), &json!({"role": "viewer"})).await;
    assert_eq!(demote.status(), StatusCode::CONFLICT, "demoting the last admin is refused too");
}

#[tokio::test]
async fn each_role_is_allowed_and_refused_where_it_should_be() {
    let app = spawn_app().await;
    let viewer = app.user_with_role("viewer").await;
    let sre = app.user_with_role("sre").await;
    let new_user = json!({"name": "X", "email": "x@example.com"});
    for token in [&viewer.token, &sre.token] {
        assert_eq!(app.get("/api/v1/users", Some(token)).await.status(), StatusCode::OK);
        let refused = app.post("/api/v1/users", Some(token), &new_user).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert_eq!(problem(refused).await["type"], "urn:polystatus:problem:forbidden");
        assert_eq!(app.get("/api/v1/api-keys", Some(token)).await.status(), StatusCode::FORBIDDEN);
    }
    let anonymous = app.get("/api/v1/users", None).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(anonymous.headers()["www-authenticate"].to_str().expect("ascii").starts_with("Bearer"));
    let anonymous_create = app.post("/api/v1/users", None, &new_user).await;
    assert_eq!(anonymous_create.status(), StatusCode::UNAUTHORIZED);
}
