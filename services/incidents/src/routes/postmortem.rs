//! Postmortems: a draft edited any time, published once the incident is resolved, rendered as
//! Markdown with the timeline. The reference `action_items` strings become tracked items.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use platform::auth::{Sre, Viewer};
use platform::error::Problem;
use platform::extract::Json;
use platform::{ApiError, Fields};
use serde::Deserialize;
use utoipa::ToSchema;

use super::dto::{incident_id, with_etag};
use crate::changes::{Effect, modify, not_found};
use crate::domain::{ActionItem, EntryKind, Incident, Postmortem, Status, clean_text};
use crate::state::{AppState, now};

const MAX_SECTION: usize = 50_000;

#[derive(Debug, Deserialize, ToSchema)]
pub struct PostmortemRequest {
    #[schema(format = "text-or-empty", max_length = 50000)]
    pub what_happened: String,
    #[schema(format = "text-or-empty", max_length = 50000)]
    pub root_cause: String,
    /// Follow-ups; each new one becomes a tracked action item.
    #[schema(value_type = Vec<ActionItemTitle>, max_items = 100)]
    pub action_items: Vec<String>,
    #[schema(format = "text-or-empty", max_length = 50000)]
    pub impact: Option<String>,
    #[schema(format = "text-or-empty", max_length = 50000)]
    pub detection: Option<String>,
    #[schema(format = "text-or-empty", max_length = 50000)]
    pub resolution: Option<String>,
    #[schema(format = "text-or-empty", max_length = 50000)]
    pub lessons_learned: Option<String>,
}

/// An action item title in a postmortem: 1 to 500 characters, not blank.
pub struct ActionItemTitle;

impl utoipa::PartialSchema for ActionItemTitle {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        platform::openapi::text_schema("text", 1, 500).into()
    }
}

impl ToSchema for ActionItemTitle {}

