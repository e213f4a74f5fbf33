use platform::auth::Role;
use serde::{Deserialize, Serialize};

/// `raw` trimmed, if it has at most `max` characters and no control characters.
fn short_text(raw: &str, max: usize) -> Result<String, String> {
    let s = raw.trim();
    if s.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if s.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(s.to_string())
}

/// A display name: 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserName(String);

impl UserName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = short_text(raw, 100)?;
        if s.is_empty() {
            return Err("must not be empty".into());
        }
        Ok(Self(s))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A team name: up to 100 characters, may be empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team(String);

impl Team {
    pub fn parse(raw: &str) -> Result<Self, String> {
        short_text(raw, 100).map(Self)
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Whether an account can sign in yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AccountStatus {
    /// Created without a password: must set one with its invitation first.
    Invited,
    Active,
}

/// A user as stored. The password hash stays inside the service.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserRecord {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub team: String,
    pub status: AccountStatus,
    /// Argon2id PHC string; `None` for invited accounts.
    pub password_hash: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Refresh tokens issued at or before this instant (epoch milliseconds) are void: set on a
    /// password change.
    pub sessions_valid_after_ms: i64,
    /// Bumped by every change; the ETag.
    pub version: u64,
}
