//! `/health/live` says the process answers; `/health/ready` says it can do its work (Redis
//! answers PING in time), with a report per dependency and 503 when one is down.

use std::collections::BTreeMap;
use std::time::Duration;

use actix_web::{HttpResponse, web};
use redis::aio::ConnectionManager;
use serde::Serialize;
use utoipa::ToSchema;

/// What readiness checks.
#[derive(Clone)]
pub struct Readiness {
    pub redis: ConnectionManager,
    pub timeout: Duration,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthReport {
    /// `ok` or `unavailable`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub checks: BTreeMap<&'static str, DependencyHealth>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DependencyHealth {
    /// `up` or `down`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `GET /health/live`
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(HealthReport { status: "ok", checks: BTreeMap::new() })
}

/// `GET /health/ready`
pub async fn ready(readiness: web::Data<Readiness>) -> HttpResponse {
    let redis = match crate::redis::ping(&readiness.redis, readiness.timeout).await {
        Ok(latency) => DependencyHealth { status: "up", latency_ms: Some(latency.as_secs_f64() * 1000.0), error: None },
        Err(error) => DependencyHealth { status: "down", latency_ms: None, error: Some(error) },
    };
    let up = redis.status == "up";
    let report =
        HealthReport { status: if up { "ok" } else { "unavailable" }, checks: BTreeMap::from([("redis", redis)]) };
    if up { HttpResponse::Ok().json(report) } else { HttpResponse::ServiceUnavailable().json(report) }
}
