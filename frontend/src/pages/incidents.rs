//! Incidents: the list with filters, declaring one, and the incident page with its timeline
//! (live over Server-Sent Events), lifecycle, assignment, notes, edits, following, the
//! postmortem editor, action items, provider events and public announcements.

use std::collections::HashMap;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use reqwest::Method;
use serde_json::{Value, json};

use super::{Form, Query, field, form_session, refuse, signed_in};
use crate::api::{CallError, Service, encode};
use crate::session::Session;
use crate::views::{ActionItem, Incident, Postmortem, TimelineEntry, User, when};
use crate::{AppState, Features, Layout, after, page, section};

#[derive(Template)]
#[template(path = "incidents.html")]
pub struct ListPage {
    pub layout: Layout,
    pub incidents: Vec<Incident>,
    pub unavailable: Option<String>,
    pub filters: HashMap<String, String>,
    pub next: Option<String>,
    pub next_query: String,
}

impl ListPage {
    pub fn filter(&self, name: &str) -> String {
        self.filters.get(name).cloned().unwrap_or_default()
    }

    pub fn selected(&self, name: &str, value: &str) -> bool {
        self.filters.get(name).is_some_and(|v| v == value)
    }
}

#[derive(Template)]
#[template(path = "declare.html")]
pub struct DeclarePage {
    pub layout: Layout,
}

#[derive(Template)]
#[template(path = "incident.html")]
pub struct IncidentPage {
    pub layout: Layout,
    pub incident: Incident,
    pub timeline: Vec<TimelineEntry>,
    pub timeline_unavailable: Option<String>,
    pub users: Vec<User>,
    pub users_unavailable: Option<String>,
    pub postmortem: Option<Postmortem>,
    pub items: Vec<ActionItem>,
    pub features: Features,
    /// The draft being previewed, rendered.
    pub preview: Option<String>,
    pub following: bool,
}

impl IncidentPage {
    pub fn user_name(&self, id: &str) -> String {
        self.users.iter().find(|u| u.id == id).map_or_else(|| id.to_string(), |u| u.name.clone())
    }

    pub fn pm(&self, field: &str) -> String {
        let Some(p) = &self.postmortem else { return String::new() };
        match field {
            "what_happened" => p.what_happened.clone(),
            "root_cause" => p.root_cause.clone(),
            "impact" => p.impact.clone(),
            "detection" => p.detection.clone(),
            "resolution" => p.resolution.clone(),
            _ => p.lessons_learned.clone(),
        }
    }

    pub fn published(&self) -> bool {
        self.postmortem.as_ref().is_some_and(|p| p.published_at.is_some())
    }
}

#[derive(Template)]
#[template(path = "timeline_entry.html")]
pub struct EntryFragment<'a> {
    pub entry: &'a TimelineEntry,
    pub at: String,
}

/// Filters the list understands, passed on to the incidents service.
const FILTERS: [&str; 5] = ["status", "sev", "service", "q", "cursor"];

pub async fn list(req: HttpRequest, state: web::Data<AppState>, query: Query) -> HttpResponse {
    let session = match signed_in(&req, &state).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let mut params: Vec<String> = FILTERS
        .iter()
        .filter_map(|f| query.get(*f).filter(|v| !v.trim().is_empty()).map(|v| format!("{f}={}", encode(v.trim()))))
        .collect();
    if query.get("mine").is_some_and(|m| m == "on") {
        params.push("commander=me".into());
    }
    params.push("limit=25".into());
    let path = format!("/api/v1/incidents?{}", params.join("&"));
    let answer =
        state.api.call::<Vec<Incident>>(Method::GET, Service::Incidents, &path, Some(&session.token), None).await;
    let (incidents, next, unavailable) = match answer {
        Ok(a) => (a.body, a.next, None),
        Err(e) => (Vec::new(), None, Some(e.to_string())),
    };
    let filters: HashMap<String, String> = query.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let next_query = ["status", "sev", "service", "q", "mine"]
        .iter()
        .filter_map(|f| filters.get(*f).map(|v| format!("&{f}={}", encode(v))))
        .collect::<String>();
    let layout = Layout::new("Incidents", "incidents", Some(&session)).with_messages(&query);
    page(&ListPage { layout, incidents, unavailable, filters, next, next_query })
}

