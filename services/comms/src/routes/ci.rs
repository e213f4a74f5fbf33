//! `/api/v1/ci`: CI/CD sources (admins) and the webhook each one sends its pipeline events to.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use platform::auth::Admin;
use platform::error::Problem;
use platform::extract::Json;
use platform::{ApiError, FieldError};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::chatops::ci::{self, Handled, Reading};
use crate::chatops::config::{CiKind, CiSource, CiSourceView, check_name, check_slack_id};
use crate::chatops::peers::PeerError;
use crate::chatops::signing::{verify_github, verify_token};
use crate::state::AppState;
use crate::webhooks::worker::now;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CiSourceUpdate {
    /// github, gitlab or generic.
    #[schema(value_type = CiKind, example = "github")]
    pub kind: String,
    /// The shared secret: 16 to 256 printable ASCII characters, spaces only inside. Omitted (or
    /// null): kept, or generated for a new source and shown once in the answer.
    #[schema(pattern = r"^[!-~][ -~]{14,254}[!-~]$")]
    pub secret: Option<String>,
    /// Branches whose runs are acted on (deploys always are); empty, omitted or null: all.
    #[schema(schema_with = branch_list, example = json!(["main"]))]
    pub branches: Option<Vec<String>>,
    /// A failed run raises an incident and a later success resolves it (default true).
    pub raise_incidents: Option<bool>,
    /// Severity of those incidents, 1 to 4 (default 3, or the current one).
    #[schema(minimum = 1, maximum = 4, example = 3)]
    pub sev: Option<i64>,
    /// Services those incidents affect (lower-cased).
    #[schema(schema_with = branch_list)]
    pub services: Option<Vec<String>>,
    /// Slack channel id for failure notices and deploy announcements (needs a bot token); `""`,
    /// omitted or null: none.
    #[schema(example = "C024BE91L", pattern = r"^([A-Z0-9]{2,32})?$")]
    pub slack_channel: Option<String>,
    /// Post failed runs and their recovery to the channel (default true).
    pub notify_failures: Option<bool>,
    /// Announce every deploy to the channel (default true).
    pub announce_deploys: Option<bool>,
}

const MAX_ITEMS: usize = 50;
const MAX_ITEM: usize = 200;

/// Up to 50 lines of 1 to 200 characters each (kept trimmed, repeats once), or null.
fn branch_list() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaFormat, SchemaType, Type};
    let item = ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::Custom("line".into())))
        .max_length(Some(MAX_ITEM));
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(item)
        .max_items(Some(MAX_ITEMS))
        .into()
}

fn text_list(raw: Option<&Vec<String>>, field: &str, errors: &mut Vec<FieldError>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let list = raw.map(Vec::as_slice).unwrap_or_default();
    if list.len() > MAX_ITEMS {
        errors.push(FieldError::new(field, format!("at most {MAX_ITEMS}")));
    }
    for (i, item) in list.iter().enumerate() {
        match super::rules::line(item, MAX_ITEM) {
            Err(e) => errors.push(FieldError::new(format!("{field}[{i}]"), e)),
            Ok(item) if !out.contains(&item) => out.push(item),
            Ok(_) => {}
        }
    }
    out
}

/// CI sources.
#[utoipa::path(
    tag = "ci",
    responses(
        (status = 200, description = "Sources, oldest first (never their secrets)", body = Vec<CiSourceView>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin role", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/ci/sources")]
pub async fn list_sources(Admin(_caller): Admin, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let sources = state.store.ci_sources().await?;
    Ok(HttpResponse::Ok().json(sources.iter().map(CiSourceView::from).collect::<Vec<_>>()))
}

/// One CI source.
#[utoipa::path(
    tag = "ci",
    params(("name" = String, Path, description = "Source name (any case)", pattern = r"^[A-Za-z0-9_-]{1,64}$")),
    responses(
        (status = 200, description = "The source", body = CiSourceView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such source", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/ci/sources/{name}")]
