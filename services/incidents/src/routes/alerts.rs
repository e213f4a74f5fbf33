//! Alert intake compatible with the PagerDuty Events API v2: monitoring tools that can page
//! PagerDuty can open, acknowledge and resolve PolyStatus incidents unchanged.
//!
//! A trigger opens an incident, or adds to the open one with the same `dedup_key`; acknowledge
//! sets `acknowledged_at`; resolve resolves. Once resolved, the next trigger with that key opens
//! a new incident. Acknowledge and resolve for an unknown key are accepted and ignored, as
//! PagerDuty does.

use std::time::Duration;

use actix_web::{HttpResponse, post, web};
use platform::auth::{Principal, Sre};
use platform::error::Problem;
use platform::extract::Json;
use platform::{ApiError, Fields};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::incidents::declare;
use super::lifecycle::set_status;
use crate::changes::{Effect, append, modify};
use crate::domain::{EntryKind, Incident, IncidentId, Severity, Source, Status, clean_services, clean_text};
use crate::state::{AppState, now};

/// A PagerDuty Events API v2 event. PagerDuty's `routing_key` may be sent and is ignored:
/// the bearer token authenticates. Its schema (written below, not derived) says what the
/// handler requires of each action.
#[derive(Debug, Deserialize)]
pub struct AlertEvent {
    /// trigger, acknowledge or resolve.
    pub event_action: String,
    /// Groups alerts into one incident (up to 255 characters); generated for a trigger without one.
    pub dedup_key: Option<String>,
    /// Required for a trigger.
    pub payload: Option<AlertPayload>,
    pub client: Option<String>,
    pub client_url: Option<String>,
}

/// A trigger needs a `payload`; acknowledge and resolve need the `dedup_key` of the trigger.
impl utoipa::PartialSchema for AlertEvent {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, SchemaType, Type};
        let optional_text = || ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null]));
        let variant = |actions: &str, required: &[&str], dedup_key: ObjectBuilder, payload| {
            let mut object = ObjectBuilder::new()
                .schema_type(Type::Object)
                .property(
                    "event_action",
                    ObjectBuilder::new().schema_type(Type::String).pattern(Some(format!(r"^\s*({actions})\s*$"))),
                )
                .property("dedup_key", dedup_key)
                .property("payload", payload)
                .property("client", optional_text())
                .property("client_url", optional_text());
            for name in required {
                object = object.required(*name);
            }
            object
        };
        let any_key = optional_text()
            .max_length(Some(255))
            .description(Some("Groups alerts into one incident; generated for a trigger without one"));
        let trigger_key = ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(255))
            .pattern(Some(r"\S"))
            .description(Some("The dedup_key of the trigger"));
        let payload_or_null =
            OneOfBuilder::new().item(AlertPayload::schema()).item(ObjectBuilder::new().schema_type(Type::Null));
        OneOfBuilder::new()
            .description(Some(
                "A PagerDuty Events API v2 event: a trigger with its payload, or acknowledge / resolve with the trigger's dedup_key.",
            ))
            .item(variant("trigger", &["event_action", "payload"], any_key, AlertPayload::schema()))
            .item(variant("acknowledge|resolve", &["event_action", "dedup_key"], trigger_key, payload_or_null.into()))
            .into()
    }
}

