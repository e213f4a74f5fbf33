//! Outbound HTTP: every client has timeouts, follows no redirects, and forwards the request id
//! of the request being served.

use std::time::Duration;

use crate::request_id::{self, HEADER};

/// A client builder with the platform's defaults: `timeout` for the whole call, no redirects.
pub fn builder(timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("PolyStatus/", env!("CARGO_PKG_VERSION")))
}

/// Adds the current request id (if this task is serving a request) to an outbound request.
pub fn forward_request_id(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    match request_id::current() {
        Some(id) => request.header(HEADER.as_str(), id.as_str()),
        None => request,
    }
}
