//! `/api/v1/chatops/slack`: the Slack app's settings and user links (admins), and the two
//! endpoints Slack calls: slash commands and the Events API. Slack's requests carry no bearer
//! token: each one is verified with the app's signing secret instead.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use platform::auth::Admin;
use platform::error::Problem;
use platform::extract::Json;
use platform::{ApiError, FieldError};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::chatops::command::{self, Command};
use crate::chatops::config::{SlackConfig, SlackConfigView, SlackLink, check_slack_id};
use crate::chatops::posts::Post;
use crate::chatops::runner::{self, Origin, Reply};
use crate::chatops::signing::verify_slack;
use crate::state::AppState;
use crate::webhooks::worker::{now, now_ms};

#[derive(Debug, Deserialize, ToSchema)]
pub struct SlackSettingsUpdate {
    /// Commands are taken only when enabled.
    pub enabled: bool,
    /// The app's signing secret (Basic Information → App Credentials): 16 to 128 printable ASCII
    /// characters, no spaces. Omit (or null) to keep the current one. Enabling needs one, sent
    /// now or set before: without, the answer is 422.
    #[schema(pattern = r"^[!-~]{16,128}$")]
    pub signing_secret: Option<String>,
    /// The bot token (`xoxb-...`, up to 256 printable ASCII characters), for thread posts and
    /// deploy announcements. Omit (or null) to keep the current one; `""` removes it.
    #[schema(pattern = r"^(xox[!-~]{0,253})?$")]
    pub bot_token: Option<String>,
    /// Channel ids commands are allowed in (at most 100; repeats count once).
    #[schema(schema_with = channel_ids, example = json!(["C024BE91L"]))]
    pub channels: Vec<String>,
    /// The slash command's name, for help texts (default `/incident`).
    #[schema(example = "/incident", pattern = r"^/[A-Za-z0-9_-]{1,31}$")]
    pub command: Option<String>,
}

/// Up to 100 Slack channel ids.
fn channel_ids() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    let id = ObjectBuilder::new().schema_type(Type::String).pattern(Some(SLACK_ID));
    ArrayBuilder::new().items(id).max_items(Some(MAX_CHANNELS)).into()
}

/// A Slack id, as [`check_slack_id`] takes it.
pub const SLACK_ID: &str = r"^[A-Z0-9]{2,32}$";
const MAX_CHANNELS: usize = 100;

#[derive(Debug, Deserialize, ToSchema)]
pub struct LinkRequest {
    /// The PolyStatus user's email; that user must exist and be active (else 404).
    #[schema(example = "ann@example.com", format = "email", max_length = 254)]
    pub email: String,
}

/// The Slack app's settings (secrets only as whether they are set).
#[utoipa::path(
    tag = "chatops",
    responses(
        (status = 200, description = "The settings", body = SlackConfigView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin role", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/chatops/slack")]
pub async fn get_slack(Admin(_caller): Admin, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let config = state.store.slack_config().await?.unwrap_or_else(|| SlackConfig {
        enabled: false,
        signing_secret: String::new(),
        bot_token: String::new(),
        channels: Vec::new(),
        command: "/incident".into(),
        updated_at: 0,
        updated_by: String::new(),
    });
    Ok(HttpResponse::Ok().json(SlackConfigView::from(&config)))
}

