//! One error type for every service, rendered as `application/problem+json` (RFC 9457).
//!
//! The table from kind to status and problem `type` lives in [`ApiError::kind`]. Server errors
//! carry their cause for the log only: the body says nothing internal.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid input field: where it is (`email`, `rules[2].value`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// Path of the field in the request (body, query or path).
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// Collects field errors while parsing, for one validation problem listing them all.
#[derive(Default)]
pub struct Fields(pub Vec<FieldError>);

impl Fields {
    pub fn check<T>(&mut self, name: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|m| self.0.push(FieldError::new(name, m))).ok()
    }

    /// A page size from the `limit` query parameter: `default` when absent, else 1 to `max`.
    pub fn page_size(&mut self, raw: Option<&str>, default: usize, max: usize) -> usize {
        let Some(raw) = raw else { return default };
        let parsed = raw.trim().parse::<usize>().ok().filter(|n| (1..=max).contains(n));
        self.check("limit", parsed.ok_or_else(|| format!("must be between 1 and {max}"))).unwrap_or(default)
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() { Ok(()) } else { Err(ApiError::Validation(self.0)) }
    }
}

/// A problem details document (RFC 9457), the body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// URI naming the kind of problem, e.g. `urn:polystatus:problem:validation`.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Every invalid field, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The request id, to quote when reporting the problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// One or more fields are invalid; every one is listed.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// The request cannot be understood (not JSON, wrong content type, ...).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// No credentials, or credentials that do not check out. `challenge` is the
    /// `WWW-Authenticate` value.
    #[error("unauthorized: {detail}")]
    Unauthorized { detail: String, challenge: String },
    /// Well-formed fields whose values cannot be acted on now (a start time in the future, a
    /// range whose end comes before its start): 422, each field named. The request matches its
    /// schema; no schema can state these rules.
    #[error("unprocessable")]
    Unprocessable(Vec<FieldError>),
    /// A field names something that does not exist (a user id, a provider): 422 with the field
    /// named. Not 404, which would say the resource of the path is missing.
    #[error("reference not found")]
    ReferenceNotFound(Vec<FieldError>),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed { allow: Vec<String> },
    #[error("conflict: {0}")]
    Conflict(String),
    /// `If-Match` named a version that is no longer current.
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    /// A dependency (Redis, a peer service) cannot be reached; worth retrying.
    #[error("{dependency} unavailable")]
    Unavailable { dependency: String, source: anyhow::Error },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// What a kind of error looks like on the wire.
struct Kind {
    status: StatusCode,
    slug: &'static str,
    title: &'static str,
}

