//! Tampered, expired and foreign tokens are refused; other services can verify through JWKS.

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use platform::auth::{Claims, PrincipalKind, Role, TokenVerifier};
use platform::settings::AuthSettings;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

fn claims(exp_offset: i64, aud: &str) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        sub: "attacker".into(),
        role: Role::Admin,
        kind: PrincipalKind::User,
        name: "Mallory".into(),
        iss: "polystatus".into(),
        aud: aud.into(),
        iat: now as u64,
        exp: (now + exp_offset) as u64,
        jti: "j".into(),
    }
}

async fn kid(app: &TestApp) -> String {
    let jwks: Value = app.get("/.well-known/jwks.json", None).await.json().await.expect("jwks");
    jwks["keys"][0]["kid"].as_str().expect("kid").to_string()
}

fn sign(key_pem: &[u8], kid: &str, claims: &Claims) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_string());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_pem(key_pem).expect("key")).expect("signed")
}

async fn status_with(app: &TestApp, token: &str) -> StatusCode {
    app.get("/api/v1/users", Some(token)).await.status()
}

#[tokio::test]
async fn a_token_signed_with_the_real_key_is_accepted_as_a_control() {
    let app = spawn_app().await;
    let pem = std::fs::read(&app.key_file).expect("key file");
    let token = sign(&pem, &kid(&app).await, &claims(60, "polystatus"));
    assert_eq!(status_with(&app, &token).await, StatusCode::OK);
}

#[tokio::test]
async fn expired_and_wrong_audience_tokens_are_refused() {
    let app = spawn_app().await;
    let pem = std::fs::read(&app.key_file).expect("key file");
    let kid = kid(&app).await;
    let expired = status_with(&app, &sign(&pem, &kid, &claims(-3600, "polystatus"))).await;
    assert_eq!(expired, StatusCode::UNAUTHORIZED);
    let foreign = status_with(&app, &sign(&pem, &kid, &claims(60, "someone-else"))).await;
    assert_eq!(foreign, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_token_signed_with_another_key_is_refused_even_with_the_right_kid() {
    let app = spawn_app().await;
    let other = crate::helpers::spawn_app().await;
    let other_pem = std::fs::read(&other.key_file).expect("key file");
    let forged = sign(&other_pem, &kid(&app).await, &claims(60, "polystatus"));
    let resp = app.get("/api/v1/users", Some(&forged)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(resp.headers()["www-authenticate"].to_str().expect("ascii").contains("invalid_token"));
}

#[tokio::test]
async fn alg_none_and_hmac_tokens_are_refused() {
    let app = spawn_app().await;
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let body = b64(&serde_json::to_value(claims(60, "polystatus")).expect("claims"));
    let none = format!("{}.{body}.", b64(&json!({"alg": "none", "typ": "JWT", "kid": kid(&app).await})));
    assert_eq!(status_with(&app, &none).await, StatusCode::UNAUTHORIZED);

    // HS256 keyed with the public key: the classic algorithm-confusion attack.
    let jwks: Value = app.get("/.well-known/jwks.json", None).await.json().await.expect("jwks");
    let public = jwks["keys"][0]["x"].as_str().expect("x").as_bytes().to_vec();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid(&app).await);
    let hmac =
        jsonwebtoken::encode(&header, &claims(60, "polystatus"), &EncodingKey::from_secret(&public)).expect("hs");
    assert_eq!(status_with(&app, &hmac).await, StatusCode::UNAUTHORIZED);

    for garbage in ["", "abc", "a.b.c", "Bearer"] {
        assert_eq!(status_with(&app, garbage).await, StatusCode::UNAUTHORIZED, "{garbage:?}");
    }
    let basic =
        app.client.get(app.url("/api/v1/users")).header("authorization", "Basic YTpi").send().await.expect("sent");
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn another_service_verifies_tokens_through_the_published_jwks() {
    let app = spawn_app().await;
    let verifier = TokenVerifier::with_jwks(&AuthSettings {
        jwks_url: app.url("/.well-known/jwks.json"),
        issuer: "polystatus".into(),
        audience: "polystatus".into(),
        jwks_refetch_min_secs: 5,
        jwks_timeout_ms: 2000,
    });
    let principal = verifier.verify(&app.admin_token).await.expect("valid through JWKS");
    assert_eq!(principal.role, Role::Admin);
    assert_eq!(principal.kind, PrincipalKind::User);

    let other = spawn_app().await;
    let err = verifier.verify(&other.admin_token).await.expect_err("a key the JWKS does not publish");
    assert!(err.to_string().contains("unauthorized"), "{err}");
}

#[tokio::test]
async fn the_key_set_is_refetched_for_an_unknown_kid_at_most_once_per_interval_with_the_request_id() {
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let app = spawn_app().await;
    let jwks: Value = app.get("/.well-known/jwks.json", None).await.json().await.expect("jwks");
    let identity = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/.well-known/jwks.json"))
        .and(header("x-request-id", "trace-7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(jwks))
        .expect(1)
        .mount(&identity)
        .await;
    let verifier = TokenVerifier::with_jwks(&AuthSettings {
        jwks_url: format!("{}/.well-known/jwks.json", identity.uri()),
        issuer: "polystatus".into(),
        audience: "polystatus".into(),
        jwks_refetch_min_secs: 60,
        jwks_timeout_ms: 2000,
    });
    let id = platform::request_id::RequestId::parse("trace-7").expect("a valid id");
    platform::request_id::scope(id, async {
        verifier.verify(&app.admin_token).await.expect("fetched once, then valid");
        verifier.verify(&app.admin_token).await.expect("served from the cache");
        let stranger = spawn_app().await;
        for _ in 0..3 {
            let err = verifier.verify(&stranger.admin_token).await.expect_err("unknown kid");
            assert!(err.to_string().contains("unauthorized"), "{err}");
        }
    })
    .await;
    // `expect(1)` is checked when the mock server drops: one fetch in all.
}

#[tokio::test]
async fn an_unreachable_identity_provider_is_a_503_not_a_401() {
    let app = spawn_app().await;
    let verifier = TokenVerifier::with_jwks(&AuthSettings {
        jwks_url: format!("http://127.0.0.1:{}/.well-known/jwks.json", platform::testing::free_port()),
        issuer: "polystatus".into(),
        audience: "polystatus".into(),
        jwks_refetch_min_secs: 5,
        jwks_timeout_ms: 500,
    });
    let err = verifier.verify(&app.admin_token).await.expect_err("no key set");
    assert!(matches!(err, platform::ApiError::Unavailable { .. }), "{err:?}");
}