/// Set up the Slack app: its signing secret, bot token and the channels commands work in.
#[utoipa::path(
    tag = "chatops",
    request_body = SlackSettingsUpdate,
    responses(
        (status = 200, description = "Saved", body = SlackConfigView),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Enabling without a signing secret, none being set yet", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin role", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/api/v1/chatops/slack")]
pub async fn put_slack(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    Json(body): Json<SlackSettingsUpdate>,
) -> Result<HttpResponse, ApiError> {
    let current = state.store.slack_config().await?;
    let mut errors = Vec::new();
    let signing_secret = match body.signing_secret.as_deref() {
        Some(s) if !(16..=128).contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_graphic()) => {
            errors.push(FieldError::new("signing_secret", "must be 16 to 128 printable characters, no spaces"));
            String::new()
        }
        Some(s) => s.to_string(),
        None => current.as_ref().map(|c| c.signing_secret.clone()).unwrap_or_default(),
    };
    let bot_token = match body.bot_token.as_deref() {
        Some("") => String::new(),
        Some(t) if !t.starts_with("xox") || t.len() > 256 || !t.bytes().all(|b| b.is_ascii_graphic()) => {
            errors.push(FieldError::new("bot_token", "must be a Slack token (xoxb-...)"));
            String::new()
        }
        Some(t) => t.to_string(),
        None => current.as_ref().map(|c| c.bot_token.clone()).unwrap_or_default(),
    };
    let mut channels = Vec::new();
    if body.channels.len() > MAX_CHANNELS {
        errors.push(FieldError::new("channels", format!("at most {MAX_CHANNELS} channels")));
    }
    for (i, raw) in body.channels.iter().enumerate() {
        match check_slack_id(raw) {
            Ok(id) if !channels.contains(&id) => channels.push(id),
            Ok(_) => {}
            Err(e) => errors.push(FieldError::new(format!("channels[{i}]"), e)),
        }
    }
    let command = body.command.as_deref().unwrap_or("/incident").to_string();
    let valid_command = command.len() >= 2
        && command.len() <= 32
        && command.starts_with('/')
        && command[1..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid_command {
        errors.push(FieldError::new("command", "must be a slash command like /incident"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    if body.enabled && signing_secret.is_empty() {
        // Well formed, but nothing to verify Slack's requests with: neither sent nor set before.
        return Err(ApiError::unprocessable("signing_secret", "is required to enable Slack, and none is set yet"));
    }
    let config = SlackConfig {
        enabled: body.enabled,
        signing_secret,
        bot_token,
        channels,
        command,
        updated_at: now(),
        updated_by: caller.id.clone(),
    };
    state.store.save_slack_config(&config).await?;
    tracing::info!(enabled = config.enabled, channels = config.channels.len(), "Slack settings changed");
    Ok(HttpResponse::Ok().json(SlackConfigView::from(&config)))
}

/// Explicit links from Slack users to PolyStatus users.
#[utoipa::path(
    tag = "chatops",
    responses(
        (status = 200, description = "Links, oldest first", body = Vec<SlackLink>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin role", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/chatops/slack/links")]
pub async fn list_links(Admin(_caller): Admin, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.store.slack_links().await?))
}

/// Link a Slack user to the PolyStatus user with this email (who must exist and be active).
#[utoipa::path(
    tag = "chatops",
    params(("slack_user" = String, Path, description = "Slack user id, e.g. U024BE7LH", pattern = r"^[A-Z0-9]{2,32}$")),
    request_body = LinkRequest,
    responses(
        (status = 200, description = "Linked", body = SlackLink),
        (status = 400, description = "Invalid id or email", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No active PolyStatus user has this email (`email` named)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin role", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The users service cannot be reached", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/api/v1/chatops/slack/links/{slack_user}")]
pub async fn put_link(
    Admin(caller): Admin,
    state: web::Data<AppState>,
    slack_user: web::Path<String>,
    Json(body): Json<LinkRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = Vec::new();
    let slack_user = check_slack_id(&slack_user).map_err(|e| errors.push(FieldError::new("slack_user", e))).ok();
    let email = platform::email::Email::parse(&body.email).map_err(|e| errors.push(FieldError::new("email", e))).ok();
    let (Some(slack_user), Some(email), true) = (slack_user, email, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let email = email.as_str().to_string();
    match state.chatops.peers.person_by_email(&email).await {
        Ok(Some(_)) => {}
        Ok(None) => return Err(ApiError::reference_not_found("email", "no active PolyStatus user has this email")),
        Err(e) => return Err(ApiError::unavailable("users service", anyhow::anyhow!("{e}"))),
    }
    let link = SlackLink { slack_user, email, created_at: now(), created_by: caller.id.clone() };
    state.store.save_slack_link(&link).await?;
    Ok(HttpResponse::Ok().json(link))
}

/// Remove a Slack user's link.
#[utoipa::path(
    tag = "chatops",
    params(("slack_user" = String, Path, description = "Slack user id", pattern = r"^[A-Z0-9]{2,32}$")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the admin role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such link", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/api/v1/chatops/slack/links/{slack_user}")]
pub async fn delete_link(
    Admin(_caller): Admin,
    state: web::Data<AppState>,
    slack_user: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if state.store.delete_slack_link(&slack_user).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found(format!("no link for {slack_user}")))
    }
}

/// The Slack app's settings, once the request is shown to come from Slack.
async fn verified(state: &AppState, req: &HttpRequest, body: &[u8]) -> Result<SlackConfig, ApiError> {
    let config = state
        .store
        .slack_config()
        .await?
        .filter(|c| c.enabled && !c.signing_secret.is_empty())
        .ok_or_else(|| ApiError::not_found("Slack is not set up here"))?;
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    verify_slack(&config.signing_secret, header("x-slack-request-timestamp"), header("x-slack-signature"), body, now())
        .map_err(|e| ApiError::unauthorized(format!("not a verified Slack request: {e}")))?;
    Ok(config)
}

fn slack_answer(reply: &Reply) -> HttpResponse {
    HttpResponse::Ok().json(reply.to_slack())
}

/// The fields of a slash command that PolyStatus reads, as Slack posts them
/// (`application/x-www-form-urlencoded`); Slack sends more, which are ignored.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct SlashCommandForm {
    /// The Slack user who typed the command.
    #[schema(example = "U024BE7LH", min_length = 1)]
    user_id: String,
    #[schema(example = "C2147483705", min_length = 1)]
    channel_id: String,
    /// The command as configured, e.g. `/incident`.
    #[schema(example = "/incident")]
    command: Option<String>,
    /// What follows the command: `declare checkout down sev 1`, `status`, `help`...
    #[schema(example = "declare checkout is down sev 1")]
    text: Option<String>,
    /// Where a late answer goes, valid 30 minutes.
    response_url: Option<String>,
    /// Unique per invocation; a repeated one is acknowledged and not run again.
    trigger_id: Option<String>,
    team_id: Option<String>,
    user_name: Option<String>,
}

/// Slack's slash command (`/incident ...`). Answers within Slack's 3 seconds; slower work is
/// answered afterwards through the command's `response_url`.
#[utoipa::path(
    tag = "chatops",
    request_body(content = SlashCommandForm, content_type = "application/x-www-form-urlencoded", description = "Slack's slash command payload, signed with `X-Slack-Signature`"),
    responses(
        (status = 200, description = "The answer, in Slack's message format"),
        (status = 400, description = "A Slack field is missing", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed by Slack, or stale", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Slack is not set up", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/chatops/slack/commands")]
pub async fn slash_command(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let config = verified(&state, &req, &body).await?;
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let missing: Vec<FieldError> = ["user_id", "channel_id"]
        .iter()
        .filter(|name| field(name).is_none())
        .map(|name| FieldError::new(*name, "is required"))
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::Validation(missing));
    }
    if let Some(trigger) = field("trigger_id")
        && !state.store.first_delivery("slack-trigger", trigger).await?
    {
        // The same command delivered twice: it ran the first time.
        return Ok(HttpResponse::Ok().finish());
    }
    let origin = Origin {
        slack_user: field("user_id").unwrap_or_default().to_string(),
        channel: field("channel_id").unwrap_or_default().to_string(),
        thread_ts: None,
    };
    let command = match command::parse(form.get("text").map_or("", String::as_str)) {
        Ok(c) => c,
        Err(e) => {
            return Ok(slack_answer(&Reply::private(format!(":x: {e}. Try `{} help`.", config.command))));
        }
    };
    let mut work = {
        let (state, config, origin) = (state.clone(), config.clone(), origin.clone());
        tokio::spawn(async move { runner::run(&state, &config, &origin, command).await })
    };
    match tokio::time::timeout(state.chatops.reply_budget, &mut work).await {
        Ok(Ok(reply)) => Ok(slack_answer(&reply)),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "a Slack command failed");
            Ok(slack_answer(&Reply::private(":warning: Something went wrong; try again.")))
        }
        Err(_) => {
            let response_url = field("response_url").map(str::to_string);
            tokio::spawn(async move {
                let reply = work.await.unwrap_or_else(|_| Reply::private(":warning: Something went wrong; try again."));
                if let Some(url) = response_url
                    && let Err(e) = state.chatops.slack.respond(&url, &reply.to_slack()).await
                {
                    tracing::warn!(error = %e, "a late Slack answer was not delivered");
                }
            });
            Ok(slack_answer(&Reply::private(":hourglass_flowing_sand: Working on it…")))
        }
    }
}

