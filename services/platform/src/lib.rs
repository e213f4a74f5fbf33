//! What every PolyStatus service shares, and nothing service-specific.
#![forbid(unsafe_code)]

pub mod auth;
pub mod email;
pub mod error;
pub mod events;
pub mod extract;
pub mod health;
pub mod http_client;
pub mod metrics;
pub mod objects;
pub mod openapi;
pub mod outbox;
pub mod redis;
pub mod request_id;
pub mod server;
pub mod service_token;
pub mod settings;
pub mod shutdown;
pub mod telemetry;
#[cfg(feature = "test-support")]
pub mod testing;

pub use error::{ApiError, FieldError, Fields};

/// Lower-case hexadecimal of `bytes` (digests in keys, ETags and ids).
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_is_two_lower_case_digits_per_byte() {
        assert_eq!(super::hex(&[0x00, 0xab, 0x0f, 0xff]), "00ab0fff");
        assert_eq!(super::hex(&[]), "");
    }
}
