//! The ChatOps command language, the same from a slash command (`/incident declare ...`) and
//! from a mention of the app (`@PolyStatus declare ...`).

use platform::auth::Role;

use crate::domain::AnnouncementState;

/// Who a command names as commander.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignee {
    /// The caller.
    Me,
    /// A Slack user (`<@U024BE7LH>` or `<@U024BE7LH|bob>`).
    Slack(String),
    /// A PolyStatus user by email.
    Email(String),
    /// Nobody: unassign.
    Nobody,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Declare { title: String, sev: u8 },
    Status { id: String, status: String, reason: Option<String> },
    Assign { id: String, to: Assignee },
    Note { id: String, text: String },
    Announce { id: String, state: AnnouncementState, message: String },
    List,
    Help,
}

impl Command {
    /// The least role a command needs.
    pub fn role(&self) -> Role {
        match self {
            Command::List | Command::Help => Role::Viewer,
            _ => Role::Sre,
        }
    }

    /// Whether it changes anything (its answer is shown to the whole channel).
    pub fn changes(&self) -> bool {
        !matches!(self, Command::List | Command::Help)
    }
}

pub const DEFAULT_SEV: u8 = 3;
const MAX_TITLE: usize = 200;
const MAX_TEXT: usize = 5000;

pub fn help(command: &str) -> String {
    format!(
        "*PolyStatus incident commands*\n\
         `{command} declare <title> [sev 1-4]` declare an incident (sev {DEFAULT_SEV} unless given)\n\
         `{command} status INC-4F2A9C <open|mitigated|resolved> [reason]` change its status\n\
         `{command} assign INC-4F2A9C <@user|email|me|nobody>` set the incident commander\n\
         `{command} note INC-4F2A9C <text>` add a note to the timeline\n\
         `{command} announce INC-4F2A9C <investigating|identified|monitoring|resolved> <message>` post to the public status page\n\
         `{command} list` open incidents\n\
         `{command} help` this message"
    )
}

/// `INC-` and six hex digits, upper-cased.
fn incident_id(raw: Option<&str>) -> Result<String, String> {
    let raw = raw.ok_or("name the incident, like INC-4F2A9C")?;
    crate::routes::incident_id(raw).map_err(|_| format!("`{raw}` is not an incident id like INC-4F2A9C"))
}

/// Splits off the first word.
fn word(text: &str) -> (Option<&str>, &str) {
    let text = text.trim_start();
    if text.is_empty() {
        return (None, "");
    }
    match text.find(char::is_whitespace) {
        Some(i) => (Some(&text[..i]), text[i..].trim_start()),
        None => (Some(text), ""),
    }
}

fn bounded(text: &str, what: &str, max: usize) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("the {what} is missing"));
    }
    if text.chars().count() > max {
        return Err(format!("the {what} is longer than {max} characters"));
    }
    Ok(text.to_string())
}

/// A trailing `sev 2`, `sev2`, `sev:2` or `sev=2` (any case), and the text before it.
fn trailing_sev(text: &str) -> Result<(String, Option<u8>), String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let parse = |digits: &str| match digits.parse::<u8>() {
        Ok(n @ 1..=4) => Ok(Some(n)),
        _ => Err(format!("severity `{digits}` must be 1 to 4")),
    };
    let lower = |w: &str| w.to_ascii_lowercase();
    let (keep, sev) = match words.as_slice() {
        [head @ .., last] if lower(last).starts_with("sev") && last.len() > 3 => {
            let digits = last[3..].trim_start_matches([':', '=']);
            (head.len(), parse(digits)?)
        }
        [head @ .., before, last] if lower(before) == "sev" => (head.len(), parse(last)?),
        _ => (words.len(), None),
    };
    Ok((words[..keep].join(" "), sev))
}

