//! `/api/v1/public/banner`: one message across the top of the status page, with an expiry.

use actix_web::{HttpResponse, delete, get, post, web};
use platform::auth::Sre;
use platform::error::Problem;
use platform::extract::Json;
use platform::{ApiError, FieldError, Fields};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::{Banner, BannerLevel};
use crate::state::AppState;

/// The latest `expires_at` taken: the last second of year 9999.
const MAX_EXPIRES_AT: i64 = 253_402_300_799;

#[derive(Debug, Deserialize, ToSchema)]
pub struct SetBanner {
    /// Up to 500 characters, lines allowed, not blank (kept trimmed).
    #[schema(example = "Scheduled maintenance tonight 22:00-23:00 UTC", format = "text", max_length = 500)]
    pub message: String,
    /// info (default), warning or critical.
    #[schema(value_type = Option<BannerLevel>)]
    pub level: Option<String>,
    /// Epoch seconds after which it disappears, at most the end of year 9999; omit (or null) to
    /// keep it until removed. A time already past is refused with 422.
    #[schema(minimum = 1, maximum = 253_402_300_799.0, example = 1_893_456_000)]
    pub expires_at: Option<i64>,
}

/// The current banner (anonymous).
#[utoipa::path(
    tag = "public",
    responses(
        (status = 200, description = "The banner", body = Banner),
        (status = 404, description = "No banner", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/public/banner")]
pub async fn get_banner(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let now = chrono::Utc::now().timestamp();
    match state.pages.current().banner.clone().filter(|b| b.is_live(now)) {
        Some(banner) => Ok(HttpResponse::Ok().insert_header(("cache-control", "public, max-age=5")).json(banner)),
        None => Err(ApiError::not_found("no banner")),
    }
}

/// Set the banner (replaces the current one).
#[utoipa::path(
    tag = "announcements",
    request_body = SetBanner,
    responses(
        (status = 201, description = "Set", body = Banner),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the sre role", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`expires_at` has passed already", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/public/banner")]
pub async fn set_banner(
    Sre(_caller): Sre,
    state: web::Data<AppState>,
    Json(body): Json<SetBanner>,
) -> Result<HttpResponse, ApiError> {
    let now = chrono::Utc::now().timestamp();
    let mut fields = Fields::default();
    let message = fields.check("message", super::rules::text(&body.message, 500, false));
    let level = match body.level.as_deref() {
        None => Some(BannerLevel::Info),
        Some(raw) => fields.check("level", super::rules::one_of(raw, "must be one of info, warning, critical")),
    };
    if body.expires_at.is_some_and(|t| !(1..=MAX_EXPIRES_AT).contains(&t)) {
        fields.0.push(FieldError::new("expires_at", format!("must be epoch seconds from 1 to {MAX_EXPIRES_AT}")));
    }
    let (Some(message), Some(level), true) = (message, level, fields.0.is_empty()) else {
        return Err(ApiError::Validation(fields.0));
    };
    if body.expires_at.is_some_and(|t| t <= now) {
        // Well formed, but it would never be shown: most likely a mistake worth telling.
        return Err(ApiError::unprocessable("expires_at", "must be in the future (epoch seconds)"));
    }
    let banner = Banner { message, level, created_at: now, expires_at: body.expires_at };
    state.store.set_banner(&banner, body.expires_at.map(|t| (t - now).unsigned_abs())).await?;
    state.refresh_pages().await;
    Ok(HttpResponse::Created().json(banner))
}

/// Remove the banner.
#[utoipa::path(
    tag = "announcements",
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "There was none", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/api/v1/public/banner")]
pub async fn clear_banner(Sre(_caller): Sre, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let removed = state.store.clear_banner().await?;
    state.refresh_pages().await;
    if removed { Ok(HttpResponse::NoContent().finish()) } else { Err(ApiError::not_found("no banner")) }
}
