//! Turning a freshly parsed payload into stored events: what is new, what changed, what ended.
//! Only real changes are written and announced.

use std::collections::HashMap;

use platform::events::CloudEvent;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{MAX_HISTORY, Provider, Revision, StoredEvent, fingerprint};
use crate::event::{EventUpdate, ProviderEvent};
use crate::store::{IngestWrite, RedisStore, StoreError};
use crate::view::EventView;

/// The `source` of every event this service emits.
pub const EVENT_SOURCE: &str = "/polystatus/csp-ingestor";

/// At most this many events of one payload are kept (the most recently updated).
pub const MAX_EVENTS_PER_PAYLOAD: usize = 1000;

/// What one ingestion did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Counts {
    /// Events in the payload after the provider's filters.
    pub total: usize,
    pub new: usize,
    pub updated: usize,
    pub resolved: usize,
    pub unchanged: usize,
}

/// What is stored in the fingerprint hash: the content hash, and `:a` while the event is active.
/// A stored active event missing from a payload is found from it without reading every event.
pub fn fingerprint_entry(event: &ProviderEvent) -> String {
    let fp = fingerprint(event);
    if event.is_active() { format!("{fp}:a") } else { fp }
}

/// Stores what changed in `parsed` for `provider`; the counts and the ids of the events
/// announced (new, updated or resolved), whose incident work is queued.
pub async fn ingest(
    store: &RedisStore,
    provider: &Provider,
    parsed: Vec<ProviderEvent>,
    now: i64,
) -> Result<(Counts, Vec<String>), StoreError> {
    let parsed = select(provider, parsed);
    let fingerprints = store.fingerprints(&provider.name).await?;
    let mut wanted: Vec<String> = parsed
        .iter()
        .filter(|e| fingerprints.get(&e.external_id).is_some_and(|fp| *fp != fingerprint_entry(e)))
        .map(|e| StoredEvent::id_for(&provider.name, &e.external_id))
        .collect();
    let listed: std::collections::HashSet<&str> = parsed.iter().map(|e| e.external_id.as_str()).collect();
    wanted.extend(
        fingerprints
            .iter()
            .filter(|(ext, fp)| fp.ends_with(":a") && !listed.contains(ext.as_str()))
            .map(|(ext, _)| StoredEvent::id_for(&provider.name, ext)),
    );
    let previous: HashMap<String, StoredEvent> =
        store.events(&wanted).await?.into_iter().map(|e| (e.event.external_id.clone(), e)).collect();
    let (write, counts) = plan(provider, parsed, &fingerprints, previous, now);
    store.apply(&provider.name, &write).await?;
    Ok((counts, write.sync))
}

/// The events the provider's filters let through, one per external id, the newest first, capped.
fn select(provider: &Provider, parsed: Vec<ProviderEvent>) -> Vec<ProviderEvent> {
    let mut by_id: HashMap<String, ProviderEvent> = HashMap::new();
    for e in parsed.into_iter().filter(|e| provider.wants(e) && !e.external_id.is_empty()) {
        by_id.insert(e.external_id.clone(), e);
    }
    let mut events: Vec<ProviderEvent> = by_id.into_values().collect();
    events.sort_by_key(|e| std::cmp::Reverse(e.updated_at.or(e.started_at)));
    events.truncate(MAX_EVENTS_PER_PAYLOAD);
    events
}

