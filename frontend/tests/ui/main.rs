//! The web UI against every service, in process on one private Redis, driven as a browser
//! without JavaScript would: links, forms, cookies and redirects.

mod browser;
mod browser_journey;
mod helpers;
mod journey;
mod pages;
mod security;