fn assignee(raw: Option<&str>) -> Result<Assignee, String> {
    let raw = raw.ok_or("name the commander: @user, an email, me or nobody")?;
    if let Some(inner) = raw.strip_prefix("<@").and_then(|r| r.strip_suffix('>')) {
        let id = inner.split('|').next().unwrap_or_default();
        if !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Ok(Assignee::Slack(id.to_string()));
        }
    }
    match raw.to_ascii_lowercase().as_str() {
        "me" => return Ok(Assignee::Me),
        "nobody" | "none" => return Ok(Assignee::Nobody),
        _ => {}
    }
    let email = raw.trim_start_matches("<mailto:").trim_end_matches('>');
    let email = email.split('|').next().unwrap_or_default().to_ascii_lowercase();
    if email.contains('@') && !email.starts_with('@') {
        return Ok(Assignee::Email(email));
    }
    Err(format!("`{raw}` is not a Slack mention, an email, me or nobody"))
}

/// Parses a command's text (what follows `/incident` or the app's mention).
pub fn parse(text: &str) -> Result<Command, String> {
    let (verb, rest) = word(text);
    let Some(verb) = verb else { return Ok(Command::Help) };
    match verb.to_ascii_lowercase().as_str() {
        "help" | "?" => Ok(Command::Help),
        "list" | "ls" => Ok(Command::List),
        "declare" | "new" | "open" => {
            let (title, sev) = trailing_sev(rest)?;
            Ok(Command::Declare { title: bounded(&title, "title", MAX_TITLE)?, sev: sev.unwrap_or(DEFAULT_SEV) })
        }
        "status" => {
            let (id, rest) = word(rest);
            let id = incident_id(id)?;
            let (status, reason) = word(rest);
            let status = match status.map(str::to_ascii_lowercase).as_deref() {
                Some(s @ ("open" | "mitigated" | "resolved")) => s.to_string(),
                Some(other) => return Err(format!("status `{other}` must be open, mitigated or resolved")),
                None => return Err("give the status: open, mitigated or resolved".into()),
            };
            let reason = (!reason.trim().is_empty()).then(|| bounded(reason, "reason", MAX_TEXT)).transpose()?;
            Ok(Command::Status { id, status, reason })
        }
        "assign" => {
            let (id, rest) = word(rest);
            let id = incident_id(id)?;
            let (who, extra) = word(rest);
            if !extra.is_empty() {
                return Err("assign takes one commander".into());
            }
            Ok(Command::Assign { id, to: assignee(who)? })
        }
        "note" => {
            let (id, rest) = word(rest);
            Ok(Command::Note { id: incident_id(id)?, text: bounded(rest, "note", MAX_TEXT)? })
        }
        "announce" => {
            let (id, rest) = word(rest);
            let id = incident_id(id)?;
            let (state, message) = word(rest);
            let state = AnnouncementState::parse(
                state.ok_or("give the state: investigating, identified, monitoring or resolved")?,
            )
            .map_err(|e| format!("the state {e}"))?;
            Ok(Command::Announce { id, state, message: bounded(message, "message", MAX_TEXT)? })
        }
        other => Err(format!("`{other}` is not a command")),
    }
}