/// Submit or edit the postmortem (a draft until published).
#[utoipa::path(
    tag = "postmortem",
    params(("id" = String, Path, pattern = r"^\s*[Ii][Nn][Cc]-[0-9A-Fa-f]{6}\s*$", description = "Incident id")),
    request_body = PostmortemRequest,
    responses(
        (status = 200, description = "Saved", body = Postmortem),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the sre role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/incidents/{id}/postmortem")]
pub async fn save_postmortem(
    Sre(caller): Sre,
    state: web::Data<AppState>,
    id: web::Path<String>,
    Json(body): Json<PostmortemRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = incident_id(&id)?;
    let mut fields = Fields::default();
    let mut section = |name: &str, value: Option<&str>| {
        fields.check(name, clean_text(value.unwrap_or(""), MAX_SECTION, true)).unwrap_or_default()
    };
    let what_happened = section("what_happened", Some(&body.what_happened));
    let root_cause = section("root_cause", Some(&body.root_cause));
    let impact = section("impact", body.impact.as_deref());
    let detection = section("detection", body.detection.as_deref());
    let resolution = section("resolution", body.resolution.as_deref());
    let lessons_learned = section("lessons_learned", body.lessons_learned.as_deref());
    let mut items = Vec::new();
    for (i, item) in body.action_items.iter().enumerate() {
        if let Some(title) = fields.check(&format!("action_items[{i}]"), clean_text(item, 500, false)) {
            items.push(title);
        }
    }
    if items.len() > 100 {
        fields.0.push(platform::FieldError::new("action_items", "at most 100"));
    }
    fields.finish()?;
    let (incident, _) = modify(&state, &id, &caller, None, |incident| {
        let now = now();
        let existing = incident.postmortem.take();
        let first = existing.is_none();
        let mut postmortem = existing.unwrap_or_else(|| empty_postmortem(now, &caller.id));
        postmortem.what_happened = what_happened.clone();
        postmortem.root_cause = root_cause.clone();
        postmortem.impact = impact.clone();
        postmortem.detection = detection.clone();
        postmortem.resolution = resolution.clone();
        postmortem.lessons_learned = lessons_learned.clone();
        postmortem.updated_at = Some(now);
        postmortem.updated_by = Some(caller.id.clone());
        for title in &items {
            if !postmortem.action_items.iter().any(|a| a.title == *title) {
                let item_id = postmortem.next_item_id();
                postmortem.action_items.push(ActionItem {
                    id: item_id,
                    title: title.clone(),
                    owner: None,
                    due_date: None,
                    done: false,
                    created_at: now,
                    updated_at: now,
                });
            }
        }
        incident.postmortem = Some(postmortem);
        let message = if first { "postmortem drafted" } else { "postmortem edited" };
        Ok(vec![Effect::new(EntryKind::Postmortem, "incident.updated", message)])
    })
    .await?;
    let postmortem =
        incident.postmortem.as_ref().ok_or_else(|| ApiError::Internal(anyhow::anyhow!("postmortem not saved")))?;
    Ok(with_etag(StatusCode::OK, &incident).json(postmortem))
}

pub fn empty_postmortem(now: i64, by: &str) -> Postmortem {
    Postmortem { updated_at: Some(now), updated_by: Some(by.to_string()), ..Postmortem::blank() }
}

/// Read the postmortem.
#[utoipa::path(
    tag = "postmortem",
    params(("id" = String, Path, pattern = r"^\s*[Ii][Nn][Cc]-[0-9A-Fa-f]{6}\s*$", description = "Incident id")),
    responses(
        (status = 200, description = "The postmortem; blank (`updated_at` null) until somebody writes it", body = Postmortem),
        (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/incidents/{id}/postmortem")]
pub async fn get_postmortem(
    Viewer(_caller): Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (incident, postmortem) = load(&state, &id).await?;
    Ok(with_etag(StatusCode::OK, &incident).json(postmortem))
}

async fn load(state: &AppState, raw_id: &str) -> Result<(Incident, Postmortem), ApiError> {
    let id = incident_id(raw_id)?;
    let incident = state.store.incident(&id).await?.ok_or_else(|| not_found(&id))?;
    let postmortem = incident.postmortem.clone().unwrap_or_else(Postmortem::blank);
    Ok((incident, postmortem))
}

/// Publish the postmortem. The incident must be resolved.
#[utoipa::path(
    tag = "postmortem",
    params(("id" = String, Path, pattern = r"^\s*[Ii][Nn][Cc]-[0-9A-Fa-f]{6}\s*$", description = "Incident id")),
    responses(
        (status = 200, description = "Published (or already was)", body = Postmortem),
        (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The incident is not resolved, or has no postmortem to publish yet", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/incidents/{id}/postmortem/publish")]
pub async fn publish_postmortem(
    Sre(caller): Sre,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = incident_id(&id)?;
    let (incident, _) = modify(&state, &id, &caller, None, |incident| {
        let status = incident.status;
        let postmortem = incident
            .postmortem
            .as_mut()
            .ok_or_else(|| ApiError::Conflict(format!("{} has no postmortem to publish yet", incident.id)))?;
        if postmortem.published_at.is_some() {
            return Ok(Vec::new());
        }
        if status != Status::Resolved {
            return Err(ApiError::Conflict(format!(
                "a postmortem is published once the incident is resolved; it is {status}"
            )));
        }
        postmortem.published_at = Some(now());
        Ok(vec![Effect::new(EntryKind::Postmortem, "incident.postmortem_published", "postmortem published")])
    })
    .await?;
    let postmortem =
        incident.postmortem.as_ref().ok_or_else(|| ApiError::Internal(anyhow::anyhow!("postmortem vanished")))?;
    Ok(with_etag(StatusCode::OK, &incident).json(postmortem))
}

/// The postmortem as a Markdown document, with the incident's timeline.
#[utoipa::path(
    tag = "postmortem",
    params(("id" = String, Path, pattern = r"^\s*[Ii][Nn][Cc]-[0-9A-Fa-f]{6}\s*$", description = "Incident id")),
    responses(
        (status = 200, description = "Markdown (the blank template while nobody has written the postmortem)", body = String, content_type = "text/markdown"),
        (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/incidents/{id}/postmortem.md")]
pub async fn postmortem_markdown(
    Viewer(_caller): Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (incident, postmortem) = load(&state, &id).await?;
    let timeline = state.store.full_timeline(&incident.id).await?;
    Ok(HttpResponse::Ok().content_type("text/markdown; charset=utf-8").body(crate::markdown::postmortem(
        &incident,
        &postmortem,
        &timeline,
    )))
}
