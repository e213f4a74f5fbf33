//! HTTP routes of the ingestor.

mod events;
mod providers;
mod services;

use std::sync::Arc;

use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::poller::Ingestor;

/// What handlers share, built once at startup.
pub struct AppState {
    pub ingestor: Arc<Ingestor>,
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(providers::create_provider)
        .service(providers::list_providers)
        .service(providers::get_provider)
        .service(providers::edit_provider)
        .service(providers::delete_provider)
        .service(providers::list_catalogue)
        .service(providers::refresh)
        .service(events::list_events)
        .service(events::get_event)
        .service(events::graph)
        .service(services::put_service)
        .service(services::list_services)
        .service(services::get_service)
        .service(services::delete_service)
        .service(services::incident_causes);
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "PolyStatus - CSP Ingestor API",
        version = "1.0.0",
        description = "Watches cloud providers' status pages and feeds, normalises what they publish into \
                       provider events, raises internal incidents from the serious ones and links cause and \
                       effect across providers. Errors are application/problem+json (RFC 9457)."
    ),
    servers((url = "http://localhost:8083", description = "Local development")),
    tags(
        (name = "providers", description = "The providers watched, the catalogue, polling now"),
        (name = "events", description = "Provider events, their links and the propagation graph"),
        (name = "services", description = "Internal services' provider dependencies, and incident causes"),
    )
)]
pub struct ApiDoc;
