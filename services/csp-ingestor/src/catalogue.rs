//! Well-known providers, which an admin adds by name alone.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::ProviderType;

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct KnownProvider {
    #[schema(example = "cloudflare")]
    pub name: &'static str,
    #[schema(example = "Cloudflare")]
    pub display_name: &'static str,
    #[schema(example = "https://www.cloudflarestatus.com/api/v2/summary.json")]
    pub feed_url: &'static str,
    #[serde(rename = "type")]
    pub kind: ProviderType,
}

const fn known(
    name: &'static str,
    display_name: &'static str,
    feed_url: &'static str,
    kind: ProviderType,
) -> KnownProvider {
    KnownProvider { name, display_name, feed_url, kind }
}

pub const CATALOGUE: &[KnownProvider] = &[
    known("cloudflare", "Cloudflare", "https://www.cloudflarestatus.com/api/v2/summary.json", ProviderType::Statuspage),
    known("github", "GitHub", "https://www.githubstatus.com/api/v2/summary.json", ProviderType::Statuspage),
    known("atlassian", "Atlassian", "https://status.atlassian.com/api/v2/summary.json", ProviderType::Statuspage),
    known("gcp", "Google Cloud", "https://status.cloud.google.com/incidents.json", ProviderType::Gcp),
    known("aws", "AWS", "https://health.aws.amazon.com/public/currentevents", ProviderType::Aws),
    known("gitlab", "GitLab", "https://api.status.io/1.0/status/5b36dc6502d06804c08349f7", ProviderType::Statusio),
    known("docker", "Docker", "https://api.status.io/1.0/status/533c6539221ae15e3f000031", ProviderType::Statusio),
    known("slack", "Slack", "https://slack-status.com/api/v2.0.0/current", ProviderType::Slack),
    known("openai", "OpenAI", "https://status.openai.com/api/v2/summary.json", ProviderType::Statuspage),
    known("anthropic", "Anthropic", "https://status.anthropic.com/api/v2/summary.json", ProviderType::Statuspage),
    known(
        "digitalocean",
        "DigitalOcean",
        "https://status.digitalocean.com/api/v2/summary.json",
        ProviderType::Statuspage,
    ),
    known("datadog", "Datadog", "https://status.datadoghq.com/api/v2/summary.json", ProviderType::Statuspage),
    known("twilio", "Twilio", "https://status.twilio.com/api/v2/summary.json", ProviderType::Statuspage),
    known("npm", "npm", "https://status.npmjs.org/api/v2/summary.json", ProviderType::Statuspage),
    known("discord", "Discord", "https://discordstatus.com/api/v2/summary.json", ProviderType::Statuspage),
    known("linear", "Linear", "https://linearstatus.com/api/v2/summary.json", ProviderType::Statuspage),
];

pub fn find(name: &str) -> Option<&'static KnownProvider> {
    CATALOGUE.iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_valid_and_named_once() {
        for (i, p) in CATALOGUE.iter().enumerate() {
            assert_eq!(crate::domain::check_name(p.name).as_deref(), Ok(p.name));
            assert!(crate::domain::check_url(p.feed_url).is_ok(), "{}", p.feed_url);
            assert!(p.feed_url.starts_with("https://"), "{}", p.feed_url);
            assert!(CATALOGUE[i + 1..].iter().all(|q| q.name != p.name), "{} twice", p.name);
        }
        assert!(find("github").is_some() && find("nope").is_none());
    }
}
