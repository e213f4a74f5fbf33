//! `/api/v1/webhooks`: endpoints that receive signed events (the reference registration, plus
//! management, secret rotation, the delivery log, replay and test events).

use actix_web::{HttpResponse, delete, get, patch, post, web};
use platform::auth::{Principal, Sre};
use platform::error::Problem;
use platform::events::CloudEvent;
use platform::extract::Json;
use platform::{ApiError, FieldError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::state::{AppState, EVENT_SOURCE};
use crate::webhooks::delivery::Attempt;
use crate::webhooks::endpoint::{Endpoint, Kind};
use crate::webhooks::signing::new_secret;
use crate::webhooks::worker::{Dispatcher, now};

/// How long a rotated-out secret keeps signing.
const ROTATION_GRACE_SECS: i64 = 24 * 3600;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateWebhook {
    /// An absolute http(s) URL. One that points at an internal address (loopback, private,
    /// link-local), directly or through its name, is refused unless the service allows it.
    #[schema(example = "https://hooks.example.com/polystatus", format = "uri")]
    pub url: String,
    /// Up to 500 characters, lines allowed (kept trimmed).
    #[schema(format = "text-or-empty", max_length = 500)]
    pub description: Option<String>,
    /// Event types wanted (`incident.status_changed`, `incident.*`); omit for all.
    #[schema(schema_with = event_types)]
    pub event_types: Option<Vec<String>>,
    /// standard (default), slack, discord or teams.
    #[schema(value_type = Option<Kind>)]
    pub kind: Option<String>,
    /// Only incidents at least this severe (1 to 4).
    #[schema(minimum = 1, maximum = 4)]
    pub min_severity: Option<i64>,
    /// Only incidents touching these services.
    #[schema(schema_with = services)]
    pub services: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EditWebhook {
    /// An absolute http(s) URL, not an internal address.
    #[schema(example = "https://hooks.example.com/polystatus", format = "uri")]
    pub url: Option<String>,
    /// Up to 500 characters, lines allowed (kept trimmed).
    #[schema(format = "text-or-empty", max_length = 500)]
    pub description: Option<String>,
    #[schema(schema_with = event_types)]
    pub event_types: Option<Vec<String>>,
    #[schema(value_type = Option<Kind>)]
    pub kind: Option<String>,
    /// 1 to 4; 0 removes the filter.
    #[schema(minimum = 0, maximum = 4)]
    pub min_severity: Option<i64>,
    #[schema(schema_with = services)]
    pub services: Option<Vec<String>>,
    /// `true` re-enables a disabled endpoint.
    pub enabled: Option<bool>,
}

/// A list of up to `max_items` lines of 1 to 100 characters (kept trimmed, lower-cased), or null.
fn label_list(max_items: usize) -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaFormat, SchemaType, Type};
    let item = ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::Custom("line".into())))
        .max_length(Some(MAX_LABEL));
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(item)
        .max_items(Some(max_items))
        .into()
}

fn event_types() -> utoipa::openapi::schema::Schema {
    label_list(MAX_EVENT_TYPES)
}

fn services() -> utoipa::openapi::schema::Schema {
    label_list(MAX_SERVICES)
}

