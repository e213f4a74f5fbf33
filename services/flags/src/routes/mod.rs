//! HTTP routes of the flags service.

mod admin;
mod evaluation;

use tokio_util::sync::CancellationToken;
use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::cache::FlagCache;
use crate::store::RedisStore;

/// The `source` of every event this service emits.
pub const EVENT_SOURCE: &str = "/polystatus/flags";

/// What handlers share, built once at startup.
pub struct AppState {
    pub store: RedisStore,
    pub cache: FlagCache,
    /// Serialised bulk answers, by ETag.
    pub answers: crate::cache::Answers,
    /// Cancelled at shutdown: ends the event streams.
    pub stop: CancellationToken,
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(evaluation::user_flags)
        .service(evaluation::flag_stream)
        .service(evaluation::ofrep_flag)
        .service(evaluation::ofrep_bulk)
        .service(admin::upsert_flag)
        .service(admin::list_flags)
        .service(admin::get_flag)
        .service(admin::toggle_flag)
        .service(admin::delete_flag)
        .service(admin::flag_history);
}

#[derive(OpenApi)]
#[openapi(
    components(schemas(evaluation::ValueType)),
    info(
        title = "PolyStatus - Feature Flags API",
        version = "1.0.0",
        description = "Feature flags with user targets, rules, percentage rollouts (flagd fractional \
                       bucketing) and typed values; evaluation from memory, also over the OpenFeature Remote \
                       Evaluation Protocol, with a Server-Sent Events change stream. Errors are \
                       application/problem+json (RFC 9457), OFREP errors its own shape."
    ),
    servers((url = "http://localhost:8070", description = "Local development")),
    tags(
        (name = "evaluation", description = "Which variation a user gets (any valid token)"),
        (name = "ofrep", description = "OpenFeature Remote Evaluation Protocol"),
        (name = "admin", description = "Flag definitions, toggles and the audit log (admin)"),
    )
)]
pub struct ApiDoc;
