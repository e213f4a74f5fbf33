//! `/.well-known/jwks.json`: the public keys every service verifies access tokens with.

use actix_web::{HttpResponse, get, web};

use crate::state::AppState;

/// The token-verification public keys: a JSON Web Key Set (RFC 7517) of Ed25519 keys.
#[utoipa::path(
    tag = "keys",
    responses((status = 200, description = "JSON Web Key Set", body = Object, content_type = "application/json"))
)]
#[get("/.well-known/jwks.json")]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().insert_header(("cache-control", "public, max-age=300")).json(state.issuer.jwks())
}
