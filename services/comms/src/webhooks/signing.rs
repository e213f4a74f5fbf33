//! Standard Webhooks v1 signatures: `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")),
//! the key being the secret without its `whsec_` prefix, base64-decoded.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const SECRET_PREFIX: &str = "whsec_";

/// A new secret: `whsec_` and 24 random bytes in base64.
pub fn new_secret() -> String {
    use aws_lc_rs::rand::{SecureRandom, SystemRandom};
    let mut bytes = [0u8; 24];
    // A failing system RNG must not hand out a guessable signing secret.
    #[allow(clippy::expect_used)]
    SystemRandom::new().fill(&mut bytes).expect("the system random number generator failed");
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// The `webhook-signature` value for one secret.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, String> {
    let key = STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .map_err(|_| "the secret is not base64".to_string())?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| "unusable secret".to_string())?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Ok(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

/// Checks a `webhook-signature` header (space-separated `v1,<sig>` values) as a receiver does,
/// refusing timestamps more than 5 minutes from `now`.
pub fn verify(secret: &str, id: &str, timestamp: i64, body: &[u8], header: &str, now: i64) -> bool {
    if (now - timestamp).abs() > 300 {
        return false;
    }
    let Ok(expected) = sign(secret, id, timestamp, body) else { return false };
    header.split(' ').any(|candidate| {
        candidate.len() == expected.len()
            && candidate.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The published Standard Webhooks vectors.
    const VECTORS: [(&str, &str, i64, &str, &str); 2] = [
        (
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1649367553,
            r#"{"email":"test@example.com","username":"test_user"}"#,
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
        ),
        (
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ),
    ];

    #[test]
    fn signatures_match_the_published_vectors() {
        for (secret, id, ts, body, expected) in VECTORS {
            assert_eq!(sign(secret, id, ts, body.as_bytes()).as_deref(), Ok(expected));
            assert!(verify(secret, id, ts, body.as_bytes(), expected, ts));
        }
    }

    #[test]
    fn verification_fails_where_the_specification_says_it_must() {
        let (secret, id, ts, body, good) = VECTORS[0];
        let body = body.as_bytes();
        assert!(!verify(secret, id, ts, body, "v1,", ts), "a bare v1,");
        assert!(!verify(secret, id, ts, body, &good[..good.len() - 4], ts), "truncated");
        assert!(!verify(secret, id, ts, body, "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=", ts), "no match");
        assert!(!verify(secret, "", ts, body, good, ts), "missing id");
        assert!(!verify(secret, id, ts, body, "", ts), "missing signature");
        assert!(!verify(secret, id, ts, body, good, ts + 301), "too old");
        assert!(!verify(secret, id, ts, body, good, ts - 301), "too new");
        assert!(verify(secret, id, ts, body, &format!("v1,bm9wZQ== {good}"), ts), "any of several signatures");
    }

    #[test]
    fn new_secrets_are_prefixed_and_distinct() {
        let (a, b) = (new_secret(), new_secret());
        assert!(a.starts_with(SECRET_PREFIX) && a != b);
        assert_eq!(STANDARD.decode(&a[SECRET_PREFIX.len()..]).map(|k| k.len()), Ok(24));
    }
}
