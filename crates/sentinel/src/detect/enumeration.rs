//! Enumeration: many 401/403/404 answers on distinct paths (ids) from one source or
//! one session.

use crate::config::{Config, ms};
use crate::detect::{Detector, Finding, Scope, Severity, ev, num};
use crate::event::RequestEvent;
use crate::state::{SessionState, SourceState};

/// Whether a status counts as a refusal or miss.
pub fn is_probe_status(status: u16) -> bool {
    matches!(status, 401 | 403 | 404)
}

/// Counts a refused path for a source; a finding when distinct paths pass the
/// threshold (times the source's shared-address tolerance).
pub fn on_source(
    cfg: &Config,
    src: &mut SourceState,
    e: &RequestEvent,
    path_hash: u64,
    out: &mut Vec<Finding>,
) {
    if !is_probe_status(e.status) {
        return;
    }
    let window = ms(cfg.enumeration_window);
    src.error_paths.insert(e.at_ms, window, path_hash);
    let distinct = src.error_paths.estimate(e.at_ms, window);
    let tolerance = src.tolerance(
        e.at_ms,
        cfg.shared_address_tolerance_per_account,
        cfg.max_shared_address_tolerance,
    );
    if distinct >= f64::from(cfg.enumeration_distinct_paths) * tolerance
        && src
            .common
            .fired
            .try_fire(Detector::Enumeration, e.at_ms, ms(cfg.refire_after))
    {
        out.push(Finding::new(
            Detector::Enumeration,
            Severity::High,
            Scope::Source(e.source),
            format!("{} distinct paths refused or missing", num(distinct)),
            ev([
                ("distinct_paths", num(distinct)),
                ("last_status", e.status.to_string()),
                ("last_route", e.route.clone()),
                ("shared_address_tolerance", num(tolerance)),
            ]),
        ));
    }
}

/// The same for an authenticated session (no tolerance: one session is one person).
pub fn on_session(
    cfg: &Config,
    session: &mut SessionState,
    e: &RequestEvent,
    path_hash: u64,
    out: &mut Vec<Finding>,
) {
    let (Some(key), true) = (e.session, is_probe_status(e.status)) else {
        return;
    };
    let window = ms(cfg.enumeration_window);
    session.error_paths.insert(e.at_ms, window, path_hash);
    let distinct = session.error_paths.estimate(e.at_ms, window);
    if distinct >= f64::from(cfg.enumeration_distinct_paths)
        && session
            .common
            .fired
            .try_fire(Detector::Enumeration, e.at_ms, ms(cfg.refire_after))
    {
        out.push(Finding::new(
            Detector::Enumeration,
            Severity::High,
            Scope::Session(key),
            format!(
                "{} distinct paths refused or missing in one session",
                num(distinct)
            ),
            ev([
                ("distinct_paths", num(distinct)),
                ("last_status", e.status.to_string()),
                ("last_route", e.route.clone()),
                ("account", session.account.clone().unwrap_or_default()),
            ]),
        ));
    }
}