/// Slack's Events API: the `url_verification` handshake, and mentions of the app, which run the
/// same commands with the answer in the message's thread. Retries and duplicate deliveries of
/// one `event_id` are acknowledged and not run again.
#[utoipa::path(
    tag = "chatops",
    request_body(content = Object, description = "A Slack Events API envelope"),
    responses(
        (status = 200, description = "Taken (the challenge, for url_verification)"),
        (status = 400, description = "Not a Slack event envelope", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed by Slack, or stale", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Slack is not set up", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/chatops/slack/events")]
pub async fn slack_events(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let config = verified(&state, &req, &body).await?;
    let envelope: Value =
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(format!("the body is not JSON: {e}")))?;
    match envelope["type"].as_str() {
        Some("url_verification") => {
            let challenge = envelope["challenge"]
                .as_str()
                .ok_or_else(|| ApiError::validation("challenge", "is required for url_verification"))?;
            return Ok(HttpResponse::Ok().json(json!({"challenge": challenge})));
        }
        Some("event_callback") => {}
        Some(other) => return Ok(HttpResponse::Ok().json(json!({"ignored": format!("{other} envelopes")}))),
        None => return Err(ApiError::validation("type", "is required")),
    }
    let event_id = envelope["event_id"].as_str().ok_or_else(|| ApiError::validation("event_id", "is required"))?;
    if !state.store.first_delivery("slack-event", event_id).await? {
        return Ok(HttpResponse::Ok().json(json!({"duplicate": event_id})));
    }
    let event = &envelope["event"];
    let is_mention = event["type"].as_str() == Some("app_mention") && event["bot_id"].is_null();
    let (Some(user), Some(channel), Some(ts), true) =
        (event["user"].as_str(), event["channel"].as_str(), event["ts"].as_str(), is_mention)
    else {
        return Ok(HttpResponse::Ok().json(json!({"ignored": "only mentions of the app are acted on"})));
    };
    let thread_ts = event["thread_ts"].as_str().unwrap_or(ts).to_string();
    let origin =
        Origin { slack_user: user.to_string(), channel: channel.to_string(), thread_ts: Some(thread_ts.clone()) };
    let text = command::strip_mention(event["text"].as_str().unwrap_or("")).to_string();
    let post_id = format!("mention-{event_id}");
    // Slack wants its answer at once; the command runs after it, and answers in the thread.
    tokio::spawn(async move {
        let reply = match command::parse(&text) {
            Ok(Command::Help) => Reply::private(command::help(&config.command)),
            Ok(c) => runner::run(&state, &config, &origin, c).await,
            Err(e) => Reply::private(format!(":x: {e}. Mention me with `help` for the commands.")),
        };
        let mut post = Post::new(post_id, &origin.channel, reply.text);
        post.thread_ts = Some(thread_ts);
        if !reply.public {
            post.only_for = Some(origin.slack_user.clone());
        }
        if let Err(e) = state.store.enqueue_post(&post, now_ms()).await {
            tracing::warn!(error = %e, "the answer to a Slack mention was not queued");
        }
    });
    Ok(HttpResponse::Ok().json(json!({"ok": true})))
}
