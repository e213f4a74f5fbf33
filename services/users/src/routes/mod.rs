//! HTTP routes of the users service.

mod api_keys;
mod auth;
mod jwks;
mod users;

use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every route (the OpenAPI document is collected from the same calls).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(users::create_user)
        .service(users::list_users)
        .service(users::get_user)
        .service(users::update_user)
        .service(users::delete_user)
        .service(auth::login)
        .service(auth::refresh)
        .service(auth::logout)
        .service(auth::me)
        .service(auth::set_password)
        .service(auth::exchange_api_key)
        .service(api_keys::create_api_key)
        .service(api_keys::list_api_keys)
        .service(api_keys::revoke_api_key)
        .service(jwks::jwks);
}

/// Title, version and tags of the users API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "PolyStatus - Users API",
        version = "1.0.0",
        description = "Users, roles, sign-in, access and refresh tokens, API keys and the public keys \
                       (JWKS) every PolyStatus service verifies tokens with. Errors are \
                       application/problem+json (RFC 9457)."
    ),
    servers((url = "http://localhost:8080", description = "Local development")),
    tags(
        (name = "users", description = "Accounts and roles"),
        (name = "auth", description = "Sign-in, tokens and passwords"),
        (name = "api-keys", description = "Credentials for machines"),
        (name = "keys", description = "Public token-verification keys"),
    )
)]
pub struct ApiDoc;
