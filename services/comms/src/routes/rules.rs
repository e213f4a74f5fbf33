//! How the handlers check free text, each rule the one its field documents: `format = "line"`,
//! `"text"` or `"text-or-empty"` (the platform turns them into patterns) with `max_length`.
//! Lengths count characters as sent (what JSON Schema's `maxLength` counts); the value kept is
//! trimmed.

/// Control characters (Unicode Cc) that text spanning lines may hold: tab, newline, return.
fn allowed_in_text(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r')
}

fn length(raw: &str, max: usize) -> Result<(), String> {
    if raw.chars().count() > max { Err(format!("must be at most {max} characters")) } else { Ok(()) }
}

/// One line (no control characters at all), not blank, at most `max` characters: `line`.
pub fn line(raw: &str, max: usize) -> Result<String, String> {
    if raw.chars().any(char::is_control) {
        return Err("must be one line without control characters".into());
    }
    length(raw, max)?;
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(format!("must be 1 to {max} characters, not blank"));
    }
    Ok(trimmed.to_string())
}

/// Text that may span lines, at most `max` characters, blank only when `allow_empty`: `text`
/// or `text-or-empty`.
pub fn text(raw: &str, max: usize, allow_empty: bool) -> Result<String, String> {
    if raw.chars().any(|c| c.is_control() && !allowed_in_text(c)) {
        return Err("must not contain control characters other than tab, newline and return".into());
    }
    length(raw, max)?;
    let trimmed = raw.trim();
    if trimmed.is_empty() && !allow_empty {
        return Err(format!("must be 1 to {max} characters, not blank"));
    }
    Ok(trimmed.to_string())
}

/// One of an enum's values exactly as documented (lower case, nothing around it), else `message`.
pub fn one_of<T: serde::de::DeserializeOwned>(raw: &str, message: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(raw.to_string())).map_err(|_| message.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_texts_follow_their_formats() {
        assert_eq!(line("  checkout  ", 12), Ok("checkout".into()));
        assert!(line("a\nb", 10).is_err(), "one line");
        assert!(line("a\u{85}b", 10).is_err(), "C1 controls too");
        assert!(line(" \u{a0} ", 10).is_err(), "blank");
        assert!(line("  abc", 4).is_err(), "the length counts what was sent");
        assert_eq!(line("é".repeat(5).as_str(), 5), Ok("ééééé".into()), "characters, not bytes");
        assert_eq!(text(" a\r\n\tb ", 10, false), Ok("a\r\n\tb".into()));
        assert!(text("a\u{7}", 10, false).is_err());
        assert!(text("  ", 10, false).is_err());
        assert_eq!(text("  ", 10, true), Ok(String::new()));
    }

    #[test]
    fn enum_values_are_taken_as_documented() {
        use crate::domain::AnnouncementState;
        assert_eq!(one_of::<AnnouncementState>("resolved", "no"), Ok(AnnouncementState::Resolved));
        assert_eq!(one_of::<AnnouncementState>("Resolved", "no"), Err("no".into()));
        assert_eq!(one_of::<AnnouncementState>(" resolved", "no"), Err("no".into()));
    }
}
