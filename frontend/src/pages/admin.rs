//! Administration: users and roles, API keys (the secret shown once), feature flags (toggle,
//! and edit rules and rollouts as the flag's JSON definition), and the Slack app and CI sources.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use reqwest::Method;
use serde_json::{Value, json};

use super::{Form, Query, field, form_session, refuse, signed_in};
use crate::api::{CallError, Service, encode};
use crate::session::Session;
use crate::views::{ApiKey, CiSource, Flag, SlackLink, SlackSettings, User};
use crate::{AppState, Layout, after, page, section};

#[derive(Template)]
#[template(path = "admin_users.html")]
pub struct UsersPage {
    pub layout: Layout,
    pub users: Vec<User>,
    pub unavailable: Option<String>,
    /// An invitation token, shown once after inviting.
    pub invite: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_keys.html")]
pub struct KeysPage {
    pub layout: Layout,
    pub keys: Vec<ApiKey>,
    pub unavailable: Option<String>,
    pub secret: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_flags.html")]
pub struct FlagsPage {
    pub layout: Layout,
    pub flags: Vec<(Flag, String)>,
    pub unavailable: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_integrations.html")]
pub struct IntegrationsPage {
    pub layout: Layout,
    pub slack: Option<SlackSettings>,
    pub links: Vec<SlackLink>,
    pub sources: Vec<CiSource>,
    pub unavailable: Option<String>,
    /// A CI source's generated secret, shown once.
    pub secret: Option<String>,
}

async fn admin(req: &HttpRequest, state: &AppState) -> Result<Session, HttpResponse> {
    let session = signed_in(req, state).await?;
    if !session.user.is_admin() {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            Some(&session),
            "Not allowed",
            "Administration needs the admin role.",
        ));
    }
    Ok(session)
}

async fn users_page(
    state: &AppState,
    session: &Session,
    query: &HashMap<String, String>,
    invite: Option<String>,
) -> HttpResponse {
    let (users, unavailable) =
        section(state.api.get::<Vec<User>>(Service::Users, "/api/v1/users", Some(&session.token)).await);
    let layout = Layout::new("Users", "admin", Some(session)).with_messages(query);
    page(&UsersPage { layout, users: users.unwrap_or_default(), unavailable, invite })
}

pub async fn users(req: HttpRequest, state: web::Data<AppState>, query: Query) -> HttpResponse {
    match admin(&req, &state).await {
        Ok(session) => users_page(&state, &session, &query, None).await,
        Err(r) => r,
    }
}

pub async fn users_act(req: HttpRequest, state: web::Data<AppState>, form: Form) -> HttpResponse {
    let session = match form_session(&req, &state, &form).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let token = Some(session.token.as_str());
    let outcome = match field(&form, "action") {
        "create" => {
            let mut body =
                json!({"name": field(&form, "name"), "email": field(&form, "email"), "role": field(&form, "role")});
            if !field(&form, "password").is_empty() {
                body["password"] = json!(field(&form, "password"));
            }
            match state.api.post(Service::Users, "/api/v1/users", token, &body).await {
                Ok(created) => {
                    let query = HashMap::from([("notice".to_string(), "User created.".to_string())]);
                    let invite = created["invite_token"].as_str().map(str::to_string);
                    return users_page(&state, &session, &query, invite).await;
                }
                Err(e) => Err(e),
            }
        }
        "role" => {
            let path = format!("/api/v1/users/{}", encode(field(&form, "id")));
            let body = json!({"role": field(&form, "role")});
            state
                .api
                .send(Method::PUT, Service::Users, &path, token, Some(&body))
                .await
                .map(|_| "Role changed.".to_string())
        }
        "delete" => {
            let path = format!("/api/v1/users/{}", encode(field(&form, "id")));
            state
                .api
                .send(Method::DELETE, Service::Users, &path, token, None)
                .await
                .map(|_| "User removed.".to_string())
        }
        _ => Err(CallError::Refused { status: 400, detail: "Unknown action.".into() }),
    };
    after("/admin/users", outcome)
}

async fn keys_page(
    state: &AppState,
    session: &Session,
    query: &HashMap<String, String>,
    secret: Option<String>,
) -> HttpResponse {
    let (keys, unavailable) =
        section(state.api.get::<Vec<ApiKey>>(Service::Users, "/api/v1/api-keys", Some(&session.token)).await);
    let layout = Layout::new("API keys", "admin", Some(session)).with_messages(query);
    page(&KeysPage { layout, keys: keys.unwrap_or_default(), unavailable, secret })
}

pub async fn api_keys(req: HttpRequest, state: web::Data<AppState>, query: Query) -> HttpResponse {
    match admin(&req, &state).await {
        Ok(session) => keys_page(&state, &session, &query, None).await,
        Err(r) => r,
    }
}

pub async fn api_keys_act(req: HttpRequest, state: web::Data<AppState>, form: Form) -> HttpResponse {
    let session = match form_session(&req, &state, &form).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let token = Some(session.token.as_str());
    let outcome = match field(&form, "action") {
        "create" => {
            let body = json!({"name": field(&form, "name"), "role": field(&form, "role")});
            match state.api.post(Service::Users, "/api/v1/api-keys", token, &body).await {
                Ok(created) => {
                    let query = HashMap::from([(
                        "notice".to_string(),
                        "Key created. Copy it now: it is not shown again.".to_string(),
                    )]);
                    return keys_page(&state, &session, &query, created["secret"].as_str().map(str::to_string)).await;
                }
                Err(e) => Err(e),
            }
        }
        "revoke" => {
            let path = format!("/api/v1/api-keys/{}", encode(field(&form, "id")));
            state.api.send(Method::DELETE, Service::Users, &path, token, None).await.map(|_| "Key revoked.".to_string())
        }
        _ => Err(CallError::Refused { status: 400, detail: "Unknown action.".into() }),
    };
    after("/admin/api-keys", outcome)
}

pub async fn flags(req: HttpRequest, state: web::Data<AppState>, query: Query) -> HttpResponse {
    let session = match admin(&req, &state).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let raw = state.api.get::<Vec<Value>>(Service::Flags, "/admin/flags", Some(&session.token)).await;
    let (raw, unavailable) = section(raw);
    let flags = raw
        .unwrap_or_default()
        .into_iter()
        .filter_map(|v| {
            let pretty = serde_json::to_string_pretty(&editable(&v)).ok()?;
            Some((serde_json::from_value::<Flag>(v).ok()?, pretty))
        })
        .collect();
    let layout = Layout::new("Feature flags", "admin", Some(&session)).with_messages(&query);
    page(&FlagsPage { layout, flags, unavailable })
}

/// The definition as the admin edits it: without the bookkeeping fields.
fn editable(flag: &Value) -> Value {
    let mut v = flag.clone();
    if let Some(o) = v.as_object_mut() {
        for k in ["version", "created_at", "updated_at", "updated_by"] {
            o.remove(k);
        }
    }
    v
}

pub async fn flags_act(req: HttpRequest, state: web::Data<AppState>, form: Form) -> HttpResponse {
    let session = match form_session(&req, &state, &form).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let token = Some(session.token.as_str());
    let outcome = match field(&form, "action") {
        "toggle" => {
            let on = field(&form, "on") == "true";
            let path = format!("/admin/toggle/{}", encode(field(&form, "id")));
            state
                .api
                .post(Service::Flags, &path, token, &json!({"on": on}))
                .await
                .map(|_| format!("{} is now {}.", field(&form, "id"), if on { "on" } else { "off" }))
        }
        "save" => match serde_json::from_str::<Value>(field(&form, "definition")) {
            Ok(definition) => state
                .api
                .post(Service::Flags, "/admin/flags", token, &definition)
                .await
                .map(|f| format!("{} saved.", f["id"].as_str().unwrap_or("The flag"))),
            Err(e) => Err(CallError::Refused { status: 400, detail: format!("The definition is not valid JSON: {e}") }),
        },
        "delete" => {
            let path = format!("/admin/flags/{}", encode(field(&form, "id")));
            state
                .api
                .send(Method::DELETE, Service::Flags, &path, token, None)
                .await
                .map(|_| "Flag deleted.".to_string())
        }
        _ => Err(CallError::Refused { status: 400, detail: "Unknown action.".into() }),
    };
    after("/admin/flags", outcome)
}

async fn integrations_page(
    state: &AppState,
    session: &Session,
    query: &HashMap<String, String>,
    secret: Option<String>,
) -> HttpResponse {
    let token = Some(session.token.as_str());
    let (slack, links, sources) = futures_util::join!(
        state.api.get::<SlackSettings>(Service::Comms, "/api/v1/chatops/slack", token),
        state.api.get::<Vec<SlackLink>>(Service::Comms, "/api/v1/chatops/slack/links", token),
        state.api.get::<Vec<CiSource>>(Service::Comms, "/api/v1/ci/sources", token),
    );
    let (slack, unavailable) = section(slack);
    let layout = Layout::new("Slack and CI", "admin", Some(session)).with_messages(query);
    page(&IntegrationsPage {
        layout,
        slack,
        links: links.unwrap_or_default(),
        sources: sources.unwrap_or_default(),
        unavailable,
        secret,
    })
}

pub async fn integrations(req: HttpRequest, state: web::Data<AppState>, query: Query) -> HttpResponse {
    match admin(&req, &state).await {
        Ok(session) => integrations_page(&state, &session, &query, None).await,
        Err(r) => r,
    }
}

/// Words separated by commas or spaces.
fn words(raw: &str) -> Vec<&str> {
    raw.split([',', ' ', '\n']).map(str::trim).filter(|w| !w.is_empty()).collect()
}

pub async fn integrations_act(req: HttpRequest, state: web::Data<AppState>, form: Form) -> HttpResponse {
    let session = match form_session(&req, &state, &form).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let token = Some(session.token.as_str());
    let outcome = match field(&form, "action") {
        "slack" => {
            let mut body =
                json!({"enabled": field(&form, "enabled") == "on", "channels": words(field(&form, "channels"))});
            // Blank secrets keep the ones set before.
            for secret in ["signing_secret", "bot_token"] {
                if !field(&form, secret).trim().is_empty() {
                    body[secret] = json!(field(&form, secret).trim());
                }
            }
            if !field(&form, "command").trim().is_empty() {
                body["command"] = json!(field(&form, "command").trim());
            }
            state
                .api
                .send(Method::PUT, Service::Comms, "/api/v1/chatops/slack", token, Some(&body))
                .await
                .map(|_| "Slack settings saved.".to_string())
        }
        "link" => {
            let path = format!("/api/v1/chatops/slack/links/{}", encode(field(&form, "slack_user").trim()));
            let body = json!({"email": field(&form, "email")});
            state
                .api
                .send(Method::PUT, Service::Comms, &path, token, Some(&body))
                .await
                .map(|_| format!("{} linked.", field(&form, "slack_user").trim()))
        }
        "unlink" => {
            let path = format!("/api/v1/chatops/slack/links/{}", encode(field(&form, "slack_user")));
            state
                .api
                .send(Method::DELETE, Service::Comms, &path, token, None)
                .await
                .map(|_| "Link removed.".to_string())
        }
        "source" => {
            let name = field(&form, "name").trim();
            let sev: i64 = field(&form, "sev").trim().parse().unwrap_or(0);
            let mut body = json!({
                "kind": field(&form, "kind"), "branches": words(field(&form, "branches")), "sev": sev,
                "slack_channel": field(&form, "slack_channel").trim(),
            });
            if !field(&form, "secret").trim().is_empty() {
                body["secret"] = json!(field(&form, "secret").trim());
            }
            let path = format!("/api/v1/ci/sources/{}", encode(name));
            match state.api.send(Method::PUT, Service::Comms, &path, token, Some(&body)).await {
                Ok(saved) => {
                    let query = HashMap::from([("notice".to_string(), format!("CI source {name} saved."))]);
                    let secret = saved["secret"].as_str().map(str::to_string);
                    return integrations_page(&state, &session, &query, secret).await;
                }
                Err(e) => Err(e),
            }
        }
        "source-delete" => {
            let path = format!("/api/v1/ci/sources/{}", encode(field(&form, "name")));
            state
                .api
                .send(Method::DELETE, Service::Comms, &path, token, None)
                .await
                .map(|_| "CI source removed.".to_string())
        }
        _ => Err(CallError::Refused { status: 400, detail: "Unknown action.".into() }),
    };
    after("/admin/integrations", outcome)
}
