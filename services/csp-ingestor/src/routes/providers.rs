//! `/api/v1/csp/providers`, `/api/v1/csp/catalogue` and `/api/v1/csp/refresh`: the providers
//! watched, the well-known ones, and polling one now.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use platform::auth::{Sre, Viewer};
use platform::error::Problem;
use platform::extract::{IfMatch, Json, etag};
use platform::{ApiError, FieldError, Fields};
use serde::Deserialize;
use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::{IntoParams, ToSchema};

use crate::catalogue::{self, CATALOGUE, KnownProvider};
use crate::domain::{ProbeSettings, Provider, ProviderType, check_list, check_name, check_url, now};
use crate::event::Impact;
use crate::poller::RefreshResult;
use crate::routes::{AppState, finish, schemas};
use crate::store::Expect;
use crate::view::ProviderView;

#[derive(Debug, Deserialize, ToSchema)]
pub struct ProbeInput {
    /// Text the answer must contain, at most 1000 characters (empty: none).
    #[schema(max_length = 1000)]
    pub expected_text: Option<String>,
    /// Consecutive failures before an event opens (1 to 100, default 3).
    #[schema(minimum = 1, maximum = 100)]
    pub failures_to_open: Option<i64>,
}

/// How a provider is read, as a request names it (`atom` is read as `rss`; any case).
#[derive(Debug, ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum TypeName {
    Rss,
    Atom,
    Json,
    Statuspage,
    Gcp,
    Aws,
    Statusio,
    Slack,
    Http,
}

/// The impact from which an internal incident is raised, or never (any case).
#[derive(Debug, ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum Threshold {
    Minor,
    Major,
    Critical,
    Never,
}

/// A provider to watch. A catalogue name alone is enough (`{"name": "github"}`); otherwise
/// `feed_url` and `type` are needed.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ProviderCreate {
    /// A catalogue name, or a new one.
    #[schema(schema_with = schemas::name)]
    pub name: String,
    /// Needed unless the name is in the catalogue (else 422).
    #[schema(schema_with = schemas::feed_url)]
    pub feed_url: Option<String>,
    /// rss or json (the reference types), or statuspage, gcp, aws, statusio, slack, http. Needed
    /// unless the name is in the catalogue (else 422).
    #[serde(rename = "type")]
    #[schema(value_type = Option<TypeName>, example = "rss")]
    pub kind: Option<String>,
    /// The name shown; the catalogue's, else the name, when left out.
    #[schema(format = "line", min_length = 1, max_length = 100)]
    pub display_name: Option<String>,
    /// Seconds between polls, 10 (the configured minimum) to 86400; default from the settings.
    #[schema(minimum = 10, maximum = 86400)]
    pub interval_secs: Option<i64>,
    pub enabled: Option<bool>,
    /// Only events touching these components.
    #[schema(schema_with = schemas::optional_short_list)]
    pub components: Option<Vec<String>>,
    /// Only events in these regions.
    #[schema(schema_with = schemas::optional_short_list)]
    pub regions: Option<Vec<String>>,
    /// minor, major, critical (default) or never: the impact from which an internal incident is raised.
    #[schema(value_type = Option<Threshold>, example = "critical")]
    pub incident_threshold: Option<String>,
    /// Mark the internal incident mitigated when the provider resolves (default true).
    pub mitigate_on_resolve: Option<bool>,
    /// Names of providers this one runs on; each must be watched already, and not be this one
    /// (else 404).
    #[schema(schema_with = schemas::optional_short_list)]
    pub depends_on: Option<Vec<String>>,
    /// For `type: http`.
    #[serde(default, deserialize_with = "platform::objects::optional_object")]
    pub probe: Option<ProbeInput>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ProviderEdit {
    #[schema(format = "line", min_length = 1, max_length = 100)]
    pub display_name: Option<String>,
    #[schema(schema_with = schemas::feed_url)]
    pub feed_url: Option<String>,
    #[serde(rename = "type")]
    #[schema(value_type = Option<TypeName>)]
    pub kind: Option<String>,
    /// Seconds between polls, 10 (the configured minimum) to 86400.
    #[schema(minimum = 10, maximum = 86400)]
    pub interval_secs: Option<i64>,
    pub enabled: Option<bool>,
    #[schema(schema_with = schemas::optional_short_list)]
    pub components: Option<Vec<String>>,
    #[schema(schema_with = schemas::optional_short_list)]
    pub regions: Option<Vec<String>>,
    #[schema(value_type = Option<Threshold>)]
    pub incident_threshold: Option<String>,
    pub mitigate_on_resolve: Option<bool>,
    /// Names of providers this one runs on; each must be watched already, and not be this one
    /// (else 422).
    #[schema(schema_with = schemas::optional_short_list)]
    pub depends_on: Option<Vec<String>>,
    #[serde(default, deserialize_with = "platform::objects::optional_object")]
    pub probe: Option<ProbeInput>,
}

