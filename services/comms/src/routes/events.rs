//! `POST /api/v1/events`: CloudEvents from the other services (their outbox relays), taken in
//! once per event id.

use actix_web::{HttpResponse, post, web};
use platform::auth::Sre;
use platform::error::Problem;
use platform::events::CloudEvent;
use platform::extract::Json;
use platform::{ApiError, FieldError, Fields};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::announce::incident_id;
use super::rules;
use crate::domain::KnownIncident;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct EventReceipt {
    /// `accepted`, or `duplicate` for an id already taken in.
    pub status: &'static str,
}

const MAX_ID: usize = 200;
const MAX_TYPE: usize = 200;
/// Event types that carry an incident in `data.incident`.
const INCIDENT_EVENTS: &str = "incident.";

/// A CloudEvent as this service takes it in: [`CloudEvent`] with the rules [`receive_event`]
/// checks. An event whose type starts with `incident.` carries the incident in `data.incident`;
/// any other `data` is kept as it is.
pub struct IncomingEvent;

impl utoipa::PartialSchema for IncomingEvent {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let no_controls = r"[^\u0000-\u001f\u007f-\u009f]";
        let line = format!(r"{no_controls}*[^\s\u0000-\u001f\u007f-\u009f]{no_controls}*$");
        let i64_field = |description: &str| json!({"type": "integer", "minimum": i64::MIN, "maximum": i64::MAX, "description": description});
        let incident = json!({
            "type": "object",
            "description": "The incident as the incidents service sends it; other fields are ignored.",
            "required": ["id", "title", "sev", "status", "started_at", "updated_at", "version"],
            "properties": {
                "id": {"type": "string", "pattern": r"^[Ii][Nn][Cc]-[0-9A-Fa-f]{6}$", "example": "INC-4F2A9C"},
                "title": {"type": "string"},
                "sev": {"type": "integer", "minimum": 0, "maximum": 255},
                "status": {"type": "string", "description": "open, mitigated or resolved"},
                "services": {"type": "array", "items": {"type": "string"}},
                "started_at": i64_field("Epoch seconds"),
                "updated_at": i64_field("Epoch seconds"),
                "resolved_at": {"type": ["integer", "null"], "minimum": i64::MIN, "maximum": i64::MAX},
                "version": {"type": "integer", "minimum": 0, "maximum": u64::MAX,
                            "description": "Older versions never overwrite newer ones"},
            },
        });
        let event = |event_type: serde_json::Value, data: serde_json::Value| {
            json!({
                "type": "object",
                "required": ["specversion", "id", "source", "type", "time", "datacontenttype", "data"],
                "properties": {
                    "specversion": {"type": "string", "enum": ["1.0"]},
                    "id": {"type": "string", "format": "line", "maxLength": MAX_ID,
                           "description": "Unique per event: an id taken in before is not acted on again"},
                    "source": {"type": "string", "example": "/polystatus/incidents"},
                    "type": event_type,
                    "time": {"type": "string", "description": "RFC 3339 (not checked)"},
                    "subject": {"type": ["string", "null"]},
                    "datacontenttype": {"type": "string", "example": "application/json"},
                    "data": data,
                },
            })
        };
        let incident_event = event(
            json!({"type": "string", "maxLength": MAX_TYPE, "pattern": format!(r"^incident\.{no_controls}*$"),
                   "example": "incident.status_changed"}),
            json!({"type": "object", "required": ["incident"], "properties": {"incident": incident}}),
        );
        let other_event = event(
            json!({"type": "string", "maxLength": MAX_TYPE, "format": "line",
                   "pattern": format!(r"^(?!incident\.){line}"), "example": "csp.event.detected"}),
            json!({"type": ["object", "array", "string", "number", "integer", "boolean", "null"]}),
        );
        let schema = json!({
            "description": "A CloudEvents 1.0 event (structured JSON). An `incident.*` event carries the incident.",
            "oneOf": [incident_event, other_event],
        });
        utoipa::openapi::RefOr::T(serde_json::from_value(schema).unwrap_or_default())
    }
}

impl ToSchema for IncomingEvent {}

/// Take in an event (service token). Idempotent by event id.
#[utoipa::path(
    tag = "events",
    request_body(content = IncomingEvent, content_type = "application/cloudevents+json"),
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
    let mut fields = Fields::default();
    if event.specversion != "1.0" {
        fields.0.push(FieldError::new("specversion", "must be 1.0"));
    }
    fields.check("id", rules::line(&event.id, MAX_ID));
    fields.check("type", rules::line(&event.event_type, MAX_TYPE));
    let incident = if event.event_type.starts_with(INCIDENT_EVENTS) {
        match serde_json::from_value::<KnownIncident>(event.data["incident"].clone()) {
            Ok(mut incident) => match incident_id(&incident.id) {
                Ok(id) => {
                    incident.id = id;
                    Some(incident)
                }
                Err(e) => {
                    fields.0.push(FieldError::new("data.incident.id", e));
                    None
                }
            },
            Err(e) => {
                fields.0.push(FieldError::new("data.incident", format!("must be the incident: {e}")));
                None
            }
        }
    } else {
        None
    };
    fields.finish()?;
    let taken = state.store.take_event(&event, incident.as_ref()).await?;
    if taken {
        state.refresh_pages().await;
    }
    Ok(HttpResponse::Accepted().json(EventReceipt { status: if taken { "accepted" } else { "duplicate" } }))
}

#[cfg(test)]
mod tests {
    use utoipa::PartialSchema;
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::Schema;

    use super::IncomingEvent;

    #[test]
    fn the_event_schema_is_one_of_two_shapes() {
        // Written as JSON: a keyword the OpenAPI types cannot hold would leave it empty.
        let RefOr::T(Schema::OneOf(one_of)) = IncomingEvent::schema() else {
            panic!("the event schema did not parse");
        };
        assert_eq!(one_of.items.len(), 2);
    }
}
