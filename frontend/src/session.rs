//! Sessions: a random id in an HttpOnly, SameSite=Lax cookie (Secure over HTTPS); the tokens and
//! the CSRF token stay server-side in Redis, under the SHA-256 of the id. The access token is
//! renewed silently with the refresh token shortly before it expires.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::api::{Api, CallError, Service};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionUser {
    pub id: String,
    pub name: String,
    pub email: String,
    /// admin, sre or viewer.
    pub role: String,
}

impl SessionUser {
    pub fn is_sre(&self) -> bool {
        matches!(self.role.as_str(), "sre" | "admin")
    }

    pub fn is_admin(&self) -> bool {
        self.role == "admin"
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    pub refresh_token: String,
    /// Epoch seconds.
    pub expires_at: i64,
    pub user: SessionUser,
    pub csrf: String,
}

#[derive(Clone)]
pub struct Sessions {
    conn: ConnectionManager,
    prefix: String,
    pub cookie_name: String,
    idle_secs: u64,
    secure: bool,
}

/// A random token, URL-safe.
pub fn random_token() -> String {
    let bytes: Vec<u8> = [uuid::Uuid::new_v4().into_bytes(), uuid::Uuid::new_v4().into_bytes()].concat();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Equal strings, compared in time that does not depend on where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Sessions {
    pub fn new(conn: ConnectionManager, prefix: &str, cookie_name: String, idle_secs: u64, secure: bool) -> Self {
        Self {
            conn,
            prefix: format!("{}:{{ui}}:session:", prefix.trim_end_matches(':')),
            cookie_name,
            idle_secs,
            secure,
        }
    }

    fn key(&self, id: &str) -> String {
        format!("{}{}", self.prefix, platform::hex(&Sha256::digest(id.as_bytes())))
    }

    /// Whether Redis answers.
    pub async fn ping(&self) -> bool {
        redis::cmd("PING").query_async::<String>(&mut self.conn.clone()).await.is_ok()
    }

    /// Starts a session; the cookie to set.
    pub async fn create(&self, session: &Session) -> anyhow::Result<Cookie<'static>> {
        let id = random_token();
        let _: () = self.conn.clone().set_ex(self.key(&id), serde_json::to_string(session)?, self.idle_secs).await?;
        Ok(self.cookie(&self.cookie_name, id, Some(self.idle_secs)))
    }

    /// The session of this request, renewed if its access token is about to expire. `None` when
    /// there is none (or it can no longer be renewed).
    pub async fn current(&self, req: &HttpRequest, api: &Api) -> Option<Session> {
        let id = req.cookie(&self.cookie_name)?.value().to_string();
        let key = self.key(&id);
        // Read and extend the idle expiry in one round trip; the session is written back only
        // when its tokens were renewed.
        let raw: Option<String> = redis::cmd("GETEX")
            .arg(&key)
            .arg("EX")
            .arg(self.idle_secs)
            .query_async(&mut self.conn.clone())
            .await
            .ok()?;
        let mut session: Session = serde_json::from_str(&raw?).ok()?;
        if session.expires_at - chrono::Utc::now().timestamp() < 60 {
            let body = json!({"refresh_token": session.refresh_token});
            match api.post(Service::Users, "/api/v1/auth/refresh", None, &body).await {
                Ok(renewed) => {
                    session.token = renewed["token"].as_str()?.to_string();
                    session.refresh_token = renewed["refresh_token"].as_str()?.to_string();
                    session.expires_at = chrono::Utc::now().timestamp() + renewed["expires_in"].as_i64().unwrap_or(900);
                }
                Err(CallError::Unavailable(_)) => return Some(session),
                Err(_) => {
                    let _: Result<i64, _> = self.conn.clone().del(&key).await;
                    return None;
                }
            }
            let saved: Result<(), _> =
                self.conn.clone().set_ex(&key, serde_json::to_string(&session).ok()?, self.idle_secs).await;
            if let Err(e) = saved {
                tracing::warn!(error = %e, "renewed session not saved");
            }
        }
        Some(session)
    }

    /// Ends the session of this request; the cookie that clears it.
    pub async fn destroy(&self, req: &HttpRequest) -> Cookie<'static> {
        if let Some(c) = req.cookie(&self.cookie_name) {
            let _: Result<i64, _> = self.conn.clone().del(self.key(c.value())).await;
        }
        self.cookie(&self.cookie_name, String::new(), Some(0))
    }

    /// An HttpOnly, SameSite=Lax cookie, Secure over HTTPS.
    pub fn cookie(&self, name: &str, value: String, max_age_secs: Option<u64>) -> Cookie<'static> {
        let mut cookie = Cookie::build(name.to_string(), value)
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .finish();
        if let Some(secs) = max_age_secs {
            cookie.set_max_age(CookieDuration::seconds(i64::try_from(secs).unwrap_or(i64::MAX)));
        }
        cookie
    }
}

/// Sends the browser to sign in, and back here afterwards.
pub fn to_sign_in(req: &HttpRequest) -> HttpResponse {
    let here = req.uri().path_and_query().map_or("/", |p| p.as_str()).to_string();
    let next = crate::api::encode(&here);
    HttpResponse::SeeOther().insert_header(("location", format!("/login?next={next}"))).finish()
}

/// A redirect after a form (303, so the browser GETs the page).
pub fn back_to(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header(("location", location.to_string())).finish()
}
