//! Email subscriptions with double opt-in: subscribe (the reference contract), confirm,
//! unsubscribe (one click, RFC 8058).

use actix_web::{HttpResponse, get, post, web};
use platform::ApiError;
use platform::email::Email;
use platform::error::Problem;
use platform::extract::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::announce::incident_id;
use crate::email::store::subscriber_id;
use crate::email::{Subscriber, SubscriptionState};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct SubscribeRequest {
    #[schema(example = "user@example.com", format = "email", max_length = 254)]
    pub email: String,
    /// Only this incident's updates (`INC-` and six hex digits, in any case); omit (or null) for
    /// every incident.
    #[schema(example = "INC-4F2A9C", pattern = r"^[Ii][Nn][Cc]-[0-9A-Fa-f]{6}$")]
    pub incident_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionStatus {
    /// `pending_confirmation` after subscribing (whatever the address's state, so nobody
    /// learns who subscribed), `confirmed`, or `unsubscribed`.
    pub status: SubscriptionState,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// From the link in the mail.
    #[param(min_length = 1, max_length = 128)]
    pub token: String,
}

/// Subscribe an address (anonymous). A confirmation mail is sent; nothing else is until the
/// link in it is opened. Subscribing again is harmless.
#[utoipa::path(
    tag = "subscriptions",
    request_body = SubscribeRequest,
    responses(
        (status = 201, description = "Subscribed, pending confirmation", body = SubscriptionStatus),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/subscriptions/email")]
pub async fn subscribe(
    state: web::Data<AppState>,
    Json(body): Json<SubscribeRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut fields = platform::Fields::default();
    let email = fields.check("email", Email::parse(&body.email));
    let scope = body.incident_id.as_deref().and_then(|raw| fields.check("incident_id", incident_id(raw)));
    let Some(email) = email.filter(|_| fields.0.is_empty()) else {
        return Err(ApiError::Validation(fields.0));
    };
    let id = subscriber_id(email.as_str(), scope.as_deref().unwrap_or("all"));
    let now = chrono::Utc::now().timestamp();
    let existing = state.store.subscriber(&id).await?;
    let mut subscriber = match existing {
        Some(s) if s.state == SubscriptionState::Confirmed => {
            return Ok(
                HttpResponse::Created().json(SubscriptionStatus { status: SubscriptionState::PendingConfirmation })
            );
        }
        Some(s) => s,
        None => Subscriber {
            id,
            email: email.as_str().to_string(),
            incident_id: scope,
            state: SubscriptionState::PendingConfirmation,
            token: random_token(),
            created_at: now,
            confirmed_at: None,
            last_confirmation_sent_at: None,
        },
    };
    // One confirmation mail per interval at most: subscribing cannot be used to flood an inbox.
    let recently_sent =
        subscriber.last_confirmation_sent_at.is_some_and(|t| now - t < state.confirmation_interval_secs);
    subscriber.state = SubscriptionState::PendingConfirmation;
    if !recently_sent {
        subscriber.last_confirmation_sent_at = Some(now);
        state.store.save_subscriber(&subscriber).await?;
        state.store.enqueue_mail(&state.composer.confirmation(&subscriber)).await?;
        tracing::info!(email = %email.masked(), "subscription pending confirmation");
    } else {
        state.store.save_subscriber(&subscriber).await?;
    }
    Ok(HttpResponse::Created().json(SubscriptionStatus { status: SubscriptionState::PendingConfirmation }))
}

fn random_token() -> String {
    use aws_lc_rs::rand::{SecureRandom, SystemRandom};
    let mut bytes = [0u8; 24];
    // A failing system RNG must not hand out guessable links.
    #[allow(clippy::expect_used)]
    SystemRandom::new().fill(&mut bytes).expect("the system random number generator failed");
    platform::hex(&bytes)
}

async fn by_token(state: &AppState, token: &str) -> Result<Subscriber, ApiError> {
    if token.is_empty() || token.chars().count() > 128 {
        return Err(ApiError::validation("token", "is not a token from a PolyStatus mail"));
    }
    state.store.subscriber_by_token(token).await?.ok_or_else(|| ApiError::not_found("unknown or expired link"))
}

/// Confirm a subscription (the link in the confirmation mail).
#[utoipa::path(
    tag = "subscriptions",
    params(TokenQuery),
    responses(
        (status = 200, description = "Confirmed", body = SubscriptionStatus),
        (status = 404, description = "Unknown link", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/subscriptions/confirm")]
pub async fn confirm(state: web::Data<AppState>, query: web::Query<TokenQuery>) -> Result<HttpResponse, ApiError> {
    let mut subscriber = by_token(&state, &query.token).await?;
    if subscriber.state != SubscriptionState::Confirmed {
        subscriber.state = SubscriptionState::Confirmed;
        subscriber.confirmed_at = Some(chrono::Utc::now().timestamp());
        state.store.save_subscriber(&subscriber).await?;
    }
    Ok(HttpResponse::Ok().json(SubscriptionStatus { status: SubscriptionState::Confirmed }))
}

/// Unsubscribe: the link in every mail.
#[utoipa::path(
    tag = "subscriptions",
    params(TokenQuery),
    responses(
        (status = 200, description = "Unsubscribed (also when already)", body = SubscriptionStatus),
        (status = 404, description = "Unknown link", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/subscriptions/unsubscribe")]
pub async fn unsubscribe(state: web::Data<AppState>, query: web::Query<TokenQuery>) -> Result<HttpResponse, ApiError> {
    unsubscribe_by_token(&state, &query.token).await
}

/// Unsubscribe in one click: the `List-Unsubscribe-Post` target (RFC 8058) that mail clients
/// call for the reader.
#[utoipa::path(
    tag = "subscriptions",
    params(TokenQuery),
    responses(
        (status = 200, description = "Unsubscribed (also when already)", body = SubscriptionStatus),
        (status = 404, description = "Unknown link", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/subscriptions/unsubscribe")]
pub async fn unsubscribe_one_click(
    state: web::Data<AppState>,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, ApiError> {
    unsubscribe_by_token(&state, &query.token).await
}

async fn unsubscribe_by_token(state: &AppState, token: &str) -> Result<HttpResponse, ApiError> {
    let mut subscriber = by_token(state, token).await?;
    if subscriber.state != SubscriptionState::Unsubscribed {
        subscriber.state = SubscriptionState::Unsubscribed;
        state.store.save_subscriber(&subscriber).await?;
    }
    Ok(HttpResponse::Ok().json(SubscriptionStatus { status: SubscriptionState::Unsubscribed }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CountQuery {
    /// Subscribers of this incident only (`INC-` and six hex digits, in any case); omit for
    /// those of every incident.
    #[param(pattern = r"^[Ii][Nn][Cc]-[0-9A-Fa-f]{6}$", example = "INC-4F2A9C")]
    pub incident_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriberCount {
    /// Confirmed subscribers of the scope asked for.
    pub confirmed: u64,
}

/// How many confirmed subscribers there are (sre).
#[utoipa::path(
    tag = "subscriptions",
    params(CountQuery),
    responses(
        (status = 200, description = "The count", body = SubscriberCount),
        (status = 400, description = "Invalid incident id", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs the sre role", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/subscriptions/count")]
pub async fn subscriber_count(
    _caller: platform::auth::Sre,
    state: web::Data<AppState>,
    query: web::Query<CountQuery>,
) -> Result<HttpResponse, ApiError> {
    let scope = match query.incident_id.as_deref() {
        Some(id) => incident_id(id).map_err(|e| ApiError::validation("incident_id", e))?,
        None => "all".to_string(),
    };
    let confirmed = state.store.confirmed_count(&scope).await?;
    Ok(HttpResponse::Ok().json(SubscriberCount { confirmed }))
}
