//! PolyStatus cloud provider status ingestion: adapters for what providers publish, polling,
//! normalised events with their history, internal incidents raised from them, and cause and
//! effect across providers.
#![forbid(unsafe_code)]

pub mod adapters;
pub mod catalogue;
pub mod correlate;
pub mod domain;
pub mod event;
pub mod fetch;
pub mod incidents_client;
pub mod ingest;
pub mod keys;
pub mod poller;
pub mod routes;
pub mod settings;
pub mod startup;
pub mod store;
pub mod sync;
pub mod view;
