//! The incidents service's settings: `config/base.toml`, overridden by `INCIDENTS__SECTION__KEY`.

pub use platform::outbox::EventSettings;
use platform::settings::{AuthSettings, LogSettings, RedisSettings, ServerSettings, SettingsError};
use serde::Deserialize;

pub const DEFAULTS: &str = include_str!("../config/base.toml");
pub const ENV_PREFIX: &str = "INCIDENTS__";

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub redis: RedisSettings,
    pub log: LogSettings,
    pub auth: AuthSettings,
    pub users: UsersSettings,
    pub events: EventSettings,
}

/// The users service, for checking that people exist.
#[derive(Debug, Clone, Deserialize)]
pub struct UsersSettings {
    pub base_url: String,
    pub timeout_ms: u64,
}

impl Settings {
    pub fn load() -> Result<Self, SettingsError> {
        let settings: Settings = platform::settings::load(DEFAULTS, ENV_PREFIX, &[])?;
        settings.validate()?;
        Ok(settings)
    }

    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.events.relay.batch == 0 {
            return Err(SettingsError("events.batch: must be at least 1".into()));
        }
        if self.events.relay.min_backoff_ms == 0 || self.events.relay.max_backoff_ms < self.events.relay.min_backoff_ms
        {
            return Err(SettingsError(
                "events.min_backoff_ms: must be at least 1 and at most events.max_backoff_ms".into(),
            ));
        }
        Ok(())
    }
}
