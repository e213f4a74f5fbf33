//! RSS 2.0 and Atom feeds (feed-rs): Statuspage `history.rss` / `history.atom`, incident.io,
//! Google Cloud's `feed.atom`, AWS per-service RSS and any other status feed. The status is read
//! out of the entry: Statuspage writes the latest state first as `<strong>State</strong>`,
//! incident.io as `<b>Status: State</b>`, Google and AWS put it at the start of the title.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::event::{EventUpdate, Impact, ParseError, ProviderEvent};

/// Status words in the order a lifecycle runs, with whether each one means it is over.
const STATES: [(&str, bool); 11] = [
    ("investigating", false),
    ("identified", false),
    ("monitoring", false),
    ("update", false),
    ("scheduled", false),
    ("in progress", false),
    ("verifying", false),
    ("resolved", true),
    ("completed", true),
    ("postmortem", true),
    ("service is operating normally", true),
];

pub fn parse(bytes: &[u8]) -> Result<Vec<ProviderEvent>, ParseError> {
    let feed = feed_rs::parser::parse(bytes).map_err(|e| ParseError::UnknownShape(format!("not RSS or Atom: {e}")))?;
    // Some feeds (Google's) have one entry per update: keep the newest per incident.
    let mut events: BTreeMap<String, ProviderEvent> = BTreeMap::new();
    for entry in feed.entries {
        let title = entry.title.as_ref().map(|t| t.content.trim().to_string()).unwrap_or_default();
        let html = entry
            .content
            .as_ref()
            .and_then(|c| c.body.clone())
            .or_else(|| entry.summary.as_ref().map(|s| s.content.clone()))
            .unwrap_or_default();
        let status = status_of(&title, &html);
        let finished = STATES.iter().any(|(s, over)| *over && *s == status);
        let when: Option<DateTime<Utc>> = entry.updated.or(entry.published);
        let external_id = incident_id(&entry.id);
        let maintenance = format!("{title} {html}").to_ascii_lowercase().contains("maintenance");
        let event = ProviderEvent {
            external_id: external_id.clone(),
            title: strip_prefix(&title),
            impact: if maintenance { Impact::Maintenance } else { Impact::Minor },
            components: Vec::new(),
            regions: Vec::new(),
            started_at: entry.published.or(when),
            updated_at: when,
            ended_at: if finished { when } else { None },
            url: entry.links.first().map(|l| l.href.clone()),
            updates: vec![EventUpdate { at: when, status: status.clone(), body: text_of(&html) }],
            status,
        };
        match events.get_mut(&external_id) {
            Some(existing) if existing.updated_at >= event.updated_at => {
                existing.updates.insert(0, event.updates[0].clone())
            }
            Some(existing) => {
                let mut earlier = std::mem::take(&mut existing.updates);
                *existing = ProviderEvent {
                    started_at: existing.started_at.min(event.started_at).or(event.started_at),
                    ..event
                };
                earlier.append(&mut existing.updates);
                existing.updates = earlier;
            }
            None => {
                events.insert(external_id, event);
            }
        }
    }
    let mut events: Vec<ProviderEvent> = events.into_values().collect();
    events.sort_by_key(|e| std::cmp::Reverse(e.updated_at));
    Ok(events)
}

/// Google's entry ids carry the update after a dot: `...:feed:<incident>.<update>`.
fn incident_id(id: &str) -> String {
    match id.rsplit_once(":feed:") {
        Some((_, rest)) => rest.split('.').next().unwrap_or(rest).to_string(),
        None => id.to_string(),
    }
}

/// The latest status an entry states.
fn status_of(title: &str, html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    if let Some(i) = lower.find("status:") {
        let rest = &lower[i + 7..];
        if let Some(state) = known_state(rest.trim_start()) {
            return state.into();
        }
    }
    for tag in ["<strong>", "<b>"] {
        if let Some(i) = lower.find(tag)
            && let Some(state) = known_state(&lower[i + tag.len()..])
        {
            return state.into();
        }
    }
    let title = title.to_ascii_lowercase();
    let title = title.trim_start_matches('[');
    if let Some(state) = known_state(title) {
        return state.into();
    }
    if title.starts_with("service impact") || title.starts_with("informational message") {
        return "investigating".into();
    }
    "unknown".into()
}

fn known_state(text: &str) -> Option<&'static str> {
    STATES.iter().map(|(s, _)| *s).find(|s| text.starts_with(s))
}

/// A title without a leading status word (`RESOLVED: `, `[RESOLVED] `).
fn strip_prefix(title: &str) -> String {
    let lower = title.to_ascii_lowercase();
    let lower = lower.trim_start_matches('[');
    match known_state(lower) {
        Some(state) => {
            let skip = title.len() - lower.len() + state.len();
            title[skip..].trim_start_matches([']', ':', ' ', '-']).trim().to_string()
        }
        None => title.to_string(),
    }
}

/// Visible text of an HTML body, tags dropped and whitespace folded.
fn text_of(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}
