//! `/api/v1/public/banner`: one message across the top of the status page, with an expiry.

use actix_web::{HttpResponse, delete, get, post, web};
use platform::auth::Sre;
use platform::error::Problem;
use platform::extract::Json;
use platform::{ApiError, FieldError};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::{Banner, BannerLevel};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct SetBanner {
    #[schema(example = "Scheduled maintenance tonight 22:00-23:00 UTC")]
    pub message: String,
    /// info (default), warning or critical.
    pub level: Option<String>,
    /// Epoch seconds after which it disappears; omit to keep it until removed.
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
    let mut errors = Vec::new();
    let message = body.message.trim().to_string();
    if message.is_empty() || message.chars().count() > 500 {
        errors.push(FieldError::new("message", "must be 1 to 500 characters"));
    }
    let level = match body.level.as_deref().map(|l| l.trim().to_ascii_lowercase()) {
        None => Some(BannerLevel::Info),
        Some(l) if l == "info" => Some(BannerLevel::Info),
        Some(l) if l == "warning" => Some(BannerLevel::Warning),
        Some(l) if l == "critical" => Some(BannerLevel::Critical),
        Some(_) => {
            errors.push(FieldError::new("level", "must be one of info, warning, critical"));
            None
        }
    };
    if body.expires_at.is_some_and(|t| t <= now) {
        errors.push(FieldError::new("expires_at", "must be in the future (epoch seconds)"));
    }
    let (Some(level), true) = (level, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let banner = Banner { message, level, created_at: now, expires_at: body.expires_at };
    state.store.set_banner(&banner, body.expires_at.map(|t| (t - now) as u64)).await?;
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
