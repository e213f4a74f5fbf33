//! The users service's settings: `config/base.toml`, overridden by `USERS__SECTION__KEY`.

use std::path::PathBuf;

use platform::settings::{LogSettings, RedisSettings, ServerSettings, SettingsError};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

pub const DEFAULTS: &str = include_str!("../config/base.toml");
pub const ENV_PREFIX: &str = "USERS__";

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub redis: RedisSettings,
    pub log: LogSettings,
    pub tokens: TokenSettings,
    pub passwords: PasswordSettings,
    pub login_limits: LoginLimits,
    pub bootstrap: BootstrapSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TokenSettings {
    pub issuer: String,
    pub audience: String,
    pub access_ttl_secs: u64,
    pub refresh_ttl_secs: u64,
    pub signing_key_file: PathBuf,
    pub invite_ttl_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PasswordSettings {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    pub max_concurrent_hashes: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LoginLimits {
    pub per_account: u64,
    pub per_address: u64,
    pub window_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BootstrapSettings {
    pub admin_email: String,
    pub admin_name: String,
    pub admin_password: SecretString,
}

impl BootstrapSettings {
    /// The configured first-admin password, if one was given.
    pub fn password(&self) -> Option<&str> {
        Some(self.admin_password.expose_secret()).filter(|p| !p.is_empty())
    }
}

impl Settings {
    /// Defaults, then the environment.
    pub fn load() -> Result<Self, SettingsError> {
        let settings: Settings = platform::settings::load(
            DEFAULTS,
            ENV_PREFIX,
            &[
                ("POLYSTATUS_ADMIN_EMAIL", "bootstrap.admin_email"),
                ("POLYSTATUS_ADMIN_PASSWORD", "bootstrap.admin_password"),
            ],
        )?;
        settings.validate()?;
        Ok(settings)
    }

    /// Refuses settings that cannot work, naming the key.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let bad = |key: &str, why: &str| Err(SettingsError(format!("{key}: {why}")));
        if self.tokens.access_ttl_secs == 0 || self.tokens.access_ttl_secs > 86_400 {
            return bad("tokens.access_ttl_secs", "must be between 1 and 86400");
        }
        if self.tokens.refresh_ttl_secs < self.tokens.access_ttl_secs {
            return bad("tokens.refresh_ttl_secs", "must be at least tokens.access_ttl_secs");
        }
        if self.passwords.max_concurrent_hashes == 0 {
            return bad("passwords.max_concurrent_hashes", "must be at least 1");
        }
        if argon2::Params::new(self.passwords.memory_kib, self.passwords.iterations, self.passwords.parallelism, None)
            .is_err()
        {
            return bad("passwords", "memory_kib, iterations and parallelism are not valid Argon2 parameters");
        }
        if self.login_limits.window_secs == 0 {
            return bad("login_limits.window_secs", "must be at least 1");
        }
        Ok(())
    }
}
