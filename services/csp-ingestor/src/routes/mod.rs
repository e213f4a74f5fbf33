//! HTTP routes of the ingestor.

mod events;
mod providers;
mod schemas;
mod services;

use std::sync::Arc;

use platform::{ApiError, FieldError, Fields};
use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::poller::Ingestor;

/// What handlers share, built once at startup.
pub struct AppState {
    pub ingestor: Arc<Ingestor>,
}

/// How a request with bad fields is refused, every field named: 400 when one is malformed (its
/// schema says so; the others are listed too), else 404 when one names a provider not watched
/// (`missing`), else 422 when fields are well formed but cannot be acted on as they stand (a feed
/// left out for a name not in the catalogue; a provider not watched where the path names a
/// provider, so a 404 would read as that one being gone).
pub fn finish(fields: Fields, missing: Vec<FieldError>, unprocessable: Vec<FieldError>) -> Result<(), ApiError> {
    let mut all = fields.0;
    let malformed = !all.is_empty();
    let any_missing = !missing.is_empty();
    all.extend(missing);
    all.extend(unprocessable);
    if all.is_empty() {
        Ok(())
    } else if malformed {
        Err(ApiError::Validation(all))
    } else if any_missing {
        Err(ApiError::ReferenceNotFound(all))
    } else {
        Err(ApiError::Unprocessable(all))
    }
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