/// The writes for one payload. `previous` holds the stored events that changed or went missing,
/// by external id.
pub fn plan(
    provider: &Provider,
    parsed: Vec<ProviderEvent>,
    fingerprints: &HashMap<String, String>,
    mut previous: HashMap<String, StoredEvent>,
    now: i64,
) -> (IngestWrite, Counts) {
    let mut write = IngestWrite::default();
    let mut counts = Counts { total: parsed.len(), ..Counts::default() };
    let listed: std::collections::HashSet<String> = parsed.iter().map(|e| e.external_id.clone()).collect();
    for event in parsed {
        let entry = fingerprint_entry(&event);
        match fingerprints.get(&event.external_id) {
            Some(stored) if *stored == entry => counts.unchanged += 1,
            Some(_) if previous.contains_key(&event.external_id) => {
                let Some(before) = previous.remove(&event.external_id) else { continue };
                let after = revise(&before, event, now);
                let kind = if before.is_active() && !after.is_active() {
                    counts.resolved += 1;
                    "csp.event.resolved"
                } else if !before.is_active() && after.is_active() {
                    counts.new += 1;
                    "csp.event.detected"
                } else {
                    counts.updated += 1;
                    "csp.event.updated"
                };
                announce(&mut write, provider, kind, after);
            }
            // A fingerprint without its record (written by hand, or half deleted): start over.
            _ => {
                let active = event.is_active();
                let stored = first_sight(provider, event, now);
                if active {
                    counts.new += 1;
                    announce(&mut write, provider, "csp.event.detected", stored);
                } else {
                    // Already over when first seen (a feed's history): kept, not announced.
                    counts.unchanged += 1;
                    write.events.push(stored);
                }
            }
        }
    }
    // Active events the provider no longer lists are over.
    for (external_id, before) in previous {
        if listed.contains(&external_id) || !before.is_active() {
            continue;
        }
        let mut event = before.event.clone();
        let ended = chrono::DateTime::from_timestamp(now, 0);
        event.status = "resolved".into();
        event.ended_at = ended;
        event.updated_at = ended;
        event.updates.push(EventUpdate {
            at: ended,
            status: "resolved".into(),
            body: "No longer listed by the provider.".into(),
        });
        let after = revise(&before, event, now);
        counts.resolved += 1;
        announce(&mut write, provider, "csp.event.resolved", after);
    }
    (write, counts)
}

fn first_sight(provider: &Provider, event: ProviderEvent, now: i64) -> StoredEvent {
    let revision = Revision {
        at: now,
        status: event.status.clone(),
        impact: event.impact,
        changes: vec![if event.is_active() { "detected".into() } else { "first seen, already over".into() }],
    };
    StoredEvent {
        id: StoredEvent::id_for(&provider.name, &event.external_id),
        provider: provider.name.clone(),
        fingerprint: fingerprint_entry(&event),
        event,
        first_seen_at: now,
        last_change_at: now,
        history: vec![revision],
    }
}

/// `before` with the provider's new version of the event, and a revision saying what changed.
fn revise(before: &StoredEvent, event: ProviderEvent, now: i64) -> StoredEvent {
    let old = &before.event;
    let mut changes = Vec::new();
    if old.status != event.status {
        changes.push(format!("status {} → {}", old.status, event.status));
    }
    if old.impact != event.impact {
        changes.push(format!("impact {:?} → {:?}", old.impact, event.impact).to_lowercase());
    }
    if old.title != event.title {
        changes.push("title".into());
    }
    if event.updates.len() > old.updates.len() {
        let n = event.updates.len() - old.updates.len();
        changes.push(format!("{n} new update{}", if n == 1 { "" } else { "s" }));
    }
    if old.components != event.components || old.regions != event.regions {
        changes.push("components or regions".into());
    }
    if old.is_active() && !event.is_active() {
        changes.push("ended".into());
    } else if !old.is_active() && event.is_active() {
        changes.push("reopened".into());
    }
    if changes.is_empty() {
        changes.push("details".into());
    }
    let mut history = before.history.clone();
    history.push(Revision { at: now, status: event.status.clone(), impact: event.impact, changes });
    if history.len() > MAX_HISTORY {
        history.drain(..history.len() - MAX_HISTORY);
    }
    StoredEvent {
        id: before.id.clone(),
        provider: before.provider.clone(),
        fingerprint: fingerprint_entry(&event),
        event,
        first_seen_at: before.first_seen_at,
        last_change_at: now,
        history,
    }
}