pub async fn new_page(req: HttpRequest, state: web::Data<AppState>, query: Query) -> HttpResponse {
    match signed_in(&req, &state).await {
        Ok(s) => page(&DeclarePage {
            layout: Layout::new("Declare an incident", "incidents", Some(&s)).with_messages(&query),
        }),
        Err(r) => r,
    }
}

pub async fn declare(req: HttpRequest, state: web::Data<AppState>, form: Form) -> HttpResponse {
    let session = match form_session(&req, &state, &form).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let services: Vec<&str> = field(&form, "services").split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    let body = json!({
        "title": field(&form, "title"),
        "sev": field(&form, "sev").parse::<i64>().unwrap_or(0),
        "services": services,
        "summary": field(&form, "summary"),
    });
    match state.api.post(Service::Incidents, "/api/v1/incidents", Some(&session.token), &body).await {
        Ok(created) => {
            let id = created["id"].as_str().unwrap_or_default();
            after(&format!("/incidents/{id}"), Ok("Incident declared.".into()))
        }
        Err(e) => after("/incidents/new", Err(e)),
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

pub async fn show(req: HttpRequest, state: web::Data<AppState>, id: web::Path<String>, query: Query) -> HttpResponse {
    let session = match signed_in(&req, &state).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !valid_id(&id) {
        return refuse(StatusCode::NOT_FOUND, Some(&session), "No such incident", "Check the address.");
    }
    incident_page(&state, &session, &id, &query, None).await
}

async fn incident_page(
    state: &AppState,
    session: &Session,
    id: &str,
    query: &HashMap<String, String>,
    preview: Option<String>,
) -> HttpResponse {
    let api = &state.api;
    let token = Some(session.token.as_str());
    let incident = match api.get::<Incident>(Service::Incidents, &format!("/api/v1/incidents/{id}"), token).await {
        Ok(i) => i,
        Err(CallError::Refused { status: 404, .. }) => {
            return refuse(StatusCode::NOT_FOUND, Some(session), "No such incident", "It may have been mistyped.");
        }
        Err(e) => {
            return refuse(StatusCode::SERVICE_UNAVAILABLE, Some(session), "Incident unavailable", &e.to_string());
        }
    };
    let (timeline_path, postmortem_path, items_path) = (
        format!("/api/v1/incidents/{id}/timeline?limit=500"),
        format!("/api/v1/incidents/{id}/postmortem"),
        format!("/api/v1/incidents/{id}/action-items"),
    );
    let (timeline, users, postmortem, items, features) = tokio::join!(
        api.get::<Vec<TimelineEntry>>(Service::Incidents, &timeline_path, token),
        api.get::<Vec<User>>(Service::Users, "/api/v1/users", token),
        api.get::<Postmortem>(Service::Incidents, &postmortem_path, token),
        api.get::<Vec<ActionItem>>(Service::Incidents, &items_path, token),
        Features::for_user(api, session),
    );
    let (timeline, timeline_unavailable) = section(timeline);
    let (users, users_unavailable) = section(users);
    let following = incident.followers.contains(&session.user.id);
    let layout =
        Layout::new(format!("{} {}", incident.id, incident.title), "incidents", Some(session)).with_messages(query);
    page(&IncidentPage {
        layout,
        incident,
        timeline: timeline.unwrap_or_default(),
        timeline_unavailable,
        users: users.unwrap_or_default(),
        users_unavailable,
        postmortem: postmortem.ok(),
        items: items.unwrap_or_default(),
        features,
        preview,
        following,
    })
}

/// Every form of the incident page posts here: `/incidents/{id}/{action}`.
pub async fn act(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    form: Form,
) -> HttpResponse {
    let (id, action) = path.into_inner();
    let session = match form_session(&req, &state, &form).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !valid_id(&id) {
        return refuse(StatusCode::NOT_FOUND, Some(&session), "No such incident", "Check the address.");
    }
    let here = format!("/incidents/{id}");
    let api = &state.api;
    let token = Some(session.token.as_str());
    let call = |method: Method, path: String, body: Option<Value>| async move {
        api.send(method, Service::Incidents, &path, token, body.as_ref()).await
    };
    let outcome = match action.as_str() {
        "status" => {
            let body = json!({"status": field(&form, "status"), "reason": field(&form, "reason")});
            call(Method::POST, format!("/api/v1/incidents/{id}/status"), Some(body))
                .await
                .map(|_| "Status changed.".to_string())
        }
        "assign" => {
            let commander = field(&form, "commander");
            let body = if commander.is_empty() { json!({"commander": null}) } else { json!({"commander": commander}) };
            call(Method::POST, format!("/api/v1/incidents/{id}/assign"), Some(body))
                .await
                .map(|_| "Commander set.".to_string())
        }
        "note" => {
            let kind = match field(&form, "type") {
                "" => "note",
                k => k,
            };
            let body = json!({"type": kind, "message": field(&form, "message")});
            call(Method::POST, format!("/api/v1/incidents/{id}/timeline"), Some(body))
                .await
                .map(|_| "Added to the timeline.".to_string())
        }
        "edit" => {
            let mut body = json!({"title": field(&form, "title"), "summary": field(&form, "summary")});
            if let Ok(sev) = field(&form, "sev").parse::<i64>() {
                body["sev"] = json!(sev);
            }
            call(Method::PATCH, format!("/api/v1/incidents/{id}"), Some(body)).await.map(|_| "Saved.".to_string())
        }
        "follow" => call(Method::POST, format!("/api/v1/incidents/{id}/follow"), None)
            .await
            .map(|_| "You follow this incident.".to_string()),
        "unfollow" => call(Method::DELETE, format!("/api/v1/incidents/{id}/follow"), None)
            .await
            .map(|_| "You no longer follow it.".to_string()),
        "postmortem" => {
            let text = |name: &str| field(&form, name).to_string();
            if form.get("preview").is_some() {
                let draft = ["what_happened", "root_cause", "impact", "detection", "resolution", "lessons_learned"]
                    .iter()
                    .map(|f| format!("## {}\n\n{}", f.replace('_', " "), text(f)))
                    .collect::<Vec<_>>()
                    .join("\n\n");
                let query = HashMap::from([("notice".to_string(), "Preview below; nothing saved yet.".to_string())]);
                return incident_page(&state, &session, &id, &query, Some(markdown(&draft))).await;
            }
            let body = json!({
                "what_happened": text("what_happened"), "root_cause": text("root_cause"), "impact": text("impact"),
                "detection": text("detection"), "resolution": text("resolution"), "lessons_learned": text("lessons_learned"),
                "action_items": [],
            });
            call(Method::POST, format!("/api/v1/incidents/{id}/postmortem"), Some(body))
                .await
                .map(|_| "Postmortem saved.".to_string())
        }
        "publish" => call(Method::POST, format!("/api/v1/incidents/{id}/postmortem/publish"), None)
            .await
            .map(|_| "Postmortem published.".to_string()),
        "action-item" => {
            let mut body = json!({"title": field(&form, "title")});
            if !field(&form, "owner").is_empty() {
                body["owner"] = json!(field(&form, "owner"));
            }
            if !field(&form, "due_date").is_empty() {
                body["due_date"] = json!(field(&form, "due_date"));
            }
            call(Method::POST, format!("/api/v1/incidents/{id}/action-items"), Some(body))
                .await
                .map(|_| "Action item added.".to_string())
        }
        "action-item-done" => {
            let item = field(&form, "item");
            let done = field(&form, "done") == "true";
            call(
                Method::PATCH,
                format!("/api/v1/incidents/{id}/action-items/{}", encode(item)),
                Some(json!({"done": done})),
            )
            .await
            .map(|_| "Action item updated.".to_string())
        }
        "announce" => {
            let body = json!({"incident_id": id, "message": field(&form, "message"), "state": field(&form, "state")});
            api.post(Service::Comms, "/api/v1/public/announce", token, &body)
                .await
                .map(|_| "Announced on the public page.".to_string())
        }
        _ => return refuse(StatusCode::NOT_FOUND, Some(&session), "No such action", "Go back to the incident."),
    };
    after(&here, outcome)
}

/// New timeline entries as Server-Sent Events (`event: entry`, an HTML `<li>` per entry): the
/// incident page's script appends them; without JavaScript a reload shows them.
pub async fn live(req: HttpRequest, state: web::Data<AppState>, id: web::Path<String>, query: Query) -> HttpResponse {
    let session = match signed_in(&req, &state).await {
        Ok(s) => s,
        Err(_) => return HttpResponse::Unauthorized().finish(),
    };
    if !valid_id(&id) {
        return HttpResponse::NotFound().finish();
    }
    let seen: usize = query.get("seen").and_then(|s| s.parse().ok()).unwrap_or(0);
    let path = format!("/api/v1/incidents/{id}/timeline?limit=500");
    let state = state.into_inner();
    let stop = state.stop.clone();
    let events = futures_util::stream::unfold((seen, session, true), move |(seen, session, first)| {
        let state = state.clone();
        let path = path.clone();
        let stop = stop.clone();
        async move {
            if !first {
                tokio::select! {
                    () = stop.cancelled() => return None,
                    () = tokio::time::sleep(Duration::from_secs(2)) => {}
                }
            }
            // The session may have been renewed meanwhile; its token is reread each time.
            let entries = state.api.get::<Vec<TimelineEntry>>(Service::Incidents, &path, Some(&session.token)).await;
            let chunk = match entries {
                Ok(entries) if entries.len() > seen => {
                    let mut out = String::new();
                    for entry in &entries[seen..] {
                        let html = EntryFragment { entry, at: when(&entry.ts) }.render().unwrap_or_default();
                        out.push_str(&format!("event: entry\ndata: {}\n\n", html.replace('\n', "")));
                    }
                    return Some((Ok::<_, actix_web::Error>(web::Bytes::from(out)), (entries.len(), session, false)));
                }
                Ok(_) => ": nothing new\n\n".to_string(),
                Err(CallError::Unauthorized) => return None,
                Err(_) => "event: unavailable\ndata: The timeline cannot be refreshed right now.\n\n".to_string(),
            };
            Some((Ok(web::Bytes::from(chunk)), (seen, session, false)))
        }
    });
    HttpResponse::Ok()
        .insert_header(("content-type", "text/event-stream"))
        .insert_header(("cache-control", "no-cache"))
        .streaming(events)
}

/// A small, safe Markdown subset for the postmortem preview: everything is escaped first, then
/// `#` headings, `-` lists and paragraphs become HTML.
pub fn markdown(text: &str) -> String {
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let mut html = String::new();
    let mut in_list = false;
    for block in text.split("\n\n") {
        for line in block.lines() {
            let line = line.trim_end();
            if let Some(item) = line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) {
                if !in_list {
                    html.push_str("<ul>");
                    in_list = true;
                }
                html.push_str(&format!("<li>{}</li>", escape(item)));
                continue;
            }
            if in_list {
                html.push_str("</ul>");
                in_list = false;
            }
            let hashes = line.chars().take_while(|c| *c == '#').count();
            if (1..=6).contains(&hashes) && line[hashes..].starts_with(' ') {
                // Headings sit under the page's own h1 and h2.
                let tag = (hashes + 1).clamp(3, 6);
                html.push_str(&format!("<h{tag}>{}</h{tag}>", escape(line[hashes..].trim())));
            } else if !line.trim().is_empty() {
                html.push_str(&format!("<p>{}</p>", escape(line)));
            }
        }
    }
    if in_list {
        html.push_str("</ul>");
    }
    html
}

#[cfg(test)]
mod tests {
    use super::markdown;

    #[test]
    fn the_preview_escapes_everything_it_does_not_format() {
        let html = markdown("## What happened\n\nA <script>alert(1)</script> & more\n\n- one\n- two");
        assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"), "{html}");
        assert!(html.contains("<ul><li>one</li><li>two</li></ul>"), "{html}");
        assert!(html.starts_with("<h3>"), "{html}");
    }
}
