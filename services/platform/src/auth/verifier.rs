//! Access-token verification: EdDSA only, `kid` required, `exp`/`iss`/`aud` checked.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::{Claims, Principal};
use crate::error::ApiError;
use crate::settings::AuthSettings;

/// Checks access tokens. Built once per app and shared.
#[derive(Clone)]
pub struct TokenVerifier {
    validation: Arc<Validation>,
    keys: KeySource,
    verified: Arc<RwLock<HashMap<String, Verified>>>,
}

/// A token already checked, kept until it expires so the signature is checked once per token
/// rather than once per request.
#[derive(Clone)]
struct Verified {
    principal: Principal,
    exp: u64,
}

/// How many verified tokens are remembered; past that the memory starts over.
const VERIFIED_CAPACITY: usize = 10_000;

#[derive(Clone)]
enum KeySource {
    /// The users service checks tokens with the keys it signs with.
    Fixed(Arc<HashMap<String, DecodingKey>>),
    /// Every other service fetches them from the users service.
    Jwks(Arc<JwksCache>),
}

struct JwksCache {
    url: String,
    client: reqwest::Client,
    keys: RwLock<HashMap<String, DecodingKey>>,
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
    min_refetch: Duration,
}

impl TokenVerifier {
    /// Verifies with known keys, by key id.
    pub fn with_keys(issuer: &str, audience: &str, keys: HashMap<String, DecodingKey>) -> Self {
        Self {
            validation: Arc::new(validation(issuer, audience)),
            keys: KeySource::Fixed(Arc::new(keys)),
            verified: Arc::default(),
        }
    }

    /// Verifies with the key set published at `settings.jwks_url`, fetched when a token names a
    /// key not seen yet, at most once every `jwks_refetch_min_secs`.
    pub fn with_jwks(settings: &AuthSettings) -> Self {
        let client =
            crate::http_client::builder(Duration::from_millis(settings.jwks_timeout_ms)).build().unwrap_or_default();
        let cache = JwksCache {
            url: settings.jwks_url.clone(),
            client,
            keys: RwLock::new(HashMap::new()),
            last_fetch: tokio::sync::Mutex::new(None),
            min_refetch: Duration::from_secs(settings.jwks_refetch_min_secs),
        };
        Self {
            validation: Arc::new(validation(&settings.issuer, &settings.audience)),
            keys: KeySource::Jwks(Arc::new(cache)),
            verified: Arc::default(),
        }
    }

    /// The caller a token speaks for, or why it is refused.
    pub async fn verify(&self, token: &str) -> Result<Principal, ApiError> {
        let now = now_secs();
        if let Some(hit) = self.verified.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(token)
            && hit.exp > now
        {
            return Ok(hit.principal.clone());
        }
        let (principal, exp) = self.verify_signed(token).await?;
        let mut verified = self.verified.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if verified.len() >= VERIFIED_CAPACITY {
            verified.retain(|_, v| v.exp > now);
            if verified.len() >= VERIFIED_CAPACITY {
                verified.clear();
            }
        }
        verified.insert(token.to_string(), Verified { principal: principal.clone(), exp });
        Ok(principal)
    }

    /// Checks the signature and claims of a token.
    async fn verify_signed(&self, token: &str) -> Result<(Principal, u64), ApiError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| ApiError::invalid_token("malformed token"))?;
        if header.alg != Algorithm::EdDSA {
            return Err(ApiError::invalid_token("unsupported signing algorithm"));
        }
        let kid = header.kid.ok_or_else(|| ApiError::invalid_token("token has no key id"))?;
        let key = match &self.keys {
            KeySource::Fixed(keys) => {
                keys.get(&kid).cloned().ok_or_else(|| ApiError::invalid_token("unknown key id"))?
            }
            KeySource::Jwks(cache) => cache.key(&kid).await?,
        };
        let data = jsonwebtoken::decode::<Claims>(token, &key, &self.validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            ApiError::invalid_token(match e.kind() {
                ErrorKind::ExpiredSignature => "token expired",
                ErrorKind::InvalidAudience => "token is for another audience",
                ErrorKind::InvalidIssuer => "token from an unknown issuer",
                ErrorKind::InvalidSignature => "bad signature",
                _ => "invalid token",
            })
        })?;
        let exp = data.claims.exp;
        Ok((Principal::from_claims(data.claims, token), exp))
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn validation(issuer: &str, audience: &str) -> Validation {
    let mut v = Validation::new(Algorithm::EdDSA);
    v.set_issuer(&[issuer]);
    v.set_audience(&[audience]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    v.leeway = 30;
    v
}

impl JwksCache {
    async fn key(&self, kid: &str) -> Result<DecodingKey, ApiError> {
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        let mut last_fetch = self.last_fetch.lock().await;
        // Another request may have refreshed the set while this one waited.
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        if last_fetch.is_some_and(|t| t.elapsed() < self.min_refetch) {
            return Err(ApiError::invalid_token("unknown key id"));
        }
        *last_fetch = Some(Instant::now());
        let set = self.fetch().await.map_err(|e| ApiError::unavailable("identity provider (JWKS)", e))?;
        let keys: HashMap<String, DecodingKey> = set
            .keys
            .iter()
            .filter_map(|jwk| Some((jwk.common.key_id.clone()?, DecodingKey::from_jwk(jwk).ok()?)))
            .collect();
        let found = keys.get(kid).cloned();
        *self.keys.write().unwrap_or_else(std::sync::PoisonError::into_inner) = keys;
        found.ok_or_else(|| ApiError::invalid_token("unknown key id"))
    }

    fn cached(&self, kid: &str) -> Option<DecodingKey> {
        self.keys.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(kid).cloned()
    }

    async fn fetch(&self) -> anyhow::Result<JwkSet> {
        let response = crate::http_client::forward_request_id(self.client.get(&self.url)).send().await?;
        Ok(response.error_for_status()?.json::<JwkSet>().await?)
    }
}
