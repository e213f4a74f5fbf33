//! CloudEvents 1.0 (structured JSON mode): what services tell each other about changes.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A CloudEvents 1.0 event in structured JSON form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CloudEvent {
    /// Always `1.0`.
    pub specversion: String,
    /// Unique per event: receivers deduplicate by it.
    pub id: String,
    /// The service that produced it, e.g. `/polystatus/incidents`.
    pub source: String,
    /// e.g. `incident.status_changed`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// RFC 3339.
    pub time: String,
    /// What it is about, e.g. the incident id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub datacontenttype: String,
    pub data: serde_json::Value,
}

impl CloudEvent {
    /// A new event with a fresh id and the current time.
    pub fn new(source: &str, event_type: &str, subject: impl Into<String>, data: serde_json::Value) -> Self {
        Self {
            specversion: "1.0".into(),
            id: uuid::Uuid::now_v7().to_string(),
            source: source.into(),
            event_type: event_type.into(),
            time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            subject: Some(subject.into()),
            datacontenttype: "application/json".into(),
            data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_cloudevents_1_0() {
        let e = CloudEvent::new("/polystatus/test", "thing.happened", "T-1", serde_json::json!({"a": 1}));
        let v = serde_json::to_value(&e).expect("json");
        assert_eq!(v["specversion"], "1.0");
        assert_eq!(v["type"], "thing.happened");
        assert!(v["time"].as_str().is_some_and(|t| t.len() == 24 && t.ends_with('Z')), "{v}");
    }
}
