//! `/api/v1/auth`: sign-in (the reference `login`), refresh-token rotation, sign-out, the
//! caller's own account, passwords, and API-key exchange.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use platform::auth::{PrincipalKind, Role, Viewer};
use platform::error::Problem;
use platform::extract::Json;
use platform::{ApiError, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::users::User;
use crate::domain::{AccountStatus, Email, Password, UserRecord};
use crate::secrets;
use crate::state::{AppState, now_ms};
use crate::store::{RefreshToken, Rotation};

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    #[schema(example = "alice@example.com", format = "email", max_length = 254)]
    pub email: String,
    /// Required (the reference contract has none; PolyStatus does not sign in without one).
    #[schema(min_length = 1, max_length = 256)]
    pub password: String,
}

/// Tokens for a signed-in user. `token` is the access token, as in the reference contract.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Access token (JWT, EdDSA), sent as `Authorization: Bearer <token>`.
    pub token: String,
    #[schema(example = "f6c74e13-8b4a-4b63-bf58-1c59a0c21840")]
    pub user_id: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds the access token stays valid.
    pub expires_in: u64,
    /// Single-use: exchange it at `/api/v1/auth/refresh` for new tokens.
    pub refresh_token: String,
    pub role: Role,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Set a password: with the `invite_token` of an invited account (no sign-in needed), or as the
/// signed-in user with `current_password`. Its schema (below) requires one of the two.
#[derive(Debug, Deserialize)]
pub struct SetPasswordRequest {
    pub invite_token: Option<String>,
    pub current_password: Option<String>,
    pub password: String,
}

impl utoipa::PartialSchema for SetPasswordRequest {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AllOfBuilder, AnyOfBuilder, ObjectBuilder, SchemaType, Type};
        let text = || ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null]));
        let fields = ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("invite_token", text().description(Some("From the invitation (no sign-in needed)")))
            .property("current_password", text().description(Some("When signed in: the password now")))
            .property(
                "password",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(Password::MIN_CHARS))
                    .max_length(Some(Password::MAX_CHARS))
                    .description(Some("The new password")),
            )
            .required("password");
        // Given, and not null.
        let present = |name: &str| {
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property(name, ObjectBuilder::new().schema_type(Type::String))
                .required(name)
        };
        let one_of_the_two = AnyOfBuilder::new().item(present("invite_token")).item(present("current_password"));
        AllOfBuilder::new().item(fields).item(one_of_the_two).into()
    }
}

impl ToSchema for SetPasswordRequest {}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// An API key secret (`psk_...`).
    pub api_key: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
}

/// The caller: a user (with their account) or an API key.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub id: String,
    pub kind: PrincipalKind,
    pub name: String,
    pub role: Role,
    /// The account, for users.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
}

/// The client address used for rate limiting.
fn client_address(req: &HttpRequest) -> String {
    req.peer_addr().map_or_else(|| "unknown".to_string(), |a| a.ip().to_string())
}

/// Counts an attempt against the client address and, when given, the account; refuses once
/// either is over its limit for the window.
async fn rate_limit(state: &AppState, address: &str, account: Option<&str>) -> Result<(), ApiError> {
    let limits = &state.login_limits;
    let (count, retry) = state.store.hit(&format!("addr:{address}"), limits.window_secs).await?;
    if count > limits.per_address {
        return Err(ApiError::RateLimited { retry_after_secs: retry });
    }
    if let Some(account) = account {
        let (count, retry) = state.store.hit(&format!("acct:{}", secrets::hash(account)), limits.window_secs).await?;
        if count > limits.per_account {
            return Err(ApiError::RateLimited { retry_after_secs: retry });
        }
    }
    Ok(())
}

/// Issues an access token and a refresh token in `family` for `user`.
async fn issue_tokens(state: &AppState, user: &UserRecord, family: &str) -> Result<LoginResponse, ApiError> {
    let access = state.issuer.issue(&user.id, user.role, PrincipalKind::User, &user.name)?;
    let refresh_token = secrets::random_token(32);
    let stored = RefreshToken { user_id: user.id.clone(), family: family.to_string(), issued_at_ms: now_ms() };
    state.store.save_refresh(&secrets::hash(&refresh_token), &stored, state.tokens.refresh_ttl_secs).await?;
    Ok(LoginResponse {
        token: access.token,
        user_id: user.id.clone(),
        token_type: "Bearer",
        expires_in: access.expires_in,
        refresh_token,
        role: user.role,
    })
}

const BAD_CREDENTIALS: &str = "the email or password is wrong";

/// Sign in with email and password.
#[utoipa::path(
    tag = "auth",
    operation_id = "loginUser",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = LoginResponse),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong email or password (the same answer for both)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/auth/login")]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    Json(body): Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let email = Email::parse(&body.email).map_err(|m| ApiError::validation("email", m))?;
    if body.password.is_empty() {
        return Err(ApiError::validation("password", "is required"));
    }
    rate_limit(&state, &client_address(&req), Some(email.as_str())).await?;
    let user = state.store.user_by_email(email.as_str()).await?;
    let hash = user.as_ref().and_then(|u| u.password_hash.as_deref());
    let verified = state.hasher.verify(&body.password, hash).await?;
    let Some(user) = user.filter(|u| verified && u.status == AccountStatus::Active) else {
        tracing::info!(email = %email.masked(), "sign-in refused");
        return Err(ApiError::unauthorized(BAD_CREDENTIALS));
    };
    state.store.clear_attempts(&format!("acct:{}", secrets::hash(email.as_str()))).await?;
    let tokens = issue_tokens(&state, &user, &uuid::Uuid::new_v4().to_string()).await?;
    tracing::info!(user_id = %user.id, "signed in");
    Ok(HttpResponse::Ok().insert_header(("cache-control", "no-store")).json(tokens))
}

