//! PolyStatus feature flags: definitions with targets, rules and percentage rollouts, evaluated
//! from an in-memory copy kept fresh across replicas, over the reference API, OFREP and a
//! Server-Sent Events change stream.
#![forbid(unsafe_code)]

pub mod cache;
pub mod definition;
pub mod domain;
pub mod evaluate;
pub mod keys;
pub mod routes;
pub mod settings;
pub mod startup;
pub mod store;
