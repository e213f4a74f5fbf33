//! PolyStatus users and identity service: accounts, roles, sign-in, access and refresh tokens,
//! API keys, and the JWKS every other service verifies tokens with.
#![forbid(unsafe_code)]

pub mod bootstrap;
pub mod domain;
pub mod keys;
pub mod passwords;
pub mod routes;
pub mod secrets;
pub mod settings;
pub mod signing;
pub mod startup;
pub mod state;
pub mod store;
#[cfg(feature = "test-support")]
pub mod testing;
