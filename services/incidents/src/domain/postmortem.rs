use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A tracked follow-up of an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ActionItem {
    /// Unique within the incident: `AI-1`, `AI-2`, ...
    pub id: String,
    pub title: String,
    /// A user id, or null.
    pub owner: Option<String>,
    /// `YYYY-MM-DD`, or null.
    pub due_date: Option<String>,
    pub done: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What was learned from an incident. A draft can change any time; publishing needs the
/// incident resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Postmortem {
    pub what_happened: String,
    pub root_cause: String,
    pub impact: String,
    pub detection: String,
    pub resolution: String,
    pub lessons_learned: String,
    pub action_items: Vec<ActionItem>,
    /// Epoch seconds of publication; null while a draft.
    pub published_at: Option<i64>,
    /// Epoch seconds of the last save; null for an incident whose postmortem nobody has
    /// written yet (it reads blank).
    pub updated_at: Option<i64>,
    /// Who saved it last; null until somebody does.
    pub updated_by: Option<String>,
}

impl Postmortem {
    /// The postmortem of an incident before anybody writes it: every section empty.
    pub fn blank() -> Self {
        Postmortem {
            what_happened: String::new(),
            root_cause: String::new(),
            impact: String::new(),
            detection: String::new(),
            resolution: String::new(),
            lessons_learned: String::new(),
            action_items: Vec::new(),
            published_at: None,
            updated_at: None,
            updated_by: None,
        }
    }
}

impl Postmortem {
    /// The next action item id.
    pub fn next_item_id(&self) -> String {
        let max = self
            .action_items
            .iter()
            .filter_map(|i| i.id.strip_prefix("AI-").and_then(|n| n.parse::<u64>().ok()))
            .max()
            .unwrap_or(0);
        format!("AI-{}", max + 1)
    }
}

/// A due date in `YYYY-MM-DD`.
pub fn parse_due_date(raw: &str) -> Result<String, String> {
    chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map(|d| d.format("%Y-%m-%d").to_string())
        .map_err(|_| "must be a date like 2026-12-31".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_dates_are_iso() {
        assert_eq!(parse_due_date("2026-02-28"), Ok("2026-02-28".into()));
        assert!(parse_due_date("2026-02-30").is_err());
        assert!(parse_due_date("tomorrow").is_err());
    }
}
