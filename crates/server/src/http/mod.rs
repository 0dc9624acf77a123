//! The middleware every request passes through, outermost first:
//! [`headers`] (security headers on every response) → [`meta`] (request id, client
//! address) → [`errors`] (error pages, logging) → [`observe`] (metrics, access log) →
//! timeouts and body limits (tower-http) → [`csrf`] → the routes.

pub mod csrf;
pub mod errors;
pub mod headers;
pub mod meta;
pub mod observe;
