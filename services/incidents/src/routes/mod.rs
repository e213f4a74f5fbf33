//! HTTP routes of the incidents service.

mod action_items;
mod alerts;
pub mod dto;
mod incidents;
mod lifecycle;
mod postmortem;
mod stats;
mod timeline;

use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every route. `stats` comes before `{id}` so it is not taken for an id.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(stats::incident_stats)
        .service(incidents::create_incident)
        .service(incidents::list_incidents)
        .service(incidents::get_incident)
        .service(incidents::edit_incident)
        .service(lifecycle::assign_incident)
        .service(lifecycle::change_status)
        .service(lifecycle::acknowledge_incident)
        .service(lifecycle::follow_incident)
        .service(lifecycle::unfollow_incident)
        .service(lifecycle::link_provider_event)
        .service(timeline::add_timeline_entry)
        .service(timeline::list_timeline)
        .service(postmortem::save_postmortem)
        .service(postmortem::get_postmortem)
        .service(postmortem::publish_postmortem)
        .service(postmortem::postmortem_markdown)
        .service(action_items::list_action_items)
        .service(action_items::create_action_item)
        .service(action_items::edit_action_item)
        .service(action_items::delete_action_item)
        .service(alerts::receive_alert);
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "PolyStatus - Incidents API",
        version = "1.0.0",
        description = "Declare and run incidents: lifecycle, timeline, assignment, postmortems, action \
                       items, statistics, and PagerDuty-compatible alert intake. Errors are \
                       application/problem+json (RFC 9457)."
    ),
    servers((url = "http://localhost:8081", description = "Local development")),
    tags(
        (name = "incidents", description = "Incidents and their lifecycle"),
        (name = "timeline", description = "What happened, in order"),
        (name = "postmortem", description = "Postmortems and action items"),
        (name = "alerts", description = "Alert intake (PagerDuty Events API v2)"),
    )
)]
pub struct ApiDoc;
