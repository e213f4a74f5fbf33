//! Email to subscribers: double opt-in subscriptions, and a Redis-backed mail queue sent over
//! SMTP (or written as `.eml` files when no server is configured), retried, one mail per
//! recipient so a failing address never holds up the others.

pub mod compose;
pub mod sender;
pub mod store;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize)]
pub struct EmailSettings {
    /// Empty: write `.eml` files to `outbox_dir`.
    pub smtp_url: secrecy::SecretString,
    pub from: String,
    pub outbox_dir: std::path::PathBuf,
    pub retry_schedule_ms: Vec<u64>,
    pub concurrency: usize,
    pub confirmation_interval_secs: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionState {
    PendingConfirmation,
    Confirmed,
    Unsubscribed,
}

/// One address subscribed to every incident, or to one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscriber {
    /// Derived from the address and the scope: subscribing twice finds the same record.
    pub id: String,
    pub email: String,
    /// `None` for every incident.
    pub incident_id: Option<String>,
    pub state: SubscriptionState,
    /// Confirms and unsubscribes; carried in the links of every mail.
    pub token: String,
    pub created_at: i64,
    pub confirmed_at: Option<i64>,
    pub last_confirmation_sent_at: Option<i64>,
}

impl Subscriber {
    pub fn scope(&self) -> &str {
        self.incident_id.as_deref().unwrap_or("all")
    }
}

/// A mail waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    /// The one-click unsubscribe URL (`List-Unsubscribe`).
    pub unsubscribe_url: String,
    pub attempts: u32,
}
