//! ChatOps and CI data in the comms store.

use redis::AsyncCommands;

use super::config::{CiSource, SlackConfig, SlackLink, Thread};
use super::posts::Post;
use crate::store::{RedisStore, StoreError};

type Result<T> = std::result::Result<T, StoreError>;

/// How long a delivery id (Slack event, trigger, CI delivery) is remembered.
const SEEN_SECS: u64 = 86_400;
/// How long a Slack user's email, as Slack gave it, is trusted.
const EMAIL_SECS: u64 = 3_600;

impl RedisStore {
    async fn get_json<T: serde::de::DeserializeOwned>(&self, key: String) -> Result<Option<T>> {
        let raw: Option<String> = self.conn().get(key).await?;
        Ok(raw.map(|r| serde_json::from_str(&r)).transpose()?)
    }

    pub async fn slack_config(&self) -> Result<Option<SlackConfig>> {
        self.get_json(self.keys.slack_config()).await
    }

    pub async fn save_slack_config(&self, config: &SlackConfig) -> Result<()> {
        let _: () = self.conn().set(self.keys.slack_config(), serde_json::to_string(config)?).await?;
        Ok(())
    }

    pub async fn slack_link(&self, slack_user: &str) -> Result<Option<SlackLink>> {
        self.get_json(self.keys.slack_link(slack_user)).await
    }

    pub async fn save_slack_link(&self, link: &SlackLink) -> Result<()> {
        let _: () = redis::pipe()
            .atomic()
            .set(self.keys.slack_link(&link.slack_user), serde_json::to_string(link)?)
            .ignore()
            .zadd(self.keys.slack_links(), &link.slack_user, link.created_at)
            .ignore()
            .del(self.keys.slack_email(&link.slack_user))
            .ignore()
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    pub async fn delete_slack_link(&self, slack_user: &str) -> Result<bool> {
        let (removed,): (i64,) = redis::pipe()
            .atomic()
            .del(self.keys.slack_link(slack_user))
            .zrem(self.keys.slack_links(), slack_user)
            .ignore()
            .query_async(&mut self.conn())
            .await?;
        Ok(removed == 1)
    }

    pub async fn slack_links(&self) -> Result<Vec<SlackLink>> {
        let ids: Vec<String> = self.conn().zrange(self.keys.slack_links(), 0, -1).await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = ids.iter().map(|id| self.keys.slack_link(id)).collect();
        let raws: Vec<Option<String>> = self.conn().mget(keys).await?;
        Ok(raws.into_iter().flatten().filter_map(|r| serde_json::from_str(&r).ok()).collect())
    }

    pub async fn cached_slack_email(&self, slack_user: &str) -> Result<Option<String>> {
        Ok(self.conn().get(self.keys.slack_email(slack_user)).await?)
    }

    pub async fn cache_slack_email(&self, slack_user: &str, email: &str) -> Result<()> {
        let _: () = self.conn().set_ex(self.keys.slack_email(slack_user), email, EMAIL_SECS).await?;
        Ok(())
    }

    /// True the first time a delivery id is seen in `scope` (for a day).
    pub async fn first_delivery(&self, scope: &str, id: &str) -> Result<bool> {
        let set: Option<String> = redis::cmd("SET")
            .arg(self.keys.chatops_seen(scope, id))
            .arg(1)
            .arg("NX")
            .arg("EX")
            .arg(SEEN_SECS)
            .query_async(&mut self.conn())
            .await?;
        Ok(set.is_some())
    }

    /// Forgets a delivery id whose work could not be done, so the sender's retry is taken.
    pub async fn forget_delivery(&self, scope: &str, id: &str) -> Result<()> {
        let _: () = self.conn().del(self.keys.chatops_seen(scope, id)).await?;
        Ok(())
    }

    pub async fn slack_thread(&self, incident: &str) -> Result<Option<Thread>> {
        self.get_json(self.keys.slack_thread(incident)).await
    }

    /// Records where an incident's timeline is posted.
    pub async fn save_slack_thread(&self, incident: &str, thread: &Thread) -> Result<()> {
        let _: () = self.conn().set(self.keys.slack_thread(incident), serde_json::to_string(thread)?).await?;
        Ok(())
    }

    pub async fn delete_slack_thread(&self, incident: &str) -> Result<()> {
        let _: () = self.conn().del(self.keys.slack_thread(incident)).await?;
        Ok(())
    }

    /// Queues a Slack message (once per id) due at `due_ms`.
    pub async fn enqueue_post(&self, post: &Post, due_ms: i64) -> Result<bool> {
        let json = serde_json::to_string(post)?;
        self.enqueue_due(self.keys.slack_post(&post.id), self.keys.slack_posts_due(), &post.id, json, due_ms).await
    }

    pub async fn claim_posts(&self, now_ms: i64, limit: usize, visibility_ms: i64) -> Result<Vec<Post>> {
        self.claim_due(self.keys.slack_posts_due(), self.keys.slack_post(""), now_ms, limit, visibility_ms).await
    }

    /// Sent or given up (`None`: kept a day for inspection), or to retry at `retry_at_ms`.
    pub async fn finish_post(&self, post: &Post, retry_at_ms: Option<i64>) -> Result<()> {
        let mut pipe = redis::pipe();
        pipe.atomic().set(self.keys.slack_post(&post.id), serde_json::to_string(post)?).ignore();
        match retry_at_ms {
            Some(at) => pipe.zadd(self.keys.slack_posts_due(), &post.id, at).ignore(),
            None => pipe
                .zrem(self.keys.slack_posts_due(), &post.id)
                .ignore()
                .expire(self.keys.slack_post(&post.id), 86_400)
                .ignore(),
        };
        let _: () = pipe.query_async(&mut self.conn()).await?;
        Ok(())
    }

    pub async fn ci_source(&self, name: &str) -> Result<Option<CiSource>> {
        self.get_json(self.keys.ci_source(name)).await
    }

    pub async fn save_ci_source(&self, source: &CiSource) -> Result<()> {
        let _: () = redis::pipe()
            .atomic()
            .set(self.keys.ci_source(&source.name), serde_json::to_string(source)?)
            .ignore()
            .zadd(self.keys.ci_sources(), &source.name, source.created_at)
            .ignore()
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    pub async fn delete_ci_source(&self, name: &str) -> Result<bool> {
        let (removed,): (i64,) = redis::pipe()
            .atomic()
            .del(self.keys.ci_source(name))
            .zrem(self.keys.ci_sources(), name)
            .ignore()
            .query_async(&mut self.conn())
            .await?;
        Ok(removed == 1)
    }

    pub async fn ci_sources(&self) -> Result<Vec<CiSource>> {
        let names: Vec<String> = self.conn().zrange(self.keys.ci_sources(), 0, -1).await?;
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = names.iter().map(|n| self.keys.ci_source(n)).collect();
        let raws: Vec<Option<String>> = self.conn().mget(keys).await?;
        Ok(raws.into_iter().flatten().filter_map(|r| serde_json::from_str(&r).ok()).collect())
    }

    pub async fn mark_ci_failing(&self, dedup_key: &str) -> Result<()> {
        let _: () = self.conn().set(self.keys.ci_failing(dedup_key), chrono::Utc::now().timestamp()).await?;
        Ok(())
    }

    /// Clears a failing mark; whether there was one.
    pub async fn clear_ci_failing(&self, dedup_key: &str) -> Result<bool> {
        let removed: i64 = self.conn().del(self.keys.ci_failing(dedup_key)).await?;
        Ok(removed == 1)
    }
}
