//! Scanners and probes: the [inspector](crate::inspect)'s hits on a request, turned
//! into a source-level finding. Each probing request adds risk (no cool-down): a
//! scanner's hundreds of requests block it within a few.

use crate::detect::{Detector, Finding, Scope, Severity, ev};
use crate::event::RequestEvent;

/// A finding for a request with probe hits.
pub fn on_request(e: &RequestEvent) -> Option<Finding> {
    let worst = e.probes.iter().map(|p| p.severity).max()?;
    let families: Vec<&str> = {
        let mut f: Vec<&str> = e.probes.iter().map(|p| p.family.as_str()).collect();
        f.sort_unstable();
        f.dedup();
        f
    };
    let first = e.probes.first()?;
    Some(Finding::new(
        Detector::Probe,
        worst,
        Scope::Source(e.source),
        format!("{} probe in {}", families.join("+"), first.location),
        ev([
            ("families", families.join(",")),
            ("rule", first.rule.clone()),
            ("location", first.location.clone()),
            ("matched", first.evidence.clone()),
            ("route", e.route.clone()),
            ("status", e.status.to_string()),
            ("hits", e.probes.len().to_string()),
        ]),
    ))
    .map(|mut f| {
        // A probe the application answered with a server error may have worked.
        if e.status >= 500 && f.severity < Severity::Critical {
            f.severity = Severity::Critical;
            f.risk = Severity::Critical.risk();
        }
        f
    })
}