#[derive(Debug, Deserialize)]
pub struct RefreshQuery {
    /// The provider's name (required: 400 without it).
    pub provider: Option<String>,
}

impl IntoParams for RefreshQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![schemas::param("provider", ParameterIn::Query, true, "The provider's name", schemas::name())]
    }
}

fn threshold(raw: &str) -> Result<Option<Impact>, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "minor" => Ok(Some(Impact::Minor)),
        "major" => Ok(Some(Impact::Major)),
        "critical" => Ok(Some(Impact::Critical)),
        "never" => Ok(None),
        _ => Err("must be minor, major, critical or never".into()),
    }
}

/// One line of at most 100 characters as sent, not blank, without control characters; trimmed.
fn display_name(raw: &str) -> Result<String, String> {
    if raw.trim().is_empty() || raw.chars().count() > 100 || raw.chars().any(char::is_control) {
        return Err("must be one line of 1 to 100 characters".into());
    }
    Ok(raw.trim().to_string())
}

/// Checks the fields a create and an edit share, writing them into `p`. Names of providers that
/// are not watched go to `unresolved` (404, or 422 on an edit), the rest to `fields` (400).
#[allow(clippy::too_many_arguments)]
async fn apply_fields(
    state: &AppState,
    fields: &mut Fields,
    unresolved: &mut Vec<FieldError>,
    p: &mut Provider,
    interval_secs: Option<i64>,
    components: Option<&[String]>,
    regions: Option<&[String]>,
    incident_threshold: Option<&str>,
    depends_on: Option<&[String]>,
    probe: Option<&ProbeInput>,
) -> Result<(), ApiError> {
    let min = state.ingestor.polling.min_interval_secs;
    if let Some(i) = interval_secs {
        let valid = u64::try_from(i).ok().filter(|i| (min..=86_400).contains(i));
        if let Some(i) = fields.check("interval_secs", valid.ok_or(format!("must be {min} to 86400 seconds"))) {
            p.interval_secs = i;
        }
    }
    if let Some(c) = components.and_then(|c| fields.check("components", check_list(c, 50))) {
        p.components = c;
    }
    if let Some(r) = regions.and_then(|r| fields.check("regions", check_list(r, 50))) {
        p.regions = r;
    }
    if let Some(t) = incident_threshold.and_then(|t| fields.check("incident_threshold", threshold(t))) {
        p.incident_threshold = t;
    }
    if let Some(probe) = probe {
        if let Some(text) = &probe.expected_text {
            if text.chars().count() > 1000 {
                fields.0.push(FieldError::new("probe.expected_text", "must be at most 1000 characters"));
            } else {
                p.probe.expected_text = Some(text.clone()).filter(|t| !t.is_empty());
            }
        }
        if let Some(n) = probe.failures_to_open {
            match u32::try_from(n).ok().filter(|n| (1..=100).contains(n)) {
                Some(n) => p.probe.failures_to_open = n,
                None => fields.0.push(FieldError::new("probe.failures_to_open", "must be 1 to 100")),
            }
        }
    }
    if let Some(deps) = depends_on.and_then(|d| fields.check("depends_on", check_list(d, 50))) {
        let mut missing = Vec::new();
        for d in &deps {
            if *d == p.name {
                missing.push(format!("{d} (itself)"));
            } else if check_name(d).is_err() || state.ingestor.store.provider(d).await?.is_none() {
                missing.push(d.clone());
            }
        }
        if missing.is_empty() {
            p.depends_on = deps;
        } else {
            unresolved.push(FieldError::new("depends_on", format!("no such provider: {}", missing.join(", "))));
        }
    }
    Ok(())
}

fn view(p: &Provider, state: crate::domain::PollState, status: StatusCode) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("etag", etag(p.version)))
        .insert_header(("location", format!("/api/v1/csp/providers/{}", p.name)))
        .json(ProviderView::new(p, state))
}

