//! `GET /api/v1/incidents/stats`: counts and mean times over a period (definitions in the README).

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, web};
use platform::auth::Viewer;
use platform::error::Problem;
use platform::{ApiError, Fields};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::{Incident, Status};
use crate::state::{AppState, now};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// Epoch seconds; default 30 days before `to`. After `to`: 422.
    #[param(value_type = Option<i64>, minimum = 0)]
    pub from: Option<String>,
    /// Epoch seconds; default now.
    #[param(value_type = Option<i64>, minimum = 0)]
    pub to: Option<String>,
}

/// Durations from `started_at`, in seconds, over the incidents that reached the milestone.
#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct Durations {
    pub count: usize,
    pub mean: f64,
    pub median: f64,
    pub p90: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    pub from: i64,
    pub to: i64,
    /// Incidents that started in the period.
    pub total: usize,
    /// Counts by severity ("1" to "4").
    pub by_severity: BTreeMap<String, usize>,
    /// Counts by current status.
    pub by_status: BTreeMap<String, usize>,
    /// Mean time to acknowledge; null when none was acknowledged.
    pub mtta: Option<Durations>,
    /// Mean time to mitigate.
    pub mttm: Option<Durations>,
    /// Mean time to resolve.
    pub mttr: Option<Durations>,
}

/// Summary statistics of `seconds`, or `None` for an empty set.
pub fn durations(mut seconds: Vec<f64>) -> Option<Durations> {
    if seconds.is_empty() {
        return None;
    }
    seconds.sort_by(f64::total_cmp);
    let n = seconds.len();
    let mean = seconds.iter().sum::<f64>() / n as f64;
    let median = if n % 2 == 1 { seconds[n / 2] } else { (seconds[n / 2 - 1] + seconds[n / 2]) / 2.0 };
    let p90 = seconds[((n as f64 * 0.9).ceil() as usize).clamp(1, n) - 1];
    Some(Durations { count: n, mean, median, p90 })
}

pub fn compute(incidents: &[Incident], from: i64, to: i64) -> Stats {
    let mut by_severity: BTreeMap<String, usize> = (1..=4).map(|s| (s.to_string(), 0)).collect();
    let mut by_status: BTreeMap<String, usize> = Status::ALL.iter().map(|s| (s.to_string(), 0)).collect();
    for i in incidents {
        *by_severity.entry(i.sev.get().to_string()).or_default() += 1;
        *by_status.entry(i.status.to_string()).or_default() += 1;
    }
    let since_start = |milestone: fn(&Incident) -> Option<i64>| {
        durations(incidents.iter().filter_map(|i| milestone(i).map(|t| (t - i.started_at).max(0) as f64)).collect())
    };
    Stats {
        from,
        to,
        total: incidents.len(),
        by_severity,
        by_status,
        mtta: since_start(|i| i.acknowledged_at),
        mttm: since_start(|i| i.mitigated_at),
        mttr: since_start(|i| i.resolved_at),
    }
}

/// Counts by severity and status, and MTTA / MTTM / MTTR, of the incidents started in a period.
#[utoipa::path(
    tag = "incidents",
    params(StatsQuery),
    responses(
        (status = 200, description = "Statistics", body = Stats),
        (status = 400, description = "Invalid period", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`from` is after `to`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/incidents/stats")]
pub async fn incident_stats(
    Viewer(_caller): Viewer,
    state: web::Data<AppState>,
    query: web::Query<StatsQuery>,
) -> Result<HttpResponse, ApiError> {
    let mut fields = Fields::default();
    let epoch =
        |s: &str| s.trim().parse::<i64>().ok().filter(|t| *t >= 0).ok_or_else(|| "must be epoch seconds".to_string());
    let to = query.to.as_deref().map_or(Some(now()), |t| fields.check("to", epoch(t)));
    let from = query.from.as_deref().map(|f| fields.check("from", epoch(f)));
    fields.finish()?;
    let to = to.unwrap_or_else(now);
    let from = from.flatten().unwrap_or(to - 30 * 86_400);
    if from > to {
        return Err(ApiError::unprocessable("from", "must not be after to"));
    }
    let incidents = state.store.started_between(from, to).await?;
    Ok(HttpResponse::Ok().json(compute(&incidents, from, to)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_of_known_values() {
        assert_eq!(durations(vec![]), None);
        let d = durations(vec![10.0, 20.0, 30.0, 40.0]).expect("some");
        assert_eq!((d.count, d.mean, d.median, d.p90), (4, 25.0, 25.0, 40.0));
        let d = durations(vec![5.0]).expect("some");
        assert_eq!((d.mean, d.median, d.p90), (5.0, 5.0, 5.0));
    }
}
