//! The adapters against real recorded payloads (tests/fixtures/csp at the root, read byte for byte).

use csp_ingestor::adapters::{gcp, statuspage};
use csp_ingestor::event::{Impact, ParseError};

fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/../../tests/fixtures/csp/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

#[test]
fn github_summary_with_an_active_major_incident() {
    let bytes = fixture("statuspage/github-summary-active-major-incident-2022-11-25.json");
    let events = statuspage::parse(&bytes).expect("parses");
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e.title, "Incident with Packages and Pages");
    assert_eq!((e.status.as_str(), e.impact), ("investigating", Impact::Major));
    assert!(e.is_active());
    assert_eq!(e.updates.len(), 7);
    assert!(e.updates.windows(2).all(|w| w[0].at <= w[1].at), "oldest first");
    assert!(e.components.iter().any(|c| c == "Packages"), "{:?}", e.components);
    assert_eq!(statuspage::indicator(&bytes).as_deref(), Some("minor"), "the indicator can be lower than the impact");
}

#[test]
fn github_incident_history_is_all_resolved_with_its_impacts() {
    let events = statuspage::parse(&fixture("statuspage/github-incidents-2026-07-31.json")).expect("parses");
    assert_eq!(events.len(), 50);
    assert!(events.iter().all(|e| !e.is_active() && e.status == "resolved"));
    let count = |i: Impact| events.iter().filter(|e| e.impact == i).count();
    assert_eq!(
        (count(Impact::Minor), count(Impact::Critical), count(Impact::Major), count(Impact::None)),
        (26, 11, 10, 3)
    );
}

#[test]
fn a_single_incident_object_with_a_post_resolution_edit() {
    let events =
        statuspage::parse(&fixture("statuspage/github-single-incident-actions-critical-resolved-2026-07-19.json"))
            .expect("parses");
    let e = &events[0];
    assert_eq!((e.impact, e.updates.len()), (Impact::Critical, 18));
    let (ended, updated) = (e.ended_at.expect("resolved"), e.updated_at.expect("updated"));
    assert!(updated > ended, "the edit after resolution is kept apart from the end");
}

#[test]
fn scheduled_maintenances_and_empty_or_status_only_documents() {
    let events = statuspage::parse(&fixture("statuspage/claude-scheduled-maintenances-completed-2026-09-15.json"))
        .expect("parses");
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e.impact == Impact::Maintenance && e.status == "completed" && !e.is_active()));
    assert!(events.iter().all(|e| e.started_at.is_some()), "scheduled_for is the start");
    assert!(
        statuspage::parse(&fixture("statuspage/github-incidents-unresolved-empty-2026-07-13.json"))
            .expect("parses")
            .is_empty()
    );
    let status = fixture("statuspage/github-status-indicator-none-2026-07-13.json");
    assert!(statuspage::parse(&status).expect("parses").is_empty());
    assert_eq!(statuspage::indicator(&status).as_deref(), Some("none"));
    let calm =
        statuspage::parse(&fixture("statuspage/github-summary-all-operational-2026-07-31.json")).expect("parses");
    assert!(calm.is_empty());
}

#[test]
fn incident_io_pages_speak_statuspage_with_fewer_fields() {
    let events =
        statuspage::parse(&fixture("incidentio/openai-statuspage-compat-summary-active-incidents-2026-09-29.json"))
            .expect("parses");
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e.is_active() && e.status == "investigating" && e.url.is_none()));
    let impacts: Vec<Impact> = events.iter().map(|e| e.impact).collect();
    assert!(impacts.contains(&Impact::Minor) && impacts.contains(&Impact::None));
    assert!(events.iter().all(|e| e.started_at.is_some()), "created_at stands in for started_at");
    let calm =
        statuspage::parse(&fixture("incidentio/openai-statuspage-compat-summary-all-operational-2026-07-09.json"))
            .expect("parses");
    assert!(calm.is_empty(), "no incidents key at all is no incident");
}

