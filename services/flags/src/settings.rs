//! The flags service's settings: `config/base.toml`, overridden by `FLAGS__SECTION__KEY`.

pub use platform::outbox::EventSettings;
use platform::settings::{AuthSettings, LogSettings, RedisSettings, ServerSettings, SettingsError};
use serde::Deserialize;

pub const DEFAULTS: &str = include_str!("../config/base.toml");
pub const ENV_PREFIX: &str = "FLAGS__";

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub redis: RedisSettings,
    pub log: LogSettings,
    pub auth: AuthSettings,
    pub cache: CacheSettings,
    pub events: EventSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CacheSettings {
    pub refresh_interval_ms: u64,
}

impl Settings {
    pub fn load() -> Result<Self, SettingsError> {
        let settings: Settings = platform::settings::load(DEFAULTS, ENV_PREFIX, &[])?;
        settings.validate()?;
        Ok(settings)
    }

    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.cache.refresh_interval_ms == 0 {
            return Err(SettingsError("cache.refresh_interval_ms: must be at least 1".into()));
        }
        if self.events.relay.batch == 0 || self.events.relay.min_backoff_ms == 0 {
            return Err(SettingsError("events.batch and events.min_backoff_ms: must be at least 1".into()));
        }
        Ok(())
    }
}
