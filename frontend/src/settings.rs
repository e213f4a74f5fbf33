//! The web UI's settings: `config/base.toml`, overridden by `FRONTEND__SECTION__KEY`.

use platform::settings::{LogSettings, RedisSettings, ServerSettings, SettingsError};
use serde::Deserialize;

pub const DEFAULTS: &str = include_str!("../config/base.toml");
pub const ENV_PREFIX: &str = "FRONTEND__";

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub redis: RedisSettings,
    pub log: LogSettings,
    pub services: ServiceUrls,
    pub session: SessionSettings,
}

/// Where each service answers.
#[derive(Debug, Clone, Deserialize)]
pub struct ServiceUrls {
    pub users: String,
    pub incidents: String,
    pub comms: String,
    pub csp: String,
    pub flags: String,
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SessionSettings {
    pub cookie_name: String,
    pub idle_secs: u64,
}

impl Settings {
    pub fn load() -> Result<Self, SettingsError> {
        let settings: Settings = platform::settings::load(DEFAULTS, ENV_PREFIX, &[])?;
        settings.validate()?;
        Ok(settings)
    }

    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.session.idle_secs < 60 || self.session.cookie_name.is_empty() {
            return Err(SettingsError("session.idle_secs: at least 60; session.cookie_name: not empty".into()));
        }
        if self.services.timeout_ms == 0 {
            return Err(SettingsError("services.timeout_ms: must be at least 1".into()));
        }
        Ok(())
    }

    /// Whether cookies get `Secure` (the UI is reached over HTTPS).
    pub fn secure_cookies(&self) -> bool {
        self.server.public_url.starts_with("https://")
    }
}