impl ApiError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    pub fn unprocessable(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Unprocessable(vec![FieldError::new(field, message)])
    }

    pub fn reference_not_found(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::ReferenceNotFound(vec![FieldError::new(field, message)])
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound(what.into())
    }

    /// 401 for a request without usable credentials.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::Unauthorized { detail: detail.into(), challenge: r#"Bearer realm="polystatus""#.into() }
    }

    /// 401 for a token that was presented but is not valid (RFC 6750 `invalid_token`).
    pub fn invalid_token(detail: impl Into<String>) -> Self {
        let detail = detail.into();
        let challenge = format!(
            r#"Bearer realm="polystatus", error="invalid_token", error_description="{}""#,
            detail.replace('"', "'")
        );
        Self::Unauthorized { detail, challenge }
    }

    pub fn unavailable(dependency: impl Into<String>, source: impl Into<anyhow::Error>) -> Self {
        Self::Unavailable { dependency: dependency.into(), source: source.into() }
    }

    fn kind(&self) -> Kind {
        let (status, slug, title) = match self {
            Self::Validation(_) => (StatusCode::BAD_REQUEST, "validation", "Your request has invalid fields"),
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad-request", "Your request could not be understood"),
            Self::Unauthorized { .. } => (StatusCode::UNAUTHORIZED, "unauthorized", "Authentication required"),
            Self::Unprocessable(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable", "Your request cannot be carried out as it stands")
            }
            Self::ReferenceNotFound(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "reference-not-found",
                "Something your request refers to does not exist",
            ),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "You are not allowed to do this"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            Self::MethodNotAllowed { .. } => {
                (StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", "Method not allowed")
            }
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict with the current state"),
            Self::PreconditionFailed(_) => {
                (StatusCode::PRECONDITION_FAILED, "precondition-failed", "The resource has changed")
            }
            Self::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", "Request body too large"),
            Self::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", "Unsupported media type")
            }
            Self::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate-limited", "Too many requests"),
            Self::Unavailable { .. } => {
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Service temporarily unavailable")
            }
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal server error"),
        };
        Kind { status, slug, title }
    }

    /// The `detail` shown to the client. Server-side causes are never shown.
    fn public_detail(&self) -> Option<String> {
        match self {
            Self::Validation(errors) | Self::Unprocessable(errors) | Self::ReferenceNotFound(errors) => {
                Some(errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))
            }
            Self::BadRequest(d)
            | Self::Forbidden(d)
            | Self::NotFound(d)
            | Self::Conflict(d)
            | Self::PreconditionFailed(d)
            | Self::PayloadTooLarge(d)
            | Self::UnsupportedMediaType(d) => Some(d.clone()),
            Self::Unauthorized { detail, .. } => Some(detail.clone()),
            Self::MethodNotAllowed { allow } => Some(format!("allowed methods: {}", allow.join(", "))),
            Self::RateLimited { retry_after_secs } => Some(format!("retry in {retry_after_secs} s")),
            Self::Unavailable { dependency, .. } => Some(format!("{dependency} is unreachable; retry shortly")),
            Self::Internal(_) => None,
        }
    }

    /// Builds the problem document for this error.
    pub fn problem(&self, request_id: Option<String>) -> Problem {
        let kind = self.kind();
        Problem {
            problem_type: format!("urn:polystatus:problem:{}", kind.slug),
            title: kind.title.to_string(),
            status: kind.status.as_u16(),
            detail: self.public_detail(),
            errors: match self {
                Self::Validation(errors) | Self::Unprocessable(errors) | Self::ReferenceNotFound(errors) => {
                    errors.clone()
                }
                _ => Vec::new(),
            },
            request_id,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.kind().status
    }

    fn error_response(&self) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status_code());
        builder.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        match self {
            Self::Unauthorized { challenge, .. } => {
                if let Ok(v) = HeaderValue::from_str(challenge) {
                    builder.insert_header((header::WWW_AUTHENTICATE, v));
                }
            }
            Self::RateLimited { retry_after_secs } => {
                builder.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            Self::Unavailable { .. } => {
                builder.insert_header((header::RETRY_AFTER, "5"));
            }
            Self::MethodNotAllowed { allow } => {
                builder.insert_header((header::ALLOW, allow.join(", ")));
            }
            _ => {}
        }
        let request_id = crate::request_id::current().map(|id| id.to_string());
        builder.json(self.problem(request_id))
    }
}

/// Redis failures mean the store cannot be reached (or answered nonsense): 503, cause logged.
impl From<redis::RedisError> for ApiError {
    fn from(e: redis::RedisError) -> Self {
        Self::unavailable("redis", e)
    }
}

/// Logs the cause chain of server errors once, where the request ends (see the request-id
/// middleware, which calls this).
pub fn log_server_error(err: &actix_web::Error) {
    if let Some(api) = err.as_error::<ApiError>() {
        match api {
            ApiError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "request failed")
            }
            ApiError::Unavailable { dependency, source } => {
                tracing::warn!(dependency, error = format!("{source:#}"), "dependency unavailable")
            }
            _ => {}
        }
    } else if err.as_response_error().status_code().is_server_error() {
        tracing::error!(error = %err, "request failed");
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.title)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    #[actix_web::test]
    async fn validation_lists_every_field_as_problem_json() {
        let err = ApiError::Validation(vec![
            FieldError::new("email", "must be an email address"),
            FieldError::new("role", "must be one of admin, sre, viewer"),
        ]);
        let resp = err.error_response();
        assert_eq!(resp.status(), 400);
        assert_eq!(resp.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().ok()), Some(Some(PROBLEM_JSON)));
        let body: serde_json::Value =
            serde_json::from_slice(&to_bytes(resp.into_body()).await.expect("body")).expect("json");
        assert_eq!(body["type"], "urn:polystatus:problem:validation");
        assert_eq!(body["status"], 400);
        assert_eq!(body["errors"][0]["field"], "email");
        assert_eq!(body["errors"][1]["field"], "role");
    }

    #[actix_web::test]
    async fn internal_errors_reveal_nothing() {
        let err = ApiError::Internal(anyhow::anyhow!("password column leaked at 10.0.0.3"));
        let resp = err.error_response();
        assert_eq!(resp.status(), 500);
        let body = to_bytes(resp.into_body()).await.expect("body");
        let text = String::from_utf8_lossy(&body);
        assert!(!text.contains("10.0.0.3") && !text.contains("password"), "{text}");
    }

    #[actix_web::test]
    async fn unauthorized_carries_a_challenge_and_rate_limit_a_retry_after() {
        let resp = ApiError::invalid_token("expired").error_response();
        assert!(resp.headers().get(header::WWW_AUTHENTICATE).is_some());
        let resp = ApiError::RateLimited { retry_after_secs: 42 }.error_response();
        assert_eq!(resp.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()), Some("42"));
    }
}
