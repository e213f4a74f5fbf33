//! Turning what providers publish into [`crate::event::ProviderEvent`]s.

pub mod aws;
pub mod feed;
pub mod gcp;
pub mod slack;
pub mod statusio;
pub mod statuspage;

use crate::event::{ParseError, ProviderEvent};

/// What a provider publishes. `Json` and `Rss` are the reference contract's types: `Json` finds
/// the JSON family by itself, `Rss` reads RSS 2.0 and Atom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Rss,
    Statuspage,
    Gcp,
    Aws,
    Statusio,
    Slack,
}

impl Format {
    pub fn parse(raw: &str) -> Result<Self, String> {
        Ok(match raw.trim().to_ascii_lowercase().as_str() {
            "json" => Format::Json,
            "rss" | "atom" => Format::Rss,
            "statuspage" => Format::Statuspage,
            "gcp" => Format::Gcp,
            "aws" => Format::Aws,
            "statusio" => Format::Statusio,
            "slack" => Format::Slack,
            _ => return Err("must be one of rss, json, statuspage, gcp, aws, statusio, slack".into()),
        })
    }
}

/// The JSON format a payload is in, told apart by its shape.
pub fn detect_json(bytes: &[u8]) -> Result<Format, ParseError> {
    let text = aws::decode(bytes)?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| ParseError::NotJson(e.to_string()))?;
    let format = match &doc {
        serde_json::Value::Array(items) => match items.first() {
            None => Format::Aws,
            Some(first) if first.get("external_desc").is_some() || first.get("affected_products").is_some() => {
                Format::Gcp
            }
            Some(first) if first.get("arn").is_some() || first.get("event_log").is_some() => Format::Aws,
            Some(_) => return Err(ParseError::UnknownShape("an array that is neither Google Cloud nor AWS".into())),
        },
        serde_json::Value::Object(o) if o.get("result").is_some_and(|r| r.get("status_overall").is_some()) => {
            Format::Statusio
        }
        serde_json::Value::Object(o) if o.contains_key("active_incidents") => Format::Slack,
        serde_json::Value::Object(o) if o.contains_key("archive") || o.contains_key("current") => Format::Aws,
        serde_json::Value::Object(o)
            if ["page", "incidents", "scheduled_maintenances", "incident_updates"]
                .iter()
                .any(|k| o.contains_key(*k)) =>
        {
            Format::Statuspage
        }
        _ => return Err(ParseError::UnknownShape("not a status format PolyStatus knows".into())),
    };
    Ok(format)
}

/// The events of a payload in `format` (`Json` detects which JSON format it is).
pub fn parse(format: Format, bytes: &[u8]) -> Result<Vec<ProviderEvent>, ParseError> {
    match format {
        Format::Json => parse(detect_json(bytes)?, bytes),
        Format::Rss => feed::parse(bytes),
        Format::Statuspage => statuspage::parse(bytes),
        Format::Gcp => gcp::parse(bytes),
        Format::Aws => aws::parse(bytes),
        Format::Statusio => statusio::parse(bytes),
        Format::Slack => slack::parse(bytes),
    }
}
