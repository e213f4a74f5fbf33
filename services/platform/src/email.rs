//! Email addresses, as every service that takes one checks them.

use std::fmt;

/// An email address, trimmed and lower-cased, so that `Alice@Example.com` and
/// `alice@example.com` are one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim().to_lowercase();
        const MESSAGE: &str = "must be an email address like alice@example.com";
        if s.len() > 254 {
            return Err("must be at most 254 characters".into());
        }
        let (local, domain) = s.split_once('@').ok_or(MESSAGE)?;
        let valid_local = !local.is_empty() && local.len() <= 64 && !local.starts_with('.') && !local.ends_with('.');
        let valid_domain = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain.split('.').all(|label| !label.is_empty() && label.len() <= 63);
        let clean = s.chars().all(|c| c.is_alphanumeric() || "@.!#$%&'*+-/=?^_`{|}~".contains(c));
        if valid_local && valid_domain && clean && !domain.contains('@') { Ok(Self(s)) } else { Err(MESSAGE.into()) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address with the local part masked, for logs: `a***@example.com`.
    pub fn masked(&self) -> String {
        match self.0.split_once('@') {
            Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
            None => "***".into(),
        }
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_normalised() {
        assert_eq!(Email::parse("  Alice@Example.COM ").map(|e| e.0), Ok("alice@example.com".to_string()));
        assert_eq!(Email::parse("a.b+tag@sub.example.org").map(|e| e.0), Ok("a.b+tag@sub.example.org".into()));
    }

    #[test]
    fn bad_addresses_are_refused() {
        for bad in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "alice@example",
            "a@b@c.com",
            "a b@c.com",
            "a@.com",
            "a@c..com",
            "<a>@c.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
    }

    #[test]
    fn masking_hides_the_local_part() {
        assert_eq!(Email::parse("alice@example.com").map(|e| e.masked()), Ok("a***@example.com".into()));
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics_and_is_idempotent(raw in ".{0,80}") {
            if let Ok(email) = Email::parse(&raw) {
                proptest::prop_assert_eq!(Email::parse(email.as_str()), Ok(email.clone()));
            }
        }
    }
}
