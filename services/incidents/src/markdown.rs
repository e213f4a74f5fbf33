//! Renders a postmortem as Markdown.

use std::fmt::Write;

use crate::domain::{Incident, Postmortem, TimelineEntry};

fn time(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map_or_else(|| ts.to_string(), |t| t.format("%Y-%m-%d %H:%M UTC").to_string())
}

/// Text safe inside a Markdown table cell or heading: no pipes or line breaks to break layout.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

pub fn postmortem(incident: &Incident, pm: &Postmortem, timeline: &[TimelineEntry]) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Postmortem: {} — {}\n", incident.id, cell(&incident.title));
    let state = if pm.published_at.is_some() { "Published" } else { "Draft" };
    let _ = writeln!(md, "- **Status:** {state}");
    let _ = writeln!(md, "- **Severity:** {}", incident.sev);
    if !incident.services.is_empty() {
        let _ = writeln!(md, "- **Services:** {}", incident.services.join(", "));
    }
    let _ = writeln!(md, "- **Started:** {}", time(incident.started_at));
    if let Some(t) = incident.mitigated_at {
        let _ = writeln!(md, "- **Mitigated:** {}", time(t));
    }
    if let Some(t) = incident.resolved_at {
        let _ = writeln!(md, "- **Resolved:** {}", time(t));
    }
    if let Some(c) = &incident.commander {
        let _ = writeln!(md, "- **Commander:** {c}");
    }
    for (title, body) in [
        ("What happened", &pm.what_happened),
        ("Impact", &pm.impact),
        ("Root cause", &pm.root_cause),
        ("Detection", &pm.detection),
        ("Resolution", &pm.resolution),
        ("Lessons learned", &pm.lessons_learned),
    ] {
        if !body.is_empty() {
            let _ = writeln!(md, "\n## {title}\n\n{body}");
        }
    }
    if !pm.action_items.is_empty() {
        let _ = writeln!(md, "\n## Action items\n");
        for item in &pm.action_items {
            let mark = if item.done { "x" } else { " " };
            let owner = item.owner.as_deref().map(|o| format!(" — owner: {o}")).unwrap_or_default();
            let due = item.due_date.as_deref().map(|d| format!(", due {d}")).unwrap_or_default();
            let _ = writeln!(md, "- [{mark}] {} ({}){owner}{due}", cell(&item.title), item.id);
        }
    }
    if !timeline.is_empty() {
        let _ = writeln!(md, "\n## Timeline\n\n| Time | Type | Who | What |\n|---|---|---|---|");
        for e in timeline {
            let kind =
                serde_json::to_value(e.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            let _ = writeln!(md, "| {} | {kind} | {} | {} |", time(e.ts), cell(&e.actor.name), cell(&e.message));
        }
    }
    md
}
