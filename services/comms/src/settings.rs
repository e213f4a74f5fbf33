//! The comms service's settings: `config/base.toml`, overridden by `COMMS__SECTION__KEY`.

use platform::settings::{AuthSettings, LogSettings, RedisSettings, ServerSettings, SettingsError};
use serde::Deserialize;

pub const DEFAULTS: &str = include_str!("../config/base.toml");
pub const ENV_PREFIX: &str = "COMMS__";

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub redis: RedisSettings,
    pub log: LogSettings,
    pub auth: AuthSettings,
    pub incidents: IncidentsSettings,
    pub public: PublicSettings,
    pub webhooks: crate::webhooks::worker::WebhookSettings,
    pub email: crate::email::EmailSettings,
    pub notifications: NotificationSettings,
    pub chatops: crate::chatops::ChatOpsSettings,
}

/// The SRE channel.
#[derive(Debug, Clone, Deserialize)]
pub struct NotificationSettings {
    pub slack_enabled: bool,
    pub slack_webhook_url: secrecy::SecretString,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IncidentsSettings {
    pub base_url: String,
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PublicSettings {
    pub page_name: String,
    pub recent_days: i64,
    pub refresh_interval_ms: u64,
}

impl Settings {
    pub fn load() -> Result<Self, SettingsError> {
        let settings: Settings = platform::settings::load(
            DEFAULTS,
            ENV_PREFIX,
            &[
                ("NOTIFICATIONS_SLACK_ENABLED", "notifications.slack_enabled"),
                ("NOTIFICATIONS_SLACK_WEBHOOK_URL", "notifications.slack_webhook_url"),
            ],
        )?;
        if settings.public.refresh_interval_ms == 0 {
            return Err(SettingsError("public.refresh_interval_ms: must be at least 1".into()));
        }
        if settings.webhooks.concurrency == 0 || settings.webhooks.poll_interval_ms == 0 {
            return Err(SettingsError("webhooks.concurrency and webhooks.poll_interval_ms: must be at least 1".into()));
        }
        crate::webhooks::network::NetworkPolicy::new(&settings.webhooks.allowed_networks)
            .map_err(|e| SettingsError(format!("webhooks.allowed_networks: {e}")))?;
        if settings.notifications.slack_enabled
            && secrecy::ExposeSecret::expose_secret(&settings.notifications.slack_webhook_url).is_empty()
        {
            return Err(SettingsError("notifications.slack_webhook_url: required when slack_enabled".into()));
        }
        if settings.chatops.poll_interval_ms == 0 || settings.chatops.timeout_ms == 0 {
            return Err(SettingsError("chatops.poll_interval_ms and chatops.timeout_ms: must be at least 1".into()));
        }
        if settings.public.recent_days < 0 {
            return Err(SettingsError("public.recent_days: must not be negative".into()));
        }
        Ok(settings)
    }
}
