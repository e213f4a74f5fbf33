//! The users service over HTTP: one test binary, one private Redis.

mod api_keys;
mod auth;
mod bootstrap;
mod helpers;
mod platform_routes;
mod tokens;
mod users;
