//! Request ids: taken from `x-request-id` when the caller sends a sane one, minted otherwise,
//! echoed on the response, attached to every log line of the request, and forwarded on outbound
//! calls made while handling it (see [`crate::http_client`]).

use std::fmt;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use tracing::Instrument;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// Accepts ids of 1 to 128 visible ASCII characters; anything else is replaced, so a caller
    /// cannot inject into logs or headers.
    pub fn from_header(value: Option<&HeaderValue>) -> Self {
        value
            .and_then(|v| v.to_str().ok())
            .filter(|s| !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic()))
            .map_or_else(Self::mint, |s| Self(s.to_string()))
    }

    /// An id given by a caller, if it is acceptable (see [`RequestId::from_header`]).
    pub fn parse(s: &str) -> Option<Self> {
        HeaderValue::from_str(s).ok().map(|v| Self::from_header(Some(&v))).filter(|id| id.0 == s)
    }

    pub fn mint() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

tokio::task_local! {
    static CURRENT: RequestId;
}

/// The id of the request this task is serving, if any.
pub fn current() -> Option<RequestId> {
    CURRENT.try_with(Clone::clone).ok()
}

/// Runs `work` as part of request `id`: its logs and outbound calls carry the id. For work
/// that continues a request elsewhere (a background job, a relayed event).
pub async fn scope<F: std::future::Future>(id: RequestId, work: F) -> F::Output {
    CURRENT.scope(id, work).await
}

impl FromRequest for RequestId {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let id = req.extensions().get::<RequestId>().cloned().unwrap_or_else(RequestId::mint);
        std::future::ready(Ok(id))
    }
}

/// Middleware: assigns the request id, opens the request's span, logs the outcome once.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = RequestId::from_header(req.headers().get(HEADER));
    req.extensions_mut().insert(id.clone());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.path(),
    );
    let started = Instant::now();
    let quiet = req.path().starts_with("/health") || req.path() == "/metrics";
    let header_value = HeaderValue::from_str(id.as_str()).ok();
    let result = CURRENT.scope(id, next.call(req)).instrument(span.clone()).await;
    let _entered = span.enter();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    match result {
        Ok(mut res) => {
            if let Some(err) = res.response().error() {
                crate::error::log_server_error(err);
            }
            let status = res.status().as_u16();
            if quiet {
                tracing::debug!(status, elapsed_ms, "request completed");
            } else {
                tracing::info!(status, elapsed_ms, "request completed");
            }
            if let Some(v) = header_value {
                res.headers_mut().insert(HEADER, v);
            }
            Ok(res)
        }
        Err(err) => {
            crate::error::log_server_error(&err);
            tracing::info!(status = err.as_response_error().status_code().as_u16(), elapsed_ms, "request failed");
            Err(err)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sane_ids_are_kept_and_others_replaced() {
        let kept = RequestId::from_header(Some(&HeaderValue::from_static("abc-123")));
        assert_eq!(kept.as_str(), "abc-123");
        let long = "x".repeat(129);
        let replaced = RequestId::from_header(Some(&HeaderValue::from_str(&long).expect("header")));
        assert_ne!(replaced.as_str(), long);
        let spaced = RequestId::from_header(Some(&HeaderValue::from_static("a b")));
        assert_ne!(spaced.as_str(), "a b");
        assert_eq!(RequestId::from_header(None).as_str().len(), 36);
    }
}
