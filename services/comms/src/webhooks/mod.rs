//! Outbound webhooks: endpoints, Standard Webhooks signing, fan-out and delivery with retries.

pub mod delivery;
pub mod endpoint;
pub mod network;
pub mod payload;
pub mod signing;
pub mod store;
pub mod worker;
