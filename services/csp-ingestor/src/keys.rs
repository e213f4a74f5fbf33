//! Every Redis key the ingestor writes. They share one hash tag (`{csp}`): a poll writes its
//! events, their indexes and their outbox entries in one transaction, and under Redis Cluster one
//! transaction must stay in one slot.

#[derive(Debug, Clone)]
pub struct Keys {
    base: String,
}

impl Keys {
    pub fn new(prefix: &str) -> Self {
        Self { base: format!("{}:{{csp}}", prefix.trim_end_matches(':')) }
    }

    /// JSON [`crate::domain::Provider`].
    pub fn provider(&self, name: &str) -> String {
        format!("{}:provider:{name}", self.base)
    }

    /// Sorted set of provider names, scored by creation time (µs).
    pub fn providers(&self) -> String {
        format!("{}:providers", self.base)
    }

    /// JSON [`crate::domain::PollState`].
    pub fn state(&self, name: &str) -> String {
        format!("{}:state:{name}", self.base)
    }

    /// Sorted set of provider names, scored by when each is next due (epoch ms).
    pub fn due(&self) -> String {
        format!("{}:due", self.base)
    }

    /// Held by the replica polling the provider.
    pub fn lease(&self, name: &str) -> String {
        format!("{}:lease:{name}", self.base)
    }

    /// JSON [`crate::domain::StoredEvent`].
    pub fn event(&self, id: &str) -> String {
        format!("{}:event:{id}", self.base)
    }

    /// Set of the ids of active events.
    pub fn active(&self) -> String {
        format!("{}:events:active", self.base)
    }

    /// Sorted set of every event id, scored by its last update.
    pub fn recent(&self) -> String {
        format!("{}:events:recent", self.base)
    }

    /// Set of the event ids of one provider.
    pub fn by_provider(&self, name: &str) -> String {
        format!("{}:events:provider:{name}", self.base)
    }

    /// Hash of a provider's external event id to the fingerprint of what was last stored.
    pub fn fingerprints(&self, name: &str) -> String {
        format!("{}:fingerprints:{name}", self.base)
    }

    /// Sorted set of event ids whose internal incident has work waiting, scored by when queued.
    pub fn sync(&self) -> String {
        format!("{}:sync", self.base)
    }

    /// The internal incident raised from an event, or `pending:<time>` while it is being raised.
    pub fn incident_claim(&self, event_id: &str) -> String {
        format!("{}:incident:{event_id}", self.base)
    }

    /// JSON [`crate::domain::IncidentSync`].
    pub fn incident_sync(&self, event_id: &str) -> String {
        format!("{}:isync:{event_id}", self.base)
    }

    /// Hash of internal service name to JSON [`crate::domain::InternalService`].
    pub fn services(&self) -> String {
        format!("{}:services", self.base)
    }

    /// Set of `incident|event` pairs already linked at the incidents service.
    pub fn linked(&self) -> String {
        format!("{}:linked", self.base)
    }

    /// Stream of CloudEvents waiting for the relay.
    pub fn outbox(&self) -> String {
        format!("{}:outbox", self.base)
    }
}
