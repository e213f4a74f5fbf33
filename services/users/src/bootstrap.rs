//! First start: when no user exists, create the admin, from `POLYSTATUS_ADMIN_EMAIL` /
//! `POLYSTATUS_ADMIN_PASSWORD`, or with a generated password printed once.

use platform::auth::Role;

use crate::domain::{AccountStatus, Email, Password, UserRecord};
use crate::passwords::PasswordHasher;
use crate::secrets;
use crate::settings::BootstrapSettings;
use crate::state::now;
use crate::store::RedisStore;

/// The admin created on first start.
#[derive(Debug, Clone)]
pub struct FirstAdmin {
    pub email: String,
    /// Set only when the password was generated (it is shown this once).
    pub generated_password: Option<String>,
}

/// Creates the first admin if there is no user yet and no other replica is doing it.
pub async fn ensure_first_admin(
    store: &RedisStore,
    hasher: &PasswordHasher,
    settings: &BootstrapSettings,
) -> anyhow::Result<Option<FirstAdmin>> {
    let email = Email::parse(&settings.admin_email)
        .map_err(|e| anyhow::anyhow!("POLYSTATUS_ADMIN_EMAIL {:?} {e}", settings.admin_email))?;
    let (password, generated) = match settings.password() {
        Some(p) => (Password::parse(p).map_err(|e| anyhow::anyhow!("POLYSTATUS_ADMIN_PASSWORD {e}"))?, false),
        None => (Password::parse(&secrets::random_token(15)).map_err(anyhow::Error::msg)?, true),
    };
    if store.count_users().await? > 0 || !store.claim_bootstrap().await? {
        return Ok(None);
    }
    let now = now();
    let record = UserRecord {
        id: uuid::Uuid::new_v4().to_string(),
        name: settings.admin_name.clone(),
        email: email.as_str().to_string(),
        role: Role::Admin,
        team: String::new(),
        status: AccountStatus::Active,
        password_hash: Some(hasher.hash(password.expose()).await?),
        created_at: now,
        updated_at: now,
        sessions_valid_after_ms: crate::state::now_ms(),
        version: 1,
    };
    if !store.create_user(&record, None).await? {
        return Ok(None);
    }
    tracing::info!(email = %email.masked(), generated_password = generated, "first admin created");
    Ok(Some(FirstAdmin { email: record.email, generated_password: generated.then(|| password.expose().to_string()) }))
}
