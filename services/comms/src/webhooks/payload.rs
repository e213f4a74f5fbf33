//! What is sent to an endpoint for an event, in its kind's format.

use platform::events::CloudEvent;
use serde_json::{Value, json};

use super::endpoint::Kind;

/// One line saying what happened, for chat messages.
pub fn headline(event: &CloudEvent) -> String {
    let incident = &event.data["incident"];
    let id = incident["id"].as_str().or(event.subject.as_deref()).unwrap_or("");
    let title = incident["title"].as_str().unwrap_or("");
    let sev = incident["sev"].as_u64().map(|s| format!("[SEV{s}] ")).unwrap_or_default();
    let what = match event.event_type.as_str() {
        "incident.created" => "declared".to_string(),
        "incident.status_changed" => format!(
            "{} → {}",
            event.data["entry"]["from"].as_str().unwrap_or("?"),
            event.data["entry"]["to"].as_str().unwrap_or("?")
        ),
        "incident.assigned" => format!("commander: {}", event.data["entry"]["to"].as_str().unwrap_or("?")),
        "announcement.published" => format!(
            "public update ({}): {}",
            event.data["announcement"]["state"].as_str().unwrap_or("?"),
            event.data["announcement"]["message"].as_str().unwrap_or("")
        ),
        other => other.to_string(),
    };
    format!("{sev}{id} {title} — {what}").trim().to_string()
}

fn colour(event: &CloudEvent) -> u32 {
    match event.data["incident"]["sev"].as_u64() {
        Some(1) => 0xD9_30_25,
        Some(2) => 0xF2_8C_28,
        Some(_) => 0xF2_C9_4C,
        None => 0x3B_82_F6,
    }
}

/// The request body for `event` at an endpoint of `kind`.
pub fn body(kind: Kind, event: &CloudEvent, link: Option<&str>) -> Value {
    let text = headline(event);
    match kind {
        Kind::Standard => json!({"type": event.event_type, "timestamp": event.time, "data": event.data}),
        Kind::Slack => {
            let mut blocks = vec![
                json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("*{}*", escape_slack(&text))}}),
            ];
            let incident = &event.data["incident"];
            if incident.is_object() {
                let field = |label: &str, value: &str| json!({"type": "mrkdwn", "text": format!("*{label}*\n{}", escape_slack(value))});
                let sev = incident["sev"].as_u64().map_or("?".to_string(), |s| format!("SEV{s}"));
                let services: Vec<&str> = incident["services"]
                    .as_array()
                    .map(|s| s.iter().filter_map(|v| v.as_str()).collect())
                    .unwrap_or_default();
                let services = if services.is_empty() { "-".to_string() } else { services.join(", ") };
                blocks.push(json!({"type": "section", "fields": [
                    field("Severity", &sev),
                    field("Status", incident["status"].as_str().unwrap_or("?")),
                    field("Commander", incident["commander"].as_str().unwrap_or("nobody yet")),
                    field("Services", &services),
                ]}));
            }
            if let Some(link) = link {
                blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": format!("<{link}|Open in PolyStatus>")}]}));
            }
            json!({"text": text, "blocks": blocks})
        }
        Kind::Discord => {
            json!({"content": Value::Null, "embeds": [{"title": text, "url": link, "color": colour(event), "timestamp": event.time}]})
        }
        Kind::Teams => json!({
            "@type": "MessageCard", "@context": "https://schema.org/extensions", "summary": text,
            "themeColor": format!("{:06X}", colour(event)), "title": text,
            "potentialAction": link.map(|l| vec![json!({"@type": "OpenUri", "name": "Open", "targets": [{"os": "default", "uri": l}]})]).unwrap_or_default(),
        }),
    }
}

/// Slack mrkdwn treats `&`, `<` and `>` as control characters.
fn escape_slack(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
