//! What the engine reports about itself ([`Health`]) and the security dashboard's data
//! ([`Dashboard`]), both serialisable for a page or a CLI.

use std::net::IpAddr;

use serde::Serialize;

use crate::alert::Alert;
use crate::core::Core;
use crate::detect::{Detector, Scope};
use crate::risk::{Level, Verdicts};
use crate::state::Common;

/// The engine's health.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    /// Event queue capacity.
    pub queue_capacity: usize,
    /// Events waiting.
    pub queue_depth: usize,
    /// Events dropped because the queue was full.
    pub dropped_events: u64,
    /// Events digested.
    pub processed_events: u64,
    /// Requests being handled now.
    pub in_flight: usize,
    /// Sources tracked exactly.
    pub tracked_sources: usize,
    /// Accounts tracked.
    pub tracked_accounts: usize,
    /// Sessions tracked.
    pub tracked_sessions: usize,
    /// Tokens tracked.
    pub tracked_tokens: usize,
    /// Entries evicted because a table was full.
    pub evictions: u64,
    /// Estimated bytes held by the engine.
    pub memory_bytes: usize,
    /// Sources blocked now.
    pub blocked_sources: usize,
    /// Sessions blocked or revoked now.
    pub blocked_sessions: usize,
    /// Accounts held for review.
    pub held_accounts: usize,
    /// Alerts open.
    pub open_alerts: usize,
    /// Requests refused (blocked or throttled) since start.
    pub refused_requests: u64,
    /// Requests shed under load since start.
    pub shed_requests: u64,
    /// Whether the anomaly model is on.
    pub model_enabled: bool,
    /// Findings per detector since start.
    pub detectors: Vec<DetectorCount>,
}

/// Findings of one detector.
#[derive(Debug, Clone, Serialize)]
pub struct DetectorCount {
    /// Detector name.
    pub detector: &'static str,
    /// Findings since start.
    pub findings: u64,
}

pub(crate) struct QueueFacts {
    pub capacity: usize,
    pub depth: usize,
    pub dropped: u64,
    pub in_flight: usize,
}

pub(crate) fn health(core: &Core, v: &Verdicts, q: QueueFacts, now: i64) -> Health {
    Health {
        queue_capacity: q.capacity,
        queue_depth: q.depth,
        dropped_events: q.dropped,
        processed_events: core.processed,
        in_flight: q.in_flight,
        tracked_sources: core.sources.len(),
        tracked_accounts: core.accounts.len(),
        tracked_sessions: core.sessions.len(),
        tracked_tokens: core.tokens.len(),
        evictions: core.sources.evictions()
            + core.accounts.evictions()
            + core.sessions.evictions()
            + core.tokens.evictions(),
        memory_bytes: core.memory_bytes() + v.memory_bytes(),
        blocked_sources: v
            .blocked_sources
            .values()
            .filter(|b| b.until_ms > now)
            .count(),
        blocked_sessions: v
            .blocked_sessions
            .values()
            .filter(|b| b.until_ms > now)
            .count(),
        held_accounts: v
            .held_accounts
            .values()
            .filter(|b| b.until_ms > now)
            .count(),
        open_alerts: core.alerts.open_count(now),
        refused_requests: v.refused_total,
        shed_requests: v.shed_total,
        model_enabled: core.cfg.model_enabled,
        detectors: Detector::ALL
            .iter()
            .zip(core.detector_counts.iter())
            .map(|(d, n)| DetectorCount {
                detector: d.name(),
                findings: *n,
            })
            .collect(),
    }
}

/// The security dashboard's data.
#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    /// When it was taken (ms since the epoch).
    pub now_ms: i64,
    /// Start of each minute of the series (the last hour, oldest first).
    pub minutes: Vec<i64>,
    /// Requests per minute.
    pub requests: Vec<u64>,
    /// Sign-in failures per minute.
    pub auth_failures: Vec<u64>,
    /// Requests refused (blocked or throttled) per minute.
    pub refused: Vec<u64>,
    /// Requests shed under load per minute.
    pub shed: Vec<u64>,
    /// The riskiest identities now, riskiest first.
    pub top_risky: Vec<RiskyIdentity>,
    /// Reads and bytes per account over the last 24 hours, most first.
    pub transfer_24h: Vec<AccountTransfer>,
    /// Recent alerts, newest first.
    pub alerts: Vec<Alert>,
}

/// An identity with risk.
#[derive(Debug, Clone, Serialize)]
pub struct RiskyIdentity {
    /// Who.
    pub subject: Scope,
    /// Risk now.
    pub score: f64,
    /// Of which from the model.
    pub model_score: f64,
    /// The level it warrants: allow, step_up, throttle, block.
    pub level: &'static str,
    /// Why (detector: summary).
    pub reasons: Vec<String>,
}

/// One account's data transfer.
#[derive(Debug, Clone, Serialize)]
pub struct AccountTransfer {
    /// Account.
    pub account: String,
    /// Resources read.
    pub reads: u64,
    /// Bytes sent.
    pub bytes: u64,
}

/// Identities listed in `top_risky`.
const TOP: usize = 20;

fn risky(core: &Core, subject: Scope, common: &Common, now: i64) -> Option<RiskyIdentity> {
    let rule = common.risk.rule_at(now);
    let model = common.risk.model_at(now);
    if rule + model < 1.0 {
        return None;
    }
    let level = match Level::for_risk(&core.cfg, rule, model) {
        Level::Allow => "allow",
        Level::StepUp => "step_up",
        Level::Throttle => "throttle",
        Level::Block => "block",
    };
    Some(RiskyIdentity {
        subject,
        score: rule + model,
        model_score: model,
        level,
        reasons: common
            .reasons
            .iter()
            .map(|(d, s, _)| format!("{}: {s}", d.name()))
            .collect(),
    })
}

pub(crate) fn dashboard(core: &Core, v: &Verdicts, now: i64) -> Dashboard {
    let now_minute = now.div_euclid(60_000);
    let minutes = (now_minute - 59..=now_minute).map(|m| m * 60_000).collect();
    let mut top: Vec<RiskyIdentity> = Vec::new();
    let sources = core
        .sources
        .iter()
        .filter_map(|(ip, s)| risky(core, Scope::Source(*ip as IpAddr), &s.common, now));
    let accounts = core
        .accounts
        .iter()
        .filter_map(|(a, s)| risky(core, Scope::Account(a.clone()), &s.common, now));
    let sessions = core
        .sessions
        .iter()
        .filter_map(|(k, s)| risky(core, Scope::Session(*k), &s.common, now));
    top.extend(sources.chain(accounts).chain(sessions));
    top.sort_by(|a, b| b.score.total_cmp(&a.score));
    top.truncate(TOP);

    let mut transfer: Vec<AccountTransfer> = core
        .accounts
        .iter()
        .filter_map(|(a, s)| {
            let (reads, bytes) = s.transfer.as_ref()?.last_24h(now);
            (reads > 0).then(|| AccountTransfer {
                account: a.clone(),
                reads,
                bytes,
            })
        })
        .collect();
    transfer.sort_by(|a, b| b.reads.cmp(&a.reads).then(a.account.cmp(&b.account)));
    transfer.truncate(50);

    Dashboard {
        now_ms: now,
        minutes,
        requests: core.flood.requests.last_hour(now),
        auth_failures: core.auth.failures_per_minute.last_hour(now),
        refused: v.refused.last_hour(now),
        shed: v.shed.last_hour(now),
        top_risky: top,
        transfer_24h: transfer,
        alerts: core.alerts.recent(),
    }
}
