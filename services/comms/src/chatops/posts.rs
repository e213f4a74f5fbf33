//! Messages ChatOps sends to Slack with the bot token, queued in Redis so none is lost to a
//! restart or a Slack outage: incidents' timelines in their threads, the first message of each
//! thread, CI failures and deploy announcements. One worker sends them in the order they were
//! queued, retrying on the schedule.

use std::sync::Arc;
use std::time::Duration;

use platform::events::CloudEvent;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::config::Thread;
use super::slack::{SlackApi, SlackError, escape};
use crate::store::RedisStore;
use crate::webhooks::worker::{now_ms, retry_at_ms};

/// A thread whose first message is still queued: its posts wait for it.
pub const PENDING_TS: &str = "";
/// How long a post waits for its thread's first message before it is given up.
const THREAD_WAIT_SECS: i64 = 600;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    pub id: String,
    pub channel: String,
    /// In the thread of this incident (looked up when sent).
    pub in_thread_of: Option<String>,
    /// In this thread of `channel` (a reply to a mention).
    pub thread_ts: Option<String>,
    /// Shown only to this Slack user (an ephemeral message).
    pub only_for: Option<String>,
    /// Becomes the thread of this incident once sent.
    pub starts_thread_of: Option<String>,
    pub text: String,
    pub attempts: u32,
    pub created_at: i64,
    pub last_error: Option<String>,
}

impl Post {
    pub fn new(id: String, channel: &str, text: String) -> Self {
        Self {
            id,
            channel: channel.to_string(),
            in_thread_of: None,
            thread_ts: None,
            only_for: None,
            starts_thread_of: None,
            text,
            attempts: 0,
            created_at: chrono::Utc::now().timestamp(),
            last_error: None,
        }
    }
}

/// What an incident event says in its thread; `None` for events the thread does not show.
pub fn thread_line(event: &CloudEvent) -> Option<String> {
    if event.event_type == "announcement.published" {
        let a = &event.data["announcement"];
        return Some(format!(
            ":loudspeaker: *Public update* ({}): {}",
            a["state"].as_str().unwrap_or("?"),
            escape(a["message"].as_str().unwrap_or(""))
        ));
    }
    if !event.event_type.starts_with("incident.") || event.event_type == "incident.created" {
        return None;
    }
    let entry = &event.data["entry"];
    let message = escape(entry["message"].as_str().unwrap_or("").trim());
    let who = entry["actor"]["name"].as_str().map(|n| format!(" — {}", escape(n))).unwrap_or_default();
    let line = match event.event_type.as_str() {
        "incident.status_changed" => format!(
            ":arrows_counterclockwise: *Status* {} → {}{who}",
            entry["from"].as_str().unwrap_or("?"),
            entry["to"].as_str().unwrap_or("?")
        ),
        "incident.assigned" => format!(":bust_in_silhouette: {message}{who}"),
        "incident.postmortem_published" => format!(":page_facing_up: Postmortem published{who}"),
        _ if message.is_empty() => return None,
        _ => format!(":memo: {message}{who}"),
    };
    Some(line)
}

#[derive(Clone)]
pub struct Poster {
    store: RedisStore,
    api: SlackApi,
    schedule: Arc<Vec<u64>>,
    poll: Duration,
}

impl Poster {
    pub fn new(store: RedisStore, api: SlackApi, schedule: Vec<u64>, poll: Duration) -> Self {
        Self { store, api, schedule: Arc::new(schedule), poll }
    }