#[test]
fn gcp_incidents_use_end_to_decide_and_map_severity() {
    let events =
        gcp::parse(&fixture("gcp/gcp-incidents-2022-07-01-first-13-of-157-all-resolved.json")).expect("parses");
    assert_eq!(events.len(), 13);
    assert!(events.iter().all(|e| !e.is_active() && e.status == "resolved"));
    let count = |i: Impact| events.iter().filter(|e| e.impact == i).count();
    assert_eq!((count(Impact::Minor), count(Impact::Major), count(Impact::Critical)), (9, 3, 1));
    let first = &events[0];
    assert_eq!(first.title, "[Google BigQuery] Lower throughput from the Read API");
    assert_eq!(first.components, ["Google BigQuery"]);
    assert_eq!(first.url.as_deref(), Some("https://status.cloud.google.com/incidents/TaA75H7XA1DQyM2ReK2f"));
    assert!(events.iter().any(|e| e.regions.len() >= 30), "previously affected locations become regions");

    let newer = gcp::parse(&fixture("gcp/gcp-incidents-2026-09-first-1-of-6-multi-product-resolved-truncated.json"))
        .expect("parses");
    assert_eq!(newer.len(), 1);
    // The payload lists 15 affected_products (SOURCES.md says 16); the bytes decide.
    assert_eq!(newer[0].components.len(), 15, "affected_products, not 'Multiple Products'");
    assert_eq!((newer[0].impact, newer[0].updates.len()), (Impact::Major, 8));
}

#[test]
fn garbage_is_an_error_never_a_panic() {
    for bad in [&b""[..], b"{", b"[1,2", b"\xff\xfe\x00", b"null", b"42"] {
        assert!(statuspage::parse(bad).is_err(), "{bad:?}");
        assert!(gcp::parse(bad).is_err(), "{bad:?}");
    }
    assert!(matches!(statuspage::parse(b"{\"hello\": 1}"), Err(ParseError::UnknownShape(_))));
    assert!(matches!(gcp::parse(b"{}"), Err(ParseError::UnknownShape(_))));
}

mod feeds {
    use csp_ingestor::adapters::feed;
    use csp_ingestor::event::{Impact, ProviderEvent};

    fn parse(path: &str) -> Vec<ProviderEvent> {
        feed::parse(&super::fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn active(events: &[ProviderEvent]) -> Vec<(&str, &str)> {
        events.iter().filter(|e| e.is_active()).map(|e| (e.status.as_str(), e.title.as_str())).collect()
    }

    #[test]
    fn statuspage_rss_with_a_maintenance_in_progress() {
        let events = parse("statuspage-feed/digitalocean-history-2020-01-21-maintenance-in-progress.rss");
        assert_eq!(events.len(), 25);
        assert_eq!(active(&events), [("in progress", "AMS3 Region Network Maintenance")]);
        assert_eq!(events[0].impact, Impact::Maintenance);
        assert!(events.iter().filter(|e| !e.is_active()).all(|e| e.status == "resolved" || e.status == "completed"));
    }

    #[test]
    fn statuspage_atom_feeds_old_and_new() {
        let github = parse("statuspage-feed/github-history-2019-11-22.atom");
        assert_eq!(github.len(), 25);
        assert!(active(&github).is_empty());
        let genesys = parse("statuspage-feed/genesys-cloud-history-2025-10-20-active-identified.atom");
        assert_eq!(genesys.len(), 5);
        assert_eq!(active(&genesys), [("identified", "Americas (US East) Incident")]);
        let sauce = parse("statuspage-feed/saucelabs-us-west-history-2020-11-15.atom");
        assert_eq!(sauce.len(), 25);
        assert!(sauce.iter().any(|e| e.impact == Impact::Maintenance && e.status == "completed"));
        let parse_2014 = parse("statuspage-feed/parse-history-2014-01-09.rss");
        assert_eq!(parse_2014.len(), 17, "the 2014 layout reads too");
        assert!(parse_2014.iter().any(|e| e.status == "postmortem"));
    }

    #[test]
    fn incident_io_feeds_state_the_status_in_bold() {
        let rss = parse("incidentio/openai-history-2025-10-20-monitoring.rss");
        assert_eq!(rss.len(), 3);
        assert_eq!(active(&rss), [("monitoring", "Single Sign On (SSO) login issues")]);
        let atom = parse("incidentio/openai-history-atom-2025-06-13-one-entry.atom");
        assert_eq!((atom.len(), atom[0].status.as_str(), atom[0].title.as_str()), (1, "resolved", "Log in issues"));
    }

    #[test]
    fn google_feed_entries_of_one_incident_become_one_event() {
        let events = parse("gcp/gcp-feed-atom-2025-06-13-two-entries-trimmed.atom");
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e.external_id, "ow5i3PPK96RduMcb1SsW");
        assert_eq!(e.status, "resolved");
        assert_eq!(e.updates.len(), 2);
        assert!(!e.title.starts_with("RESOLVED"), "the status prefix is not part of the title: {}", e.title);
    }

    #[test]
    fn aws_and_generic_feeds() {
        let athena = parse("aws/aws-rss-athena-us-west-2-service-impact-2025-06-13.rss");
        assert_eq!(active(&athena), [("investigating", "Service impact: Increased Queue Processing Time")]);
        assert!(parse("aws/aws-rss-connect-eu-west-2-no-events-2025-06-13.rss").is_empty());
        let okta = parse("generic-feed/okta-trust-status-atom-2025-06-19-one-entry.atom");
        assert_eq!((okta.len(), okta[0].status.as_str()), (1, "resolved"));
    }

    #[test]
    fn garbage_feeds_are_errors() {
        for bad in [&b""[..], b"<rss", b"{\"json\": true}", b"\xff\xfe<\x00"] {
            assert!(feed::parse(bad).is_err(), "{bad:?}");
        }
    }
}

mod aws {
    use csp_ingestor::adapters::aws;
    use csp_ingestor::event::Impact;