/// An endpoint as the API shows it: never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: String,
    pub url: String,
    pub description: String,
    pub kind: Kind,
    pub event_types: Vec<String>,
    pub min_severity: Option<u8>,
    pub services: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub failing_since: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<&Endpoint> for WebhookView {
    fn from(e: &Endpoint) -> Self {
        WebhookView {
            id: e.id.clone(),
            url: e.url.clone(),
            description: e.description.clone(),
            kind: e.kind,
            event_types: e.event_types.clone(),
            min_severity: e.min_severity,
            services: e.services.clone(),
            enabled: e.enabled,
            disabled_reason: e.disabled_reason.clone(),
            failing_since: e.failing_since,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// A new endpoint and its signing secret, shown only now.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// `whsec_...`: verify deliveries with it (Standard Webhooks).
    pub secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedSecret {
    pub secret: String,
    /// Until then the previous secret signs too.
    pub previous_secret_expires_at: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Queued {
    pub delivery_id: String,
}

const MAX_LABEL: usize = 100;
const MAX_EVENT_TYPES: usize = 50;
const MAX_SERVICES: usize = 20;

fn check_list(errors: &mut Vec<FieldError>, name: &str, items: &[String], max_items: usize) -> Vec<String> {
    if items.len() > max_items {
        errors.push(FieldError::new(name, format!("at most {max_items}")));
    }
    let checked: Result<Vec<String>, String> =
        items.iter().map(|i| super::rules::line(i, MAX_LABEL).map(|l| l.to_ascii_lowercase())).collect();
    checked.unwrap_or_else(|_| {
        errors.push(FieldError::new(name, format!("each must be one line of 1 to {MAX_LABEL} characters")));
        Vec::new()
    })
}

fn severity(errors: &mut Vec<FieldError>, raw: i64, allow_zero: bool) -> Option<u8> {
    match raw {
        0 if allow_zero => None,
        1..=4 => Some(raw as u8),
        _ => {
            errors.push(FieldError::new("min_severity", "must be 1, 2, 3 or 4"));
            None
        }
    }
}

fn kind(raw: &str) -> Result<Kind, String> {
    super::rules::one_of(raw, "must be one of standard, slack, discord, teams")
}

fn description(raw: &str) -> Result<String, String> {
    super::rules::text(raw, 500, true)
}

async fn find(state: &AppState, id: &str) -> Result<Endpoint, ApiError> {
    state.store.webhook(id).await?.ok_or_else(|| ApiError::not_found(format!("no webhook {id}")))
}

/// Register an endpoint (sre, admin, or an sre API key).
#[utoipa::path(
    tag = "webhooks",
    request_body = CreateWebhook,
    responses(
        (status = 201, description = "Registered; the secret is shown only now", body = CreatedWebhook),
        (status = 400, description = "Invalid fields (an internal address too), each named", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the sre role", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/webhooks")]
pub async fn create_webhook(
    Sre(caller): Sre,
    state: web::Data<AppState>,
    Json(body): Json<CreateWebhook>,
) -> Result<HttpResponse, ApiError> {
    let mut fields = platform::Fields::default();
    let url = fields.check("url", crate::webhooks::network::check_url(&body.url, &state.network).await);
    let kind = fields.check("kind", kind(body.kind.as_deref().unwrap_or("standard")));
    let event_types =
        check_list(&mut fields.0, "event_types", body.event_types.as_deref().unwrap_or_default(), MAX_EVENT_TYPES);
    let services = check_list(&mut fields.0, "services", body.services.as_deref().unwrap_or_default(), MAX_SERVICES);
    let min_severity = body.min_severity.and_then(|s| severity(&mut fields.0, s, false));
    let description = fields.check("description", description(body.description.as_deref().unwrap_or_default()));
    let (Some(url), Some(kind), Some(description), true) = (url, kind, description, fields.0.is_empty()) else {
        return Err(ApiError::Validation(fields.0));
    };
    let now = now();
    let endpoint = Endpoint {
        id: uuid::Uuid::now_v7().to_string(),
        url: url.to_string(),
        description,
        kind,
        event_types,
        min_severity,
        services,
        secret: new_secret(),
        previous_secret: None,
        previous_secret_expires_at: None,
        enabled: true,
        disabled_reason: None,
        failing_since: None,
        created_at: now,
        updated_at: now,
        created_by: caller.id,
    };
    state.store.save_webhook(&endpoint).await?;
    Ok(HttpResponse::Created()
        .insert_header(("location", format!("/api/v1/webhooks/{}", endpoint.id)))
        .insert_header(("cache-control", "no-store"))
        .json(CreatedWebhook { webhook: WebhookView::from(&endpoint), secret: endpoint.secret.clone() }))
}

/// List endpoints.
#[utoipa::path(tag = "webhooks", responses((status = 200, description = "Endpoints", body = Vec<WebhookView>)), security(("bearer" = [])))]
#[get("/api/v1/webhooks")]
pub async fn list_webhooks(Sre(_caller): Sre, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let all: Vec<WebhookView> = state.store.webhooks().await?.iter().map(WebhookView::from).collect();
    Ok(HttpResponse::Ok().json(all))
}

/// One endpoint.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id")),
    responses((status = 200, description = "The endpoint", body = WebhookView), (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/api/v1/webhooks/{id}")]
pub async fn get_webhook(
    Sre(_caller): Sre,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(WebhookView::from(&find(&state, &id).await?)))
}

/// Change an endpoint; `enabled: true` re-enables a disabled one.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id")),
    request_body = EditWebhook,
    responses(
        (status = 200, description = "Changed", body = WebhookView),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/api/v1/webhooks/{id}")]
pub async fn edit_webhook(
    Sre(_caller): Sre,
    state: web::Data<AppState>,
    id: web::Path<String>,
    Json(body): Json<EditWebhook>,
) -> Result<HttpResponse, ApiError> {
    let mut endpoint = find(&state, &id).await?;
    let mut errors = Vec::new();
    if let Some(url) = &body.url {
        match crate::webhooks::network::check_url(url, &state.network).await {
            Ok(url) => endpoint.url = url.to_string(),
            Err(m) => errors.push(FieldError::new("url", m)),
        }
    }
    if let Some(kind) = &body.kind {
        match self::kind(kind) {
            Ok(k) => endpoint.kind = k,
            Err(m) => errors.push(FieldError::new("kind", m)),
        }
    }
    if let Some(types) = &body.event_types {
        endpoint.event_types = check_list(&mut errors, "event_types", types, MAX_EVENT_TYPES);
    }
    if let Some(services) = &body.services {
        endpoint.services = check_list(&mut errors, "services", services, MAX_SERVICES);
    }
    if let Some(sev) = body.min_severity {
        endpoint.min_severity = severity(&mut errors, sev, true);
    }
    if let Some(raw) = &body.description {
        match description(raw) {
            Ok(d) => endpoint.description = d,
            Err(m) => errors.push(FieldError::new("description", m)),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    if let Some(enabled) = body.enabled {
        endpoint.enabled = enabled;
        if enabled {
            endpoint.disabled_reason = None;
            endpoint.failing_since = None;
        } else {
            endpoint.disabled_reason = Some("disabled by a person".into());
        }
    }
    endpoint.updated_at = now();
    state.store.save_webhook(&endpoint).await?;
    Ok(HttpResponse::Ok().json(WebhookView::from(&endpoint)))
}

/// Remove an endpoint.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id")),
    responses((status = 204, description = "Removed"), (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[delete("/api/v1/webhooks/{id}")]
pub async fn delete_webhook(
    Sre(_caller): Sre,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if state.store.delete_webhook(&id).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found(format!("no webhook {id}")))
    }
}

/// A new signing secret; the previous one keeps signing for 24 hours.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id")),
    responses((status = 200, description = "Rotated; the new secret is shown only now", body = RotatedSecret), (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/api/v1/webhooks/{id}/rotate")]
pub async fn rotate_secret(
    Sre(_caller): Sre,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let mut endpoint = find(&state, &id).await?;
    let now = now();
    endpoint.previous_secret = Some(std::mem::replace(&mut endpoint.secret, new_secret()));
    endpoint.previous_secret_expires_at = Some(now + ROTATION_GRACE_SECS);
    endpoint.updated_at = now;
    state.store.save_webhook(&endpoint).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(RotatedSecret { secret: endpoint.secret, previous_secret_expires_at: now + ROTATION_GRACE_SECS }))
}

/// The delivery log: every attempt, newest first (the last 1,000).
#[utoipa::path(
    tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id")),
    responses((status = 200, description = "Attempts", body = Vec<Attempt>), (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/api/v1/webhooks/{id}/deliveries")]
pub async fn list_deliveries(
    Sre(_caller): Sre,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let endpoint = find(&state, &id).await?;
    Ok(HttpResponse::Ok().json(state.store.attempts(&endpoint.id, 1000).await?))
}

async fn queue(
    state: &AppState,
    endpoint: &Endpoint,
    mut delivery: crate::webhooks::delivery::Delivery,
) -> Result<HttpResponse, ApiError> {
    delivery.id = uuid::Uuid::now_v7().to_string();
    delivery.attempts = 0;
    delivery.state = crate::webhooks::delivery::DeliveryState::Pending;
    delivery.endpoint_id = endpoint.id.clone();
    state.store.enqueue(&delivery, chrono::Utc::now().timestamp_millis()).await?;
    Ok(HttpResponse::Accepted().json(Queued { delivery_id: delivery.id }))
}

/// Send a delivery again (same message id, so receivers can tell it is a replay).
#[utoipa::path(
    tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id"), ("delivery" = String, Path, description = "Delivery id from the log")),
    responses((status = 202, description = "Queued", body = Queued), (status = 404, description = "No such webhook or delivery", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/api/v1/webhooks/{id}/deliveries/{delivery}/replay")]
pub async fn replay_delivery(
    Sre(_caller): Sre,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, delivery_id) = path.into_inner();
    let endpoint = find(&state, &id).await?;
    let original = state
        .store
        .delivery(&delivery_id)
        .await?
        .filter(|d| d.endpoint_id == endpoint.id)
        .ok_or_else(|| ApiError::not_found(format!("no delivery {delivery_id} for this webhook")))?;
    queue(&state, &endpoint, original).await
}

/// Send a `webhook.test` event to this endpoint only.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id")),
    responses((status = 202, description = "Queued", body = Queued), (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/api/v1/webhooks/{id}/test")]
pub async fn test_webhook(
    Sre(caller): Sre,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let endpoint = find(&state, &id).await?;
    let event = test_event(&caller);
    let raw = serde_json::to_string(&event).map_err(|e| ApiError::Internal(e.into()))?;
    queue(&state, &endpoint, Dispatcher::delivery_for(&endpoint, &event, raw)).await
}

fn test_event(caller: &Principal) -> CloudEvent {
    CloudEvent::new(
        EVENT_SOURCE,
        "webhook.test",
        "test",
        json!({"message": "A test event from PolyStatus", "sent_by": caller.name}),
    )
}
