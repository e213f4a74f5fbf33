//! `/api/v1/users`: the reference contract (create, list, get, update) plus delete, filters,
//! ETags and invitations.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, put, web};
use platform::auth::{Admin, Role, Viewer};
use platform::error::Problem;
use platform::extract::{IfMatch, Json, etag};
use platform::{ApiError, FieldError, Fields};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::{AccountStatus, Email, Password, Team, UserName, UserRecord};
use crate::secrets;
use crate::state::{AppState, now};
use crate::store::Replace;

/// A user, as every endpoint returns it. Never carries the password hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct User {
    #[schema(example = "f6c74e13-8b4a-4b63-bf58-1c59a0c21840")]
    pub id: String,
    #[schema(example = "Alice Dupont")]
    pub name: String,
    #[schema(example = "alice@example.com", format = "email")]
    pub email: String,
    /// admin, sre or viewer.
    #[schema(example = "sre")]
    pub role: Role,
    #[schema(example = "SRE")]
    pub team: String,
    /// Epoch seconds.
    #[schema(example = 1730073600)]
    pub created_at: i64,
    pub updated_at: i64,
    /// `invited` until a password is set.
    pub status: AccountStatus,
    /// Changes with every update; also the ETag.
    pub version: u64,
}

impl From<&UserRecord> for User {
    fn from(r: &UserRecord) -> Self {
        User {
            id: r.id.clone(),
            name: r.name.clone(),
            email: r.email.clone(),
            role: r.role,
            team: r.team.clone(),
            created_at: r.created_at,
            updated_at: r.updated_at,
            status: r.status,
            version: r.version,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateUserRequest {
    #[schema(example = "Alice Dupont", format = "line", min_length = 1, max_length = 100)]
    pub name: String,
    #[schema(example = "alice@example.com", format = "email", max_length = 254)]
    pub email: String,
    /// admin, sre or viewer (default viewer).
    #[schema(value_type = Option<Role>, example = "viewer")]
    pub role: Option<String>,
    #[schema(example = "Ops", format = "line-or-empty", max_length = 100)]
    pub team: Option<String>,
    /// 8 to 256 characters. Without one the account is invited: the response carries an
    /// `invite_token` to set it with `POST /api/v1/auth/password`.
    #[schema(min_length = 8, max_length = 256)]
    pub password: Option<String>,
}

/// The created user, plus its one-time invitation when created without a password.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUser {
    #[serde(flatten)]
    pub user: User,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invite_token: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateUserRequest {
    #[schema(format = "line", min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// Only an admin changes roles.
    #[schema(value_type = Option<Role>)]
    pub role: Option<String>,
    #[schema(format = "line-or-empty", max_length = 100)]
    pub team: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListUsersQuery {
    /// Only users with this role.
    #[param(value_type = Option<Role>)]
    pub role: Option<String>,
    /// Only users of this team (case-insensitive).
    pub team: Option<String>,
    /// Text found in the name or email.
    pub q: Option<String>,
    /// At most this many (1 to 1000; default all).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    /// Skip this many first.
    #[param(minimum = 0, maximum = 4294967295_u64)]
    pub offset: Option<u32>,
}

fn user_response(status: actix_web::http::StatusCode, record: &UserRecord) -> actix_web::HttpResponseBuilder {
    let mut builder = HttpResponse::build(status);
    builder.insert_header((header::ETAG, etag(record.version)));
    builder
}

/// Create a user (admin).
#[utoipa::path(
    tag = "users",
    operation_id = "createUser",
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Created", body = CreatedUser),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Email already used", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/users")]
pub async fn create_user(
    Admin(_caller): Admin,
    state: web::Data<AppState>,
    Json(body): Json<CreateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut fields = Fields::default();
    let name = fields.check("name", UserName::parse(&body.name));
    let email = fields.check("email", Email::parse(&body.email));
    let role = fields.check("role", body.role.as_deref().map_or(Ok(Role::Viewer), str::parse));
    let team = fields.check("team", Team::parse(body.team.as_deref().unwrap_or("")));
    let password = body.password.as_deref().map(|p| fields.check("password", Password::parse(p)));
    let (Some(name), Some(email), Some(role), Some(team), true) = (name, email, role, team, fields.0.is_empty()) else {
        return Err(ApiError::Validation(fields.0));
    };
    let password_hash = match password.flatten() {
        Some(p) => Some(state.hasher.hash(p.expose()).await?),
        None => None,
    };
    let now = now();
    let record = UserRecord {
        id: uuid::Uuid::new_v4().to_string(),
        name: name.into_inner(),
        email: email.as_str().to_string(),
        role,
        team: team.into_inner(),
        status: if password_hash.is_some() { AccountStatus::Active } else { AccountStatus::Invited },
        password_hash,
        created_at: now,
        updated_at: now,
        sessions_valid_after_ms: crate::state::now_ms(),
        version: 1,
    };
    let invite_token = (record.status == AccountStatus::Invited).then(|| secrets::random_token(32));
    let invite = invite_token.as_deref().map(|t| (secrets::hash(t), state.tokens.invite_ttl_secs));
    if !state.store.create_user(&record, invite.as_ref().map(|(h, ttl)| (h.as_str(), *ttl))).await? {
        return Err(ApiError::Conflict(format!("a user with the email {} already exists", email.as_str())));
    }
    tracing::info!(user_id = %record.id, email = %email.masked(), role = %role, "user created");
    Ok(user_response(actix_web::http::StatusCode::CREATED, &record)
        .insert_header((header::LOCATION, format!("/api/v1/users/{}", record.id)))
        .json(CreatedUser { user: User::from(&record), invite_token }))
}

/// List users (any signed-in caller): a bare array, oldest first.
#[utoipa::path(
    tag = "users",
    operation_id = "listUsers",
    params(ListUsersQuery),
    responses(
        (status = 200, description = "Users; the total before paging is in X-Total-Count", body = Vec<User>),
        (status = 400, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/users")]
pub async fn list_users(
    Viewer(_caller): Viewer,
    state: web::Data<AppState>,
    query: web::Query<ListUsersQuery>,
) -> Result<HttpResponse, ApiError> {
    let mut fields = Fields::default();
    let role = query.role.as_deref().and_then(|r| fields.check("role", r.parse::<Role>()));
    if query.limit.is_some_and(|l| l == 0 || l > 1000) {
        fields.0.push(FieldError::new("limit", "must be between 1 and 1000"));
    }
    fields.finish()?;
    let needle = query.q.as_deref().map(str::to_lowercase);
    let matching: Vec<User> = state
        .store
        .users()
        .await?
        .iter()
        .filter(|u| role.is_none_or(|r| u.role == r))
        .filter(|u| query.team.as_deref().is_none_or(|t| u.team.eq_ignore_ascii_case(t.trim())))
        .filter(|u| needle.as_deref().is_none_or(|n| u.name.to_lowercase().contains(n) || u.email.contains(n)))
        .map(User::from)
        .collect();
    let total = matching.len();
    let page: Vec<User> = matching
        .into_iter()
        .skip(query.offset.map_or(0, |o| o as usize))
        .take(query.limit.unwrap_or(usize::MAX))
        .collect();
    Ok(HttpResponse::Ok().insert_header(("x-total-count", total.to_string())).json(page))
}

/// Get one user (any signed-in caller).
#[utoipa::path(
    tag = "users",
    operation_id = "getUser",
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, description = "The user; ETag carries its version", body = User),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/users/{id}")]
pub async fn get_user(
    Viewer(_caller): Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let record = find(&state, &id).await?;
    Ok(user_response(actix_web::http::StatusCode::OK, &record).json(User::from(&record)))
}

async fn find(state: &AppState, id: &str) -> Result<UserRecord, ApiError> {
    state.store.user(id).await?.ok_or_else(|| ApiError::not_found(format!("no user with id {id}")))
}

/// Update a user: an admin changes anyone and any field; a user changes their own name and team.
#[utoipa::path(
    tag = "users",
    operation_id = "updateUser",
    params(
        ("id" = String, Path, description = "User id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if the user changed since"),
    ),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "Updated", body = User),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed to change this user or field", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Would leave no admin", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since the If-Match version", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/api/v1/users/{id}")]
pub async fn update_user(
    Viewer(caller): Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
    if_match: IfMatch,
    Json(body): Json<UpdateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let is_admin = caller.role == Role::Admin;
    if !is_admin && !caller.is_user(&id) {
        return Err(ApiError::Forbidden("only an admin changes other users".into()));
    }
    let mut fields = Fields::default();
    let name = body.name.as_deref().and_then(|n| fields.check("name", UserName::parse(n)));
    let team = body.team.as_deref().and_then(|t| fields.check("team", Team::parse(t)));
    let role = body.role.as_deref().and_then(|r| fields.check("role", r.parse::<Role>()));
    fields.finish()?;
    if let Some(role) = role {
        // A non-admin can only be editing themselves, so their token's role is their role.
        if !is_admin && role != caller.role {
            return Err(ApiError::Forbidden("only an admin changes roles".into()));
        }
        if role != Role::Admin && find(&state, &id).await?.role == Role::Admin {
            ensure_another_admin(&state, &id).await?;
        }
    }
    let updated = modify_user(&state, &id, if_match.0, |user| {
        if let Some(role) = role {
            user.role = role;
        }
        if let Some(name) = &name {
            user.name = name.clone().into_inner();
        }
        if let Some(team) = &team {
            user.team = team.clone().into_inner();
        }
    })
    .await?;
    Ok(user_response(actix_web::http::StatusCode::OK, &updated).json(User::from(&updated)))
}

/// Applies `change` to the user's latest record and stores it as the next version, retrying
/// when another writer got in between. With `if_match`, a different current version is a 412.
pub(super) async fn modify_user(
    state: &AppState,
    id: &str,
    if_match: Option<u64>,
    change: impl Fn(&mut UserRecord),
) -> Result<UserRecord, ApiError> {
    for _ in 0..5 {
        let current = find(state, id).await?;
        if let Some(expected) = if_match.filter(|v| *v != current.version) {
            return Err(ApiError::PreconditionFailed(format!(
                "the user is at version {}, not {expected}",
                current.version
            )));
        }
        let mut next = current.clone();
        change(&mut next);
        next.updated_at = now();
        next.version = current.version + 1;
        match state.store.replace_user(&next, current.version).await? {
            Replace::Done => return Ok(next),
            Replace::Missing => return Err(ApiError::not_found(format!("no user with id {id}"))),
            Replace::Conflict => continue,
        }
    }
    Err(ApiError::Conflict("the user is being changed by others; retry".into()))
}

/// Delete a user (admin). Their tokens stop working when they expire; refresh is refused at once.
#[utoipa::path(
    tag = "users",
    operation_id = "deleteUser",
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The last admin cannot be deleted", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/api/v1/users/{id}")]
pub async fn delete_user(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let record = find(&state, &id).await?;
    if record.role == Role::Admin {
        ensure_another_admin(&state, &record.id).await?;
    }
    if !state.store.delete_user(&record).await? {
        return Err(ApiError::not_found(format!("no user with id {id}")));
    }
    tracing::info!(user_id = %record.id, by = %caller.id, "user deleted");
    Ok(HttpResponse::NoContent().finish())
}

/// Refuses a change that would leave no active admin.
async fn ensure_another_admin(state: &AppState, except: &str) -> Result<(), ApiError> {
    let others = state
        .store
        .users()
        .await?
        .iter()
        .any(|u| u.role == Role::Admin && u.id != except && u.status == AccountStatus::Active);
    if others { Ok(()) } else { Err(ApiError::Conflict("this is the last admin; make another admin first".into())) }
}
