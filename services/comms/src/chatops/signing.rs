//! Checks that inbound requests come from who they say: Slack request signing, GitHub's
//! `X-Hub-Signature-256` and GitLab's `X-Gitlab-Token`. Every comparison takes the same time
//! whatever the bytes, so a forger learns nothing from timing.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Slack refuses requests older than this, and so do we (replays of captured requests).
pub const SLACK_MAX_AGE_SECS: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the {0} header is missing")]
    Missing(&'static str),
    #[error("the request timestamp is not a number")]
    BadTimestamp,
    #[error("the request is more than 5 minutes old or in the future")]
    Stale,
    #[error("the signature does not match")]
    Mismatch,
}

fn hmac_sha256(secret: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Equal bytes, compared in constant time.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Slack's `X-Slack-Signature` for a request: `v0=` + hex(HMAC-SHA256(secret, "v0:{ts}:{body}")).
pub fn slack_signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mac = hmac_sha256(secret.as_bytes(), &[b"v0:", timestamp.as_bytes(), b":", body]);
    format!("v0={}", platform::hex(&mac))
}

/// Verifies a Slack request's `X-Slack-Request-Timestamp` and `X-Slack-Signature` at `now`.
pub fn verify_slack(
    secret: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let timestamp = timestamp.ok_or(SignatureError::Missing("X-Slack-Request-Timestamp"))?.trim();
    let signature = signature.ok_or(SignatureError::Missing("X-Slack-Signature"))?.trim();
    let sent: i64 = timestamp.parse().map_err(|_| SignatureError::BadTimestamp)?;
    if (now - sent).abs() > SLACK_MAX_AGE_SECS {
        return Err(SignatureError::Stale);
    }
    let expected = slack_signature(secret, timestamp, body);
    if same(expected.as_bytes(), signature.as_bytes()) { Ok(()) } else { Err(SignatureError::Mismatch) }
}

/// GitHub's `X-Hub-Signature-256` for a body: `sha256=` + hex(HMAC-SHA256(secret, body)).
pub fn github_signature(secret: &str, body: &[u8]) -> String {
    format!("sha256={}", platform::hex(&hmac_sha256(secret.as_bytes(), &[body])))
}

pub fn verify_github(secret: &str, signature: Option<&str>, body: &[u8]) -> Result<(), SignatureError> {
    let signature = signature.ok_or(SignatureError::Missing("X-Hub-Signature-256"))?.trim();
    let expected = github_signature(secret, body);
    if same(expected.as_bytes(), signature.as_bytes()) { Ok(()) } else { Err(SignatureError::Mismatch) }
}

/// GitLab sends the secret itself in `X-Gitlab-Token`.
pub fn verify_token(secret: &str, header: &'static str, token: Option<&str>) -> Result<(), SignatureError> {
    let token = token.ok_or(SignatureError::Missing(header))?.trim();
    if same(secret.as_bytes(), token.as_bytes()) { Ok(()) } else { Err(SignatureError::Mismatch) }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The published vectors (VECTORS.md).
    const SLACK_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const SLACK_TS: &str = "1531420618";
    const SLACK_BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SLACK_SIGNATURE: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    #[test]
    fn slack_reproduces_the_published_vector() {
        assert_eq!(slack_signature(SLACK_SECRET, SLACK_TS, SLACK_BODY.as_bytes()), SLACK_SIGNATURE);
        let at = 1_531_420_618 + 60;
        assert_eq!(
            verify_slack(SLACK_SECRET, Some(SLACK_TS), Some(SLACK_SIGNATURE), SLACK_BODY.as_bytes(), at),
            Ok(())
        );
    }

    #[test]
    fn slack_refuses_stale_tampered_and_incomplete_requests() {
        let body = SLACK_BODY.as_bytes();
        let now = 1_531_420_618;
        let verify =
            |ts: Option<&str>, sig: Option<&str>, body: &[u8], now: i64| verify_slack(SLACK_SECRET, ts, sig, body, now);
        assert_eq!(verify(Some(SLACK_TS), Some(SLACK_SIGNATURE), body, now + 301), Err(SignatureError::Stale));
        assert_eq!(verify(Some(SLACK_TS), Some(SLACK_SIGNATURE), body, now - 301), Err(SignatureError::Stale));
        assert_eq!(verify(Some(SLACK_TS), Some(SLACK_SIGNATURE), b"token=other", now), Err(SignatureError::Mismatch));
        assert_eq!(verify(Some(SLACK_TS), Some(&SLACK_SIGNATURE[..20]), body, now), Err(SignatureError::Mismatch));
        assert_eq!(verify(Some(SLACK_TS), Some("v0="), body, now), Err(SignatureError::Mismatch));
        assert_eq!(
            verify(None, Some(SLACK_SIGNATURE), body, now),
            Err(SignatureError::Missing("X-Slack-Request-Timestamp"))
        );
        assert_eq!(verify(Some(SLACK_TS), None, body, now), Err(SignatureError::Missing("X-Slack-Signature")));
        assert_eq!(verify(Some("soon"), Some(SLACK_SIGNATURE), body, now), Err(SignatureError::BadTimestamp));
        assert_eq!(
            verify_slack("another-secret", Some(SLACK_TS), Some(SLACK_SIGNATURE), body, now),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn github_reproduces_the_published_vector() {
        let expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(github_signature("It's a Secret to Everybody", b"Hello, World!"), expected);
        assert_eq!(verify_github("It's a Secret to Everybody", Some(expected), b"Hello, World!"), Ok(()));
        assert_eq!(
            verify_github("It's a Secret to Everybody", Some(expected), b"Hello, World?"),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_github("It's a Secret to Everybody", Some("sha256="), b"Hello, World!"),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_github("It's a Secret to Everybody", None, b"Hello, World!"),
            Err(SignatureError::Missing("X-Hub-Signature-256"))
        );
    }

    #[test]
    fn tokens_must_match_exactly() {
        assert_eq!(verify_token("s3cret-token", "X-Gitlab-Token", Some("s3cret-token")), Ok(()));
        assert_eq!(verify_token("s3cret-token", "X-Gitlab-Token", Some("s3cret-toke")), Err(SignatureError::Mismatch));
        assert_eq!(
            verify_token("s3cret-token", "X-Gitlab-Token", None),
            Err(SignatureError::Missing("X-Gitlab-Token"))
        );
    }
}
