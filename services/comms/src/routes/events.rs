//! `POST /api/v1/events`: CloudEvents from the other services (their outbox relays), taken in
//! once per event id.

use actix_web::{HttpResponse, post, web};
use platform::ApiError;
use platform::auth::Sre;
use platform::error::Problem;
use platform::events::CloudEvent;
use platform::extract::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::KnownIncident;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct EventReceipt {
    /// `accepted`, or `duplicate` for an id already taken in.
    pub status: &'static str,
}

/// Take in an event (service token). Idempotent by event id.
#[utoipa::path(
    tag = "events",
    request_body(content = CloudEvent, content_type = "application/cloudevents+json"),
    responses(
        (status = 202, description = "Taken in, or already was", body = EventReceipt),
        (status = 400, description = "Not a valid CloudEvent, or an incident event without its incident", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the sre role", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/events")]
pub async fn receive_event(
    Sre(_caller): Sre,
    state: web::Data<AppState>,
    Json(event): Json<CloudEvent>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = Vec::new();
    if event.specversion != "1.0" {
        errors.push(platform::FieldError::new("specversion", "must be 1.0"));
    }
    if event.id.trim().is_empty() || event.id.len() > 200 {
        errors.push(platform::FieldError::new("id", "must be 1 to 200 characters"));
    }
    if event.event_type.trim().is_empty() || event.event_type.len() > 200 {
        errors.push(platform::FieldError::new("type", "must be 1 to 200 characters"));
    }
    let incident = if event.event_type.starts_with("incident.") {
        match serde_json::from_value::<KnownIncident>(event.data["incident"].clone()) {
            Ok(incident) => Some(incident),
            Err(e) => {
                errors.push(platform::FieldError::new("data.incident", format!("must be the incident: {e}")));
                None
            }
        }
    } else {
        None
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let taken = state.store.take_event(&event, incident.as_ref()).await?;
    if taken {
        state.refresh_pages().await;
    }
    Ok(HttpResponse::Accepted().json(EventReceipt { status: if taken { "accepted" } else { "duplicate" } }))
}
