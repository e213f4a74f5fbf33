//! The few Slack Web API calls ChatOps makes: `chat.postMessage`, `users.info`, and answers
//! sent later to a command's `response_url`.

use std::time::Duration;

use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
pub enum SlackError {
    /// Worth trying again: no answer, 5xx, or rate limited (`retry_after` seconds when told).
    #[error("Slack did not take it: {reason}")]
    Retryable { reason: String, retry_after: Option<u64> },
    /// Slack refused for good (`channel_not_found`, `invalid_auth`, ...).
    #[error("Slack refused: {0}")]
    Refused(String),
}

#[derive(Clone)]
pub struct SlackApi {
    base_url: String,
    client: reqwest::Client,
}

impl SlackApi {
    pub fn new(base_url: &str, timeout: Duration) -> anyhow::Result<Self> {
        let client = platform::http_client::builder(timeout).build()?;
        Ok(Self { base_url: base_url.trim_end_matches('/').to_string(), client })
    }

    async fn answer(response: Result<reqwest::Response, reqwest::Error>) -> Result<Value, SlackError> {
        let response = response.map_err(|e| SlackError::Retryable { reason: e.to_string(), retry_after: None })?;
        let status = response.status().as_u16();
        let retry_after = crate::webhooks::worker::retry_after_secs(response.headers());
        if status == 429 || status >= 500 {
            return Err(SlackError::Retryable { reason: format!("answered {status}"), retry_after });
        }
        let body: Value = response.json().await.map_err(|e| SlackError::Refused(format!("unreadable answer: {e}")))?;
        if body["ok"].as_bool() == Some(true) {
            return Ok(body);
        }
        let error = body["error"].as_str().unwrap_or("unknown_error").to_string();
        match error.as_str() {
            "ratelimited" | "internal_error" | "fatal_error" | "service_unavailable" | "request_timeout" => {
                Err(SlackError::Retryable { reason: error, retry_after })
            }
            _ => Err(SlackError::Refused(error)),
        }
    }

    /// Posts a message (in a thread when `thread_ts` is given); the new message's `ts`.
    pub async fn post_message(
        &self,
        token: &str,
        channel: &str,
        thread_ts: Option<&str>,
        text: &str,
    ) -> Result<String, SlackError> {
        let mut body = json!({"channel": channel, "text": text, "unfurl_links": false});
        if let Some(ts) = thread_ts {
            body["thread_ts"] = json!(ts);
        }
        let answer = self.call(token, "chat.postMessage", &body).await?;
        Ok(answer["ts"].as_str().unwrap_or_default().to_string())
    }

    /// Posts a message only `user` sees; its `message_ts`.
    pub async fn post_ephemeral(
        &self,
        token: &str,
        channel: &str,
        user: &str,
        thread_ts: Option<&str>,
        text: &str,
    ) -> Result<String, SlackError> {
        let mut body = json!({"channel": channel, "user": user, "text": text});
        if let Some(ts) = thread_ts {
            body["thread_ts"] = json!(ts);
        }
        let answer = self.call(token, "chat.postEphemeral", &body).await?;
        Ok(answer["message_ts"].as_str().unwrap_or_default().to_string())
    }

    async fn call(&self, token: &str, method: &str, body: &Value) -> Result<Value, SlackError> {
        let sent = self.client.post(format!("{}/{method}", self.base_url)).bearer_auth(token).json(body).send().await;
        Self::answer(sent).await
    }

    /// A Slack user's email (needs the `users:read.email` scope); `None` when Slack has none.
    pub async fn user_email(&self, token: &str, user: &str) -> Result<Option<String>, SlackError> {
        let user: String = url::form_urlencoded::byte_serialize(user.as_bytes()).collect();
        let sent = self.client.get(format!("{}/users.info?user={user}", self.base_url)).bearer_auth(token).send().await;
        let answer = Self::answer(sent).await?;
        Ok(answer["user"]["profile"]["email"].as_str().map(str::to_ascii_lowercase).filter(|e| e.contains('@')))
    }

    /// Sends a command's answer to its `response_url` (valid 30 minutes, 5 uses).
    pub async fn respond(&self, response_url: &str, message: &Value) -> Result<(), SlackError> {
        let sent = self.client.post(response_url).json(message).send().await;
        let response = sent.map_err(|e| SlackError::Retryable { reason: e.to_string(), retry_after: None })?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(SlackError::Refused(format!("response_url answered {}", response.status())))
        }
    }
}

/// Slack mrkdwn treats `&`, `<` and `>` as control characters.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
