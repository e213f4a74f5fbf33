//! `POST /api/v1/public/announce`: a public message about an incident (the reference contract).

use actix_web::{HttpResponse, post, web};
use platform::auth::Sre;
use platform::error::Problem;
use platform::events::CloudEvent;
use platform::extract::Json;
use platform::{ApiError, Fields};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::domain::{Announcement, AnnouncementState};
use crate::state::{AppState, EVENT_SOURCE};

#[derive(Debug, Deserialize, ToSchema)]
pub struct PublicAnnouncement {
    /// The incident: `INC-` and six hex digits, in any case.
    #[schema(example = "INC-4F2A9C", pattern = r"^[Ii][Nn][Cc]-[0-9A-Fa-f]{6}$")]
    pub incident_id: String,
    /// What the public reads: up to 5000 characters, lines allowed, not blank (kept trimmed).
    #[schema(example = "We are investigating elevated error rates in the EU", format = "text", max_length = 5000)]
    pub message: String,
    #[schema(value_type = AnnouncementState, example = "investigating")]
    pub state: String,
}

/// `INC-` and six hex digits in any case, nothing around them; upper-cased.
pub fn incident_id(raw: &str) -> Result<String, String> {
    let valid = raw.len() == 10
        && raw.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("INC-"))
        && raw[4..].bytes().all(|b| b.is_ascii_hexdigit());
    if valid { Ok(raw.to_ascii_uppercase()) } else { Err("must be an incident id like INC-4F2A9C".into()) }
}

/// Publish an announcement about an incident.
#[utoipa::path(
    tag = "announcements",
    request_body = PublicAnnouncement,
    responses(
        (status = 201, description = "Published", body = Announcement),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the sre role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The incident is new to comms and the incidents service is unreachable", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/public/announce")]
pub async fn announce(
    Sre(caller): Sre,
    state: web::Data<AppState>,
    Json(body): Json<PublicAnnouncement>,
) -> Result<HttpResponse, ApiError> {
    let mut fields = Fields::default();
    let id = fields.check("incident_id", incident_id(&body.incident_id));
    let message = fields.check("message", super::rules::text(&body.message, 5000, false));
    let announced = fields.check(
        "state",
        super::rules::one_of::<AnnouncementState>(
            &body.state,
            "must be one of investigating, identified, monitoring, resolved",
        ),
    );
    let (Some(id), Some(message), Some(announced), true) = (id, message, announced, fields.0.is_empty()) else {
        return Err(ApiError::Validation(fields.0));
    };
    let announcement = publish(&state, &caller.token, &id, message, announced).await?;
    Ok(HttpResponse::Created().json(announcement))
}

/// Publishes an announcement about incident `id` (asking the incidents service about it, with
/// `token`, when comms has not heard of it yet).
pub async fn publish(
    state: &AppState,
    token: &str,
    id: &str,
    message: String,
    announced: AnnouncementState,
) -> Result<Announcement, ApiError> {
    let incident = match state.store.incident(id).await? {
        Some(known) => known,
        None => {
            let fetched = state
                .incidents
                .fetch(token, id)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("no incident {id}")))?;
            state.store.put_incident(&fetched).await?;
            fetched
        }
    };
    let announcement = Announcement {
        id: uuid::Uuid::now_v7().to_string(),
        incident_id: id.to_string(),
        ts: chrono::Utc::now().timestamp(),
        message,
        state: announced,
    };
    let data = json!({"announcement": announcement, "incident": incident});
    let event = CloudEvent::new(EVENT_SOURCE, "announcement.published", id, data);
    state.store.announce(&announcement, &event).await?;
    state.refresh_pages().await;
    tracing::info!(incident = %id, state = announced.as_str(), "announcement published");
    Ok(announcement)
}
