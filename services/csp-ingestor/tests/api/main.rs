//! The ingestor's HTTP API, against a real Redis, users and incidents services, and a local
//! server replaying provider payloads.

mod correlation;
mod helpers;
mod incidents;
mod polling;
mod reference;
