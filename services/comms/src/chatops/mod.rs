//! ChatOps and CI/CD integrations: incidents declared and driven from Slack (slash commands and
//! mentions, each request verified with Slack's signing secret), timelines posted back to the
//! thread an incident started in, and pipeline events from GitHub, GitLab or any CI turned into
//! incidents and release announcements.

pub mod ci;
pub mod command;
pub mod config;
pub mod peers;
pub mod posts;
pub mod runner;
pub mod signing;
pub mod slack;
pub mod store;

use std::time::Duration;

use platform::service_token::ServiceTokenSettings;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct ChatOpsSettings {
    /// The users service, asked who a Slack user is.
    pub users_url: String,
    /// The Slack Web API.
    pub slack_api_url: String,
    /// A slash command's answer is sent within this budget; slower work answers later through
    /// the command's `response_url` (Slack waits 3 seconds).
    pub reply_budget_ms: u64,
    /// Timeout of one call to Slack or a PolyStatus service.
    pub timeout_ms: u64,
    /// Delay before each retry of a Slack message, in milliseconds.
    pub retry_schedule_ms: Vec<u64>,
    pub poll_interval_ms: u64,
    /// Comms' own credentials for the incidents and users services.
    pub token: ServiceTokenSettings,
}

/// What the ChatOps and CI handlers share.
pub struct ChatOps {
    pub slack: slack::SlackApi,
    pub peers: peers::Peers,
    pub reply_budget: Duration,
}
