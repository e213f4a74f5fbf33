//! Random tokens (invitations, refresh tokens, API keys) and their stored hashes. These tokens
//! carry 256 bits of randomness, so a plain SHA-256 is the right way to store them: there is
//! nothing to brute-force, and lookups by hash stay O(1).

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use sha2::{Digest, Sha256};

/// `bytes` random bytes, base64url without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // The system RNG failing is unrecoverable; refuse to hand out a predictable token.
    #[allow(clippy::expect_used)]
    SystemRandom::new().fill(&mut buf).expect("the system random number generator failed");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// Hex SHA-256, as stored in place of a token.
pub fn hash(token: &str) -> String {
    platform::hex(&Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_and_different() {
        let (a, b) = (random_token(32), random_token(32));
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert_eq!(hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
