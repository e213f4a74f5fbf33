//! The SMTP sink the tests deliver to (shared with the journey tests).

pub use platform::testing::smtp::{SmtpSink, token_in};
