use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{IncidentId, Postmortem, Status};

/// Severity 1 (worst) to 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Severity(u8);

impl Severity {
    pub fn parse(n: i64) -> Result<Self, String> {
        u8::try_from(n).ok().filter(|n| (1..=4).contains(n)).map(Severity).ok_or_else(|| "must be 1, 2, 3 or 4".into())
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Severity {
    type Error = String;
    fn try_from(n: u8) -> Result<Self, String> {
        Severity::parse(i64::from(n))
    }
}

impl From<Severity> for u8 {
    fn from(s: Severity) -> u8 {
        s.0
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SEV{}", self.0)
    }
}

/// Where an incident came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Manual,
    Csp,
    Alert,
    Chatops,
    Api,
}

impl Source {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "manual" => Ok(Source::Manual),
            "csp" => Ok(Source::Csp),
            "alert" => Ok(Source::Alert),
            "chatops" => Ok(Source::Chatops),
            "api" => Ok(Source::Api),
            _ => Err("must be one of manual, csp, alert, chatops, api".into()),
        }
    }
}

/// A provider status event this incident is linked to (raised from, or probably caused by).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProviderEventLink {
    pub provider: String,
    pub event_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Why they are linked (raised from it, time overlap, a declared dependency...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}

/// An incident as stored: the record, its postmortem and action items, and its version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: IncidentId,
    /// Creation order, unique: the index score and the paging cursor.
    pub seq: u64,
    pub title: String,
    pub sev: Severity,
    pub services: Vec<String>,
    pub summary: String,
    pub status: Status,
    pub started_at: i64,
    pub commander: Option<String>,
    pub source: Source,
    pub created_by: String,
    pub updated_at: i64,
    pub acknowledged_at: Option<i64>,
    pub mitigated_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub followers: BTreeSet<String>,
    pub provider_events: Vec<ProviderEventLink>,
    /// The alert deduplication key that opened it, if an alert did.
    pub dedup_key: Option<String>,
    pub postmortem: Option<Postmortem>,
    pub version: u64,
}

/// Trimmed text of 1..=`max` characters (or 0..=`max` when `allow_empty`), no control characters
/// except newlines and tabs.
pub fn clean_text(raw: &str, max: usize, allow_empty: bool) -> Result<String, String> {
    let s = raw.trim();
    if s.is_empty() && !allow_empty {
        return Err("must not be empty".into());
    }
    if s.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return Err("must not contain control characters".into());
    }
    Ok(s.to_string())
}

/// Service names: each 1 to 64 characters of letters, digits, `-`, `_`, `.`, lower-cased,
/// duplicates dropped, at most 20.
pub fn clean_services(raw: &[String]) -> Result<Vec<String>, String> {
    if raw.len() > 20 {
        return Err("at most 20 services".into());
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for s in raw {
        let s = s.trim().to_ascii_lowercase();
        let valid = !s.is_empty()
            && s.len() <= 64
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !valid {
            return Err(format!("{s:?} is not a service name (letters, digits, - _ . ; at most 64)"));
        }
        if seen.insert(s.clone()) {
            out.push(s);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_are_one_to_four() {
        assert!(Severity::parse(0).is_err() && Severity::parse(5).is_err() && Severity::parse(-1).is_err());
        assert_eq!(Severity::parse(2).map(Severity::get), Ok(2));
        assert!(serde_json::from_str::<Severity>("9").is_err());
    }

    #[test]
    fn services_are_normalised_and_checked() {
        assert_eq!(clean_services(&["API".into(), "db".into(), "api".into()]), Ok(vec!["api".into(), "db".into()]));
        assert!(clean_services(&["two words".into()]).is_err());
        assert!(clean_services(&[String::new()]).is_err());
    }

    #[test]
    fn text_rules() {
        assert_eq!(clean_text("  hi ", 10, false), Ok("hi".into()));
        assert!(clean_text(" ", 10, false).is_err());
        assert_eq!(clean_text("", 10, true), Ok(String::new()));
        assert!(clean_text("a\u{0}b", 10, false).is_err());
        assert!(clean_text("line\nbreak", 20, false).is_ok());
    }
}
