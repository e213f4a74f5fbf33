//! A delivery (one event to one endpoint, retried until it lands or gives up) and its attempts.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    Pending,
    Succeeded,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: String,
    /// The `webhook-id` header: the same for every retry and replay of one message.
    pub msg_id: String,
    pub endpoint_id: String,
    pub event_type: String,
    /// The CloudEvent, as JSON.
    pub event: String,
    /// Attempts made so far.
    pub attempts: u32,
    pub state: DeliveryState,
    pub created_at: i64,
}

/// One try at a delivery, for the delivery log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Attempt {
    pub delivery_id: String,
    pub msg_id: String,
    pub event_type: String,
    /// 1 for the first try.
    pub attempt: u32,
    /// Epoch seconds.
    pub ts: i64,
    /// The HTTP status, or null when no answer came.
    pub status_code: Option<u16>,
    pub duration_ms: u64,
    /// succeeded, retrying or failed.
    pub outcome: String,
    pub error: Option<String>,
    /// The start of the response body.
    pub response_excerpt: Option<String>,
}
