//! The mails PolyStatus sends.

use platform::events::CloudEvent;

use super::{Mail, Subscriber};

/// What mails need to know about the page.
#[derive(Debug, Clone)]
pub struct Composer {
    pub page_name: String,
    pub public_url: String,
}

impl Composer {
    fn unsubscribe_url(&self, s: &Subscriber) -> String {
        format!("{}/api/v1/subscriptions/unsubscribe?token={}", self.public_url, s.token)
    }

    fn footer(&self, s: &Subscriber) -> String {
        format!(
            "\n\n--\nYou receive this because {} subscribed to {} status updates.\nUnsubscribe: {}\n",
            s.email,
            self.page_name,
            self.unsubscribe_url(s)
        )
    }

    pub fn confirmation(&self, s: &Subscriber) -> Mail {
        let what = match &s.incident_id {
            Some(id) => format!("updates about incident {id}"),
            None => "status updates".to_string(),
        };
        let text = format!(
            "Please confirm that you want {what} from {} by opening this link:\n\n{}/api/v1/subscriptions/confirm?token={}\n\nIf you did not ask for this, ignore this mail: nothing will be sent.{}",
            self.page_name,
            self.public_url,
            s.token,
            self.footer(s)
        );
        Mail {
            id: format!("confirm-{}-{}", s.id, uuid::Uuid::now_v7().simple()),
            to: s.email.clone(),
            subject: format!("Confirm your subscription to {} status", self.page_name),
            text,
            unsubscribe_url: self.unsubscribe_url(s),
            attempts: 0,
        }
    }

    /// The mail for an `announcement.published` event, or `None` for anything else.
    pub fn announcement(&self, event: &CloudEvent, s: &Subscriber) -> Option<Mail> {
        if event.event_type != "announcement.published" {
            return None;
        }
        let a = &event.data["announcement"];
        let incident = &event.data["incident"];
        let (id, title) = (a["incident_id"].as_str()?, incident["title"].as_str().unwrap_or(""));
        let state = a["state"].as_str().unwrap_or("update");
        let text = format!(
            "{title}\n\n{}: {}\n\nFollow it: {}/api/v1/public/incidents/{id}{}",
            capitalise(state),
            a["message"].as_str().unwrap_or(""),
            self.public_url,
            self.footer(s)
        );
        Some(Mail {
            id: format!("{}-{}", event.id, s.id),
            to: s.email.clone(),
            subject: format!("[{} status] {title}: {state}", self.page_name),
            text,
            unsubscribe_url: self.unsubscribe_url(s),
            attempts: 0,
        })
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}