/// Removes the app's mention (`<@U0APP>`) from the start of a message.
pub fn strip_mention(text: &str) -> &str {
    let text = text.trim_start();
    match text.strip_prefix("<@").and_then(|rest| rest.find('>').map(|end| &rest[end + 1..])) {
        Some(rest) => rest.trim_start(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declares_with_and_without_a_severity() {
        assert_eq!(
            parse("declare EU API latency sev 2"),
            Ok(Command::Declare { title: "EU API latency".into(), sev: 2 })
        );
        assert_eq!(parse("declare DB down SEV1"), Ok(Command::Declare { title: "DB down".into(), sev: 1 }));
        assert_eq!(parse("declare DB down sev:4"), Ok(Command::Declare { title: "DB down".into(), sev: 4 }));
        assert_eq!(
            parse("  declare   Checkout  errors "),
            Ok(Command::Declare { title: "Checkout errors".into(), sev: 3 })
        );
        assert_eq!(parse("declare severe weather"), Ok(Command::Declare { title: "severe weather".into(), sev: 3 }));
        assert!(parse("declare").expect_err("refused").contains("title"));
        assert!(parse("declare sev 2").expect_err("refused").contains("title"));
        assert!(parse("declare DB sev 7").expect_err("refused").contains("1 to 4"));
        assert!(parse(&format!("declare {}", "x".repeat(201))).expect_err("refused").contains("200"));
    }

    #[test]
    fn reads_every_command() {
        assert_eq!(
            parse("status inc-4f2a9c Mitigated rolled back"),
            Ok(Command::Status {
                id: "INC-4F2A9C".into(),
                status: "mitigated".into(),
                reason: Some("rolled back".into())
            })
        );
        assert_eq!(
            parse("assign INC-4F2A9C <@U024BE7LH|bob>"),
            Ok(Command::Assign { id: "INC-4F2A9C".into(), to: Assignee::Slack("U024BE7LH".into()) })
        );
        assert_eq!(parse("assign INC-4F2A9C me"), Ok(Command::Assign { id: "INC-4F2A9C".into(), to: Assignee::Me }));
        assert_eq!(
            parse("assign INC-4F2A9C <mailto:Ann@Example.com|Ann@Example.com>"),
            Ok(Command::Assign { id: "INC-4F2A9C".into(), to: Assignee::Email("ann@example.com".into()) })
        );
        assert_eq!(
            parse("note INC-4F2A9C  replica 3 is lagging "),
            Ok(Command::Note { id: "INC-4F2A9C".into(), text: "replica 3 is lagging".into() })
        );
        assert_eq!(
            parse("announce INC-4F2A9C monitoring A fix is out"),
            Ok(Command::Announce {
                id: "INC-4F2A9C".into(),
                state: AnnouncementState::Monitoring,
                message: "A fix is out".into()
            })
        );
        assert_eq!(parse("list"), Ok(Command::List));
        assert_eq!(parse(""), Ok(Command::Help));
        assert_eq!(parse("help"), Ok(Command::Help));
    }

    #[test]
    fn says_what_is_wrong() {
        assert!(parse("status INC-4F2A9C broken").expect_err("refused").contains("open, mitigated or resolved"));
        assert!(parse("status INC-4F2A9C").expect_err("refused").contains("give the status"));
        assert!(parse("status 42 resolved").expect_err("refused").contains("not an incident id"));
        assert!(parse("status").expect_err("refused").contains("name the incident"));
        assert!(parse("assign INC-4F2A9C @bob").expect_err("refused").contains("not a Slack mention"));
        assert!(parse("assign INC-4F2A9C me you").expect_err("refused").contains("one commander"));
        assert!(parse("note INC-4F2A9C").expect_err("refused").contains("note is missing"));
        assert!(parse("announce INC-4F2A9C fixed all good").expect_err("refused").contains("investigating"));
        assert!(parse("announce INC-4F2A9C resolved").expect_err("refused").contains("message is missing"));
        assert!(parse("reboot everything").expect_err("refused").contains("not a command"));
    }

    #[test]
    fn mentions_are_stripped() {
        assert_eq!(strip_mention("<@U0APP> declare DB down"), "declare DB down");
        assert_eq!(strip_mention("  <@U0APP|polystatus>   list"), "list");
        assert_eq!(strip_mention("list"), "list");
    }

    #[test]
    fn reads_look_and_changes_need_sre() {
        assert_eq!(Command::List.role(), Role::Viewer);
        assert_eq!(Command::Help.role(), Role::Viewer);
        assert_eq!(Command::Declare { title: "x".into(), sev: 3 }.role(), Role::Sre);
        assert!(!Command::List.changes());
    }
}
