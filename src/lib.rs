//! The `polystatus` command: the whole platform in one process, and the OpenAPI documents.
#![forbid(unsafe_code)]

pub mod healthcheck;
pub mod openapi;
pub mod redis_server;
pub mod services;
pub mod up;
