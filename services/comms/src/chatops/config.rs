//! What admins configure: the Slack app (signing secret, bot token, the channels commands are
//! allowed in), links from Slack users to PolyStatus users, and CI sources with their rules.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The Slack app, as stored. Secrets never leave the service: views say only whether they are set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlackConfig {
    pub enabled: bool,
    pub signing_secret: String,
    /// `xoxb-...`: posts timelines to threads and deploy announcements to channels; reads a
    /// user's email when they have no explicit link. Empty: replies only.
    pub bot_token: String,
    /// Channel ids commands are allowed in. Empty: none.
    pub channels: Vec<String>,
    /// The slash command's name, shown in help (`/incident`).
    pub command: String,
    pub updated_at: i64,
    pub updated_by: String,
}

/// The Slack app as admins see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlackConfigView {
    pub enabled: bool,
    pub signing_secret_set: bool,
    pub bot_token_set: bool,
    #[schema(example = json!(["C024BE91L"]))]
    pub channels: Vec<String>,
    #[schema(example = "/incident")]
    pub command: String,
    pub updated_at: i64,
    pub updated_by: String,
}

impl From<&SlackConfig> for SlackConfigView {
    fn from(c: &SlackConfig) -> Self {
        Self {
            enabled: c.enabled,
            signing_secret_set: !c.signing_secret.is_empty(),
            bot_token_set: !c.bot_token.is_empty(),
            channels: c.channels.clone(),
            command: c.command.clone(),
            updated_at: c.updated_at,
            updated_by: c.updated_by.clone(),
        }
    }
}

/// An explicit link from a Slack user to a PolyStatus user (by email), for people whose Slack
/// email differs from their PolyStatus one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SlackLink {
    #[schema(example = "U024BE7LH")]
    pub slack_user: String,
    #[schema(example = "ann@example.com")]
    pub email: String,
    pub created_at: i64,
    pub created_by: String,
}

/// Where an incident's timeline goes in Slack: a channel and the thread's first message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thread {
    pub channel: String,
    pub ts: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CiKind {
    /// GitHub Actions: `workflow_run` and `deployment_status`, signed with `X-Hub-Signature-256`.
    Github,
    /// GitLab: pipeline and deployment hooks, with the secret in `X-Gitlab-Token`.
    Gitlab,
    /// Any pipeline: a small JSON body, with the secret as a bearer token.
    Generic,
}

/// A CI/CD system that reports here, and what its reports do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CiSource {
    pub name: String,
    pub kind: CiKind,
    pub secret: String,
    /// Runs on these branches are acted on (deploys always are); empty: every branch.
    pub branches: Vec<String>,
    /// A failed run raises (or adds to) an incident; a later success resolves it.
    pub raise_incidents: bool,
    /// Severity of the incidents raised (1 to 4).
    pub sev: u8,
    /// Services the incidents affect.
    pub services: Vec<String>,
    /// Slack channel id for failures and deploy announcements; none: no Slack messages.
    pub slack_channel: Option<String>,
    /// Tell the channel about failed runs (and their recovery).
    pub notify_failures: bool,
    /// Tell the channel about every deploy, successful or not.
    pub announce_deploys: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub updated_by: String,
}

/// A CI source as admins see it (the secret is shown once, when generated).
#[derive(Debug, Serialize, ToSchema)]
pub struct CiSourceView {
    #[schema(example = "web-app")]
    pub name: String,
    pub kind: CiKind,
    /// Where the CI system sends its events.
    #[schema(example = "/api/v1/ci/hooks/web-app")]
    pub webhook_path: String,
    #[schema(example = json!(["main"]))]
    pub branches: Vec<String>,
    pub raise_incidents: bool,
    #[schema(example = 3)]
    pub sev: u8,
    pub services: Vec<String>,
    pub slack_channel: Option<String>,
    pub notify_failures: bool,
    pub announce_deploys: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub updated_by: String,
    /// Only in the answer that generated it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<&CiSource> for CiSourceView {
    fn from(s: &CiSource) -> Self {
        Self {
            name: s.name.clone(),
            kind: s.kind,
            webhook_path: format!("/api/v1/ci/hooks/{}", s.name),
            branches: s.branches.clone(),
            raise_incidents: s.raise_incidents,
            sev: s.sev,
            services: s.services.clone(),
            slack_channel: s.slack_channel.clone(),
            notify_failures: s.notify_failures,
            announce_deploys: s.announce_deploys,
            created_at: s.created_at,
            updated_at: s.updated_at,
            updated_by: s.updated_by.clone(),
            secret: None,
        }
    }
}

impl CiSource {
    /// Whether runs on `branch` are acted on.
    pub fn watches(&self, branch: &str) -> bool {
        self.branches.is_empty() || self.branches.iter().any(|b| b == branch)
    }
}

/// A name usable in a path: 1 to 64 of `a-z 0-9 - _` (upper case is lower-cased), nothing else.
pub fn check_name(raw: &str) -> Result<String, String> {
    let valid =
        !raw.is_empty() && raw.len() <= 64 && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid { Ok(raw.to_ascii_lowercase()) } else { Err("must be 1 to 64 of a-z, 0-9, - and _".into()) }
}

/// A Slack id (user `U...`/`W...`, channel `C...`/`G...`/`D...`): 2 to 32 upper-case letters
/// and digits, nothing else.
pub fn check_slack_id(raw: &str) -> Result<String, String> {
    let valid = (2..=32).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if valid { Ok(raw.to_string()) } else { Err("must be a Slack id like C024BE91L or U024BE7LH".into()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ids_are_checked() {
        assert_eq!(check_name("Web-App"), Ok("web-app".into()));
        assert!(check_name(" web-app").is_err());
        assert!(check_name("web app").is_err());
        assert!(check_name("").is_err());
        assert!(check_name(&"a".repeat(65)).is_err());
        assert_eq!(check_slack_id("C024BE91L"), Ok("C024BE91L".into()));
        assert!(check_slack_id("#general").is_err());
        assert!(check_slack_id("C024BE91L ").is_err());
        assert!(check_slack_id("c024").is_err());
    }
}
