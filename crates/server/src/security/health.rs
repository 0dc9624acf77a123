//! The security health summary: what the sentinel is doing and whether it keeps up, the
//! alerts waiting for a person, and the audit ledger's state. Shown on the security
//! health page and printed by `telewarden health`.

use serde::Serialize;

use crate::config::SentinelMode;
use crate::error::AppResult;
use crate::state::AppState;

/// How things stand, one word: `ok`, `attention` (open alerts, blocked sources, held
/// accounts) or `degraded` (events dropped, the sentinel off, the ledger failing).
#[derive(Debug, Clone, Serialize)]
pub struct HealthReport {
    pub status: &'static str,
    /// Why the status is not `ok`, one line each.
    pub reasons: Vec<String>,
    /// `enforce`, `watch` or `off`.
    pub sentinel_mode: &'static str,
    pub sentinel: sentinel::Health,
    /// Alerts stored and not resolved: open, acknowledged.
    pub alerts_open: i64,
    pub alerts_acknowledged: i64,
    /// Sources blocked now, with when the block ends and why.
    pub blocked: Vec<BlockedSource>,
    pub ledger_entries: u64,
    pub ledger_failed_batches: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BlockedSource {
    pub source: String,
    pub until: String,
    pub reason: String,
}

pub async fn report(state: &AppState) -> AppResult<HealthReport> {
    let sentinel = state.sentinel.health();
    let (alerts_open, alerts_acknowledged) = state.db.unresolved_alert_counts().await?;
    let blocked: Vec<BlockedSource> = state
        .sentinel
        .blocked_sources()
        .into_iter()
        .map(|(ip, b)| BlockedSource {
            source: ip.to_string(),
            until: clock::rfc3339_ms(b.until_ms),
            reason: b.reason,
        })
        .collect();
    let ledger = state.ledger.stats();
    let mode = match state.config.sentinel.mode {
        SentinelMode::Enforce => "enforce",
        SentinelMode::Watch => "watch",
        SentinelMode::Off => "off",
    };
    let mut degraded = Vec::new();
    let mut attention = Vec::new();
    match state.config.sentinel.mode {
        SentinelMode::Enforce => {}
        SentinelMode::Watch => attention.push(
            "the sentinel only watches: it alerts but refuses nothing (sentinel.mode = \"watch\")"
                .to_owned(),
        ),
        SentinelMode::Off => {
            degraded.push("the sentinel is switched off (sentinel.mode = \"off\")".to_owned())
        }
    }
    if sentinel.dropped_events > 0 {
        degraded.push(format!(
            "{} events were dropped because the sentinel's queue was full",
            sentinel.dropped_events
        ));
    }
    if ledger.poisoned {
        degraded.push("the audit ledger refuses writes: its head no longer matches".to_owned());
    } else if ledger.failed_batches > 0 {
        degraded.push(format!(
            "{} audit ledger writes failed",
            ledger.failed_batches
        ));
    }
    if alerts_open > 0 {
        attention.push(format!("{alerts_open} alerts are open"));
    }
    if !blocked.is_empty() {
        attention.push(format!("{} sources are blocked", blocked.len()));
    }
    if sentinel.held_accounts > 0 {
        attention.push(format!(
            "{} accounts are held for review",
            sentinel.held_accounts
        ));
    }
    let status = if !degraded.is_empty() {
        "degraded"
    } else if !attention.is_empty() {
        "attention"
    } else {
        "ok"
    };
    degraded.extend(attention);
    Ok(HealthReport {
        status,
        reasons: degraded,
        sentinel_mode: mode,
        sentinel,
        alerts_open,
        alerts_acknowledged,
        blocked,
        ledger_entries: ledger.appends,
        ledger_failed_batches: ledger.failed_batches,
    })
}

/// The report as plain text, for the terminal.
pub fn render_text(r: &HealthReport) -> String {
    let s = &r.sentinel;
    let mut out = format!("security health: {}\n", r.status);
    for reason in &r.reasons {
        out.push_str(&format!("  - {reason}\n"));
    }
    out.push_str(&format!(
        "sentinel: {}\n  events: {} processed, {} waiting of {}, {} dropped\n  tracked: {} sources, {} accounts, {} sessions ({} evicted), about {} KiB\n  \
         refused requests: {}, shed under load: {}, in flight: {}\n  blocked sources: {}, blocked sessions: {}, held accounts: {}\n",
        r.sentinel_mode,
        s.processed_events,
        s.queue_depth,
        s.queue_capacity,
        s.dropped_events,
        s.tracked_sources,
        s.tracked_accounts,
        s.tracked_sessions,
        s.evictions,
        s.memory_bytes / 1024,
        s.refused_requests,
        s.shed_requests,
        s.in_flight,
        s.blocked_sources,
        s.blocked_sessions,
        s.held_accounts,
    ));
    let active: Vec<String> = s
        .detectors
        .iter()
        .filter(|d| d.findings > 0)
        .map(|d| format!("{} {}", d.detector, d.findings))
        .collect();
    out.push_str(&format!(
        "  findings: {}\n",
        if active.is_empty() {
            "none".to_owned()
        } else {
            active.join(", ")
        }
    ));
    for b in &r.blocked {
        out.push_str(&format!(
            "  blocked {} until {}: {}\n",
            b.source, b.until, b.reason
        ));
    }
    out.push_str(&format!(
        "alerts: {} open, {} acknowledged\naudit ledger: {} entries appended since start, {} failed writes\n",
        r.alerts_open, r.alerts_acknowledged, r.ledger_entries, r.ledger_failed_batches
    ));
    out
}
