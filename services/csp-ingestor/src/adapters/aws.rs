//! AWS Health Dashboard `currentevents` (an array of open events; served as UTF-16 with a byte
//! order mark, though copies are often UTF-8) and the legacy `{archive, current}` status data.
//! Status codes: 1 informational, 2 degraded, 3 disruption.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::event::{EventUpdate, Impact, ParseError, ProviderEvent};

/// The text of a payload in UTF-16 (either byte order, with its mark) or UTF-8 (with or
/// without a mark).
pub fn decode(bytes: &[u8]) -> Result<String, ParseError> {
    let utf16 = |le: bool, body: &[u8]| {
        if !body.len().is_multiple_of(2) {
            return Err(ParseError::NotJson("UTF-16 text with an odd number of bytes".into()));
        }
        let units: Vec<u16> = body
            .chunks_exact(2)
            .map(|p| if le { u16::from_le_bytes([p[0], p[1]]) } else { u16::from_be_bytes([p[0], p[1]]) })
            .collect();
        String::from_utf16(&units).map_err(|_| ParseError::NotJson("invalid UTF-16".into()))
    };
    match bytes {
        [0xFF, 0xFE, rest @ ..] => utf16(true, rest),
        [0xFE, 0xFF, rest @ ..] => utf16(false, rest),
        [0xEF, 0xBB, 0xBF, rest @ ..] => {
            String::from_utf8(rest.to_vec()).map_err(|_| ParseError::NotJson("invalid UTF-8".into()))
        }
        _ => String::from_utf8(bytes.to_vec())
            .map_err(|_| ParseError::NotJson("neither UTF-8 nor UTF-16 with a mark".into())),
    }
}

pub fn parse(bytes: &[u8]) -> Result<Vec<ProviderEvent>, ParseError> {
    let text = decode(bytes)?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| ParseError::NotJson(e.to_string()))?;
    let items: Vec<&Value> = match &doc {
        Value::Array(items) => items.iter().collect(),
        Value::Object(o) if o.contains_key("archive") || o.contains_key("current") => o
            .get("current")
            .and_then(Value::as_array)
            .into_iter()
            .chain(o.get("archive").and_then(Value::as_array))
            .flatten()
            .collect(),
        _ => return Err(ParseError::UnknownShape("expected currentevents (an array) or {archive, current}".into())),
    };
    Ok(items.into_iter().filter(|i| i.is_object()).map(event).collect())
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().trim().to_string()
}

/// Epoch seconds given as a number or a string.
fn epoch(v: &Value) -> Option<DateTime<Utc>> {
    let secs = v.as_i64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))?;
    DateTime::from_timestamp(secs, 0)
}

fn impact(code: &Value) -> Impact {
    match code.as_i64().or_else(|| code.as_str().and_then(|s| s.trim().parse().ok())) {
        Some(3) => Impact::Critical,
        Some(2) => Impact::Major,
        _ => Impact::Minor,
    }
}

fn event(v: &Value) -> ProviderEvent {
    let summary = text(&v["summary"]);
    let resolved = summary.to_ascii_uppercase().starts_with("[RESOLVED]");
    let mut updates: Vec<EventUpdate> = v["event_log"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| EventUpdate {
            at: epoch(&u["timestamp"]),
            status: text(&u["status"]).to_ascii_lowercase(),
            body: text(&u["message"]),
        })
        .collect();
    if updates.is_empty() && v["description"].is_string() {
        updates.push(EventUpdate { at: epoch(&v["date"]), status: String::new(), body: text(&v["description"]) });
    }
    updates.sort_by_key(|u| u.at);
    let mut components = vec![text(&v["service_name"])];
    for impacted in v["impacted_services"].as_object().into_iter().flat_map(|o| o.values()) {
        let name = text(&impacted["service_name"]);
        if !name.is_empty() && !components.contains(&name) {
            components.push(name);
        }
    }
    components.retain(|c| !c.is_empty());
    let arn = text(&v["arn"]);
    let region = arn.split(':').nth(3).filter(|r| !r.is_empty()).map(str::to_string);
    let started_at = epoch(&v["date"]);
    let updated_at = updates.iter().filter_map(|u| u.at).max().or(started_at);
    ProviderEvent {
        external_id: if arn.is_empty() { format!("{}@{}", text(&v["service"]), text(&v["date"])) } else { arn },
        title: summary.trim_start_matches("[RESOLVED]").trim().to_string(),
        status: if resolved { "resolved".into() } else { "open".into() },
        impact: impact(&v["status"]),
        components,
        regions: region.into_iter().collect(),
        started_at,
        updated_at,
        ended_at: if resolved { updated_at } else { None },
        url: None,
        updates,
    }
}
