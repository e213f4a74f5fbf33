//! HTTP routes of the comms service.

mod announce;
mod banner;
mod chatops;
mod ci;
mod events;
mod public;
mod rules;
mod subscriptions;
mod webhooks;

pub use announce::{incident_id, publish};
use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(events::receive_event)
        .service(announce::announce)
        .service(public::public_status)
        .service(public::public_incident)
        .service(public::statuspage_summary)
        .service(public::statuspage_status)
        .service(public::statuspage_incidents)
        .service(public::statuspage_unresolved)
        .service(public::statuspage_components)
        .service(public::history_rss)
        .service(public::history_atom)
        .service(banner::get_banner)
        .service(banner::set_banner)
        .service(banner::clear_banner)
        .service(subscriptions::subscribe)
        .service(subscriptions::confirm)
        .service(subscriptions::unsubscribe)
        .service(subscriptions::unsubscribe_one_click)
        .service(subscriptions::subscriber_count)
        .service(webhooks::create_webhook)
        .service(webhooks::list_webhooks)
        .service(webhooks::get_webhook)
        .service(webhooks::edit_webhook)
        .service(webhooks::delete_webhook)
        .service(webhooks::rotate_secret)
        .service(webhooks::list_deliveries)
        .service(webhooks::replay_delivery)
        .service(webhooks::test_webhook)
        .service(chatops::get_slack)
        .service(chatops::put_slack)
        .service(chatops::list_links)
        .service(chatops::put_link)
        .service(chatops::delete_link)
        .service(chatops::slash_command)
        .service(chatops::slack_events)
        .service(ci::list_sources)
        .service(ci::get_source)
        .service(ci::put_source)
        .service(ci::delete_source)
        .service(ci::receive);
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "PolyStatus - Communications API",
        version = "1.0.0",
        description = "Public announcements and the public status page: its JSON, a Statuspage-compatible \
                       read API, RSS and Atom feeds and the site banner; and the intake of other services' \
                       events. Errors are application/problem+json (RFC 9457)."
    ),
    servers((url = "http://localhost:8082", description = "Local development")),
    tags(
        (name = "public", description = "Anonymous reads of the public status"),
        (name = "statuspage", description = "Statuspage v2 compatible reads"),
        (name = "announcements", description = "Public messages about incidents"),
        (name = "events", description = "Events from the other services"),
        (name = "subscriptions", description = "Email subscriptions (double opt-in)"),
        (name = "webhooks", description = "Signed event deliveries to other systems (Standard Webhooks)"),
        (name = "chatops", description = "Incidents from Slack: settings, user links, slash commands and events"),
        (name = "ci", description = "CI/CD sources and their pipeline webhooks (GitHub, GitLab, generic)"),
    )
)]
pub struct ApiDoc;
