//! Action items: tracked follow-ups (owner, due date, done) of an incident's postmortem.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use platform::auth::{Principal, Sre, Viewer};
use platform::error::Problem;
use platform::extract::Json;
use platform::{ApiError, Fields};
use serde::Deserialize;
use utoipa::ToSchema;

use super::dto::{incident_id, with_etag};
use super::postmortem::empty_postmortem;
use crate::changes::{Effect, modify, not_found};
use crate::domain::{ActionItem, EntryKind, clean_text, parse_due_date};
use crate::state::{AppState, now};

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateActionItem {
    #[schema(example = "Alert on replica lag above 30 s", format = "text", min_length = 1, max_length = 500)]
    pub title: String,
    /// A user id; empty for nobody.
    pub owner: Option<String>,
    /// `YYYY-MM-DD`, or empty for none.
    #[schema(example = "2026-12-31", schema_with = date_or_empty)]
    pub due_date: Option<String>,
}

/// Fields to change; an empty `owner` or `due_date` clears it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EditActionItem {
    #[schema(format = "text", min_length = 1, max_length = 500)]
    pub title: Option<String>,
    /// A user id; empty for nobody.
    pub owner: Option<String>,
    /// `YYYY-MM-DD`, or empty for none.
    #[schema(example = "2026-12-31", schema_with = date_or_empty)]
    pub due_date: Option<String>,
    pub done: Option<bool>,
}

/// A calendar date, an empty string (no date) or null (unchanged).
fn date_or_empty() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type};
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))))
        .item(ObjectBuilder::new().schema_type(Type::String).pattern(Some(r"^\s*$")))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .build()
        .into()
}

/// An owner (must exist: 404 naming `owner` otherwise) or, for an empty string, no owner.
async fn check_owner(
    state: &AppState,
    caller: &Principal,
    owner: Option<&str>,
) -> Result<Option<Option<String>>, ApiError> {
    let Some(owner) = owner.map(str::trim) else { return Ok(None) };
    if owner.is_empty() {
        return Ok(Some(None));
    }
    if state.users.exists(caller, owner).await? {
        Ok(Some(Some(owner.to_string())))
    } else {
        Err(ApiError::reference_not_found("owner", format!("no user {owner}")))
    }
}

fn due(raw: Option<&str>, fields: &mut Fields) -> Option<Option<String>> {
    let raw = raw?.trim();
    if raw.is_empty() { Some(None) } else { fields.check("due_date", parse_due_date(raw)).map(Some) }
}

/// The action items of an incident.
#[utoipa::path(
    tag = "postmortem",
    params(("id" = String, Path, pattern = r"^\s*[Ii][Nn][Cc]-[0-9A-Fa-f]{6}\s*$", description = "Incident id")),
    responses(
        (status = 200, description = "Action items", body = Vec<ActionItem>),
        (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/incidents/{id}/action-items")]
pub async fn list_action_items(
    Viewer(_caller): Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = incident_id(&id)?;
    let incident = state.store.incident(&id).await?.ok_or_else(|| not_found(&id))?;
    let items = incident.postmortem.map(|p| p.action_items).unwrap_or_default();
    Ok(HttpResponse::Ok().json(items))
}

/// Add an action item (starts a postmortem draft if there is none).
#[utoipa::path(
    tag = "postmortem",
    params(("id" = String, Path, pattern = r"^\s*[Ii][Nn][Cc]-[0-9A-Fa-f]{6}\s*$", description = "Incident id")),
    request_body = CreateActionItem,
    responses(
        (status = 201, description = "Added", body = ActionItem),
        (status = 400, description = "Invalid fields (an unknown owner too), each named", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No user has the `owner` id", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/incidents/{id}/action-items")]
pub async fn create_action_item(
    Sre(caller): Sre,
    state: web::Data<AppState>,
    id: web::Path<String>,
    Json(body): Json<CreateActionItem>,
) -> Result<HttpResponse, ApiError> {
    let id = incident_id(&id)?;
    let mut fields = Fields::default();
    let title = fields.check("title", clean_text(&body.title, 500, false));
    let due_date = due(body.due_date.as_deref(), &mut fields).flatten();
    fields.finish()?;
    let owner = check_owner(&state, &caller, body.owner.as_deref()).await?.flatten();
    let title = title.ok_or_else(|| ApiError::validation("title", "is required"))?;
    let (incident, _) = modify(&state, &id, &caller, None, |incident| {
        let now = now();
        let postmortem = incident.postmortem.get_or_insert_with(|| empty_postmortem(now, &caller.id));
        let item = ActionItem {
            id: postmortem.next_item_id(),
            title: title.clone(),
            owner: owner.clone(),
            due_date: due_date.clone(),
            done: false,
            created_at: now,
            updated_at: now,
        };
        let message = format!("action item {} added: {}", item.id, item.title);
        postmortem.action_items.push(item);
        Ok(vec![Effect::new(EntryKind::ActionItem, "incident.updated", message)])
    })
    .await?;
    let item = incident.postmortem.as_ref().and_then(|p| p.action_items.last()).cloned();
    let item = item.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("action item not saved")))?;
    Ok(with_etag(StatusCode::CREATED, &incident)
        .insert_header(("location", format!("/api/v1/incidents/{}/action-items/{}", incident.id, item.id)))
        .json(item))
}

