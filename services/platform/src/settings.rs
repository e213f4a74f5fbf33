//! Typed settings: commented TOML defaults compiled into each service, an optional file, then
//! environment variables (`USERS__SERVER__PORT=9000`), which win. Secrets are `SecretString`, so
//! printing a settings value never shows them.

use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Reads a service's settings: the built-in `defaults` (its `config/base.toml`), then the file
/// named by `{PREFIX}CONFIG_FILE` when set, then the shared `REDIS_URL` and `LOG_FORMAT`
/// variables and the service's own `aliases` (variable name, setting key), then every
/// `{PREFIX}SECTION__KEY` variable.
pub fn load<T: DeserializeOwned>(
    defaults: &str,
    env_prefix: &str,
    aliases: &[(&str, &str)],
) -> Result<T, SettingsError> {
    let mut figment = Figment::new().merge(Toml::string(defaults));
    if let Ok(path) = std::env::var(format!("{env_prefix}CONFIG_FILE")) {
        figment = figment.merge(Toml::file_exact(path));
    }
    let shared = [("REDIS_URL", "redis.url"), ("LOG_FORMAT", "log.format")];
    for (var, key) in shared.iter().chain(aliases) {
        let key = key.to_string();
        figment = figment.merge(Env::raw().only(&[var]).map(move |_| key.clone().into()));
    }
    figment.merge(Env::prefixed(env_prefix).split("__")).extract().map_err(|e| SettingsError(e.to_string()))
}

/// A setting is missing, has the wrong type or fails validation.
#[derive(Debug, thiserror::Error)]
#[error("invalid settings: {0}")]
pub struct SettingsError(pub String);

/// Where and how a service listens.
#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    /// 0 picks a free port (tests).
    pub port: u16,
    /// Largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// How long in-flight requests get to finish after a stop signal.
    pub shutdown_timeout_secs: u64,
    /// Base URL the service is reached at, for links it hands out. Empty: `http://host:port`.
    #[serde(default)]
    pub public_url: String,
}

impl ServerSettings {
    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(self.shutdown_timeout_secs)
    }
}

/// The Redis a service keeps its data in.
#[derive(Debug, Clone, Deserialize)]
pub struct RedisSettings {
    /// May carry a password, so it is a secret.
    pub url: SecretString,
    /// Prepended to every key the service writes (`users:`). Tests give each instance its own.
    pub key_prefix: String,
    pub connect_timeout_ms: u64,
    pub response_timeout_ms: u64,
}

impl RedisSettings {
    pub fn url(&self) -> &str {
        self.url.expose_secret()
    }
}

/// How a service checks the access tokens it is given.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    /// Where the users service publishes its public keys.
    pub jwks_url: String,
    pub issuer: String,
    pub audience: String,
    /// An unknown `kid` refetches the key set at most this often.
    pub jwks_refetch_min_secs: u64,
    /// Timeout of one key-set request.
    pub jwks_timeout_ms: u64,
}

/// Log output.
#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    /// `pretty` for people, `json` for machines.
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Sample {
        server: ServerSettings,
        redis: RedisSettings,
    }

    const DEFAULTS: &str = r#"
        [server]
        host = "127.0.0.1"
        port = 8080
        body_limit_bytes = 65536
        shutdown_timeout_secs = 10
        [redis]
        url = "redis://127.0.0.1:6379"
        key_prefix = "sample:"
        connect_timeout_ms = 1000
        response_timeout_ms = 1000
    "#;

    #[test]
    fn defaults_load_and_secrets_do_not_print() {
        let s: Sample = load(DEFAULTS, "PLATFORM_SETTINGS_TEST_NONE__", &[]).expect("defaults load");
        assert_eq!(s.server.port, 8080);
        assert_eq!(s.redis.url(), "redis://127.0.0.1:6379");
        assert!(!format!("{s:?}").contains("6379"), "the Redis URL is a secret");
    }

    #[test]
    fn a_wrong_type_names_the_key() {
        let err =
            load::<Sample>(&DEFAULTS.replace("8080", "\"eighty\""), "X__", &[]).expect_err("a string port is refused");
        assert!(err.to_string().contains("port"), "{err}");
    }
}
