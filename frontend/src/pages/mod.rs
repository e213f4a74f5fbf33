//! The pages.

pub mod admin;
pub mod auth;
pub mod comms;
pub mod incidents;
pub mod providers;
pub mod public;

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::session::{Session, same, to_sign_in};
use crate::{AppState, Layout, render};

pub type Form = web::Form<HashMap<String, String>>;
pub type Query = web::Query<HashMap<String, String>>;

/// The signed-in session, or a redirect to sign in.
pub async fn signed_in(req: &HttpRequest, state: &AppState) -> Result<Session, HttpResponse> {
    state.sessions.current(req, &state.api).await.ok_or_else(|| to_sign_in(req))
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct Message {
    pub layout: Layout,
    pub heading: String,
    pub text: String,
}

/// A page saying why the request cannot be done.
pub fn refuse(status: StatusCode, session: Option<&Session>, heading: &str, text: &str) -> HttpResponse {
    let page = Message { layout: Layout::new(heading, "", session), heading: heading.into(), text: text.into() };
    render(status, &page)
}

/// A form is accepted only with the session's CSRF token.
pub fn check_csrf(session: &Session, form: &HashMap<String, String>) -> Result<(), HttpResponse> {
    match form.get("csrf") {
        Some(sent) if same(sent, &session.csrf) => Ok(()),
        _ => Err(refuse(
            StatusCode::FORBIDDEN,
            Some(session),
            "This form has expired",
            "The form was not sent from this session's page. Go back, reload the page and try again.",
        )),
    }
}

/// Signed in, and the form carries the session's CSRF token.
pub async fn form_session(
    req: &HttpRequest,
    state: &AppState,
    form: &HashMap<String, String>,
) -> Result<Session, HttpResponse> {
    let session = signed_in(req, state).await?;
    check_csrf(&session, form)?;
    Ok(session)
}

/// A trimmed form field ("" when absent).
pub fn field<'a>(form: &'a HashMap<String, String>, name: &str) -> &'a str {
    form.get(name).map_or("", |v| v.trim())
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(public::home))
        .route("/login", web::get().to(auth::login_page))
        .route("/login", web::post().to(auth::login))
        .route("/logout", web::post().to(auth::logout))
        .route("/status", web::get().to(public::status_page))
        .route("/status/subscribe", web::post().to(public::subscribe))
        .route("/status/incidents/{id}", web::get().to(public::incident_page))
        .route("/{feed:history\\.(rss|atom)}", web::get().to(public::feed))
        .route("/incidents", web::get().to(incidents::list))
        .route("/incidents", web::post().to(incidents::declare))
        .route("/incidents/new", web::get().to(incidents::new_page))
        .route("/incidents/{id}", web::get().to(incidents::show))
        .route("/incidents/{id}/live", web::get().to(incidents::live))
        .route("/incidents/{id}/{action}", web::post().to(incidents::act))
        .route("/providers", web::get().to(providers::list))
        .route("/providers", web::post().to(providers::add))
        .route("/providers/graph.svg", web::get().to(providers::graph_svg))
        .route("/providers/{name}/refresh", web::post().to(providers::refresh))
        .route("/comms", web::get().to(comms::page_get))
        .route("/comms/{action}", web::post().to(comms::act))
        .route("/admin/users", web::get().to(admin::users))
        .route("/admin/users", web::post().to(admin::users_act))
        .route("/admin/api-keys", web::get().to(admin::api_keys))
        .route("/admin/api-keys", web::post().to(admin::api_keys_act))
        .route("/admin/flags", web::get().to(admin::flags))
        .route("/admin/flags", web::post().to(admin::flags_act))
        .route("/admin/integrations", web::get().to(admin::integrations))
        .route("/admin/integrations", web::post().to(admin::integrations_act));
}
