//! `/api/v1/incidents`: declare, list, read and edit incidents (the reference contract plus
//! filters, paging, ETags and PATCH).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use platform::auth::{PrincipalKind, Sre, Viewer};
use platform::error::Problem;
use platform::extract::{IfMatch, Json};
use platform::{ApiError, Fields};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::dto::{IncidentView, PostmortemField, ServiceName, incident_id, with_etag};
use crate::changes::{Effect, actor, modify, record};
use crate::domain::{EntryKind, Incident, IncidentId, Severity, Source, Status, clean_services, clean_text};
use crate::state::{AppState, now};
use crate::store::{Change, Expect, Filter, Outcome};

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateIncident {
    #[schema(example = "EU API latency", format = "text", min_length = 1, max_length = 200)]
    pub title: String,
    /// 1 (worst) to 4.
    #[schema(example = 2, minimum = 1, maximum = 4)]
    pub sev: i64,
    /// Service names: letters, digits, `-`, `_`, `.`; stored lower-cased, duplicates dropped.
    #[schema(value_type = Option<Vec<ServiceName>>, example = json!(["api", "db"]), max_items = 20)]
    pub services: Option<Vec<String>>,
    #[schema(format = "text-or-empty", max_length = 10000)]
    pub summary: Option<String>,
    /// manual, csp, alert, chatops or api (default: manual for people, api for API keys).
    #[schema(value_type = Option<Source>, example = "csp")]
    pub source: Option<String>,
    /// A user id to lead it (404 naming `commander` when there is no such user).
    pub commander: Option<String>,
    /// When it began, epoch seconds (default now). A time more than 5 minutes ahead is refused
    /// with 422.
    #[schema(minimum = 1, example = 1730073600)]
    pub started_at: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EditIncident {
    #[schema(format = "text", min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[schema(format = "text-or-empty", max_length = 10000)]
    pub summary: Option<String>,
    #[schema(minimum = 1, maximum = 4)]
    pub sev: Option<i64>,
    #[schema(value_type = Option<Vec<ServiceName>>, example = json!(["api", "db"]), max_items = 20)]
    pub services: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// open, mitigated or resolved.
    #[param(value_type = Option<Status>)]
    pub status: Option<String>,
    /// 1 to 4.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 4)]
    pub sev: Option<String>,
    /// Incidents affecting this service.
    pub service: Option<String>,
    /// Text in the title or summary (case-insensitive).
    pub q: Option<String>,
    /// A user id, or `me`.
    pub commander: Option<String>,
    /// A user id, or `me`.
    pub follower: Option<String>,
    /// Page size, 1 to 1000 (default 100).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
    /// From the `Link: rel="next"` header of the previous page.
    #[param(pattern = r"^[0-9]{1,19}$")]
    pub cursor: Option<String>,
}

const MAX_TITLE: usize = 200;
const MAX_SUMMARY: usize = 10_000;

/// Declare an incident.
#[utoipa::path(
    tag = "incidents",
    request_body = CreateIncident,
    responses(
        (status = 201, description = "Declared", body = IncidentView),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the sre role", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`started_at` is in the future, or no user has the `commander` id", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/incidents")]
pub async fn create_incident(
    Sre(caller): Sre,
    state: web::Data<AppState>,
    Json(body): Json<CreateIncident>,
) -> Result<HttpResponse, ApiError> {
    let mut fields = Fields::default();
    let title = fields.check("title", clean_text(&body.title, MAX_TITLE, false));
    let sev = fields.check("sev", Severity::parse(body.sev));
    let services = fields.check("services", clean_services(body.services.as_deref().unwrap_or_default()));
    let summary = fields.check("summary", clean_text(body.summary.as_deref().unwrap_or(""), MAX_SUMMARY, true));
    let default_source = if caller.kind == PrincipalKind::ApiKey { Source::Api } else { Source::Manual };
    let source = fields.check("source", body.source.as_deref().map_or(Ok(default_source), Source::parse));
    let now = now();
    let started_at = fields.check(
        "started_at",
        match body.started_at {
            None => Ok(now),
            Some(t) if t > 0 => Ok(t),
            Some(_) => Err("must be epoch seconds".to_string()),
        },
    );
    fields.finish()?;
    if started_at.is_some_and(|t| t > now + 300) {
        return Err(ApiError::unprocessable("started_at", "must not be in the future"));
    }
    if let Some(commander) = &body.commander
        && !state.users.exists(&caller, commander).await?
    {
        return Err(ApiError::reference_not_found("commander", format!("no user {commander}")));
    }
    let (Some(title), Some(sev), Some(services), Some(summary), Some(source), Some(started_at)) =
        (title, sev, services, summary, source, started_at)
    else {
        return Err(ApiError::Internal(anyhow::anyhow!("validated fields missing")));
    };
    let incident = Incident {
        id: IncidentId::generate(),
        seq: state.store.next_seq().await?,
        title,
        sev,
        services,
        summary,
        status: Status::Open,
        started_at,
        acknowledged_at: body.commander.as_ref().map(|_| now),
        commander: body.commander.clone(),
        source,
        created_by: caller.id.clone(),
        updated_at: now,
        mitigated_at: None,
        resolved_at: None,
        followers: Default::default(),
        provider_events: Vec::new(),
        dedup_key: None,
        postmortem: None,
        version: 1,
    };
    let created = declare(&state, incident, &caller).await?;
    Ok(with_etag(StatusCode::CREATED, &created)
        .insert_header(("location", format!("/api/v1/incidents/{}", created.id)))
        .json(IncidentView::from(&created)))
}

/// Stores a new incident with its `created` entry and event, finding a free id if the random
/// one is taken.
pub async fn declare(
    state: &AppState,
    mut incident: Incident,
    by: &platform::auth::Principal,
) -> Result<Incident, ApiError> {
    for _ in 0..8 {
        let message = format!("{} declared: {}", incident.sev, incident.title);
        let effects = [Effect::new(EntryKind::Created, "incident.created", message)];
        let (entries, events) = record(&incident, &effects, &actor(by));
        let change = Change {
            id: &incident.id,
            expect: Expect::New,
            before: None,
            after: Some(&incident),
            timeline: entries,
            events,
        };
        match state.store.apply(change).await? {
            Outcome::Committed(_) => {
                tracing::info!(incident = %incident.id, sev = incident.sev.get(), "incident declared");
                return Ok(incident);
            }
            _ => incident.id = IncidentId::generate(),
        }
    }
    Err(ApiError::Internal(anyhow::anyhow!("no free incident id after 8 tries")))
}

/// List incidents, newest first: a bare array, with `Link: <...>; rel="next"` when there is more.
#[utoipa::path(
    tag = "incidents",
    params(ListQuery),
    responses(
        (status = 200, description = "Incidents, newest first", body = Vec<IncidentView>),
        (status = 400, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/incidents")]
pub async fn list_incidents(
    Viewer(caller): Viewer,
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let mut fields = Fields::default();
    let status = query.status.as_deref().and_then(|s| fields.check("status", s.parse::<Status>()));
    let sev = query.sev.as_deref().and_then(|s| {
        fields.check(
            "sev",
            s.trim().parse::<i64>().map_err(|_| "must be 1, 2, 3 or 4".to_string()).and_then(Severity::parse),
        )
    });
    let limit = fields.page_size(query.limit.as_deref(), 100, 1000);
    let cursor = query
        .cursor
        .as_deref()
        .and_then(|c| fields.check("cursor", c.parse::<u64>().map_err(|_| "is not a cursor this API gave".into())));
    fields.finish()?;
    let me = |who: &Option<String>| who.as_deref().map(|w| if w == "me" { caller.id.clone() } else { w.to_string() });
    let filter = Filter {
        status,
        sev,
        service: query.service.as_deref().map(|s| s.trim().to_ascii_lowercase()),
        commander: me(&query.commander),
        follower: me(&query.follower),
        q: query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(str::to_lowercase),
    };
    let (incidents, next) = state.store.list(&filter, cursor, limit).await?;
    let mut response = HttpResponse::Ok();
    if let Some(next) = next {
        let kept: Vec<&str> =
            req.query_string().split('&').filter(|p| !p.is_empty() && !p.starts_with("cursor=")).collect();
        let mut query_string = kept.join("&");
        if !query_string.is_empty() {
            query_string.push('&');
        }
        response.insert_header(("link", format!("<{}?{query_string}cursor={next}>; rel=\"next\"", req.path())));
    }
    Ok(response.json(incidents.iter().map(IncidentView::from).collect::<Vec<_>>()))
}

/// `?expand=timeline,postmortem`: what to read along with the incident.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GetQuery {
    /// A comma-separated list of `timeline` and `postmortem`: the timeline (oldest first) is
    /// added as `timeline`, and `postmortem` becomes the postmortem itself (null when none yet).
    #[param(pattern = r"^((timeline|postmortem)(,(timeline|postmortem))*)?$", example = "timeline,postmortem")]
    pub expand: Option<String>,
}

/// The most timeline entries an expanded incident carries; longer timelines are read in pages
/// from `/timeline`.
const EXPANDED_TIMELINE: usize = 1000;

/// Get one incident, optionally with its timeline and postmortem.
#[utoipa::path(
    tag = "incidents",
    params(("id" = String, Path, pattern = r"^\s*[Ii][Nn][Cc]-[0-9A-Fa-f]{6}\s*$", description = "Incident id, e.g. INC-4F2A9C"), GetQuery),
    responses(
        (status = 200, description = "The incident; ETag carries its version", body = IncidentView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/incidents/{id}")]
pub async fn get_incident(
    Viewer(_caller): Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<GetQuery>,
) -> Result<HttpResponse, ApiError> {
    let (mut timeline, mut postmortem) = (false, false);
    for part in query.expand.iter().filter(|e| !e.is_empty()).flat_map(|e| e.split(',')) {
        match part {
            "timeline" => timeline = true,
            "postmortem" => postmortem = true,
            other => {
                return Err(ApiError::validation(
                    "expand",
                    format!("{other} cannot be expanded: use timeline, postmortem"),
                ));
            }
        }
    }
    let id = incident_id(&id)?;
    let incident = state.store.incident(&id).await?.ok_or_else(|| crate::changes::not_found(&id))?;
    let mut view = IncidentView::from(&incident);
    if timeline {
        view.timeline = Some(state.store.timeline(&id, None, EXPANDED_TIMELINE).await?.0);
    }
    if postmortem {
        view.postmortem = PostmortemField::Expanded(incident.postmortem.clone().map(Box::new));
    }
    Ok(with_etag(StatusCode::OK, &incident).json(view))
}

/// Edit title, summary, severity or services. Each change is written to the timeline.
#[utoipa::path(
    tag = "incidents",
    params(
        ("id" = String, Path, pattern = r"^\s*[Ii][Nn][Cc]-[0-9A-Fa-f]{6}\s*$", description = "Incident id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if the incident changed since"),
    ),
    request_body = EditIncident,
    responses(
        (status = 200, description = "Edited", body = IncidentView),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the sre role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since the If-Match version", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/api/v1/incidents/{id}")]
pub async fn edit_incident(
    Sre(caller): Sre,
    state: web::Data<AppState>,
    id: web::Path<String>,
    if_match: IfMatch,
    Json(body): Json<EditIncident>,
) -> Result<HttpResponse, ApiError> {
    let id = incident_id(&id)?;
    let mut fields = Fields::default();
    let title = body.title.as_deref().and_then(|t| fields.check("title", clean_text(t, MAX_TITLE, false)));
    let summary = body.summary.as_deref().and_then(|s| fields.check("summary", clean_text(s, MAX_SUMMARY, true)));
    let sev = body.sev.and_then(|s| fields.check("sev", Severity::parse(s)));
    let services = body.services.as_deref().and_then(|s| fields.check("services", clean_services(s)));
    fields.finish()?;
    let (incident, _) = modify(&state, &id, &caller, if_match.0, |incident| {
        let mut effects = Vec::new();
        if let Some(title) = title.as_ref().filter(|t| **t != incident.title) {
            effects.push(
                Effect::new(EntryKind::Edit, "incident.updated", "title changed").from_to(&incident.title, title),
            );
            incident.title = title.clone();
        }
        if let Some(summary) = summary.as_ref().filter(|s| **s != incident.summary) {
            effects.push(Effect::new(EntryKind::Edit, "incident.updated", "summary changed"));
            incident.summary = summary.clone();
        }
        if let Some(sev) = sev.filter(|s| *s != incident.sev) {
            let message = format!("severity {} → {}", incident.sev, sev);
            effects.push(
                Effect::new(EntryKind::SeverityChange, "incident.updated", message)
                    .from_to(incident.sev.get().to_string(), sev.get().to_string()),
            );
            incident.sev = sev;
        }
        if let Some(services) = services.as_ref().filter(|s| **s != incident.services) {
            let effect = Effect::new(EntryKind::Edit, "incident.updated", "services changed")
                .from_to(incident.services.join(", "), services.join(", "));
            effects.push(effect);
            incident.services = services.clone();
        }
        Ok(effects)
    })
    .await?;
    Ok(with_etag(StatusCode::OK, &incident).json(IncidentView::from(&incident)))
}
