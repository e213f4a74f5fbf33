//! Argon2id password hashing, off the async threads and bounded, so a burst of sign-ins can
//! neither stall other requests nor take memory without limit.

use std::sync::Arc;

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::settings::PasswordSettings;

#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// A hash of nothing anyone knows: verifying against it when the account does not exist
    /// takes as long as a real check, so timing does not reveal which emails have accounts.
    decoy: Arc<String>,
}

impl PasswordHasher {
    pub async fn new(settings: &PasswordSettings) -> anyhow::Result<Self> {
        let params = Params::new(settings.memory_kib, settings.iterations, settings.parallelism, None)
            .map_err(|e| anyhow::anyhow!("invalid Argon2 parameters: {e}"))?;
        let mut hasher = Self {
            params,
            permits: Arc::new(Semaphore::new(settings.max_concurrent_hashes)),
            decoy: Arc::new(String::new()),
        };
        hasher.decoy = Arc::new(hasher.hash(&crate::secrets::random_token(16)).await?);
        Ok(hasher)
    }

    fn argon2(params: Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    /// The PHC string of `password`.
    pub async fn hash(&self, password: &str) -> anyhow::Result<String> {
        let _permit = self.permits.acquire().await?;
        let (params, password) = (self.params.clone(), password.to_string());
        tokio::task::spawn_blocking(move || {
            Self::argon2(params)
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
        })
        .await?
    }

    /// Whether `password` matches `hash`; with `None`, checks against the decoy and says no.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> anyhow::Result<bool> {
        let _permit = self.permits.acquire().await?;
        let known = hash.is_some();
        let (password, hash) = (password.to_string(), hash.map_or_else(|| self.decoy.to_string(), str::to_string));
        let params = self.params.clone();
        let matches = tokio::task::spawn_blocking(move || {
            Self::argon2(params).verify_password(password.as_bytes(), hash.as_str()).is_ok()
        })
        .await?;
        Ok(known && matches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordSettings {
        PasswordSettings { memory_kib: 1024, iterations: 1, parallelism: 1, max_concurrent_hashes: 2 }
    }

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let hasher = PasswordHasher::new(&cheap()).await.expect("hasher");
        let hash = hasher.hash("correct horse").await.expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(hasher.verify("correct horse", Some(&hash)).await.expect("verify"));
        assert!(!hasher.verify("wrong horse", Some(&hash)).await.expect("verify"));
        assert!(!hasher.verify("correct horse", None).await.expect("verify"));
    }
}
