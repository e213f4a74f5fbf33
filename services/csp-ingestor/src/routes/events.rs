//! `/api/v1/csp/events` and `/api/v1/csp/graph`: what providers published, how one event
//! probably caused another, and the propagation going on now.

use actix_web::{HttpResponse, get, web};
use platform::auth::Viewer;
use platform::error::Problem;
use platform::{ApiError, Fields};
use serde::{Deserialize, Serialize};
use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::{IntoParams, ToSchema};

use crate::correlate::{self, Link, Names};
use crate::domain::{Health, InternalService, Revision, check_name, now};
use crate::event::EventUpdate;
use crate::routes::{AppState, schemas};
use crate::view::EventView;

#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    /// true: only ongoing events; false: only ended ones; absent: both.
    pub active: Option<String>,
    /// Only this provider's events.
    pub provider: Option<String>,
    /// Page size, 1 to 1000 (default 100).
    pub limit: Option<String>,
}

impl IntoParams for EventsQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let query = ParameterIn::Query;
        vec![
            schemas::param(
                "active",
                query.clone(),
                false,
                "true: only ongoing events; false: only ended ones; absent: both",
                ObjectBuilder::new().schema_type(Type::Boolean),
            ),
            schemas::param("provider", query.clone(), false, "Only this provider's events", schemas::name()),
            schemas::param(
                "limit",
                query,
                false,
                "Page size, 1 to 1000 (default 100)",
                ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)).maximum(Some(1000)),
            ),
        ]
    }
}

/// An event with its updates, history, internal incident and links to other providers' events.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventDetail {
    #[serde(flatten)]
    pub event: EventView,
    /// Oldest first.
    pub updates: Vec<EventUpdate>,
    /// What the ingestor saw change, oldest first.
    pub history: Vec<Revision>,
    /// The internal incident raised from it.
    pub incident_id: Option<String>,
    /// Events of other providers that probably caused this one.
    pub caused_by: Vec<Link>,
    /// Events of other providers this one probably caused.
    pub effects: Vec<Link>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GraphProvider {
    pub name: String,
    pub display_name: String,
    pub health: Health,
    pub active_events: usize,
}

/// "`from` runs on `to`".
#[derive(Debug, Serialize, ToSchema)]
pub struct GraphDependency {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Graph {
    pub providers: Vec<GraphProvider>,
    /// Declared provider dependencies.
    pub dependencies: Vec<GraphDependency>,
    /// Internal services and the providers they run on.
    pub services: Vec<InternalService>,
    /// The active events.
    pub events: Vec<EventView>,
    /// Links among the active events, strongest first.
    pub propagation: Vec<Link>,
}

fn parse_bool(raw: &str) -> Result<bool, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err("must be true or false".into()),
    }
}

/// Provider events, most recently updated first: a bare array of the reference fields and more.
#[utoipa::path(
    tag = "events",
    params(EventsQuery),
    responses(
        (status = 200, description = "Events, most recently updated first", body = Vec<EventView>),
        (status = 400, description = "Invalid filter, named", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/csp/events")]
pub async fn list_events(
    _caller: Viewer,
    state: web::Data<AppState>,
    query: web::Query<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    let mut fields = Fields::default();
    let active = query.active.as_deref().and_then(|a| fields.check("active", parse_bool(a)));
    let provider = query.provider.as_deref().and_then(|p| fields.check("provider", check_name(p)));
    let limit = fields.page_size(query.limit.as_deref(), 100, 1000);
    fields.finish()?;
    let store = &state.ingestor.store;
    let mut events = match (active, &provider) {
        (Some(true), _) => store.active_events().await?,
        (_, Some(p)) => store.provider_events(p).await?,
        _ => {
            // The most recent, enough to fill a page after the filters.
            let ids = store.recent_ids(0, limit * 4 + 100).await?;
            store.events(&ids).await?
        }
    };
    events.retain(|e| active.is_none_or(|a| e.is_active() == a) && provider.as_ref().is_none_or(|p| e.provider == *p));
    events.sort_by(|a, b| b.ts_update().cmp(&a.ts_update()).then_with(|| a.id.cmp(&b.id)));
    events.truncate(limit);
    let views: Vec<EventView> = events.iter().map(EventView::from).collect();
    Ok(HttpResponse::Ok().json(views))
}

/// One event, with its updates, history, internal incident and cause-and-effect links.
#[utoipa::path(
    tag = "events",
    params(("id" = String, Path, description = "Event id")),
    responses(
        (status = 200, description = "The event", body = EventDetail),
        (status = 404, description = "No such event", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/csp/events/{id}")]
pub async fn get_event(
    _caller: Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let store = &state.ingestor.store;
    let valid = id.len() <= 80 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    let event = match valid {
        true => store.event(&id).await?,
        false => None,
    }
    .ok_or_else(|| ApiError::not_found(format!("no event {id}")))?;
    let providers = store.providers().await?;
    let names = Names::new(&providers);
    let window = state.ingestor.correlation.window_secs;
    let now = now();
    let others = store.events_near(event.ts_start() - window).await?;
    let mut caused_by = Vec::new();
    let mut effects = Vec::new();
    for other in others.iter().filter(|o| o.id != event.id) {
        caused_by.extend(correlate::link(&names, other, &event, window, now));
        effects.extend(correlate::link(&names, &event, other, window, now));
    }
    caused_by.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    effects.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    let sync = store.incident_sync(&event.id).await?;
    let mut updates = event.event.updates.clone();
    updates.sort_by_key(|u| u.at);
    Ok(HttpResponse::Ok().json(EventDetail {
        event: EventView::from(&event),
        updates,
        history: event.history.clone(),
        incident_id: sync.incident_id,
        caused_by,
        effects,
    }))
}

/// Providers, their declared dependencies, the internal services on them, and how the active
/// events propagate.
#[utoipa::path(
    tag = "events",
    responses(
        (status = 200, description = "The graph", body = Graph),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/csp/graph")]
pub async fn graph(_caller: Viewer, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let store = &state.ingestor.store;
    let providers = store.providers().await?;
    let names: Vec<String> = providers.iter().map(|p| p.name.clone()).collect();
    let states = store.states(&names).await?;
    let mut active = store.active_events().await?;
    active.sort_by(|a, b| b.ts_update().cmp(&a.ts_update()).then_with(|| a.id.cmp(&b.id)));
    let lookup = Names::new(&providers);
    let propagation = correlate::links(&lookup, &active, state.ingestor.correlation.window_secs, now());
    let graph = Graph {
        providers: providers
            .iter()
            .zip(states)
            .map(|(p, s)| GraphProvider {
                name: p.name.clone(),
                display_name: p.display_name.clone(),
                health: s.health,
                active_events: active.iter().filter(|e| e.provider == p.name).count(),
            })
            .collect(),
        dependencies: providers
            .iter()
            .flat_map(|p| {
                p.depends_on
                    .iter()
                    .filter(|d| names.contains(d))
                    .map(|d| GraphDependency { from: p.name.clone(), to: d.clone() })
            })
            .collect(),
        services: store.services().await?,
        events: active.iter().map(EventView::from).collect(),
        propagation,
    };
    Ok(HttpResponse::Ok().json(graph))
}
