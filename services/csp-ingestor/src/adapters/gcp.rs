//! Google Cloud Service Health `incidents.json`: an array of incidents; `end` says whether one
//! is over.

use serde_json::Value;

use crate::event::{EventUpdate, Impact, ParseError, ProviderEvent, time};

const BASE: &str = "https://status.cloud.google.com/";

pub fn parse(bytes: &[u8]) -> Result<Vec<ProviderEvent>, ParseError> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| ParseError::NotJson(e.to_string()))?;
    let incidents = doc.as_array().ok_or_else(|| ParseError::UnknownShape("expected an array of incidents".into()))?;
    Ok(incidents.iter().filter(|i| i["id"].is_string()).map(event).collect())
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().trim().to_string()
}

fn event(v: &Value) -> ProviderEvent {
    let ended_at = time(&v["end"]);
    let impact = match v["severity"].as_str().unwrap_or("") {
        "high" => Impact::Critical,
        "medium" => Impact::Major,
        _ => Impact::Minor,
    };
    let mut components: Vec<String> = v["affected_products"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| text(&p["title"]))
        .filter(|t| !t.is_empty())
        .collect();
    if components.is_empty() && v["service_name"].is_string() {
        components.push(text(&v["service_name"]));
    }
    let locations =
        if ended_at.is_some() { &v["previously_affected_locations"] } else { &v["currently_affected_locations"] };
    let regions: Vec<String> =
        locations.as_array().into_iter().flatten().map(|l| text(&l["id"])).filter(|r| !r.is_empty()).collect();
    let mut updates: Vec<EventUpdate> = v["updates"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| EventUpdate {
            at: time(&u["when"]),
            status: text(&u["status"]).to_ascii_lowercase(),
            body: text(&u["text"]),
        })
        .collect();
    updates.sort_by_key(|u| u.at);
    let status =
        if ended_at.is_some() { "resolved".to_string() } else { text(&v["status_impact"]).to_ascii_lowercase() };
    ProviderEvent {
        external_id: text(&v["id"]),
        title: text(&v["external_desc"]),
        status,
        impact,
        components,
        regions,
        started_at: time(&v["begin"]),
        updated_at: time(&v["modified"]),
        ended_at,
        url: v["uri"].as_str().map(|u| format!("{BASE}{}", u.trim_start_matches('/'))),
        updates,
    }
}
