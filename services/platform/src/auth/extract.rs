//! Extractors that authenticate the caller and check their role, so a handler's signature says
//! who may call it.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use super::{Principal, Role, TokenVerifier};
use crate::error::ApiError;

/// The bearer token of a request, if it has one.
fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("send an access token: Authorization: Bearer <token>"))?;
    let value = value.to_str().map_err(|_| ApiError::invalid_token("malformed Authorization header"))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(token.trim().to_string())
        }
        _ => Err(ApiError::invalid_token("the Authorization header must be: Bearer <token>")),
    }
}

/// Authenticates `req` and checks that the caller has at least `required`.
fn authenticate(req: &HttpRequest, required: Role) -> Pin<Box<dyn Future<Output = Result<Principal, ApiError>>>> {
    let verifier = req.app_data::<web::Data<TokenVerifier>>().cloned();
    let token = bearer(req);
    Box::pin(async move {
        let verifier =
            verifier.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no TokenVerifier registered in app data")))?;
        let principal = verifier.verify(&token?).await?;
        if !principal.role.includes(required) {
            return Err(ApiError::Forbidden(format!("this needs the {required} role; you have {}", principal.role)));
        }
        Ok(principal)
    })
}

macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, $role:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub Principal);

        impl FromRequest for $name {
            type Error = ApiError;
            type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                let fut = authenticate(req, $role);
                Box::pin(async move { fut.await.map($name) })
            }
        }
    };
}

role_extractor!(
    /// Any authenticated caller: viewer is the lowest role.
    Viewer,
    Role::Viewer
);
role_extractor!(
    /// A caller with at least the sre role.
    Sre,
    Role::Sre
);
role_extractor!(
    /// A caller with the admin role.
    Admin,
    Role::Admin
);