/// Add a provider to watch (the reference contract; a catalogue name alone also works).
#[utoipa::path(
    tag = "providers",
    request_body = ProviderCreate,
    responses(
        (status = 201, description = "Provider registered; it is polled at once", body = ProviderView),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the sre role", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A provider of that name exists", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`feed_url` or `type` left out for a name not in the catalogue, or `depends_on` naming a provider not watched (or this one); each named in `errors`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/csp/providers")]
pub async fn create_provider(
    _caller: Sre,
    state: web::Data<AppState>,
    Json(body): Json<ProviderCreate>,
) -> Result<HttpResponse, ApiError> {
    let mut fields = Fields::default();
    let mut unresolved = Vec::new();
    let mut incomplete = Vec::new();
    let name = fields.check("name", check_name(&body.name));
    let known = name.as_deref().and_then(catalogue::find);
    // Not worded "is required": the field is optional, needed only for this name.
    let not_in_catalogue = |field: &str| FieldError::new(field, "needed: the name is not in the catalogue");
    let feed_url = match (&body.feed_url, known) {
        (Some(url), _) => fields.check("feed_url", check_url(url)),
        (None, Some(k)) => Some(k.feed_url.to_string()),
        (None, None) => {
            incomplete.push(not_in_catalogue("feed_url"));
            None
        }
    };
    let kind = match (&body.kind, known) {
        (Some(kind), _) => fields.check("type", ProviderType::parse(kind)),
        (None, Some(k)) => Some(k.kind),
        (None, None) => {
            incomplete.push(not_in_catalogue("type"));
            None
        }
    };
    let display = match (&body.display_name, known) {
        (Some(d), _) => fields.check("display_name", display_name(d)),
        (None, Some(k)) => Some(k.display_name.to_string()),
        (None, None) => Some(body.name.trim().to_string()),
    };
    let now = now();
    let mut provider = Provider {
        name: name.clone().unwrap_or_default(),
        display_name: display.unwrap_or_default(),
        feed_url: feed_url.unwrap_or_default(),
        kind: kind.unwrap_or(ProviderType::Json),
        interval_secs: state.ingestor.polling.default_interval_secs,
        enabled: body.enabled.unwrap_or(true),
        components: Vec::new(),
        regions: Vec::new(),
        incident_threshold: Some(Impact::Critical),
        mitigate_on_resolve: body.mitigate_on_resolve.unwrap_or(true),
        depends_on: Vec::new(),
        probe: ProbeSettings::default(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    apply_fields(
        &state,
        &mut fields,
        &mut unresolved,
        &mut provider,
        body.interval_secs,
        body.components.as_deref(),
        body.regions.as_deref(),
        body.incident_threshold.as_deref(),
        body.depends_on.as_deref(),
        body.probe.as_ref(),
    )
    .await?;
    finish(fields, unresolved, incomplete)?;
    let due_ms = chrono::Utc::now().timestamp_millis();
    if !state.ingestor.store.put_provider(&provider, Expect::New, due_ms).await? {
        return Err(ApiError::Conflict(format!("a provider named {} exists", provider.name)));
    }
    tracing::info!(provider = %provider.name, url = %provider.feed_url, "provider added");
    Ok(view(&provider, Default::default(), StatusCode::CREATED))
}

/// Every provider watched, with how its polling goes.
#[utoipa::path(
    tag = "providers",
    responses(
        (status = 200, description = "Providers, oldest first", body = Vec<ProviderView>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/csp/providers")]
pub async fn list_providers(_caller: Viewer, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let store = &state.ingestor.store;
    let providers = store.providers().await?;
    let names: Vec<String> = providers.iter().map(|p| p.name.clone()).collect();
    let states = store.states(&names).await?;
    let views: Vec<ProviderView> = providers.iter().zip(states).map(|(p, s)| ProviderView::new(p, s)).collect();
    Ok(HttpResponse::Ok().json(views))
}

async fn find(state: &AppState, raw: &str) -> Result<Provider, ApiError> {
    let name = check_name(raw).map_err(|_| ApiError::not_found(format!("no provider {raw}")))?;
    state.ingestor.store.provider(&name).await?.ok_or_else(|| ApiError::not_found(format!("no provider {name}")))
}

/// One provider, with how its polling goes (health, last error, next poll).
#[utoipa::path(
    tag = "providers",
    params(("name" = String, Path, description = "Provider name")),
    responses(
        (status = 200, description = "The provider; `ETag` carries its version", body = ProviderView),
        (status = 404, description = "No such provider", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/csp/providers/{name}")]
pub async fn get_provider(
    _caller: Viewer,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let provider = find(&state, &name).await?;
    let poll_state = state.ingestor.store.state(&provider.name).await?;
    Ok(view(&provider, poll_state, StatusCode::OK))
}

/// Change a provider (fields left out stay as they are). Honours `If-Match`.
#[utoipa::path(
    tag = "providers",
    params(("name" = String, Path, description = "Provider name")),
    request_body = ProviderEdit,
    responses(
        (status = 200, description = "Changed", body = ProviderView),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such provider", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since the If-Match version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`depends_on` names a provider not watched (or this one), named in `errors`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/api/v1/csp/providers/{name}")]
pub async fn edit_provider(
    _caller: Sre,
    state: web::Data<AppState>,
    name: web::Path<String>,
    if_match: IfMatch,
    Json(body): Json<ProviderEdit>,
) -> Result<HttpResponse, ApiError> {
    let before = find(&state, &name).await?;
    if let Some(expected) = if_match.0
        && expected != before.version
    {
        return Err(ApiError::PreconditionFailed(format!("the provider is at version {}", before.version)));
    }
    let mut p = before.clone();
    let mut fields = Fields::default();
    let mut unresolved = Vec::new();
    if let Some(d) = body.display_name.as_deref().and_then(|d| fields.check("display_name", display_name(d))) {
        p.display_name = d;
    }
    if let Some(u) = body.feed_url.as_deref().and_then(|u| fields.check("feed_url", check_url(u))) {
        p.feed_url = u;
    }
    if let Some(k) = body.kind.as_deref().and_then(|k| fields.check("type", ProviderType::parse(k))) {
        p.kind = k;
    }
    if let Some(e) = body.enabled {
        p.enabled = e;
    }
    if let Some(m) = body.mitigate_on_resolve {
        p.mitigate_on_resolve = m;
    }
    apply_fields(
        &state,
        &mut fields,
        &mut unresolved,
        &mut p,
        body.interval_secs,
        body.components.as_deref(),
        body.regions.as_deref(),
        body.incident_threshold.as_deref(),
        body.depends_on.as_deref(),
        body.probe.as_ref(),
    )
    .await?;
    // Not 404 here: that would read as the provider of the path being gone.
    finish(fields, Vec::new(), unresolved)?;
    if p == before {
        let poll_state = state.ingestor.store.state(&p.name).await?;
        return Ok(view(&p, poll_state, StatusCode::OK));
    }
    p.version = before.version + 1;
    p.updated_at = now();
    let store = &state.ingestor.store;
    if !store.put_provider(&p, Expect::Version(before.version), 0).await? {
        return Err(ApiError::PreconditionFailed("the provider changed meanwhile; read it again".into()));
    }
    let source_changed = p.feed_url != before.feed_url || p.kind != before.kind;
    if source_changed || (p.enabled && !before.enabled) || p.interval_secs < before.interval_secs {
        // Poll soon, and with a new source, without the old one's validators.
        store.postpone(&p.name, chrono::Utc::now().timestamp_millis()).await?;
    }
    let mut poll_state = store.state(&p.name).await?;
    if source_changed {
        poll_state.etag = None;
        poll_state.last_modified = None;
        store.save_state(&p.name, &poll_state, chrono::Utc::now().timestamp_millis()).await?;
    }
    Ok(view(&p, poll_state, StatusCode::OK))
}

/// Stop watching a provider; its events go with it.
#[utoipa::path(
    tag = "providers",
    params(("name" = String, Path, description = "Provider name")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such provider", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/api/v1/csp/providers/{name}")]
pub async fn delete_provider(
    _caller: Sre,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let provider = find(&state, &name).await?;
    if !state.ingestor.store.delete_provider(&provider.name).await? {
        return Err(ApiError::not_found(format!("no provider {}", provider.name)));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Well-known providers that can be added by name alone.
#[utoipa::path(
    tag = "providers",
    responses((status = 200, description = "The catalogue", body = Vec<KnownProvider>)),
    security(("bearer" = []))
)]
#[get("/api/v1/csp/catalogue")]
pub async fn list_catalogue(_caller: Viewer) -> HttpResponse {
    HttpResponse::Ok().json(CATALOGUE)
}

/// Poll a provider now and say what it did.
#[utoipa::path(
    tag = "providers",
    params(RefreshQuery),
    responses(
        (status = 200, description = "What the refresh did: fetched or not modified, events new / updated / resolved, incidents raised, errors", body = RefreshResult),
        (status = 400, description = "Missing or invalid provider name", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such provider", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A poll in progress did not finish in time", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/csp/refresh")]
pub async fn refresh(
    _caller: Sre,
    state: web::Data<AppState>,
    query: web::Query<RefreshQuery>,
) -> Result<HttpResponse, ApiError> {
    let name = match query.provider.as_deref() {
        None => return Err(ApiError::validation("provider", "is required")),
        Some(raw) => check_name(raw).map_err(|e| ApiError::validation("provider", e))?,
    };
    let result = state.ingestor.refresh(&name).await?;
    Ok(HttpResponse::Ok().json(result))
}