/// Change an action item: title, owner, due date, done.
#[utoipa::path(
    tag = "postmortem",
    params(("id" = String, Path, pattern = r"^\s*[Ii][Nn][Cc]-[0-9A-Fa-f]{6}\s*$", description = "Incident id"), ("item" = String, Path, description = "Action item id, e.g. AI-1")),
    request_body = EditActionItem,
    responses(
        (status = 200, description = "Changed", body = ActionItem),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such incident or item", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No user has the `owner` id", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/api/v1/incidents/{id}/action-items/{item}")]
pub async fn edit_action_item(
    Sre(caller): Sre,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    Json(body): Json<EditActionItem>,
) -> Result<HttpResponse, ApiError> {
    let (id, item_id) = path.into_inner();
    let id = incident_id(&id)?;
    let mut fields = Fields::default();
    let title = body.title.as_deref().and_then(|t| fields.check("title", clean_text(t, 500, false)));
    let due_date = due(body.due_date.as_deref(), &mut fields);
    fields.finish()?;
    let owner = check_owner(&state, &caller, body.owner.as_deref()).await?;
    let (incident, _) = modify(&state, &id, &caller, None, |incident| {
        let item = incident
            .postmortem
            .as_mut()
            .and_then(|p| p.action_items.iter_mut().find(|i| i.id.eq_ignore_ascii_case(&item_id)))
            .ok_or_else(|| ApiError::not_found(format!("no action item {item_id}")))?;
        let before = item.clone();
        if let Some(t) = &title {
            item.title = t.clone();
        }
        if let Some(o) = &owner {
            item.owner = o.clone();
        }
        if let Some(d) = &due_date {
            item.due_date = d.clone();
        }
        if let Some(done) = body.done {
            item.done = done;
        }
        if *item == before {
            return Ok(Vec::new());
        }
        item.updated_at = now();
        let message = if body.done == Some(true) && !before.done {
            format!("action item {} done", item.id)
        } else {
            format!("action item {} changed", item.id)
        };
        Ok(vec![Effect::new(EntryKind::ActionItem, "incident.updated", message)])
    })
    .await?;
    let item = incident
        .postmortem
        .as_ref()
        .and_then(|p| p.action_items.iter().find(|i| i.id.eq_ignore_ascii_case(&item_id)))
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("no action item {item_id}")))?;
    Ok(with_etag(StatusCode::OK, &incident).json(item))
}

/// Remove an action item.
#[utoipa::path(
    tag = "postmortem",
    params(("id" = String, Path, pattern = r"^\s*[Ii][Nn][Cc]-[0-9A-Fa-f]{6}\s*$", description = "Incident id"), ("item" = String, Path, description = "Action item id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such incident or item", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/api/v1/incidents/{id}/action-items/{item}")]
pub async fn delete_action_item(
    Sre(caller): Sre,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, item_id) = path.into_inner();
    let id = incident_id(&id)?;
    modify(&state, &id, &caller, None, |incident| {
        let items = incident.postmortem.as_mut().map(|p| &mut p.action_items);
        let Some(items) = items else { return Err(ApiError::not_found(format!("no action item {item_id}"))) };
        let before = items.len();
        items.retain(|i| !i.id.eq_ignore_ascii_case(&item_id));
        if items.len() == before {
            return Err(ApiError::not_found(format!("no action item {item_id}")));
        }
        Ok(vec![Effect::new(EntryKind::ActionItem, "incident.updated", format!("action item {item_id} removed"))])
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
