//! The comms service over HTTP, with real users and incidents services: one test binary.

mod banner;
mod chatops;
mod ci;
mod email;
mod helpers;
mod public;
mod smtp;
mod statuspage;
mod webhooks;
