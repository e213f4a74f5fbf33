//! What is sent to an endpoint for an event, in its kind's format.

use platform::events::CloudEvent;
use serde_json::{Value, json};

use super::endpoint::Kind;
use crate::chatops::slack::escape;

/// One line saying what happened, for chat messages.
pub fn headline(event: &CloudEvent) -> String {
    if let Some(verb) = event.event_type.strip_prefix("csp.event.") {
        // A cloud provider's status event, from the csp-ingestor.
        let e = &event.data["event"];
        let provider = event.data["provider"]["display_name"].as_str().or(e["provider"].as_str()).unwrap_or("?");
        let impact = e["impact"].as_str().map(|i| format!("[{}] ", i.to_uppercase())).unwrap_or_default();
        let title = e["title"].as_str().unwrap_or("");
        let status = e["status"].as_str().unwrap_or("?");
        return format!("{impact}{provider}: {title} — {verb} ({status})");
    }
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
            let mut blocks =
                vec![json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("*{}*", escape(&text))}})];
            let incident = &event.data["incident"];
            if incident.is_object() {
                let field = |label: &str, value: &str| json!({"type": "mrkdwn", "text": format!("*{label}*\n{}", escape(value))});
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_events_read_as_the_provider_and_its_event() {
        let event = CloudEvent::new(
            "/polystatus/csp-ingestor",
            "csp.event.detected",
            "cloudflare.abc",
            json!({"event": {"provider": "cloudflare", "title": "CDN errors", "status": "investigating", "impact": "major"},
                   "provider": {"name": "cloudflare", "display_name": "Cloudflare"}}),
        );
        assert_eq!(headline(&event), "[MAJOR] Cloudflare: CDN errors — detected (investigating)");
    }
}
