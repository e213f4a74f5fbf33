//! Sends queued mails: over SMTP, or into a directory as `.eml` files.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;

use super::{EmailSettings, Mail};
use crate::store::RedisStore;

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Directory(PathBuf),
}

#[derive(Clone)]
pub struct MailSender {
    store: RedisStore,
    transport: Arc<Transport>,
    settings: Arc<EmailSettings>,
}

impl MailSender {
    pub fn new(store: RedisStore, settings: EmailSettings) -> anyhow::Result<Self> {
        let url = settings.smtp_url.expose_secret();
        let transport = if url.is_empty() {
            Transport::Directory(settings.outbox_dir.clone())
        } else {
            let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map_err(|e| anyhow::anyhow!("email.smtp_url: {e}"))?
                .timeout(Some(Duration::from_secs(10)))
                .build();
            Transport::Smtp(transport)
        };
        settings.from.parse::<lettre::message::Mailbox>().map_err(|e| anyhow::anyhow!("email.from: {e}"))?;
        Ok(Self { store, transport: Arc::new(transport), settings: Arc::new(settings) })
    }

    fn message(&self, mail: &Mail) -> anyhow::Result<Message> {
        Ok(Message::builder()
            .from(self.settings.from.parse()?)
            .to(mail.to.parse()?)
            .subject(&mail.subject)
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{}>", mail.unsubscribe_url),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".into(),
            ))
            .body(mail.text.clone())?)
    }

    async fn send(&self, mail: &Mail) -> anyhow::Result<()> {
        let message = self.message(mail)?;
        match self.transport.as_ref() {
            Transport::Smtp(smtp) => {
                smtp.send(message).await?;
            }
            Transport::Directory(dir) => {
                tokio::fs::create_dir_all(dir).await?;
                let file = dir.join(format!("{}.eml", mail.id.replace(['/', '\\'], "_")));
                tokio::fs::write(&file, message.formatted()).await?;
                tracing::info!(file = %file.display(), subject = %mail.subject, "no SMTP server configured; mail written to the outbox");
            }
        }
        Ok(())
    }

    /// Sends due mails until `stop`, retrying failures on the schedule.
    pub async fn run(self, stop: CancellationToken) {
        while !stop.is_cancelled() {
            let now = chrono::Utc::now().timestamp_millis();
            let due = match self.store.claim_mails(now, self.settings.concurrency * 4, 60_000).await {
                Ok(due) => due,
                Err(e) => {
                    tracing::warn!(error = %e, "mail queue paused");
                    Vec::new()
                }
            };
            if due.is_empty() {
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_millis(200)) => {}
                }
                continue;
            }
            futures_util::stream::iter(due)
                .for_each_concurrent(self.settings.concurrency, |mut mail| {
                    let this = self.clone();
                    async move {
                        let outcome = this.send(&mail).await;
                        mail.attempts += 1;
                        let schedule = &this.settings.retry_schedule_ms;
                        let retry_at = match &outcome {
                            Ok(()) => None,
                            Err(e) => {
                                tracing::warn!(mail = %mail.id, attempt = mail.attempts, error = %e, "mail not sent");
                                schedule
                                    .get(mail.attempts as usize - 1)
                                    .map(|delay| chrono::Utc::now().timestamp_millis() + *delay as i64)
                            }
                        };
                        if let Err(e) = this.store.finish_mail(&mail, retry_at).await {
                            tracing::warn!(mail = %mail.id, error = %e, "mail state not saved; it will be retried");
                        }
                    }
                })
                .await;
        }
    }
}
