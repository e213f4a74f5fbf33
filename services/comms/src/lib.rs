//! PolyStatus communications service: public announcements, the public status page (JSON,
//! Statuspage-compatible API, RSS and Atom), the site banner, and the intake of the other
//! services' events.
#![forbid(unsafe_code)]

pub mod chatops;
pub mod domain;
pub mod email;
pub mod feeds;
pub mod incidents_client;
pub mod keys;
pub mod routes;
pub mod settings;
pub mod snapshot;
pub mod startup;
pub mod state;
pub mod statuspage;
pub mod store;
pub mod webhooks;
