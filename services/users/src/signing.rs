//! The Ed25519 key the users service signs access tokens with, and the token issuer. The key
//! lives in a PEM file (PKCS#8), generated there on first start; its public half is published
//! as a JWKS so other services verify without holding any secret.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::Ed25519KeyPair;
use base64::Engine;
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use platform::auth::{Claims, Principal, PrincipalKind, Role, TokenVerifier};

use crate::settings::TokenSettings;

/// Signs access tokens.
pub struct TokenIssuer {
    key: EncodingKey,
    kid: String,
    jwk: Jwk,
    issuer: String,
    audience: String,
    pub access_ttl_secs: u64,
}

/// A freshly signed access token.
pub struct AccessToken {
    pub token: String,
    pub expires_in: u64,
}

impl TokenIssuer {
    /// Loads the signing key from `settings.signing_key_file`, creating it when absent.
    pub fn load_or_create(settings: &TokenSettings) -> anyhow::Result<Self> {
        let pem = read_or_create_key(&settings.signing_key_file)?;
        let key = EncodingKey::from_ed_pem(pem.as_bytes()).map_err(|e| {
            anyhow::anyhow!("{} is not an Ed25519 PKCS#8 key: {e}", settings.signing_key_file.display())
        })?;
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::EdDSA)?;
        let kid = jwk.thumbprint(ThumbprintHash::SHA256)?;
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        Ok(Self {
            key,
            kid,
            jwk,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            access_ttl_secs: settings.access_ttl_secs,
        })
    }

    /// The public keys, as published at `/.well-known/jwks.json`.
    pub fn jwks(&self) -> JwkSet {
        JwkSet { keys: vec![self.jwk.clone()] }
    }

    /// A verifier that checks tokens against this issuer's own keys (no HTTP round trip).
    pub fn verifier(&self) -> anyhow::Result<TokenVerifier> {
        let key = DecodingKey::from_jwk(&self.jwk)?;
        Ok(TokenVerifier::with_keys(&self.issuer, &self.audience, HashMap::from([(self.kid.clone(), key)])))
    }

    /// Signs an access token for `principal`.
    pub fn issue(&self, id: &str, role: Role, kind: PrincipalKind, name: &str) -> anyhow::Result<AccessToken> {
        let now = chrono::Utc::now().timestamp().max(0) as u64;
        let claims = Claims {
            sub: id.to_string(),
            role,
            kind,
            name: name.to_string(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            exp: now + self.access_ttl_secs,
            jti: uuid::Uuid::new_v4().to_string(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.key)?;
        Ok(AccessToken { token, expires_in: self.access_ttl_secs })
    }

    pub fn issue_for(&self, principal: &Principal) -> anyhow::Result<AccessToken> {
        self.issue(&principal.id, principal.role, principal.kind, &principal.name)
    }
}

/// Reads the PEM key at `path`, or generates one there (mode 0600). Two replicas starting at
/// once both end up with the one file that won the race.
fn read_or_create_key(path: &Path) -> anyhow::Result<String> {
    if let Ok(pem) = std::fs::read_to_string(path) {
        return Ok(pem);
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let pkcs8 = Ed25519KeyPair::generate_pkcs8v1(&SystemRandom::new())
        .map_err(|_| anyhow::anyhow!("could not generate an Ed25519 key"))?;
    let pem = pem_encode("PRIVATE KEY", pkcs8.as_ref());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(pem.as_bytes())?;
            tracing::info!(path = %path.display(), "generated a new token signing key");
            Ok(pem)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(std::fs::read_to_string(path)?),
        Err(e) => Err(anyhow::anyhow!("cannot write the signing key to {}: {e}", path.display())),
    }
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(dir: &Path) -> TokenSettings {
        TokenSettings {
            issuer: "polystatus".into(),
            audience: "polystatus".into(),
            access_ttl_secs: 900,
            refresh_ttl_secs: 3600,
            signing_key_file: dir.join("keys/signing.pem"),
            invite_ttl_secs: 60,
        }
    }

    #[tokio::test]
    async fn a_generated_key_signs_tokens_its_verifier_accepts_and_survives_a_restart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let issuer = TokenIssuer::load_or_create(&settings(dir.path())).expect("key created");
        let token = issuer.issue("u1", Role::Sre, PrincipalKind::User, "Alice").expect("signed");
        let principal = issuer.verifier().expect("verifier").verify(&token.token).await.expect("valid");
        assert_eq!((principal.id.as_str(), principal.role), ("u1", Role::Sre));

        let reloaded = TokenIssuer::load_or_create(&settings(dir.path())).expect("key reloaded");
        assert_eq!(reloaded.kid, issuer.kid, "the same key is read back");
        let jwks = serde_json::to_value(reloaded.jwks()).expect("json");
        assert_eq!(jwks["keys"][0]["kty"], "OKP");
        assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
        assert!(jwks["keys"][0].get("d").is_none(), "no private part is published");
    }
}
