//! Anonymous public reads, all served from the in-memory snapshot with ETags.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use platform::ApiError;
use platform::error::Problem;

use super::announce::incident_id;
use crate::snapshot::{Doc, PublicIncident, PublicIncidentStatus};
use crate::state::AppState;

/// A public document, or 304 when the client already has it.
fn serve(req: &HttpRequest, doc: &Doc) -> HttpResponse {
    let cached =
        req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|tags| {
            tags.split(',').any(|t| t.trim().trim_start_matches("W/") == doc.etag || t.trim() == "*")
        });
    let mut response = if cached { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response
        .insert_header((header::ETAG, doc.etag.clone()))
        .insert_header((header::CACHE_CONTROL, "public, max-age=5, stale-while-revalidate=30"))
        .insert_header(("access-control-allow-origin", "*"));
    if cached { response.finish() } else { response.content_type(doc.content_type).body(doc.body.clone()) }
}

/// The public status: unresolved incidents and those resolved lately, each with its last public
/// message. A bare array.
#[utoipa::path(tag = "public", responses((status = 200, description = "Public incidents, most recent first", body = Vec<PublicIncidentStatus>), (status = 304, description = "Unchanged since the If-None-Match ETag")))]
#[get("/api/v1/public/status")]
pub async fn public_status(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    serve(&req, &state.pages.current().status)
}

/// One incident with every announcement.
#[utoipa::path(
    tag = "public",
    params(("id" = String, Path, description = "Incident id, in any case", pattern = r"^[Ii][Nn][Cc]-[0-9A-Fa-f]{6}$")),
    responses(
        (status = 200, description = "The incident", body = PublicIncident),
        (status = 304, description = "Unchanged since the If-None-Match ETag"),
        (status = 404, description = "Not a public incident", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/public/incidents/{id}")]
pub async fn public_incident(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = incident_id(&id).map_err(|_| ApiError::not_found(format!("no public incident {id}")))?;
    let snapshot = state.pages.current();
    if let Some(doc) = snapshot.incidents.get(&id) {
        return Ok(serve(&req, doc));
    }
    // Older than the snapshot covers: read it directly.
    let incident =
        state.store.incident(&id).await?.ok_or_else(|| ApiError::not_found(format!("no public incident {id}")))?;
    let announcements = state.store.announcements(&id).await?;
    let data = crate::store::PublicData {
        version: 0,
        incidents: vec![(incident, announcements)],
        components: vec![],
        banner: None,
    };
    let built =
        crate::snapshot::build(&data, state.pages.settings(), state.pages.public_url(), chrono::Utc::now().timestamp());
    let doc =
        built.incidents.get(&id).cloned().ok_or_else(|| ApiError::not_found(format!("no public incident {id}")))?;
    Ok(serve(&req, &doc))
}

macro_rules! statuspage_route {
    ($name:ident, $path:literal, $field:ident, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(tag = "statuspage", responses((status = 200, description = $doc, body = Object), (status = 304, description = "Unchanged since the If-None-Match ETag")))]
        #[get($path)]
        pub async fn $name(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
            serve(&req, &state.pages.current().statuspage.$field)
        }
    };
}

statuspage_route!(
    statuspage_summary,
    "/api/v2/summary.json",
    summary,
    "Statuspage v2 summary: page, components, unresolved incidents, status."
);
statuspage_route!(
    statuspage_status,
    "/api/v2/status.json",
    status,
    "Statuspage v2 status: page and overall indicator."
);
statuspage_route!(
    statuspage_incidents,
    "/api/v2/incidents.json",
    incidents,
    "Statuspage v2 incidents: the 50 most recent."
);
statuspage_route!(
    statuspage_unresolved,
    "/api/v2/incidents/unresolved.json",
    unresolved,
    "Statuspage v2 unresolved incidents."
);
statuspage_route!(
    statuspage_components,
    "/api/v2/components.json",
    components,
    "Statuspage v2 components: the services named on incidents."
);

/// Incident history as RSS 2.0.
#[utoipa::path(tag = "public", responses((status = 200, description = "RSS 2.0", body = String, content_type = "application/rss+xml")))]
#[get("/history.rss")]
pub async fn history_rss(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    serve(&req, &state.pages.current().rss)
}

/// Incident history as Atom.
#[utoipa::path(tag = "public", responses((status = 200, description = "Atom 1.0", body = String, content_type = "application/atom+xml")))]
#[get("/history.atom")]
pub async fn history_atom(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    serve(&req, &state.pages.current().atom)
}
