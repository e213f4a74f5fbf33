//! Who is calling and what they may do. Access tokens are EdDSA JWTs signed by the users
//! service; every other service checks them against its published keys (JWKS) and never holds
//! a signing key. Handlers name the role they need in their signature: `Admin(caller): Admin`.

mod extract;
mod verifier;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use extract::{Admin, Sre, Viewer};
pub use verifier::TokenVerifier;

/// Roles, each including the ones below it: admin > sre > viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Sre,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Sre, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Sre => "sre",
            Role::Admin => "admin",
        }
    }

    /// True when this role may do what `required` may.
    pub fn includes(self, required: Role) -> bool {
        self >= required
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| "must be one of admin, sre, viewer".to_string())
    }
}

/// A person signed in, or a machine holding an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    User,
    ApiKey,
}

/// The verified caller of a request.
#[derive(Clone, PartialEq, Eq)]
pub struct Principal {
    /// A user id, or an API key id for machines.
    pub id: String,
    pub role: Role,
    pub kind: PrincipalKind,
    /// Display name, for timelines and logs.
    pub name: String,
    /// The bearer token the caller presented, to call other services on their behalf.
    pub token: String,
}

impl Principal {
    pub fn is_user(&self, user_id: &str) -> bool {
        self.kind == PrincipalKind::User && self.id == user_id
    }
}

/// The claims of a PolyStatus access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    pub kind: PrincipalKind,
    pub name: String,
    pub iss: String,
    pub aud: String,
    pub exp: u64,
    pub iat: u64,
    pub jti: String,
}

impl fmt::Debug for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Principal")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("token", &"***")
            .finish()
    }
}

impl Principal {
    fn from_claims(c: Claims, token: &str) -> Self {
        Principal { id: c.sub, role: c.role, kind: c.kind, name: c.name, token: token.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_include_the_ones_below() {
        assert!(Role::Admin.includes(Role::Sre));
        assert!(Role::Sre.includes(Role::Viewer));
        assert!(!Role::Viewer.includes(Role::Sre));
        assert!(!Role::Sre.includes(Role::Admin));
        assert_eq!("SRE".parse::<Role>(), Ok(Role::Sre));
        assert!("manager".parse::<Role>().is_err());
    }
}
