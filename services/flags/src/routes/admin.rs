//! `/admin/flags` and `/admin/toggle/{key}`: the reference management API, plus read one,
//! delete and the audit log. Admin role.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, post, web};
use platform::auth::{Admin, Principal};
use platform::error::Problem;
use platform::events::CloudEvent;
use platform::extract::{IfMatch, Json, etag};
use platform::{ApiError, Fields};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::definition::{FlagDefinition, build, changed_fields};
use crate::domain::{Flag, check_id};
use crate::routes::{AppState, EVENT_SOURCE};
use crate::store::{AuditEntry, Expect, Written};

#[derive(Debug, Deserialize, ToSchema)]
pub struct Toggle {
    pub on: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Entries, 1 to 500 (default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Deleted {
    pub id: String,
}

fn who(caller: &Principal) -> String {
    format!("{} ({})", caller.name, caller.id)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Writes one change with its audit entry and `flag.changed` event; the fresh copy is read back
/// into memory before answering, so the caller's next evaluation sees it.
async fn commit(
    state: &AppState,
    caller: &Principal,
    action: &str,
    before: Option<&Flag>,
    after: Option<&Flag>,
) -> Result<Written, ApiError> {
    let shown = after.or(before).ok_or_else(|| ApiError::Internal(anyhow::anyhow!("a change without a flag")))?;
    let audit = AuditEntry {
        at: now(),
        by: who(caller),
        action: action.to_string(),
        version: shown.version,
        changed: after.map(|a| changed_fields(before, a)).unwrap_or_default(),
        flag: shown.clone(),
    };
    let event = CloudEvent::new(
        EVENT_SOURCE,
        "flag.changed",
        shown.id.clone(),
        json!({"action": action, "flag": after, "id": shown.id, "by": caller.name, "changed": audit.changed}),
    );
    let expect = before.map_or(Expect::New, |b| Expect::Version(b.version));
    let written = state.store.write(&shown.id, expect, after, &audit, &event).await?;
    if let Written::Done(_) = written {
        tracing::info!(flag = %shown.id, action, by = %caller.id, "flag changed");
        if let Err(e) = state.cache.refresh().await {
            tracing::warn!(error = %e, "flags not reloaded after a change; the refresher catches up");
        }
    }
    Ok(written)
}

fn flag_response(status: StatusCode, flag: &Flag) -> HttpResponse {
    HttpResponse::build(status).insert_header(("etag", etag(flag.version))).json(flag)
}

/// Create or replace a flag: 201 when created, 200 when updated (the reference contract).
/// `If-Match` makes a replace conditional.
#[utoipa::path(
    tag = "admin",
    request_body = FlagDefinition,
    responses(
        (status = 201, description = "Created", body = Flag),
        (status = 200, description = "Updated", body = Flag),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin role", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The flag kept changing while this was written; try again", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since the If-Match version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fields that do not fit together (a variation the flag does not have, a boolean flag \
            without exactly two variations, rollout weights beyond 1,000,000 in all...), each named", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/admin/flags")]
pub async fn upsert_flag(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    if_match: IfMatch,
    Json(input): Json<FlagDefinition>,
) -> Result<HttpResponse, ApiError> {
    // A concurrent writer makes the version check fail: read again and retry (last write wins,
    // unless the caller sent If-Match).
    for _ in 0..5 {
        let before = match check_id(&input.id) {
            Ok(id) => state.store.flag(&id).await?,
            Err(_) => None,
        };
        if let (Some(expected), Some(b)) = (if_match.0, &before)
            && expected != b.version
        {
            return Err(ApiError::PreconditionFailed(format!("the flag is at version {}", b.version)));
        }
        let after = build(&input, before.as_ref(), &who(&caller), now())?;
        if before.as_ref().is_some_and(|b| changed_fields(Some(b), &after).is_empty()) {
            return Ok(flag_response(StatusCode::OK, before.as_ref().unwrap_or(&after)));
        }
        let action = if before.is_some() { "updated" } else { "created" };
        match commit(&state, &caller, action, before.as_ref(), Some(&after)).await? {
            Written::Done(_) => {
                let status = if before.is_some() { StatusCode::OK } else { StatusCode::CREATED };
                return Ok(flag_response(status, &after));
            }
            Written::Conflict if if_match.0.is_some() => {
                return Err(ApiError::PreconditionFailed("the flag changed meanwhile; read it again".into()));
            }
            Written::Conflict | Written::Missing => continue,
        }
    }
    Err(ApiError::Conflict("the flag keeps changing; try again".into()))
}

/// Every flag definition, by id.
#[utoipa::path(
    tag = "admin",
    responses(
        (status = 200, description = "Flags", body = Vec<Flag>),
        (status = 403, description = "Needs the admin role", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/admin/flags")]
pub async fn list_flags(_caller: Admin, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let (_, flags) = state.store.snapshot().await?;
    Ok(HttpResponse::Ok().json(flags.into_values().collect::<Vec<_>>()))
}

async fn find(state: &AppState, raw: &str) -> Result<Flag, ApiError> {
    let id = check_id(raw).map_err(|_| ApiError::not_found(format!("no flag {raw}")))?;
    state.store.flag(&id).await?.ok_or_else(|| ApiError::not_found(format!("no flag {id}")))
}

/// One flag definition.
#[utoipa::path(
    tag = "admin",
    params(("key" = String, Path, description = "Flag id")),
    responses(
        (status = 200, description = "The flag; `ETag` carries its version", body = Flag),
        (status = 404, description = "No such flag", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/admin/flags/{key}")]
pub async fn get_flag(
    _caller: Admin,
    state: web::Data<AppState>,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(flag_response(StatusCode::OK, &find(&state, &key).await?))
}

/// Turn a flag on or off (the reference contract).
#[utoipa::path(
    tag = "admin",
    params(("key" = String, Path, description = "Flag id")),
    request_body = Toggle,
    responses(
        (status = 200, description = "Toggled", body = Flag),
        (status = 400, description = "`on` missing or not a boolean", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such flag", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The flag kept changing while this was written; try again", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/admin/toggle/{key}")]
pub async fn toggle_flag(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    key: web::Path<String>,
    Json(body): Json<Toggle>,
) -> Result<HttpResponse, ApiError> {
    for _ in 0..5 {
        let before = find(&state, &key).await?;
        if before.on == body.on {
            return Ok(flag_response(StatusCode::OK, &before));
        }
        let after = Flag {
            on: body.on,
            version: before.version + 1,
            updated_at: now(),
            updated_by: who(&caller),
            ..before.clone()
        };
        match commit(&state, &caller, "toggled", Some(&before), Some(&after)).await? {
            Written::Done(_) => return Ok(flag_response(StatusCode::OK, &after)),
            Written::Missing => return Err(ApiError::not_found(format!("no flag {}", before.id))),
            Written::Conflict => continue,
        }
    }
    Err(ApiError::Conflict("the flag keeps changing; try again".into()))
}

/// Delete a flag; evaluations then fall back to the caller's default (OFREP `FLAG_NOT_FOUND`).
#[utoipa::path(
    tag = "admin",
    params(("key" = String, Path, description = "Flag id")),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        (status = 404, description = "No such flag", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The flag changed while it was being deleted; read it again", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/admin/flags/{key}")]
pub async fn delete_flag(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let before = find(&state, &key).await?;
    match commit(&state, &caller, "deleted", Some(&before), None).await? {
        Written::Done(_) => Ok(HttpResponse::Ok().json(Deleted { id: before.id })),
        Written::Missing => Err(ApiError::not_found(format!("no flag {}", before.id))),
        Written::Conflict => Err(ApiError::Conflict("the flag changed meanwhile; read it again".into())),
    }
}

/// Who changed what and when, newest first.
#[utoipa::path(
    tag = "admin",
    params(("key" = String, Path, description = "Flag id"), HistoryQuery),
    responses(
        (status = 200, description = "Audit entries, newest first", body = Vec<AuditEntry>),
        (status = 400, description = "Invalid limit", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such flag (nor a history of one)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/admin/flags/{key}/history")]
pub async fn flag_history(
    _caller: Admin,
    state: web::Data<AppState>,
    key: web::Path<String>,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    let mut fields = Fields::default();
    let limit = fields.page_size(query.limit.as_deref(), 100, 500);
    fields.finish()?;
    let id = check_id(&key).map_err(|_| ApiError::not_found(format!("no flag {key}")))?;
    let entries = state.store.history(&id, limit).await?;
    if entries.is_empty() && state.store.flag(&id).await?.is_none() {
        return Err(ApiError::not_found(format!("no flag {id}")));
    }
    Ok(HttpResponse::Ok().json(entries))
}
