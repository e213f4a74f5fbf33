//! Cause and effect: which provider outage probably caused which, and which provider events
//! probably caused an internal incident. Every link carries a confidence and its evidence.
//!
//! Two events are linked only if they overlap in time (the cause began no later than a quarter of
//! an hour after the effect) and something ties them: a declared dependency, or the effect's text
//! naming the cause's provider or one of its components. Closeness in time adds confidence.

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{InternalService, Provider, StoredEvent};

/// How far before the effect a cause may begin and still count as "began first".
const SKEW_SECS: i64 = 15 * 60;

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Link {
    /// The event that probably caused the other.
    pub cause: String,
    pub cause_provider: String,
    pub effect: String,
    pub effect_provider: String,
    /// 0 to 1.
    #[schema(example = 0.8)]
    pub confidence: f64,
    pub evidence: Vec<String>,
}

/// What correlation needs to know about a provider.
pub struct Names<'a> {
    pub providers: HashMap<&'a str, &'a Provider>,
}

impl<'a> Names<'a> {
    pub fn new(providers: &'a [Provider]) -> Self {
        Self { providers: providers.iter().map(|p| (p.name.as_str(), p)).collect() }
    }

    fn display(&self, name: &'a str) -> &'a str {
        self.providers.get(name).map_or(name, |p| p.display_name.as_str())
    }

    fn depends(&self, effect: &str, cause: &str) -> bool {
        self.providers.get(effect).is_some_and(|p| p.depends_on.iter().any(|d| d == cause))
    }
}

/// The interval an event covers, the open end at `now`.
fn span(e: &StoredEvent, now: i64) -> (i64, i64) {
    let start = e.ts_start();
    (start, e.ts_end().unwrap_or(now).max(start))
}

/// Whether `text` names `word` as a whole word (case-insensitive; `text` is lower case).
fn mentions(text: &str, word: &str) -> bool {
    let word = word.trim().to_lowercase();
    if word.len() < 3 {
        return false;
    }
    text.match_indices(&word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

fn minutes(secs: i64) -> String {
    if secs < 120 { format!("{secs} s") } else { format!("{} min", secs / 60) }
}

/// The link from `cause` to `effect`, if the evidence is enough.
pub fn link(names: &Names, cause: &StoredEvent, effect: &StoredEvent, window_secs: i64, now: i64) -> Option<Link> {
    if cause.provider == effect.provider {
        return None;
    }
    let (cs, ce) = span(cause, now);
    let (es, ee) = span(effect, now);
    let overlaps = cs <= ee + SKEW_SECS && es <= ce + SKEW_SECS;
    let began_first = cs <= es + SKEW_SECS;
    if !overlaps || !began_first || (es - cs).abs() > window_secs {
        return None;
    }
    let mut confidence: f64 = 0.0;
    let mut evidence = Vec::new();
    let mut tied = false;
    if names.depends(&effect.provider, &cause.provider) {
        confidence += 0.5;
        tied = true;
        evidence.push(format!(
            "{} declares a dependency on {}",
            names.display(&effect.provider),
            names.display(&cause.provider)
        ));
    }
    let text = effect.text();
    let display = names.display(&cause.provider);
    if mentions(&text, &cause.provider) || mentions(&text, display) {
        confidence += 0.3;
        tied = true;
        evidence.push(format!("{} mentions {display}", names.display(&effect.provider)));
    } else if let Some(component) = cause.event.components.iter().find(|c| c.len() >= 4 && mentions(&text, c)) {
        confidence += 0.2;
        tied = true;
        evidence.push(format!("{} mentions {display}'s component {component}", names.display(&effect.provider)));
    }
    if !tied {
        return None;
    }
    let gap = es - cs;
    if (0..=30 * 60).contains(&gap) {
        confidence += 0.2;
    } else if (-SKEW_SECS..=2 * 3600).contains(&gap) {
        confidence += 0.1;
    }
    evidence.push(if gap >= 0 {
        format!("began {} after {display}'s event", minutes(gap))
    } else {
        format!("began {} before {display}'s event (within clock skew)", minutes(-gap))
    });
    Some(Link {
        cause: cause.id.clone(),
        cause_provider: cause.provider.clone(),
        effect: effect.id.clone(),
        effect_provider: effect.provider.clone(),
        confidence: (confidence.min(0.99) * 100.0).round() / 100.0,
        evidence,
    })
}

/// Every link among `events`, strongest first.
pub fn links(names: &Names, events: &[StoredEvent], window_secs: i64, now: i64) -> Vec<Link> {
    let mut out = Vec::new();
    for cause in events {
        for effect in events {
            if let Some(l) = link(names, cause, effect, window_secs, now) {
                out.push(l);
            }
        }
    }
    out.sort_by(|a, b| b.confidence.total_cmp(&a.confidence).then_with(|| a.cause.cmp(&b.cause)));
    out
}

/// An internal incident, as correlation needs it.
pub struct IncidentFacts<'a> {
    pub services: &'a [String],
    pub started_at: i64,
    pub ended_at: Option<i64>,
    /// Title and summary, lower case.
    pub text: String,
}

/// A provider event that probably caused an internal incident.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Cause {
    pub event: crate::view::EventView,
    pub confidence: f64,
    pub evidence: Vec<String>,
}

/// The provider events that probably caused an incident, strongest first: events of providers
/// (and components) the incident's services declare, overlapping the incident in time.
pub fn causes(
    names: &Names,
    services: &[InternalService],
    incident: &IncidentFacts,
    events: &[StoredEvent],
    window_secs: i64,
    now: i64,
) -> Vec<Cause> {
    let (is, ie) = (incident.started_at, incident.ended_at.unwrap_or(now).max(incident.started_at));
    let mut out = Vec::new();
    for event in events {
        let (es, ee) = span(event, now);
        if es > ie + SKEW_SECS || ee + SKEW_SECS < is || is - es > window_secs {
            continue;
        }
        let display = names.display(&event.provider);
        let mut confidence: f64 = 0.0;
        let mut evidence = Vec::new();
        for service in services.iter().filter(|s| incident.services.contains(&s.name)) {
            for dep in service.depends_on.iter().filter(|d| d.provider == event.provider) {
                let component = dep.components.iter().find(|c| {
                    event.event.components.iter().any(|ec| ec.to_lowercase().contains(c.as_str()))
                        || event.event.title.to_lowercase().contains(c.as_str())
                });
                if dep.components.is_empty() {
                    confidence += 0.4;
                    evidence.push(format!("{} depends on {display}", service.name));
                } else if let Some(c) = component {
                    confidence += 0.6;
                    evidence.push(format!("{} depends on {display} {c}, which this event affects", service.name));
                }
            }
        }
        if confidence == 0.0 {
            continue;
        }
        if mentions(&incident.text, &event.provider) || mentions(&incident.text, display) {
            confidence += 0.2;
            evidence.push(format!("the incident mentions {display}"));
        }
        let gap = is - es;
        if (0..=3600).contains(&gap) {
            confidence += 0.2;
            evidence.push(format!("the incident began {} after {display}'s event", minutes(gap)));
        } else if gap >= 0 {
            evidence.push(format!("the incident began {} after {display}'s event", minutes(gap)));
        } else {
            evidence.push(format!("{display}'s event began {} after the incident", minutes(-gap)));
        }
        out.push(Cause {
            event: crate::view::EventView::from(event),
            confidence: (confidence.min(0.99) * 100.0).round() / 100.0,
            evidence,
        });
    }
    out.sort_by(|a, b| b.confidence.total_cmp(&a.confidence).then_with(|| a.event.id.cmp(&b.event.id)));
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::Dependency;
    use crate::event::{EventUpdate, Impact, ProviderEvent};

    fn provider(name: &str, display: &str, depends_on: &[&str]) -> Provider {
        crate::domain::sample_provider(name, display, depends_on)
    }

    fn event(provider: &str, title: &str, start: i64, body: &str, components: &[&str]) -> StoredEvent {
        let at = chrono::Utc.timestamp_opt(start, 0).single();
        StoredEvent {
            id: format!("{provider}.{start}"),
            provider: provider.into(),
            event: ProviderEvent {
                external_id: start.to_string(),
                title: title.into(),
                status: "investigating".into(),
                impact: Impact::Major,
                components: components.iter().map(|c| c.to_string()).collect(),
                regions: vec![],
                started_at: at,
                updated_at: at,
                ended_at: None,
                url: None,
                updates: vec![EventUpdate { at, status: "investigating".into(), body: body.into() }],
            },
            first_seen_at: start,
            last_change_at: start,
            fingerprint: String::new(),
            history: vec![],
        }
    }

    const T: i64 = 1_750_000_000;

    #[test]
    fn a_declared_dependency_and_a_mention_make_a_strong_link() {
        let providers = [provider("cloudflare", "Cloudflare", &[]), provider("github", "GitHub", &["cloudflare"])];
        let names = Names::new(&providers);
        let cf = event("cloudflare", "Elevated 5xx on CDN", T, "", &["CDN"]);
        let gh = event("github", "Degraded pages", T + 600, "Caused by an upstream Cloudflare outage", &[]);
        let found = links(&names, &[cf.clone(), gh.clone()], 7200, T + 1000);
        assert_eq!(found.len(), 1, "{found:?}");
        let l = &found[0];
        assert_eq!((l.cause.as_str(), l.effect.as_str()), (cf.id.as_str(), gh.id.as_str()));
        assert_eq!(l.confidence, 0.99);
        assert_eq!(l.evidence.len(), 3, "{:?}", l.evidence);
        assert!(l.evidence[0].contains("declares a dependency"));
    }

    #[test]
    fn no_link_without_a_tie_or_without_overlap_or_backwards_in_time() {
        let providers = [provider("cloudflare", "Cloudflare", &[]), provider("github", "GitHub", &[])];
        let names = Names::new(&providers);
        let cf = event("cloudflare", "CDN errors", T, "", &["CDN"]);
        let unrelated = event("github", "Actions slow", T + 60, "Runners backlog", &[]);
        assert!(links(&names, &[cf.clone(), unrelated], 7200, T + 100).is_empty());
        let mut over = cf.clone();
        over.event.ended_at = chrono::Utc.timestamp_opt(T + 60, 0).single();
        let later = event("github", "Pages down", T + 4 * 3600, "Cloudflare again?", &[]);
        assert!(links(&names, &[over, later], 7200, T + 5 * 3600).is_empty(), "no overlap");
        let earlier = event("github", "Pages down", T - 3600, "Cloudflare?", &[]);
        assert!(link(&names, &cf, &earlier, 7200, T + 60).is_none(), "a cause cannot begin an hour after its effect");
    }

    #[test]
    fn a_component_mention_is_weaker_evidence() {
        let providers = [provider("aws", "AWS", &[]), provider("slack", "Slack", &[])];
        let names = Names::new(&providers);
        let aws = event("aws", "Increased error rates", T, "", &["DynamoDB"]);
        let slack = event("slack", "Messages delayed", T + 3 * 3600, "A dynamodb dependency is degraded", &[]);
        let l = link(&names, &aws, &slack, 6 * 3600, T + 4 * 3600).expect("linked");
        assert_eq!(l.confidence, 0.2);
        assert!(l.evidence[0].contains("component DynamoDB"), "{:?}", l.evidence);
        assert!(!mentions("awsome", "aws") && mentions("an aws outage", "aws"));
    }

    #[test]
    fn incidents_are_linked_to_events_of_the_providers_their_services_use() {
        let providers = [provider("cloudflare", "Cloudflare", &[])];
        let names = Names::new(&providers);
        let services = [InternalService {
            name: "checkout".into(),
            depends_on: vec![Dependency { provider: "cloudflare".into(), components: vec!["cdn".into()] }],
            updated_at: 0,
        }];
        let cdn = event("cloudflare", "CDN errors", T, "", &["CDN"]);
        let dash = event("cloudflare", "Dashboard slow", T, "", &["Dashboard"]);
        let incident = IncidentFacts {
            services: &["checkout".to_string()],
            started_at: T + 300,
            ended_at: None,
            text: "checkout errors behind cloudflare".into(),
        };
        let found = causes(&names, &services, &incident, &[cdn.clone(), dash], 7200, T + 600);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].event.id, cdn.id);
        assert_eq!(found[0].confidence, 0.99);
        let other = IncidentFacts { services: &["search".to_string()], ..incident };
        assert!(causes(&names, &services, &other, &[cdn], 7200, T + 600).is_empty());
    }
}