    /// Sends due posts until `stop`.
    pub async fn run(self, stop: CancellationToken) {
        while !stop.is_cancelled() {
            let claimed = match self.store.claim_posts(now_ms(), 50, 60_000).await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "Slack posts paused");
                    Vec::new()
                }
            };
            if claimed.is_empty() {
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(self.poll) => {}
                }
                continue;
            }
            // One at a time: a thread reads in the order things happened.
            for post in claimed {
                if let Err(e) = self.send(post).await {
                    tracing::warn!(error = %e, "Slack post not recorded; it will be retried");
                }
            }
        }
    }

    async fn send(&self, mut post: Post) -> anyhow::Result<()> {
        let config = self.store.slack_config().await?.filter(|c| c.enabled && !c.bot_token.is_empty());
        let Some(config) = config else {
            post.last_error = Some("Slack is not configured with a bot token".into());
            return Ok(self.store.finish_post(&post, None).await?);
        };
        let thread = match &post.in_thread_of {
            Some(incident) => match self.store.slack_thread(incident).await? {
                Some(t) if t.ts == PENDING_TS => {
                    // The thread's first message is not out yet: come back shortly (for a while).
                    let waited = chrono::Utc::now().timestamp() - post.created_at;
                    if waited > THREAD_WAIT_SECS {
                        post.last_error = Some("the thread's first message never went out".into());
                        return Ok(self.store.finish_post(&post, None).await?);
                    }
                    return Ok(self.store.finish_post(&post, Some(now_ms() + 500)).await?);
                }
                Some(t) => Some(t),
                None => None,
            },
            None => None,
        };
        let (channel, thread_ts) = match &thread {
            Some(t) => (t.channel.as_str(), Some(t.ts.as_str())),
            None => (post.channel.as_str(), post.thread_ts.as_deref()),
        };
        post.attempts += 1;
        let sent = match &post.only_for {
            Some(user) => self.api.post_ephemeral(&config.bot_token, channel, user, thread_ts, &post.text).await,
            None => self.api.post_message(&config.bot_token, channel, thread_ts, &post.text).await,
        };
        let retry_at = match sent {
            Ok(ts) => {
                if let Some(incident) = &post.starts_thread_of {
                    let thread = Thread { channel: channel.to_string(), ts };
                    self.store.save_slack_thread(incident, &thread).await?;
                }
                post.last_error = None;
                None
            }
            Err(e) => {
                post.last_error = Some(e.to_string());
                match e {
                    SlackError::Retryable { retry_after, .. } => {
                        retry_at_ms(&self.schedule, post.attempts, retry_after)
                    }
                    SlackError::Refused(_) => None,
                }
            }
        };
        if retry_at.is_none() && post.last_error.is_some() {
            if let Some(incident) = &post.starts_thread_of {
                // No thread after all: later timeline posts are not held back for it.
                self.store.delete_slack_thread(incident).await?;
            }
            tracing::warn!(post = %post.id, error = ?post.last_error, "Slack post given up");
        }
        self.store.finish_post(&post, retry_at).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(kind: &str, entry: serde_json::Value) -> CloudEvent {
        CloudEvent::new(
            "/polystatus/incidents",
            kind,
            "INC-4F2A9C",
            json!({"incident": {"id": "INC-4F2A9C"}, "entry": entry}),
        )
    }

    #[test]
    fn thread_lines_say_what_changed_and_who_changed_it() {
        let changed = event(
            "incident.status_changed",
            json!({"type": "status", "message": "", "from": "open", "to": "mitigated", "actor": {"name": "Ann"}}),
        );
        assert_eq!(thread_line(&changed).as_deref(), Some(":arrows_counterclockwise: *Status* open → mitigated — Ann"));
        let noted =
            event("incident.timeline_added", json!({"type": "note", "message": "a <b> & c", "actor": {"name": "Bob"}}));
        assert_eq!(thread_line(&noted).as_deref(), Some(":memo: a &lt;b&gt; &amp; c — Bob"));
        assert_eq!(thread_line(&event("incident.created", json!({}))), None, "the thread's first message says it");
        assert_eq!(thread_line(&event("incident.updated", json!({"message": " "}))), None);
        let provider = CloudEvent::new("/polystatus/csp-ingestor", "csp.event.detected", "aws.1", json!({}));
        assert_eq!(thread_line(&provider), None);
    }
}
