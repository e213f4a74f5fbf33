//! Slack status API (`slack-status.com/api/v2.0.0/current`): `active_incidents`, each an
//! incident, notice or outage with notes.

use serde_json::Value;

use crate::event::{EventUpdate, Impact, ParseError, ProviderEvent, time};

pub fn parse(bytes: &[u8]) -> Result<Vec<ProviderEvent>, ParseError> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| ParseError::NotJson(e.to_string()))?;
    if !doc["status"].is_string() {
        return Err(ParseError::UnknownShape("expected Slack's current status (status, active_incidents)".into()));
    }
    Ok(doc["active_incidents"].as_array().into_iter().flatten().map(event).collect())
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().trim().to_string()
}

fn event(v: &Value) -> ProviderEvent {
    let status = text(&v["status"]).to_ascii_lowercase();
    let mut updates: Vec<EventUpdate> = v["notes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| EventUpdate { at: time(&n["date_created"]), status: status.clone(), body: text(&n["body"]) })
        .collect();
    updates.sort_by_key(|u| u.at);
    let updated_at = time(&v["date_updated"]);
    ProviderEvent {
        external_id: v["id"].as_i64().map_or_else(|| text(&v["id"]), |n| n.to_string()),
        title: text(&v["title"]),
        impact: match text(&v["type"]).to_ascii_lowercase().as_str() {
            "outage" => Impact::Critical,
            "incident" => Impact::Major,
            _ => Impact::Minor,
        },
        components: v["services"].as_array().into_iter().flatten().map(text).filter(|s| !s.is_empty()).collect(),
        regions: Vec::new(),
        started_at: time(&v["date_created"]),
        updated_at,
        ended_at: if status == "resolved" { updated_at } else { None },
        url: v["url"].as_str().map(str::to_string),
        updates,
        status,
    }
}
