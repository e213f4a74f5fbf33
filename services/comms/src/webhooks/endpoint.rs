//! A webhook endpoint: where, what it wants, how it is signed, whether it still works.

use platform::events::CloudEvent;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The receiver's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Standard Webhooks: `{type, timestamp, data}`, signed.
    Standard,
    /// A Slack incoming-webhook URL: a Block Kit message.
    Slack,
    /// A Discord webhook URL: an embed.
    Discord,
    /// A Microsoft Teams incoming-webhook URL: a message card.
    Teams,
}

/// The id of the endpoint that carries the SRE channel (`NOTIFICATIONS_SLACK_*`).
pub const SRE_CHANNEL: &str = "sre-slack";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    pub description: String,
    pub kind: Kind,
    /// Event types wanted (`incident.status_changed`, or `incident.*`); empty for all.
    pub event_types: Vec<String>,
    /// Only incidents at least this severe (1 is the worst).
    pub min_severity: Option<u8>,
    /// Only incidents touching one of these services; empty for all.
    pub services: Vec<String>,
    pub secret: String,
    /// The secret before the last rotation, still signing until `previous_secret_expires_at`.
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<i64>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    /// Since when every delivery has failed; `None` while it works.
    pub failing_since: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub created_by: String,
}

impl Endpoint {
    /// Whether this endpoint wants `event`.
    pub fn wants(&self, event: &CloudEvent) -> bool {
        let type_ok = self.event_types.is_empty()
            || self.event_types.iter().any(|t| match t.strip_suffix('*') {
                Some(prefix) => event.event_type.starts_with(prefix),
                None => *t == event.event_type,
            });
        let incident = &event.data["incident"];
        let sev_ok = match (self.min_severity, incident["sev"].as_u64()) {
            (Some(min), Some(sev)) => sev <= u64::from(min),
            _ => true,
        };
        let services_ok = self.services.is_empty()
            || incident["services"].as_array().is_some_and(|s| {
                s.iter().any(|svc| svc.as_str().is_some_and(|n| self.services.iter().any(|w| w == n)))
            });
        type_ok && sev_ok && services_ok
    }

    /// The secrets signing now: the current one, and the previous one during its grace period.
    pub fn signing_secrets(&self, now: i64) -> Vec<&str> {
        let mut secrets = vec![self.secret.as_str()];
        if let (Some(previous), Some(until)) = (&self.previous_secret, self.previous_secret_expires_at)
            && until > now
        {
            secrets.push(previous);
        }
        secrets
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn endpoint() -> Endpoint {
        Endpoint {
            id: "e".into(),
            url: "https://example.com".into(),
            description: String::new(),
            kind: Kind::Standard,
            event_types: vec![],
            min_severity: None,
            services: vec![],
            secret: "whsec_a".into(),
            previous_secret: Some("whsec_b".into()),
            previous_secret_expires_at: Some(100),
            enabled: true,
            disabled_reason: None,
            failing_since: None,
            created_at: 0,
            updated_at: 0,
            created_by: "u".into(),
        }
    }

    fn event(kind: &str, sev: u8, services: &[&str]) -> CloudEvent {
        CloudEvent::new("/t", kind, "INC-1", json!({"incident": {"sev": sev, "services": services}}))
    }

    #[test]
    fn filters_by_type_severity_and_service() {
        let mut e = endpoint();
        assert!(e.wants(&event("incident.created", 4, &[])));
        e.event_types = vec!["incident.status_changed".into(), "announcement.*".into()];
        assert!(!e.wants(&event("incident.created", 1, &[])));
        assert!(e.wants(&event("announcement.published", 1, &[])));
        e.event_types.clear();
        e.min_severity = Some(2);
        assert!(e.wants(&event("incident.created", 1, &[])) && !e.wants(&event("incident.created", 3, &[])));
        e.services = vec!["db".into()];
        assert!(
            e.wants(&event("incident.created", 1, &["api", "db"])) && !e.wants(&event("incident.created", 1, &["api"]))
        );
    }

    #[test]
    fn the_previous_secret_signs_only_during_its_grace_period() {
        let e = endpoint();
        assert_eq!(e.signing_secrets(50), ["whsec_a", "whsec_b"]);
        assert_eq!(e.signing_secrets(100), ["whsec_a"]);
    }
}
