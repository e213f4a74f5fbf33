//! `/api/v1/csp/services`: the internal services and the providers they run on; and
//! `/api/v1/csp/incidents/{id}/causes`: the provider events that probably caused an incident.

use actix_web::{HttpResponse, delete, get, put, web};
use platform::auth::{Sre, Viewer};
use platform::error::Problem;
use platform::extract::Json;
use platform::{ApiError, FieldError, Fields};
use serde::Deserialize;
use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::{IntoParams, ToSchema};

use crate::correlate::{self, Cause, IncidentFacts, Names};
use crate::domain::{Dependency, InternalService, check_list, check_name, now};
use crate::routes::{AppState, finish, schemas};

#[derive(Debug, Deserialize, ToSchema)]
pub struct ServiceDependencies {
    /// The providers (and optionally their components) the service runs on, at most 50.
    #[serde(deserialize_with = "platform::objects::objects")]
    #[schema(max_items = 50)]
    pub depends_on: Vec<DependencyInput>,
}

/// A provider the service runs on.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DependencyInput {
    /// A provider watched (else 404).
    #[schema(schema_with = schemas::name)]
    pub provider: String,
    /// Only these components of it (case-insensitive); left out or empty: all of it.
    #[serde(default)]
    #[schema(schema_with = schemas::short_list)]
    pub components: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct ServicePath {
    /// Internal service name, as incidents name it.
    pub name: String,
}

impl IntoParams for ServicePath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let about = "Internal service name, as incidents name it";
        vec![schemas::param("name", ParameterIn::Path, true, about, schemas::name())]
    }
}

fn service_name(raw: &str) -> Result<String, ApiError> {
    check_name(raw).map_err(|_| ApiError::not_found(format!("no service {raw}")))
}

/// Declare the providers an internal service runs on (replaces what was declared).
#[utoipa::path(
    tag = "services",
    params(ServicePath),
    request_body = ServiceDependencies,
    responses(
        (status = 200, description = "Declared", body = InternalService),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the sre role", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A provider named is not watched, each named in `errors`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/api/v1/csp/services/{name}")]
pub async fn put_service(
    _caller: Sre,
    state: web::Data<AppState>,
    path: web::Path<ServicePath>,
    Json(body): Json<ServiceDependencies>,
) -> Result<HttpResponse, ApiError> {
    let name = check_name(&path.name).map_err(|e| ApiError::validation("name", e))?;
    let mut fields = Fields::default();
    let mut unresolved = Vec::new();
    if body.depends_on.len() > 50 {
        fields.0.push(FieldError::new("depends_on", "at most 50 providers"));
    }
    let mut depends_on: Vec<Dependency> = Vec::new();
    for (i, dep) in body.depends_on.iter().take(50).enumerate() {
        let provider = fields.check(&format!("depends_on[{i}].provider"), check_name(&dep.provider));
        let components = fields.check(&format!("depends_on[{i}].components"), check_list(&dep.components, 50));
        if let Some(provider) = &provider
            && state.ingestor.store.provider(provider).await?.is_none()
        {
            unresolved.push(FieldError::new(format!("depends_on[{i}].provider"), format!("no provider {provider}")));
        }
        if let (Some(provider), Some(components)) = (provider, components) {
            match depends_on.iter_mut().find(|d| d.provider == provider) {
                Some(existing) => existing.components.extend(components),
                None => depends_on.push(Dependency { provider, components }),
            }
        }
    }
    finish(fields, unresolved, Vec::new())?;
    let service = InternalService { name, depends_on, updated_at: now() };
    state.ingestor.store.put_service(&service).await?;
    Ok(HttpResponse::Ok().json(service))
}

/// Every internal service with its declared providers.
#[utoipa::path(
    tag = "services",
    responses((status = 200, description = "Services, by name", body = Vec<InternalService>)),
    security(("bearer" = []))
)]
#[get("/api/v1/csp/services")]
pub async fn list_services(_caller: Viewer, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.ingestor.store.services().await?))
}

#[utoipa::path(
    tag = "services",
    params(("name" = String, Path, description = "Internal service name")),
    responses(
        (status = 200, description = "The service", body = InternalService),
        (status = 404, description = "Nothing declared for it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/csp/services/{name}")]
pub async fn get_service(
    _caller: Viewer,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let name = service_name(&name)?;
    let service =
        state.ingestor.store.service(&name).await?.ok_or_else(|| ApiError::not_found(format!("no service {name}")))?;
    Ok(HttpResponse::Ok().json(service))
}

#[utoipa::path(
    tag = "services",
    params(("name" = String, Path, description = "Internal service name")),
    responses(
        (status = 204, description = "Forgotten"),
        (status = 404, description = "Nothing declared for it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/api/v1/csp/services/{name}")]
pub async fn delete_service(
    _caller: Sre,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let name = service_name(&name)?;
    if !state.ingestor.store.delete_service(&name).await? {
        return Err(ApiError::not_found(format!("no service {name}")));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// The provider events that probably caused an internal incident, strongest first, each with
/// its confidence and evidence.
#[utoipa::path(
    tag = "services",
    params(("id" = String, Path, description = "Incident id")),
    responses(
        (status = 200, description = "Probable causes", body = Vec<Cause>),
        (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The incidents service cannot be reached", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/csp/incidents/{id}/causes")]
pub async fn incident_causes(
    Viewer(caller): Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(ApiError::not_found(format!("no incident {id}")));
    }
    let ingestor = &state.ingestor;
    let incident = match ingestor.incidents.get(&id, &caller.token).await {
        Ok(Some(incident)) => incident,
        Ok(None) => return Err(ApiError::not_found(format!("no incident {id}"))),
        Err(e) => return Err(ApiError::unavailable("incidents service", e)),
    };
    let store = &ingestor.store;
    let providers = store.providers().await?;
    let services = store.services().await?;
    let window = ingestor.correlation.window_secs;
    let events = store.events_near(incident.started_at - window).await?;
    let facts = IncidentFacts {
        services: &incident.services,
        started_at: incident.started_at,
        ended_at: incident.resolved_at,
        text: format!("{} {}", incident.title, incident.summary).to_lowercase(),
    };
    let causes = correlate::causes(&Names::new(&providers), &services, &facts, &events, window, now());
    Ok(HttpResponse::Ok().json(causes))
}
