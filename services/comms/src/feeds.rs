//! `/history.rss` and `/history.atom`: the incident history as feeds, one item per incident with
//! its announcements, most recent first.

use std::fmt::Write;

use crate::domain::{Announcement, KnownIncident};
use crate::snapshot::iso;
use crate::store::PublicData;

const ITEMS: usize = 50;

/// Escapes text for XML content and attributes.
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 forbids are dropped rather than breaking the feed.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// The HTML body of an item: each announcement, newest first.
fn body(incident: &KnownIncident, announcements: &[Announcement]) -> String {
    let mut html = String::new();
    for a in announcements.iter().rev() {
        let _ = write!(
            html,
            "<p><small>{}</small><br><strong>{}</strong> - {}</p>",
            iso(a.ts),
            a.state.as_str(),
            xml(&a.message)
        );
    }
    if html.is_empty() {
        let _ = write!(html, "<p><strong>{}</strong></p>", xml(&incident.status));
    }
    html
}

fn link(public_url: &str, incident: &KnownIncident) -> String {
    format!("{public_url}/api/v1/public/incidents/{}", incident.id)
}

/// RFC 2822 has four-digit years only (chrono panics past them); a time outside years 0 to
/// 9999 reads as the epoch rather than taking the feed down.
fn rfc2822(ts: i64) -> String {
    use chrono::Datelike;
    chrono::DateTime::from_timestamp(ts, 0).filter(|d| (0..=9999).contains(&d.year())).unwrap_or_default().to_rfc2822()
}

pub fn rss(data: &PublicData, page_name: &str, public_url: &str) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\n<channel>\n",
    );
    let _ = writeln!(out, "<title>{} status - incident history</title>", xml(page_name));
    let _ = writeln!(out, "<link>{}</link>", xml(public_url));
    let _ = writeln!(
        out,
        "<atom:link href=\"{}/history.rss\" rel=\"self\" type=\"application/rss+xml\"/>",
        xml(public_url)
    );
    let _ = writeln!(out, "<description>Statuspage-style incident history of {}</description>", xml(page_name));
    for (incident, announcements) in data.incidents.iter().take(ITEMS) {
        let updated =
            announcements.iter().map(|a| a.ts).chain([incident.updated_at]).max().unwrap_or(incident.updated_at);
        let _ = writeln!(out, "<item>\n<title>{}</title>", xml(&incident.title));
        let _ = writeln!(out, "<description>{}</description>", xml(&body(incident, announcements)));
        let _ = writeln!(out, "<pubDate>{}</pubDate>", rfc2822(updated));
        let _ = writeln!(out, "<link>{}</link>", xml(&link(public_url, incident)));
        let _ = writeln!(out, "<guid isPermaLink=\"false\">{}</guid>\n</item>", xml(&incident.id));
    }
    out.push_str("</channel>\n</rss>\n");
    out
}

pub fn atom(data: &PublicData, page_name: &str, public_url: &str, now: i64) -> String {
    let updated = data.incidents.iter().map(|(i, _)| i.updated_at).max().unwrap_or(now);
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\">\n",
    );
    let _ = writeln!(out, "<id>{}/history.atom</id>", xml(public_url));
    let _ = writeln!(out, "<title>{} status - incident history</title>", xml(page_name));
    let _ = writeln!(out, "<updated>{}</updated>", iso(updated));
    let _ =
        writeln!(out, "<link rel=\"self\" type=\"application/atom+xml\" href=\"{}/history.atom\"/>", xml(public_url));
    let _ = writeln!(out, "<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>", xml(public_url));
    let _ = writeln!(out, "<author><name>{}</name></author>", xml(page_name));
    for (incident, announcements) in data.incidents.iter().take(ITEMS) {
        let entry_updated =
            announcements.iter().map(|a| a.ts).chain([incident.updated_at]).max().unwrap_or(incident.updated_at);
        let _ = writeln!(out, "<entry>\n<id>{}/incidents/{}</id>", xml(public_url), xml(&incident.id));
        let _ = writeln!(out, "<title>{}</title>", xml(&incident.title));
        let _ = writeln!(out, "<published>{}</published>", iso(incident.started_at));
        let _ = writeln!(out, "<updated>{}</updated>", iso(entry_updated));
        let _ =
            writeln!(out, "<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>", xml(&link(public_url, incident)));
        let _ = writeln!(out, "<content type=\"html\">{}</content>\n</entry>", xml(&body(incident, announcements)));
    }
    out.push_str("</feed>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_past_year_9999_do_not_take_the_feed_down() {
        assert_eq!(rfc2822(0), "Thu, 1 Jan 1970 00:00:00 +0000");
        assert_eq!(rfc2822(i64::MAX), rfc2822(0));
        assert_eq!(rfc2822(300_000_000_000), rfc2822(0), "year 11476");
        assert_eq!(rfc2822(-100_000_000_000), rfc2822(0), "before year 0");
    }

    #[test]
    fn escaping_covers_markup_and_forbidden_characters() {
        assert_eq!(xml("a<b>&\"c'\u{1}"), "a&lt;b&gt;&amp;&quot;c&apos;");
    }
}
