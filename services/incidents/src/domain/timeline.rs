use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a timeline entry records. The first four are the reference types people post; the rest
/// are written by the service itself when something changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Update,
    Note,
    Mitigation,
    Resolution,
    Created,
    StatusChange,
    Assignment,
    SeverityChange,
    Edit,
    Acknowledged,
    Postmortem,
    ActionItem,
    ProviderEvent,
    Alert,
}

impl EntryKind {
    /// The kinds a person may post with `POST .../timeline`.
    pub const POSTABLE: [EntryKind; 4] =
        [EntryKind::Update, EntryKind::Note, EntryKind::Mitigation, EntryKind::Resolution];

    pub fn parse_postable(raw: &str) -> Result<Self, String> {
        let kind = match raw.trim().to_ascii_lowercase().as_str() {
            "update" => EntryKind::Update,
            "note" => EntryKind::Note,
            "mitigation" => EntryKind::Mitigation,
            "resolution" => EntryKind::Resolution,
            _ => return Err("must be one of update, note, mitigation, resolution".into()),
        };
        Ok(kind)
    }
}

/// Who did something: a user or a machine (API key), with a name for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Actor {
    pub id: String,
    pub name: String,
    /// `user` or `api_key`.
    pub kind: String,
}

/// One entry of an incident's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TimelineEntry {
    /// Unique within the incident, ordered in time (also the paging cursor).
    pub id: String,
    #[serde(rename = "type")]
    pub kind: EntryKind,
    pub message: String,
    /// Epoch seconds.
    pub ts: i64,
    pub actor: Actor,
    /// The value before a change (status, commander, severity...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The value after a change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}
