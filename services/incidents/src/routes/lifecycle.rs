//! Status, assignment, acknowledgement, following and provider-event links: each change writes
//! its own timeline entry with who, when, and from → to.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, post, web};
use platform::auth::{Sre, Viewer};
use platform::error::Problem;
use platform::extract::{IfMatch, Json};
use platform::{ApiError, Fields};
use serde::Deserialize;
use utoipa::ToSchema;

use super::dto::{IncidentView, incident_id, with_etag};
use crate::changes::{Effect, modify};
use crate::domain::{EntryKind, ProviderEventLink, Status, TransitionError, clean_text};
use crate::state::{AppState, now};

#[derive(Debug, Deserialize, ToSchema)]
pub struct AssignRequest {
    /// A user id; an explicit null unassigns. Required: a body without it (or with the name
    /// misspelt) is refused rather than read as "unassign".
    #[serde(default, deserialize_with = "present")]
    #[schema(required = true, value_type = Option<String>, example = "f6c74e13-8b4a-4b63-bf58-1c59a0c21840")]
    pub commander: Option<Option<String>>,
}

/// Tells a field given as null (`Some(None)`) from a field left out (`None`).
fn present<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(de).map(Some)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StatusUpdate {
    /// open, mitigated or resolved.
    #[schema(value_type = Status, example = "mitigated")]
    pub status: String,
    /// Why: required to reopen, written to the timeline otherwise.
    #[schema(format = "text-or-empty", max_length = 2000)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LinkProviderEvent {
    #[schema(example = "cloudflare", format = "text", min_length = 1, max_length = 100)]
    pub provider: String,
    #[schema(format = "text", min_length = 1, max_length = 200)]
    pub event_id: String,
    #[schema(format = "text-or-empty", max_length = 500)]
    pub title: Option<String>,
    /// An http(s) URL without spaces.
    #[schema(pattern = r"^https?://[^\s\u0000-\u001f\u007f-\u009f]+$", max_length = 2000)]
    pub url: Option<String>,
    /// Why they are linked.
    #[schema(format = "text-or-empty", max_length = 2000)]
    pub evidence: Option<String>,
}