impl ToSchema for AlertEvent {}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AlertPayload {
    #[schema(example = "DB replica lag above 30 s", format = "text", min_length = 1, max_length = 1024)]
    pub summary: String,
    /// The affected host or system.
    #[schema(example = "db-replica-3", format = "text", min_length = 1, max_length = 255)]
    pub source: String,
    /// critical, error, warning or info (→ severity 1 to 4).
    #[schema(example = "critical", pattern = r"^\s*(critical|error|warning|info)\s*$")]
    pub severity: String,
    pub component: Option<String>,
    pub group: Option<String>,
    pub class: Option<String>,
    pub custom_details: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertAccepted {
    /// `success`.
    pub status: &'static str,
    pub message: &'static str,
    pub dedup_key: String,
}

enum Action {
    Trigger,
    Acknowledge,
    Resolve,
}

/// Send an alert event (PagerDuty Events API v2 format).
#[utoipa::path(
    tag = "alerts",
    request_body = AlertEvent,
    responses(
        (status = 202, description = "Processed", body = AlertAccepted),
        (status = 400, description = "Invalid event, each bad field named", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the sre role", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/alerts")]
pub async fn receive_alert(
    Sre(caller): Sre,
    state: web::Data<AppState>,
    Json(body): Json<AlertEvent>,
) -> Result<HttpResponse, ApiError> {
    let mut fields = Fields::default();
    let action = fields.check(
        "event_action",
        match body.event_action.trim() {
            "trigger" => Ok(Action::Trigger),
            "acknowledge" => Ok(Action::Acknowledge),
            "resolve" => Ok(Action::Resolve),
            _ => Err("must be one of trigger, acknowledge, resolve".to_string()),
        },
    );
    let dedup_key = body.dedup_key.as_deref().map(str::trim).filter(|k| !k.is_empty());
    if dedup_key.is_some_and(|k| k.chars().count() > 255) {
        fields.0.push(platform::FieldError::new("dedup_key", "must be at most 255 characters"));
    }
    let is_trigger = matches!(action, Some(Action::Trigger));
    if !is_trigger && action.is_some() && dedup_key.is_none() {
        fields.0.push(platform::FieldError::new("dedup_key", "is required to acknowledge or resolve"));
    }
    let alert = match (&body.payload, is_trigger) {
        (Some(p), true) => parse_payload(p, &mut fields),
        (None, true) => {
            fields.0.push(platform::FieldError::new("payload", "is required for a trigger"));
            None
        }
        // A payload sent with acknowledge or resolve is not used, but it is checked all the same.
        (Some(p), false) => parse_payload(p, &mut fields).and(None),
        (None, false) => None,
    };
    fields.finish()?;
    let key = dedup_key.map_or_else(|| uuid::Uuid::new_v4().simple().to_string(), str::to_string);
    // One alert at a time per key, so a storm of identical triggers opens one incident.
    let mut locked = false;
    for _ in 0..250 {
        if state.store.try_lock(&key, 5000).await? {
            locked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if !locked {
        return Err(ApiError::unavailable("alert intake", anyhow::anyhow!("dedup key {key} stayed locked")));
    }
    let outcome = match action {
        Some(Action::Trigger) => trigger(&state, &caller, &key, alert, &body).await,
        Some(Action::Acknowledge) => acknowledge(&state, &caller, &key).await,
        _ => resolve(&state, &caller, &key).await,
    };
    state.store.unlock(&key).await?;
    outcome?;
    Ok(HttpResponse::Accepted().json(AlertAccepted { status: "success", message: "Event processed", dedup_key: key }))
}

struct Alert {
    title: String,
    summary: String,
    sev: Severity,
    services: Vec<String>,
}

fn parse_payload(p: &AlertPayload, fields: &mut Fields) -> Option<Alert> {
    let summary = fields.check("payload.summary", clean_text(&p.summary, 1024, false));
    let source = fields.check("payload.source", clean_text(&p.source, 255, false));
    let sev = fields.check(
        "payload.severity",
        match p.severity.trim() {
            "critical" => Severity::parse(1),
            "error" => Severity::parse(2),
            "warning" => Severity::parse(3),
            "info" => Severity::parse(4),
            _ => Err("must be one of critical, error, warning, info".into()),
        },
    );
    let (summary, source, sev) = (summary?, source?, sev?);
    // A component that is not a valid service name is kept in the text instead of refused.
    let services = p.component.iter().cloned().collect::<Vec<_>>();
    let services = clean_services(&services).unwrap_or_default();
    let mut text = format!("{summary}\n\nsource: {source}");
    for (label, value) in [("component", &p.component), ("group", &p.group), ("class", &p.class)] {
        if let Some(v) = value {
            text.push_str(&format!("\n{label}: {v}"));
        }
    }
    if let Some(details) = &p.custom_details {
        let details: String = details.to_string().chars().take(2000).collect();
        text.push_str(&format!("\ndetails: {details}"));
    }
    let title: String = summary.chars().take(200).collect();
    Some(Alert { title, summary: text, sev, services })
}

async fn trigger(
    state: &AppState,
    caller: &Principal,
    key: &str,
    alert: Option<Alert>,
    body: &AlertEvent,
) -> Result<(), ApiError> {
    let alert = alert.ok_or_else(|| ApiError::validation("payload", "is required for a trigger"))?;
    if let Some(open) = state.store.incident_by_dedup(key).await?.filter(|i| i.status != Status::Resolved) {
        let message = format!("alert triggered again: {}", alert.title);
        append(state, &open.id, caller, &[Effect::new(EntryKind::Alert, "incident.timeline_added", message)]).await?;
        return Ok(());
    }
    let now = now();
    let mut summary = alert.summary;
    if let Some(url) = &body.client_url {
        summary.push_str(&format!("\nfrom: {} {url}", body.client.as_deref().unwrap_or("")));
    }
    let incident = Incident {
        id: IncidentId::generate(),
        seq: state.store.next_seq().await?,
        title: alert.title,
        sev: alert.sev,
        services: alert.services,
        summary: clean_text(&summary, 10_000, true).unwrap_or_default(),
        status: Status::Open,
        started_at: now,
        commander: None,
        source: Source::Alert,
        created_by: caller.id.clone(),
        updated_at: now,
        acknowledged_at: None,
        mitigated_at: None,
        resolved_at: None,
        followers: Default::default(),
        provider_events: Vec::new(),
        dedup_key: Some(key.to_string()),
        postmortem: None,
        version: 1,
    };
    declare(state, incident, caller).await?;
    Ok(())
}

async fn acknowledge(state: &AppState, caller: &Principal, key: &str) -> Result<(), ApiError> {
    let Some(open) = state.store.incident_by_dedup(key).await? else { return Ok(()) };
    modify(state, &open.id, caller, None, |incident| {
        if incident.acknowledged_at.is_some() || incident.status == Status::Resolved {
            return Ok(Vec::new());
        }
        incident.acknowledged_at = Some(now());
        Ok(vec![Effect::new(EntryKind::Acknowledged, "incident.updated", "acknowledged by alert")])
    })
    .await?;
    Ok(())
}

async fn resolve(state: &AppState, caller: &Principal, key: &str) -> Result<(), ApiError> {
    let Some(open) = state.store.incident_by_dedup(key).await? else { return Ok(()) };
    modify(state, &open.id, caller, None, |incident| {
        if incident.status == Status::Resolved {
            return Ok(Vec::new());
        }
        Ok(vec![set_status(incident, Status::Resolved, Some("resolved by alert"))])
    })
    .await?;
    Ok(())
}
