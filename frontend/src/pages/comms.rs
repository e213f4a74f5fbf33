//! Communications: the site banner, webhook endpoints with their delivery log and replay.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use reqwest::Method;
use serde_json::json;

use super::{Form, Query, field, form_session, refuse, signed_in};
use crate::api::{Service, encode};
use crate::views::{Attempt, Banner, Webhook};
use crate::{AppState, Layout, after, page, section};

#[derive(Template)]
#[template(path = "comms.html")]
pub struct CommsPage {
    pub layout: Layout,
    pub banner: Option<Banner>,
    pub webhooks: Vec<Webhook>,
    pub unavailable: Option<String>,
    /// The delivery log of each endpoint, newest first.
    pub deliveries: HashMap<String, Vec<Attempt>>,
    /// A secret shown once, after registering an endpoint.
    pub secret: Option<String>,
    /// Confirmed email subscribers of every incident.
    pub subscribers: Option<u64>,
}

impl CommsPage {
    pub fn log(&self, id: &str) -> Vec<Attempt> {
        self.deliveries.get(id).cloned().unwrap_or_default()
    }
}

pub async fn page_with(
    state: &AppState,
    req: &HttpRequest,
    query: &HashMap<String, String>,
    secret: Option<String>,
) -> HttpResponse {
    let session = match signed_in(req, state).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !session.user.is_sre() {
        return refuse(StatusCode::FORBIDDEN, Some(&session), "Not allowed", "Communications need the sre role.");
    }
    let token = Some(session.token.as_str());
    let banner = state.api.get::<Option<Banner>>(Service::Comms, "/api/v1/public/banner", None).await.ok().flatten();
    let (webhooks, unavailable) =
        section(state.api.get::<Vec<Webhook>>(Service::Comms, "/api/v1/webhooks", token).await);
    let webhooks = webhooks.unwrap_or_default();
    let mut deliveries = HashMap::new();
    for w in &webhooks {
        let path = format!("/api/v1/webhooks/{}/deliveries?limit=10", encode(&w.id));
        if let Ok(log) = state.api.get::<Vec<Attempt>>(Service::Comms, &path, token).await {
            deliveries.insert(w.id.clone(), log);
        }
    }
    let subscribers = state
        .api
        .get::<serde_json::Value>(Service::Comms, "/api/v1/subscriptions/count", token)
        .await
        .ok()
        .and_then(|c| c["confirmed"].as_u64());
    let layout = Layout::new("Communications", "comms", Some(&session)).with_messages(query);
    let banner = banner.filter(|b| !b.message.is_empty());
    page(&CommsPage { layout, banner, webhooks, unavailable, deliveries, secret, subscribers })
}

pub async fn page_get(req: HttpRequest, state: web::Data<AppState>, query: Query) -> HttpResponse {
    page_with(&state, &req, &query, None).await
}

pub async fn act(req: HttpRequest, state: web::Data<AppState>, action: web::Path<String>, form: Form) -> HttpResponse {
    let session = match form_session(&req, &state, &form).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let token = Some(session.token.as_str());
    let api = &state.api;
    let outcome = match action.as_str() {
        "banner" => {
            let body = json!({"message": field(&form, "message"), "level": field(&form, "level")});
            api.post(Service::Comms, "/api/v1/public/banner", token, &body).await.map(|_| "Banner shown.".to_string())
        }
        "banner-clear" => api
            .send(Method::DELETE, Service::Comms, "/api/v1/public/banner", token, None)
            .await
            .map(|_| "Banner removed.".to_string()),
        "webhook" => {
            let mut body = json!({"url": field(&form, "url")});
            if !field(&form, "kind").is_empty() {
                body["kind"] = json!(field(&form, "kind"));
            }
            match api.post(Service::Comms, "/api/v1/webhooks", token, &body).await {
                // The signing secret is shown once, on this answer's page.
                Ok(created) => {
                    let query = HashMap::from([(
                        "notice".to_string(),
                        "Endpoint registered. Copy its secret now: it is not shown again.".to_string(),
                    )]);
                    return page_with(&state, &req, &query, created["secret"].as_str().map(str::to_string)).await;
                }
                Err(e) => Err(e),
            }
        }
        "webhook-delete" => {
            let path = format!("/api/v1/webhooks/{}", encode(field(&form, "id")));
            api.send(Method::DELETE, Service::Comms, &path, token, None).await.map(|_| "Endpoint removed.".to_string())
        }
        "webhook-test" => {
            let path = format!("/api/v1/webhooks/{}/test", encode(field(&form, "id")));
            api.post(Service::Comms, &path, token, &json!({})).await.map(|_| "Test event queued.".to_string())
        }
        "replay" => {
            let path = format!(
                "/api/v1/webhooks/{}/deliveries/{}/replay",
                encode(field(&form, "id")),
                encode(field(&form, "delivery"))
            );
            api.post(Service::Comms, &path, token, &json!({})).await.map(|_| "Delivery queued again.".to_string())
        }
        _ => return refuse(StatusCode::NOT_FOUND, Some(&session), "No such action", "Go back to communications."),
    };
    after("/comms", outcome)
}
