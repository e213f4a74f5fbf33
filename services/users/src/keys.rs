//! Every Redis key the users service writes. All share one hash tag (`{dir}`): the directory is
//! small, and creating a user touches its record, its email claim and the index atomically,
//! which in Redis Cluster needs one slot.

/// Builds keys under the configured prefix, e.g. `users:{dir}:user:<id>`.
#[derive(Debug, Clone)]
pub struct Keys {
    base: String,
}

impl Keys {
    pub fn new(prefix: &str) -> Self {
        Self { base: format!("{}:{{dir}}", prefix.trim_end_matches(':')) }
    }

    /// JSON [`crate::domain::UserRecord`].
    pub fn user(&self, id: &str) -> String {
        format!("{}:user:{id}", self.base)
    }

    /// The id of the user holding an email address: the uniqueness claim.
    pub fn email(&self, email: &str) -> String {
        format!("{}:email:{email}", self.base)
    }

    /// Sorted set of user ids by creation time.
    pub fn users_by_created(&self) -> String {
        format!("{}:users", self.base)
    }

    /// An invitation (by token hash) → user id; expires.
    pub fn invite(&self, token_hash: &str) -> String {
        format!("{}:invite:{token_hash}", self.base)
    }

    /// A refresh token (by hash): hash of user id, family, issue time, used flag; expires.
    pub fn refresh(&self, token_hash: &str) -> String {
        format!("{}:refresh:{token_hash}", self.base)
    }

    /// Present while a refresh-token family is revoked (logout or reuse detected).
    pub fn revoked_family(&self, family: &str) -> String {
        format!("{}:revoked-family:{family}", self.base)
    }

    /// JSON API key record.
    pub fn api_key(&self, id: &str) -> String {
        format!("{}:api-key:{id}", self.base)
    }

    /// An API key secret (by hash) → key id.
    pub fn api_key_secret(&self, secret_hash: &str) -> String {
        format!("{}:api-key-secret:{secret_hash}", self.base)
    }

    /// Sorted set of API key ids by creation time.
    pub fn api_keys(&self) -> String {
        format!("{}:api-keys", self.base)
    }

    /// Counter of sign-in attempts for one limit subject (hashed account or client address).
    pub fn login_attempts(&self, subject: &str) -> String {
        format!("{}:login-attempts:{subject}", self.base)
    }

    /// Claimed by the replica that creates the first admin.
    pub fn bootstrap(&self) -> String {
        format!("{}:bootstrap", self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_the_prefix_and_the_one_hash_tag() {
        let k = Keys::new("users");
        for key in [k.user("1"), k.email("a@b.c"), k.users_by_created(), k.refresh("h"), k.api_key("x"), k.bootstrap()]
        {
            assert!(key.starts_with("users:{dir}:"), "{key}");
        }
        assert_eq!(Keys::new("t-1:users:").user("7"), "t-1:users:{dir}:user:7");
    }
}
