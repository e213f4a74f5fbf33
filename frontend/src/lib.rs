//! The PolyStatus web UI: server-rendered pages (askama templates, checked at compile time and
//! escaping by default) over the services' REST APIs. Every page works without JavaScript; the
//! little there is adds live timeline updates.
#![forbid(unsafe_code)]
// Page handlers return early with the response to send (a redirect to sign in, a refusal).
#![allow(clippy::result_large_err)]

pub mod api;
pub mod pages;
pub mod session;
pub mod settings;
pub mod startup;
pub mod views;

use std::collections::HashMap;

use actix_web::HttpResponse;
use askama::Template;
use serde::Deserialize;

use crate::api::{Api, CallError, Service};
use crate::session::{Session, SessionUser, Sessions};

/// What handlers share.
pub struct AppState {
    pub api: Api,
    /// The public status data, read from comms at most once a second.
    pub public: PublicData,
    pub sessions: Sessions,
    pub stop: tokio_util::sync::CancellationToken,
}

/// The public status as comms serves it, kept for a second: the public page is what everyone
/// reads during an incident, and a second's delay is nothing next to comms' own refresh.
#[derive(Default)]
pub struct PublicData {
    current: tokio::sync::Mutex<Option<(std::time::Instant, std::sync::Arc<PublicSnapshot>)>>,
}

#[derive(Debug, Default)]
pub struct PublicSnapshot {
    pub incidents: Vec<views::PublicIncident>,
    pub banner: Option<views::Banner>,
    /// Why the incidents could not be read.
    pub unavailable: Option<String>,
}

impl PublicData {
    pub async fn get(&self, api: &Api) -> std::sync::Arc<PublicSnapshot> {
        let mut current = self.current.lock().await;
        if let Some((at, snapshot)) = current.as_ref()
            && at.elapsed() < std::time::Duration::from_secs(1)
        {
            return snapshot.clone();
        }
        let (incidents, banner) = tokio::join!(
            api.get::<Vec<views::PublicIncident>>(Service::Comms, "/api/v1/public/status", None),
            api.get::<Option<views::Banner>>(Service::Comms, "/api/v1/public/banner", None),
        );
        let (incidents, unavailable) = section(incidents);
        let snapshot = std::sync::Arc::new(PublicSnapshot {
            incidents: incidents.unwrap_or_default(),
            banner: banner.ok().flatten().filter(|b| !b.message.is_empty()),
            unavailable,
        });
        // A failed read is not kept: the next visitor asks again.
        if snapshot.unavailable.is_none() {
            *current = Some((std::time::Instant::now(), snapshot.clone()));
        }
        snapshot
    }
}

/// UI features gated by feature flags (a missing flag, or the flag service down, leaves a
/// feature on).
#[derive(Debug, Clone)]
pub struct Features {
    pub cause_graph: bool,
    pub postmortem_editor: bool,
}

pub const FLAG_CAUSE_GRAPH: &str = "ui-cause-graph";
pub const FLAG_POSTMORTEM_EDITOR: &str = "ui-postmortem-editor";

impl Features {
    pub const ALL_ON: Features = Features { cause_graph: true, postmortem_editor: true };

    /// The features for the signed-in user, from the flags service.
    pub async fn for_user(api: &Api, session: &Session) -> Features {
        #[derive(Deserialize)]
        struct Outcome {
            value: serde_json::Value,
        }
        let path = format!(
            "/flags?user={}&role={}&email={}",
            api::encode(&session.user.id),
            api::encode(&session.user.role),
            api::encode(&session.user.email)
        );
        let flags: HashMap<String, Outcome> = match api.get(Service::Flags, &path, Some(&session.token)).await {
            Ok(f) => f,
            Err(e) => {
                tracing::debug!(error = %e, "feature flags unavailable; UI features stay on");
                return Features::ALL_ON;
            }
        };
        let on = |key: &str| flags.get(key).is_none_or(|o| o.value != serde_json::Value::Bool(false));
        Features { cause_graph: on(FLAG_CAUSE_GRAPH), postmortem_editor: on(FLAG_POSTMORTEM_EDITOR) }
    }
}

/// What every page's frame shows.
pub struct Layout {
    pub title: String,
    pub user: Option<SessionUser>,
    pub csrf: String,
    /// Which navigation entry is current.
    pub nav: &'static str,
    pub notice: Option<String>,
    pub error: Option<String>,
}

impl Layout {
    pub fn new(title: impl Into<String>, nav: &'static str, session: Option<&Session>) -> Self {
        Layout {
            title: title.into(),
            user: session.map(|s| s.user.clone()),
            csrf: session.map(|s| s.csrf.clone()).unwrap_or_default(),
            nav,
            notice: None,
            error: None,
        }
    }

    /// With the notice or error carried by the query string after a form.
    pub fn with_messages(mut self, query: &HashMap<String, String>) -> Self {
        self.notice = query.get("notice").filter(|n| !n.is_empty()).map(|n| truncate(n, 300));
        self.error = query.get("error").filter(|n| !n.is_empty()).map(|n| truncate(n, 300));
        self
    }

    pub fn is_sre(&self) -> bool {
        self.user.as_ref().is_some_and(SessionUser::is_sre)
    }
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Renders a page as an HTML response.
pub fn render(status: actix_web::http::StatusCode, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(html) => HttpResponse::build(status).content_type("text/html; charset=utf-8").body(html),
        Err(e) => {
            tracing::error!(error = %e, "a page did not render");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("This page could not be shown.")
        }
    }
}

pub fn page(page: &impl Template) -> HttpResponse {
    render(actix_web::http::StatusCode::OK, page)
}

/// A section's content, or why it cannot be shown ("The incidents service is unavailable").
pub fn section<T>(result: Result<T, CallError>) -> (Option<T>, Option<String>) {
    match result {
        Ok(v) => (Some(v), None),
        Err(e) => (None, Some(e.to_string())),
    }
}

/// Where to go after a form: `path` with a notice or an error to show.
pub fn after(path: &str, outcome: Result<String, CallError>) -> HttpResponse {
    let (key, message) = match outcome {
        Ok(notice) => ("notice", notice),
        Err(e) => ("error", e.to_string()),
    };
    let sep = if path.contains('?') { '&' } else { '?' };
    session::back_to(&format!("{path}{sep}{key}={}", api::encode(&message)))
}
