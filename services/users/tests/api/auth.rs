use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, fields, problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn login_returns_the_reference_token_and_user_id() {
    let app = spawn_app().await;
    let user = app.user_with_role("sre").await;
    let resp = app.login(&user.email.to_uppercase(), PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["user_id"], user.id.as_str());
    assert_eq!(body["token"].as_str().expect("token").split('.').count(), 3, "a JWT");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body["refresh_token"].as_str().is_some_and(|t| t.len() >= 43));
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    let wrong_password = app.login(ADMIN_EMAIL, "not the password").await;
    let unknown_email = app.login("nobody@example.com", "not the password").await;
    assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_email.status(), StatusCode::UNAUTHORIZED);
    let mut a = problem(wrong_password).await;
    let mut b = problem(unknown_email).await;
    a["request_id"] = Value::Null;
    b["request_id"] = Value::Null;
    assert_eq!(a, b);
}

#[tokio::test]
async fn login_needs_a_password() {
    let app = spawn_app().await;
    let resp = app.post("/api/v1/auth/login", None, &json!({"email": ADMIN_EMAIL})).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(fields(&problem(resp).await), ["password"]);
    let resp = app.post("/api/v1/auth/login", None, &json!({"email": "bad", "password": ""})).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_replayed_one_signs_the_session_out() {
    let app = spawn_app().await;
    let first: Value = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.json().await.expect("json");
    let app = &app;
    let refresh = |token: &Value| {
        let body = json!({"refresh_token": token.clone()});
        async move { app.post("/api/v1/auth/refresh", None, &body).await }
    };

    let second = refresh(&first["refresh_token"]).await;
    assert_eq!(second.status(), StatusCode::OK);
    let second: Value = second.json().await.expect("json");
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_eq!(app.get("/api/v1/auth/me", second["token"].as_str()).await.status(), StatusCode::OK);

    let replay = refresh(&first["refresh_token"]).await;
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED, "a spent refresh token is refused");
    let after = refresh(&second["refresh_token"]).await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED, "and its whole session is revoked");

    let unknown = refresh(&json!("made-up")).await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let app = spawn_app().await;
    let tokens: Value = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.json().await.expect("json");
    let body = json!({"refresh_token": tokens["refresh_token"]});
    assert_eq!(app.post("/api/v1/auth/logout", None, &body).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.post("/api/v1/auth/refresh", None, &body).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.post("/api/v1/auth/logout", None, &body).await.status(), StatusCode::NO_CONTENT, "idempotent");
}

#[tokio::test]
async fn me_describes_the_caller() {
    let app = spawn_app().await;
    let user = app.user_with_role("viewer").await;
    let me: Value = app.get("/api/v1/auth/me", Some(&user.token)).await.json().await.expect("json");
    assert_eq!(me["id"], user.id.as_str());
    assert_eq!(me["kind"], "user");
    assert_eq!(me["role"], "viewer");
    assert_eq!(me["user"]["email"], user.email.as_str());
}

#[tokio::test]
async fn changing_ones_password_needs_the_current_one_and_ends_other_sessions() {
    let app = spawn_app().await;
    let user = app.user_with_role("viewer").await;
    let session: Value = app.login(&user.email, PASSWORD).await.json().await.expect("json");
    let app = &app;
    let change = |current: &str, new: &str| {
        let body = json!({"current_password": current, "password": new});
        let token = user.token.clone();
        async move { app.post("/api/v1/auth/password", Some(&token), &body).await }
    };
    assert_eq!(change("wrong password", "new password 1").await.status(), StatusCode::UNAUTHORIZED);
    let missing = app.post("/api/v1/auth/password", Some(&user.token), &json!({"password": "new password 1"})).await;
    assert_eq!(fields(&problem(missing).await), ["current_password"]);
    assert_eq!(change(PASSWORD, "tiny").await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(change(PASSWORD, "new password 1").await.status(), StatusCode::NO_CONTENT);

    assert_eq!(app.login(&user.email, PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    app.login_token(&user.email, "new password 1").await;
    let old_session = app.post("/api/v1/auth/refresh", None, &json!({"refresh_token": session["refresh_token"]})).await;
    assert_eq!(old_session.status(), StatusCode::UNAUTHORIZED, "sessions from before the change end");

    let anonymous = app.post("/api/v1/auth/password", None, &json!({"password": "new password 2"})).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn failed_sign_ins_are_limited_per_account_with_retry_after() {
    let app = spawn_app_with(|s| {
        s.login_limits.per_account = 3;
        s.login_limits.per_address = 1000;
    })
    .await;
    let user = app.user_with_role("viewer").await;
    for _ in 0..3 {
        assert_eq!(app.login(&user.email, "wrong password").await.status(), StatusCode::UNAUTHORIZED);
    }
    let limited = app.login(&user.email, PASSWORD).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
    let retry: u64 = limited.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((1..=900).contains(&retry));
    assert_eq!(problem(limited).await["type"], "urn:polystatus:problem:rate-limited");
    // Other accounts are not locked out by it.
    app.login_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
}

#[tokio::test]
async fn sign_ins_are_limited_per_client_address() {
    let app = spawn_app_with(|s| {
        s.login_limits.per_account = 1000;
        s.login_limits.per_address = 4;
    })
    .await;
    // spawn_app's own admin sign-in was the first attempt from this address.
    for i in 0..3 {
        let resp = app.login(&format!("user{i}@example.com"), "whatever pass").await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(app.login("another@example.com", "whatever pass").await.status(), StatusCode::TOO_MANY_REQUESTS);
}
