//! status.io public status (`api.status.io/1.0/status/<page>`, used by GitLab and Docker):
//! incidents, and active and upcoming maintenances. Status codes: 100 operational, 200 planned
//! maintenance, 300 degraded performance, 400 partial disruption, 500 disruption, 600 security.

use serde_json::Value;

use crate::event::{EventUpdate, Impact, ParseError, ProviderEvent, time};

pub fn parse(bytes: &[u8]) -> Result<Vec<ProviderEvent>, ParseError> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| ParseError::NotJson(e.to_string()))?;
    let result = &doc["result"];
    if !result.is_object() || !result["status_overall"].is_object() {
        return Err(ParseError::UnknownShape("expected a status.io result with status_overall".into()));
    }
    let mut events: Vec<ProviderEvent> =
        result["incidents"].as_array().into_iter().flatten().map(|i| event(i, false)).collect();
    for (list, state) in [("active", "in progress"), ("upcoming", "scheduled")] {
        for m in result["maintenance"][list].as_array().into_iter().flatten() {
            let mut e = event(m, true);
            e.status = state.into();
            events.push(e);
        }
    }
    Ok(events)
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().trim().to_string()
}

fn impact(code: i64) -> Impact {
    match code {
        500.. => Impact::Critical,
        400..500 => Impact::Major,
        _ => Impact::Minor,
    }
}

fn event(v: &Value, maintenance: bool) -> ProviderEvent {
    let mut updates: Vec<EventUpdate> = v["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| EventUpdate {
            at: time(&m["datetime"]),
            status: m["state"].as_i64().map(|s| s.to_string()).unwrap_or_else(|| text(&m["state"])),
            body: text(&m["details"]),
        })
        .collect();
    updates.sort_by_key(|u| u.at);
    let worst =
        v["messages"].as_array().into_iter().flatten().filter_map(|m| m["status"].as_i64()).max().unwrap_or(300);
    let names = |key: &str| -> Vec<String> {
        v[key].as_array().into_iter().flatten().map(|c| text(&c["name"])).filter(|n| !n.is_empty()).collect()
    };
    let mut components = names("components_affected");
    components.extend(names("containers_affected"));
    ProviderEvent {
        external_id: text(&v["_id"]),
        title: text(&v["name"]),
        status: "investigating".into(),
        impact: if maintenance { Impact::Maintenance } else { impact(worst) },
        components,
        regions: Vec::new(),
        started_at: time(&v["datetime_planned_start"]).or_else(|| time(&v["datetime_open"])),
        updated_at: updates.iter().filter_map(|u| u.at).max().or_else(|| time(&v["datetime_open"])),
        ended_at: None,
        url: None,
        updates,
    }
}
