//! Every Redis key the flags service writes. They share one hash tag (`{flags}`): a change
//! writes the flag, the version, the audit entry and the outbox event in one script.

#[derive(Debug, Clone)]
pub struct Keys {
    base: String,
}

impl Keys {
    pub fn new(prefix: &str) -> Self {
        Self { base: format!("{}:{{flags}}", prefix.trim_end_matches(':')) }
    }

    /// Hash of flag id to JSON [`crate::domain::Flag`].
    pub fn flags(&self) -> String {
        format!("{}:defs", self.base)
    }

    /// Counter bumped by every change: replicas compare it with what they hold.
    pub fn version(&self) -> String {
        format!("{}:version", self.base)
    }

    /// List of audit entries of one flag, newest first.
    pub fn history(&self, id: &str) -> String {
        format!("{}:history:{id}", self.base)
    }

    /// Stream of CloudEvents waiting for the relay.
    pub fn outbox(&self) -> String {
        format!("{}:outbox", self.base)
    }

    /// Pub/sub channel announcing each new version.
    pub fn channel(&self) -> String {
        format!("{}:changes", self.base)
    }
}
