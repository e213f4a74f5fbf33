//! Every change of an incident goes through here: read the latest version, apply the change,
//! and commit the record with its timeline entries and events in one script, retrying when
//! another writer got in first (unless the client pinned a version with If-Match).

use std::time::Duration;

use platform::ApiError;
use platform::auth::{Principal, PrincipalKind};
use platform::events::CloudEvent;
use serde_json::json;

use crate::domain::{Actor, EntryKind, Incident, IncidentId, TimelineEntry};
use crate::routes::dto::IncidentView;
use crate::state::{AppState, EVENT_SOURCE, now};
use crate::store::{Change, Expect, Outcome};

/// One thing a change did: a timeline entry and the event announcing it.
#[derive(Debug, Clone)]
pub struct Effect {
    pub kind: EntryKind,
    pub message: String,
    pub from: Option<String>,
    pub to: Option<String>,
    /// CloudEvent type, e.g. `incident.status_changed`.
    pub event: &'static str,
}

impl Effect {
    pub fn new(kind: EntryKind, event: &'static str, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), from: None, to: None, event }
    }

    pub fn from_to(mut self, from: impl Into<String>, to: impl Into<String>) -> Self {
        self.from = Some(from.into());
        self.to = Some(to.into());
        self
    }
}

pub fn actor(principal: &Principal) -> Actor {
    Actor {
        id: principal.id.clone(),
        name: principal.name.clone(),
        kind: match principal.kind {
            PrincipalKind::User => "user".into(),
            PrincipalKind::ApiKey => "api_key".into(),
        },
    }
}

/// The timeline entries and events of `effects` on `incident`.
pub fn record(incident: &Incident, effects: &[Effect], by: &Actor) -> (Vec<TimelineEntry>, Vec<CloudEvent>) {
    let ts = now();
    let entries: Vec<TimelineEntry> = effects
        .iter()
        .map(|e| TimelineEntry {
            id: String::new(),
            kind: e.kind,
            message: e.message.clone(),
            ts,
            actor: by.clone(),
            from: e.from.clone(),
            to: e.to.clone(),
        })
        .collect();
    let view = IncidentView::from(incident);
    let events = effects
        .iter()
        .zip(&entries)
        .map(|(e, entry)| {
            CloudEvent::new(EVENT_SOURCE, e.event, incident.id.as_str(), json!({"incident": view, "entry": entry}))
        })
        .collect();
    (entries, events)
}

/// Applies `change` to the latest version of incident `id` and commits it. `change` returns
/// what it did (nothing: no write) or refuses with an error. Gives the new incident and its new
/// timeline entries.
pub async fn modify(
    state: &AppState,
    id: &IncidentId,
    by: &Principal,
    if_match: Option<u64>,
    change: impl Fn(&mut Incident) -> Result<Vec<Effect>, ApiError>,
) -> Result<(Incident, Vec<TimelineEntry>), ApiError> {
    let by = actor(by);
    for attempt in 0..64u32 {
        let current = state.store.incident(id).await?.ok_or_else(|| not_found(id))?;
        if let Some(expected) = if_match.filter(|v| *v != current.version) {
            return Err(ApiError::PreconditionFailed(format!(
                "{id} is at version {}, not {expected}",
                current.version
            )));
        }
        let mut next = current.clone();
        let effects = change(&mut next)?;
        if effects.is_empty() {
            return Ok((current, Vec::new()));
        }
        next.version = current.version + 1;
        next.updated_at = now();
        let (mut entries, events) = record(&next, &effects, &by);
        let outcome = state
            .store
            .apply(Change {
                id,
                expect: Expect::Version(current.version),
                before: Some(&current),
                after: Some(&next),
                timeline: entries.clone(),
                events,
            })
            .await?;
        match outcome {
            Outcome::Committed(ids) => {
                for (entry, id) in entries.iter_mut().zip(ids) {
                    entry.id = id;
                }
                return Ok((next, entries));
            }
            Outcome::Conflict if if_match.is_some() => {
                return Err(ApiError::PreconditionFailed(format!("{id} changed while this request was applied")));
            }
            Outcome::Conflict => {
                // Someone else wrote first: back off a little, with jitter, and redo on the new version.
                let jitter = uuid::Uuid::new_v4().as_u128() as u64 % (u64::from(attempt.min(10)) + 1);
                tokio::time::sleep(Duration::from_millis(jitter)).await;
            }
            Outcome::Missing | Outcome::Exists => return Err(not_found(id)),
        }
    }
    Err(ApiError::Conflict(format!("{id} is being changed by too many writers at once; retry")))
}

/// Adds timeline entries without changing the record (notes and updates never conflict).
pub async fn append(
    state: &AppState,
    id: &IncidentId,
    by: &Principal,
    effects: &[Effect],
) -> Result<Vec<TimelineEntry>, ApiError> {
    let current = state.store.incident(id).await?.ok_or_else(|| not_found(id))?;
    let (mut entries, events) = record(&current, effects, &actor(by));
    let change = Change { id, expect: Expect::Exists, before: None, after: None, timeline: entries.clone(), events };
    match state.store.apply(change).await? {
        Outcome::Committed(ids) => {
            for (entry, id) in entries.iter_mut().zip(ids) {
                entry.id = id;
            }
            Ok(entries)
        }
        _ => Err(not_found(id)),
    }
}

pub fn not_found(id: &IncidentId) -> ApiError {
    ApiError::not_found(format!("no incident {id}"))
}
