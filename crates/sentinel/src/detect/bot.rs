//! Bots: a request cadence too regular and fast for a person, pages fetched without
//! the headers every browser sends (or by a known HTTP tool), and clients that fetch
//! interactive pages but never their scripts and styles.
//!
//! Each alone is weak evidence (an API client is a "bot" too), so these findings are
//! Medium or Low: they ask for step-up, and only repeated firing throttles.

use crate::config::{Config, ms};
use crate::detect::{Detector, Finding, Scope, Severity, ev, num};
use crate::event::RequestEvent;
use crate::state::SourceState;

/// User-agent fragments of common HTTP tools and headless browsers (lower case).
/// Scanners (sqlmap, nikto…) are the [probe inspector](crate::inspect)'s business.
pub const TOOL_AGENTS: [&str; 14] = [
    "curl/",
    "wget/",
    "python-requests",
    "python-urllib",
    "go-http-client",
    "java/",
    "libwww-perl",
    "okhttp",
    "scrapy",
    "aiohttp",
    "node-fetch",
    "axios/",
    "headlesschrome",
    "phantomjs",
];

/// Whether the user agent is a known tool (or missing).
pub fn is_tool_agent(user_agent: Option<&str>) -> bool {
    match user_agent {
        None => true,
        Some(ua) => {
            let ua = ua.to_ascii_lowercase();
            TOOL_AGENTS.iter().any(|t| ua.contains(t))
        }
    }
}

/// Whether the path is under an asset prefix.
pub fn is_asset(cfg: &Config, path: &str) -> bool {
    cfg.asset_path_prefixes.iter().any(|p| path.starts_with(p))
}

/// Updates a source's cadence and page habits; returns findings.
pub fn on_request(cfg: &Config, src: &mut SourceState, e: &RequestEvent, out: &mut Vec<Finding>) {
    let now = e.at_ms;
    let refire = ms(cfg.refire_after);
    let scope = Scope::Source(e.source);
    src.cadence.observe(now);
    if is_asset(cfg, &e.path) {
        src.pages.asset_seen = true;
    }
    let cadence = &src.cadence;
    if cadence.gaps() >= cfg.cadence_min_requests
        && cadence.cv() < cfg.cadence_max_cv
        && cadence.mean_gap_ms() < cfg.cadence_max_mean_gap.as_millis() as f64
        && src.common.fired.try_fire(Detector::BotCadence, now, refire)
    {
        let (gaps, mean, cv) = (cadence.gaps(), cadence.mean_gap_ms(), cadence.cv());
        out.push(Finding::new(
            Detector::BotCadence,
            Severity::Medium,
            scope.clone(),
            format!("machine-regular requests every {mean:.0} ms"),
            ev([
                ("gaps", gaps.to_string()),
                ("mean_gap_ms", format!("{mean:.0}")),
                ("coefficient_of_variation", format!("{cv:.3}")),
            ]),
        ));
    }

    if !e.html || e.method != http::Method::GET {
        return;
    }
    let pages = &mut src.pages;
    pages.pages = pages.pages.saturating_add(1);
    let tool = is_tool_agent(e.user_agent.as_deref());
    if tool || !e.headers.accept || !e.headers.accept_language {
        pages.anomalous_pages = pages.anomalous_pages.saturating_add(1);
    }
    if !e.headers.sec_fetch {
        pages.pages_without_sec_fetch = pages.pages_without_sec_fetch.saturating_add(1);
    }
    let p = *pages;
    if p.anomalous_pages >= cfg.header_anomaly_pages
        && p.anomalous_pages * 2 >= p.pages
        && src.common.fired.try_fire(Detector::BotHeaders, now, refire)
    {
        out.push(Finding::new(
            Detector::BotHeaders,
            Severity::Medium,
            scope.clone(),
            format!(
                "{} of {} pages fetched without browser headers or by a tool",
                p.anomalous_pages, p.pages
            ),
            ev([
                ("pages", p.pages.to_string()),
                ("anomalous_pages", p.anomalous_pages.to_string()),
                ("tool_user_agent", tool.to_string()),
                ("accept_language", e.headers.accept_language.to_string()),
                (
                    "user_agent",
                    e.user_agent.clone().unwrap_or_else(|| "-".to_owned()),
                ),
            ]),
        ));
    }
    if p.pages >= cfg.no_assets_pages
        && !p.asset_seen
        && p.pages_without_sec_fetch * 2 >= p.pages
        && src.common.fired.try_fire(Detector::NoAssets, now, refire)
    {
        out.push(Finding::new(
            Detector::NoAssets,
            Severity::Low,
            scope,
            format!("{} pages fetched, never their scripts or styles", p.pages),
            ev([
                ("pages", p.pages.to_string()),
                (
                    "pages_without_sec_fetch",
                    p.pages_without_sec_fetch.to_string(),
                ),
                ("assets_fetched", num(0.0)),
            ]),
        ));
    }
}
