//! The incidents service over HTTP, with a real users service: one test binary, one Redis.

mod alerts;
mod concurrency;
mod helpers;
mod lifecycle;
mod outbox;
mod postmortem;
mod reference;
mod stats;