/// Exchange a refresh token for new tokens. Each refresh token works once; presenting a spent
/// one signs out the whole session it belongs to.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = LoginResponse),
        (status = 401, description = "Unknown, expired, spent or revoked refresh token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/auth/refresh")]
pub async fn refresh(state: web::Data<AppState>, Json(body): Json<RefreshRequest>) -> Result<HttpResponse, ApiError> {
    let ttl = state.tokens.refresh_ttl_secs;
    let token = match state.store.rotate_refresh(&secrets::hash(body.refresh_token.trim()), ttl).await? {
        Rotation::Valid(token) => token,
        Rotation::Reused => {
            tracing::warn!("a spent refresh token was presented again; its session is revoked");
            return Err(ApiError::invalid_token("refresh token already used; the session was signed out"));
        }
        Rotation::Revoked => return Err(ApiError::invalid_token("the session was signed out")),
        Rotation::Unknown => {
            return Err(ApiError::invalid_token("unknown or expired refresh token"));
        }
    };
    let user = state
        .store
        .user(&token.user_id)
        .await?
        .filter(|u| u.status == AccountStatus::Active && token.issued_at_ms > u.sessions_valid_after_ms)
        .ok_or_else(|| ApiError::invalid_token("the session is no longer valid; sign in again"))?;
    let tokens = issue_tokens(&state, &user, &token.family).await?;
    Ok(HttpResponse::Ok().insert_header(("cache-control", "no-store")).json(tokens))
}

/// Sign out: revokes the session the refresh token belongs to. Idempotent.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses((status = 204, description = "Signed out"))
)]
#[post("/api/v1/auth/logout")]
pub async fn logout(state: web::Data<AppState>, Json(body): Json<RefreshRequest>) -> Result<HttpResponse, ApiError> {
    if let Some(family) = state.store.refresh_family(&secrets::hash(body.refresh_token.trim())).await? {
        state.store.revoke_family(&family, state.tokens.refresh_ttl_secs).await?;
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Who the caller is.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "The caller", body = Me),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/auth/me")]
pub async fn me(Viewer(caller): Viewer, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let user = match caller.kind {
        PrincipalKind::User => Some(
            state
                .store
                .user(&caller.id)
                .await?
                .ok_or_else(|| ApiError::invalid_token("this account no longer exists"))?,
        ),
        PrincipalKind::ApiKey => None,
    };
    let me = match &user {
        Some(u) => {
            Me { id: u.id.clone(), kind: caller.kind, name: u.name.clone(), role: u.role, user: Some(User::from(u)) }
        }
        None => Me { id: caller.id, kind: caller.kind, name: caller.name, role: caller.role, user: None },
    };
    Ok(HttpResponse::Ok().json(me))
}

/// Set a password: accept an invitation, or change one's own password (which signs out every
/// other session).
#[utoipa::path(
    tag = "auth",
    request_body = SetPasswordRequest,
    responses(
        (status = 204, description = "Password set"),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad invitation, no valid token, or wrong current password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[post("/api/v1/auth/password")]
pub async fn set_password(
    req: HttpRequest,
    caller: Option<Viewer>,
    state: web::Data<AppState>,
    Json(body): Json<SetPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let password = Password::parse(&body.password).map_err(|m| ApiError::validation("password", m))?;
    let user_id = match (&body.invite_token, caller) {
        (Some(invite), _) => {
            rate_limit(&state, &client_address(&req), None).await?;
            state
                .store
                .take_invite(&secrets::hash(invite.trim()))
                .await?
                .ok_or_else(|| ApiError::invalid_token("unknown, used or expired invitation"))?
        }
        (None, Some(Viewer(caller))) if caller.kind == PrincipalKind::User => {
            let current = body.current_password.as_deref().ok_or_else(|| {
                ApiError::Validation(vec![FieldError::new("current_password", "is required to change your password")])
            })?;
            rate_limit(&state, &client_address(&req), Some(&caller.id)).await?;
            let user = state.store.user(&caller.id).await?.ok_or_else(|| ApiError::invalid_token("account gone"))?;
            if !state.hasher.verify(current, user.password_hash.as_deref()).await? {
                return Err(ApiError::unauthorized("the current password is wrong"));
            }
            caller.id
        }
        _ => {
            return Err(ApiError::unauthorized("send an invite_token, or sign in and send current_password"));
        }
    };
    let hash = state.hasher.hash(password.expose()).await?;
    super::users::modify_user(&state, &user_id, None, |user| {
        user.password_hash = Some(hash.clone());
        user.status = AccountStatus::Active;
        user.sessions_valid_after_ms = now_ms();
    })
    .await?;
    tracing::info!(user_id = %user_id, "password set");
    Ok(HttpResponse::NoContent().finish())
}

/// Exchange an API key for an access token (for machines: CI, the provider ingestor, scripts).
#[utoipa::path(
    tag = "auth",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "An access token with the key's role", body = TokenResponse),
        (status = 401, description = "Unknown or revoked key", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/auth/token")]
pub async fn exchange_api_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    Json(body): Json<TokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let Some(key) = state.store.api_key_by_secret(&secrets::hash(body.api_key.trim())).await? else {
        rate_limit(&state, &client_address(&req), None).await?;
        return Err(ApiError::unauthorized("unknown or revoked API key"));
    };
    let access = state.issuer.issue(&key.id, key.role, PrincipalKind::ApiKey, &key.name)?;
    Ok(HttpResponse::Ok().insert_header(("cache-control", "no-store")).json(TokenResponse {
        access_token: access.token,
        token_type: "Bearer",
        expires_in: access.expires_in,
    }))
}