    #[test]
    fn two_open_middle_east_events() {
        let events =
            aws::parse(&super::fixture("aws/aws-currentevents-two-open-middle-east-events-2026-03-trimmed.json"))
                .expect("parses");
        assert_eq!(events.len(), 2);
        assert!(events.iter().all(|e| e.is_active() && e.impact == Impact::Critical));
        let regions: Vec<&str> = events.iter().flat_map(|e| e.regions.iter().map(String::as_str)).collect();
        assert_eq!(regions, ["me-central-1", "me-south-1"]);
        assert!(events[0].external_id.starts_with("arn:aws:health:me-central-1::event/MULTIPLE_SERVICES/"));
        assert!(events[0].components.len() >= 2, "the service and the impacted ones: {:?}", events[0].components);
        assert!(!events[0].updates.is_empty());
    }

    #[test]
    fn the_same_event_later_with_a_long_log_and_the_empty_answer() {
        let events =
            aws::parse(&super::fixture("aws/aws-currentevents-me-central-1-long-event-log-2026-04-30-trimmed.json"))
                .expect("parses");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].updates.len(), 2);
        assert_eq!(events[0].updated_at.map(|t| t.timestamp()), Some(1_777_533_954));
        assert!(
            aws::parse(&super::fixture("aws/aws-currentevents-empty-no-open-events.json")).expect("parses").is_empty()
        );
    }

    #[test]
    fn utf16_with_a_byte_order_mark_reads_like_utf8() {
        let utf8 = super::fixture("aws/aws-currentevents-two-open-middle-east-events-2026-03-trimmed.json");
        let text = String::from_utf8(utf8.clone()).expect("utf-8");
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let mut be = vec![0xFE, 0xFF];
        be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        let expected = aws::parse(&utf8).expect("utf-8 parses");
        assert_eq!(aws::parse(&le).expect("utf-16 le parses"), expected);
        assert_eq!(aws::parse(&be).expect("utf-16 be parses"), expected);
        assert!(aws::parse(&[0xFF, 0xFE, 0x5B]).is_err(), "an odd byte count is an error, not a panic");
    }

    #[test]
    fn the_legacy_archive_is_all_resolved() {
        let events =
            aws::parse(&super::fixture("aws/aws-legacy-status-data-json-2021-archive-86-events.json")).expect("parses");
        assert_eq!(events.len(), 86);
        assert_eq!(
            events.iter().filter(|e| e.status == "resolved" && !e.is_active()).count(),
            86,
            "every archived event says [RESOLVED]"
        );
        assert!(events.iter().all(|e| !e.title.starts_with("[RESOLVED]")));
    }
}

mod statusio_and_slack {
    use csp_ingestor::adapters::{slack, statusio};
    use csp_ingestor::event::Impact;

    #[test]
    fn status_io_pages_all_operational_and_with_an_upcoming_maintenance() {
        let docker = statusio::parse(&super::fixture("statusio/docker-statusio-all-operational-2026-07-13.json"))
            .expect("parses");
        assert!(docker.is_empty());
        let gitlab = statusio::parse(&super::fixture(
            "statusio/gitlab-statusio-operational-with-upcoming-maintenance-2023-06-29.json",
        ))
        .expect("parses");
        assert_eq!(gitlab.len(), 1);
        let m = &gitlab[0];
        assert_eq!(
            (m.title.as_str(), m.status.as_str(), m.impact),
            ("CI Cluster PostgreSQL 14 Upgrade", "scheduled", Impact::Maintenance)
        );
        assert_eq!(m.started_at.map(|t| t.to_rfc3339()), Some("2023-07-08T14:00:00+00:00".into()), "the planned start");
        assert!(statusio::parse(b"{\"result\": {}}").is_err());
    }

