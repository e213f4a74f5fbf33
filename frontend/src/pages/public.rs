//! The public status page (no sign-in) and the email subscription form.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde_json::json;

use super::{Form, Query, field};
use crate::api::{CallError, Service};
use crate::session::{back_to, random_token, same};
use crate::views::{Announcement, Banner, PublicIncident};
use crate::{AppState, Layout, after, page};

const SUBSCRIBE_CSRF: &str = "polystatus_subscribe_csrf";

#[derive(Template)]
#[template(path = "status.html")]
pub struct StatusPage {
    pub layout: Layout,
    pub overall: String,
    pub overall_class: &'static str,
    pub active: Vec<PublicIncident>,
    pub recent: Vec<PublicIncident>,
    pub banner: Option<Banner>,
    pub unavailable: Option<String>,
    pub rss: String,
    pub atom: String,
}

/// `/`: the incidents for a signed-in user, the public status for everyone else.
pub async fn home(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if state.sessions.current(&req, &state.api).await.is_some() { back_to("/incidents") } else { back_to("/status") }
}

pub async fn status_page(req: HttpRequest, state: web::Data<AppState>, query: Query) -> HttpResponse {
    let session = state.sessions.current(&req, &state.api).await;
    let public = state.public.get(&state.api).await;
    let (incidents, unavailable, banner) =
        (public.incidents.clone(), public.unavailable.clone(), public.banner.clone());
    let (active, recent): (Vec<_>, Vec<_>) = incidents.into_iter().partition(|i| i.resolved_at.is_none());
    let worst = active.iter().map(|i| i.sev).min();
    let (overall, overall_class) = match (&unavailable, worst) {
        (Some(_), _) => ("Status unavailable right now".to_string(), "unknown"),
        (None, None) => ("All systems operational".to_string(), "ok"),
        (None, Some(1)) => ("Major outage".to_string(), "major"),
        (None, Some(2)) => ("Partial outage".to_string(), "partial"),
        (None, Some(_)) => ("Degraded performance".to_string(), "minor"),
    };
    // The subscribe form works for visitors without a session: a double-submit CSRF cookie.
    let csrf = session.as_ref().map_or_else(random_token, |s| s.csrf.clone());
    let mut layout = Layout::new("Status", "status", session.as_ref()).with_messages(&query);
    layout.csrf = csrf.clone();
    let status = StatusPage {
        layout,
        overall,
        overall_class,
        active,
        recent,
        banner,
        unavailable,
        rss: "/history.rss".into(),
        atom: "/history.atom".into(),
    };
    let mut response = page(&status);
    if session.is_none() {
        let _ = response.add_cookie(&state.sessions.cookie(SUBSCRIBE_CSRF, csrf, Some(3600)));
    }
    response
        .headers_mut()
        .insert(actix_web::http::header::CACHE_CONTROL, actix_web::http::header::HeaderValue::from_static("no-cache"));
    response
}

#[derive(Template)]
#[template(path = "public_incident.html")]
pub struct PublicIncidentPage {
    pub layout: Layout,
    pub incident: PublicIncident,
    pub announcements: Vec<Announcement>,
}

/// One incident on the public page, with every announcement about it, newest first.
pub async fn incident_page(req: HttpRequest, state: web::Data<AppState>, id: web::Path<String>) -> HttpResponse {
    #[derive(serde::Deserialize)]
    struct Public {
        #[serde(flatten)]
        status: PublicIncident,
        #[serde(default)]
        announcements: Vec<Announcement>,
    }
    let session = state.sessions.current(&req, &state.api).await;
    let valid = id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let path = format!("/api/v1/public/incidents/{id}");
    let found = if valid {
        state.api.get::<Public>(Service::Comms, &path, None).await
    } else {
        Err(CallError::Refused { status: 404, detail: "no such incident".into() })
    };
    match found {
        Ok(mut public) => {
            public.announcements.sort_by_key(|a| std::cmp::Reverse(a.ts));
            let layout = Layout::new(public.status.title.clone(), "status", session.as_ref());
            page(&PublicIncidentPage { layout, incident: public.status, announcements: public.announcements })
        }
        Err(CallError::Refused { status: 404, .. }) => super::refuse(
            actix_web::http::StatusCode::NOT_FOUND,
            session.as_ref(),
            "No such incident",
            "It is not on the public status page.",
        ),
        Err(e) => super::refuse(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            session.as_ref(),
            "Unavailable",
            &e.to_string(),
        ),
    }
}

pub async fn subscribe(req: HttpRequest, state: web::Data<AppState>, form: Form) -> HttpResponse {
    let session = state.sessions.current(&req, &state.api).await;
    let expected = match &session {
        Some(s) => s.csrf.clone(),
        None => req.cookie(SUBSCRIBE_CSRF).map(|c| c.value().to_string()).unwrap_or_default(),
    };
    if expected.is_empty() || !same(&expected, field(&form, "csrf")) {
        return after(
            "/status",
            Err(CallError::Refused { status: 403, detail: "The form expired; please try again.".into() }),
        );
    }
    let email = field(&form, "email");
    let body = json!({"email": email});
    let outcome = state
        .api
        .post(Service::Comms, "/api/v1/subscriptions/email", None, &body)
        .await
        .map(|_| format!("Check {email}: a confirmation link is on its way."));
    after("/status", outcome)
}

/// Passes the feeds through from comms, so the links work from the UI's address.
pub async fn feed(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let (path, content_type) = match path.as_str() {
        "history.rss" => ("/history.rss", "application/rss+xml"),
        _ => ("/history.atom", "application/atom+xml"),
    };
    match state.api.bytes(Service::Comms, path).await {
        Some(b) => HttpResponse::Ok().content_type(content_type).body(b),
        None => {
            HttpResponse::ServiceUnavailable().content_type("text/plain").body("The feed is unavailable right now.")
        }
    }
}
