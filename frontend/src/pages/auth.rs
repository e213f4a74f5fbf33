//! Sign in and out.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde_json::json;

use super::{Form, Query, field, signed_in};
use crate::api::{CallError, Service};
use crate::session::{Session, SessionUser, back_to, random_token, same};
use crate::{AppState, Layout, render};

const LOGIN_CSRF: &str = "polystatus_login_csrf";

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub layout: Layout,
    pub next: String,
    pub email: String,
}

/// Only a path of this site: never `//elsewhere` or `https://...`.
fn local(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next.to_string()
    } else {
        "/incidents".into()
    }
}

fn login_form(state: &AppState, next: &str, email: &str, error: Option<String>, status: StatusCode) -> HttpResponse {
    login_form_with(state, next, email, error, None, status)
}

fn login_form_with(
    state: &AppState,
    next: &str,
    email: &str,
    error: Option<String>,
    notice: Option<String>,
    status: StatusCode,
) -> HttpResponse {
    let csrf = random_token();
    let mut layout = Layout::new("Sign in", "login", None);
    layout.csrf = csrf.clone();
    layout.error = error;
    layout.notice = notice;
    let page = LoginPage { layout, next: local(next), email: email.into() };
    let mut response = render(status, &page);
    let cookie = state.sessions.cookie(LOGIN_CSRF, csrf, Some(3600));
    if let Err(e) = response.add_cookie(&cookie) {
        tracing::warn!(error = %e, "sign-in cookie not set");
    }
    response
}

pub async fn login_page(req: HttpRequest, state: web::Data<AppState>, query: Query) -> HttpResponse {
    if state.sessions.current(&req, &state.api).await.is_some() {
        return back_to(&local(query.get("next").map_or("", String::as_str)));
    }
    let next = query.get("next").map_or("", String::as_str);
    let notice = query.get("notice").map(|n| n.chars().take(200).collect());
    let error = query.get("error").map(|n| n.chars().take(200).collect());
    let mut response = login_form_with(&state, next, "", error, notice, StatusCode::OK);
    response
        .headers_mut()
        .insert(actix_web::http::header::CACHE_CONTROL, actix_web::http::header::HeaderValue::from_static("no-store"));
    response
}

pub async fn login(req: HttpRequest, state: web::Data<AppState>, form: Form) -> HttpResponse {
    let next = field(&form, "next").to_string();
    let email = field(&form, "email").to_string();
    let cookie = req.cookie(LOGIN_CSRF).map(|c| c.value().to_string()).unwrap_or_default();
    if cookie.is_empty() || !same(&cookie, field(&form, "csrf")) {
        return login_form(
            &state,
            &next,
            &email,
            Some("The sign-in form expired; please try again.".into()),
            StatusCode::FORBIDDEN,
        );
    }
    let password = form.get("password").map_or("", String::as_str);
    if email.is_empty() || password.is_empty() {
        return login_form(
            &state,
            &next,
            &email,
            Some("Enter your email and password.".into()),
            StatusCode::BAD_REQUEST,
        );
    }
    let body = json!({"email": email, "password": password});
    let signed = match state.api.post(Service::Users, "/api/v1/auth/login", None, &body).await {
        Ok(s) => s,
        Err(CallError::Unauthorized) => {
            return login_form(
                &state,
                &next,
                &email,
                Some("Wrong email or password.".into()),
                StatusCode::UNAUTHORIZED,
            );
        }
        Err(e @ CallError::Refused { status: 429, .. }) => {
            return login_form(
                &state,
                &next,
                &email,
                Some(format!("Too many attempts: {e}")),
                StatusCode::TOO_MANY_REQUESTS,
            );
        }
        Err(e) => return login_form(&state, &next, &email, Some(e.to_string()), StatusCode::SERVICE_UNAVAILABLE),
    };
    let token = signed["token"].as_str().unwrap_or_default().to_string();
    let me =
        state.api.get::<serde_json::Value>(Service::Users, "/api/v1/auth/me", Some(&token)).await.unwrap_or_default();
    let user = SessionUser {
        id: signed["user_id"].as_str().unwrap_or_default().to_string(),
        name: me["name"].as_str().unwrap_or(&email).to_string(),
        email: me["user"]["email"].as_str().unwrap_or(&email).to_string(),
        role: signed["role"].as_str().unwrap_or("viewer").to_string(),
    };
    let session = Session {
        token,
        refresh_token: signed["refresh_token"].as_str().unwrap_or_default().to_string(),
        expires_at: chrono::Utc::now().timestamp() + signed["expires_in"].as_i64().unwrap_or(900),
        user,
        csrf: random_token(),
    };
    match state.sessions.create(&session).await {
        Ok(cookie) => {
            let mut response = back_to(&local(&next));
            let _ = response.add_cookie(&cookie);
            let _ = response.add_removal_cookie(&state.sessions.cookie(LOGIN_CSRF, String::new(), None));
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "session not stored");
            login_form(
                &state,
                &next,
                &email,
                Some("Sessions are unavailable right now; try again shortly.".into()),
                StatusCode::SERVICE_UNAVAILABLE,
            )
        }
    }
}

pub async fn logout(req: HttpRequest, state: web::Data<AppState>, form: Form) -> HttpResponse {
    let session = match signed_in(&req, &state).await {
        Ok(s) => s,
        Err(_) => return back_to("/login"),
    };
    if let Err(refused) = super::check_csrf(&session, &form) {
        return refused;
    }
    let body = json!({"refresh_token": session.refresh_token});
    if let Err(e) = state.api.post(Service::Users, "/api/v1/auth/logout", None, &body).await {
        tracing::info!(error = %e, "refresh token not revoked at sign-out");
    }
    let cookie = state.sessions.destroy(&req).await;
    let mut response = back_to("/login?notice=Signed+out");
    let _ = response.add_cookie(&cookie);
    response
}
