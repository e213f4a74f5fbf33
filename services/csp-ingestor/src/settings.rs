//! The ingestor's settings: `config/base.toml`, overridden by `CSP__SECTION__KEY`.

pub use platform::outbox::EventSettings;
use platform::settings::{AuthSettings, LogSettings, RedisSettings, ServerSettings, SettingsError};
use serde::Deserialize;

pub const DEFAULTS: &str = include_str!("../config/base.toml");
pub const ENV_PREFIX: &str = "CSP__";

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub redis: RedisSettings,
    pub log: LogSettings,
    pub auth: AuthSettings,
    pub incidents: IncidentsSettings,
    pub polling: PollingSettings,
    pub correlation: CorrelationSettings,
    pub events: EventSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IncidentsSettings {
    pub base_url: String,
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PollingSettings {
    pub enabled: bool,
    pub tick_ms: u64,
    pub concurrency: usize,
    pub timeout_ms: u64,
    pub max_body_bytes: u64,
    pub default_interval_secs: u64,
    pub min_interval_secs: u64,
    pub max_backoff_secs: u64,
    pub jitter_ratio: f64,
    pub lease_ms: u64,
    pub refresh_wait_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CorrelationSettings {
    pub window_secs: i64,
    pub incident_scan_secs: u64,
}

impl Settings {
    pub fn load() -> Result<Self, SettingsError> {
        let settings: Settings = platform::settings::load(DEFAULTS, ENV_PREFIX, &[])?;
        settings.validate()?;
        Ok(settings)
    }

    pub fn validate(&self) -> Result<(), SettingsError> {
        let p = &self.polling;
        if p.tick_ms == 0 || p.concurrency == 0 || p.timeout_ms == 0 || p.lease_ms == 0 {
            return Err(SettingsError(
                "polling.tick_ms, concurrency, timeout_ms and lease_ms: must be at least 1".into(),
            ));
        }
        if p.min_interval_secs == 0 || p.default_interval_secs < p.min_interval_secs {
            return Err(SettingsError(
                "polling.min_interval_secs: must be at least 1 and at most default_interval_secs".into(),
            ));
        }
        if !(0.0..=0.5).contains(&p.jitter_ratio) {
            return Err(SettingsError("polling.jitter_ratio: must be between 0 and 0.5".into()));
        }
        if p.max_body_bytes < 1024 {
            return Err(SettingsError("polling.max_body_bytes: must be at least 1024".into()));
        }
        if self.correlation.window_secs <= 0 || self.correlation.incident_scan_secs == 0 {
            return Err(SettingsError("correlation.window_secs and incident_scan_secs: must be at least 1".into()));
        }
        if self.events.relay.batch == 0 || self.events.relay.min_backoff_ms == 0 {
            return Err(SettingsError("events.batch and events.min_backoff_ms: must be at least 1".into()));
        }
        Ok(())
    }
}
