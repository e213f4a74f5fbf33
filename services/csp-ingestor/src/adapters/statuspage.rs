//! Atlassian Statuspage v2 JSON: `summary.json`, `incidents.json`, `incidents/unresolved.json`,
//! `scheduled-maintenances.json`, `status.json`, or a single incident object. incident.io pages
//! speak the same format with fewer fields (no `shortlink`, `started_at`, `resolved_at`...).

use serde_json::Value;

use crate::event::{EventUpdate, Impact, ParseError, ProviderEvent, time};

/// Every incident and maintenance in a Statuspage v2 document.
pub fn parse(bytes: &[u8]) -> Result<Vec<ProviderEvent>, ParseError> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| ParseError::NotJson(e.to_string()))?;
    let object = doc.as_object().ok_or_else(|| ParseError::UnknownShape("expected a JSON object".into()))?;
    let mut events = Vec::new();
    if object.contains_key("incident_updates") && object.contains_key("id") {
        events.push(event(&doc, false));
        return Ok(events);
    }
    let known = ["incidents", "scheduled_maintenances", "status", "components"].iter().any(|k| object.contains_key(*k));
    if !known {
        return Err(ParseError::UnknownShape("no incidents, scheduled_maintenances, status or components".into()));
    }
    for incident in object.get("incidents").and_then(Value::as_array).into_iter().flatten() {
        events.push(event(incident, false));
    }
    for maintenance in object.get("scheduled_maintenances").and_then(Value::as_array).into_iter().flatten() {
        events.push(event(maintenance, true));
    }
    Ok(events)
}

/// The page's overall indicator (`none`, `minor`, `major`, `critical`), when the document has one.
pub fn indicator(bytes: &[u8]) -> Option<String> {
    let doc: Value = serde_json::from_slice(bytes).ok()?;
    doc["status"]["indicator"].as_str().map(str::to_string)
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().trim().to_string()
}

fn event(v: &Value, maintenance: bool) -> ProviderEvent {
    let status = text(&v["status"]).to_ascii_lowercase();
    let finished = matches!(status.as_str(), "resolved" | "postmortem" | "completed");
    let mut updates: Vec<EventUpdate> = v["incident_updates"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| EventUpdate {
            at: time(&u["display_at"]).or_else(|| time(&u["created_at"])),
            status: text(&u["status"]).to_ascii_lowercase(),
            body: text(&u["body"]),
        })
        .collect();
    // Statuspage lists updates newest first; keep them in the order they happened.
    updates.sort_by_key(|u| u.at);
    let mut components: Vec<String> =
        v["components"].as_array().into_iter().flatten().map(|c| text(&c["name"])).collect();
    for update in v["incident_updates"].as_array().into_iter().flatten() {
        for affected in update["affected_components"].as_array().into_iter().flatten() {
            let name = text(&affected["name"]);
            if !name.is_empty() && !components.contains(&name) {
                components.push(name);
            }
        }
    }
    let updated_at = time(&v["updated_at"]);
    let ended_at = if finished {
        time(&v["resolved_at"])
            .or_else(|| updates.iter().rev().find(|u| u.status == status).and_then(|u| u.at))
            .or(updated_at)
    } else {
        None
    };
    ProviderEvent {
        external_id: text(&v["id"]),
        title: text(&v["name"]),
        impact: if maintenance {
            Impact::Maintenance
        } else {
            Impact::from_statuspage(v["impact"].as_str().unwrap_or("minor"))
        },
        status,
        components,
        regions: Vec::new(),
        started_at: time(&v["started_at"]).or_else(|| time(&v["scheduled_for"])).or_else(|| time(&v["created_at"])),
        updated_at,
        ended_at,
        url: v["shortlink"].as_str().map(str::to_string),
        updates,
    }
}
