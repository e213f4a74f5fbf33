//! Every Redis key the incidents service writes. They all share one hash tag (`{inc}`): a change
//! writes the incident, its timeline entry, its outbox event and the index updates in one
//! script, and under Redis Cluster one script must stay in one slot.

use crate::domain::{IncidentId, Severity, Status};

#[derive(Debug, Clone)]
pub struct Keys {
    base: String,
}

impl Keys {
    pub fn new(prefix: &str) -> Self {
        Self { base: format!("{}:{{inc}}", prefix.trim_end_matches(':')) }
    }

    /// JSON [`crate::domain::Incident`].
    pub fn incident(&self, id: &IncidentId) -> String {
        format!("{}:incident:{id}", self.base)
    }

    /// Stream of timeline entries of one incident.
    pub fn timeline(&self, id: &IncidentId) -> String {
        format!("{}:timeline:{id}", self.base)
    }

    /// Stream of CloudEvents waiting for the relay.
    pub fn outbox(&self) -> String {
        format!("{}:outbox", self.base)
    }

    /// Counter handing out creation sequence numbers.
    pub fn seq(&self) -> String {
        format!("{}:seq", self.base)
    }

    /// Open incident raised by an alert, by deduplication key.
    pub fn dedup(&self, key: &str) -> String {
        format!("{}:dedup:{key}", self.base)
    }

    /// Sorted set of every incident id, scored by creation sequence.
    pub fn all(&self) -> String {
        format!("{}:idx:all", self.base)
    }

    /// Sorted set of every incident id, scored by `started_at`.
    pub fn started(&self) -> String {
        format!("{}:idx:started", self.base)
    }

    pub fn by_status(&self, status: Status) -> String {
        format!("{}:idx:status:{status}", self.base)
    }

    pub fn by_sev(&self, sev: Severity) -> String {
        format!("{}:idx:sev:{}", self.base, sev.get())
    }

    pub fn by_service(&self, service: &str) -> String {
        format!("{}:idx:service:{service}", self.base)
    }

    pub fn by_commander(&self, user: &str) -> String {
        format!("{}:idx:commander:{user}", self.base)
    }

    pub fn by_follower(&self, user: &str) -> String {
        format!("{}:idx:follower:{user}", self.base)
    }
}