pub async fn get_source(
    Admin(_caller): Admin,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let source = state
        .store
        .ci_source(&name.to_ascii_lowercase())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no CI source {name}")))?;
    Ok(HttpResponse::Ok().json(CiSourceView::from(&source)))
}

/// Create or change a CI source. Its pipelines post to `/api/v1/ci/hooks/{name}`.
#[utoipa::path(
    tag = "ci",
    params(("name" = String, Path, description = "Source name: 1 to 64 of a-z, 0-9, - and _ (upper case is lower-cased)", pattern = r"^[A-Za-z0-9_-]{1,64}$")),
    request_body = CiSourceUpdate,
    responses(
        (status = 201, description = "Created; a generated secret is shown this once", body = CiSourceView),
        (status = 200, description = "Changed", body = CiSourceView),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin role", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/api/v1/ci/sources/{name}")]
pub async fn put_source(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    name: web::Path<String>,
    Json(body): Json<CiSourceUpdate>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = Vec::new();
    let name = check_name(&name).map_err(|e| errors.push(FieldError::new("name", e))).ok();
    let kind = super::rules::one_of::<CiKind>(&body.kind, "must be one of github, gitlab, generic")
        .map_err(|e| errors.push(FieldError::new("kind", e)))
        .ok();
    let current = match &name {
        Some(n) => state.store.ci_source(n).await?,
        None => None,
    };
    let mut generated = None;
    let secret = match body.secret.as_deref() {
        Some(s)
            if (16..=256).contains(&s.len())
                && s.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
                && !s.starts_with(' ')
                && !s.ends_with(' ') =>
        {
            s.to_string()
        }
        Some(_) => {
            errors.push(FieldError::new("secret", "must be 16 to 256 printable characters, spaces only inside"));
            String::new()
        }
        None => match &current {
            Some(c) => c.secret.clone(),
            None => {
                let fresh = crate::webhooks::signing::new_secret();
                generated = Some(fresh.clone());
                fresh
            }
        },
    };
    let branches = text_list(body.branches.as_ref(), "branches", &mut errors);
    let services: Vec<String> = text_list(body.services.as_ref(), "services", &mut errors)
        .into_iter()
        .map(|s| s.to_ascii_lowercase())
        .collect();
    let sev = match body.sev {
        None => current.as_ref().map_or(3, |c| c.sev),
        Some(n @ 1..=4) => n as u8,
        Some(_) => {
            errors.push(FieldError::new("sev", "must be 1 to 4"));
            3
        }
    };
    let slack_channel = match body.slack_channel.as_deref() {
        None | Some("") => None,
        Some(c) => check_slack_id(c).map_err(|e| errors.push(FieldError::new("slack_channel", e))).ok(),
    };
    let (Some(name), Some(kind), true) = (name, kind, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let ts = now();
    let source = CiSource {
        name,
        kind,
        secret,
        branches,
        raise_incidents: body.raise_incidents.unwrap_or(true),
        sev,
        services,
        slack_channel,
        notify_failures: body.notify_failures.unwrap_or(true),
        announce_deploys: body.announce_deploys.unwrap_or(true),
        created_at: current.as_ref().map_or(ts, |c| c.created_at),
        updated_at: ts,
        updated_by: caller.id.clone(),
    };
    state.store.save_ci_source(&source).await?;
    let mut view = CiSourceView::from(&source);
    view.secret = generated;
    let mut response = if current.is_some() { HttpResponse::Ok() } else { HttpResponse::Created() };
    Ok(response.json(view))
}

/// Remove a CI source; its webhook stops working.
#[utoipa::path(
    tag = "ci",
    params(("name" = String, Path, description = "Source name (any case)", pattern = r"^[A-Za-z0-9_-]{1,64}$")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such source", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/api/v1/ci/sources/{name}")]
