//! The OpenAPI document of a service, built from its handlers (utoipa-actix-web), so routes and
//! document cannot disagree; served at `/openapi.json` with Swagger UI at `/docs`, whose assets
//! are compiled in (works offline).

use actix_web::dev::ResourceDef;
use actix_web::{HttpRequest, HttpResponse};
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_actix_web::AppExt;

use crate::error::ApiError;

/// The OpenAPI document of the routes `configure` registers, on top of `base` (title, version,
/// tags), with the bearer security scheme every protected route refers to.
pub fn document<F>(base: OpenApi, configure: F) -> OpenApi
where
    F: FnOnce(&mut utoipa_actix_web::service_config::ServiceConfig),
{
    let (_, mut api) = actix_web::App::new().into_utoipa_app().openapi(base).configure(configure).split_for_parts();
    // utoipa copies the Cargo license field, which is empty here: no license beats a blank one.
    if api.info.license.as_ref().is_some_and(|l| l.name.is_empty()) {
        api.info.license = None;
    }
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some("An access token from POST /api/v1/auth/login or /api/v1/auth/token"))
                .build(),
        ),
    );
    api
}

/// The routes of a document, to tell an unknown path (404) from a known path asked with a
/// method it does not serve (405 with `Allow`), which actix alone does not do.
pub struct KnownRoutes(Vec<(ResourceDef, Vec<String>)>);

impl KnownRoutes {
    pub fn new(api: &OpenApi, extra: &[(&str, &[&str])]) -> Self {
        let mut routes: Vec<(ResourceDef, Vec<String>)> = api
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("HEAD", item.head.is_some()),
                ];
                let allowed = methods.iter().filter(|(_, has)| *has).map(|(m, _)| (*m).to_string()).collect();
                (ResourceDef::new(path.as_str()), allowed)
            })
            .collect();
        routes.extend(
            extra
                .iter()
                .map(|(path, methods)| (ResourceDef::new(*path), methods.iter().map(|m| (*m).to_string()).collect())),
        );
        Self(routes)
    }

    /// The problem for a request no route took.
    pub fn unmatched(&self, req: &HttpRequest) -> ApiError {
        let mut allow: Vec<String> =
            self.0.iter().filter(|(def, _)| def.is_match(req.path())).flat_map(|(_, m)| m.clone()).collect();
        if allow.is_empty() {
            return ApiError::not_found(format!("no route for {} {}", req.method(), req.path()));
        }
        allow.sort();
        allow.dedup();
        ApiError::MethodNotAllowed { allow }
    }
}

/// `GET /docs`: Swagger UI lives under `/docs/`.
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header(("location", "/docs/")).finish()
}
