//! `/api/v1/api-keys`: credentials for machines, each with a role. The secret is shown once, at
//! creation, and stored only as a hash.

use actix_web::{HttpResponse, delete, get, post, web};
use platform::ApiError;
use platform::auth::{Admin, Role};
use platform::error::Problem;
use platform::extract::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::UserName;
use crate::state::{AppState, now};
use crate::store::ApiKeyRecord;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateApiKeyRequest {
    #[schema(example = "csp-ingestor", format = "line", min_length = 1, max_length = 100)]
    pub name: String,
    /// admin, sre or viewer.
    #[schema(value_type = Role, example = "sre")]
    pub role: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// The start of the secret, to recognise the key.
    pub prefix: String,
    pub created_at: i64,
    /// Id of the admin who created it.
    pub created_by: String,
    pub revoked_at: Option<i64>,
}

impl From<&ApiKeyRecord> for ApiKey {
    fn from(k: &ApiKeyRecord) -> Self {
        ApiKey {
            id: k.id.clone(),
            name: k.name.clone(),
            role: k.role,
            prefix: k.prefix.clone(),
            created_at: k.created_at,
            created_by: k.created_by.clone(),
            revoked_at: k.revoked_at,
        }
    }
}

/// A new key with its secret, which is never shown again.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub key: ApiKey,
    /// Exchange it at `POST /api/v1/auth/token`. Shown only now.
    pub secret: String,
}

/// Create an API key (admin).
#[utoipa::path(
    tag = "api-keys",
    request_body = CreateApiKeyRequest,
    responses(
        (status = 201, description = "Created; the secret is shown only now", body = CreatedApiKey),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/api-keys")]
pub async fn create_api_key(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    Json(body): Json<CreateApiKeyRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = Vec::new();
    let name = UserName::parse(&body.name).map_err(|m| errors.push(platform::FieldError::new("name", m))).ok();
    let role = body.role.parse::<Role>().map_err(|m| errors.push(platform::FieldError::new("role", m))).ok();
    let (Some(name), Some(role)) = (name, role) else {
        return Err(ApiError::Validation(errors));
    };
    let (record, secret) = crate::store::new_api_key(name.into_inner(), role, caller.id);
    state.store.save_api_key(&record).await?;
    tracing::info!(key_id = %record.id, role = %role, "API key created");
    Ok(HttpResponse::Created()
        .insert_header(("location", format!("/api/v1/api-keys/{}", record.id)))
        .insert_header(("cache-control", "no-store"))
        .json(CreatedApiKey { key: ApiKey::from(&record), secret }))
}

/// List API keys, revoked ones included (admin).
#[utoipa::path(
    tag = "api-keys",
    responses(
        (status = 200, description = "Every key, without secrets", body = Vec<ApiKey>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/api-keys")]
pub async fn list_api_keys(Admin(_caller): Admin, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let keys: Vec<ApiKey> = state.store.api_keys().await?.iter().map(ApiKey::from).collect();
    Ok(HttpResponse::Ok().json(keys))
}

/// Revoke an API key (admin). Tokens already issued for it expire on their own.
#[utoipa::path(
    tag = "api-keys",
    params(("id" = String, Path, description = "API key id")),
    responses(
        (status = 204, description = "Revoked (also when it already was)"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/api/v1/api-keys/{id}")]
pub async fn revoke_api_key(
    Admin(_caller): Admin,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let mut key = state.store.api_key(&id).await?.ok_or_else(|| ApiError::not_found(format!("no API key {id}")))?;
    if key.revoked_at.is_none() {
        key.revoked_at = Some(now());
        state.store.revoke_api_key(&key).await?;
        tracing::info!(key_id = %key.id, "API key revoked");
    }
    Ok(HttpResponse::NoContent().finish())
}