pub async fn delete_source(
    Admin(_caller): Admin,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if state.store.delete_ci_source(&name.to_ascii_lowercase()).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found(format!("no CI source {name}")))
    }
}

/// A pipeline event from the source `name`. GitHub: `workflow_run` and `deployment_status`,
/// signed with `X-Hub-Signature-256`. GitLab: pipeline and deployment hooks with `X-Gitlab-Token`.
/// Generic: `{"pipeline", "status", "branch", "kind": "run"|"deploy", "environment", "version",
/// "author", "url", "duration_secs", "commit", "project"}` with `Authorization: Bearer <secret>`.
/// A delivery id (`X-GitHub-Delivery`, `X-Gitlab-Event-UUID`, `Idempotency-Key`) seen before
/// is not acted on again.
#[utoipa::path(
    tag = "ci",
    params(("name" = String, Path, description = "Source name (any case)", pattern = r"^[A-Za-z0-9_-]{1,64}$")),
    request_body(content = Object, description = "The CI system's payload"),
    responses(
        (status = 200, description = "What it did", body = Handled),
        (status = 400, description = "Unreadable payload, each bad field named", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad or missing signature or token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such source", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The incidents service cannot be reached; send again", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/ci/hooks/{name}")]
pub async fn receive(
    req: HttpRequest,
    state: web::Data<AppState>,
    name: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let source = state
        .store
        .ci_source(&name.to_ascii_lowercase())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no CI source {name}")))?;
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let refused =
        |e: crate::chatops::signing::SignatureError| ApiError::unauthorized(format!("not from this source: {e}"));
    let delivery = match source.kind {
        CiKind::Github => {
            verify_github(&source.secret, header("x-hub-signature-256"), &body).map_err(refused)?;
            header("x-github-delivery")
        }
        CiKind::Gitlab => {
            verify_token(&source.secret, "X-Gitlab-Token", header("x-gitlab-token")).map_err(refused)?;
            header("x-gitlab-event-uuid")
        }
        CiKind::Generic => {
            let bearer = header("authorization").and_then(|v| v.strip_prefix("Bearer "));
            verify_token(&source.secret, "Authorization", bearer).map_err(refused)?;
            header("idempotency-key")
        }
    };
    let payload: Value =
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(format!("the body is not JSON: {e}")))?;
    let reading = match source.kind {
        CiKind::Github => {
            let event =
                header("x-github-event").ok_or_else(|| ApiError::validation("X-GitHub-Event", "is required"))?;
            ci::github(event, &payload)
        }
        CiKind::Gitlab => ci::gitlab(&payload),
        CiKind::Generic => ci::generic(&payload),
    }
    .map_err(ApiError::Validation)?;
    let event = match reading {
        Reading::Ignored(why) => return Ok(HttpResponse::Ok().json(Handled::ignored(why))),
        Reading::Event(e) => e,
    };
    let delivery = delivery.map(str::to_string).unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let scope = format!("ci-{}", source.name);
    if !state.store.first_delivery(&scope, &delivery).await? {
        return Ok(HttpResponse::Ok().json(Handled::ignored(format!("delivery {delivery} was handled already"))));
    }
    match ci::act(&state, &source, &event, &delivery).await {
        Ok(handled) => {
            tracing::info!(source = %source.name, outcome = handled.outcome, actions = ?handled.actions, "CI event");
            Ok(HttpResponse::Ok().json(handled))
        }
        Err(e) => {
            // Not done: the sender's retry must be taken.
            let _ = state.store.forget_delivery(&scope, &delivery).await;
            match e {
                PeerError::Unreachable(peer) => Err(ApiError::unavailable(peer, anyhow::anyhow!("unreachable"))),
                PeerError::Refused { status, detail } => {
                    tracing::error!(status, detail, "the incidents service refused a CI alert");
                    Err(ApiError::unavailable("incidents service", anyhow::anyhow!("refused: {detail}")))
                }
            }
        }
    }
}
