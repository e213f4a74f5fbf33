//! Every Redis key the comms service writes, under one hash tag (`{pub}`): taking in an event
//! marks it seen, updates the projection and appends to the fan-out stream in one script.

#[derive(Debug, Clone)]
pub struct Keys {
    base: String,
}

impl Keys {
    pub fn new(prefix: &str) -> Self {
        Self { base: format!("{}:{{pub}}", prefix.trim_end_matches(':')) }
    }

    /// JSON [`crate::domain::KnownIncident`].
    pub fn incident(&self, id: &str) -> String {
        format!("{}:incident:{id}", self.base)
    }

    /// List of JSON announcements of an incident, oldest first.
    pub fn announcements(&self, id: &str) -> String {
        format!("{}:announcements:{id}", self.base)
    }

    /// Sorted set of known incident ids by `started_at`.
    pub fn incidents(&self) -> String {
        format!("{}:incidents", self.base)
    }

    /// Sorted set of service names (the public components) by first appearance.
    pub fn components(&self) -> String {
        format!("{}:components", self.base)
    }

    /// Marks an event id as taken in (kept a week).
    pub fn seen(&self, event_id: &str) -> String {
        format!("{}:seen:{event_id}", self.base)
    }

    /// Stream of events to fan out to subscribers and webhooks.
    pub fn fanout(&self) -> String {
        format!("{}:fanout", self.base)
    }

    /// Bumped by every change of public data, so replicas know to refresh.
    pub fn version(&self) -> String {
        format!("{}:version", self.base)
    }

    /// JSON webhook [`crate::webhooks::endpoint::Endpoint`].
    pub fn webhook(&self, id: &str) -> String {
        format!("{}:webhook:{id}", self.base)
    }

    /// Sorted set of webhook ids by creation time.
    pub fn webhooks(&self) -> String {
        format!("{}:webhooks", self.base)
    }

    /// JSON [`crate::webhooks::delivery::Delivery`]; kept 30 days once finished.
    pub fn delivery(&self, id: &str) -> String {
        format!("{}:delivery:{id}", self.base)
    }

    /// Sorted set of pending delivery ids by when they are due (epoch milliseconds).
    pub fn deliveries_due(&self) -> String {
        format!("{}:deliveries-due", self.base)
    }

    /// List of the latest delivery attempts of an endpoint, newest first.
    pub fn attempts(&self, endpoint_id: &str) -> String {
        format!("{}:attempts:{endpoint_id}", self.base)
    }

    /// JSON [`crate::email::Subscriber`].
    pub fn subscriber(&self, id: &str) -> String {
        format!("{}:subscriber:{id}", self.base)
    }

    /// A subscriber's token (by hash) → subscriber id.
    pub fn subscriber_token(&self, hash: &str) -> String {
        format!("{}:subscriber-token:{hash}", self.base)
    }

    /// Set of confirmed subscriber ids of a scope (`all` or an incident id).
    pub fn confirmed_subscribers(&self, scope: &str) -> String {
        format!("{}:subscribers:{scope}", self.base)
    }

    /// JSON [`crate::email::Mail`] waiting to be sent.
    pub fn mail(&self, id: &str) -> String {
        format!("{}:mail:{id}", self.base)
    }

    /// Sorted set of mail ids by when they are due (epoch milliseconds).
    pub fn mails_due(&self) -> String {
        format!("{}:mails-due", self.base)
    }

    /// JSON [`crate::domain::Banner`], expiring with it.
    pub fn banner(&self) -> String {
        format!("{}:banner", self.base)
    }

    /// JSON [`crate::chatops::config::SlackConfig`].
    pub fn slack_config(&self) -> String {
        format!("{}:chatops:slack", self.base)
    }

    /// JSON [`crate::chatops::config::SlackLink`] of a Slack user id.
    pub fn slack_link(&self, slack_user: &str) -> String {
        format!("{}:chatops:link:{slack_user}", self.base)
    }

    /// Sorted set of linked Slack user ids by when they were linked.
    pub fn slack_links(&self) -> String {
        format!("{}:chatops:links", self.base)
    }

    /// A Slack user's email as Slack said it, cached for an hour.
    pub fn slack_email(&self, slack_user: &str) -> String {
        format!("{}:chatops:email:{slack_user}", self.base)
    }

    /// Marks a delivery (a Slack event id, a trigger id, a CI delivery id) as taken (a day).
    pub fn chatops_seen(&self, scope: &str, id: &str) -> String {
        format!("{}:chatops:seen:{scope}:{id}", self.base)
    }

    /// JSON [`crate::chatops::config::Thread`]: where an incident's timeline is posted.
    pub fn slack_thread(&self, incident: &str) -> String {
        format!("{}:chatops:thread:{incident}", self.base)
    }

    /// JSON [`crate::chatops::posts::Post`] waiting to be sent to Slack.
    pub fn slack_post(&self, id: &str) -> String {
        format!("{}:chatops:post:{id}", self.base)
    }

    /// Sorted set of Slack post ids by when they are due (epoch milliseconds).
    pub fn slack_posts_due(&self) -> String {
        format!("{}:chatops:posts-due", self.base)
    }

    /// JSON [`crate::chatops::config::CiSource`].
    pub fn ci_source(&self, name: &str) -> String {
        format!("{}:ci:source:{name}", self.base)
    }

    /// Sorted set of CI source names by creation time.
    pub fn ci_sources(&self) -> String {
        format!("{}:ci:sources", self.base)
    }

    /// Set while a CI pipeline (its dedup key) is failing.
    pub fn ci_failing(&self, dedup_key: &str) -> String {
        format!("{}:ci:failing:{dedup_key}", self.base)
    }
}
