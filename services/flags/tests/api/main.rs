//! The flags service's HTTP API against a real Redis and users service.

mod admin;
mod evaluation;
mod helpers;
mod replicas;
mod sdk;
