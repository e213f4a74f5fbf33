//! The incidents domain: pure types and rules, no actix, no Redis.

mod id;
mod incident;
mod postmortem;
mod status;
mod timeline;

pub use id::IncidentId;
pub use incident::{Incident, ProviderEventLink, Severity, Source, clean_services, clean_text};
pub use postmortem::{ActionItem, Postmortem, parse_due_date};
pub use status::{Status, Transition, TransitionError};
pub use timeline::{Actor, EntryKind, TimelineEntry};