/// Assign (or unassign) the incident commander. The user must exist.
#[utoipa::path(
    tag = "incidents",
    params(("id" = String, Path, pattern = r"^\s*[Ii][Nn][Cc]-[0-9A-Fa-f]{6}\s*$", description = "Incident id"), ("If-Match" = Option<String>, Header, description = "Expected version")),
    request_body = AssignRequest,
    responses(
        (status = 200, description = "Assigned", body = IncidentView),
        (status = 400, description = "`commander` missing, not a string, or naming no user (the reference contract's answer)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the sre role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since the If-Match version", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/incidents/{id}/assign")]
pub async fn assign_incident(
    Sre(caller): Sre,
    state: web::Data<AppState>,
    id: web::Path<String>,
    if_match: IfMatch,
    Json(body): Json<AssignRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = incident_id(&id)?;
    let Some(commander) = body.commander else {
        return Err(ApiError::validation("commander", "is required: a user id, or null to unassign"));
    };
    let commander = commander.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_string);
    if let Some(c) = &commander
        && !state.users.exists(&caller, c).await?
    {
        // The reference contract answers 400 here.
        return Err(ApiError::validation("commander", format!("no user {c}")));
    }
    let (incident, _) = modify(&state, &id, &caller, if_match.0, |incident| {
        if incident.commander == commander {
            return Ok(Vec::new());
        }
        let from = incident.commander.clone().unwrap_or_else(|| "nobody".into());
        let to = commander.clone().unwrap_or_else(|| "nobody".into());
        let message = if commander.is_some() { format!("commander set to {to}") } else { "commander removed".into() };
        incident.commander = commander.clone();
        incident.acknowledged_at.get_or_insert(now());
        Ok(vec![Effect::new(EntryKind::Assignment, "incident.assigned", message).from_to(from, to)])
    })
    .await?;
    Ok(with_etag(StatusCode::OK, &incident).json(IncidentView::from(&incident)))
}

/// Move the incident along its lifecycle: open → mitigated → resolved; reopen with a reason.
/// An impossible move is a 409 naming the allowed ones.
#[utoipa::path(
    tag = "incidents",
    params(("id" = String, Path, pattern = r"^\s*[Ii][Nn][Cc]-[0-9A-Fa-f]{6}\s*$", description = "Incident id"), ("If-Match" = Option<String>, Header, description = "Expected version")),
    request_body = StatusUpdate,
    responses(
        (status = 200, description = "Status changed", body = IncidentView),
        (status = 400, description = "Invalid status, or a reopen without a reason", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the sre role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not a move the lifecycle allows from the current status", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Reopening needs a `reason`", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since the If-Match version", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/incidents/{id}/status")]
pub async fn change_status(
    Sre(caller): Sre,
    state: web::Data<AppState>,
    id: web::Path<String>,
    if_match: IfMatch,
    Json(body): Json<StatusUpdate>,
) -> Result<HttpResponse, ApiError> {
    let id = incident_id(&id)?;
    let mut fields = Fields::default();
    let to = fields.check("status", body.status.parse::<Status>());
    let reason = body.reason.as_deref().and_then(|r| fields.check("reason", clean_text(r, 2000, true)));
    fields.finish()?;
    let to = to.ok_or_else(|| ApiError::validation("status", "is required"))?;
    let (incident, _) = modify(&state, &id, &caller, if_match.0, |incident| {
        let transition = incident.status.transition_to(to, reason.as_deref()).map_err(|e| match e {
            // Whether a reason is needed depends on the incident's state, not on the request.
            TransitionError::ReasonRequired => ApiError::unprocessable("reason", e.to_string()),
            TransitionError::NotAllowed { .. } => ApiError::Conflict(e.to_string()),
        })?;
        Ok(vec![set_status(incident, transition.to, reason.as_deref())])
    })
    .await?;
    Ok(with_etag(StatusCode::OK, &incident).json(IncidentView::from(&incident)))
}

/// Sets `to` (already checked against the lifecycle) and the timestamps that go with it.
pub fn set_status(incident: &mut crate::domain::Incident, to: Status, reason: Option<&str>) -> Effect {
    let from = incident.status;
    let now = now();
    incident.status = to;
    incident.acknowledged_at.get_or_insert(now);
    match to {
        Status::Mitigated => {
            incident.mitigated_at.get_or_insert(now);
        }
        Status::Resolved => {
            incident.mitigated_at.get_or_insert(now);
            incident.resolved_at = Some(now);
        }
        Status::Open => incident.resolved_at = None,
    }
    let verb = if to == Status::Open { "reopened" } else { to.as_str() };
    let message = match reason.filter(|r| !r.is_empty()) {
        Some(r) => format!("{verb}: {r}"),
        None => verb.to_string(),
    };
    Effect::new(EntryKind::StatusChange, "incident.status_changed", message).from_to(from.as_str(), to.as_str())
}

/// Acknowledge the incident (sets `acknowledged_at` once; MTTA counts to it).
#[utoipa::path(
    tag = "incidents",
    params(("id" = String, Path, pattern = r"^\s*[Ii][Nn][Cc]-[0-9A-Fa-f]{6}\s*$", description = "Incident id")),
    responses(
        (status = 200, description = "Acknowledged (or already was)", body = IncidentView),
        (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/incidents/{id}/acknowledge")]
pub async fn acknowledge_incident(
    Sre(caller): Sre,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = incident_id(&id)?;
    let (incident, _) = modify(&state, &id, &caller, None, |incident| {
        if incident.acknowledged_at.is_some() {
            return Ok(Vec::new());
        }
        incident.acknowledged_at = Some(now());
        Ok(vec![Effect::new(EntryKind::Acknowledged, "incident.updated", "acknowledged")])
    })
    .await?;
    Ok(with_etag(StatusCode::OK, &incident).json(IncidentView::from(&incident)))
}

/// Follow an incident (any signed-in user): `GET /api/v1/incidents?follower=me` lists them.
#[utoipa::path(
    tag = "incidents",
    params(("id" = String, Path, pattern = r"^\s*[Ii][Nn][Cc]-[0-9A-Fa-f]{6}\s*$", description = "Incident id")),
    responses(
        (status = 200, description = "Following", body = IncidentView),
        (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/incidents/{id}/follow")]
pub async fn follow_incident(
    Viewer(caller): Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_following(&state, &id, &caller, true).await
}

/// Stop following an incident.
#[utoipa::path(
    tag = "incidents",
    params(("id" = String, Path, pattern = r"^\s*[Ii][Nn][Cc]-[0-9A-Fa-f]{6}\s*$", description = "Incident id")),
    responses(
        (status = 200, description = "Not following", body = IncidentView),
        (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/api/v1/incidents/{id}/follow")]
pub async fn unfollow_incident(
    Viewer(caller): Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_following(&state, &id, &caller, false).await
}

async fn set_following(
    state: &AppState,
    id: &str,
    caller: &platform::auth::Principal,
    follow: bool,
) -> Result<HttpResponse, ApiError> {
    let id = incident_id(id)?;
    let (incident, _) = modify(state, &id, caller, None, |incident| {
        let changed =
            if follow { incident.followers.insert(caller.id.clone()) } else { incident.followers.remove(&caller.id) };
        if !changed {
            return Ok(Vec::new());
        }
        let message = format!("{} {}", caller.name, if follow { "follows" } else { "stopped following" });
        // Bookkeeping rather than news, but still one timeline entry and an `incident.updated`.
        Ok(vec![Effect::new(EntryKind::Edit, "incident.updated", message)])
    })
    .await?;
    Ok(with_etag(StatusCode::OK, &incident).json(IncidentView::from(&incident)))
}

/// Link a provider status event to the incident (raised from it, or probably caused by it).
#[utoipa::path(
    tag = "incidents",
    params(("id" = String, Path, pattern = r"^\s*[Ii][Nn][Cc]-[0-9A-Fa-f]{6}\s*$", description = "Incident id")),
    request_body = LinkProviderEvent,
    responses(
        (status = 200, description = "Linked (or already was)", body = IncidentView),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/incidents/{id}/provider-events")]
pub async fn link_provider_event(
    Sre(caller): Sre,
    state: web::Data<AppState>,
    id: web::Path<String>,
    Json(body): Json<LinkProviderEvent>,
) -> Result<HttpResponse, ApiError> {
    let id = incident_id(&id)?;
    let mut fields = Fields::default();
    let provider = fields.check("provider", clean_text(&body.provider, 100, false));
    let event_id = fields.check("event_id", clean_text(&body.event_id, 200, false));
    let title = body.title.as_deref().and_then(|t| fields.check("title", clean_text(t, 500, true)));
    let evidence = body.evidence.as_deref().and_then(|t| fields.check("evidence", clean_text(t, 2000, true)));
    let url = body.url.as_deref().and_then(|u| {
        fields.check(
            "url",
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                Err("must be an http(s) URL".into())
            } else if u.chars().any(|c| c.is_control() || c.is_whitespace()) {
                Err("must not contain spaces or control characters".into())
            } else if u.chars().count() > 2000 {
                Err("must be at most 2000 characters".into())
            } else {
                Ok(u.to_string())
            },
        )
    });
    fields.finish()?;
    let (Some(provider), Some(event_id)) = (provider, event_id) else {
        return Err(ApiError::Internal(anyhow::anyhow!("validated fields missing")));
    };
    let link = ProviderEventLink { provider, event_id, title, url, evidence };
    let (incident, _) = modify(&state, &id, &caller, None, |incident| {
        if incident.provider_events.iter().any(|l| l.provider == link.provider && l.event_id == link.event_id) {
            return Ok(Vec::new());
        }
        incident.provider_events.push(link.clone());
        let message = format!("linked to {} event {}", link.provider, link.title.as_deref().unwrap_or(&link.event_id));
        Ok(vec![Effect::new(EntryKind::ProviderEvent, "incident.updated", message)])
    })
    .await?;
    Ok(with_etag(StatusCode::OK, &incident).json(IncidentView::from(&incident)))
}
