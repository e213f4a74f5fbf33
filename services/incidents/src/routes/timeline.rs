//! `/api/v1/incidents/{id}/timeline`: post updates and notes; page through everything.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use platform::auth::{Sre, Viewer};
use platform::error::Problem;
use platform::extract::Json;
use platform::{ApiError, Fields};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::dto::incident_id;
use crate::changes::{Effect, append};
use crate::domain::{EntryKind, TimelineEntry, clean_text};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct TimelineEventCreate {
    /// update, note, mitigation or resolution.
    #[serde(rename = "type")]
    #[schema(example = "update", pattern = r"^\s*(update|note|mitigation|resolution)\s*$")]
    pub kind: String,
    #[schema(example = "Rolled back the 14:02 deploy", format = "text", min_length = 1, max_length = 10000)]
    pub message: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimelineQuery {
    /// Page size, 1 to 500 (default 100).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
    /// From the `Link: rel="next"` header of the previous page.
    #[param(pattern = r"^[0-9]{1,19}-[0-9]{1,19}$")]
    pub cursor: Option<String>,
}

/// Add an entry to the timeline.
#[utoipa::path(
    tag = "timeline",
    params(("id" = String, Path, pattern = r"^\s*[Ii][Nn][Cc]-[0-9A-Fa-f]{6}\s*$", description = "Incident id")),
    request_body = TimelineEventCreate,
    responses(
        (status = 200, description = "Added", body = TimelineEntry),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the sre role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/incidents/{id}/timeline")]
pub async fn add_timeline_entry(
    Sre(caller): Sre,
    state: web::Data<AppState>,
    id: web::Path<String>,
    Json(body): Json<TimelineEventCreate>,
) -> Result<HttpResponse, ApiError> {
    let id = incident_id(&id)?;
    let mut fields = Fields::default();
    let kind = fields.check("type", EntryKind::parse_postable(&body.kind));
    let message = fields.check("message", clean_text(&body.message, 10_000, false));
    fields.finish()?;
    let (Some(kind), Some(message)) = (kind, message) else {
        return Err(ApiError::Internal(anyhow::anyhow!("validated fields missing")));
    };
    let entries = append(&state, &id, &caller, &[Effect::new(kind, "incident.timeline_added", message)]).await?;
    let entry = entries.into_iter().next().ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no entry written")))?;
    Ok(HttpResponse::Ok().json(entry))
}

/// The timeline, oldest first, in pages.
#[utoipa::path(
    tag = "timeline",
    params(("id" = String, Path, pattern = r"^\s*[Ii][Nn][Cc]-[0-9A-Fa-f]{6}\s*$", description = "Incident id"), TimelineQuery),
    responses(
        (status = 200, description = "Entries; `Link: rel=\"next\"` when there are more", body = Vec<TimelineEntry>),
        (status = 400, description = "Invalid paging", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/incidents/{id}/timeline")]
pub async fn list_timeline(
    Viewer(_caller): Viewer,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<TimelineQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = incident_id(&id)?;
    let mut fields = Fields::default();
    let limit = fields.page_size(query.limit.as_deref(), 100, 500);
    let cursor = query.cursor.as_deref().and_then(|c| {
        let valid = c.split_once('-').is_some_and(|(a, b)| a.parse::<u64>().is_ok() && b.parse::<u64>().is_ok());
        fields.check("cursor", if valid { Ok(c.to_string()) } else { Err("is not a cursor this API gave".into()) })
    });
    fields.finish()?;
    if state.store.incident(&id).await?.is_none() {
        return Err(crate::changes::not_found(&id));
    }
    let (entries, next) = state.store.timeline(&id, cursor.as_deref(), limit).await?;
    let mut response = HttpResponse::Ok();
    if let Some(next) = next {
        response.insert_header(("link", format!("<{}?limit={limit}&cursor={next}>; rel=\"next\"", req.path())));
    }
    Ok(response.json(entries))
}