    #[test]
    fn slack_ok_and_an_active_outage() {
        assert!(
            slack::parse(&super::fixture("slack/slack-current-ok-vendor-docs-example-2018-09-07.json"))
                .expect("parses")
                .is_empty()
        );
        // The documented "active" shape (the vendor's own sample is not valid JSON, so not a fixture).
        let active = br#"{"status": "active", "date_created": "2018-09-07T18:34:15-07:00", "date_updated": "2018-09-07T18:34:15-07:00",
            "active_incidents": [{"id": 546, "date_created": "2018-09-07T14:35:00-07:00", "date_updated": "2018-09-07T18:34:15-07:00",
            "title": "Slack's calls feature not working", "type": "outage", "status": "active", "url": "https://status.slack.com/2018-09/7dea1cd14cd0f657",
            "services": ["Calls"], "notes": [{"date_created": "2018-09-07T18:34:15-07:00", "body": "Technical Summary: ..."}]}]}"#;
        let events = slack::parse(active).expect("parses");
        assert_eq!(events.len(), 1);
        assert_eq!((events[0].external_id.as_str(), events[0].impact), ("546", Impact::Critical));
        assert!(events[0].is_active());
        assert_eq!(events[0].components, ["Calls"]);
        assert!(slack::parse(b"[]").is_err());
    }
}

mod detection {
    use csp_ingestor::adapters::{self, Format, detect_json};

    /// Every JSON fixture is recognised for what it is, and parses through `type: json`.
    #[test]
    fn the_json_family_is_told_apart_by_shape() {
        let expected = [
            ("statuspage/github-summary-active-major-incident-2022-11-25.json", Format::Statuspage),
            ("statuspage/github-incidents-2026-07-31.json", Format::Statuspage),
            ("statuspage/github-single-incident-actions-critical-resolved-2026-07-19.json", Format::Statuspage),
            ("statuspage/github-status-indicator-none-2026-07-13.json", Format::Statuspage),
            ("statuspage/github-incidents-unresolved-empty-2026-07-13.json", Format::Statuspage),
            ("statuspage/claude-scheduled-maintenances-completed-2026-09-15.json", Format::Statuspage),
            ("statuspage/github-summary-all-operational-2026-07-31.json", Format::Statuspage),
            ("incidentio/openai-statuspage-compat-summary-active-incidents-2026-09-29.json", Format::Statuspage),
            ("incidentio/openai-statuspage-compat-summary-all-operational-2026-07-09.json", Format::Statuspage),
            ("gcp/gcp-incidents-2022-07-01-first-13-of-157-all-resolved.json", Format::Gcp),
            ("gcp/gcp-incidents-2026-09-first-1-of-6-multi-product-resolved-truncated.json", Format::Gcp),
            ("aws/aws-currentevents-two-open-middle-east-events-2026-03-trimmed.json", Format::Aws),
            ("aws/aws-currentevents-empty-no-open-events.json", Format::Aws),
            ("aws/aws-currentevents-me-central-1-long-event-log-2026-04-30-trimmed.json", Format::Aws),
            ("aws/aws-legacy-status-data-json-2021-archive-86-events.json", Format::Aws),
            ("statusio/docker-statusio-all-operational-2026-07-13.json", Format::Statusio),
            ("statusio/gitlab-statusio-operational-with-upcoming-maintenance-2023-06-29.json", Format::Statusio),
            ("slack/slack-current-ok-vendor-docs-example-2018-09-07.json", Format::Slack),
        ];
        for (path, format) in expected {
            let bytes = super::fixture(path);
            assert_eq!(detect_json(&bytes), Ok(format), "{path}");
            assert_eq!(adapters::parse(Format::Json, &bytes), adapters::parse(format, &bytes), "{path}");
        }
        assert!(detect_json(&super::fixture("gcp/gcp-incidents.schema.json")).is_err(), "a schema is not a payload");
    }

    #[test]
    fn rss_reads_every_feed_fixture_and_types_are_named() {
        for path in [
            "statuspage-feed/github-history-2019-11-22.atom",
            "statuspage-feed/parse-history-2014-01-09.rss",
            "gcp/gcp-feed-atom-2025-06-13-two-entries-trimmed.atom",
            "generic-feed/okta-trust-status-atom-2025-06-19-one-entry.atom",
        ] {
            assert!(adapters::parse(Format::Rss, &super::fixture(path)).is_ok(), "{path}");
        }
        assert_eq!(Format::parse("JSON"), Ok(Format::Json));
        assert_eq!(Format::parse("atom"), Ok(Format::Rss));
        assert!(Format::parse("xml").is_err());
    }
}
