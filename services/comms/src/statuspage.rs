//! The Statuspage v2 read API (`/api/v2/*.json`): the field names and enums Atlassian Statuspage
//! uses, so aggregators and status widgets can follow a PolyStatus page unchanged.

use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::domain::{Announcement, KnownIncident};
use crate::snapshot::{Doc, iso};
use crate::store::PublicData;

pub struct Documents {
    pub summary: Doc,
    pub status: Doc,
    pub incidents: Doc,
    pub unresolved: Doc,
    pub components: Doc,
}

/// A 12-character id like Statuspage's, stable for a given name.
fn short_id(kind: &str, name: &str) -> String {
    let digest = Sha256::digest(format!("{kind}:{name}").as_bytes());
    platform::hex(&digest[..6])
}

/// Statuspage impact of a severity.
pub fn impact(sev: u8) -> &'static str {
    match sev {
        1 => "critical",
        2 => "major",
        _ => "minor",
    }
}

fn impact_rank(impact: &str) -> u8 {
    match impact {
        "critical" => 3,
        "major" => 2,
        "minor" => 1,
        _ => 0,
    }
}

/// Statuspage incident status: resolved when resolved, else the last announced state, else
/// derived from the internal status.
fn incident_status(incident: &KnownIncident, announcements: &[Announcement]) -> &'static str {
    if incident.is_resolved() {
        return "resolved";
    }
    match announcements.last() {
        Some(a) => a.state.as_str(),
        None if incident.status == "mitigated" => "monitoring",
        None => "investigating",
    }
}

fn component_status(worst_sev: Option<u8>) -> &'static str {
    match worst_sev {
        None => "operational",
        Some(1) => "major_outage",
        Some(2) => "partial_outage",
        Some(_) => "degraded_performance",
    }
}

#[derive(Serialize)]
struct Page {
    id: String,
    name: String,
    url: String,
    time_zone: &'static str,
    updated_at: String,
}

pub fn documents(data: &PublicData, page_name: &str, public_url: &str, now: i64) -> Documents {
    let page_id = short_id("page", page_name);
    let last_change = data.incidents.iter().map(|(i, _)| i.updated_at).max().unwrap_or(now);
    let page = Page {
        id: page_id.clone(),
        name: page_name.into(),
        url: public_url.into(),
        time_zone: "Etc/UTC",
        updated_at: iso(last_change),
    };
    let unresolved: Vec<&(KnownIncident, Vec<Announcement>)> =
        data.incidents.iter().filter(|(i, _)| !i.is_resolved()).collect();

    let components: Vec<Value> = data
        .components
        .iter()
        .enumerate()
        .map(|(position, (name, first_seen))| {
            let worst = unresolved.iter().filter(|(i, _)| i.services.contains(name)).map(|(i, _)| i.sev).min();
            let updated = unresolved
                .iter()
                .filter(|(i, _)| i.services.contains(name))
                .map(|(i, _)| i.updated_at)
                .max()
                .unwrap_or(*first_seen);
            json!({
                "id": short_id("component", name), "name": name, "status": component_status(worst),
                "created_at": iso(*first_seen), "updated_at": iso(updated), "position": position + 1,
                "description": null, "showcase": true, "start_date": null, "group_id": null,
                "page_id": page_id, "group": false, "only_show_if_degraded": false,
            })
        })
        .collect();
    let component_of = |name: &String| components.iter().find(|c| c["name"] == name.as_str()).cloned();

    let incident = |(i, announcements): &(KnownIncident, Vec<Announcement>)| -> Value {
        let id = i.id.to_ascii_lowercase();
        let affected: Vec<Value> = i.services.iter().filter_map(&component_of).collect();
        let updates: Vec<Value> = announcements
            .iter()
            .rev()
            .map(|a| {
                json!({
                    "id": a.id, "status": a.state.as_str(), "body": a.message, "incident_id": id,
                    "created_at": iso(a.ts), "updated_at": iso(a.ts), "display_at": iso(a.ts),
                    "affected_components": affected.iter().map(|c| json!({"code": c["id"], "name": c["name"], "old_status": c["status"], "new_status": c["status"]})).collect::<Vec<_>>(),
                    "deliver_notifications": true, "custom_tweet": null, "tweet_id": null,
                })
            })
            .collect();
        let monitoring_at = announcements.iter().find(|a| a.state.as_str() == "monitoring").map(|a| iso(a.ts));
        let updated_at = announcements.iter().map(|a| a.ts).chain([i.updated_at]).max().unwrap_or(i.updated_at);
        json!({
            "id": id, "name": i.title, "status": incident_status(i, announcements),
            "created_at": iso(i.started_at), "updated_at": iso(updated_at),
            "monitoring_at": monitoring_at, "resolved_at": i.resolved_at.map(iso),
            "impact": impact(i.sev), "shortlink": format!("{public_url}/api/v1/public/incidents/{}", i.id),
            "started_at": iso(i.started_at), "page_id": page_id,
            "incident_updates": updates, "components": affected,
        })
    };
    let unresolved_json: Vec<Value> = unresolved.iter().map(|i| incident(i)).collect();
    let recent_json: Vec<Value> = data.incidents.iter().take(50).map(incident).collect();
    let worst = unresolved.iter().map(|(i, _)| impact(i.sev)).max_by_key(|i| impact_rank(i)).unwrap_or("none");
    let description = match worst {
        "critical" => "Major Service Outage",
        "major" => "Partial System Outage",
        "minor" => "Minor Service Outage",
        _ => "All Systems Operational",
    };
    let status = json!({"indicator": worst, "description": description});
    Documents {
        summary: Doc::json(
            &json!({"page": page, "components": components, "incidents": unresolved_json, "scheduled_maintenances": [], "status": status}),
        ),
        status: Doc::json(&json!({"page": page, "status": status})),
        incidents: Doc::json(&json!({"page": page, "incidents": recent_json})),
        unresolved: Doc::json(&json!({"page": page, "incidents": unresolved_json})),
        components: Doc::json(&json!({"page": page, "components": components})),
    }
}