fn announce(write: &mut IngestWrite, provider: &Provider, kind: &str, event: StoredEvent) {
    let data = serde_json::json!({ "event": EventView::from(&event), "provider": {
        "name": provider.name, "display_name": provider.display_name,
    }});
    write.outbox.push(CloudEvent::new(EVENT_SOURCE, kind, event.id.clone(), data));
    write.sync.push(event.id.clone());
    write.events.push(event);
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::event::Impact;

    fn provider() -> Provider {
        Provider {
            incident_threshold: Some(Impact::Major),
            ..crate::domain::sample_provider("cloudflare", "Cloudflare", &[])
        }
    }

    fn event(id: &str, status: &str, ended: bool) -> ProviderEvent {
        let t = chrono::Utc.timestamp_opt(1_700_000_000, 0).single();
        ProviderEvent {
            external_id: id.into(),
            title: format!("Incident {id}"),
            status: status.into(),
            impact: Impact::Major,
            components: vec!["CDN".into()],
            regions: vec![],
            started_at: t,
            updated_at: t,
            ended_at: if ended { t } else { None },
            url: None,
            updates: vec![],
        }
    }

    /// Runs `plan` the way `ingest` does, against an in-memory store.
    fn step(stored: &mut HashMap<String, StoredEvent>, parsed: Vec<ProviderEvent>, now: i64) -> (Counts, Vec<String>) {
        let fps: HashMap<String, String> =
            stored.values().map(|e| (e.event.external_id.clone(), e.fingerprint.clone())).collect();
        let previous = stored.clone();
        let (write, counts) = plan(&provider(), parsed, &fps, previous, now);
        let kinds = write.outbox.iter().map(|e| e.event_type.clone()).collect();
        for e in write.events {
            stored.insert(e.event.external_id.clone(), e);
        }
        (counts, kinds)
    }

    #[test]
    fn only_real_changes_are_announced() {
        let mut stored = HashMap::new();
        let (counts, kinds) =
            step(&mut stored, vec![event("a", "investigating", false), event("old", "resolved", true)], 1);
        assert_eq!((counts.new, counts.unchanged), (1, 1));
        assert_eq!(kinds, ["csp.event.detected"], "an event already over when first seen is not news");

        let (counts, kinds) =
            step(&mut stored, vec![event("a", "investigating", false), event("old", "resolved", true)], 2);
        assert_eq!(counts.unchanged, 2);
        assert!(kinds.is_empty());

        let (counts, kinds) = step(&mut stored, vec![event("a", "identified", false)], 3);
        assert_eq!(counts.updated, 1);
        assert_eq!(kinds, ["csp.event.updated"]);
        assert_eq!(
            stored["a"].history.last().map(|r| r.changes.clone()),
            Some(vec!["status investigating → identified".to_string()])
        );

        let (counts, kinds) = step(&mut stored, vec![event("a", "resolved", true)], 4);
        assert_eq!(counts.resolved, 1);
        assert_eq!(kinds, ["csp.event.resolved"]);
        assert!(!stored["a"].is_active());
    }

    #[test]
    fn an_active_event_that_disappears_is_resolved() {
        let mut stored = HashMap::new();
        step(&mut stored, vec![event("a", "investigating", false)], 1);
        let (counts, kinds) = step(&mut stored, vec![], 5);
        assert_eq!(counts.resolved, 1);
        assert_eq!(kinds, ["csp.event.resolved"]);
        let a = &stored["a"];
        assert_eq!(a.event.status, "resolved");
        assert_eq!(a.ts_end(), Some(5));
        assert_eq!(a.event.updates.last().map(|u| u.body.as_str()), Some("No longer listed by the provider."));
    }

    #[test]
    fn filters_and_duplicates_are_applied_before_counting() {
        let p = Provider { components: vec!["dns".into()], ..provider() };
        let mut dns = event("d", "investigating", false);
        dns.components = vec!["DNS".into()];
        let picked = select(&p, vec![event("a", "investigating", false), dns.clone(), dns]);
        assert_eq!(picked.len(), 1);
        assert_eq!(picked[0].external_id, "d");
    }
}
