//! PolyStatus incidents service: declare and run incidents (lifecycle, timeline, assignment,
//! postmortems, action items), statistics, and alert intake.
#![forbid(unsafe_code)]

pub mod changes;
pub mod domain;
pub mod keys;
pub mod markdown;
pub mod routes;
pub mod settings;
pub mod startup;
pub mod state;
pub mod store;
pub mod users_client;
