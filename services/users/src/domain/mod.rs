//! The users domain: pure types and rules, no actix, no Redis.

mod password;
mod user;

pub use password::Password;
pub use platform::email::Email;
pub use user::{AccountStatus, Team, UserName, UserRecord};
