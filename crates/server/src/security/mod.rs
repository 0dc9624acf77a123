//! Telewarden's side of the sentinel: how it is configured for this application, the
//! domain events the application reports to it, the risk questions the identity code
//! asks it, and what the security officer does with its alerts.
//!
//! The `sentinel` crate knows nothing of telehealth; this module is where "a patient's
//! record was read" becomes "a resource owned by subject X was read".

pub mod actions;
pub mod alerts;
pub mod events;
pub mod health;

use clock::SharedClock;
use sentinel::{Config as SentinelConfig, IpPrefix};

use crate::config::{Config, SentinelMode};

/// Route templates whose requests hash a password: they get their own, smaller
/// concurrency limit, so a password-guessing flood cannot take every worker.
const PASSWORD_ROUTES: [&str; 4] = [
    "/sign-in",
    "/account/password",
    "/account/step-up",
    "/enrol/{token}/password",
];

/// The sentinel's configuration for this server; `session_cookie` is the session
/// cookie's full name.
pub fn sentinel_config(config: &Config, session_cookie: String) -> SentinelConfig {
    SentinelConfig {
        session_cookie: Some(session_cookie),
        client_ip_header: (!config.behind_proxy.is_empty())
            .then(|| http::HeaderName::from_static("x-forwarded-for")),
        trusted_proxies: config
            .behind_proxy
            .iter()
            .map(|net| IpPrefix::new(net.network(), net.prefix_len()))
            .collect(),
        enforce: config.sentinel.mode == SentinelMode::Enforce,
        max_in_flight: config.sentinel.max_in_flight,
        source_requests_per_minute: config.sentinel.requests_per_minute,
        // Enough for every password worker and a queue behind them.
        expensive_max_in_flight: 16,
        expensive_routes: PASSWORD_ROUTES.iter().map(|r| (*r).to_owned()).collect(),
        asset_path_prefixes: vec!["/static/".to_owned()],
        inspect_body_timeout: std::time::Duration::from_secs(config.limits.body_read_timeout_secs),
        ..SentinelConfig::default()
    }
}

/// A sentinel for this server, and its engine (to spawn).
pub fn start(
    config: &Config,
    session_cookie: String,
    clock: SharedClock,
) -> (sentinel::Sentinel, sentinel::Engine) {
    sentinel::Sentinel::new(sentinel_config(config, session_cookie), clock)
}
