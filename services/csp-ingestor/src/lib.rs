//! PolyStatus cloud provider status ingestion.
//!
//! Work in progress: the normalised provider event and the adapters for Atlassian Statuspage v2
//! JSON (and incident.io pages that speak it), Google Cloud `incidents.json`, RSS / Atom feeds,
//! AWS `currentevents` (UTF-16 or UTF-8), status.io and the Slack status API are here and tested
//! against recorded payloads, with `type: json` detection. The HTTP availability probe and the
//! service itself (routes, polling, incidents, cause and effect) are still to be built.
#![forbid(unsafe_code)]

pub mod adapters;
pub mod event;
